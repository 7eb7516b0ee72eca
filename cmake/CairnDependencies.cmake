# Every third-party dependency, found once. All come from Debian 12 packages
# installed by scripts/setup, but LibTorch: PyPI's torch wheel in .venv/.
find_package(Threads REQUIRED)
find_package(OpenSSL 3.0 REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(ZLIB REQUIRED)
find_package(CapnProto REQUIRED)
find_package(spdlog REQUIRED)
find_package(fmt REQUIRED)
find_package(CLI11 REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(GTest REQUIRED)
# Metrics: prometheus-cpp's core library (registry, metric types, text
# serializer); cairn serves /metrics over its own HTTP server, so neither
# pull (civetweb) nor push is linked.
find_package(prometheus-cpp CONFIG REQUIRED)
# ZeroMQ by hand rather than pkg_check_modules: CMake 3.25's FindPkgConfig
# moves libzmq's "-isystem /usr/include/mit-krb5" between two lists on the
# second configure, which rebuilt every ZeroMQ user on each scripts/setup.
find_path(CAIRN_ZMQ_INCLUDE zmq.h)
find_library(CAIRN_ZMQ_LIBRARY zmq)
if(NOT CAIRN_ZMQ_INCLUDE OR NOT CAIRN_ZMQ_LIBRARY)
  message(FATAL_ERROR "cairn: ZeroMQ not found (Debian package libzmq3-dev; run scripts/setup)")
endif()
add_library(cairn::zmq UNKNOWN IMPORTED)
set_target_properties(cairn::zmq PROPERTIES IMPORTED_LOCATION ${CAIRN_ZMQ_LIBRARY}
                                            INTERFACE_INCLUDE_DIRECTORIES ${CAIRN_ZMQ_INCLUDE})
# cpp-httplib: Debian builds it as a shared library, so the header must be
# used with the same feature macros the library was built with.
find_library(CAIRN_HTTPLIB_LIBRARY cpp-httplib)
find_path(CAIRN_HTTPLIB_INCLUDE httplib.h)
if(NOT CAIRN_HTTPLIB_LIBRARY OR NOT CAIRN_HTTPLIB_INCLUDE)
  message(FATAL_ERROR "cairn: cpp-httplib not found (Debian package libcpp-httplib-dev; run scripts/setup)")
endif()
add_library(cairn::httplib UNKNOWN IMPORTED)
set_target_properties(cairn::httplib PROPERTIES
  IMPORTED_LOCATION ${CAIRN_HTTPLIB_LIBRARY}
  INTERFACE_INCLUDE_DIRECTORIES ${CAIRN_HTTPLIB_INCLUDE}
  INTERFACE_COMPILE_DEFINITIONS "CPPHTTPLIB_OPENSSL_SUPPORT;CPPHTTPLIB_ZLIB_SUPPORT;CPPHTTPLIB_BROTLI_SUPPORT"
  INTERFACE_LINK_LIBRARIES "OpenSSL::SSL;Threads::Threads")

if(CAIRN_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()

include(CairnTorch)
include(CairnCuda)

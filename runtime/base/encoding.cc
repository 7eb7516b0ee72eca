#include "runtime/base/encoding.h"

#include <array>

namespace cairn {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";
constexpr char kB64Alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

constexpr std::array<int8_t, 256> MakeB64Table() {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(kB64Alphabet[i])] = static_cast<int8_t>(i);
  return t;
}
constexpr std::array<int8_t, 256> kB64Table = MakeB64Table();

}  // namespace

std::string HexEncode(std::string_view bytes) {
  std::string out(bytes.size() * 2, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) {
    auto b = static_cast<unsigned char>(bytes[i]);
    out[2 * i] = kHexDigits[b >> 4];
    out[2 * i + 1] = kHexDigits[b & 0xf];
  }
  return out;
}

StatusOr<std::string> HexDecode(std::string_view hex) {
  if (hex.size() % 2 != 0) {
    return InvalidArgumentError("hex string has odd length " + std::to_string(hex.size()));
  }
  std::string out(hex.size() / 2, '\0');
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = HexValue(hex[2 * i]);
    int lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return InvalidArgumentError("invalid hex character at offset " +
                                  std::to_string(hi < 0 ? 2 * i : 2 * i + 1));
    }
    out[i] = static_cast<char>((hi << 4) | lo);
  }
  return out;
}

StatusOr<std::string> DecodeAccount(std::string_view hex) {
  auto raw = HexDecode(hex);
  if (!raw.ok() || raw->size() != 32) {
    return InvalidArgumentError("account '" + std::string(hex.substr(0, 80)) +
                                "' is not 64 hex digits (an Ed25519 public key; `cairn accounts show` prints yours)");
  }
  return raw;
}

std::string Base64Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  auto at = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(bytes[k])); };
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t v = at(i) << 16 | at(i + 1) << 8 | at(i + 2);
    out += kB64Alphabet[v >> 18];
    out += kB64Alphabet[(v >> 12) & 63];
    out += kB64Alphabet[(v >> 6) & 63];
    out += kB64Alphabet[v & 63];
  }
  size_t rest = bytes.size() - i;
  if (rest == 1) {
    uint32_t v = at(i) << 16;
    out += kB64Alphabet[v >> 18];
    out += kB64Alphabet[(v >> 12) & 63];
    out += "==";
  } else if (rest == 2) {
    uint32_t v = at(i) << 16 | at(i + 1) << 8;
    out += kB64Alphabet[v >> 18];
    out += kB64Alphabet[(v >> 12) & 63];
    out += kB64Alphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

StatusOr<std::string> Base64Decode(std::string_view b64) {
  if (b64.size() % 4 != 0) {
    return InvalidArgumentError("base64 length " + std::to_string(b64.size()) +
                                " is not a multiple of 4");
  }
  size_t pad = 0;
  if (!b64.empty() && b64.back() == '=') pad = (b64.size() >= 2 && b64[b64.size() - 2] == '=') ? 2 : 1;
  std::string out;
  out.reserve(b64.size() / 4 * 3);
  for (size_t i = 0; i < b64.size(); i += 4) {
    bool last = i + 4 == b64.size();
    uint32_t v = 0;
    for (size_t k = 0; k < 4; ++k) {
      char c = b64[i + k];
      int d;
      if (c == '=' && last && k >= 4 - pad) {
        d = 0;
      } else {
        d = kB64Table[static_cast<unsigned char>(c)];
        if (d < 0) return InvalidArgumentError("invalid base64 character at offset " + std::to_string(i + k));
      }
      v = v << 6 | static_cast<uint32_t>(d);
    }
    out += static_cast<char>(v >> 16);
    if (!(last && pad == 2)) out += static_cast<char>((v >> 8) & 0xff);
    if (!(last && pad >= 1)) out += static_cast<char>(v & 0xff);
    if (last && ((pad == 1 && (v & 0xff) != 0) || (pad == 2 && (v & 0xffff) != 0))) {
      return InvalidArgumentError("base64 has non-zero padding bits (non-canonical encoding)");
    }
  }
  return out;
}

}  // namespace cairn

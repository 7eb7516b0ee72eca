#include "serve/kserve_fast.h"

#include <charconv>
#include <cstdint>

namespace cairn::serve::internal {
namespace {

constexpr int kMaxDepth = 32;  // the complete parser's nesting limit for data

// A strict, give-up-early reader over one JSON text. Every method returns
// false when the input is not what the fast path handles; the caller then
// abandons the fast path.
class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}

  bool AtEnd() {
    Space();
    return p_ == s_.size();
  }
  // Consumes `c` (after whitespace) if it is next.
  bool Take(char c) {
    Space();
    if (p_ < s_.size() && s_[p_] == c) {
      ++p_;
      return true;
    }
    return false;
  }
  char Peek() {
    Space();
    return p_ < s_.size() ? s_[p_] : '\0';
  }
  // A string of printable ASCII without escapes, as a view into the body.
  bool String(std::string_view* out) {
    if (!Take('"')) return false;
    const size_t start = p_;
    while (p_ < s_.size()) {
      const auto c = static_cast<unsigned char>(s_[p_]);
      if (c == '"') {
        *out = s_.substr(start, p_ - start);
        ++p_;
        return true;
      }
      if (c == '\\' || c < 0x20 || c >= 0x80) return false;
      ++p_;
    }
    return false;
  }
  // A JSON number, converted as the complete parser converts it: integers
  // through int64/uint64, everything else through double.
  bool Number(float* out, bool* integer, uint64_t* as_unsigned) {
    Space();
    const size_t start = p_;
    const bool negative = p_ < s_.size() && s_[p_] == '-';
    if (negative) ++p_;
    if (p_ < s_.size() && s_[p_] == '0') {
      ++p_;
    } else if (!Digits()) {
      return false;
    }
    *integer = true;
    if (p_ < s_.size() && s_[p_] == '.') {
      ++p_;
      if (!Digits()) return false;
      *integer = false;
    }
    if (p_ < s_.size() && (s_[p_] == 'e' || s_[p_] == 'E')) {
      ++p_;
      if (p_ < s_.size() && (s_[p_] == '+' || s_[p_] == '-')) ++p_;
      if (!Digits()) return false;
      *integer = false;
    }
    const char* first = s_.data() + start;
    const char* last = s_.data() + p_;
    if (*integer && negative) {
      int64_t v = 0;
      if (std::from_chars(first, last, v).ec != std::errc()) return false;
      *out = static_cast<float>(v);
      *as_unsigned = 0;
      return true;
    }
    if (*integer) {
      uint64_t v = 0;
      if (std::from_chars(first, last, v).ec != std::errc()) return false;
      *out = static_cast<float>(v);
      *as_unsigned = v;
      return true;
    }
    double d = 0;
    if (std::from_chars(first, last, d).ec != std::errc()) return false;  // out of range: let the complete parser decide
    *out = static_cast<float>(d);
    return true;
  }
  // Any value, checked for syntax and thrown away.
  bool Skip(int depth) {
    if (depth > kMaxDepth) return false;
    const char c = Peek();
    if (c == '"') {
      std::string_view ignored;
      return String(&ignored);
    }
    if (c == '[' || c == '{') {
      const bool object = c == '{';
      ++p_;
      if (Take(object ? '}' : ']')) return true;
      do {
        if (object) {
          std::string_view key;
          if (!String(&key) || !Take(':')) return false;
        }
        if (!Skip(depth + 1)) return false;
      } while (Take(','));
      return Take(object ? '}' : ']');
    }
    for (std::string_view word : {"true", "false", "null"}) {
      if (s_.substr(p_, word.size()) == word) {
        p_ += word.size();
        return true;
      }
    }
    float f;
    bool integer;
    uint64_t u;
    return Number(&f, &integer, &u);
  }

 private:
  void Space() {
    while (p_ < s_.size() && (s_[p_] == ' ' || s_[p_] == '\n' || s_[p_] == '\r' || s_[p_] == '\t')) ++p_;
  }
  bool Digits() {
    const size_t start = p_;
    while (p_ < s_.size() && s_[p_] >= '0' && s_[p_] <= '9') ++p_;
    return p_ > start;
  }

  std::string_view s_;
  size_t p_ = 0;
};

// Iterates an object's members: `member(key)` reads the value.
template <typename F>
bool Members(Reader& r, F&& member) {
  if (!r.Take('{')) return false;
  if (r.Take('}')) return true;
  do {
    std::string_view key;
    if (!r.String(&key) || !r.Take(':') || !member(key)) return false;
  } while (r.Take(','));
  return r.Take('}');
}

// Marks `key` seen; false on a duplicate (the complete parser keeps the last).
bool Once(uint32_t* seen, uint32_t bit) {
  if (*seen & bit) return false;
  *seen |= bit;
  return true;
}

bool Data(Reader& r, std::vector<float>* out, int depth) {
  if (depth > kMaxDepth) return false;
  if (!r.Take('[')) {
    float f;
    bool integer;
    uint64_t u;
    if (out->size() > kMaxInferValues || !r.Number(&f, &integer, &u)) return false;
    out->push_back(f);
    return true;
  }
  if (r.Take(']')) return true;
  do {
    if (!Data(r, out, depth + 1)) return false;
  } while (r.Take(','));
  return r.Take(']');
}

bool Shape(Reader& r, std::vector<int64_t>* shape, size_t* count) {
  if (!r.Take('[')) return false;
  *count = 1;
  do {
    float f;
    bool integer;
    uint64_t v = 0;
    if (!r.Number(&f, &integer, &v) || !integer || v < 1 || v > kMaxInferValues || *count * v > kMaxInferValues) return false;
    *count *= v;
    shape->push_back(static_cast<int64_t>(v));
  } while (r.Take(','));
  return r.Take(']') && shape->size() <= 8;
}

bool Input(Reader& r, InferRequest* req, size_t* count) {
  uint32_t seen = 0;
  bool ok = Members(r, [&](std::string_view key) {
    std::string_view v;
    if (key == "name") return Once(&seen, 1) && r.String(&v) && (req->input_name = std::string(v), true);
    if (key == "datatype") {
      static constexpr std::string_view kTypes[] = {"FP32",  "FP64",  "INT8",   "INT16",  "INT32",
                                                    "INT64", "UINT8", "UINT16", "UINT32", "UINT64"};
      if (!Once(&seen, 2) || !r.String(&v)) return false;
      for (auto t : kTypes) {
        if (v == t) return req->datatype = std::string(v), true;
      }
      return false;
    }
    if (key == "shape") return Once(&seen, 4) && Shape(r, &req->input.shape, count);
    if (key == "data") return Once(&seen, 8) && r.Peek() == '[' && Data(r, &req->input.data, 0);
    if (key == "parameters") return false;  // binary data and its checks: the complete parser's
    return r.Skip(1);                        // what the complete parser ignores too
  });
  return ok && seen == 15;
}

// At most one output, named, without parameters.
bool Outputs(Reader& r, std::string* name) {
  if (!r.Take('[')) return false;
  if (r.Take(']')) return true;
  bool named = false;
  bool ok = Members(r, [&](std::string_view key) {
    if (key == "parameters") return false;
    if (key != "name") return r.Skip(1);
    std::string_view v;
    if (named || !r.String(&v)) return false;
    *name = std::string(v);
    return named = true;
  });
  return ok && named && r.Take(']');
}

}  // namespace

std::optional<InferRequest> ParseInferRequestFast(std::string_view body) {
  Reader r(body);
  InferRequest req;
  size_t count = 0;
  uint32_t seen = 0;
  bool ok = Members(r, [&](std::string_view key) {
    if (key == "id") {
      std::string_view v;
      return Once(&seen, 1) && r.String(&v) && (req.id = std::string(v), true);
    }
    if (key == "inputs") {
      return Once(&seen, 2) && r.Take('[') && Input(r, &req, &count) && r.Take(']');
    }
    if (key == "outputs") return Once(&seen, 4) && Outputs(r, &req.output_name);
    if (key == "parameters") return false;
    return r.Skip(1);
  });
  if (!ok || !r.AtEnd() || !(seen & 2) || req.input.data.size() != count) return std::nullopt;
  return req;
}

}  // namespace cairn::serve::internal

// Text from a model file (names, op types, messages that quote them) made valid UTF-8, without Python.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace netscore {

// Length of the well-formed UTF-8 sequence (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF)
// that starts at p[0] of the n bytes left; 0 when none starts there.
inline size_t utf8_sequence_length(const unsigned char* p, size_t n) {
  const unsigned c = p[0];
  if (c < 0x80) return 1;
  size_t len;
  unsigned lo = 0x80, hi = 0xBF;  // the range of the second byte (narrower after E0, ED, F0, F4)
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;        // overlong
    else if (c == 0xED) hi = 0x9F;   // surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;        // overlong
    else if (c == 0xF4) hi = 0x8F;   // above U+10FFFF
  } else {
    return 0;  // a continuation byte, C0, C1 or F5..FF
  }
  if (n < len || p[1] < lo || p[1] > hi) return 0;
  for (size_t k = 2; k < len; ++k)
    if ((p[k] & 0xC0) != 0x80) return 0;
  return len;
}

inline bool valid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  for (size_t i = 0, n = s.size(); i < n;) {
    const size_t len = utf8_sequence_length(p + i, n - i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

// What Python's bytes.decode("utf-8", "backslashreplace") gives, as UTF-8: every byte that is not part of a
// well-formed sequence becomes the four characters \xNN (lowercase hex). Python replaces maximal ill-formed
// subparts, which hold only bytes that cannot start a sequence after their first, so escaping one byte at a
// time and resuming at the next gives the same text. See docs/counting.md, "Names that are not UTF-8".
inline std::string utf8_backslashreplace(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0, n = s.size(); i < n;) {
    const size_t len = utf8_sequence_length(p + i, n - i);
    if (len) {
      out.append(s.data() + i, len);
      i += len;
    } else {
      const char esc[4] = {'\\', 'x', kHex[p[i] >> 4], kHex[p[i] & 0xF]};
      out.append(esc, 4);
      ++i;
    }
  }
  return out;
}

}  // namespace netscore

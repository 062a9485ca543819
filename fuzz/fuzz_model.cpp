// libFuzzer target: arbitrary bytes through decode + analysis (with and without per-node rows), then every
// string the analysis hands to Python through the text conversion; anything but ModelError is a finding.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <string>

#include "graph/analysis.h"
#include "netscore/errors.h"

namespace {

// Strict UTF-8 (RFC 3629): no overlongs, no surrogates, nothing above U+10FFFF.
bool valid_utf8(const std::string& s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t n = s.size(), i = 0;
  while (i < n) {
    unsigned c = p[i];
    size_t len;
    unsigned min;
    if (c < 0x80) { ++i; continue; }
    if ((c & 0xE0) == 0xC0) { len = 2; min = 0x80; c &= 0x1F; }
    else if ((c & 0xF0) == 0xE0) { len = 3; min = 0x800; c &= 0x0F; }
    else if ((c & 0xF8) == 0xF0) { len = 4; min = 0x10000; c &= 0x07; }
    else return false;
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
      c = (c << 6) | (p[i + k] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

// TODO(lead): replace this stand-in by the bindings' one conversion of C++ strings to Python text
// (cpp/bindings/pystr.h, issue 11 item 3) once it is merged, so the fuzzer checks the real helper. Until
// then: invalid bytes become \xNN escapes, which is what the check below expects of any such helper.
std::string to_python_text(const std::string& s) {
  if (valid_utf8(s)) return s;
  std::string out;
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  for (size_t i = 0; i < s.size(); ++i) {
    if (p[i] < 0x80) {
      out += char(p[i]);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", p[i]);
      out += buf;
    }
  }
  return out;
}

void check_text(const std::string& s, const char* what) {
  std::string t = to_python_text(s);
  if (!valid_utf8(t)) {
    std::fprintf(stderr, "netscore-fuzz FINDING: %s is not valid UTF-8 after the text conversion\n", what);
    std::abort();
  }
}

void check_strings(const netscore::graph::Profile& p) {
  for (const auto& l : p.layers) {
    check_text(l.name, "layer name");
    check_text(l.op_type, "layer op_type");
    check_text(l.domain, "layer domain");
  }
  for (const auto& u : p.unsupported_ops) {
    check_text(u.op_type, "unsupported op type");
    for (const auto& n : u.node_names) check_text(n, "unsupported node name");
  }
  for (const auto& n : p.unknown_cost_nodes) check_text(n, "unknown-cost node name");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  for (bool layers : {true, false}) {
    netscore::graph::Options options;
    options.want_layers = layers;
    try {
      netscore::graph::Profile p = netscore::graph::profile_bytes(data, size, "fuzz", options);
      check_strings(p);
    } catch (const netscore::ModelError& e) {
      check_text(e.what(), "error message");   // messages quote names too
    }
  }
  return 0;
}

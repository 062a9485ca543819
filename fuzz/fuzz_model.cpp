// libFuzzer target: arbitrary bytes through decode + analysis (with and without per-node rows), then every
// string the analysis hands to Python through the text conversion; anything but ModelError is a finding.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <string>

#include "graph/analysis.h"
#include "netscore/errors.h"
#include "netscore/text.h"

namespace {

// Strict UTF-8 (RFC 3629): no overlongs, no surrogates, nothing above U+10FFFF. Written apart from
// netscore/text.h on purpose: it checks that header's conversion.
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

// The bindings' one conversion of C++ text to Python str (cpp/bindings/pystr.h) escapes with
// netscore::utf8_backslashreplace and then decodes strictly: its result must pass the independent check
// above, and valid text must come through unchanged.
void check_text(const std::string& s, const char* what) {
  const std::string t = netscore::utf8_backslashreplace(s);
  const bool valid = valid_utf8(s);
  if (!valid_utf8(t) || valid != netscore::valid_utf8(s) || (valid && t != s)) {
    std::fprintf(stderr, "netscore-fuzz FINDING: the text conversion of a %s is not valid UTF-8 or changes valid text\n", what);
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

// libFuzzer target: arbitrary bytes through decode + analysis; anything but ModelError is a finding.
#include <cstddef>
#include <cstdint>

#include "graph/analysis.h"
#include "netscore/errors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    netscore::graph::Profile p = netscore::graph::profile_bytes(data, size, "fuzz", {});
    (void)p;
  } catch (const netscore::ModelError&) {
    // the expected way to reject malformed input
  }
  return 0;
}

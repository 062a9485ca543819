// Reading an op spec (the dict form of netscore_fast.bench.SUITE entries) into an OpSpec: keys, defaults
// and the errors for a malformed spec, whatever container the caller holds the values in.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "measure/op_timing.h"

namespace netscore::bench {

// Typed access to the spec's keys; the getters are called only for keys that are present.
class SpecSource {
 public:
  virtual ~SpecSource() = default;
  virtual bool has(const char* key) const = 0;
  virtual std::string text(const char* key) const = 0;
  virtual std::vector<int64_t> ints(const char* key) const = 0;
  virtual int64_t integer(const char* key) const = 0;
  virtual bool flag(const char* key) const = 0;
  virtual float real(const char* key) const = 0;
};

// Throws std::invalid_argument naming the offending key for a spec that does not describe an op.
OpSpec parse_op_spec(const SpecSource& d);

}  // namespace netscore::bench

// Open-addressing name -> id map for the walk (tensor names are views into the model buffer).
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string_view>
#include <utility>
#include <vector>

namespace netscore::graph::walk {

constexpr uint32_t kNone = 0xffffffffu;  // no id: an absent name, an omitted input or output

// Open-addressing hash map from names (views into the model buffer) to ids: a single allocation instead
// of one node per entry, which matters when a walk must take well under a millisecond.
class NameMap {
 public:
  // 8 bytes at a time, multiply-xorshift mixing: tensor names are long, and this is several times cheaper
  // than a byte-wise hash while the final mix spreads every byte into the low (index) bits.
  static uint64_t hash(std::string_view s) {
    const char* p = s.data();
    size_t n = s.size();
    uint64_t h = 0x9E3779B97F4A7C15ull ^ n;
    while (n >= 8) {
      uint64_t w;
      std::memcpy(&w, p, 8);
      h = (h ^ w) * 0xFF51AFD7ED558CCDull;
      h ^= h >> 32;
      p += 8;
      n -= 8;
    }
    uint64_t w = 0;
    if (s.size() >= 8) {
      std::memcpy(&w, s.data() + s.size() - 8, 8);  // the last 8 bytes (overlapping): a fixed-size load
    } else if (n > 0) {  // an empty view may have a null data(): memcpy must not see it
      std::memcpy(&w, p, n);
    }
    h = (h ^ w) * 0xC4CEB9FE1A85EC53ull;
    return h ^ (h >> 29);
  }

  void reserve(size_t n) {
    size_t cap = 16;
    while (cap < 2 * n + 2) cap <<= 1;
    slots_.assign(cap, Slot());
    mask_ = cap - 1;
    size_ = 0;
  }
  // A slot keeps the upper half of its name's hash: probes past other names compare that first, so the
  // bytes are compared (almost) only for the name itself.
  uint32_t find(std::string_view name) const {
    if (slots_.empty()) return kNone;
    const uint64_t h = hash(name);
    const uint32_t tag = static_cast<uint32_t>(h >> 32);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.id == kNone) return kNone;
      if (s.tag == tag && s.name == name) return s.id;
    }
  }
  // Inserts name -> id; when the name is present, overwrites only if `overwrite`. Returns false if present.
  bool insert(std::string_view name, uint32_t id, bool overwrite = false) {
    if (2 * (size_ + 1) > slots_.size()) grow();
    const uint64_t h = hash(name);
    const uint32_t tag = static_cast<uint32_t>(h >> 32);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.id == kNone) {
        s.name = name;
        s.id = id;
        s.tag = tag;
        ++size_;
        return true;
      }
      if (s.tag == tag && s.name == name) {
        if (overwrite) s.id = id;
        return false;
      }
    }
  }

 private:
  struct Slot {
    std::string_view name;
    uint32_t id = kNone;
    uint32_t tag = 0;  // hash(name) >> 32
  };
  void grow() {
    std::vector<Slot> old;
    old.swap(slots_);
    reserve(old.size() < 8 ? 8 : old.size());
    for (const Slot& s : old)
      if (s.id != kNone) insert(s.name, s.id);
  }
  std::vector<Slot> slots_;
  size_t mask_ = 0, size_ = 0;
};

// (domain, name) of an op type or a function, as a hash-map key.
using NamePair = std::pair<std::string_view, std::string_view>;
struct NamePairHash {
  size_t operator()(const NamePair& p) const noexcept {
    const size_t h = std::hash<std::string_view>()(p.first);
    return h ^ (std::hash<std::string_view>()(p.second) + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2));
  }
};

}  // namespace netscore::graph::walk

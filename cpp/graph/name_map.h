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

// (domain, name) of an op type or a function.
using NamePair = std::pair<std::string_view, std::string_view>;

inline uint64_t pair_hash(std::string_view a, std::string_view b) {
  const uint64_t h = NameMap::hash(a);
  return (h * 0x9E3779B97F4A7C15ull) ^ (h >> 23) ^ NameMap::hash(b);
}

// Open-addressing index of ids whose keys live in the caller's storage (a vector of entries, a profile's
// rows): the caller passes each key's hash and a test `is_key(id)`. Slots hold (hash, id) only, so the
// keys need no copies, the storage may move, and there is one allocation instead of one node per entry
// (std::unordered_map's nodes made models of a million distinct op types or domains spend seconds in
// malloc and free).
class HashIndex {
 public:
  size_t size() const { return size_; }
  void clear() {
    slots_.clear();
    mask_ = size_ = 0;
  }
  void reserve(size_t n) {
    if (2 * n + 2 <= slots_.size()) return;
    std::vector<Slot> old;
    old.swap(slots_);
    size_t cap = 16;
    while (cap < 2 * n + 2) cap <<= 1;
    slots_.assign(cap, Slot());
    mask_ = cap - 1;
    size_ = 0;
    for (const Slot& s : old)
      if (s.id != kNone) insert(s.hash, s.id);
  }
  template <typename IsKey>
  uint32_t find(uint64_t hash, IsKey is_key) const {
    if (slots_.empty()) return kNone;
    for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.id == kNone) return kNone;
      if (s.hash == hash && is_key(s.id)) return s.id;
    }
  }
  // Brings the slot a look-up of `hash` starts at towards the cache (a hint for loops of many look-ups).
  void prefetch(uint64_t hash) const {
    if (!slots_.empty()) __builtin_prefetch(&slots_[hash & mask_]);
  }
  // Adds `id` under `hash`; the caller has checked (with find) that its key is absent.
  void insert(uint64_t hash, uint32_t id) {
    if (2 * (size_ + 1) > slots_.size()) reserve(size_ + 1 < 8 ? 8 : size_ + 1);  // doubles the slots
    size_t i = hash & mask_;
    while (slots_[i].id != kNone) i = (i + 1) & mask_;
    slots_[i] = Slot{hash, id};
    ++size_;
  }

 private:
  struct Slot {
    uint64_t hash = 0;
    uint32_t id = kNone;
  };
  std::vector<Slot> slots_;
  size_t mask_ = 0, size_ = 0;
};

}  // namespace netscore::graph::walk

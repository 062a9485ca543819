// A bounds-checked, zero-copy cursor over protobuf wire format: tags, varints, fixed, views, packed repeats.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "netscore/errors.h"

#if defined(__GNUC__)
#define NETSCORE_LIKELY(x) __builtin_expect(!!(x), 1)
#define NETSCORE_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define NETSCORE_NOINLINE __attribute__((noinline, cold))
#define NETSCORE_INLINE inline __attribute__((always_inline))
#else
#define NETSCORE_LIKELY(x) (x)
#define NETSCORE_UNLIKELY(x) (x)
#define NETSCORE_NOINLINE
#define NETSCORE_INLINE inline
#endif

namespace netscore::onnx::pb {

enum WireType : uint32_t {
  kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kStartGroup = 3, kEndGroup = 4, kFixed32 = 5,
};

const char* wire_type_name(uint32_t wire_type);

// Errors found by the cursor. They carry no field path; decode.cpp adds one on the way out.
// `what` is "length" (then `length` is the claimed length), "varint", "fixed32" or "fixed64"; field 0 means
// the field's tag itself. `end` is where the enclosing message ends, `total` the size of the whole buffer.
[[noreturn]] void throw_truncated(const char* what, uint32_t field, uint64_t length, size_t at, size_t end,
                                  size_t total);
[[noreturn]] void throw_error(const std::string& problem);

// Reads one message held in [pos, end). Offsets in messages are relative to `base`, the start of the
// whole buffer, whose size is `total`. Usage:
//   while (r.next()) switch (r.field()) { case 1: x = r.get_int64(); break; default: r.skip(); }
class Reader {
 public:
  Reader(const uint8_t* begin, const uint8_t* end, const uint8_t* base, size_t total)
      : pos_(begin), end_(end), base_(base), total_(total) {}
  Reader(const uint8_t* data, size_t size) : Reader(data, data + size, data, size) {}

  // Advance to the next field; false at the end of the message.
  bool next() {
    if (pos_ >= end_) return false;
    tag_at_ = pos_;
    uint32_t tag = *pos_;
    if (NETSCORE_LIKELY(tag < 0x80)) {   // field numbers 1..15: one-byte tags
      ++pos_;
    } else if (end_ - pos_ >= 2 && pos_[1] < 0x80) {  // field numbers 16..2047: two bytes
      tag = (tag & 0x7F) | (static_cast<uint32_t>(pos_[1]) << 7);
      pos_ += 2;
    } else {
      tag = read_tag_slow();
    }
    field_ = tag >> 3;
    wire_ = tag & 7;
    // valid: field > 0 and wire type 0, 1, 2 or 5 (bits 0, 1, 2, 5 of 0x27)
    if (NETSCORE_UNLIKELY(tag < 8 || ((0x27u >> wire_) & 1) == 0)) bad_tag();
    return true;
  }

  uint32_t field() const { return field_; }
  uint32_t wire_type() const { return wire_; }
  size_t tag_offset() const { return static_cast<size_t>(tag_at_ - base_); }
  size_t offset() const { return static_cast<size_t>(pos_ - base_); }
  const uint8_t* pos() const { return pos_; }
  const uint8_t* end() const { return end_; }
  const uint8_t* base() const { return base_; }
  size_t total() const { return total_; }

  // Typed getters for the current field; each checks the wire type first.
  uint64_t get_uint64() { expect(kVarint); return read_varint_raw(); }
  int64_t get_int64() { return static_cast<int64_t>(get_uint64()); }
  int32_t get_int32() { return static_cast<int32_t>(get_uint64()); }   // int32 is sign-extended on the wire
  bool get_bool() { return get_uint64() != 0; }
  uint32_t get_fixed32() { expect(kFixed32); return read_fixed32_raw(); }
  uint64_t get_fixed64() { expect(kFixed64); return read_fixed64_raw(); }
  float get_float() { uint32_t u = get_fixed32(); float f; std::memcpy(&f, &u, 4); return f; }
  double get_double() { uint64_t u = get_fixed64(); double d; std::memcpy(&d, &u, 8); return d; }

  // Bytes / string / sub-message: a view into the buffer, nothing copied. Always inlined: a few instructions
  // called for most fields of a model, whose call would cost as much as the work.
  NETSCORE_INLINE std::string_view get_view() {
    expect(kLengthDelimited);
    const uint8_t* p = read_length_delimited();
    return std::string_view(reinterpret_cast<const char*>(p), static_cast<size_t>(pos_ - p));
  }
  std::string_view get_string() { return get_view(); }
  Reader get_message() {
    expect(kLengthDelimited);
    const uint8_t* p = read_length_delimited();
    return Reader(p, pos_, base_, total_);
  }

  // Skip the current field's payload: only moves the cursor.
  void skip() {
    switch (wire_) {
      case kVarint: read_varint_raw(); break;
      case kFixed64: need(8, "fixed64"); pos_ += 8; break;
      case kFixed32: need(4, "fixed32"); pos_ += 4; break;
      case kLengthDelimited: read_length_delimited(); break;
      default: throw_error("cannot skip wire type " + std::to_string(wire_));
    }
  }

  // Repeated varint scalars, packed (one length-delimited run) or unpacked (one value per tag).
  template <class F>
  void for_each_varint(F&& f) {
    if (wire_ == kVarint) { f(read_varint_raw()); return; }
    if (wire_ != kLengthDelimited) wrong_wire("varint or packed varints");
    const uint8_t* p = read_length_delimited();
    Reader inner(p, pos_, base_, total_);
    inner.field_ = field_;
    while (inner.pos_ < inner.end_) f(inner.read_varint_raw());
  }

  // Append a repeated varint field (packed or unpacked) to `out`. A packed run is counted first (bytes
  // without the continuation bit) so `out` grows once, by the number of values actually present.
  // The unpacked form, one value per tag (what proto2 writers such as onnx's own emit for dims and ints),
  // stays inline: it is called once per value.
  template <class T>
  void append_varints(std::vector<T>& out) {
    if (NETSCORE_LIKELY(wire_ == kVarint)) {
      out.push_back(static_cast<T>(read_varint_raw()));
      return;
    }
    append_packed_varints(out);
  }

 private:
  template <class T>
  void append_packed_varints(std::vector<T>& out) {
    if (wire_ != kLengthDelimited) wrong_wire("varint or packed varints");
    const uint8_t* p = read_length_delimited();
    size_t n = 0;
    for (const uint8_t* q = p; q < pos_; ++q) n += *q < 0x80;
    // Every complete varint ends in exactly one such byte and an incomplete one throws, so the run holds
    // exactly n values: write them in place.
    const size_t old = out.size();
    out.resize(old + n);
    T* dst = out.data() + old;
    Reader inner(p, pos_, base_, total_);
    inner.field_ = field_;
    while (inner.pos_ < inner.end_) *dst++ = static_cast<T>(inner.read_varint_raw());
  }

 public:

  // Repeated fixed-width scalars (float = 4 bytes, double/fixed64 = 8), packed or unpacked.
  // f receives the little-endian bits.
  template <class F>
  void for_each_fixed32(F&& f) {
    if (wire_ == kFixed32) { f(read_fixed32_raw()); return; }
    if (wire_ != kLengthDelimited) wrong_wire("fixed32 or packed fixed32");
    const uint8_t* p = read_length_delimited();
    size_t n = static_cast<size_t>(pos_ - p);
    if (n % 4 != 0) throw_error(packed_size_problem(4, n, p));
    for (; p < pos_; p += 4) f(load32(p));
  }
  template <class F>
  void for_each_fixed64(F&& f) {
    if (wire_ == kFixed64) { f(read_fixed64_raw()); return; }
    if (wire_ != kLengthDelimited) wrong_wire("fixed64 or packed fixed64");
    const uint8_t* p = read_length_delimited();
    size_t n = static_cast<size_t>(pos_ - p);
    if (n % 8 != 0) throw_error(packed_size_problem(8, n, p));
    for (; p < pos_; p += 8) f(load64(p));
  }

  static uint32_t load32(const uint8_t* p) {
    uint32_t v;
    std::memcpy(&v, p, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap32(v);
#endif
    return v;
  }
  static uint64_t load64(const uint8_t* p) {
    uint64_t v;
    std::memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
  }

 private:
  std::string at(const uint8_t* p) const { return std::to_string(p - base_); }
  size_t offset_of(const uint8_t* p) const { return static_cast<size_t>(p - base_); }

  void expect(uint32_t wire) {
    if (NETSCORE_UNLIKELY(wire_ != wire)) wrong_wire(wire_type_name(wire));
  }
  [[noreturn]] NETSCORE_NOINLINE void wrong_wire(const char* expected) const {
    throw_error("field " + std::to_string(field_) + " has wire type " + std::to_string(wire_) + " (" +
                wire_type_name(wire_) + "), expected " + expected + " at byte " + at(tag_at_));
  }
  std::string packed_size_problem(uint32_t width, size_t n, const uint8_t* p) const {
    return "field " + std::to_string(field_) + " packed length " + std::to_string(n) + " at byte " + at(p) +
           " is not a multiple of " + std::to_string(width);
  }
  void need(size_t n, const char* what) {
    if (NETSCORE_UNLIKELY(static_cast<size_t>(end_ - pos_) < n)) throw_truncated(what, field_, n, offset_of(pos_), offset_of(end_), total_);
  }

  // One- and two-byte varints (values below 16384: lengths, dims, enums) inline; longer ones out of line.
  uint64_t read_varint_raw() {
    if (NETSCORE_LIKELY(end_ - pos_ >= 2)) {
      const uint32_t b0 = pos_[0];
      if (NETSCORE_LIKELY(b0 < 0x80)) {
        ++pos_;
        return b0;
      }
      const uint32_t b1 = pos_[1];
      if (b1 < 0x80) {
        pos_ += 2;
        return (b0 & 0x7F) | (b1 << 7);
      }
    } else if (pos_ < end_ && *pos_ < 0x80) {
      return *pos_++;
    }
    return read_varint_slow();
  }
  NETSCORE_NOINLINE uint64_t read_varint_slow() {
    const uint8_t* p = pos_;
    if (end_ - p >= 10) {             // no bounds check per byte: 10 bytes are there
      uint64_t v = 0;
      for (int shift = 0; shift < 70; shift += 7) {
        uint8_t b = *p++;
        v |= static_cast<uint64_t>(b & 0x7F) << shift;
        if (b < 0x80) { pos_ = p; return v; }
      }
      throw_error("varint longer than 10 bytes at byte " + at(pos_) +
                  (field_ ? " (field " + std::to_string(field_) + ")" : std::string(" (field tag)")));
    }
    uint64_t v = 0;
    for (int shift = 0; p < end_; shift += 7) {
      uint8_t b = *p++;
      v |= static_cast<uint64_t>(b & 0x7F) << shift;
      if (b < 0x80) { pos_ = p; return v; }
    }
    throw_truncated("varint", field_, 0, offset_of(pos_), offset_of(end_), total_);
  }
  NETSCORE_NOINLINE uint32_t read_tag_slow() {
    field_ = 0;                       // errors while reading the tag itself name "field tag"
    uint64_t tag = read_varint_slow();
    if (tag > 0xFFFFFFFFu) throw_error("field tag " + std::to_string(tag) + " out of range at byte " + at(tag_at_));
    return static_cast<uint32_t>(tag);
  }
  [[noreturn]] NETSCORE_NOINLINE void bad_tag() const {
    if (field_ == 0) throw_error("field number 0 at byte " + at(tag_at_));
    if (wire_ == kStartGroup || wire_ == kEndGroup)
      throw_error("field " + std::to_string(field_) + " uses wire type " + std::to_string(wire_) +
                  " (groups are not supported) at byte " + at(tag_at_));
    throw_error("field " + std::to_string(field_) + " has invalid wire type " + std::to_string(wire_) +
                " at byte " + at(tag_at_));
  }
  uint32_t read_fixed32_raw() { need(4, "fixed32"); uint32_t v = load32(pos_); pos_ += 4; return v; }
  uint64_t read_fixed64_raw() { need(8, "fixed64"); uint64_t v = load64(pos_); pos_ += 8; return v; }

  // Reads a length prefix, checks it against the end of this message; returns the payload start.
  const uint8_t* read_length_delimited() {
    const uint8_t* len_at = pos_;
    uint64_t len = read_varint_raw();
    if (NETSCORE_UNLIKELY(len > static_cast<uint64_t>(end_ - pos_)))
      throw_truncated("length", field_, len, offset_of(len_at), offset_of(end_), total_);
    const uint8_t* p = pos_;
    pos_ += len;
    return p;
  }

  const uint8_t* pos_;
  const uint8_t* end_;
  const uint8_t* base_;
  size_t total_;
  const uint8_t* tag_at_ = nullptr;
  uint32_t field_ = 0;
  uint32_t wire_ = 0;
};

}  // namespace netscore::onnx::pb

// Micro-kernel signatures, argument structs and the per-family tables generated from the *.list files.
// Internal to cpp/kernels (and its tests); ops pick entries from these tables in dispatch.cpp only.
#pragma once
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "kernels/kernels.h"

namespace netscore::kernels {

// A family's function type, from its pointer type: declares each list line's micro-kernel.
template <class Fn>
using Signature = std::remove_pointer_t<Fn>;

// ---- f32-gemm: C[mr x nc] (+)= A[mr x kc] * B[kc x nc] on packed panels.
// a: kc groups of MR floats (row r of group k is A[r][k]); b: kc groups of NR floats.
// flags: kGemmAccumulate adds to C (else C is initialised from the bias); kGemmLast adds the residual (if
// any) and then applies the clamp: C = clamp(A * B + bias + residual).
enum : int { kGemmAccumulate = 1, kGemmLast = 2 };
struct GemmEpilogue {
  const float* bias = nullptr;  // first value for this tile: per row (bias_per_col == 0) or per column
  int bias_per_col = 0;
  float min = -__builtin_inff(), max = __builtin_inff();
  const float* residual = nullptr;  // f32-gemm / f32-igemm: the tile's first residual value, or nullptr
  size_t ld_residual = 0;           // floats between residual rows
};
// The epilogue of one tile: bias (per row, or per column with bias_per_col) and the clamp [lo, hi].
inline GemmEpilogue clamp_epilogue(const float* bias, float lo, float hi, int bias_per_col = 0) {
  GemmEpilogue ep;
  ep.bias = bias;
  ep.bias_per_col = bias_per_col;
  ep.min = lo;
  ep.max = hi;
  return ep;
}
using F32GemmFn = void (*)(size_t mr, size_t nc, size_t kc, const float* a, const float* b, float* c, size_t ldc,
                           int flags, const GemmEpilogue* ep);

// ---- f32-igemm: as f32-gemm, but row k of B is read (unpacked) at b + koff[k].
using F32IgemmFn = void (*)(size_t mr, size_t nc, size_t kc, const float* a, const float* b, const size_t* koff,
                            float* c, size_t ldc, int flags, const GemmEpilogue* ep);

// ---- f32-im2col: pack columns [n0, n0 + nc) and k rows [k0, k0 + kc) of the implicit im2col matrix of one
// image and group (x at the group's first input channel) into NR-column panels (kc x NR each, zero-padded).
using F32Im2colFn = void (*)(const Conv2dShape* s, const float* x, size_t k0, size_t kc, size_t n0, size_t nc,
                             size_t nr, float* dst);

// ---- f32-gemv: y[0..nc) = x[0..k) * Wp (+ bias, clamp); Wp is one packed panel: k groups of NR floats.
using F32GemvFn = void (*)(size_t k, size_t nc, const float* x, const float* wp, float* y, const GemmEpilogue* ep);

// ---- f32-dwconv (co = 1) and f32-gconv (co = 4): direct convolution over padded, column-phase-split planes.
// Plane layout for input channel ci: phases [0, sw), each `rows` x `row_stride` floats; phase p column j holds
// padded column j * sw + p. Output channel block: co_block channels of out_h x out_w.
struct DirectConvArgs {
  const float* in;
  size_t cin;            // input channels feeding this block
  size_t plane_stride;   // floats between input channels
  size_t phase_stride;   // floats between phases of one channel
  size_t row_stride;     // floats between rows of one phase
  const float* w;        // [co_block][cin][kh][kw], zero-padded up to the kernel's CO
  const float* bias;     // co_block values (zero-padded)
  float* out;
  size_t out_channel_stride;
  size_t co_valid;       // output channels to store (<= CO)
  size_t out_h, out_w;
  size_t kh, kw, sh, sw, dh, dw;
  float min, max;
  // Kernels listed with `raw` = 1 read the unpadded input instead of planes: in points at channel ci's
  // h x w image (plane_stride apart) and padding is applied in registers with masked loads.
  size_t in_h, in_w, pad_top, pad_left;
};
using F32DirectConvFn = void (*)(const DirectConvArgs* args);

// ---- f32-pool: max or sum-then-scale over padded planes (same layout as DirectConvArgs, cin = 1).
struct PoolArgs {
  const float* in;
  size_t phase_stride, row_stride;
  float* out;
  size_t out_h, out_w;
  size_t kh, kw, sh, sw, dh, dw;
  const float* inv_h;  // average: per output row factor; per output column factor in inv_w (padded to 16)
  const float* inv_w;
  // Kernels listed with `raw` = 1 read the unpadded h x w plane (row_stride = in_w) and take the padding in
  // registers; phase_stride is unused.
  size_t in_h, in_w, pad_top, pad_left;
};
using F32PoolFn = void (*)(const PoolArgs* args);

// ---- f32-gavgpool: y[i] = mean of x[i*hw .. (i+1)*hw) for i < planes.
using F32GavgpoolFn = void (*)(size_t planes, size_t hw, const float* x, float* y);

// ---- f32-vbinary: y = a op b over n values; *_vs broadcasts the scalar *b.
using F32VbinaryFn = void (*)(size_t n, const float* a, const float* b, float* y);

// ---- f32-vact: y = act(x + bias) over n values (in place allowed).
using F32VactFn = void (*)(size_t n, const float* x, float* y, float bias, const Activation* act);

// ---- qs8-gemm: int32 C[mr x nc] (+)= A * B on int8 panels packed in groups of 4 along k:
// a: kc/4 groups of MR x 4 int8; b: kc/4 groups of NR x 4 int8 (kc a multiple of 4, zero-padded).
using Qs8GemmFn = void (*)(size_t mr, size_t nc, size_t kc, const int8_t* a, const int8_t* b, int32_t* c,
                           size_t ldc, int accumulate);

// ---- qs8-dwconv: depthwise channels, each in three steps. (1) Its h x w int8 plane becomes zero-padded
// int16 rows of (x - x_zero_point): padded row r at phase r % sh, row r / sh (phases phase_stride apart, rows
// row_stride apart, image column j at pad_left + j; the kernel zeroes `plane` once, then writes only the
// image). (2) A flat output grid: output i (row i / out_stride, column i % out_stride; columns >= out_w are
// computed and discarded) is the sum over tap pairs t of in[sw * i + off[t]] * w[t].lo + in[sw * i + off[t] +
// 1] * w[t].hi (w[t]: first tap in the low 16 bits, second in the high; a lone tap pairs with weight 0).
// (3) Requantisation as qs8-requant into out_h x out_w int8. A kernel computes up to kQs8DwconvStep outputs
// past `count` (acc and tmp hold round_up(count, kQs8DwconvStep) values; the planes are readable that far).
constexpr size_t kQs8DwconvStep = 64;
struct Qs8DwconvArgs {
  const int8_t* x;      // channels planes of in_h x in_w, one after another
  size_t channels, in_h, in_w, pad_top, pad_left;
  int32_t x_zero_point;
  int16_t* plane;       // scratch of sh * phase_stride int16
  size_t sh, rows, row_stride, phase_stride;  // rows: per phase
  size_t sw;            // column stride of the convolution
  size_t pairs;         // tap pairs
  const size_t* off;    // per pair: int16 offset of its first tap from the plane
  const int32_t* w;     // per channel, per pair: the two int16 weights
  size_t count;         // out_h * out_stride
  int32_t* acc;         // scratch
  int8_t* tmp;          // scratch
  size_t out_h, out_w, out_stride;
  const int32_t* bias;  // per channel
  float scale;
  int32_t zero_point, lo, hi;
  int8_t* out;          // channels planes of out_h x out_w
};
using Qs8DwconvFn = void (*)(const Qs8DwconvArgs* args);

// ---- qs8-requant: y = clamp(round_half_even(float(acc + bias) * scale) + zero_point, lo, hi).
using Qs8RequantFn = void (*)(size_t n, const int32_t* acc, int32_t bias, float scale, int32_t zero_point,
                              int32_t lo, int32_t hi, int8_t* y);

// ---- tables: one entry per list line compiled for this architecture.
struct F32GemmUkernel { Isa isa; const char* name; F32GemmFn fn; int mr, nr; };
struct F32IgemmUkernel { Isa isa; const char* name; F32IgemmFn fn; int mr, nr; };
struct F32Im2colUkernel { Isa isa; const char* name; F32Im2colFn fn; };
struct F32GemvUkernel { Isa isa; const char* name; F32GemvFn fn; int nr; };
struct F32DirectConvUkernel { Isa isa; const char* name; F32DirectConvFn fn; int kh, kw, sh, sw, rows, co, raw; };
struct F32PoolUkernel { Isa isa; const char* name; F32PoolFn fn; PoolKind kind; int kh, kw, sh, sw, raw; };
struct F32GavgpoolUkernel { Isa isa; const char* name; F32GavgpoolFn fn; };
struct F32VbinaryUkernel { Isa isa; const char* name; F32VbinaryFn fn; BinaryOp op; bool scalar_b; };
struct F32VactUkernel { Isa isa; const char* name; F32VactFn fn; };
struct Qs8GemmUkernel { Isa isa; const char* name; Qs8GemmFn fn; int mr, nr; };
struct Qs8DwconvUkernel { Isa isa; const char* name; Qs8DwconvFn fn; };
struct Qs8RequantUkernel { Isa isa; const char* name; Qs8RequantFn fn; };

template <class E>
struct Table {
  const E* begin_;
  size_t size_;
  const E* begin() const { return begin_; }
  const E* end() const { return begin_ + size_; }
  size_t size() const { return size_; }
};
Table<F32GemmUkernel> f32_gemm_ukernels();
Table<F32GemvUkernel> f32_gemv_ukernels();
Table<F32Im2colUkernel> f32_im2col_ukernels();
Table<F32IgemmUkernel> f32_igemm_ukernels();
Table<F32DirectConvUkernel> f32_dwconv_ukernels();
Table<F32DirectConvUkernel> f32_gconv_ukernels();
Table<F32PoolUkernel> f32_pool_ukernels();
Table<F32GavgpoolUkernel> f32_gavgpool_ukernels();
Table<F32VbinaryUkernel> f32_vbinary_ukernels();
Table<F32VactUkernel> f32_vact_ukernels();
Table<Qs8GemmUkernel> qs8_gemm_ukernels();
Table<Qs8DwconvUkernel> qs8_dwconv_ukernels();
Table<Qs8RequantUkernel> qs8_requant_ukernels();

// ---- tables: ukernel_tables.cpp; tiers: cpu_features.cpp
// ---- selection (dispatch.cpp): the one place that maps (tier, shape) to a micro-kernel. Throws
// std::invalid_argument if `isa` cannot run here.
void check_isa_supported(Isa isa);
// m, n: GEMM rows and columns (n <= 0: unknown, judge by m only).
const F32GemmUkernel& select_f32_gemm(Isa isa, int64_t m, int64_t n);
const F32GemvUkernel& select_f32_gemv(Isa isa);
const F32Im2colUkernel& select_f32_im2col(Isa isa);
// A tile for running a convolution's GEMM pixel-major (rows = the n output pixels, columns = the m output
// channels), or nullptr when the channel-major orientation, computing n_computed columns (n, or more on a
// padded width), scores about as well (see select_f32_gemm).
const F32GemmUkernel* select_f32_gemm_pixel_major(Isa isa, int64_t m, int64_t n, int64_t n_computed);
// The indirect tile matching a GEMM tile, or nullptr.
const F32IgemmUkernel* select_f32_igemm(const F32GemmUkernel& tile);
const F32DirectConvUkernel* select_f32_dwconv(Isa isa, const Conv2dShape& s);  // always non-null
const F32DirectConvUkernel* select_f32_gconv(Isa isa, const Conv2dShape& s);   // nullptr: use GEMM
const F32PoolUkernel& select_f32_pool(Isa isa, PoolKind kind, const Pool2dShape& s);
const F32GavgpoolUkernel& select_f32_gavgpool(Isa isa);
const F32VbinaryUkernel& select_f32_vbinary(Isa isa, BinaryOp op, bool scalar_b);
const F32VactUkernel& select_f32_vact(Isa isa);
const Qs8GemmUkernel& select_qs8_gemm(Isa isa);
const Qs8DwconvUkernel& select_qs8_dwconv(Isa isa);
const Qs8RequantUkernel& select_qs8_requant(Isa isa);

// ---- shared helpers (common.cpp)
// Thread-local scratch, reused across runs; `slot` separates simultaneous buffers of one thread.
float* scratch_f32(size_t n, int slot);
void* scratch_bytes(size_t n, int slot);
inline size_t round_up(size_t x, size_t m) { return (x + m - 1) / m * m; }
inline size_t div_up(size_t x, size_t m) { return (x + m - 1) / m; }
// Runs fn(i) for i < n on the pool, or inline without one.
void parallel(ThreadPool* pool, int64_t n, const std::function<void(int64_t, int)>& fn);
// Fill padded, column-phase-split planes (DirectConvArgs layout) from one channel of h x w input.
void build_phase_planes(const float* src, size_t h, size_t w, size_t pad_top, size_t pad_left, size_t rows,
                        size_t sw, size_t row_stride, float pad_value, float* dst);
// The same for padded rows [row0, row0 + rows) only (a window of the full planes; row r lands at r - row0).
void build_phase_planes_window(const float* src, size_t h, size_t w, size_t pad_top, size_t pad_left,
                               size_t row0, size_t rows, size_t sw, size_t row_stride, float pad_value,
                               float* dst);
// Width of one phase row able to serve out_w outputs with vector loads of up to 16 lanes.
inline size_t phase_row_stride(size_t out_w, size_t kw, size_t sw, size_t dw) {
  return round_up(round_up(out_w, 16) + ((kw - 1) * dw) / sw + 1, 16);
}
// The window fields (kh, kw, sh, sw, dh, dw) of DirectConvArgs / PoolArgs from a conv or pool shape.
template <class Args, class Shape>
inline void set_window(Args& a, const Shape& s) {
  a.kh = s.kh;
  a.kw = s.kw;
  a.sh = s.stride_h;
  a.sw = s.stride_w;
  a.dh = s.dil_h;
  a.dw = s.dil_w;
}
// The window a direct-conv or pool kernel runs: fixed by its template (KH != 0: kh x kw, stride sh x sw,
// undilated) or, for the general kernel (KH == 0), read from its arguments. A template over the tier's
// traits T, so each tier keeps its own copy (see simd/vec-*.h).
struct TapWindow {
  size_t kh, kw, sh, sw, dh, dw;
};
template <class T, int KH, int KW, int SH, int SW, class Args>
inline TapWindow tap_window(const Args* p) {
  if (KH) return TapWindow{size_t(KH), size_t(KW), size_t(SH), size_t(SW), 1, 1};
  return TapWindow{p->kh, p->kw, p->sh, p->sw, p->dh, p->dw};
}
// Clamp bounds that fuse an activation into an epilogue; `rest` is true if a vact pass must follow.
void activation_clamp(Activation act, float* lo, float* hi, bool* rest);

}  // namespace netscore::kernels

// The micro-kernel tables: one entry per list line and built tier it names (declarations and entries both
// come from the *.list files; each signature is spelled once, as the family's function type in ukernels.h).
#include "kernels/tiers_built.h"  // generated: NS_TIERS_<tier or group>(M, ...) -> M(<tier>, ...) per built tier
#include "kernels/ukernels.h"

namespace netscore::kernels {

// A list line names a tier or a tier group (cpp/kernels/CMakeLists.txt); it expands to one <FAMILY>_ROW per
// built tier it names, with that tier's name. Each section below defines _ROW and includes the list.
#define NS_F32_GEMM(isa, ...) NS_TIERS_##isa(NS_F32_GEMM_ROW, __VA_ARGS__)
#define NS_F32_GEMV(isa, ...) NS_TIERS_##isa(NS_F32_GEMV_ROW, __VA_ARGS__)
#define NS_F32_IGEMM(isa, ...) NS_TIERS_##isa(NS_F32_IGEMM_ROW, __VA_ARGS__)
#define NS_F32_IM2COL(isa, ...) NS_TIERS_##isa(NS_F32_IM2COL_ROW, __VA_ARGS__)
#define NS_F32_DWCONV(isa, ...) NS_TIERS_##isa(NS_F32_DWCONV_ROW, __VA_ARGS__)
#define NS_F32_GCONV(isa, ...) NS_TIERS_##isa(NS_F32_GCONV_ROW, __VA_ARGS__)
#define NS_F32_POOL(isa, ...) NS_TIERS_##isa(NS_F32_POOL_ROW, __VA_ARGS__)
#define NS_F32_GAVGPOOL(isa, ...) NS_TIERS_##isa(NS_F32_GAVGPOOL_ROW, __VA_ARGS__)
#define NS_F32_VBINARY(isa, ...) NS_TIERS_##isa(NS_F32_VBINARY_ROW, __VA_ARGS__)
#define NS_F32_VACT(isa, ...) NS_TIERS_##isa(NS_F32_VACT_ROW, __VA_ARGS__)
#define NS_QS8_GEMM(isa, ...) NS_TIERS_##isa(NS_QS8_GEMM_ROW, __VA_ARGS__)
#define NS_QS8_DWCONV(isa, ...) NS_TIERS_##isa(NS_QS8_DWCONV_ROW, __VA_ARGS__)
#define NS_QS8_REQUANT(isa, ...) NS_TIERS_##isa(NS_QS8_REQUANT_ROW, __VA_ARGS__)

// ---------------------------------------------------------------- declarations generated from the lists
#define NS_F32_GEMM_ROW(isa, mr, nr) Signature<F32GemmFn> ns_f32_gemm_ukernel_##mr##x##nr##__##isa;
#include "kernels/f32-gemm/f32-gemm.list"
#undef NS_F32_GEMM_ROW
#define NS_F32_GEMV_ROW(isa, nr) Signature<F32GemvFn> ns_f32_gemv_ukernel_##nr##__##isa;
#include "kernels/f32-gemv/f32-gemv.list"
#undef NS_F32_GEMV_ROW
#define NS_F32_IGEMM_ROW(isa, mr, nr) Signature<F32IgemmFn> ns_f32_igemm_ukernel_##mr##x##nr##__##isa;
#include "kernels/f32-igemm/f32-igemm.list"
#undef NS_F32_IGEMM_ROW
#define NS_F32_IM2COL_ROW(isa, ...) Signature<F32Im2colFn> ns_f32_im2col_ukernel__##isa;
#include "kernels/f32-im2col/f32-im2col.list"
#undef NS_F32_IM2COL_ROW
#define NS_F32_DWCONV_ROW(isa, variant, ...) Signature<F32DirectConvFn> ns_f32_dwconv_ukernel_##variant##__##isa;
#include "kernels/f32-dwconv/f32-dwconv.list"
#undef NS_F32_DWCONV_ROW
#define NS_F32_GCONV_ROW(isa, variant, ...) Signature<F32DirectConvFn> ns_f32_gconv_ukernel_##variant##__##isa;
#include "kernels/f32-gconv/f32-gconv.list"
#undef NS_F32_GCONV_ROW
#define NS_F32_POOL_ROW(isa, variant, ...) Signature<F32PoolFn> ns_f32_pool_ukernel_##variant##__##isa;
#include "kernels/f32-pool/f32-pool.list"
#undef NS_F32_POOL_ROW
#define NS_F32_GAVGPOOL_ROW(isa, ...) Signature<F32GavgpoolFn> ns_f32_gavgpool_ukernel__##isa;
#include "kernels/f32-gavgpool/f32-gavgpool.list"
#undef NS_F32_GAVGPOOL_ROW
#define NS_F32_VBINARY_ROW(isa, variant, ...) Signature<F32VbinaryFn> ns_f32_vbinary_ukernel_##variant##__##isa;
#include "kernels/f32-vbinary/f32-vbinary.list"
#undef NS_F32_VBINARY_ROW
#define NS_F32_VACT_ROW(isa, ...) Signature<F32VactFn> ns_f32_vact_ukernel__##isa;
#include "kernels/f32-vact/f32-vact.list"
#undef NS_F32_VACT_ROW
#define NS_QS8_GEMM_ROW(isa, mr, nr) Signature<Qs8GemmFn> ns_qs8_gemm_ukernel_##mr##x##nr##__##isa;
#include "kernels/qs8-gemm/qs8-gemm.list"
#undef NS_QS8_GEMM_ROW
#define NS_QS8_DWCONV_ROW(isa, ...) Signature<Qs8DwconvFn> ns_qs8_dwconv_ukernel__##isa;
#include "kernels/qs8-dwconv/qs8-dwconv.list"
#undef NS_QS8_DWCONV_ROW
#define NS_QS8_REQUANT_ROW(isa, ...) Signature<Qs8RequantFn> ns_qs8_requant_ukernel__##isa;
#include "kernels/qs8-requant/qs8-requant.list"
#undef NS_QS8_REQUANT_ROW

// ---------------------------------------------------------------- tables generated from the lists
namespace {
#define NS_STR(x) #x
const F32GemmUkernel kF32Gemm[] = {
#define NS_F32_GEMM_ROW(isa, mr, nr) \
  {Isa::isa, "f32-gemm-" NS_STR(mr) "x" NS_STR(nr) "-" #isa, ns_f32_gemm_ukernel_##mr##x##nr##__##isa, mr, nr},
#include "kernels/f32-gemm/f32-gemm.list"
#undef NS_F32_GEMM_ROW
};
const F32GemvUkernel kF32Gemv[] = {
#define NS_F32_GEMV_ROW(isa, nr) {Isa::isa, "f32-gemv-" NS_STR(nr) "-" #isa, ns_f32_gemv_ukernel_##nr##__##isa, nr},
#include "kernels/f32-gemv/f32-gemv.list"
#undef NS_F32_GEMV_ROW
};
const F32IgemmUkernel kF32Igemm[] = {
#define NS_F32_IGEMM_ROW(isa, mr, nr) \
  {Isa::isa, "f32-igemm-" NS_STR(mr) "x" NS_STR(nr) "-" #isa, ns_f32_igemm_ukernel_##mr##x##nr##__##isa, mr, nr},
#include "kernels/f32-igemm/f32-igemm.list"
#undef NS_F32_IGEMM_ROW
};
const F32Im2colUkernel kF32Im2col[] = {
#define NS_F32_IM2COL_ROW(isa, ...) {Isa::isa, "f32-im2col-" #isa, ns_f32_im2col_ukernel__##isa},
#include "kernels/f32-im2col/f32-im2col.list"
#undef NS_F32_IM2COL_ROW
};
const F32DirectConvUkernel kF32Dwconv[] = {
#define NS_F32_DWCONV_ROW(isa, variant, kh, kw, sh, sw, rows, raw) \
  {Isa::isa, "f32-dwconv-" #variant "-" #isa, ns_f32_dwconv_ukernel_##variant##__##isa, kh, kw, sh, sw, rows, 1, raw},
#include "kernels/f32-dwconv/f32-dwconv.list"
#undef NS_F32_DWCONV_ROW
};
const F32DirectConvUkernel kF32Gconv[] = {
#define NS_F32_GCONV_ROW(isa, variant, kh, kw, sh, sw, rows, co, raw) \
  {Isa::isa, "f32-gconv-" #variant "-" #isa, ns_f32_gconv_ukernel_##variant##__##isa, kh, kw, sh, sw, rows, co, raw},
#include "kernels/f32-gconv/f32-gconv.list"
#undef NS_F32_GCONV_ROW
};
const F32PoolUkernel kF32Pool[] = {
#define NS_F32_POOL_ROW(isa, variant, kind, kh, kw, sh, sw, raw) \
  {Isa::isa, "f32-pool-" #variant "-" #isa, ns_f32_pool_ukernel_##variant##__##isa, PoolKind::kind, kh, kw, sh, sw, raw},
#include "kernels/f32-pool/f32-pool.list"
#undef NS_F32_POOL_ROW
};
const F32GavgpoolUkernel kF32Gavgpool[] = {
#define NS_F32_GAVGPOOL_ROW(isa, ...) {Isa::isa, "f32-gavgpool-" #isa, ns_f32_gavgpool_ukernel__##isa},
#include "kernels/f32-gavgpool/f32-gavgpool.list"
#undef NS_F32_GAVGPOOL_ROW
};
const F32VbinaryUkernel kF32Vbinary[] = {
#define NS_F32_VBINARY_ROW(isa, variant, op, scalar_b) \
  {Isa::isa, "f32-vbinary-" #variant "-" #isa, ns_f32_vbinary_ukernel_##variant##__##isa, BinaryOp::op, scalar_b},
#include "kernels/f32-vbinary/f32-vbinary.list"
#undef NS_F32_VBINARY_ROW
};
const F32VactUkernel kF32Vact[] = {
#define NS_F32_VACT_ROW(isa, ...) {Isa::isa, "f32-vact-" #isa, ns_f32_vact_ukernel__##isa},
#include "kernels/f32-vact/f32-vact.list"
#undef NS_F32_VACT_ROW
};
const Qs8GemmUkernel kQs8Gemm[] = {
#define NS_QS8_GEMM_ROW(isa, mr, nr) \
  {Isa::isa, "qs8-gemm-" NS_STR(mr) "x" NS_STR(nr) "-" #isa, ns_qs8_gemm_ukernel_##mr##x##nr##__##isa, mr, nr},
#include "kernels/qs8-gemm/qs8-gemm.list"
#undef NS_QS8_GEMM_ROW
};
const Qs8DwconvUkernel kQs8Dwconv[] = {
#define NS_QS8_DWCONV_ROW(isa, ...) {Isa::isa, "qs8-dwconv-" #isa, ns_qs8_dwconv_ukernel__##isa},
#include "kernels/qs8-dwconv/qs8-dwconv.list"
#undef NS_QS8_DWCONV_ROW
};
const Qs8RequantUkernel kQs8Requant[] = {
#define NS_QS8_REQUANT_ROW(isa, ...) {Isa::isa, "qs8-requant-" #isa, ns_qs8_requant_ukernel__##isa},
#include "kernels/qs8-requant/qs8-requant.list"
#undef NS_QS8_REQUANT_ROW
};
template <class E, size_t N>
Table<E> table(const E (&t)[N]) { return Table<E>{t, N}; }
}  // namespace

Table<F32GemmUkernel> f32_gemm_ukernels() { return table(kF32Gemm); }
Table<F32GemvUkernel> f32_gemv_ukernels() { return table(kF32Gemv); }
Table<F32Im2colUkernel> f32_im2col_ukernels() { return table(kF32Im2col); }
Table<F32IgemmUkernel> f32_igemm_ukernels() { return table(kF32Igemm); }
Table<F32DirectConvUkernel> f32_dwconv_ukernels() { return table(kF32Dwconv); }
Table<F32DirectConvUkernel> f32_gconv_ukernels() { return table(kF32Gconv); }
Table<F32PoolUkernel> f32_pool_ukernels() { return table(kF32Pool); }
Table<F32GavgpoolUkernel> f32_gavgpool_ukernels() { return table(kF32Gavgpool); }
Table<F32VbinaryUkernel> f32_vbinary_ukernels() { return table(kF32Vbinary); }
Table<F32VactUkernel> f32_vact_ukernels() { return table(kF32Vact); }
Table<Qs8GemmUkernel> qs8_gemm_ukernels() { return table(kQs8Gemm); }
Table<Qs8DwconvUkernel> qs8_dwconv_ukernels() { return table(kQs8Dwconv); }
Table<Qs8RequantUkernel> qs8_requant_ukernels() { return table(kQs8Requant); }

#undef NS_F32_GEMM
#undef NS_F32_GEMV
#undef NS_F32_IGEMM
#undef NS_F32_IM2COL
#undef NS_F32_DWCONV
#undef NS_F32_GCONV
#undef NS_F32_POOL
#undef NS_F32_GAVGPOOL
#undef NS_F32_VBINARY
#undef NS_F32_VACT
#undef NS_QS8_GEMM
#undef NS_QS8_DWCONV
#undef NS_QS8_REQUANT

}  // namespace netscore::kernels

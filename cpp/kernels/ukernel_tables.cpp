// The micro-kernel tables: one entry per list line whose tier is built here (declarations and entries both
// come from the *.list files; each signature is spelled once, as the family's function type in ukernels.h).
#include "kernels/tiers_built.h"  // generated: NS_BUILT_<tier>(x) keeps x if the tier is compiled in
#include "kernels/ukernels.h"

namespace netscore::kernels {

// ---------------------------------------------------------------- declarations generated from the lists
#define NS_F32_GEMM(isa, mr, nr) NS_BUILT_##isa(Signature<F32GemmFn> ns_f32_gemm_ukernel_##mr##x##nr##__##isa;)
#include "kernels/f32-gemm/f32-gemm.list"
#undef NS_F32_GEMM
#define NS_F32_GEMV(isa, nr) NS_BUILT_##isa(Signature<F32GemvFn> ns_f32_gemv_ukernel_##nr##__##isa;)
#include "kernels/f32-gemv/f32-gemv.list"
#undef NS_F32_GEMV
#define NS_F32_IGEMM(isa, mr, nr) NS_BUILT_##isa(Signature<F32IgemmFn> ns_f32_igemm_ukernel_##mr##x##nr##__##isa;)
#include "kernels/f32-igemm/f32-igemm.list"
#undef NS_F32_IGEMM
#define NS_F32_IM2COL(isa) NS_BUILT_##isa(Signature<F32Im2colFn> ns_f32_im2col_ukernel__##isa;)
#include "kernels/f32-im2col/f32-im2col.list"
#undef NS_F32_IM2COL
#define NS_F32_DWCONV(isa, variant, ...) NS_BUILT_##isa(Signature<F32DirectConvFn> ns_f32_dwconv_ukernel_##variant##__##isa;)
#include "kernels/f32-dwconv/f32-dwconv.list"
#undef NS_F32_DWCONV
#define NS_F32_GCONV(isa, variant, ...) NS_BUILT_##isa(Signature<F32DirectConvFn> ns_f32_gconv_ukernel_##variant##__##isa;)
#include "kernels/f32-gconv/f32-gconv.list"
#undef NS_F32_GCONV
#define NS_F32_POOL(isa, variant, ...) NS_BUILT_##isa(Signature<F32PoolFn> ns_f32_pool_ukernel_##variant##__##isa;)
#include "kernels/f32-pool/f32-pool.list"
#undef NS_F32_POOL
#define NS_F32_GAVGPOOL(isa) NS_BUILT_##isa(Signature<F32GavgpoolFn> ns_f32_gavgpool_ukernel__##isa;)
#include "kernels/f32-gavgpool/f32-gavgpool.list"
#undef NS_F32_GAVGPOOL
#define NS_F32_VBINARY(isa, variant, ...) NS_BUILT_##isa(Signature<F32VbinaryFn> ns_f32_vbinary_ukernel_##variant##__##isa;)
#include "kernels/f32-vbinary/f32-vbinary.list"
#undef NS_F32_VBINARY
#define NS_F32_VACT(isa) NS_BUILT_##isa(Signature<F32VactFn> ns_f32_vact_ukernel__##isa;)
#include "kernels/f32-vact/f32-vact.list"
#undef NS_F32_VACT
#define NS_QS8_GEMM(isa, mr, nr) NS_BUILT_##isa(Signature<Qs8GemmFn> ns_qs8_gemm_ukernel_##mr##x##nr##__##isa;)
#include "kernels/qs8-gemm/qs8-gemm.list"
#undef NS_QS8_GEMM
#define NS_QS8_DWCONV(isa) NS_BUILT_##isa(Signature<Qs8DwconvFn> ns_qs8_dwconv_ukernel__##isa;)
#include "kernels/qs8-dwconv/qs8-dwconv.list"
#undef NS_QS8_DWCONV
#define NS_QS8_REQUANT(isa) NS_BUILT_##isa(Signature<Qs8RequantFn> ns_qs8_requant_ukernel__##isa;)
#include "kernels/qs8-requant/qs8-requant.list"
#undef NS_QS8_REQUANT

// ---------------------------------------------------------------- tables generated from the lists
namespace {
#define NS_STR(x) #x
const F32GemmUkernel kF32Gemm[] = {
#define NS_F32_GEMM(isa, mr, nr) \
  NS_BUILT_##isa({Isa::isa, "f32-gemm-" NS_STR(mr) "x" NS_STR(nr) "-" #isa, ns_f32_gemm_ukernel_##mr##x##nr##__##isa, mr, nr},)
#include "kernels/f32-gemm/f32-gemm.list"
#undef NS_F32_GEMM
};
const F32GemvUkernel kF32Gemv[] = {
#define NS_F32_GEMV(isa, nr) NS_BUILT_##isa({Isa::isa, "f32-gemv-" NS_STR(nr) "-" #isa, ns_f32_gemv_ukernel_##nr##__##isa, nr},)
#include "kernels/f32-gemv/f32-gemv.list"
#undef NS_F32_GEMV
};
const F32IgemmUkernel kF32Igemm[] = {
#define NS_F32_IGEMM(isa, mr, nr) \
  NS_BUILT_##isa({Isa::isa, "f32-igemm-" NS_STR(mr) "x" NS_STR(nr) "-" #isa, ns_f32_igemm_ukernel_##mr##x##nr##__##isa, mr, nr},)
#include "kernels/f32-igemm/f32-igemm.list"
#undef NS_F32_IGEMM
};
const F32Im2colUkernel kF32Im2col[] = {
#define NS_F32_IM2COL(isa) NS_BUILT_##isa({Isa::isa, "f32-im2col-" #isa, ns_f32_im2col_ukernel__##isa},)
#include "kernels/f32-im2col/f32-im2col.list"
#undef NS_F32_IM2COL
};
const F32DirectConvUkernel kF32Dwconv[] = {
#define NS_F32_DWCONV(isa, variant, kh, kw, sh, sw, rows, raw) \
  NS_BUILT_##isa({Isa::isa, "f32-dwconv-" #variant "-" #isa, ns_f32_dwconv_ukernel_##variant##__##isa, kh, kw, sh, sw, rows, 1, raw},)
#include "kernels/f32-dwconv/f32-dwconv.list"
#undef NS_F32_DWCONV
};
const F32DirectConvUkernel kF32Gconv[] = {
#define NS_F32_GCONV(isa, variant, kh, kw, sh, sw, rows, co, raw) \
  NS_BUILT_##isa({Isa::isa, "f32-gconv-" #variant "-" #isa, ns_f32_gconv_ukernel_##variant##__##isa, kh, kw, sh, sw, rows, co, raw},)
#include "kernels/f32-gconv/f32-gconv.list"
#undef NS_F32_GCONV
};
const F32PoolUkernel kF32Pool[] = {
#define NS_F32_POOL(isa, variant, kind, kh, kw, sh, sw, raw) \
  NS_BUILT_##isa({Isa::isa, "f32-pool-" #variant "-" #isa, ns_f32_pool_ukernel_##variant##__##isa, PoolKind::kind, kh, kw, sh, sw, raw},)
#include "kernels/f32-pool/f32-pool.list"
#undef NS_F32_POOL
};
const F32GavgpoolUkernel kF32Gavgpool[] = {
#define NS_F32_GAVGPOOL(isa) NS_BUILT_##isa({Isa::isa, "f32-gavgpool-" #isa, ns_f32_gavgpool_ukernel__##isa},)
#include "kernels/f32-gavgpool/f32-gavgpool.list"
#undef NS_F32_GAVGPOOL
};
const F32VbinaryUkernel kF32Vbinary[] = {
#define NS_F32_VBINARY(isa, variant, op, scalar_b) \
  NS_BUILT_##isa({Isa::isa, "f32-vbinary-" #variant "-" #isa, ns_f32_vbinary_ukernel_##variant##__##isa, BinaryOp::op, scalar_b},)
#include "kernels/f32-vbinary/f32-vbinary.list"
#undef NS_F32_VBINARY
};
const F32VactUkernel kF32Vact[] = {
#define NS_F32_VACT(isa) NS_BUILT_##isa({Isa::isa, "f32-vact-" #isa, ns_f32_vact_ukernel__##isa},)
#include "kernels/f32-vact/f32-vact.list"
#undef NS_F32_VACT
};
const Qs8GemmUkernel kQs8Gemm[] = {
#define NS_QS8_GEMM(isa, mr, nr) \
  NS_BUILT_##isa({Isa::isa, "qs8-gemm-" NS_STR(mr) "x" NS_STR(nr) "-" #isa, ns_qs8_gemm_ukernel_##mr##x##nr##__##isa, mr, nr},)
#include "kernels/qs8-gemm/qs8-gemm.list"
#undef NS_QS8_GEMM
};
const Qs8DwconvUkernel kQs8Dwconv[] = {
#define NS_QS8_DWCONV(isa) NS_BUILT_##isa({Isa::isa, "qs8-dwconv-" #isa, ns_qs8_dwconv_ukernel__##isa},)
#include "kernels/qs8-dwconv/qs8-dwconv.list"
#undef NS_QS8_DWCONV
};
const Qs8RequantUkernel kQs8Requant[] = {
#define NS_QS8_REQUANT(isa) NS_BUILT_##isa({Isa::isa, "qs8-requant-" #isa, ns_qs8_requant_ukernel__##isa},)
#include "kernels/qs8-requant/qs8-requant.list"
#undef NS_QS8_REQUANT
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

}  // namespace netscore::kernels

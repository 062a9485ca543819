// Binary (add / multiply with NumPy broadcasting) and Unary (activation) drivers.
#include <algorithm>
#include <stdexcept>
#include <string>

#include "kernels/ukernels.h"

namespace netscore::kernels {

// Broadcast plan: after merging compatible dims, rows of `inner` contiguous (or broadcast) values.
struct Binary::Impl {
  BinaryOp op;
  std::vector<float> b_stored;
  std::vector<int64_t> dims;              // collapsed output dims (outer ... inner)
  std::vector<int64_t> a_strides, b_strides;
  int64_t inner = 1, rows = 1;
  const F32VbinaryUkernel* vv = nullptr;
  const F32VbinaryUkernel* vs = nullptr;
};

Binary::Binary(BinaryOp op, std::vector<int64_t> a_dims, std::vector<int64_t> b_dims, const float* b, Isa isa)
    : impl_(new Impl) {
  check_isa_supported(isa);
  isa_ = isa;
  Impl& im = *impl_;
  im.op = op;
  const size_t rank = std::max(a_dims.size(), b_dims.size());
  a_dims.insert(a_dims.begin(), rank - a_dims.size(), 1);
  b_dims.insert(b_dims.begin(), rank - b_dims.size(), 1);
  out_dims_.resize(rank);
  for (size_t i = 0; i < rank; ++i) {
    if (a_dims[i] < 1 || b_dims[i] < 1) throw std::invalid_argument("binary: dims must be positive");
    if (a_dims[i] != b_dims[i] && a_dims[i] != 1 && b_dims[i] != 1)
      throw std::invalid_argument("binary: shapes do not broadcast at axis " + std::to_string(i));
    out_dims_[i] = std::max(a_dims[i], b_dims[i]);
  }
  // Strides over the output dims (0 where an operand is broadcast), then merge dims that stay linear.
  std::vector<int64_t> as(rank), bs(rank);
  int64_t sa = 1, sb = 1;
  for (size_t i = rank; i-- > 0;) {
    as[i] = a_dims[i] == 1 ? 0 : sa;
    bs[i] = b_dims[i] == 1 ? 0 : sb;
    sa *= a_dims[i];
    sb *= b_dims[i];
  }
  std::vector<int64_t> d, da, db;
  for (size_t i = 0; i < rank; ++i) {
    if (out_dims_[i] == 1) continue;
    if (!d.empty() && da.back() == as[i] * out_dims_[i] && db.back() == bs[i] * out_dims_[i]) {
      d.back() *= out_dims_[i];
      da.back() = as[i];
      db.back() = bs[i];
    } else {
      d.push_back(out_dims_[i]);
      da.push_back(as[i]);
      db.push_back(bs[i]);
    }
  }
  if (d.empty()) {
    d = {1};
    da = {1};
    db = {1};
  }
  // The innermost run must be contiguous in at least one operand; a run broadcast in both is a row of 1.
  if (da.back() != 1 && db.back() != 1) {
    d.push_back(1);
    da.push_back(1);
    db.push_back(1);
  }
  im.dims = d;
  im.a_strides = da;
  im.b_strides = db;
  im.inner = d.back();
  im.rows = 1;
  for (size_t i = 0; i + 1 < d.size(); ++i) im.rows *= d[i];
  im.vv = &select_f32_vbinary(isa, op, false);
  im.vs = &select_f32_vbinary(isa, op, true);
  name_ = im.vv->name;
  if (b) im.b_stored.assign(b, b + sb);
  int64_t out = 1;
  for (int64_t v : out_dims_) out *= v;
  in_elems_ = sa;
  out_elems_ = out;
  flops_ = double(out);
  bytes_ = 4.0 * double(sa + sb + out);
}

Binary::~Binary() = default;

void Binary::run_any(const void* in, void* out, ThreadPool* pool) const {
  run(static_cast<const float*>(in), static_cast<float*>(out), pool);
}

void Binary::run(const float* a, float* out, ThreadPool* pool) const {
  if (impl_->b_stored.empty()) throw std::invalid_argument("binary: no stored second operand");
  run(a, impl_->b_stored.data(), out, pool);
}

void Binary::run(const float* a, const float* b, float* out, ThreadPool* pool) const {
  const Impl& im = *impl_;
  const int64_t inner = im.inner, rows = im.rows;
  const bool a_contig = im.a_strides.back() == 1 && inner > 1;
  const bool b_contig = im.b_strides.back() == 1 && inner > 1;
  auto row_offsets = [&](int64_t row, int64_t* oa, int64_t* ob) {
    int64_t offa = 0, offb = 0;
    for (size_t i = im.dims.size() - 1; i-- > 0;) {
      const int64_t idx = row % im.dims[i];
      row /= im.dims[i];
      offa += idx * im.a_strides[i];
      offb += idx * im.b_strides[i];
    }
    *oa = offa;
    *ob = offb;
  };
  auto do_run = [&](const float* pa, const float* pb, float* po, int64_t len) {
    if (a_contig && b_contig) im.vv->fn(len, pa, pb, po);
    else if (a_contig) im.vs->fn(len, pa, pb, po);
    else if (b_contig) im.vs->fn(len, pb, pa, po);  // add and multiply commute
    else im.vs->fn(1, pa, pb, po);
  };
  // Split long rows into chunks so one big same-shape add still spreads over the threads.
  const int64_t chunk = 16384;
  const int64_t chunks_per_row = (inner + chunk - 1) / chunk;
  const int64_t rows_per_task = chunks_per_row > 1 ? 1 : std::max<int64_t>(1, chunk / inner);
  const int64_t tasks = chunks_per_row > 1 ? rows * chunks_per_row : (rows + rows_per_task - 1) / rows_per_task;
  parallel(pool, tasks, [&](int64_t t, int) {
    if (chunks_per_row > 1) {
      const int64_t row = t / chunks_per_row, c0 = (t % chunks_per_row) * chunk;
      const int64_t len = std::min(chunk, inner - c0);
      int64_t oa, ob;
      row_offsets(row, &oa, &ob);
      do_run(a + oa + (a_contig ? c0 : 0), b + ob + (b_contig ? c0 : 0), out + row * inner + c0, len);
    } else {
      for (int64_t row = t * rows_per_task; row < std::min(rows, (t + 1) * rows_per_task); ++row) {
        int64_t oa, ob;
        row_offsets(row, &oa, &ob);
        do_run(a + oa, b + ob, out + row * inner, inner);
      }
    }
  });
}

struct Unary::Impl {
  Activation act;
  int64_t count;
  const F32VactUkernel* uk;
};

Unary::Unary(Activation act, int64_t count, Isa isa) : impl_(new Impl) {
  if (count < 0) throw std::invalid_argument("unary: negative count");
  check_isa_supported(isa);
  isa_ = isa;
  impl_->act = act;
  impl_->count = count;
  impl_->uk = &select_f32_vact(isa);
  name_ = std::string(impl_->uk->name) + "-" + activation_name(act.kind);
  in_elems_ = out_elems_ = count;
  flops_ = double(count);
  bytes_ = 8.0 * double(count);
}

Unary::~Unary() = default;

void Unary::run_any(const void* in, void* out, ThreadPool* pool) const {
  run(static_cast<const float*>(in), static_cast<float*>(out), pool);
}

void Unary::run(const float* in, float* out, ThreadPool* pool) const {
  const int64_t n = impl_->count, chunk = 16384;
  parallel(pool, (n + chunk - 1) / chunk, [&](int64_t t, int) {
    const int64_t i0 = t * chunk;
    impl_->uk->fn(std::min(chunk, n - i0), in + i0, out + i0, 0.0f, &impl_->act);
  });
}

}  // namespace netscore::kernels

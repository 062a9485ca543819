// Scalar references (see reference.h): the textbook definition of each op, nothing clever.
#include "kernels/reference/reference.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace netscore::kernels::reference {

namespace {
// Direct convolution by its definition: for each output, acc = init(oc), then tap(acc, x index, w index) for
// every tap inside the image (padding contributes nothing), then store(acc, y index).
template <class Init, class Tap, class Store>
void direct_conv(const Conv2dShape& s, Init init, Tap tap, Store store) {
  const int64_t oh = s.out_h(), ow = s.out_w(), cin_g = s.c_in / s.group, cout_g = s.c_out / s.group;
  for (int64_t n = 0; n < s.n; ++n)
    for (int64_t oc = 0; oc < s.c_out; ++oc) {
      const int64_t g = oc / cout_g;
      for (int64_t i = 0; i < oh; ++i)
        for (int64_t j = 0; j < ow; ++j) {
          auto acc = init(oc);
          for (int64_t ci = 0; ci < cin_g; ++ci)
            for (int64_t ky = 0; ky < s.kh; ++ky)
              for (int64_t kx = 0; kx < s.kw; ++kx) {
                const int64_t ih = i * s.stride_h - s.pad_top + ky * s.dil_h;
                const int64_t iw = j * s.stride_w - s.pad_left + kx * s.dil_w;
                if (ih < 0 || ih >= s.h || iw < 0 || iw >= s.w) continue;
                tap(acc, ((n * s.c_in + g * cin_g + ci) * s.h + ih) * s.w + iw,
                    ((oc * cin_g + ci) * s.kh + ky) * s.kw + kx);
              }
          store(acc, ((n * s.c_out + oc) * oh + i) * ow + j);
        }
    }
}
}  // namespace

void conv2d(const Conv2dShape& s, const float* x, const float* w, const float* bias, Activation act, float* y,
            const float* residual) {
  direct_conv(
      s, [&](int64_t oc) { return bias ? double(bias[oc]) : 0.0; },
      [&](double& acc, int64_t xi, int64_t wi) { acc += double(x[xi]) * double(w[wi]); },
      [&](double acc, int64_t at) {
        if (residual) acc += double(residual[at]);
        y[at] = apply_activation(act, float(acc));
      });
}

void gemm(const GemmShape& s, const float* x, const float* b, const float* bias, Activation act, float* y) {
  for (int64_t i = 0; i < s.m; ++i)
    for (int64_t j = 0; j < s.n; ++j) {
      double acc = bias ? bias[j] : 0.0;
      for (int64_t k = 0; k < s.k; ++k)
        acc += double(x[i * s.k + k]) * double(s.trans_b ? b[j * s.k + k] : b[k * s.n + j]);
      y[i * s.n + j] = apply_activation(act, float(acc));
    }
}

void pool2d(PoolKind kind, const Pool2dShape& s, const float* x, float* y) {
  const int64_t oh = s.out_h(), ow = s.out_w();
  for (int64_t p = 0; p < s.n * s.c; ++p)
    for (int64_t i = 0; i < oh; ++i)
      for (int64_t j = 0; j < ow; ++j) {
        double acc = kind == PoolKind::max ? -INFINITY : 0.0;
        int64_t valid = 0, with_pad = 0;
        for (int64_t ky = 0; ky < s.kh; ++ky)
          for (int64_t kx = 0; kx < s.kw; ++kx) {
            const int64_t ih = i * s.stride_h - s.pad_top + ky * s.dil_h;
            const int64_t iw = j * s.stride_w - s.pad_left + kx * s.dil_w;
            if (ih >= -s.pad_top && ih < s.h + s.pad_bottom && iw >= -s.pad_left && iw < s.w + s.pad_right)
              ++with_pad;
            if (ih < 0 || ih >= s.h || iw < 0 || iw >= s.w) continue;
            ++valid;
            const double v = x[(p * s.h + ih) * s.w + iw];
            acc = kind == PoolKind::max ? std::max(acc, v) : acc + v;
          }
        if (kind == PoolKind::average) acc /= double(s.count_include_pad ? with_pad : valid);
        y[(p * oh + i) * ow + j] = float(acc);
      }
}

void global_avg_pool(int64_t n, int64_t c, int64_t h, int64_t w, const float* x, float* y) {
  for (int64_t p = 0; p < n * c; ++p) {
    double acc = 0.0;
    for (int64_t i = 0; i < h * w; ++i) acc += x[p * h * w + i];
    y[p] = float(acc / double(h * w));
  }
}

std::vector<int64_t> binary(BinaryOp op, const std::vector<int64_t>& a_dims, const float* a,
                            const std::vector<int64_t>& b_dims, const float* b, std::vector<float>* y) {
  const size_t rank = std::max(a_dims.size(), b_dims.size());
  std::vector<int64_t> ad(rank, 1), bd(rank, 1), od(rank);
  std::copy(a_dims.begin(), a_dims.end(), ad.begin() + (rank - a_dims.size()));
  std::copy(b_dims.begin(), b_dims.end(), bd.begin() + (rank - b_dims.size()));
  int64_t total = 1;
  for (size_t i = 0; i < rank; ++i) {
    if (ad[i] != bd[i] && ad[i] != 1 && bd[i] != 1) throw std::invalid_argument("reference binary: no broadcast");
    od[i] = std::max(ad[i], bd[i]);
    total *= od[i];
  }
  y->assign(total, 0.0f);
  std::vector<int64_t> idx(rank, 0);
  for (int64_t e = 0; e < total; ++e) {
    int64_t rem = e, ia = 0, ib = 0, sa = 1, sb = 1;
    for (size_t d = rank; d-- > 0;) {
      idx[d] = rem % od[d];
      rem /= od[d];
      ia += (ad[d] == 1 ? 0 : idx[d]) * sa;
      ib += (bd[d] == 1 ? 0 : idx[d]) * sb;
      sa *= ad[d];
      sb *= bd[d];
    }
    (*y)[e] = op == BinaryOp::add ? a[ia] + b[ib] : a[ia] * b[ib];
  }
  return od;
}

void unary(Activation act, int64_t count, const float* x, float* y) {
  for (int64_t i = 0; i < count; ++i) y[i] = apply_activation(act, x[i]);
}

namespace {
void clamp_range(Activation act, QuantParams yq, int32_t* lo, int32_t* hi) {
  auto q = [&](double v) { return int32_t(std::nearbyint(v / yq.scale)) + yq.zero_point; };
  *lo = -128;
  *hi = 127;
  if (act.kind == Activation::relu || act.kind == Activation::relu6) *lo = std::max(*lo, yq.zero_point);
  if (act.kind == Activation::relu6) *hi = std::min(*hi, q(6.0));
  if (act.kind == Activation::clip) {
    *lo = std::max(*lo, q(act.min));
    *hi = std::min(*hi, q(act.max));
  }
  if (*lo > *hi) *lo = *hi;
}

int8_t requantize(int64_t acc, float scale, QuantParams yq, int32_t lo, int32_t hi) {
  const double v = std::nearbyint(double(float(acc) * scale)) + yq.zero_point;
  return int8_t(std::min<double>(std::max<double>(v, lo), hi));
}
}  // namespace

void qconv2d(const Conv2dShape& s, const int8_t* x, const int8_t* w, const int32_t* bias, QuantParams xq,
             QuantParams wq, QuantParams yq, Activation act, int8_t* y) {
  const float scale = float(double(xq.scale) * double(wq.scale) / double(yq.scale));
  int32_t lo, hi;
  clamp_range(act, yq, &lo, &hi);
  direct_conv(
      s, [&](int64_t oc) { return int64_t(bias ? bias[oc] : 0); },
      [&](int64_t& acc, int64_t xi, int64_t wi) {
        acc += int64_t(x[xi] - xq.zero_point) * (w[wi] - wq.zero_point);  // padding is real zero
      },
      [&](int64_t acc, int64_t at) { y[at] = requantize(acc, scale, yq, lo, hi); });
}

void qgemm(const GemmShape& s, const int8_t* x, const int8_t* b, const int32_t* bias, QuantParams xq,
           QuantParams wq, QuantParams yq, Activation act, int8_t* y) {
  const float scale = float(double(xq.scale) * double(wq.scale) / double(yq.scale));
  int32_t lo, hi;
  clamp_range(act, yq, &lo, &hi);
  for (int64_t i = 0; i < s.m; ++i)
    for (int64_t j = 0; j < s.n; ++j) {
      int64_t acc = bias ? bias[j] : 0;
      for (int64_t k = 0; k < s.k; ++k)
        acc += int64_t(x[i * s.k + k] - xq.zero_point) *
               int64_t((s.trans_b ? b[j * s.k + k] : b[k * s.n + j]) - wq.zero_point);
      y[i * s.n + j] = requantize(acc, scale, yq, lo, hi);
    }
}

}  // namespace netscore::kernels::reference

// Fused CPU kernels: one pass over each parameter's memory for the hot optimizer/EMA updates.
//
// PyTorch runs AdamW as ~7 separate tensor ops (each a full read/write sweep over the parameter);
// here each element is loaded once, updated in registers and stored once, so the step moves
// 28 bytes per float32 parameter (read p, g, m, v; write p, m, v) and is bound by memory bandwidth.
//
// The arithmetic follows PyTorch 1.13's single-tensor formulas op for op, in float32 with the
// double-precision step scalars cast to float as ATen does, so results agree with torch.optim to
// float rounding (tests check ≤ 1e-5 relative over 100 steps; vectorized ATen kernels use FMA in
// places, so bit equality is not promised).
#include "shim.h"

#include <cmath>

using mls::T;

namespace {

constexpr int64_t kGrain = 1 << 15;

float* f32(void* h, int64_t n, const char* what) {
  auto& t = T(h);
  TORCH_CHECK_VALUE(t.device().is_cpu(), what, " must be on the CPU for the fused kernel");
  TORCH_CHECK_TYPE(t.scalar_type() == at::kFloat, what, " must be float32 for the fused kernel, got ",
                   t.scalar_type());
  TORCH_CHECK_VALUE(t.is_contiguous(), what, " must be contiguous for the fused kernel");
  TORCH_CHECK_VALUE(t.numel() == n, what, " has ", t.numel(), " elements, expected ", n);
  return t.data_ptr<float>();
}

// Multiversioned so the same .so uses AVX2/FMA where the CPU has it and stays portable elsewhere.
#define MLS_MULTIVERSION __attribute__((target_clones("avx2", "default")))

MLS_MULTIVERSION
void adam_range(float* __restrict p, const float* __restrict g, float* __restrict m,
                float* __restrict v, float* __restrict vmax, int64_t b, int64_t e, float decay_mul,
                float l2_wd, float beta1, float one_minus_beta1, float beta2, float one_minus_beta2,
                float bc2_sqrt, float eps, float neg_step_size, bool maximize) {
  for (int64_t i = b; i < e; ++i) {
    float grad = maximize ? -g[i] : g[i];
    float param = p[i];
    if (l2_wd != 0.0f) grad = grad + l2_wd * param;        // Adam: grad.add(param, alpha=wd)
    param = param * decay_mul;                              // AdamW: param.mul_(1 - lr*wd)
    float mi = m[i] * beta1;
    mi = mi + one_minus_beta1 * grad;                       // exp_avg.mul_(b1).add_(g, 1-b1)
    float vi = v[i] * beta2;
    vi = vi + one_minus_beta2 * grad * grad;                // exp_avg_sq.mul_(b2).addcmul_(g, g, 1-b2)
    float second = vi;
    if (vmax) {
      second = std::fmax(vmax[i], vi);                      // torch.maximum(max_sq, exp_avg_sq)
      vmax[i] = second;
    }
    float denom = std::sqrt(second) / bc2_sqrt + eps;       // (sq.sqrt() / bc2_sqrt).add_(eps)
    p[i] = param + neg_step_size * mi / denom;              // param.addcdiv_(m, denom, -step_size)
    m[i] = mi;
    v[i] = vi;
  }
}

MLS_MULTIVERSION
void sgd_range(float* __restrict p, const float* __restrict g, float* __restrict buf, int64_t b,
               int64_t e, float wd, float momentum, float one_minus_dampening, bool nesterov,
               bool first, bool maximize, float neg_lr) {
  for (int64_t i = b; i < e; ++i) {
    float d = maximize ? -g[i] : g[i];
    if (wd != 0.0f) d = d + wd * p[i];
    if (buf) {
      float bi = first ? d : buf[i] * momentum + one_minus_dampening * d;
      buf[i] = bi;
      d = nesterov ? d + momentum * bi : bi;
    }
    p[i] = p[i] + neg_lr * d;
  }
}

MLS_MULTIVERSION
void ema_range(float* __restrict shadow, const float* __restrict param, int64_t b, int64_t e,
               float decay, float one_minus_decay) {
  // torch.optim.swa_utils.AveragedModel with avg_fn = decay * avg + (1 - decay) * param.
  for (int64_t i = b; i < e; ++i) shadow[i] = decay * shadow[i] + one_minus_decay * param[i];
}

MLS_MULTIVERSION
void triad_range(float* __restrict a, const float* __restrict b, const float* __restrict c,
                 int64_t lo, int64_t hi, float s) {
  for (int64_t i = lo; i < hi; ++i) a[i] = b[i] + s * c[i];
}

}  // namespace

/// One Adam/AdamW step on a float32 CPU parameter. vmax may be null (amsgrad off). `step` is the
/// step count after increment (1 on the first step). decoupled != 0 selects AdamW's decay.
MLS_API int mls_fused_adam(void* param, void* grad, void* exp_avg, void* exp_avg_sq, void* max_sq,
                           double lr, double beta1, double beta2, double eps, double weight_decay,
                           double step, int decoupled, int maximize) {
  MLS_TRY
  const int64_t n = T(param).numel();
  float* p = f32(param, n, "param");
  const float* g = f32(grad, n, "grad");
  float* m = f32(exp_avg, n, "exp_avg");
  float* v = f32(exp_avg_sq, n, "exp_avg_sq");
  float* vm = max_sq ? f32(max_sq, n, "max_exp_avg_sq") : nullptr;
  const double bc1 = 1 - std::pow(beta1, step);
  const double bc2 = 1 - std::pow(beta2, step);
  const double step_size = lr / bc1;
  const float decay_mul = decoupled ? static_cast<float>(1 - lr * weight_decay) : 1.0f;
  const float l2 = decoupled ? 0.0f : static_cast<float>(weight_decay);
  at::parallel_for(0, n, kGrain, [&](int64_t b, int64_t e) {
    adam_range(p, g, m, v, vm, b, e, decay_mul, l2, static_cast<float>(beta1),
               static_cast<float>(1 - beta1), static_cast<float>(beta2),
               static_cast<float>(1 - beta2), static_cast<float>(std::sqrt(bc2)),
               static_cast<float>(eps), static_cast<float>(-step_size), maximize != 0);
  });
  return 0;
  MLS_CATCH_INT
}

/// One SGD step. momentum_buf may be null (momentum == 0). first != 0 initialises the buffer
/// with the gradient, as PyTorch does on the first step.
MLS_API int mls_fused_sgd(void* param, void* grad, void* momentum_buf, double lr, double momentum,
                          double dampening, double weight_decay, int nesterov, int first,
                          int maximize) {
  MLS_TRY
  const int64_t n = T(param).numel();
  float* p = f32(param, n, "param");
  const float* g = f32(grad, n, "grad");
  float* buf = momentum_buf ? f32(momentum_buf, n, "momentum_buffer") : nullptr;
  at::parallel_for(0, n, kGrain, [&](int64_t b, int64_t e) {
    sgd_range(p, g, buf, b, e, static_cast<float>(weight_decay), static_cast<float>(momentum),
              static_cast<float>(1 - dampening), nesterov != 0, first != 0, maximize != 0,
              static_cast<float>(-lr));
  });
  return 0;
  MLS_CATCH_INT
}

/// shadow = decay * shadow + (1 - decay) * param, for n tensor pairs.
MLS_API int mls_fused_ema(void** shadows, void** params, int64_t count, double decay) {
  MLS_TRY
  for (int64_t k = 0; k < count; ++k) {
    const int64_t n = T(params[k]).numel();
    float* s = f32(shadows[k], n, "ema shadow");
    const float* p = f32(params[k], n, "ema param");
    at::parallel_for(0, n, kGrain, [&](int64_t b, int64_t e) {
      ema_range(s, p, b, e, static_cast<float>(decay), static_cast<float>(1 - decay));
    });
  }
  return 0;
  MLS_CATCH_INT
}

/// a = b + s * c: the STREAM triad, used by the benchmarks to measure the bandwidth bound.
MLS_API int mls_stream_triad(void* a, void* b, void* c, double s) {
  MLS_TRY
  const int64_t n = T(a).numel();
  float* pa = f32(a, n, "a");
  const float* pb = f32(b, n, "b");
  const float* pc = f32(c, n, "c");
  at::parallel_for(0, n, kGrain,
                   [&](int64_t lo, int64_t hi) { triad_range(pa, pb, pc, lo, hi, static_cast<float>(s)); });
  return 0;
  MLS_CATCH_INT
}

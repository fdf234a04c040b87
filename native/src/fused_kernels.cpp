// Fused CPU kernels: one pass over each parameter's memory for the hot optimizer/EMA updates.
//
// PyTorch runs AdamW as ~7 separate tensor ops (each a full read/write sweep over the parameter);
// here each element is loaded once, updated in registers and stored once, so the step moves
// 28 bytes per float32 parameter (read p, g, m, v; write p, m, v) and is bound by memory bandwidth.
//
// Rounding: the arithmetic reproduces PyTorch's single-tensor formulas op for op, in float32, with
// each double-precision Python scalar cast to float as ATen casts it. Where ATen's CPU kernels fuse
// a multiply and an add (measured on the AVX2 kernels Debian 12's libtorch 1.13 dispatches to, and
// the AVX-512 ones of Debian 13's 2.6):
//   a.add_(b, alpha=s)            -> fma(b, s, a)          (vec::fmadd in add_kernel)
//   a.addcmul_(b, c, value=s)     -> fma(s * b, c, a)      (GCC contracts a + s*b*c)
//   a.lerp_(b, w), w = (float)w:  |w| < 0.5: fma(w, b - a, a), else fma(w - 1, b - a, b)
//                                 (lerp_vec in LerpKernel.cpp; the scalar tail rounds the same)
// the kernels below call std::fma explicitly, and everything else is compiled with
// -ffp-contract=off, so the fused step equals the tensor-op step bit for bit on such CPUs
// (addcdiv_ is a + (s*b)/c with no fusion). Where PyTorch 2.x changed a formula (first moments by
// lerp_, bias_correction2 ** 0.5 by pow) the `formulas` bits (MLS_FUSED_*) select the 2.x form.
// tests: Optimizers/FusedPathTests.
#include "shim.h"

#include <cmath>
#include <limits>

using mls::T;

// Bits of the `formulas` argument: PyTorch 2.x's forms where they differ from 1.13's.
constexpr int MLS_FUSED_LERP_MOMENT = 1;  // m.lerp_(g, 1 - beta) instead of m.mul_(beta).add_(g, alpha=1 - beta)
constexpr int MLS_FUSED_POW_SQRT = 2;     // bias_correction2 ** 0.5 (pow) instead of math.sqrt(bias_correction2)

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
#define MLS_MULTIVERSION __attribute__((target_clones("arch=x86-64-v3", "default")))

// torch.maximum: NaN in either operand gives NaN.
inline float maximum(float a, float b) {
  float m = a > b ? a : b;
  return std::isnan(a) ? a : m;
}

// torch.sign for floats: (0 < x) - (x < 0); NaN gives 0.
inline float sign(float x) { return static_cast<float>((0.0f < x) - (x < 0.0f)); }

// How a running average m moves towards g with weight w = 1 - beta:
//   MulAdd:    m.mul_(beta).add_(g, alpha=w)   (PyTorch 1.13)  -> fma(g, w, m*beta)
//   LerpSmall: m.lerp_(g, w) with |w| < 0.5    (PyTorch 2.x)   -> fma(w, g - m, m)
//   LerpLarge: m.lerp_(g, w) with |w| >= 0.5   (PyTorch 2.x)   -> fma(w - 1, g - m, g)
enum class Moment { MulAdd, LerpSmall, LerpLarge };

// Scalars of a moment update: beta and w as ATen casts them (w - 1 is exact in float for w >= 0.5).
struct MomentScalars {
  float beta, w, w_minus_1;
};

MomentScalars moment_scalars(double beta) {
  const float w = static_cast<float>(1 - beta);
  return {static_cast<float>(beta), w, w - 1.0f};
}

Moment moment_form(int formulas, const MomentScalars& s) {
  if (!(formulas & MLS_FUSED_LERP_MOMENT)) return Moment::MulAdd;
  return std::abs(s.w) < 0.5f ? Moment::LerpSmall : Moment::LerpLarge;
}

template <Moment Form>
inline float moment(float m, float g, const MomentScalars& s) {
  if (Form == Moment::MulAdd) return std::fma(g, s.w, m * s.beta);
  const float d = g - m;
  if (Form == Moment::LerpSmall) return std::fma(s.w, d, m);
  return std::fma(s.w_minus_1, d, g);
}

struct AdamScalars {
  float decay_mul, l2, beta2, one_minus_beta2, bc2_sqrt, eps, neg_step_size;
  MomentScalars m1;
};

template <bool Maximize, bool Amsgrad, bool Decoupled, bool L2, Moment Form>
MLS_MULTIVERSION void adam_range(float* __restrict p, const float* __restrict g, float* __restrict m,
                                 float* __restrict v, float* __restrict vmax, int64_t b, int64_t e,
                                 AdamScalars s) {
  for (int64_t i = b; i < e; ++i) {
    float grad = Maximize ? -g[i] : g[i];
    float param = p[i];
    if (L2) grad = std::fma(param, s.l2, grad);              // grad.add(param, alpha=wd)
    if (Decoupled) param = param * s.decay_mul;              // param.mul_(1 - lr*wd)
    float mi = moment<Form>(m[i], grad, s.m1);               // mul_(b1).add_(g, 1-b1) or lerp_(g, 1-b1)
    float vi = std::fma(s.one_minus_beta2 * grad, grad, v[i] * s.beta2);    // mul_(b2).addcmul_(g, g, 1-b2)
    float second = vi;
    if (Amsgrad) {
      second = maximum(vmax[i], vi);                         // torch.maximum(max_sq, sq, out=max_sq)
      vmax[i] = second;
    }
    float denom = std::sqrt(second) / s.bc2_sqrt + s.eps;    // (sq.sqrt() / bc2_sqrt).add_(eps)
    p[i] = param + (s.neg_step_size * mi) / denom;           // param.addcdiv_(m, denom, -step_size)
    m[i] = mi;
    v[i] = vi;
  }
}

template <bool Maximize, bool Amsgrad, bool Decoupled, bool L2, Moment Form>
void adam_run(float* p, const float* g, float* m, float* v, float* vm, int64_t n, const AdamScalars& s) {
  at::parallel_for(0, n, kGrain, [&](int64_t b, int64_t e) {
    adam_range<Maximize, Amsgrad, Decoupled, L2, Form>(p, g, m, v, vm, b, e, s);
  });
}

template <bool Maximize, bool Amsgrad, bool Decoupled, bool L2>
void adam_dispatch3(Moment form, float* p, const float* g, float* m, float* v, float* vm, int64_t n,
                    const AdamScalars& s) {
  switch (form) {
    case Moment::MulAdd: adam_run<Maximize, Amsgrad, Decoupled, L2, Moment::MulAdd>(p, g, m, v, vm, n, s); break;
    case Moment::LerpSmall: adam_run<Maximize, Amsgrad, Decoupled, L2, Moment::LerpSmall>(p, g, m, v, vm, n, s); break;
    case Moment::LerpLarge: adam_run<Maximize, Amsgrad, Decoupled, L2, Moment::LerpLarge>(p, g, m, v, vm, n, s); break;
  }
}

template <bool Maximize, bool Amsgrad>
void adam_dispatch2(bool decoupled, bool l2, Moment form, float* p, const float* g, float* m, float* v, float* vm,
                    int64_t n, const AdamScalars& s) {
  if (decoupled) adam_dispatch3<Maximize, Amsgrad, true, false>(form, p, g, m, v, vm, n, s);
  else if (l2) adam_dispatch3<Maximize, Amsgrad, false, true>(form, p, g, m, v, vm, n, s);
  else adam_dispatch3<Maximize, Amsgrad, false, false>(form, p, g, m, v, vm, n, s);
}

struct SgdScalars {
  float wd, momentum, one_minus_dampening, neg_lr;
};

// Mode: 0 no momentum, 1 first step (buffer = d), 2 buffer = momentum*buffer + (1-dampening)*d.
template <bool Maximize, bool WeightDecay, int Mode, bool Nesterov>
MLS_MULTIVERSION void sgd_range(float* __restrict p, const float* __restrict g, float* __restrict buf,
                                int64_t b, int64_t e, SgdScalars s) {
  for (int64_t i = b; i < e; ++i) {
    float d = Maximize ? -g[i] : g[i];
    float param = p[i];
    if (WeightDecay) d = std::fma(param, s.wd, d);                        // d_p.add(param, alpha=wd)
    if (Mode != 0) {
      float bi = Mode == 1 ? d : std::fma(d, s.one_minus_dampening, buf[i] * s.momentum);
      buf[i] = bi;
      d = Nesterov ? std::fma(bi, s.momentum, d) : bi;                   // d_p.add(buf, alpha=momentum)
    }
    p[i] = std::fma(d, s.neg_lr, param);                                 // param.add_(d_p, alpha=-lr)
  }
}

template <bool Maximize, bool WeightDecay, int Mode, bool Nesterov>
void sgd_run(float* p, const float* g, float* buf, int64_t n, const SgdScalars& s) {
  at::parallel_for(0, n, kGrain, [&](int64_t b, int64_t e) {
    sgd_range<Maximize, WeightDecay, Mode, Nesterov>(p, g, buf, b, e, s);
  });
}

template <bool Maximize, bool WeightDecay>
void sgd_dispatch(int mode, bool nesterov, float* p, const float* g, float* buf, int64_t n, const SgdScalars& s) {
  switch (mode) {
    case 0: sgd_run<Maximize, WeightDecay, 0, false>(p, g, buf, n, s); break;
    case 1:
      if (nesterov) sgd_run<Maximize, WeightDecay, 1, true>(p, g, buf, n, s);
      else sgd_run<Maximize, WeightDecay, 1, false>(p, g, buf, n, s);
      break;
    default:
      if (nesterov) sgd_run<Maximize, WeightDecay, 2, true>(p, g, buf, n, s);
      else sgd_run<Maximize, WeightDecay, 2, false>(p, g, buf, n, s);
  }
}

// Lion as lucidrains/lion-pytorch writes it:
//   p.mul_(1 - lr*wd); u = m.clone().mul_(b1).add(g, alpha=1-b1).sign_(); p.add_(u, alpha=-lr)
//   m.mul_(b2).add_(g, alpha=1-b2)
MLS_MULTIVERSION void lion_range(float* __restrict p, const float* __restrict g, float* __restrict m,
                                 int64_t b, int64_t e, float decay_mul, float beta1,
                                 float one_minus_beta1, float beta2, float one_minus_beta2,
                                 float neg_lr) {
  for (int64_t i = b; i < e; ++i) {
    const float gi = g[i];
    const float mi = m[i];
    const float param = p[i] * decay_mul;
    const float u = sign(std::fma(gi, one_minus_beta1, mi * beta1));
    p[i] = std::fma(u, neg_lr, param);
    m[i] = std::fma(gi, one_minus_beta2, mi * beta2);
  }
}

struct RmspropScalars {
  float wd, alpha, one_minus_alpha, eps, momentum, neg_lr;
  MomentScalars ga;
};

// Centered: the form of grad_avg's update, or nothing (not centered).
template <bool Maximize, bool WeightDecay, bool Centered, Moment Form, bool Momentum>
MLS_MULTIVERSION void rmsprop_range(float* __restrict p, const float* __restrict g, float* __restrict sq,
                                    float* __restrict ga, float* __restrict buf, int64_t b, int64_t e,
                                    RmspropScalars s) {
  for (int64_t i = b; i < e; ++i) {
    float grad = Maximize ? -g[i] : g[i];
    const float param = p[i];
    if (WeightDecay) grad = std::fma(param, s.wd, grad);
    const float sqi = std::fma(s.one_minus_alpha * grad, grad, sq[i] * s.alpha);  // addcmul_(g, g, 1-alpha)
    sq[i] = sqi;
    float avg;
    if (Centered) {
      const float gai = moment<Form>(ga[i], grad, s.ga);    // mul_(alpha).add_(g, 1-alpha) or lerp_(g, 1-alpha)
      ga[i] = gai;
      avg = std::sqrt(std::fma(-gai, gai, sqi));            // sq.addcmul(ga, ga, value=-1).sqrt_()
    } else {
      avg = std::sqrt(sqi);
    }
    avg = avg + s.eps;
    if (Momentum) {
      const float bi = buf[i] * s.momentum + grad / avg;    // buf.mul_(momentum).addcdiv_(g, avg)
      buf[i] = bi;
      p[i] = std::fma(bi, s.neg_lr, param);                 // param.add_(buf, alpha=-lr)
    } else {
      p[i] = param + (s.neg_lr * grad) / avg;               // param.addcdiv_(g, avg, value=-lr)
    }
  }
}

template <bool Maximize, bool WeightDecay, bool Centered, Moment Form, bool Momentum>
void rmsprop_run(float* p, const float* g, float* sq, float* ga, float* buf, int64_t n, const RmspropScalars& s) {
  at::parallel_for(0, n, kGrain, [&](int64_t b, int64_t e) {
    rmsprop_range<Maximize, WeightDecay, Centered, Form, Momentum>(p, g, sq, ga, buf, b, e, s);
  });
}

template <bool Maximize, bool WeightDecay, Moment Form>
void rmsprop_centered(bool momentum, float* p, const float* g, float* sq, float* ga, float* buf, int64_t n,
                      const RmspropScalars& s) {
  if (momentum) rmsprop_run<Maximize, WeightDecay, true, Form, true>(p, g, sq, ga, buf, n, s);
  else rmsprop_run<Maximize, WeightDecay, true, Form, false>(p, g, sq, ga, buf, n, s);
}

template <bool Maximize, bool WeightDecay>
void rmsprop_dispatch(bool centered, Moment form, bool momentum, float* p, const float* g, float* sq, float* ga,
                      float* buf, int64_t n, const RmspropScalars& s) {
  if (centered) {
    switch (form) {
      case Moment::MulAdd: rmsprop_centered<Maximize, WeightDecay, Moment::MulAdd>(momentum, p, g, sq, ga, buf, n, s); break;
      case Moment::LerpSmall: rmsprop_centered<Maximize, WeightDecay, Moment::LerpSmall>(momentum, p, g, sq, ga, buf, n, s); break;
      case Moment::LerpLarge: rmsprop_centered<Maximize, WeightDecay, Moment::LerpLarge>(momentum, p, g, sq, ga, buf, n, s); break;
    }
  } else {
    if (momentum) rmsprop_run<Maximize, WeightDecay, false, Moment::MulAdd, true>(p, g, sq, ga, buf, n, s);
    else rmsprop_run<Maximize, WeightDecay, false, Moment::MulAdd, false>(p, g, sq, ga, buf, n, s);
  }
}

template <bool Maximize, bool WeightDecay>
MLS_MULTIVERSION void adagrad_range(float* __restrict p, const float* __restrict g, float* __restrict sum,
                                    int64_t b, int64_t e, float wd, float eps, float neg_clr) {
  for (int64_t i = b; i < e; ++i) {
    float grad = Maximize ? -g[i] : g[i];
    const float param = p[i];
    if (WeightDecay) grad = std::fma(param, wd, grad);
    const float si = std::fma(grad, grad, sum[i]);          // state_sum.addcmul_(g, g, value=1)
    sum[i] = si;
    const float std_ = std::sqrt(si) + eps;                 // state_sum.sqrt().add_(eps)
    p[i] = param + (neg_clr * grad) / std_;                 // param.addcdiv_(g, std, value=-clr)
  }
}

template <bool Maximize, bool WeightDecay>
void adagrad_run(float* p, const float* g, float* sum, int64_t n, float wd, float eps, float neg_clr) {
  at::parallel_for(0, n, kGrain, [&](int64_t b, int64_t e) {
    adagrad_range<Maximize, WeightDecay>(p, g, sum, b, e, wd, eps, neg_clr);
  });
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
/// formulas: MLS_FUSED_LERP_MOMENT and MLS_FUSED_POW_SQRT select PyTorch 2.x's forms (0: 1.13's).
MLS_API int mls_fused_adam(void* param, void* grad, void* exp_avg, void* exp_avg_sq, void* max_sq,
                           double lr, double beta1, double beta2, double eps, double weight_decay,
                           double step, int decoupled, int maximize, int formulas) {
  MLS_TRY
  const int64_t n = T(param).numel();
  float* p = f32(param, n, "param");
  const float* g = f32(grad, n, "grad");
  float* m = f32(exp_avg, n, "exp_avg");
  float* v = f32(exp_avg_sq, n, "exp_avg_sq");
  float* vm = max_sq ? f32(max_sq, n, "max_exp_avg_sq") : nullptr;
  // The scalars exactly as torch/optim/adam.py and adamw.py compute them in Python (double).
  const double bc1 = 1 - std::pow(beta1, step);
  const double bc2 = 1 - std::pow(beta2, step);
  const double step_size = lr / bc1;
  AdamScalars s{};
  s.decay_mul = decoupled ? static_cast<float>(1 - lr * weight_decay) : 1.0f;
  s.l2 = static_cast<float>(weight_decay);
  s.m1 = moment_scalars(beta1);
  s.beta2 = static_cast<float>(beta2);
  s.one_minus_beta2 = static_cast<float>(1 - beta2);
  // 2.x: bias_correction2 ** 0.5 is C's pow, which differs from sqrt in the last bit for some values.
  s.bc2_sqrt = static_cast<float>((formulas & MLS_FUSED_POW_SQRT) ? std::pow(bc2, 0.5) : std::sqrt(bc2));
  s.eps = static_cast<float>(eps);
  s.neg_step_size = static_cast<float>(-step_size);
  const bool l2 = !decoupled && weight_decay != 0;
  const Moment form = moment_form(formulas, s.m1);
  if (maximize) {
    if (vm) adam_dispatch2<true, true>(decoupled, l2, form, p, g, m, v, vm, n, s);
    else adam_dispatch2<true, false>(decoupled, l2, form, p, g, m, v, vm, n, s);
  } else {
    if (vm) adam_dispatch2<false, true>(decoupled, l2, form, p, g, m, v, vm, n, s);
    else adam_dispatch2<false, false>(decoupled, l2, form, p, g, m, v, vm, n, s);
  }
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
  SgdScalars s{static_cast<float>(weight_decay), static_cast<float>(momentum),
               static_cast<float>(1 - dampening), static_cast<float>(-lr)};
  const int mode = buf == nullptr ? 0 : (first ? 1 : 2);
  const bool wd = weight_decay != 0;
  if (maximize) {
    if (wd) sgd_dispatch<true, true>(mode, nesterov != 0, p, g, buf, n, s);
    else sgd_dispatch<true, false>(mode, nesterov != 0, p, g, buf, n, s);
  } else {
    if (wd) sgd_dispatch<false, true>(mode, nesterov != 0, p, g, buf, n, s);
    else sgd_dispatch<false, false>(mode, nesterov != 0, p, g, buf, n, s);
  }
  return 0;
  MLS_CATCH_INT
}

/// One Lion step (lucidrains/lion-pytorch update_fn): decoupled decay, sign update, momentum.
MLS_API int mls_fused_lion(void* param, void* grad, void* exp_avg, double lr, double beta1, double beta2,
                           double weight_decay) {
  MLS_TRY
  const int64_t n = T(param).numel();
  float* p = f32(param, n, "param");
  const float* g = f32(grad, n, "grad");
  float* m = f32(exp_avg, n, "exp_avg");
  const float decay_mul = static_cast<float>(1. - lr * weight_decay);
  at::parallel_for(0, n, kGrain, [&](int64_t b, int64_t e) {
    lion_range(p, g, m, b, e, decay_mul, static_cast<float>(beta1), static_cast<float>(1. - beta1),
               static_cast<float>(beta2), static_cast<float>(1. - beta2), static_cast<float>(-lr));
  });
  return 0;
  MLS_CATCH_INT
}

/// One RMSprop step (torch 1.13 and 2.x _single_tensor_rmsprop). grad_avg is null unless centered;
/// momentum_buf is null unless momentum > 0. formulas: MLS_FUSED_LERP_MOMENT selects 2.x's
/// grad_avg.lerp_(grad, 1 - alpha) (0: 1.13's mul_/add_).
MLS_API int mls_fused_rmsprop(void* param, void* grad, void* square_avg, void* grad_avg, void* momentum_buf,
                              double lr, double alpha, double eps, double weight_decay, double momentum,
                              int maximize, int formulas) {
  MLS_TRY
  const int64_t n = T(param).numel();
  float* p = f32(param, n, "param");
  const float* g = f32(grad, n, "grad");
  float* sq = f32(square_avg, n, "square_avg");
  float* ga = grad_avg ? f32(grad_avg, n, "grad_avg") : nullptr;
  float* buf = momentum_buf ? f32(momentum_buf, n, "momentum_buffer") : nullptr;
  RmspropScalars s{static_cast<float>(weight_decay), static_cast<float>(alpha), static_cast<float>(1 - alpha),
                   static_cast<float>(eps), static_cast<float>(momentum), static_cast<float>(-lr),
                   moment_scalars(alpha)};
  const bool wd = weight_decay != 0;
  const bool centered = ga != nullptr, mom = buf != nullptr;
  const Moment form = moment_form(formulas, s.ga);
  if (maximize) {
    if (wd) rmsprop_dispatch<true, true>(centered, form, mom, p, g, sq, ga, buf, n, s);
    else rmsprop_dispatch<true, false>(centered, form, mom, p, g, sq, ga, buf, n, s);
  } else {
    if (wd) rmsprop_dispatch<false, true>(centered, form, mom, p, g, sq, ga, buf, n, s);
    else rmsprop_dispatch<false, false>(centered, form, mom, p, g, sq, ga, buf, n, s);
  }
  return 0;
  MLS_CATCH_INT
}

/// One dense Adagrad step (torch 1.13 _single_tensor_adagrad); clr = lr / (1 + (step - 1) * lr_decay).
MLS_API int mls_fused_adagrad(void* param, void* grad, void* state_sum, double clr, double eps,
                              double weight_decay, int maximize) {
  MLS_TRY
  const int64_t n = T(param).numel();
  float* p = f32(param, n, "param");
  const float* g = f32(grad, n, "grad");
  float* sum = f32(state_sum, n, "sum");
  const float wd = static_cast<float>(weight_decay), e = static_cast<float>(eps), c = static_cast<float>(-clr);
  if (maximize) {
    if (weight_decay != 0) adagrad_run<true, true>(p, g, sum, n, wd, e, c);
    else adagrad_run<true, false>(p, g, sum, n, wd, e, c);
  } else {
    if (weight_decay != 0) adagrad_run<false, true>(p, g, sum, n, wd, e, c);
    else adagrad_run<false, false>(p, g, sum, n, wd, e, c);
  }
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

// Elementwise, reduction, linear-algebra, multi-tensor (foreach) and sparse ops.
//
// Elementwise ops are dispatched by op code to keep the ABI small; the codes are mirrored by
// MLLrSched.Torch.Native.UnaryOp / BinaryOp / ReduceOp on the managed side. Append new codes at
// the end of each enum: the numbers are part of the ABI.
#include "shim.h"

using mls::T;
using mls::wrap;

namespace {

enum UnaryOp : int {
  U_NEG = 0, U_ABS, U_SQRT, U_RSQRT, U_EXP, U_LOG, U_SIGN, U_RECIPROCAL, U_SQUARE, U_SIGMOID,
  U_TANH, U_RELU, U_GELU, U_SILU, U_FLOOR, U_CEIL, U_ROUND, U_LOG1P, U_EXPM1, U_SIN, U_COS,
  U_ISNAN, U_ISFINITE, U_LOGICAL_NOT, U_ZERO, U_ERF, U_TRUNC, U_GELU_TANH, U_ISINF, U_LOG2,
  U_SOFTPLUS, U_ELU, U_LEAKY_RELU, U_MISH, U_HARDSWISH, U_CONJ, U_SIGNBIT
};

at::Tensor unary(int op, const at::Tensor& a) {
  switch (op) {
    case U_NEG: return a.neg();
    case U_ABS: return a.abs();
    case U_SQRT: return a.sqrt();
    case U_RSQRT: return a.rsqrt();
    case U_EXP: return a.exp();
    case U_LOG: return a.log();
    case U_SIGN: return a.sign();
    case U_RECIPROCAL: return a.reciprocal();
    case U_SQUARE: return a.square();
    case U_SIGMOID: return a.sigmoid();
    case U_TANH: return a.tanh();
    case U_RELU: return a.relu();
    case U_GELU: return at::gelu(a);
    case U_SILU: return at::silu(a);
    case U_FLOOR: return a.floor();
    case U_CEIL: return a.ceil();
    case U_ROUND: return a.round();
    case U_LOG1P: return a.log1p();
    case U_EXPM1: return a.expm1();
    case U_SIN: return a.sin();
    case U_COS: return a.cos();
    case U_ISNAN: return a.isnan();
    case U_ISFINITE: return a.isfinite();
    case U_LOGICAL_NOT: return a.logical_not();
    case U_ZERO: return at::zeros_like(a);
    case U_ERF: return a.erf();
    case U_TRUNC: return a.trunc();
    case U_GELU_TANH: return at::gelu(a, "tanh");
    case U_ISINF: return a.isinf();
    case U_LOG2: return a.log2();
    case U_SOFTPLUS: return at::softplus(a);
    case U_ELU: return at::elu(a);
    case U_LEAKY_RELU: return at::leaky_relu(a);
    case U_MISH: return at::mish(a);
    case U_HARDSWISH: return at::hardswish(a);
    case U_CONJ: return a.conj();
    case U_SIGNBIT: return a.signbit();
  }
  TORCH_CHECK_VALUE(false, "unknown unary op ", op);
}

void unary_(int op, at::Tensor& a) {
  switch (op) {
    case U_NEG: a.neg_(); return;
    case U_ABS: a.abs_(); return;
    case U_SQRT: a.sqrt_(); return;
    case U_RSQRT: a.rsqrt_(); return;
    case U_EXP: a.exp_(); return;
    case U_LOG: a.log_(); return;
    case U_SIGN: a.sign_(); return;
    case U_RECIPROCAL: a.reciprocal_(); return;
    case U_SQUARE: a.square_(); return;
    case U_SIGMOID: a.sigmoid_(); return;
    case U_TANH: a.tanh_(); return;
    case U_RELU: a.relu_(); return;
    case U_GELU: a.copy_(at::gelu(a)); return;
    case U_SILU: at::silu_(a); return;
    case U_FLOOR: a.floor_(); return;
    case U_CEIL: a.ceil_(); return;
    case U_ROUND: a.round_(); return;
    case U_LOG1P: a.log1p_(); return;
    case U_EXPM1: a.expm1_(); return;
    case U_SIN: a.sin_(); return;
    case U_COS: a.cos_(); return;
    case U_ZERO: a.zero_(); return;
    case U_ERF: a.erf_(); return;
    case U_TRUNC: a.trunc_(); return;
    case U_LOG2: a.log2_(); return;
  }
  TORCH_CHECK_VALUE(false, "unary op ", op, " has no in-place form");
}

enum BinaryOp : int {
  B_ADD = 0, B_SUB, B_MUL, B_DIV, B_POW, B_MAXIMUM, B_MINIMUM, B_EQ, B_NE, B_LT, B_LE, B_GT, B_GE,
  B_ATAN2, B_FMOD, B_REMAINDER, B_LOGICAL_AND, B_LOGICAL_OR, B_FLOOR_DIVIDE, B_MATMUL, B_MM,
  B_DOT, B_OUTER, B_BMM, B_RSUB, B_HYPOT, B_COPYSIGN
};

at::Tensor binary(int op, const at::Tensor& a, const at::Tensor& b, const at::Scalar& alpha) {
  switch (op) {
    case B_ADD: return at::add(a, b, alpha);
    case B_SUB: return at::sub(a, b, alpha);
    case B_MUL: return at::mul(a, b);
    case B_DIV: return at::div(a, b);
    case B_POW: return at::pow(a, b);
    case B_MAXIMUM: return at::maximum(a, b);
    case B_MINIMUM: return at::minimum(a, b);
    case B_EQ: return at::eq(a, b);
    case B_NE: return at::ne(a, b);
    case B_LT: return at::lt(a, b);
    case B_LE: return at::le(a, b);
    case B_GT: return at::gt(a, b);
    case B_GE: return at::ge(a, b);
    case B_ATAN2: return at::atan2(a, b);
    case B_FMOD: return at::fmod(a, b);
    case B_REMAINDER: return at::remainder(a, b);
    case B_LOGICAL_AND: return at::logical_and(a, b);
    case B_LOGICAL_OR: return at::logical_or(a, b);
    case B_FLOOR_DIVIDE: return at::div(a, b, "floor");
    case B_MATMUL: return at::matmul(a, b);
    case B_MM: return at::mm(a, b);
    case B_DOT: return at::dot(a, b);
    case B_OUTER: return at::outer(a, b);
    case B_BMM: return at::bmm(a, b);
    case B_RSUB: return at::rsub(a, b, alpha);
    case B_HYPOT: return at::hypot(a, b);
    case B_COPYSIGN: return at::copysign(a, b);
  }
  TORCH_CHECK_VALUE(false, "unknown binary op ", op);
}

void binary_(int op, at::Tensor& a, const at::Tensor& b, const at::Scalar& alpha) {
  switch (op) {
    case B_ADD: a.add_(b, alpha); return;
    case B_SUB: a.sub_(b, alpha); return;
    case B_MUL: a.mul_(b); return;
    case B_DIV: a.div_(b); return;
    case B_POW: a.pow_(b); return;
    case B_MAXIMUM: at::maximum_out(a, a, b); return;
    case B_MINIMUM: at::minimum_out(a, a, b); return;
    case B_ATAN2: a.atan2_(b); return;
    case B_FMOD: a.fmod_(b); return;
    case B_REMAINDER: a.remainder_(b); return;
    case B_FLOOR_DIVIDE: a.div_(b, "floor"); return;
    case B_HYPOT: a.hypot_(b); return;
    case B_COPYSIGN: a.copysign_(b); return;
  }
  TORCH_CHECK_VALUE(false, "binary op ", op, " has no in-place form");
}

at::Tensor binary_scalar(int op, const at::Tensor& a, const at::Scalar& s) {
  switch (op) {
    case B_ADD: return at::add(a, s);
    case B_SUB: return at::sub(a, s);
    case B_MUL: return at::mul(a, s);
    case B_DIV: return at::div(a, s);
    case B_POW: return at::pow(a, s);
    case B_MAXIMUM: return at::clamp_min(a, s);
    case B_MINIMUM: return at::clamp_max(a, s);
    case B_EQ: return at::eq(a, s);
    case B_NE: return at::ne(a, s);
    case B_LT: return at::lt(a, s);
    case B_LE: return at::le(a, s);
    case B_GT: return at::gt(a, s);
    case B_GE: return at::ge(a, s);
    case B_FMOD: return at::fmod(a, s);
    case B_REMAINDER: return at::remainder(a, s);
    case B_FLOOR_DIVIDE: return at::div(a, at::scalar_tensor(s, a.options()), "floor");
    case B_RSUB: return at::rsub(a, s);
  }
  TORCH_CHECK_VALUE(false, "binary op ", op, " has no tensor-scalar form");
}

void binary_scalar_(int op, at::Tensor& a, const at::Scalar& s) {
  switch (op) {
    case B_ADD: a.add_(s); return;
    case B_SUB: a.sub_(s); return;
    case B_MUL: a.mul_(s); return;
    case B_DIV: a.div_(s); return;
    case B_POW: a.pow_(s); return;
    case B_MAXIMUM: a.clamp_min_(s); return;
    case B_MINIMUM: a.clamp_max_(s); return;
    case B_FMOD: a.fmod_(s); return;
    case B_REMAINDER: a.remainder_(s); return;
  }
  TORCH_CHECK_VALUE(false, "binary op ", op, " has no in-place tensor-scalar form");
}

enum ReduceOp : int {
  R_SUM = 0, R_MEAN, R_AMAX, R_AMIN, R_PROD, R_ALL, R_ANY, R_LOGSUMEXP, R_ARGMAX, R_ARGMIN,
  R_VAR, R_STD, R_VAR_BIASED, R_STD_BIASED, R_COUNT_NONZERO
};

}  // namespace

// ---------------------------------------------------------------- elementwise

MLS_API void* mls_unary(int op, void* a) {
  MLS_TRY return wrap(unary(op, T(a))); MLS_CATCH(nullptr)
}
MLS_API int mls_unary_(int op, void* a) {
  MLS_TRY unary_(op, T(a)); return 0; MLS_CATCH_INT
}
MLS_API void* mls_binary(int op, void* a, void* b, mls::Scalar alpha) {
  MLS_TRY return wrap(binary(op, T(a), T(b), mls::to_scalar(alpha))); MLS_CATCH(nullptr)
}
MLS_API int mls_binary_(int op, void* a, void* b, mls::Scalar alpha) {
  MLS_TRY binary_(op, T(a), T(b), mls::to_scalar(alpha)); return 0; MLS_CATCH_INT
}
MLS_API void* mls_binary_scalar(int op, void* a, mls::Scalar s) {
  MLS_TRY return wrap(binary_scalar(op, T(a), mls::to_scalar(s))); MLS_CATCH(nullptr)
}
MLS_API int mls_binary_scalar_(int op, void* a, mls::Scalar s) {
  MLS_TRY binary_scalar_(op, T(a), mls::to_scalar(s)); return 0; MLS_CATCH_INT
}

/// self + value * t1 * t2 (inplace != 0: into self)
MLS_API void* mls_addcmul(void* self, void* t1, void* t2, double value, int inplace) {
  MLS_TRY
  if (inplace) { T(self).addcmul_(T(t1), T(t2), value); return self; }
  return wrap(at::addcmul(T(self), T(t1), T(t2), value));
  MLS_CATCH(nullptr)
}
/// self + value * t1 / t2
MLS_API void* mls_addcdiv(void* self, void* t1, void* t2, double value, int inplace) {
  MLS_TRY
  if (inplace) { T(self).addcdiv_(T(t1), T(t2), value); return self; }
  return wrap(at::addcdiv(T(self), T(t1), T(t2), value));
  MLS_CATCH(nullptr)
}
/// self + weight * (end - self); weight is a tensor when weight_t is non-null, else `weight`.
MLS_API void* mls_lerp(void* self, void* end, double weight, void* weight_t, int inplace) {
  MLS_TRY
  if (inplace) {
    if (weight_t) T(self).lerp_(T(end), T(weight_t));
    else T(self).lerp_(T(end), weight);
    return self;
  }
  return wrap(weight_t ? at::lerp(T(self), T(end), T(weight_t)) : at::lerp(T(self), T(end), weight));
  MLS_CATCH(nullptr)
}
/// clamp with optional bounds (has_min/has_max flags).
MLS_API void* mls_clamp(void* self, int has_min, double min, int has_max, double max, int inplace) {
  MLS_TRY
  c10::optional<at::Scalar> lo = has_min ? c10::optional<at::Scalar>(min) : c10::nullopt;
  c10::optional<at::Scalar> hi = has_max ? c10::optional<at::Scalar>(max) : c10::nullopt;
  if (inplace) { T(self).clamp_(lo, hi); return self; }
  return wrap(at::clamp(T(self), lo, hi));
  MLS_CATCH(nullptr)
}
MLS_API void* mls_where(void* cond, void* a, void* b) {
  MLS_TRY return wrap(at::where(T(cond), T(a), T(b))); MLS_CATCH(nullptr)
}
/// beta * self + alpha * (m1 @ m2)
MLS_API void* mls_addmm(void* self, void* m1, void* m2, double beta, double alpha) {
  MLS_TRY return wrap(at::addmm(T(self), T(m1), T(m2), beta, alpha)); MLS_CATCH(nullptr)
}
MLS_API void* mls_pow_scalar_base(double base, void* exponent) {
  MLS_TRY return wrap(at::pow(base, T(exponent))); MLS_CATCH(nullptr)
}
MLS_API void* mls_nan_to_num(void* self, double nan, double posinf, double neginf) {
  MLS_TRY return wrap(at::nan_to_num(T(self), nan, posinf, neginf)); MLS_CATCH(nullptr)
}
MLS_API int mls_allclose(void* a, void* b, double rtol, double atol, int equal_nan) {
  MLS_TRY return at::allclose(T(a), T(b), rtol, atol, equal_nan != 0) ? 1 : 0; MLS_CATCH(-1)
}
MLS_API int mls_equal(void* a, void* b) {
  MLS_TRY return at::equal(T(a), T(b)) ? 1 : 0; MLS_CATCH(-1)
}

// ---------------------------------------------------------------- reductions

/// Reduces over `dims` (all dims when ndims == 0). dtype >= 0 sets the accumulation/output dtype
/// (sum/mean/prod only).
MLS_API void* mls_reduce(int op, void* a, const int64_t* dims, int ndims, int keepdim, int dtype) {
  MLS_TRY
  auto& t = T(a);
  at::IntArrayRef d(dims, static_cast<size_t>(ndims));
  const bool all = ndims == 0;
  const bool kd = keepdim != 0;
  c10::optional<at::ScalarType> dt =
      dtype >= 0 ? c10::optional<at::ScalarType>(static_cast<at::ScalarType>(dtype)) : c10::nullopt;
  switch (op) {
    case R_SUM: return wrap(all ? t.sum(dt) : t.sum(d, kd, dt));
    case R_MEAN: return wrap(all ? t.mean(dt) : t.mean(d, kd, dt));
    case R_AMAX: return wrap(all ? t.max() : t.amax(d, kd));
    case R_AMIN: return wrap(all ? t.min() : t.amin(d, kd));
    case R_PROD:
      TORCH_CHECK_VALUE(ndims <= 1, "prod reduces over one dimension at a time");
      return wrap(all ? t.prod(dt) : t.prod(d[0], kd, dt));
    case R_ALL:
      TORCH_CHECK_VALUE(ndims <= 1, "all reduces over one dimension at a time");
      return wrap(all ? t.all() : t.all(d[0], kd));
    case R_ANY:
      TORCH_CHECK_VALUE(ndims <= 1, "any reduces over one dimension at a time");
      return wrap(all ? t.any() : t.any(d[0], kd));
    case R_LOGSUMEXP:
      return wrap(at::logsumexp(t, all ? at::IntArrayRef() : d, kd));
    case R_ARGMAX:
      TORCH_CHECK_VALUE(ndims <= 1, "argmax takes one dimension");
      return wrap(all ? t.argmax() : t.argmax(d[0], kd));
    case R_ARGMIN:
      TORCH_CHECK_VALUE(ndims <= 1, "argmin takes one dimension");
      return wrap(all ? t.argmin() : t.argmin(d[0], kd));
    case R_VAR: return wrap(all ? t.var(true) : t.var(d, true, kd));
    case R_STD: return wrap(all ? t.std(true) : t.std(d, true, kd));
    case R_VAR_BIASED: return wrap(all ? t.var(false) : t.var(d, false, kd));
    case R_STD_BIASED: return wrap(all ? t.std(false) : t.std(d, false, kd));
    case R_COUNT_NONZERO: return wrap(all ? at::count_nonzero(t) : at::count_nonzero(t, d));
  }
  TORCH_CHECK_VALUE(false, "unknown reduce op ", op);
  MLS_CATCH(nullptr)
}

/// p-norm over dims (all when ndims == 0); p may be +inf / -inf.
MLS_API void* mls_norm(void* a, double p, const int64_t* dims, int ndims, int keepdim) {
  MLS_TRY
  if (ndims == 0) return wrap(at::linalg_vector_norm(T(a), p));
  return wrap(at::linalg_vector_norm(T(a), p, at::IntArrayRef(dims, ndims), keepdim != 0));
  MLS_CATCH(nullptr)
}

/// max/min along one dim with indices. op: 0 max, 1 min, 2 sort ascending, 3 sort descending,
/// 4 topk(k = extra, largest).
MLS_API int mls_values_indices(int op, void* a, int64_t dim, int keepdim, int64_t extra,
                               void** values, void** indices) {
  MLS_TRY
  std::tuple<at::Tensor, at::Tensor> r;
  switch (op) {
    case 0: r = T(a).max(dim, keepdim != 0); break;
    case 1: r = T(a).min(dim, keepdim != 0); break;
    case 2: r = T(a).sort(dim, false); break;
    case 3: r = T(a).sort(dim, true); break;
    case 4: r = T(a).topk(extra, dim, true, true); break;
    default: TORCH_CHECK_VALUE(false, "unknown values/indices op ", op);
  }
  *values = wrap(std::get<0>(r));
  *indices = wrap(std::get<1>(r));
  return 0;
  MLS_CATCH_INT
}

// ---------------------------------------------------------------- multi-tensor (foreach)

/// In-place foreach ops over n tensors. op: 0 add_(list b, alpha), 1 mul_(list b), 2 div_(list b),
/// 3 add_(scalar), 4 mul_(scalar), 5 div_(scalar), 6 sqrt_, 7 zero_, 8 maximum_(list b)
/// (in place via copy), 9 addcmul_(b, c, scalar), 10 addcdiv_(b, c, scalar), 11 neg_
MLS_API int mls_foreach_(int op, void** a, void** b, void** c, int64_t n, double scalar) {
  MLS_TRY
  auto A = mls::tensor_list(a, n);
  switch (op) {
    case 0: at::_foreach_add_(A, mls::tensor_list(b, n), scalar); return 0;
    case 1: at::_foreach_mul_(A, mls::tensor_list(b, n)); return 0;
    case 2: at::_foreach_div_(A, mls::tensor_list(b, n)); return 0;
    case 3: at::_foreach_add_(A, scalar); return 0;
    case 4: at::_foreach_mul_(A, scalar); return 0;
    case 5: at::_foreach_div_(A, scalar); return 0;
    case 6: at::_foreach_sqrt_(A); return 0;
    case 7: at::_foreach_zero_(A); return 0;
    case 8: {
      auto m = at::_foreach_maximum(A, mls::tensor_list(b, n));
      for (int64_t i = 0; i < n; ++i) A[i].copy_(m[i]);
      return 0;
    }
    case 9: at::_foreach_addcmul_(A, mls::tensor_list(b, n), mls::tensor_list(c, n), scalar); return 0;
    case 10: at::_foreach_addcdiv_(A, mls::tensor_list(b, n), mls::tensor_list(c, n), scalar); return 0;
    case 11: at::_foreach_neg_(A); return 0;
  }
  TORCH_CHECK_VALUE(false, "unknown foreach op ", op);
  MLS_CATCH_INT
}

/// Out-of-place foreach ops writing n new handles to `out`. op: 0 sqrt, 1 norm(p = scalar),
/// 2 add(list b, alpha = scalar), 3 mul(scalar), 4 div(list b), 5 abs
MLS_API int mls_foreach(int op, void** a, void** b, int64_t n, double scalar, void** out) {
  MLS_TRY
  auto A = mls::tensor_list(a, n);
  std::vector<at::Tensor> r;
  switch (op) {
    case 0: r = at::_foreach_sqrt(A); break;
    case 1: r = at::_foreach_norm(A, scalar); break;
    case 2: r = at::_foreach_add(A, mls::tensor_list(b, n), scalar); break;
    case 3: r = at::_foreach_mul(A, scalar); break;
    case 4: r = at::_foreach_div(A, mls::tensor_list(b, n)); break;
    case 5: r = at::_foreach_abs(A); break;
    default: TORCH_CHECK_VALUE(false, "unknown foreach op ", op);
  }
  for (int64_t i = 0; i < n; ++i) out[i] = wrap(r[static_cast<size_t>(i)]);
  return 0;
  MLS_CATCH_INT
}

// ---------------------------------------------------------------- sparse

MLS_API void* mls_sparse_coo(void* indices, void* values, const int64_t* shape, int ndim) {
  MLS_TRY
  return wrap(at::sparse_coo_tensor(T(indices), T(values), at::IntArrayRef(shape, ndim)));
  MLS_CATCH(nullptr)
}
/// op: 0 coalesce, 1 _indices, 2 _values, 3 to_dense, 4 indices (coalesced only), 5 values
MLS_API void* mls_sparse_op(int op, void* a) {
  MLS_TRY
  switch (op) {
    case 0: return wrap(T(a).coalesce());
    case 1: return wrap(T(a)._indices());
    case 2: return wrap(T(a)._values());
    case 3: return wrap(T(a).to_dense());
    case 4: return wrap(T(a).indices());
    case 5: return wrap(T(a).values());
  }
  TORCH_CHECK_VALUE(false, "unknown sparse op ", op);
  MLS_CATCH(nullptr)
}
MLS_API void* mls_sparse_mask(void* dense, void* mask) {
  MLS_TRY return wrap(T(dense).sparse_mask(T(mask))); MLS_CATCH(nullptr)
}
MLS_API int mls_sparse_is_coalesced(void* a) {
  MLS_TRY return T(a).is_coalesced() ? 1 : 0; MLS_CATCH(-1)
}

// ---------------------------------------------------------------- diagnostics

/// Runs `iterations` out-of-place adds in C++ and returns the elapsed nanoseconds: the libtorch-only
/// cost of a small op, against which the benchmarks measure the binding's (and Python's) per-call overhead.
MLS_API int64_t mls_diag_add_loop(void* a, void* b, int64_t iterations) {
  MLS_TRY
  const auto start = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < iterations; ++i) {
    at::Tensor c = at::add(T(a), T(b));
  }
  const auto end = std::chrono::steady_clock::now();
  return std::chrono::duration_cast<std::chrono::nanoseconds>(end - start).count();
  MLS_CATCH(-1)
}

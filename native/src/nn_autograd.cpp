// Autograd entry points and the functional neural-network ops the modules are built from.
#include "shim.h"

using mls::T;
using mls::wrap;

namespace {
c10::optional<at::Tensor> opt(void* h) {
  if (!h) return c10::nullopt;
  return T(h);
}
// ATen's loss "reduction" codes: 0 none, 1 mean, 2 sum (at::Reduction::Reduction).
}  // namespace

// ---------------------------------------------------------------- autograd

MLS_API int mls_requires_grad(void* h) { return T(h).requires_grad() ? 1 : 0; }
MLS_API int mls_set_requires_grad(void* h, int value) {
  MLS_TRY T(h).set_requires_grad(value != 0); return 0; MLS_CATCH_INT
}
MLS_API int mls_is_leaf(void* h) { return T(h).is_leaf() ? 1 : 0; }
MLS_API int mls_retain_grad(void* h) {
  MLS_TRY T(h).retain_grad(); return 0; MLS_CATCH_INT
}
/// Name of the node that created the tensor ("" for leaves).
MLS_API const char* mls_grad_fn_name(void* h) {
  static thread_local std::string name;
  MLS_TRY
  auto fn = T(h).grad_fn();
  name = fn ? fn->name() : "";
  // C++ reports the qualified name (torch::autograd::generated::MulBackward0); Python shows the last part.
  const auto pos = name.rfind("::");
  if (pos != std::string::npos) name = name.substr(pos + 2);
  return name.c_str();
  MLS_CATCH(nullptr)
}

/// loss.backward(grad, retain_graph, create_graph). grad may be null for scalar outputs.
MLS_API int mls_backward(void* h, void* grad, int retain_graph, int create_graph) {
  MLS_TRY
  T(h).backward(grad ? T(grad) : at::Tensor(), retain_graph != 0, create_graph != 0);
  return 0;
  MLS_CATCH_INT
}

/// The accumulated .grad (a new handle sharing it), or null with *defined = 0 when it is None.
MLS_API void* mls_grad(void* h, int* defined) {
  MLS_TRY
  const auto& g = T(h).grad();
  *defined = g.defined() ? 1 : 0;
  return g.defined() ? wrap(g) : nullptr;
  MLS_CATCH(nullptr)
}
/// Sets .grad to `grad`, or to None when grad is null.
MLS_API int mls_set_grad(void* h, void* grad) {
  MLS_TRY
  T(h).mutable_grad() = grad ? T(grad) : at::Tensor();
  return 0;
  MLS_CATCH_INT
}

MLS_API int mls_grad_enabled() { return c10::GradMode::is_enabled() ? 1 : 0; }
MLS_API void mls_set_grad_enabled(int enabled) { c10::GradMode::set_enabled(enabled != 0); }

// ---------------------------------------------------------------- functional nn

MLS_API void* mls_linear(void* x, void* w, void* b) {
  MLS_TRY return wrap(at::linear(T(x), T(w), opt(b))); MLS_CATCH(nullptr)
}

/// conv2d with 2-element stride/padding/dilation arrays.
MLS_API void* mls_conv2d(void* x, void* w, void* b, const int64_t* stride, const int64_t* padding,
                         const int64_t* dilation, int64_t groups) {
  MLS_TRY
  return wrap(at::conv2d(T(x), T(w), opt(b), at::IntArrayRef(stride, 2), at::IntArrayRef(padding, 2),
                         at::IntArrayRef(dilation, 2), groups));
  MLS_CATCH(nullptr)
}

/// kind: 0 max_pool2d, 1 avg_pool2d (count_include_pad = true, as PyTorch's default)
MLS_API void* mls_pool2d(int kind, void* x, const int64_t* kernel, const int64_t* stride,
                         const int64_t* padding, const int64_t* dilation, int ceil_mode) {
  MLS_TRY
  at::IntArrayRef k(kernel, 2), s(stride, 2), p(padding, 2), d(dilation, 2);
  if (kind == 0) return wrap(at::max_pool2d(T(x), k, s, p, d, ceil_mode != 0));
  if (kind == 1) return wrap(at::avg_pool2d(T(x), k, s, p, ceil_mode != 0, true));
  TORCH_CHECK_VALUE(false, "unknown pool kind ", kind);
  MLS_CATCH(nullptr)
}

MLS_API void* mls_adaptive_avg_pool2d(void* x, int64_t oh, int64_t ow) {
  MLS_TRY return wrap(at::adaptive_avg_pool2d(T(x), {oh, ow})); MLS_CATCH(nullptr)
}

/// Dropout: zeroes with probability p and scales by 1/(1-p) in training; identity otherwise.
/// Draws from libtorch's default generator (seeded by mls_manual_seed).
MLS_API void* mls_dropout(void* x, double p, int train) {
  MLS_TRY return wrap(at::dropout(T(x), p, train != 0)); MLS_CATCH(nullptr)
}

MLS_API void* mls_layer_norm(void* x, const int64_t* shape, int ndim, void* w, void* b, double eps) {
  MLS_TRY
  return wrap(at::layer_norm(T(x), at::IntArrayRef(shape, ndim), opt(w), opt(b), eps));
  MLS_CATCH(nullptr)
}

/// batch_norm; in training mode running_mean/var (if given) are updated in place.
MLS_API void* mls_batch_norm(void* x, void* w, void* b, void* running_mean, void* running_var,
                             int training, double momentum, double eps) {
  MLS_TRY
  return wrap(at::batch_norm(T(x), opt(w), opt(b), opt(running_mean), opt(running_var),
                             training != 0, momentum, eps, /*cudnn_enabled=*/true));
  MLS_CATCH(nullptr)
}

MLS_API void* mls_embedding(void* weight, void* indices, int64_t padding_idx, int scale_grad,
                            int sparse) {
  MLS_TRY
  return wrap(at::embedding(T(weight), T(indices), padding_idx, scale_grad != 0, sparse != 0));
  MLS_CATCH(nullptr)
}

/// kind: 0 log_softmax, 1 softmax
MLS_API void* mls_softmax(int kind, void* x, int64_t dim) {
  MLS_TRY
  return wrap(kind == 0 ? at::log_softmax(T(x), dim) : at::softmax(T(x), dim));
  MLS_CATCH(nullptr)
}

MLS_API void* mls_cross_entropy(void* input, void* target, void* weight, int reduction,
                                int64_t ignore_index, double label_smoothing) {
  MLS_TRY
  return wrap(at::cross_entropy_loss(T(input), T(target), opt(weight), reduction, ignore_index,
                                     label_smoothing));
  MLS_CATCH(nullptr)
}

MLS_API void* mls_nll_loss(void* input, void* target, void* weight, int reduction,
                           int64_t ignore_index) {
  MLS_TRY
  return wrap(at::nll_loss_nd(T(input), T(target), opt(weight), reduction, ignore_index));
  MLS_CATCH(nullptr)
}

/// kind: 0 mse, 1 l1, 2 smooth_l1 (beta), 3 huber (delta = beta)
MLS_API void* mls_regression_loss(int kind, void* input, void* target, int reduction, double beta) {
  MLS_TRY
  switch (kind) {
    case 0: return wrap(at::mse_loss(T(input), T(target), reduction));
    case 1: return wrap(at::l1_loss(T(input), T(target), reduction));
    case 2: return wrap(at::smooth_l1_loss(T(input), T(target), reduction, beta));
    case 3: return wrap(at::huber_loss(T(input), T(target), reduction, beta));
  }
  TORCH_CHECK_VALUE(false, "unknown regression loss ", kind);
  MLS_CATCH(nullptr)
}

MLS_API void* mls_bce_with_logits(void* input, void* target, void* weight, void* pos_weight,
                                  int reduction) {
  MLS_TRY
  return wrap(at::binary_cross_entropy_with_logits(T(input), T(target), opt(weight), opt(pos_weight),
                                                   reduction));
  MLS_CATCH(nullptr)
}

MLS_API void* mls_one_hot(void* indices, int64_t num_classes) {
  MLS_TRY return wrap(at::one_hot(T(indices), num_classes)); MLS_CATCH(nullptr)
}

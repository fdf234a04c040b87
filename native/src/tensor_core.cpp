// Tensor lifecycle, creation, properties, shape and indexing ops; generators, threads, devices.
#include "shim.h"

#include <sstream>

namespace mls {

namespace {
thread_local std::string g_error;
thread_local int g_error_kind = 0;
}  // namespace

void set_error(int kind, const char* message) {
  g_error_kind = kind;
  g_error = message ? message : "";
}

int classify(const c10::Error& e) {
  if (dynamic_cast<const c10::OutOfMemoryError*>(&e)) return kOutOfMemory;
  if (dynamic_cast<const c10::IndexError*>(&e)) return kIndex;
  if (dynamic_cast<const c10::ValueError*>(&e)) return kValue;
  if (dynamic_cast<const c10::TypeError*>(&e)) return kType;
  if (dynamic_cast<const c10::NotImplementedError*>(&e)) return kNotImplemented;
  // The CPU allocator reports failure as a plain c10::Error.
  const std::string msg = e.what_without_backtrace();
  if (msg.find("can't allocate memory") != std::string::npos ||
      msg.find("out of memory") != std::string::npos)
    return kOutOfMemory;
  return kGeneric;
}

}  // namespace mls

using mls::T;
using mls::wrap;

// ---------------------------------------------------------------- errors, version

MLS_API const char* mls_last_error() { return mls::g_error.c_str(); }
MLS_API int mls_last_error_kind() { return mls::g_error_kind; }
MLS_API const char* mls_torch_version() {
  static const std::string v = std::to_string(TORCH_VERSION_MAJOR) + "." +
                               std::to_string(TORCH_VERSION_MINOR) + "." +
                               std::to_string(TORCH_VERSION_PATCH);
  return v.c_str();
}
// 2: the libtorch pickler entry points (mls_ivalue_*, mls_pickle_save*, mls_buffer_free) are gone; files are
// written by the managed MLLrSched.Backend.Persistence.
MLS_API int mls_abi_version() { return 2; }

// ---------------------------------------------------------------- lifecycle

MLS_API void mls_tensor_free(void* h) { delete static_cast<at::Tensor*>(h); }

/// Copies `nbytes` from host memory into a new tensor of the given shape/dtype/device.
MLS_API void* mls_tensor_from_data(const void* data, int64_t nbytes, const int64_t* shape, int ndim,
                                   int dtype, int device_type, int device_index) {
  MLS_TRY
  at::IntArrayRef sizes(shape, static_cast<size_t>(ndim));
  auto cpu = at::empty(sizes, at::TensorOptions().dtype(static_cast<at::ScalarType>(dtype)));
  const int64_t expected = cpu.numel() * static_cast<int64_t>(cpu.element_size());
  TORCH_CHECK_VALUE(expected == nbytes, "data holds ", nbytes, " bytes but shape ", sizes,
                    " of dtype ", cpu.scalar_type(), " needs ", expected);
  if (nbytes > 0) std::memcpy(cpu.data_ptr(), data, static_cast<size_t>(nbytes));
  if (device_type == static_cast<int>(at::kCPU)) return wrap(cpu);
  return wrap(cpu.to(at::Device(static_cast<at::DeviceType>(device_type),
                                static_cast<c10::DeviceIndex>(device_index))));
  MLS_CATCH(nullptr)
}

/// Copies the tensor's elements (row-major, contiguous) into host memory of `nbytes`.
MLS_API int mls_tensor_copy_to_host(void* h, void* dst, int64_t nbytes) {
  MLS_TRY
  auto t = T(h).detach().to(at::kCPU).contiguous();
  const int64_t have = t.numel() * static_cast<int64_t>(t.element_size());
  TORCH_CHECK_VALUE(have == nbytes, "destination holds ", nbytes, " bytes but the tensor has ",
                    have);
  if (nbytes > 0) std::memcpy(dst, t.data_ptr(), static_cast<size_t>(nbytes));
  return 0;
  MLS_CATCH_INT
}

// ---------------------------------------------------------------- properties

MLS_API int mls_tensor_ndim(void* h) { return static_cast<int>(T(h).dim()); }
MLS_API int mls_tensor_shape(void* h, int64_t* out) {
  MLS_TRY
  auto s = T(h).sizes();
  for (size_t i = 0; i < s.size(); ++i) out[i] = s[i];
  return 0;
  MLS_CATCH_INT
}
MLS_API int mls_tensor_strides(void* h, int64_t* out) {
  MLS_TRY
  auto s = T(h).strides();
  for (size_t i = 0; i < s.size(); ++i) out[i] = s[i];
  return 0;
  MLS_CATCH_INT
}
MLS_API int64_t mls_tensor_numel(void* h) { return T(h).numel(); }
MLS_API int mls_tensor_dtype(void* h) { return static_cast<int>(T(h).scalar_type()); }
MLS_API int mls_tensor_device(void* h, int* type, int* index) {
  auto d = T(h).device();
  *type = static_cast<int>(d.type());
  *index = d.has_index() ? d.index() : -1;
  return 0;
}
MLS_API int mls_tensor_is_sparse(void* h) { return T(h).is_sparse() ? 1 : 0; }
MLS_API int mls_tensor_is_contiguous(void* h) { return T(h).is_contiguous() ? 1 : 0; }
MLS_API int mls_tensor_defined(void* h) { return T(h).defined() ? 1 : 0; }
MLS_API int64_t mls_tensor_storage_offset(void* h) { return T(h).storage_offset(); }

/// The first byte of a non-empty, contiguous, dense CPU tensor's memory (the persistence capability names a
/// storage by the address of its first element).
MLS_API void* mls_tensor_data_ptr(void* t) {
  MLS_TRY
  const at::Tensor& x = T(t);
  TORCH_CHECK_VALUE(x.device().is_cpu() && x.layout() == at::kStrided && x.is_contiguous() &&
                        x.numel() > 0,
                    "data_ptr needs a non-empty contiguous dense CPU tensor");
  return x.data_ptr();
  MLS_CATCH(nullptr)
}

MLS_API int mls_tensor_item(void* h, double* d, int64_t* i) {
  MLS_TRY
  auto s = T(h).item();
  if (s.isFloatingPoint()) {
    *d = s.toDouble();
    *i = static_cast<int64_t>(*d);
  } else if (s.isBoolean()) {
    *i = s.toBool() ? 1 : 0;
    *d = static_cast<double>(*i);
  } else if (s.isIntegral(false)) {
    *i = s.toLong();
    *d = static_cast<double>(*i);
  } else {
    TORCH_CHECK_TYPE(false, "item(): unsupported scalar type ", T(h).scalar_type());
  }
  return 0;
  MLS_CATCH_INT
}

/// Writes a printable rendering into a thread-local buffer; returns nullptr on failure.
MLS_API const char* mls_tensor_to_string(void* h) {
  static thread_local std::string buf;
  MLS_TRY
  std::ostringstream os;
  os << T(h);
  buf = os.str();
  return buf.c_str();
  MLS_CATCH(nullptr)
}

// ---------------------------------------------------------------- creation

/// kind: 0 empty, 1 zeros, 2 ones, 3 full(value)
MLS_API void* mls_tensor_new(int kind, const int64_t* shape, int ndim, mls::Scalar value, int dtype,
                             int device_type, int device_index) {
  MLS_TRY
  at::IntArrayRef sizes(shape, static_cast<size_t>(ndim));
  auto o = mls::options(dtype, device_type, device_index);
  switch (kind) {
    case 0: return wrap(at::empty(sizes, o));
    case 1: return wrap(at::zeros(sizes, o));
    case 2: return wrap(at::ones(sizes, o));
    case 3: return wrap(at::full(sizes, mls::to_scalar(value), o));
  }
  TORCH_CHECK_VALUE(false, "unknown creation kind ", kind);
  MLS_CATCH(nullptr)
}

MLS_API void* mls_tensor_arange(double start, double end, double step, int dtype, int device_type,
                                int device_index) {
  MLS_TRY
  auto o = mls::options(dtype, device_type, device_index);
  if (c10::isIntegralType(static_cast<at::ScalarType>(dtype), true))
    return wrap(at::arange(static_cast<int64_t>(start), static_cast<int64_t>(end),
                           static_cast<int64_t>(step), o));
  return wrap(at::arange(start, end, step, o));
  MLS_CATCH(nullptr)
}

MLS_API void* mls_tensor_linspace(double start, double end, int64_t steps, int dtype,
                                  int device_type, int device_index) {
  MLS_TRY
  return wrap(at::linspace(start, end, steps, mls::options(dtype, device_type, device_index)));
  MLS_CATCH(nullptr)
}

MLS_API void* mls_tensor_eye(int64_t n, int dtype, int device_type, int device_index) {
  MLS_TRY
  return wrap(at::eye(n, mls::options(dtype, device_type, device_index)));
  MLS_CATCH(nullptr)
}

static c10::optional<at::Generator> gen_opt(void* g) {
  if (!g) return c10::nullopt;
  return *static_cast<at::Generator*>(g);
}

/// kind: 0 rand U[0,1), 1 randn N(0,1), 2 normal(a=mean, b=std), 3 uniform(a, b), 4 randint [a, b)
MLS_API void* mls_tensor_random(int kind, const int64_t* shape, int ndim, double a, double b,
                                void* generator, int dtype, int device_type, int device_index) {
  MLS_TRY
  at::IntArrayRef sizes(shape, static_cast<size_t>(ndim));
  auto o = mls::options(dtype, device_type, device_index);
  auto g = gen_opt(generator);
  switch (kind) {
    case 0: return wrap(at::rand(sizes, g, o));
    case 1: return wrap(at::randn(sizes, g, o));
    case 2: return wrap(at::empty(sizes, o).normal_(a, b, g));
    case 3: return wrap(at::empty(sizes, o).uniform_(a, b, g));
    case 4:
      return wrap(at::randint(static_cast<int64_t>(a), static_cast<int64_t>(b), sizes, g, o));
  }
  TORCH_CHECK_VALUE(false, "unknown random kind ", kind);
  MLS_CATCH(nullptr)
}

MLS_API void* mls_tensor_randperm(int64_t n, void* generator, int dtype, int device_type,
                                  int device_index) {
  MLS_TRY
  auto o = mls::options(dtype, device_type, device_index);
  if (generator) return wrap(at::randperm(n, *static_cast<at::Generator*>(generator), o));
  return wrap(at::randperm(n, o));
  MLS_CATCH(nullptr)
}

/// In-place random fills. kind: 0 uniform_(a, b), 1 normal_(a, b), 2 bernoulli_(p = a)
MLS_API int mls_tensor_random_(void* h, int kind, double a, double b, void* generator) {
  MLS_TRY
  auto g = gen_opt(generator);
  switch (kind) {
    case 0: T(h).uniform_(a, b, g); return 0;
    case 1: T(h).normal_(a, b, g); return 0;
    case 2: T(h).bernoulli_(a, g); return 0;
  }
  TORCH_CHECK_VALUE(false, "unknown random kind ", kind);
  MLS_CATCH_INT
}

// ---------------------------------------------------------------- conversion, copies

MLS_API void* mls_tensor_clone(void* h) {
  MLS_TRY return wrap(T(h).clone()); MLS_CATCH(nullptr)
}
MLS_API void* mls_tensor_detach(void* h) {
  MLS_TRY return wrap(T(h).detach()); MLS_CATCH(nullptr)
}
MLS_API void* mls_tensor_contiguous(void* h) {
  MLS_TRY return wrap(T(h).contiguous()); MLS_CATCH(nullptr)
}
/// dtype < 0 keeps the dtype; device_type < 0 keeps the device.
MLS_API void* mls_tensor_to(void* h, int dtype, int device_type, int device_index, int copy) {
  MLS_TRY
  auto& t = T(h);
  auto st = dtype < 0 ? t.scalar_type() : static_cast<at::ScalarType>(dtype);
  auto dev = device_type < 0 ? t.device()
                             : at::Device(static_cast<at::DeviceType>(device_type),
                                          static_cast<c10::DeviceIndex>(device_index));
  return wrap(t.to(dev, st, /*non_blocking=*/false, copy != 0));
  MLS_CATCH(nullptr)
}
/// self.copy_(src)
MLS_API int mls_tensor_copy_(void* self, void* src) {
  MLS_TRY T(self).copy_(T(src)); return 0; MLS_CATCH_INT
}

// ---------------------------------------------------------------- shape ops

MLS_API void* mls_tensor_reshape(void* h, const int64_t* shape, int ndim) {
  MLS_TRY return wrap(T(h).reshape(at::IntArrayRef(shape, ndim))); MLS_CATCH(nullptr)
}
MLS_API void* mls_tensor_view(void* h, const int64_t* shape, int ndim) {
  MLS_TRY return wrap(T(h).view(at::IntArrayRef(shape, ndim))); MLS_CATCH(nullptr)
}
MLS_API void* mls_tensor_expand(void* h, const int64_t* shape, int ndim) {
  MLS_TRY return wrap(T(h).expand(at::IntArrayRef(shape, ndim))); MLS_CATCH(nullptr)
}
MLS_API void* mls_tensor_permute(void* h, const int64_t* dims, int ndim) {
  MLS_TRY return wrap(T(h).permute(at::IntArrayRef(dims, ndim))); MLS_CATCH(nullptr)
}
MLS_API void* mls_tensor_transpose(void* h, int64_t d0, int64_t d1) {
  MLS_TRY return wrap(T(h).transpose(d0, d1)); MLS_CATCH(nullptr)
}
MLS_API void* mls_tensor_squeeze(void* h, int64_t dim, int all) {
  MLS_TRY return wrap(all ? T(h).squeeze() : T(h).squeeze(dim)); MLS_CATCH(nullptr)
}
MLS_API void* mls_tensor_unsqueeze(void* h, int64_t dim) {
  MLS_TRY return wrap(T(h).unsqueeze(dim)); MLS_CATCH(nullptr)
}
MLS_API void* mls_tensor_flatten(void* h, int64_t start, int64_t end) {
  MLS_TRY return wrap(T(h).flatten(start, end)); MLS_CATCH(nullptr)
}
MLS_API void* mls_tensor_as_strided(void* h, const int64_t* shape, const int64_t* strides, int ndim,
                                    int64_t offset) {
  MLS_TRY
  return wrap(T(h).as_strided(at::IntArrayRef(shape, ndim), at::IntArrayRef(strides, ndim), offset));
  MLS_CATCH(nullptr)
}

// ---------------------------------------------------------------- indexing

MLS_API void* mls_tensor_select(void* h, int64_t dim, int64_t index) {
  MLS_TRY return wrap(T(h).select(dim, index)); MLS_CATCH(nullptr)
}
MLS_API void* mls_tensor_slice(void* h, int64_t dim, int64_t start, int64_t end, int64_t step) {
  MLS_TRY return wrap(T(h).slice(dim, start, end, step)); MLS_CATCH(nullptr)
}
MLS_API void* mls_tensor_narrow(void* h, int64_t dim, int64_t start, int64_t length) {
  MLS_TRY return wrap(T(h).narrow(dim, start, length)); MLS_CATCH(nullptr)
}
MLS_API void* mls_tensor_index_select(void* h, int64_t dim, void* index) {
  MLS_TRY return wrap(T(h).index_select(dim, T(index))); MLS_CATCH(nullptr)
}
MLS_API void* mls_tensor_gather(void* h, int64_t dim, void* index) {
  MLS_TRY return wrap(T(h).gather(dim, T(index))); MLS_CATCH(nullptr)
}
/// self[index] where index is a bool mask or an int64 index tensor (advanced indexing on dim 0).
MLS_API void* mls_tensor_index(void* h, void* index) {
  MLS_TRY
  c10::List<c10::optional<at::Tensor>> idx;
  idx.push_back(T(index));
  return wrap(at::index(T(h), idx));
  MLS_CATCH(nullptr)
}
/// self[index] = values (in place).
MLS_API int mls_tensor_index_put_(void* h, void* index, void* values, int accumulate) {
  MLS_TRY
  c10::List<c10::optional<at::Tensor>> idx;
  idx.push_back(T(index));
  T(h).index_put_(idx, T(values), accumulate != 0);
  return 0;
  MLS_CATCH_INT
}
MLS_API int mls_tensor_masked_fill_(void* h, void* mask, mls::Scalar value) {
  MLS_TRY T(h).masked_fill_(T(mask), mls::to_scalar(value)); return 0; MLS_CATCH_INT
}
MLS_API int mls_tensor_index_add_(void* h, int64_t dim, void* index, void* source, double alpha) {
  MLS_TRY T(h).index_add_(dim, T(index), T(source), alpha); return 0; MLS_CATCH_INT
}
MLS_API void* mls_tensor_cat(void** handles, int64_t n, int64_t dim) {
  MLS_TRY return wrap(at::cat(mls::tensor_list(handles, n), dim)); MLS_CATCH(nullptr)
}
MLS_API void* mls_tensor_stack(void** handles, int64_t n, int64_t dim) {
  MLS_TRY return wrap(at::stack(mls::tensor_list(handles, n), dim)); MLS_CATCH(nullptr)
}
/// Splits into chunks of `size` along dim; writes up to `capacity` handles, returns the count.
MLS_API int64_t mls_tensor_split(void* h, int64_t size, int64_t dim, void** out, int64_t capacity) {
  MLS_TRY
  auto parts = T(h).split(size, dim);
  TORCH_CHECK_VALUE(static_cast<int64_t>(parts.size()) <= capacity, "split produced ",
                    parts.size(), " parts; capacity ", capacity);
  for (size_t i = 0; i < parts.size(); ++i) out[i] = wrap(parts[i]);
  return static_cast<int64_t>(parts.size());
  MLS_CATCH(-1)
}

// ---------------------------------------------------------------- generators

MLS_API void* mls_generator_new(uint64_t seed) {
  MLS_TRY
  auto* g = new at::Generator(at::make_generator<at::CPUGeneratorImpl>(seed));
  return g;
  MLS_CATCH(nullptr)
}
MLS_API void mls_generator_free(void* g) { delete static_cast<at::Generator*>(g); }
MLS_API int mls_generator_manual_seed(void* g, uint64_t seed) {
  MLS_TRY
  auto& gen = *static_cast<at::Generator*>(g);
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_current_seed(seed);
  return 0;
  MLS_CATCH_INT
}
/// The state of `g`, or of the default CPU generator when g is null, as a uint8 tensor.
MLS_API void* mls_generator_get_state(void* g) {
  MLS_TRY
  at::Generator gen = g ? *static_cast<at::Generator*>(g) : at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  return wrap(gen.get_state());
  MLS_CATCH(nullptr)
}
MLS_API int mls_generator_set_state(void* g, void* state) {
  MLS_TRY
  at::Generator gen = g ? *static_cast<at::Generator*>(g) : at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(T(state));
  return 0;
  MLS_CATCH_INT
}
/// Seeds libtorch's default generators (CPU and, where present, every CUDA device).
MLS_API int mls_manual_seed(uint64_t seed) {
  MLS_TRY at::manual_seed(seed); return 0; MLS_CATCH_INT
}

// ---------------------------------------------------------------- threads, devices

MLS_API int mls_get_num_threads() { return at::get_num_threads(); }
MLS_API int mls_set_num_threads(int n) {
  MLS_TRY at::set_num_threads(n); return 0; MLS_CATCH_INT
}
MLS_API int mls_get_num_interop_threads() { return at::get_num_interop_threads(); }
MLS_API int mls_set_num_interop_threads(int n) {
  MLS_TRY at::set_num_interop_threads(n); return 0; MLS_CATCH_INT
}
MLS_API int mls_cuda_is_available() {
  MLS_TRY return torch::cuda::is_available() ? 1 : 0; MLS_CATCH(0)
}
MLS_API int mls_cuda_device_count() {
  MLS_TRY return static_cast<int>(torch::cuda::device_count()); MLS_CATCH(0)
}
MLS_API int mls_cuda_synchronize(int device) {
  MLS_TRY torch::cuda::synchronize(device); return 0; MLS_CATCH_INT
}

/// Replaces the tensor's data (device/dtype may change) keeping the same autograd identity, as
/// Module.to() does for parameters: `param.data = new_data`.
MLS_API int mls_tensor_set_data(void* h, void* src) {
  MLS_TRY T(h).set_data(T(src)); return 0; MLS_CATCH_INT
}

/// A second handle to the same tensor (same data, same autograd identity).
MLS_API void* mls_tensor_alias(void* h) {
  MLS_TRY return wrap(T(h)); MLS_CATCH(nullptr)
}

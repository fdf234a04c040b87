// Shared plumbing of the C ABI: export macro, the thread-local error slot, handle conversions.
//
// Conventions (the managed side, src/Torch/Native/NativeMethods.cs, relies on them):
//  * A tensor handle is an owning `at::Tensor*` allocated with `new`; mls_tensor_free deletes it.
//  * Functions returning a handle return nullptr on failure; functions returning int return 0 on
//    success and a non-zero error kind on failure. In both cases mls_last_error() holds the message.
//  * No C++ exception ever crosses the ABI: every entry point is wrapped in MLS_TRY / MLS_CATCH.
#pragma once
#include "pch.h"

#define MLS_API extern "C" __attribute__((visibility("default")))

namespace mls {

// Error kinds, mirrored by MLLrSched.Torch.TorchErrorKind.
enum ErrorKind : int {
  kOk = 0,
  kGeneric = 1,
  kOutOfMemory = 2,
  kIndex = 3,
  kValue = 4,
  kType = 5,
  kNotImplemented = 6,
};

void set_error(int kind, const char* message);
int classify(const c10::Error& e);

inline at::Tensor& T(void* h) { return *static_cast<at::Tensor*>(h); }
inline void* wrap(at::Tensor t) { return new at::Tensor(std::move(t)); }

inline std::vector<at::Tensor> tensor_list(void** handles, int64_t n) {
  std::vector<at::Tensor> out;
  out.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) out.push_back(T(handles[i]));
  return out;
}

inline at::TensorOptions options(int dtype, int device_type, int device_index) {
  return at::TensorOptions()
      .dtype(static_cast<at::ScalarType>(dtype))
      .device(at::Device(static_cast<at::DeviceType>(device_type),
                         static_cast<c10::DeviceIndex>(device_index)));
}

// A scalar as the managed side passes it: kind 0 = floating (d), 1 = integral (i), 2 = bool (i != 0).
struct Scalar {
  double d;
  int64_t i;
  int32_t kind;
};
inline at::Scalar to_scalar(Scalar s) {
  if (s.kind == 1) return at::Scalar(s.i);
  if (s.kind == 2) return at::Scalar(s.i != 0);
  return at::Scalar(s.d);
}

}  // namespace mls

#define MLS_TRY try {
#define MLS_CATCH(failure_value)                                                      \
  }                                                                                   \
  catch (const c10::Error& e) {                                                       \
    mls::set_error(mls::classify(e), e.what_without_backtrace());                     \
    return failure_value;                                                             \
  }                                                                                   \
  catch (const std::bad_alloc& e) {                                                   \
    mls::set_error(mls::kOutOfMemory, "out of memory (std::bad_alloc)");              \
    return failure_value;                                                             \
  }                                                                                   \
  catch (const std::exception& e) {                                                   \
    mls::set_error(mls::kGeneric, e.what());                                          \
    return failure_value;                                                             \
  }                                                                                   \
  catch (...) {                                                                       \
    mls::set_error(mls::kGeneric, "unknown native exception");                        \
    return failure_value;                                                             \
  }

// Entry points returning int use the error kind as their failure value.
#define MLS_CATCH_INT                                                                 \
  }                                                                                   \
  catch (const c10::Error& e) {                                                       \
    int k = mls::classify(e);                                                         \
    mls::set_error(k, e.what_without_backtrace());                                    \
    return k;                                                                         \
  }                                                                                   \
  catch (const std::bad_alloc& e) {                                                   \
    mls::set_error(mls::kOutOfMemory, "out of memory (std::bad_alloc)");              \
    return mls::kOutOfMemory;                                                         \
  }                                                                                   \
  catch (const std::exception& e) {                                                   \
    mls::set_error(mls::kGeneric, e.what());                                          \
    return mls::kGeneric;                                                             \
  }                                                                                   \
  catch (...) {                                                                       \
    mls::set_error(mls::kGeneric, "unknown native exception");                        \
    return mls::kGeneric;                                                             \
  }

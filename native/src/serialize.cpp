// Writing PyTorch's own file format (torch.save's zip container + pickle) through libtorch's
// pickler. The managed side builds a tree of dicts/lists/scalars/tensors with these calls and asks
// for the bytes; Python's torch.load reads them.
//
// Reading is done in managed code (src/Torch/Serialization): libtorch 1.13's unpickler turns the
// collections.OrderedDict that every Python state_dict is into None, so it cannot load them.
#include "shim.h"

#include <caffe2/serialize/inline_container.h>
#include <torch/csrc/jit/serialization/export.h>
#include <torch/csrc/jit/serialization/pickler.h>

#include <cstdlib>

using mls::T;

namespace {
c10::IValue& V(void* h) { return *static_cast<c10::IValue*>(h); }
}  // namespace

/// kind: 0 None, 1 bool(i), 2 int(i), 3 float(d), 4 string(s), 5 tensor(t), 6 empty dict
/// (str keys), 7 empty list, 8 empty dict (int keys: PyTorch optimizer state_dicts key by index)
MLS_API void* mls_ivalue_new(int kind, int64_t i, double d, const char* s, void* t) {
  MLS_TRY
  switch (kind) {
    case 0: return new c10::IValue();
    case 1: return new c10::IValue(i != 0);
    case 2: return new c10::IValue(i);
    case 3: return new c10::IValue(d);
    case 4: return new c10::IValue(std::string(s));
    case 5: return new c10::IValue(T(t));
    case 6:
      return new c10::IValue(c10::impl::GenericDict(c10::StringType::get(), c10::AnyType::get()));
    case 7: return new c10::IValue(c10::impl::GenericList(c10::AnyType::get()));
    case 8:
      return new c10::IValue(c10::impl::GenericDict(c10::IntType::get(), c10::AnyType::get()));
  }
  TORCH_CHECK_VALUE(false, "unknown ivalue kind ", kind);
  MLS_CATCH(nullptr)
}

MLS_API void mls_ivalue_free(void* h) { delete static_cast<c10::IValue*>(h); }

MLS_API int mls_ivalue_dict_set(void* dict, const char* key, void* value) {
  MLS_TRY
  TORCH_CHECK_TYPE(V(dict).isGenericDict(), "not a dict");
  TORCH_CHECK_TYPE(V(dict).toGenericDict().keyType()->kind() == c10::TypeKind::StringType,
                   "dict keys are not strings");
  V(dict).toGenericDict().insert_or_assign(std::string(key), V(value));
  return 0;
  MLS_CATCH_INT
}

MLS_API int mls_ivalue_dict_set_int(void* dict, int64_t key, void* value) {
  MLS_TRY
  TORCH_CHECK_TYPE(V(dict).isGenericDict(), "not a dict");
  TORCH_CHECK_TYPE(V(dict).toGenericDict().keyType()->kind() == c10::TypeKind::IntType,
                   "dict keys are not ints");
  V(dict).toGenericDict().insert_or_assign(c10::IValue(key), V(value));
  return 0;
  MLS_CATCH_INT
}

/// A tuple of copies of the n values (tuples are immutable, so they are built in one go).
MLS_API void* mls_ivalue_tuple_new(void** items, int64_t n) {
  MLS_TRY
  std::vector<c10::IValue> elements;
  elements.reserve(static_cast<size_t>(n));
  for (int64_t k = 0; k < n; ++k) elements.push_back(V(items[k]));
  return new c10::IValue(c10::ivalue::Tuple::create(std::move(elements)));
  MLS_CATCH(nullptr)
}

MLS_API int mls_ivalue_list_append(void* list, void* value) {
  MLS_TRY
  TORCH_CHECK_TYPE(V(list).isList(), "not a list");
  V(list).toList().push_back(V(value));
  return 0;
  MLS_CATCH_INT
}

/// Pickles the value into torch.save's zip format. Returns a malloc'd buffer (free with
/// mls_buffer_free) and its length.
MLS_API void* mls_pickle_save(void* value, int64_t* length) {
  MLS_TRY
  std::vector<char> bytes = torch::jit::pickle_save(V(value));
  void* out = std::malloc(bytes.size() == 0 ? 1 : bytes.size());
  if (!out) throw std::bad_alloc();
  std::memcpy(out, bytes.data(), bytes.size());
  *length = static_cast<int64_t>(bytes.size());
  return out;
  MLS_CATCH(nullptr)
}

MLS_API void mls_buffer_free(void* p) { std::free(p); }

/// Receives the file's bytes in order; returns how many it took (fewer aborts the save).
typedef int64_t (*mls_write_fn)(void* ctx, const void* data, int64_t size);

/// torch.save's zip format for the value, handed to `write` piece by piece: each storage goes
/// straight from the tensor's memory to the callback, so saving costs no copy of the model (the
/// buffered mls_pickle_save copies it two or three times into fresh memory).
///
/// Unlike mls_pickle_save (torch::jit::pickle_save), containers are written without TorchScript type
/// tags: a tag is a call to torch.jit._pickle.restore_type_tag, which torch.load(weights_only=True) —
/// the default since PyTorch 2.6 — refuses. Untagged, the file needs only the globals torch.save
/// itself writes (rebuild functions, storage classes, OrderedDict).
MLS_API int mls_pickle_save_to(void* value, mls_write_fn write, void* ctx) {
  MLS_TRY
  std::vector<char> pickle_data;
  torch::jit::Pickler pickler(
      [&](const char* buf, size_t size) { pickle_data.insert(pickle_data.end(), buf, buf + size); },
      /*tensor_table=*/nullptr, /*type_renamer=*/nullptr, /*memoized_class_types=*/nullptr,
      /*get_tensor_id=*/nullptr, /*tag_aggregates=*/false);
  pickler.protocol();
  pickler.pushIValue(V(value));
  pickler.stop();
  caffe2::serialize::PyTorchStreamWriter writer([&](const void* data, size_t size) -> size_t {
    const int64_t took = write(ctx, data, static_cast<int64_t>(size));
    return took < 0 ? 0 : static_cast<size_t>(took);
  });
  torch::jit::writeArchiveAndTensors("data", pickle_data.data(), pickle_data.size(),
                                     pickler.tensorData(), writer);
  writer.writeEndOfFile();  // here rather than in the destructor, so a failed write is reported
  return 0;
  MLS_CATCH_INT
}

/// The first byte of a non-empty, contiguous, dense CPU tensor's memory (the reader fills fresh
/// tensors in place).
MLS_API void* mls_tensor_data_ptr(void* t) {
  MLS_TRY
  const at::Tensor& x = T(t);
  TORCH_CHECK_VALUE(x.device().is_cpu() && x.layout() == at::kStrided && x.is_contiguous() &&
                        x.numel() > 0,
                    "data_ptr needs a non-empty contiguous dense CPU tensor");
  return x.data_ptr();
  MLS_CATCH(nullptr)
}

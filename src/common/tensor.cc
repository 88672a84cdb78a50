#include "common/tensor.h"

#include "common/dtype.h"
#include "common/error.h"

namespace tffreeze {
namespace {

// Copies `count` typed values into `out` as elements of `esize` bytes, repeating the last value
// up to n (TensorFlow's fill rule for TensorProto values).
template <class Src, class Dst = Src>
void fill_from(const google::protobuf::RepeatedField<Src>& vals, std::int64_t n, std::string* out) {
  out->assign(static_cast<std::size_t>(n) * sizeof(Dst), '\0');
  if (vals.empty()) return;
  for (std::int64_t i = 0; i < n; ++i) {
    Dst v = static_cast<Dst>(vals[static_cast<int>(std::min<std::int64_t>(i, vals.size() - 1))]);
    std::memcpy(out->data() + i * sizeof(Dst), &v, sizeof(Dst));
  }
}

}  // namespace

std::int64_t Tensor::num_elements() const {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

std::vector<std::int64_t> dims_of(const tf::TensorShapeProto& shape) {
  std::vector<std::int64_t> dims;
  for (const auto& d : shape.dim()) dims.push_back(d.size());
  return dims;
}

tf::TensorShapeProto shape_proto(const std::vector<std::int64_t>& dims) {
  tf::TensorShapeProto s;
  for (auto d : dims) s.add_dim()->set_size(d);
  return s;
}

std::string dims_string(const std::vector<std::int64_t>& dims) { return shape_string(shape_proto(dims)); }

Tensor tensor_from_proto(const tf::TensorProto& p, const std::string& where) {
  Tensor t;
  t.dtype = p.dtype();
  auto count = num_elements(p.tensor_shape());
  if (!count) throw Error(ExitCode::kBadInput, where + ": tensor shape " + shape_string(p.tensor_shape()) + " is unknown or too large");
  t.shape = dims_of(p.tensor_shape());
  const std::int64_t n = *count;
  if (t.dtype == tf::DT_STRING) {
    if (p.string_val_size() > n) throw Error(ExitCode::kBadInput, where + ": more strings than the shape holds");
    t.strings.assign(p.string_val().begin(), p.string_val().end());
    if (n > static_cast<std::int64_t>(t.strings.size())) {
      if (n > kMaxExpandedTensorBytes / 32) throw Error(ExitCode::kBadInput, where + ": string tensor too large to expand");
      t.strings.resize(static_cast<std::size_t>(n), t.strings.empty() ? std::string() : t.strings.back());
    }
    return t;
  }
  const int esize = dtype_size(t.dtype);
  if (esize == 0) throw Error(ExitCode::kUnsupported, where + ": tensors of dtype " + dtype_name(t.dtype) + " are not supported");
  if (!p.tensor_content().empty()) {
    if (static_cast<std::uint64_t>(p.tensor_content().size()) != static_cast<std::uint64_t>(n) * esize) {
      throw Error(ExitCode::kBadInput, where + ": " + std::to_string(p.tensor_content().size()) + " content bytes for shape " +
                                           shape_string(p.tensor_shape()) + " of " + dtype_name(t.dtype));
    }
    t.bytes = p.tensor_content();
    return t;
  }
  if (n > kMaxExpandedTensorBytes / esize) {
    throw Error(ExitCode::kBadInput, where + ": tensor of shape " + shape_string(p.tensor_shape()) + " is too large to expand");
  }
  auto too_many = [&](int have) {
    if (have > n) throw Error(ExitCode::kBadInput, where + ": " + std::to_string(have) + " values for shape " + shape_string(p.tensor_shape()));
  };
  switch (t.dtype) {
    case tf::DT_FLOAT: too_many(p.float_val_size()); fill_from(p.float_val(), n, &t.bytes); break;
    case tf::DT_DOUBLE: too_many(p.double_val_size()); fill_from(p.double_val(), n, &t.bytes); break;
    case tf::DT_INT32: case tf::DT_QINT32: too_many(p.int_val_size()); fill_from<std::int32_t, std::int32_t>(p.int_val(), n, &t.bytes); break;
    case tf::DT_INT16: too_many(p.int_val_size()); fill_from<std::int32_t, std::int16_t>(p.int_val(), n, &t.bytes); break;
    case tf::DT_UINT16: too_many(p.int_val_size()); fill_from<std::int32_t, std::uint16_t>(p.int_val(), n, &t.bytes); break;
    case tf::DT_INT8: case tf::DT_QINT8: too_many(p.int_val_size()); fill_from<std::int32_t, std::int8_t>(p.int_val(), n, &t.bytes); break;
    case tf::DT_UINT8: case tf::DT_QUINT8: too_many(p.int_val_size()); fill_from<std::int32_t, std::uint8_t>(p.int_val(), n, &t.bytes); break;
    case tf::DT_INT64: too_many(p.int64_val_size()); fill_from(p.int64_val(), n, &t.bytes); break;
    case tf::DT_UINT32: too_many(p.uint32_val_size()); fill_from(p.uint32_val(), n, &t.bytes); break;
    case tf::DT_UINT64: too_many(p.uint64_val_size()); fill_from(p.uint64_val(), n, &t.bytes); break;
    case tf::DT_BOOL: too_many(p.bool_val_size()); fill_from<bool, std::uint8_t>(p.bool_val(), n, &t.bytes); break;
    case tf::DT_HALF: case tf::DT_BFLOAT16: too_many(p.half_val_size()); fill_from<std::int32_t, std::uint16_t>(p.half_val(), n, &t.bytes); break;
    case tf::DT_COMPLEX64: {  // pairs of floats; the last pair repeats
      too_many(p.scomplex_val_size() / 2);
      t.bytes.assign(static_cast<std::size_t>(n) * 8, '\0');
      int pairs = p.scomplex_val_size() / 2;
      for (std::int64_t i = 0; pairs > 0 && i < n; ++i) {
        int k = static_cast<int>(std::min<std::int64_t>(i, pairs - 1));
        float v[2] = {p.scomplex_val(2 * k), p.scomplex_val(2 * k + 1)};
        std::memcpy(t.bytes.data() + i * 8, v, 8);
      }
      break;
    }
    case tf::DT_COMPLEX128: {
      too_many(p.dcomplex_val_size() / 2);
      t.bytes.assign(static_cast<std::size_t>(n) * 16, '\0');
      int pairs = p.dcomplex_val_size() / 2;
      for (std::int64_t i = 0; pairs > 0 && i < n; ++i) {
        int k = static_cast<int>(std::min<std::int64_t>(i, pairs - 1));
        double v[2] = {p.dcomplex_val(2 * k), p.dcomplex_val(2 * k + 1)};
        std::memcpy(t.bytes.data() + i * 16, v, 16);
      }
      break;
    }
    default:
      throw Error(ExitCode::kUnsupported, where + ": tensors of dtype " + dtype_name(t.dtype) + " are not supported");
  }
  return t;
}

void tensor_to_proto(Tensor&& t, tf::TensorProto* p) {
  if (t.dtype == tf::DT_STRING || t.num_elements() == 1) return tensor_to_proto(static_cast<const Tensor&>(t), p);
  p->Clear();
  p->set_dtype(t.dtype);
  *p->mutable_tensor_shape() = shape_proto(t.shape);
  p->set_tensor_content(std::move(t.bytes));  // no copy of the (large) payload
}

void tensor_to_proto(const Tensor& t, tf::TensorProto* p) {
  p->Clear();
  p->set_dtype(t.dtype);
  *p->mutable_tensor_shape() = shape_proto(t.shape);
  if (t.dtype == tf::DT_STRING) {
    for (const auto& s : t.strings) p->add_string_val(s);
    return;
  }
  // One element goes in the typed field, as TensorFlow's make_tensor_proto writes it: importers
  // (OpenCV's reads Split's axis from int_val) rely on that.
  if (t.num_elements() == 1 && t.bytes.size() == static_cast<std::size_t>(dtype_size(t.dtype))) {
    switch (t.dtype) {
      case tf::DT_FLOAT: p->add_float_val(t.get<float>(0)); return;
      case tf::DT_DOUBLE: p->add_double_val(t.get<double>(0)); return;
      case tf::DT_INT32: case tf::DT_INT16: case tf::DT_INT8: case tf::DT_UINT8: case tf::DT_UINT16:
        p->add_int_val(static_cast<std::int32_t>(element_as_double(t, 0)));
        return;
      case tf::DT_INT64: p->add_int64_val(t.get<std::int64_t>(0)); return;
      case tf::DT_BOOL: p->add_bool_val(t.get<std::uint8_t>(0) != 0); return;
      default: break;
    }
  }
  p->set_tensor_content(t.bytes);
}

}  // namespace tffreeze

namespace tffreeze {
double element_as_double(const Tensor& t, std::int64_t i) {
  switch (t.dtype) {
    case tf::DT_FLOAT: case tf::DT_COMPLEX64: return t.get<float>(t.dtype == tf::DT_COMPLEX64 ? 2 * i : i);
    case tf::DT_DOUBLE: case tf::DT_COMPLEX128: return t.get<double>(t.dtype == tf::DT_COMPLEX128 ? 2 * i : i);
    case tf::DT_HALF: return half_to_float(t.get<std::uint16_t>(i));
    case tf::DT_BFLOAT16: {
      std::uint32_t bits = std::uint32_t{t.get<std::uint16_t>(i)} << 16;
      float f;
      std::memcpy(&f, &bits, 4);
      return f;
    }
    case tf::DT_INT8: return t.get<std::int8_t>(i);
    case tf::DT_INT16: return t.get<std::int16_t>(i);
    case tf::DT_INT32: return t.get<std::int32_t>(i);
    case tf::DT_INT64: return static_cast<double>(t.get<std::int64_t>(i));
    case tf::DT_UINT8: case tf::DT_BOOL: return t.get<std::uint8_t>(i);
    case tf::DT_UINT16: return t.get<std::uint16_t>(i);
    case tf::DT_UINT32: return t.get<std::uint32_t>(i);
    case tf::DT_UINT64: return static_cast<double>(t.get<std::uint64_t>(i));
    default: return 0;
  }
}
}  // namespace tffreeze

#include "editors/labeled_data.h"

#include <ATen/ATen.h>

#include <algorithm>

#include "harness/input_error.h"

namespace editgate::editors {
namespace {

InputError tensor_error(const TensorSource& source, const std::string& name, const std::string& expected,
                        const std::string& got, const std::string& hint = {}) {
  return InputError(source.path, "tensor '" + name + "'", expected, got, hint);
}

}  // namespace

LabeledData validate_labeled(const at::Tensor& x, const at::Tensor& z, const TensorSource& source,
                             int64_t num_classes) {
  LabeledData data = validate_labeled_layout(x, z, source, num_classes);
  // In row chunks: a whole-matrix isfinite would hold a bool copy of x (a quarter
  // of an f32 input) just to find one bad row.
  const int64_t n = x.size(0);
  const int64_t chunk = std::max<int64_t>(1, (int64_t{1} << 22) / x.size(1));
  for (int64_t start = 0; start < n; start += chunk) {
    check_finite_rows(x.narrow(0, start, std::min(chunk, n - start)), start, source);
  }
  return data;
}

LabeledData validate_labeled_layout(const at::Tensor& x, const at::Tensor& z, const TensorSource& source,
                                    int64_t num_classes) {
  const auto fail = [&](const std::string& name, const std::string& expected, const std::string& got,
                        const std::string& hint = {}) { return tensor_error(source, name, expected, got, hint); };
  if (!x.defined()) throw fail(source.x_name, "a tensor", "nothing");
  if (!z.defined()) throw fail(source.z_name, "a tensor", "nothing");
  if (x.dim() != 2) throw fail(source.x_name, "a 2-D tensor [n, d]", "shape " + shape_text(x.sizes()));
  if (x.scalar_type() != at::kFloat && x.scalar_type() != at::kDouble) {
    throw fail(source.x_name, "dtype F32 or F64", std::string(c10::toString(x.scalar_type())));
  }
  if (z.dim() != 1) throw fail(source.z_name, "a 1-D tensor [n] of class labels", "shape " + shape_text(z.sizes()));
  if (z.scalar_type() != at::kLong) {
    throw fail(source.z_name, "dtype I64 (integer class labels)", std::string(c10::toString(z.scalar_type())),
               "store labels as int64, e.g. torch.tensor(labels, dtype=torch.int64)");
  }
  const int64_t n = x.size(0);
  if (z.size(0) != n) {
    throw fail(source.z_name, std::to_string(n) + " labels (one per row of " + source.x_name + ")",
               std::to_string(z.size(0)));
  }
  if (n <= 1) throw fail(source.x_name, "at least 2 rows", std::to_string(n) + " rows");
  if (x.size(1) == 0) throw fail(source.x_name, "at least 1 feature column", "shape " + shape_text(x.sizes()));
  const int64_t min_label = z.min().item<int64_t>();
  const int64_t max_label = z.max().item<int64_t>();
  if (min_label < 0) throw fail(source.z_name, "labels >= 0", "label " + std::to_string(min_label));
  const int64_t k = num_classes > 0 ? num_classes : max_label + 1;
  if (max_label >= k) {
    throw fail(source.z_name, "labels below " + std::to_string(k), "label " + std::to_string(max_label));
  }
  const int64_t distinct = (class_counts(z, k) > 0).sum().item<int64_t>();
  if (distinct < 2) {
    throw fail(source.z_name, "at least 2 distinct classes", "only class " + std::to_string(min_label),
               "a concept with one class has nothing to erase or probe");
  }
  return LabeledData{x, z, k};
}

void check_finite_rows(const at::Tensor& rows, int64_t first_row, const TensorSource& source) {
  const at::Tensor finite = at::isfinite(rows).all(1);
  if (finite.all().item<bool>()) return;
  const int64_t row = first_row + (~finite).nonzero()[0][0].item<int64_t>();
  throw tensor_error(source, source.x_name, "finite values", "NaN or Inf in row " + std::to_string(row));
}

LabeledData select_rows(const LabeledData& data, const at::Tensor& index) {
  const auto idx = index.to(data.x.device());
  LabeledData out{data.x.index_select(0, idx), data.z.index_select(0, idx.to(data.z.device())), data.num_classes};
  if (data.groups.defined()) out.groups = data.groups.index_select(0, idx.to(data.groups.device()));
  return out;
}

at::Tensor class_counts(const at::Tensor& z, int64_t num_classes) {
  return at::bincount(z.to(at::kCPU), {}, num_classes).to(at::kLong);
}

at::Tensor one_hot(const at::Tensor& z, int64_t num_classes, at::ScalarType dtype) {
  return at::one_hot(z, num_classes).to(dtype);
}

}  // namespace editgate::editors

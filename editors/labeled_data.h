#pragma once
// LabeledData: a design matrix with integer class labels, the input of LEACE,
// INLP and the probes, and the checks that turn malformed user tensors into
// InputError. This unit owns the validation rules (shapes, dtypes, finiteness,
// label range, at least two classes, n > 1) and small label utilities; where
// the tensors come from (files, a model's activations) belongs to others.

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>

namespace editgate::editors {

struct LabeledData {
  at::Tensor x;              // [n, d] floating point
  at::Tensor z;              // [n] int64 class labels in [0, num_classes)
  int64_t num_classes = 0;   // k; may exceed max(z) + 1 when a class is absent from this part
  at::Tensor groups = {};    // [n] int64 subject ids, or undefined: rows are independent samples

  int64_t size() const { return x.defined() ? x.size(0) : 0; }
  int64_t dim() const { return x.defined() ? x.size(1) : 0; }
};

/// Where the tensors of a validation come from, for InputError messages.
struct TensorSource {
  std::string path;              // file the tensors were read from ("" for none)
  std::string x_name = "X";      // name of the feature tensor in that file
  std::string z_name = "Z";      // name of the label tensor
};

/// Checks user-supplied features and labels and returns them as LabeledData
/// (num_classes = max(z) + 1 unless `num_classes` > 0). Throws InputError for:
/// x not 2-D or not f32/f64, z not 1-D int64, differing n, n <= 1, d == 0,
/// non-finite x, negative labels or labels >= num_classes, fewer than two
/// distinct classes.
LabeledData validate_labeled(const at::Tensor& x, const at::Tensor& z, const TensorSource& source,
                             int64_t num_classes = 0);

/// validate_labeled without the finiteness check, the one check that reads
/// every value of x: for callers that stream x in chunks (erase) and check each
/// chunk with check_finite_rows as they read it.
LabeledData validate_labeled_layout(const at::Tensor& x, const at::Tensor& z, const TensorSource& source,
                                    int64_t num_classes = 0);

/// InputError naming the first row with NaN or Inf of `rows`, rows [first_row,
/// first_row + rows.size(0)) of the source's feature tensor.
void check_finite_rows(const at::Tensor& rows, int64_t first_row, const TensorSource& source);

/// Rows `index` ([m] int64) of `data`, keeping num_classes.
LabeledData select_rows(const LabeledData& data, const at::Tensor& index);

/// Samples per class: [k] int64 on CPU.
at::Tensor class_counts(const at::Tensor& z, int64_t num_classes);

/// One-hot encoding of labels: [n, k] of `dtype` on z's device.
at::Tensor one_hot(const at::Tensor& z, int64_t num_classes, at::ScalarType dtype);

}  // namespace editgate::editors

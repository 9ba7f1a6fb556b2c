#pragma once
// Disjoint data for erasure experiments. Fitting an eraser on the rows a probe
// is trained or scored on anti-correlates the parts and drives held-out accuracy
// below chance (leakage, not success), so the probe-recovery API only accepts
// these split types: ErasureSplit carries three disjoint parts (fit for the
// eraser, probe_train and probe_test for the probe), ProbeSplit two. Parts are
// made by index (stratified, or by group so that one subject never straddles
// two parts), or handed in whole, in which case identical rows across parts are
// refused. This unit owns splitting and the disjointness checks.

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <string>

#include "editors/labeled_data.h"

namespace editgate::editors {

struct SplitFractions {
  double fit = 0.4;          // share of rows (or groups) that fit the eraser
  double probe_train = 0.3;  // share that trains the probe; the rest scores it
};

/// The probe's parts: train and test share no row.
class ProbeSplit {
 public:
  /// Stratified by label: each class is shuffled (seeded) and a `test_fraction`
  /// of it goes to test. InputError if a part would be empty.
  static ProbeSplit stratified(const LabeledData& data, double test_fraction, uint64_t seed);
  /// The same by group (data.groups, e.g. subject ids): each label's groups are
  /// shuffled and a `test_fraction` of them go to test with all their rows.
  static ProbeSplit by_group(const LabeledData& data, double test_fraction, uint64_t seed);
  /// Parts given whole; InputError if a row of `test` equals a row of `train`,
  /// or the parts disagree on d or k.
  static ProbeSplit from_parts(LabeledData train, LabeledData test);

  const LabeledData& train() const { return train_; }
  const LabeledData& test() const { return test_; }

 private:
  friend class ErasureSplit;
  ProbeSplit(LabeledData train, LabeledData test) : train_(std::move(train)), test_(std::move(test)) {}
  static ProbeSplit from_disjoint(LabeledData train, LabeledData test) { return {std::move(train), std::move(test)}; }
  LabeledData train_;
  LabeledData test_;
};

/// The eraser's and the probe's parts: fit, probe_train and probe_test share no row.
class ErasureSplit {
 public:
  /// Stratified by label with the given shares (seeded).
  static ErasureSplit stratified(const LabeledData& data, const SplitFractions& fractions, uint64_t seed);
  /// By group (`groups` [n] int64, e.g. subject ids): all rows of a group land
  /// in the same part; groups are assigned per label of their first row. The
  /// parts carry the ids (LabeledData::groups).
  static ErasureSplit by_group(const LabeledData& data, const at::Tensor& groups, const SplitFractions& fractions,
                               uint64_t seed);
  /// Parts given whole (e.g. a concept dataset's own splits); InputError if a
  /// row of one part equals a row of another, naming both rows, or the parts
  /// disagree on d or k.
  static ErasureSplit from_parts(LabeledData fit, LabeledData probe_train, LabeledData probe_test);

  const LabeledData& fit() const { return fit_; }
  /// The probe's view: no access to the fit rows.
  ProbeSplit probe() const { return ProbeSplit::from_disjoint(probe_train_, probe_test_); }
  /// The probe's view with `transform` ([n, d] -> [n, d']) applied to the
  /// features of both parts, e.g. an eraser fitted on fit().
  ProbeSplit probe_transformed(const std::function<at::Tensor(const at::Tensor&)>& transform) const;
  const LabeledData& probe_train() const { return probe_train_; }
  const LabeledData& probe_test() const { return probe_test_; }

 private:
  ErasureSplit(LabeledData fit, LabeledData probe_train, LabeledData probe_test);
  LabeledData fit_;
  LabeledData probe_train_;
  LabeledData probe_test_;
};

/// Fold of each row ([n] int64 in [0, folds)) for cross-validation by group:
/// each label's groups are shuffled (seeded) and dealt round-robin to the
/// folds, so a group's rows share a fold and every fold holds about the same
/// share of each class. `groups` undefined: every row is its own group.
/// InputError when there are fewer groups than folds.
at::Tensor group_folds(const at::Tensor& z, const at::Tensor& groups, int64_t folds, uint64_t seed);

/// A stratified, seeded choice of rows to hold out: [n] bool, true for about
/// `fraction` of each class's rows (the rest fit an eraser).
at::Tensor stratified_holdout_mask(const at::Tensor& z, double fraction, uint64_t seed);

/// Throws InputError if some row of `b` equals (bit for bit) a row of `a`;
/// `a_name` and `b_name` name the parts in the message.
void require_disjoint_rows(const LabeledData& a, const std::string& a_name, const LabeledData& b,
                           const std::string& b_name);

}  // namespace editgate::editors

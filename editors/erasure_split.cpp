#include "editors/erasure_split.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <random>
#include <string_view>
#include <unordered_map>

#include "harness/input_error.h"

namespace editgate::editors {
namespace {

// Fisher-Yates with mt19937_64: the same permutation on every platform (std::shuffle's is unspecified).
void shuffle(std::vector<int64_t>& v, std::mt19937_64& rng) {
  for (size_t i = v.size(); i > 1; --i) {
    const size_t j = static_cast<size_t>(rng() % i);
    std::swap(v[i - 1], v[j]);
  }
}

void check_fractions(double a, double b, const std::string& what) {
  if (!(a >= 0 && b >= 0 && a + b < 1)) {
    throw InputError("", what, "shares >= 0 that leave a non-empty remainder (sum < 1)",
                     std::to_string(a) + " and " + std::to_string(b));
  }
}

// Cuts one shuffled list into parts by cumulative shares.
void cut(const std::vector<int64_t>& items, double first, double second, std::vector<int64_t>* parts[3]) {
  const double n = static_cast<double>(items.size());
  const auto a = static_cast<size_t>(std::llround(first * n));
  const auto b = std::max(a, static_cast<size_t>(std::llround((first + second) * n)));
  for (size_t i = 0; i < items.size(); ++i) parts[i < a ? 0 : (i < b ? 1 : 2)]->push_back(items[i]);
}

at::Tensor index_tensor(std::vector<int64_t> idx) {
  std::sort(idx.begin(), idx.end());
  return at::tensor(idx, at::kLong);
}

void require_nonempty(const std::vector<int64_t>& part, const std::string& name, int64_t n) {
  if (part.empty()) {
    throw InputError("", name, "a non-empty part", "no rows of " + std::to_string(n),
                     "use more data or larger shares");
  }
}

void require_compatible(const LabeledData& a, const std::string& a_name, const LabeledData& b,
                        const std::string& b_name) {
  if (a.dim() != b.dim() || a.num_classes != b.num_classes) {
    throw InputError("", b_name, "d = " + std::to_string(a.dim()) + " and k = " + std::to_string(a.num_classes) +
                                     " as in " + a_name,
                     "d = " + std::to_string(b.dim()) + ", k = " + std::to_string(b.num_classes));
  }
}

struct GroupIndex {
  std::map<int64_t, std::vector<int64_t>> rows_of_group;    // group id -> its rows
  std::map<int64_t, std::vector<int64_t>> groups_of_label;  // label of a group's first row -> group ids
};

// Rows per group and groups per label; `groups` undefined: every row is its own group.
GroupIndex group_index(const at::Tensor& z, const at::Tensor& groups) {
  const at::Tensor zc = z.to(at::kCPU, at::kLong).contiguous();
  const int64_t n = zc.size(0);
  const at::Tensor g = groups.defined() ? groups.to(at::kCPU, at::kLong).contiguous() : at::arange(n, at::kLong);
  GroupIndex out;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t id = g.data_ptr<int64_t>()[i];
    auto& rows = out.rows_of_group[id];
    if (rows.empty()) out.groups_of_label[zc.data_ptr<int64_t>()[i]].push_back(id);
    rows.push_back(i);
  }
  return out;
}

std::vector<int64_t> rows_of(const std::map<int64_t, std::vector<int64_t>>& rows_of_group,
                             const std::vector<int64_t>& ids) {
  std::vector<int64_t> rows;
  for (int64_t id : ids) rows.insert(rows.end(), rows_of_group.at(id).begin(), rows_of_group.at(id).end());
  return rows;
}

// Labels per row, and rows per class, on the CPU.
std::map<int64_t, std::vector<int64_t>> rows_by_label(const at::Tensor& z) {
  const at::Tensor zc = z.to(at::kCPU).contiguous();
  std::map<int64_t, std::vector<int64_t>> out;
  for (int64_t i = 0; i < zc.size(0); ++i) out[zc.data_ptr<int64_t>()[i]].push_back(i);
  return out;
}

}  // namespace

void require_disjoint_rows(const LabeledData& a, const std::string& a_name, const LabeledData& b,
                           const std::string& b_name) {
  const at::Tensor xa = a.x.to(at::kCPU).contiguous();
  const at::Tensor xb = b.x.to(at::kCPU, xa.scalar_type()).contiguous();
  const size_t row_bytes = static_cast<size_t>(xa.size(1)) * xa.element_size();
  const auto row = [&](const at::Tensor& t, int64_t i) {
    return std::string_view(static_cast<const char*>(t.data_ptr()) + static_cast<size_t>(i) * row_bytes, row_bytes);
  };
  std::unordered_multimap<size_t, int64_t> seen;
  seen.reserve(static_cast<size_t>(xa.size(0)));
  for (int64_t i = 0; i < xa.size(0); ++i) seen.emplace(std::hash<std::string_view>{}(row(xa, i)), i);
  for (int64_t j = 0; j < xb.size(0); ++j) {
    const auto [lo, hi] = seen.equal_range(std::hash<std::string_view>{}(row(xb, j)));
    for (auto it = lo; it != hi; ++it) {
      if (row(xa, it->second) == row(xb, j)) {
        throw InputError("", b_name, "rows disjoint from " + a_name,
                         b_name + " row " + std::to_string(j) + " equals " + a_name + " row " +
                             std::to_string(it->second),
                         "the eraser and the probe must see different data, or held-out accuracy "
                         "falls below chance through leakage");
      }
    }
  }
}

ProbeSplit ProbeSplit::stratified(const LabeledData& data, double test_fraction, uint64_t seed) {
  if (!(test_fraction > 0 && test_fraction < 1)) {
    throw InputError("", "--test-fraction", "a share in (0, 1)", std::to_string(test_fraction));
  }
  std::mt19937_64 rng(seed);
  std::vector<int64_t> train, test, unused;
  std::vector<int64_t>* parts[3] = {&unused, &train, &test};
  for (auto& [label, rows] : rows_by_label(data.z)) {
    shuffle(rows, rng);
    cut(rows, 0.0, 1.0 - test_fraction, parts);
  }
  require_nonempty(train, "probe train split", data.size());
  require_nonempty(test, "probe test split", data.size());
  return ProbeSplit(select_rows(data, index_tensor(train)), select_rows(data, index_tensor(test)));
}

ProbeSplit ProbeSplit::by_group(const LabeledData& data, double test_fraction, uint64_t seed) {
  if (!(test_fraction > 0 && test_fraction < 1)) {
    throw InputError("", "--test-fraction", "a share in (0, 1)", std::to_string(test_fraction));
  }
  TORCH_CHECK(data.groups.defined(), "ProbeSplit::by_group needs LabeledData::groups");
  auto [rows_of_group, groups_of_label] = group_index(data.z, data.groups);
  std::mt19937_64 rng(seed);
  std::vector<int64_t> gtrain, gtest, unused;
  std::vector<int64_t>* parts[3] = {&unused, &gtrain, &gtest};
  for (auto& [label, ids] : groups_of_label) {
    shuffle(ids, rng);
    cut(ids, 0.0, 1.0 - test_fraction, parts);
  }
  const auto train = rows_of(rows_of_group, gtrain), test = rows_of(rows_of_group, gtest);
  require_nonempty(train, "probe train split", data.size());
  require_nonempty(test, "probe test split", data.size());
  return ProbeSplit(select_rows(data, index_tensor(train)), select_rows(data, index_tensor(test)));
}

at::Tensor group_folds(const at::Tensor& z, const at::Tensor& groups, int64_t folds, uint64_t seed) {
  auto [rows_of_group, groups_of_label] = group_index(z, groups);
  const int64_t n = z.size(0);
  if (folds < 2 || static_cast<int64_t>(rows_of_group.size()) < folds) {
    throw InputError("", "cross-validation folds", "2 or more, and no more than the subjects (" +
                                                       std::to_string(rows_of_group.size()) + ")",
                     std::to_string(folds));
  }
  std::mt19937_64 rng(seed);
  at::Tensor fold = at::empty({n}, at::kLong);
  int64_t next = 0;  // carried across labels, so small classes do not all start at fold 0
  for (auto& [label, ids] : groups_of_label) {
    shuffle(ids, rng);
    for (int64_t id : ids) {
      for (int64_t row : rows_of_group[id]) fold.data_ptr<int64_t>()[row] = next;
      next = (next + 1) % folds;
    }
  }
  return fold;
}

at::Tensor stratified_holdout_mask(const at::Tensor& z, double fraction, uint64_t seed) {
  if (!(fraction > 0 && fraction < 1)) throw InputError("", "--holdout", "a share in (0, 1)", std::to_string(fraction));
  std::mt19937_64 rng(seed);
  std::vector<int64_t> kept, held, unused;
  std::vector<int64_t>* parts[3] = {&unused, &kept, &held};
  for (auto& [label, rows] : rows_by_label(z)) {
    shuffle(rows, rng);
    cut(rows, 0.0, 1.0 - fraction, parts);
  }
  at::Tensor mask = at::zeros({z.size(0)}, at::kBool);
  if (!held.empty()) mask.index_fill_(0, at::tensor(held, at::kLong), true);
  return mask;
}

ProbeSplit ProbeSplit::from_parts(LabeledData train, LabeledData test) {
  require_compatible(train, "probe_train", test, "probe_test");
  require_disjoint_rows(train, "probe_train", test, "probe_test");
  return ProbeSplit(std::move(train), std::move(test));
}

ErasureSplit::ErasureSplit(LabeledData fit, LabeledData probe_train, LabeledData probe_test)
    : fit_(std::move(fit)), probe_train_(std::move(probe_train)), probe_test_(std::move(probe_test)) {}

ErasureSplit ErasureSplit::stratified(const LabeledData& data, const SplitFractions& f, uint64_t seed) {
  check_fractions(f.fit, f.probe_train, "split fractions");
  std::mt19937_64 rng(seed);
  std::vector<int64_t> fit, train, test;
  std::vector<int64_t>* parts[3] = {&fit, &train, &test};
  for (auto& [label, rows] : rows_by_label(data.z)) {
    shuffle(rows, rng);
    cut(rows, f.fit, f.probe_train, parts);
  }
  require_nonempty(fit, "fit split", data.size());
  require_nonempty(train, "probe_train split", data.size());
  require_nonempty(test, "probe_test split", data.size());
  return ErasureSplit(select_rows(data, index_tensor(fit)), select_rows(data, index_tensor(train)),
                      select_rows(data, index_tensor(test)));
}

ErasureSplit ErasureSplit::by_group(const LabeledData& data, const at::Tensor& groups, const SplitFractions& f,
                                    uint64_t seed) {
  check_fractions(f.fit, f.probe_train, "split fractions");
  TORCH_CHECK(groups.dim() == 1 && groups.size(0) == data.size(), "by_group needs one group id per row");
  auto [rows_of_group, groups_of_label] = group_index(data.z, groups);
  std::mt19937_64 rng(seed);
  std::vector<int64_t> gfit, gtrain, gtest;
  std::vector<int64_t>* parts[3] = {&gfit, &gtrain, &gtest};
  for (auto& [label, ids] : groups_of_label) {
    shuffle(ids, rng);
    cut(ids, f.fit, f.probe_train, parts);
  }
  const auto fit = rows_of(rows_of_group, gfit), train = rows_of(rows_of_group, gtrain),
             test = rows_of(rows_of_group, gtest);
  require_nonempty(fit, "fit split", data.size());
  require_nonempty(train, "probe_train split", data.size());
  require_nonempty(test, "probe_test split", data.size());
  LabeledData tagged = data;  // the parts keep their group ids: probe intervals cluster by them
  tagged.groups = groups.to(at::kCPU, at::kLong);
  return ErasureSplit(select_rows(tagged, index_tensor(fit)), select_rows(tagged, index_tensor(train)),
                      select_rows(tagged, index_tensor(test)));
}

ProbeSplit ErasureSplit::probe_transformed(const std::function<at::Tensor(const at::Tensor&)>& transform) const {
  const auto transformed = [&](const LabeledData& d) { return LabeledData{transform(d.x), d.z, d.num_classes, d.groups}; };
  return ProbeSplit::from_disjoint(transformed(probe_train_), transformed(probe_test_));
}

ErasureSplit ErasureSplit::from_parts(LabeledData fit, LabeledData probe_train, LabeledData probe_test) {
  require_compatible(fit, "fit", probe_train, "probe_train");
  require_compatible(fit, "fit", probe_test, "probe_test");
  require_disjoint_rows(fit, "fit", probe_train, "probe_train");
  require_disjoint_rows(fit, "fit", probe_test, "probe_test");
  require_disjoint_rows(probe_train, "probe_train", probe_test, "probe_test");
  return ErasureSplit(std::move(fit), std::move(probe_train), std::move(probe_test));
}

}  // namespace editgate::editors

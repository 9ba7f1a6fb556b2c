// The split types that keep the eraser's data away from the probe's: shares,
// stratification, groups kept whole, refusal of shared rows, holdout masks.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <set>

#include "editors/erasure_split.h"
#include "harness/input_error.h"
#include "tests/editors/synthetic_concept.h"

namespace editgate::testing {
namespace {

std::set<std::string> row_set(const at::Tensor& x) {
  std::set<std::string> out;
  const at::Tensor c = x.contiguous();
  const size_t bytes = static_cast<size_t>(c.size(1)) * c.element_size();
  for (int64_t i = 0; i < c.size(0); ++i) out.emplace(static_cast<const char*>(c.data_ptr()) + i * bytes, bytes);
  return out;
}

bool disjoint(const at::Tensor& a, const at::Tensor& b) {
  const auto sa = row_set(a);
  for (const auto& r : row_set(b)) {
    if (sa.count(r)) return false;
  }
  return true;
}

TEST(ErasureSplit, StratifiedPartsAreDisjointStratifiedAndDeterministic) {
  const auto data = make_concept({.n = 1000, .d = 4, .k = 3, .class_probs = {0.5, 0.3, 0.2}, .seed = 1});
  const auto s = editors::ErasureSplit::stratified(data, {0.4, 0.3}, 7);
  EXPECT_EQ(s.fit().size() + s.probe_train().size() + s.probe_test().size(), 1000);
  EXPECT_NEAR(static_cast<double>(s.fit().size()), 400, 3);
  EXPECT_NEAR(static_cast<double>(s.probe_train().size()), 300, 3);
  EXPECT_TRUE(disjoint(s.fit().x, s.probe_train().x));
  EXPECT_TRUE(disjoint(s.fit().x, s.probe_test().x));
  EXPECT_TRUE(disjoint(s.probe_train().x, s.probe_test().x));
  const auto all = editors::class_counts(data.z, 3).to(at::kDouble) / 1000.0;
  const auto fit = editors::class_counts(s.fit().z, 3).to(at::kDouble) / static_cast<double>(s.fit().size());
  EXPECT_LT(max_diff(all, fit), 0.01);
  const auto again = editors::ErasureSplit::stratified(data, {0.4, 0.3}, 7);
  EXPECT_TRUE(at::equal(again.probe_test().x, s.probe_test().x));
  const auto other = editors::ErasureSplit::stratified(data, {0.4, 0.3}, 8);
  EXPECT_FALSE(at::equal(other.probe_test().x, s.probe_test().x));
}

TEST(ErasureSplit, ByGroupKeepsEachGroupInOnePart) {
  const auto data = make_concept({.n = 600, .d = 3, .k = 2, .seed = 2});
  // 5 rows per "subject", one label per subject.
  const at::Tensor groups = at::arange(600, at::kLong).div(5, "floor");
  editors::LabeledData grouped = data;
  grouped.z = data.z.index_select(0, groups * 5);  // label of the group's first row
  const auto s = editors::ErasureSplit::by_group(grouped, groups, {0.4, 0.3}, 3);
  EXPECT_EQ(s.fit().size() % 5, 0);
  EXPECT_EQ(s.probe_train().size() % 5, 0);
  EXPECT_EQ(s.probe_test().size() % 5, 0);
  EXPECT_TRUE(disjoint(s.fit().x, s.probe_test().x));
}

TEST(ErasureSplit, GroupFoldsKeepSubjectsWholeAndClassesSpread) {
  // 60 subjects of 4 rows; subject s has label s % 3.
  const at::Tensor groups = at::arange(240, at::kLong).div(4, "floor");
  const at::Tensor z = groups % 3;
  const at::Tensor fold = editors::group_folds(z, groups, 5, 11);
  EXPECT_TRUE(at::equal(fold, editors::group_folds(z, groups, 5, 11)));
  EXPECT_FALSE(at::equal(fold, editors::group_folds(z, groups, 5, 12)));
  for (int64_t s = 0; s < 60; ++s) {
    const at::Tensor f = fold.slice(0, 4 * s, 4 * s + 4);
    EXPECT_EQ(f.min().item<int64_t>(), f.max().item<int64_t>()) << "subject " << s << " straddles folds";
  }
  for (int64_t f = 0; f < 5; ++f) {
    for (int64_t c = 0; c < 3; ++c) {
      // 20 subjects per class dealt round-robin into 5 folds: 4 each, 16 rows.
      EXPECT_EQ(((fold == f) & (z == c)).sum().item<int64_t>(), 16) << "fold " << f << " class " << c;
    }
  }
  EXPECT_THROW(editors::group_folds(z, groups, 61, 0), InputError);
  EXPECT_THROW(editors::group_folds(z, groups, 1, 0), InputError);
  // Without groups every row is its own subject.
  EXPECT_EQ(editors::group_folds(z, at::Tensor(), 240, 0).max().item<int64_t>(), 239);
}

TEST(ErasureSplit, ProbeByGroupHoldsOutWholeSubjectsPerClass) {
  const at::Tensor groups = at::arange(200, at::kLong).div(4, "floor");  // 50 subjects of 4 rows
  editors::LabeledData data = make_concept({.n = 200, .d = 3, .k = 2, .seed = 4});
  data.z = (groups % 2);
  data.groups = groups;
  const auto s = editors::ProbeSplit::by_group(data, 0.2, 9);
  EXPECT_EQ(s.test().size(), 40);  // 5 of each class's 25 subjects, 4 rows each
  EXPECT_EQ(s.train().size(), 160);
  const auto subjects = [](const at::Tensor& g) {
    const at::Tensor u = std::get<0>(at::_unique(g));
    return std::set<int64_t>(u.data_ptr<int64_t>(), u.data_ptr<int64_t>() + u.size(0));
  };
  const auto train = subjects(s.train().groups), test = subjects(s.test().groups);
  EXPECT_EQ(test.size(), 10u);
  for (int64_t g : test) EXPECT_EQ(train.count(g), 0u) << "subject " << g << " in both parts";
}

TEST(ErasureSplit, FromPartsRefusesRowsSharedWithTheFitPart) {
  const auto data = make_concept({.n = 300, .d = 4, .k = 2, .seed = 3});
  const auto rows = [&](int64_t a, int64_t n) { return editors::select_rows(data, at::arange(a, a + n, at::kLong)); };
  EXPECT_NO_THROW(editors::ErasureSplit::from_parts(rows(0, 100), rows(100, 100), rows(200, 100)));
  try {
    editors::ErasureSplit::from_parts(rows(0, 100), rows(90, 100), rows(200, 100));
    FAIL() << "overlap accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("probe_train row 0 equals fit row 90"), std::string::npos) << e.what();
  }
  EXPECT_THROW(editors::ErasureSplit::from_parts(rows(0, 100), rows(100, 100), rows(150, 100)), InputError);
  EXPECT_THROW(editors::ErasureSplit::from_parts(data, rows(0, 10), rows(200, 10)), InputError);
  EXPECT_THROW(editors::ProbeSplit::from_parts(rows(0, 100), rows(50, 100)), InputError);
}

TEST(ErasureSplit, FromPartsRefusesPartsOfDifferentWidthOrClasses) {
  const auto a = make_concept({.n = 50, .d = 4, .k = 2, .seed = 4});
  const auto b = make_concept({.n = 50, .d = 5, .k = 2, .seed = 5});
  auto c = make_concept({.n = 50, .d = 4, .k = 2, .seed = 6});
  c.num_classes = 3;
  EXPECT_THROW(editors::ErasureSplit::from_parts(a, b, make_concept({.n = 50, .d = 4, .k = 2, .seed = 7})),
               InputError);
  EXPECT_THROW(editors::ProbeSplit::from_parts(a, c), InputError);
}

TEST(ErasureSplit, BadSharesAndEmptyPartsAreInputErrors) {
  const auto data = make_concept({.n = 40, .d = 2, .k = 2, .seed = 5});
  EXPECT_THROW(editors::ErasureSplit::stratified(data, {0.6, 0.5}, 0), InputError);
  EXPECT_THROW(editors::ErasureSplit::stratified(data, {-0.1, 0.5}, 0), InputError);
  EXPECT_THROW(editors::ProbeSplit::stratified(data, 0.0, 0), InputError);
  EXPECT_THROW(editors::ProbeSplit::stratified(data, 1.0, 0), InputError);
  const auto tiny = editors::select_rows(data, at::arange(0, 2, at::kLong));
  EXPECT_THROW(editors::ErasureSplit::stratified(tiny, {0.4, 0.3}, 0), InputError);
}

TEST(ErasureSplit, HoldoutMaskIsStratified) {
  const auto data = make_concept({.n = 2000, .d = 2, .k = 2, .class_probs = {0.8, 0.2}, .seed = 6});
  const at::Tensor held = editors::stratified_holdout_mask(data.z, 0.25, 1);
  EXPECT_NEAR(held.to(at::kDouble).mean().item<double>(), 0.25, 0.002);
  const at::Tensor z1 = data.z.masked_select(held);
  EXPECT_NEAR((z1 == 1).to(at::kDouble).mean().item<double>(),
              (data.z == 1).to(at::kDouble).mean().item<double>(), 0.01);
  EXPECT_THROW(editors::stratified_holdout_mask(data.z, 1.5, 1), InputError);
}

TEST(ErasureSplit, ProbeViewOfAnErasureSplitHasOnlyTheProbeParts) {
  const auto data = make_concept({.n = 500, .d = 3, .k = 2, .seed = 9});
  const auto s = editors::ErasureSplit::stratified(data, {0.4, 0.3}, 2);
  const auto p = s.probe();
  EXPECT_TRUE(at::equal(p.train().x, s.probe_train().x));
  EXPECT_TRUE(at::equal(p.test().x, s.probe_test().x));
  const auto doubled = s.probe_transformed([](const at::Tensor& x) { return 2 * x; });
  EXPECT_TRUE(at::equal(doubled.test().x, 2 * s.probe_test().x));
}

}  // namespace
}  // namespace editgate::testing

// length_batches: every row lands in exactly one batch of at most max_batch,
// each batch ascending by length, and mixed lengths are split only where the
// padding saved outweighs a pass's fixed cost.
#include "harness/length_batches.h"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <stdexcept>

namespace editgate::testing {
namespace {

using harness::length_batches;

TEST(LengthBatches, EveryIndexOnceWithinMaxBatchAscending) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int64_t> len(1, 40);
  std::vector<int64_t> lengths(300);
  for (auto& l : lengths) l = len(rng);
  const auto batches = length_batches(lengths, 16);
  std::multiset<int64_t> seen;
  int64_t previous_longest = 0;
  for (const auto& b : batches) {
    ASSERT_FALSE(b.empty());
    EXPECT_LE(b.size(), 16u);
    for (size_t i = 1; i < b.size(); ++i) EXPECT_LE(lengths[b[i - 1]], lengths[b[i]]);
    EXPECT_LE(previous_longest, lengths[b.front()]) << "batches come shortest first";
    previous_longest = lengths[b.back()];
    seen.insert(b.begin(), b.end());
  }
  ASSERT_EQ(seen.size(), lengths.size());
  for (int64_t i = 0; i < static_cast<int64_t>(lengths.size()); ++i) EXPECT_EQ(seen.count(i), 1u) << i;
}

TEST(LengthBatches, EqualLengthsStayOneBatchInCallerOrder) {
  const auto batches = length_batches(std::vector<int64_t>(8, 32), 8);
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_EQ(batches[0], (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7}));
}

TEST(LengthBatches, SplitsOnlyWherePaddingOutweighsAPass) {
  // 64 short and 64 long rows, interleaved: one batch would pad 64 x 38 positions, far
  // more than a second pass costs.
  std::vector<int64_t> lengths;
  for (int i = 0; i < 64; ++i) lengths.insert(lengths.end(), {2, 40});
  const auto split = length_batches(lengths, 128);
  ASSERT_EQ(split.size(), 2u);
  for (int64_t i : split[0]) EXPECT_EQ(lengths[i], 2);
  // Two rows a token apart: padding one position is cheaper than a second pass.
  EXPECT_EQ(length_batches({10, 11}, 128).size(), 1u);
}

TEST(LengthBatches, EmptyInputAndBadBatch) {
  EXPECT_TRUE(length_batches({}, 4).empty());
  EXPECT_THROW(length_batches({1}, 0), std::invalid_argument);
}

}  // namespace
}  // namespace editgate::testing

// Second-moment statistics: equal to E[k kᵀ] collected by hand, several layers
// in one pass, exact token budget, and a cache that is reused only when every
// key field matches and whose data matches its checksum.

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <gtest/gtest.h>

#include <fstream>

#include "editors/second_moment.h"
#include "harness/hooks.h"
#include "harness/input_error.h"
#include "harness/safetensors_writer.h"
#include "tests/editors/edit_test_model.h"

namespace editgate::editors {
namespace {

using testing::EditTestModel;

// E[k kᵀ] at `layer` over `docs`, one document per forward pass.
at::Tensor by_hand(harness::TextModel& tm, const std::vector<std::string>& docs, int64_t layer) {
  c10::NoGradGuard ng;
  auto out = std::make_shared<at::Tensor>();
  auto h = tm.model().hooks().add({layer, harness::HookSite::kMlpPost}, harness::cache_into(out));
  at::Tensor sum;
  int64_t n = 0;
  for (const auto& d : docs) {
    const auto ids = tm.encode_prompt(d);
    tm.model().forward(at::tensor(ids, at::kLong).unsqueeze(0).to(tm.model().device()));
    const auto k = out->squeeze(0).to(at::kDouble).cpu();  // [pos, d_mlp]
    sum = sum.defined() ? sum + k.t().mm(k) : k.t().mm(k);
    n += k.size(0);
  }
  return sum / static_cast<double>(n);
}

SecondMomentOptions options(std::vector<int64_t> layers) {
  SecondMomentOptions o;
  o.layers = std::move(layers);
  o.batch_size = 4;
  o.stored_dtype = at::kDouble;
  o.show_progress = false;
  o.weights_sha256 = "w";
  return o;
}

TEST(SecondMoment, MatchesDirectComputationForSeveralLayers) {
  EditTestModel m;
  const auto docs = testing::test_corpus_documents(11);
  const auto corpus = TextCorpus::from_documents("test", docs);
  const auto stats = compute_second_moments(m.model(), corpus, options({0, 1}));
  ASSERT_EQ(stats.size(), 2u);
  for (const auto& s : stats) {
    const auto expected = by_hand(m.model(), docs, s.layer);
    // Padded batches and single rows differ in float32 rounding only.
    EXPECT_LT(((s.mom2.cpu() - expected).abs().max() / expected.abs().max()).item<double>(), 1e-6) << "layer " << s.layer;
    EXPECT_FALSE(s.from_cache);
    EXPECT_EQ(s.key["layer"], s.layer);
  }
  EXPECT_EQ(stats[0].n_tokens, stats[1].n_tokens);
}

TEST(SecondMoment, KeepsExactlyTheTokenBudget) {
  EditTestModel m;
  auto o = options({1});
  o.max_tokens = 13;
  const auto s = compute_second_moments(m.model(), TextCorpus::from_documents("t", testing::test_corpus_documents(20)), o);
  EXPECT_EQ(s[0].n_tokens, 13);
}

TEST(SecondMoment, CacheIsReusedOnlyForTheSameKey) {
  EditTestModel m;
  testing::TempDir dir;
  auto o = options({0, 1});
  o.cache_dir = dir.path();
  o.stored_dtype = at::kFloat;
  const auto corpus = TextCorpus::from_documents("t", testing::test_corpus_documents(9));
  const auto first = compute_second_moments(m.model(), corpus, o);
  const auto again = compute_second_moments(m.model(), corpus, o);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_TRUE(again[i].from_cache);
    EXPECT_TRUE(at::equal(first[i].mom2, again[i].mom2)) << "a cached statistic equals a fresh one bit for bit";
    EXPECT_EQ(again[i].n_tokens, first[i].n_tokens);
    EXPECT_TRUE(std::filesystem::exists(first[i].cache_file));
  }
  // Each key field changes the file: other weights, corpus, budget, dtype.
  auto other = o;
  other.weights_sha256 = "v";
  EXPECT_FALSE(compute_second_moments(m.model(), corpus, other)[0].from_cache);
  EXPECT_FALSE(compute_second_moments(m.model(), TextCorpus::from_documents("t", testing::test_corpus_documents(9, 1)), o)[0].from_cache);
  other = o;
  other.max_tokens = 5;
  EXPECT_FALSE(compute_second_moments(m.model(), corpus, other)[0].from_cache);
  other = o;
  other.stored_dtype = at::kDouble;
  EXPECT_FALSE(compute_second_moments(m.model(), corpus, other)[0].from_cache);
}

TEST(SecondMoment, StaleOrCorruptCacheFileIsRecomputed) {
  EditTestModel m;
  testing::TempDir dir;
  auto o = options({1});
  o.cache_dir = dir.path();
  const auto corpus = TextCorpus::from_documents("t", testing::test_corpus_documents(5));
  const auto first = compute_second_moments(m.model(), corpus, o)[0];
  // Same file name, metadata of another key: must not be used.
  auto wrong = first.key;
  wrong["corpus_sha256"] = "0";
  harness::write_safetensors(first.cache_file, {{"mom2", at::zeros_like(first.mom2.cpu())}},
                             {{"format", "editgate.mom2.v2"}, {"key", wrong.dump()}, {"n_tokens", "1"}});
  auto s = compute_second_moments(m.model(), corpus, o)[0];
  EXPECT_FALSE(s.from_cache);
  EXPECT_TRUE(at::equal(s.mom2, first.mom2));
  std::ofstream(first.cache_file, std::ios::trunc) << "garbage";
  s = compute_second_moments(m.model(), corpus, o)[0];
  EXPECT_FALSE(s.from_cache);
  EXPECT_TRUE(compute_second_moments(m.model(), corpus, o)[0].from_cache);
}

// One flipped bit in the cached data (a disk error, a hand edit): the header,
// key and shape still match, only the checksum tells. Must be recomputed.
TEST(SecondMoment, CacheWithAFlippedByteIsDetectedAndRecomputed) {
  EditTestModel m;
  testing::TempDir dir;
  auto o = options({1});
  o.cache_dir = dir.path();
  const auto corpus = TextCorpus::from_documents("t", testing::test_corpus_documents(5));
  const auto first = compute_second_moments(m.model(), corpus, o)[0];
  ASSERT_TRUE(compute_second_moments(m.model(), corpus, o)[0].from_cache);
  {
    std::fstream f(first.cache_file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(-3, std::ios::end);  // inside the last float of the data buffer
    char c = 0;
    f.get(c);
    f.seekp(-3, std::ios::end);
    f.put(static_cast<char>(c ^ 0x10));
  }
  const auto s = compute_second_moments(m.model(), corpus, o)[0];
  EXPECT_FALSE(s.from_cache) << "a corrupted cache must not be used";
  EXPECT_TRUE(at::equal(s.mom2, first.mom2));
  EXPECT_TRUE(compute_second_moments(m.model(), corpus, o)[0].from_cache) << "the recomputed cache is written back";
}

TEST(SecondMoment, RejectsBadInput) {
  EditTestModel m;
  const auto corpus = TextCorpus::from_documents("t", {"ka lo"});
  EXPECT_THROW(compute_second_moments(m.model(), corpus, options({9})), InputError);
  auto o = options({0});
  o.weights_sha256.clear();
  o.cache_dir = "/tmp";
  EXPECT_THROW(compute_second_moments(m.model(), corpus, o), InputError);
  EXPECT_THROW(compute_second_moments(m.model(), TextCorpus::from_documents("t", {}), options({0})), InputError);
}

TEST(TextCorpus, ReadsPlainTextAndJsonLines) {
  testing::TempDir dir;
  std::ofstream(dir / "c.txt") << "ka lo\n\n  \nmi ra\r\n";
  std::ofstream(dir / "c.jsonl") << "{\"text\": \"ka lo\"}\n\n{\"text\": \"mi ra\", \"id\": 2}\n";
  for (const char* name : {"c.txt", "c.jsonl"}) {
    std::vector<std::string> docs;
    const auto c = TextCorpus::from_file(dir / name);
    c.for_each([&](std::string_view d) {
      docs.emplace_back(d);
      return true;
    });
    EXPECT_EQ(docs, (std::vector<std::string>{"ka lo", "mi ra"})) << name;
    EXPECT_EQ(c.sha256().size(), 64u);
  }
}

TEST(TextCorpus, RejectsBadFilesNamingTheLine) {
  testing::TempDir dir;
  EXPECT_THROW(TextCorpus::from_file(dir / "none.txt"), InputError);
  std::ofstream(dir / "empty.txt") << "";
  EXPECT_THROW(TextCorpus::from_file(dir / "empty.txt"), InputError);
  std::ofstream(dir / "bad.jsonl") << "{\"text\": \"a\"}\n{\"body\": \"b\"}\n";
  const auto c = TextCorpus::from_file(dir / "bad.jsonl");
  try {
    c.for_each([](std::string_view) { return true; });
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(e.field(), "line 2: text");
  }
  std::ofstream(dir / "bad2.jsonl") << "{oops\n";
  EXPECT_THROW(TextCorpus::from_file(dir / "bad2.jsonl").for_each([](std::string_view) { return true; }), InputError);
}

}  // namespace
}  // namespace editgate::editors

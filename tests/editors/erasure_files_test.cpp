// The file jobs behind `editgate erase` and `editgate probe`: outputs and
// their consistency (P = I - proj_left proj_right, X_erased = eraser(X), the
// output loads as an Eraser), the same output whatever the chunk size erase
// streams in, the holdout mask and what probe does with it, and one malformed
// input per validation branch (each an InputError).
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <limits>

#include "editors/eraser.h"
#include "editors/erasure_files.h"
#include "editors/labeled_data.h"
#include "harness/input_error.h"
#include "harness/safetensors_reader.h"
#include "harness/safetensors_writer.h"
#include "tests/editors/synthetic_concept.h"
#include "tests/harness/tiny_checkpoint.h"

namespace editgate::testing {
namespace {

using Named = std::vector<std::pair<std::string, at::Tensor>>;

std::filesystem::path write_xz(const TempDir& dir, const Named& tensors, const std::string& name = "in.safetensors") {
  const auto path = dir / name;
  harness::write_safetensors(path, tensors);
  return path;
}

Named concept_tensors(int64_t n = 600, int64_t d = 6, int64_t k = 3, at::ScalarType dtype = at::kFloat) {
  const auto data = make_concept({.n = n, .d = d, .k = k, .linear = 2.0, .seed = 13});
  return {{"X", data.x.to(dtype)}, {"Z", data.z}};
}

TEST(EraseFile, WritesAConsistentEraserAndErasedData) {
  TempDir dir;
  const auto in = write_xz(dir, concept_tensors());
  const auto report = editors::erase_file(in, dir / "out.safetensors", {});
  EXPECT_EQ(report["fit"]["rank"], 2);
  EXPECT_LT(report["max_abs_cov_xz_after"].get<double>(), 1e-6);  // X_erased is stored as f32
  EXPECT_GT(report["max_abs_cov_xz_before"].get<double>(), 0.05);
  const auto out = harness::SafetensorsFile::open(dir / "out.safetensors");
  EXPECT_EQ(out->metadata().at("format"), "editgate.erase");
  EXPECT_EQ(out->metadata().at("fitted_on"), "all rows");
  EXPECT_EQ(nlohmann::json::parse(out->metadata().at("report"))["fit"]["rank"], 2);
  const auto eraser = editors::Eraser::load(dir / "out.safetensors");
  const at::Tensor p = out->tensor("P");
  EXPECT_LT(max_diff(p, eraser.projection()), 1e-15);
  const at::Tensor x = harness::SafetensorsFile::open(in)->tensor("X");
  const at::Tensor x_erased = out->tensor("X_erased");
  EXPECT_EQ(x_erased.scalar_type(), at::kFloat);
  EXPECT_LT(max_diff(x_erased, eraser.apply(x.to(at::kDouble))), 1e-5);
  EXPECT_TRUE(at::equal(out->tensor("Z"), harness::SafetensorsFile::open(in)->tensor("Z")));
}

TEST(EraseFile, StreamedBatchesGiveTheSameEraser) {
  TempDir dir;
  const auto in = write_xz(dir, concept_tensors(600, 6, 3, at::kDouble));
  editors::erase_file(in, dir / "a.safetensors", {});
  editors::EraseFileOptions batched;
  batched.batch_size = 17;
  editors::erase_file(in, dir / "b.safetensors", batched);
  const auto a = harness::SafetensorsFile::open(dir / "a.safetensors");
  const auto b = harness::SafetensorsFile::open(dir / "b.safetensors");
  EXPECT_LT(max_diff(a->tensor("P"), b->tensor("P")), 1e-10);
  EXPECT_LT(max_diff(a->tensor("X_erased"), b->tensor("X_erased")), 1e-10);
}

// `erase` reads X and writes X_erased in chunks of --batch-size rows: the chunk
// size moves the statistics by rounding only, so X_erased and the report stay
// the same, with and without a holdout; and X_erased is the stored eraser applied
// to X in one shot.
TEST(EraseFile, OutputIsUnchangedByChunkSize) {
  TempDir dir;
  const auto in = write_xz(dir, concept_tensors(1000, 6, 3));
  const at::Tensor x = harness::SafetensorsFile::open(in)->tensor("X").to(at::kDouble);
  for (const double holdout : {0.0, 0.3}) {
    nlohmann::json first;
    at::Tensor first_erased;
    for (const int64_t rows : {0, 1, 7, 64, 999}) {
      SCOPED_TRACE(::testing::Message() << "holdout " << holdout << ", rows " << rows);
      editors::EraseFileOptions opts;
      opts.batch_size = rows;
      opts.holdout = holdout;
      const auto path = dir / ("out_" + std::to_string(rows) + ".safetensors");
      const auto report = editors::erase_file(in, path, opts);
      const auto out = harness::SafetensorsFile::open(path);
      const at::Tensor erased = out->tensor("X_erased");
      EXPECT_LT(max_diff(erased, editors::Eraser::load(path).apply(x).to(at::kFloat)), 1e-6);
      if (!first_erased.defined()) {
        first = report;
        first_erased = erased.clone();
        continue;
      }
      EXPECT_LT(max_diff(erased, first_erased), 1e-6);  // a float ulp at most
      EXPECT_EQ(report["n_fit"], first["n_fit"]);
      for (const char* key : {"max_abs_cov_xz_before", "mean_squared_change"}) {
        EXPECT_NEAR(report[key].get<double>(), first[key].get<double>(), 1e-12 * first[key].get<double>()) << key;
      }
      EXPECT_LT(report["max_abs_cov_xz_after"].get<double>(), 1e-6);
    }
  }
}

// The finiteness check runs in row chunks (no bool copy of X): a bad value past
// the first chunk is still found and named by its row.
TEST(EraseFile, FindsANonFiniteValuePastTheFirstChunk) {
  const int64_t d = int64_t{1} << 17;  // chunks of 32 rows
  at::Tensor x = at::zeros({40, d});
  x[37][d - 1] = std::numeric_limits<float>::infinity();
  const at::Tensor z = at::arange(40, at::kLong) % 2;
  try {
    editors::validate_labeled(x, z, {"in.safetensors"});
    ADD_FAILURE() << "no InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("NaN or Inf in row 37"), std::string::npos) << e.what();
  }
}

// erase checks finiteness chunk by chunk in its fit pass: a NaN in a later
// chunk is named by its row, and nothing is written.
TEST(EraseFile, RejectsANonFiniteValueInALaterChunk) {
  TempDir dir;
  auto tensors = concept_tensors(600, 6, 3);
  tensors[0].second[500][2] = std::numeric_limits<float>::quiet_NaN();
  const auto in = write_xz(dir, tensors);
  editors::EraseFileOptions opts;
  opts.batch_size = 64;
  try {
    editors::erase_file(in, dir / "out.safetensors", opts);
    ADD_FAILURE() << "no InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("NaN or Inf in row 500"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "out.safetensors"));
}

TEST(EraseFile, OrthAndOracleMethods) {
  TempDir dir;
  const auto in = write_xz(dir, concept_tensors(600, 6, 3, at::kDouble));
  editors::EraseFileOptions orth;
  orth.method = "orth";
  EXPECT_EQ(editors::erase_file(in, dir / "orth.safetensors", orth)["fit"]["method"], "orth");
  editors::EraseFileOptions oracle;
  oracle.method = "oracle";
  const auto r = editors::erase_file(in, dir / "oracle.safetensors", oracle);
  EXPECT_LT(r["max_abs_cov_xz_after"].get<double>(), 1e-10);
  const auto out = harness::SafetensorsFile::open(dir / "oracle.safetensors");
  EXPECT_NE(out->find("oracle_coef"), nullptr);
  EXPECT_EQ(out->find("proj_left"), nullptr);
  editors::EraseFileOptions bad;
  bad.method = "rlace";
  EXPECT_THROW(editors::erase_file(in, dir / "bad.safetensors", bad), InputError);
}

TEST(EraseFile, HoldoutMarksFitRowsAndProbeScoresOnlyTheOthers) {
  TempDir dir;
  const auto in = write_xz(dir, concept_tensors(1000, 6, 2));
  editors::EraseFileOptions opts;
  opts.holdout = 0.5;
  const auto r = editors::erase_file(in, dir / "out.safetensors", opts);
  EXPECT_EQ(r["n_fit"], 500);
  const auto out = harness::SafetensorsFile::open(dir / "out.safetensors");
  EXPECT_EQ(out->tensor("fit_mask").sum().item<int64_t>(), 500);
  editors::ProbeFileOptions probe;
  probe.tensor = "X_erased";
  const auto p = editors::probe_file(dir / "out.safetensors", probe);
  EXPECT_EQ(p["excluded_fit_rows"], 500);
  EXPECT_EQ(p["n"], 500);
  EXPECT_TRUE(p["warnings"].empty());
  // Without a holdout, probe warns that the erasure was in-sample.
  editors::erase_file(in, dir / "insample.safetensors", {});
  const auto q = editors::probe_file(dir / "insample.safetensors", probe);
  ASSERT_EQ(q["warnings"].size(), 1u);
  EXPECT_NE(q["warnings"][0].get<std::string>().find("leakage"), std::string::npos);
}

TEST(ProbeFile, ReportsAccuracyChanceAndInterval) {
  TempDir dir;
  const auto in = write_xz(dir, concept_tensors(1000, 6, 3));
  const auto r = editors::probe_file(in, {});
  const auto& lr = r["logistic"];
  EXPECT_GT(lr["accuracy"].get<double>(), lr["chance_accuracy"].get<double>());
  EXPECT_EQ(lr["n_test"].get<int64_t>() + lr["n_train"].get<int64_t>(), 1000);
  EXPECT_TRUE(r.contains("quadratic"));
  editors::ProbeFileOptions bad;
  bad.test_fraction = 1.2;
  EXPECT_THROW(editors::probe_file(in, bad), InputError);
  bad = {};
  bad.tensor = "Nope";
  EXPECT_THROW(editors::probe_file(in, bad), InputError);
}

// One malformed input per validation branch of validate_labeled, through erase_file.
void expect_erase_error(const Named& tensors, const std::string& needle) {
  TempDir dir;
  const auto in = write_xz(dir, tensors);
  try {
    editors::erase_file(in, dir / "out.safetensors", {});
    FAIL() << "accepted; expected an error mentioning " << needle;
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    EXPECT_FALSE(std::filesystem::exists(dir / "out.safetensors"));
  }
}

TEST(EraseFile, RejectsMalformedInputs) {
  const at::Tensor x = at::randn({10, 3}, at::kFloat);
  const at::Tensor z = at::tensor(std::vector<int64_t>{0, 1, 0, 1, 0, 1, 0, 1, 0, 1});
  expect_erase_error({{"Z", z}}, "tensor 'X'");
  expect_erase_error({{"X", x}}, "tensor 'Z'");
  expect_erase_error({{"X", x.flatten()}, {"Z", z}}, "2-D tensor [n, d]");
  expect_erase_error({{"X", x.to(at::kHalf)}, {"Z", z}}, "dtype F32 or F64");
  expect_erase_error({{"X", x.to(at::kInt)}, {"Z", z}}, "dtype F32 or F64");
  expect_erase_error({{"X", x}, {"Z", z.to(at::kFloat)}}, "dtype I64");
  expect_erase_error({{"X", x}, {"Z", z.view({5, 2})}}, "1-D tensor");
  expect_erase_error({{"X", x}, {"Z", z.narrow(0, 0, 9)}}, "10 labels");
  expect_erase_error({{"X", x.narrow(0, 0, 1)}, {"Z", z.narrow(0, 0, 1)}}, "at least 2 rows");
  expect_erase_error({{"X", at::zeros({10, 0}, at::kFloat)}, {"Z", z}}, "at least 1 feature");
  at::Tensor nan = x.clone();
  nan[7][1] = std::numeric_limits<float>::quiet_NaN();
  expect_erase_error({{"X", nan}, {"Z", z}}, "NaN or Inf in row 7");
  at::Tensor inf = x.clone();
  inf[2][0] = INFINITY;
  expect_erase_error({{"X", inf}, {"Z", z}}, "NaN or Inf in row 2");
  expect_erase_error({{"X", x}, {"Z", z - 1}}, "labels >= 0");
  expect_erase_error({{"X", x}, {"Z", at::zeros({10}, at::kLong)}}, "at least 2 distinct classes");
}

}  // namespace
}  // namespace editgate::testing

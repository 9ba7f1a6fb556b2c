// write_safetensors: bit-identical round trips through SafetensorsFile for every
// dtype, the reference layout (padding, order, alignment), rejected inputs, and
// conformance with the reference Python package in both directions
// (tests/conformance/safetensors_roundtrip.py).
#include "harness/safetensors_writer.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <functional>
#include <fstream>
#include <sstream>

#include "harness/input_error.h"
#include "harness/safetensors_reader.h"

namespace fs = std::filesystem;
using editgate::InputError;
using editgate::harness::SafetensorsFile;
using editgate::harness::write_safetensors;
using Named = std::vector<std::pair<std::string, at::Tensor>>;

namespace {

fs::path test_dir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const fs::path dir = fs::temp_directory_path() /
                       ("editgate_st_writer_" + std::string(info->name()) + "_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

::testing::AssertionResult same_bytes(const at::Tensor& got, const at::Tensor& want) {
  if (got.scalar_type() != want.scalar_type() || got.sizes() != want.sizes()) {
    return ::testing::AssertionFailure() << "got " << got.scalar_type() << got.sizes() << ", want "
                                         << want.scalar_type() << want.sizes();
  }
  const at::Tensor a = got.contiguous(), b = want.contiguous();
  if (a.nbytes() > 0 && std::memcmp(a.const_data_ptr(), b.const_data_ptr(), a.nbytes()) != 0) {
    return ::testing::AssertionFailure() << want.scalar_type() << ": bytes differ";
  }
  return ::testing::AssertionSuccess();
}

// Random bytes reinterpreted as `dtype`: every bit pattern (NaNs included) must
// survive the round trip. Bools get 0/1 only, the values libtorch allows.
at::Tensor random_tensor(at::ScalarType dtype, std::vector<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  const int64_t item = c10::elementSize(dtype);
  at::Tensor raw = at::randint(0, 256, {n * item}, at::kByte);
  if (dtype == at::kBool) raw = raw.remainder(2);
  return raw.view(dtype).reshape(shape);
}

const at::ScalarType kAllDtypes[] = {
    at::kBool,  at::kByte,     at::kChar,   at::kShort,   at::kUInt16,        at::kHalf,
    at::kBFloat16, at::kInt,   at::kUInt32, at::kFloat,   at::kDouble,        at::kLong,
    at::kUInt64, at::kComplexFloat, at::kFloat8_e5m2, at::kFloat8_e4m3fn, at::kFloat8_e4m3fnuz,
    at::kFloat8_e5m2fnuz, at::kFloat8_e8m0fnu};

// ---- conformance with the reference Python package ------------------------

std::string python() {
  if (const char* env = std::getenv("EDITGATE_PYTHON")) return env;
  return std::string(EDITGATE_SOURCE_DIR) + "/.venv/bin/python";
}

int run(const std::string& command) {
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// True when the venv python can import torch and safetensors.
bool have_reference() {
  return fs::exists(python()) && run("'" + python() + "' -c 'import torch, safetensors' >/dev/null 2>&1") == 0;
}

std::string script() { return std::string(EDITGATE_SOURCE_DIR) + "/tests/conformance/safetensors_roundtrip.py"; }

// Same as sample() in safetensors_roundtrip.py; same torch build, same conversions.
at::Tensor sample(at::ScalarType dtype, std::vector<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  const at::Tensor i = at::arange(n, at::kLong);
  at::Tensor t;
  if (dtype == at::kBool) {
    t = i.remainder(3).eq(0);
  } else if (at::isComplexType(dtype)) {
    t = at::complex(i.to(at::kDouble) * 0.5 - 1.0, i.to(at::kDouble) * -0.25).to(dtype);
  } else if (at::isFloatingType(dtype)) {
    t = (i.to(at::kDouble) * 0.37 - 1.5).to(dtype);
  } else {
    t = (i * 37 + 11).remainder(100).to(dtype);
  }
  return t.reshape(shape);
}

// Keep in sync with SAMPLES in safetensors_roundtrip.py.
Named conformance_samples() {
  return {{"bool", sample(at::kBool, {2, 3})},        {"u8", sample(at::kByte, {5})},
          {"i8", sample(at::kChar, {5})},             {"i16", sample(at::kShort, {2, 2})},
          {"u16", sample(at::kUInt16, {3})},          {"i32", sample(at::kInt, {4})},
          {"u32", sample(at::kUInt32, {3})},          {"i64", sample(at::kLong, {3, 1})},
          {"u64", sample(at::kUInt64, {2})},          {"f16", sample(at::kHalf, {2, 3})},
          {"bf16", sample(at::kBFloat16, {7})},       {"f32", sample(at::kFloat, {3, 4})},
          {"f64", sample(at::kDouble, {2, 2})},       {"c64", sample(at::kComplexFloat, {3})},
          {"f8_e4m3", sample(at::kFloat8_e4m3fn, {6})}, {"f8_e5m2", sample(at::kFloat8_e5m2, {6})},
          {"scalar", sample(at::kFloat, {})},         {"empty", sample(at::kFloat, {0, 4})}};
}
const std::map<std::string, std::string> kConformanceMetadata{{"format", "pt"},
                                                              {"note", "editgate conformance"}};

}  // namespace

TEST(SafetensorsWriter, RoundTripsEveryDtypeBitIdentical) {
  Named tensors;
  for (const auto dtype : kAllDtypes) tensors.emplace_back(c10::toString(dtype), random_tensor(dtype, {3, 5}));
  const fs::path p = test_dir() / "all.safetensors";
  write_safetensors(p, tensors);
  const auto file = SafetensorsFile::open(p);
  ASSERT_EQ(file->tensors().size(), tensors.size());
  for (const auto& [name, t] : tensors) {
    SCOPED_TRACE(name);
    EXPECT_TRUE(same_bytes(file->tensor(name), t));
  }
}

TEST(SafetensorsWriter, LaysOutByDescendingElementSizeThenNameWithPaddedHeader) {
  const Named tensors{{"a", at::ones({3}, at::kHalf)},  {"b", at::ones({3}, at::kFloat)},
                      {"c", at::ones({5}, at::kByte)},  {"d", at::ones({1}, at::kDouble)},
                      {"e", at::ones({1}, at::kFloat)}, {"f", at::ones({2}, at::kComplexFloat)}};
  const fs::path p = test_dir() / "layout.safetensors";
  write_safetensors(p, tensors);
  const std::string bytes = slurp(p);
  uint64_t header_size = 0;
  std::memcpy(&header_size, bytes.data(), 8);
  EXPECT_EQ(header_size % 8, 0u);
  const std::string header = bytes.substr(8, header_size);
  EXPECT_EQ(header.find_last_not_of(' '), header.rfind('}')) << "pads with spaces only: " << header;

  const auto file = SafetensorsFile::open(p);
  std::vector<std::pair<uint64_t, std::string>> order;
  for (const auto& t : file->tensors()) {
    order.emplace_back(t.begin, t.name);
    const auto* dtype = editgate::harness::find_safetensors_dtype(t.dtype_name);
    EXPECT_EQ((8 + header_size + t.begin) % (dtype->bits / 8), 0u) << t.name << " is misaligned";
    EXPECT_EQ(file->tensor(t.name).data_ptr(), file->tensor(t.name).data_ptr()) << t.name << " was copied";
  }
  std::sort(order.begin(), order.end());
  std::vector<std::string> names;
  for (const auto& [begin, name] : order) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"d", "f", "b", "e", "a", "c"}));
}

TEST(SafetensorsWriter, RoundTripsMetadataAndOmitsItWhenEmpty) {
  const fs::path p = test_dir() / "meta.safetensors";
  const std::map<std::string, std::string> metadata{{"format", "pt"}, {"ünïcode", "välue \"quoted\""}};
  write_safetensors(p, {{"x", at::zeros({2})}}, metadata);
  EXPECT_EQ(SafetensorsFile::open(p)->metadata(), metadata);
  write_safetensors(p, {{"x", at::zeros({2})}});
  EXPECT_EQ(slurp(p).find("__metadata__"), std::string::npos);
}

TEST(SafetensorsWriter, WritesEmptyScalarAndNoTensors) {
  const fs::path p = test_dir() / "edge.safetensors";
  write_safetensors(p, {});
  EXPECT_TRUE(SafetensorsFile::open(p)->tensors().empty());
  write_safetensors(p, {{"empty", at::zeros({0, 3})}, {"scalar", at::scalar_tensor(2.5, at::kDouble)}});
  const auto file = SafetensorsFile::open(p);
  EXPECT_EQ(file->tensor("empty").sizes(), (std::vector<int64_t>{0, 3}));
  EXPECT_EQ(file->tensor("scalar").item<double>(), 2.5);
}

TEST(SafetensorsWriter, WritesNonContiguousAndConjugateViewsAsTheirValues) {
  const at::Tensor base = at::arange(12, at::kFloat).reshape({3, 4});
  const at::Tensor complex = at::complex(at::arange(3, at::kFloat), at::ones({3}));
  const fs::path p = test_dir() / "views.safetensors";
  write_safetensors(p, {{"t", base.t()}, {"strided", base.select(1, 1)},
                        {"conj", complex.conj()}, {"expanded", at::ones({1}).expand({4})}});
  const auto file = SafetensorsFile::open(p);
  EXPECT_TRUE(at::equal(file->tensor("t"), base.t().contiguous()));
  EXPECT_TRUE(at::equal(file->tensor("strided"), at::tensor({1.0f, 5.0f, 9.0f})));
  EXPECT_TRUE(at::equal(file->tensor("conj"), complex.conj().resolve_conj()));
  EXPECT_FLOAT_EQ(at::imag(file->tensor("conj"))[0].item<float>(), -1.0f);
  EXPECT_TRUE(at::equal(file->tensor("expanded"), at::ones({4})));
}

TEST(SafetensorsWriter, CopiesCudaTensorsToHost) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  const at::Tensor t = at::arange(6, at::kFloat).reshape({2, 3});
  const fs::path p = test_dir() / "cuda.safetensors";
  write_safetensors(p, {{"t", t.to(at::kCUDA).t()}});
  EXPECT_TRUE(at::equal(SafetensorsFile::open(p)->tensor("t"), t.t().contiguous()));
}

TEST(SafetensorsWriter, RejectsBadInputAndKeepsExistingFile) {
  const fs::path p = test_dir() / "keep.safetensors";
  write_safetensors(p, {{"x", at::ones({2})}});
  const std::string before = slurp(p);
  struct Case {
    Named tensors;
    std::string field, text;
  };
  const std::vector<Case> cases = {
      {{{"x", at::ones({1})}, {"x", at::ones({2})}}, "tensor 'x'", "unique tensor names"},
      {{{"__metadata__", at::ones({1})}}, "tensor '__metadata__'", "other than __metadata__"},
      {{{"z", at::ones({1}, at::kComplexDouble)}}, "tensor 'z'", "got ComplexDouble"},
      {{{"u", at::Tensor()}}, "tensor 'u'", "a defined tensor"},
      {{{"s", at::ones({2, 2}).to_sparse()}}, "tensor 's'", "to_dense()"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.field);
    try {
      write_safetensors(p, c.tensors);
      ADD_FAILURE() << "no InputError";
    } catch (const InputError& e) {
      EXPECT_EQ(e.path(), p.string());
      EXPECT_EQ(e.field(), c.field);
      EXPECT_NE(std::string(e.what()).find(c.text), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(slurp(p), before);
  EXPECT_EQ(std::distance(fs::directory_iterator(p.parent_path()), fs::directory_iterator{}), 1)
      << "no temporaries left behind";
}

// A streamed tensor (erase's X_erased) gives the same bytes as the whole tensor,
// in whatever chunks it comes; chunks that do not cover it exactly are refused
// and leave the existing file as it was.
TEST(SafetensorsWriter, StreamedTensorWritesTheSameBytesAsTheWholeOne) {
  const fs::path dir = test_dir();
  const at::Tensor big = at::randn({10, 3});
  const at::Tensor small = at::arange(4, at::kLong);
  write_safetensors(dir / "whole.safetensors", {{"b", big}, {"a", small}}, {{"k", "v"}});
  const auto streamed = [&](std::vector<int64_t> chunks) {
    return editgate::harness::StreamedTensor{
        "b", at::kFloat, {10, 3}, [&big, chunks](const std::function<void(const at::Tensor&)>& write) {
          int64_t start = 0;
          for (const int64_t len : chunks) {
            write(start + len <= 10 ? big.narrow(0, start, len) : at::zeros({len, 3}));  // past the end: too many rows
            start += len;
          }
        }};
  };
  for (const auto& chunks : std::vector<std::vector<int64_t>>{{10}, {1, 2, 3, 4}, {0, 7, 3}}) {
    write_safetensors(dir / "streamed.safetensors", {{"a", small}}, {streamed(chunks)}, {{"k", "v"}});
    EXPECT_EQ(slurp(dir / "streamed.safetensors"), slurp(dir / "whole.safetensors")) << chunks.size() << " chunks";
  }
  const std::string before = slurp(dir / "streamed.safetensors");
  for (const auto& chunks : std::vector<std::vector<int64_t>>{{9}, {5, 5, 1}}) {
    try {
      write_safetensors(dir / "streamed.safetensors", {{"a", small}}, {streamed(chunks)});
      ADD_FAILURE() << "chunks that miss the shape were accepted";
    } catch (const c10::Error&) {
    }
  }
  EXPECT_EQ(slurp(dir / "streamed.safetensors"), before);
}

TEST(SafetensorsConformance, ReadsFilesWrittenByPythonSafetensors) {
  if (!have_reference()) GTEST_SKIP() << python() << " cannot import torch and safetensors; run scripts/setup.sh";
  const fs::path p = test_dir() / "from_python.safetensors";
  ASSERT_EQ(run("'" + python() + "' '" + script() + "' write '" + p.string() + "'"), 0);
  const auto file = SafetensorsFile::open(p);
  EXPECT_EQ(file->metadata(), kConformanceMetadata);
  const Named samples = conformance_samples();
  ASSERT_EQ(file->tensors().size(), samples.size());
  for (const auto& [name, want] : samples) {
    SCOPED_TRACE(name);
    EXPECT_TRUE(same_bytes(file->tensor(name), want));
  }
}

TEST(SafetensorsConformance, PythonSafetensorsReadsOurFiles) {
  if (!have_reference()) GTEST_SKIP() << python() << " cannot import torch and safetensors; run scripts/setup.sh";
  const fs::path p = test_dir() / "from_editgate.safetensors";
  write_safetensors(p, conformance_samples(), kConformanceMetadata);
  EXPECT_EQ(run("'" + python() + "' '" + script() + "' check '" + p.string() + "'"), 0)
      << "see the mismatches printed above";
}

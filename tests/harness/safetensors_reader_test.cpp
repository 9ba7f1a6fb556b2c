// SafetensorsFile: one test per validation branch, each feeding hand-written
// malformed bytes (in the spirit of ml-explore/mlx tests/load_tests.cpp) and
// checking that the InputError names the file and the field; then the read paths
// (zero-copy alias, misaligned copy, sub-byte dtypes, metadata).
#include "harness/safetensors_reader.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "harness/input_error.h"

namespace fs = std::filesystem;
using editgate::InputError;
using editgate::harness::SafetensorsFile;

namespace {

fs::path test_dir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const fs::path dir = fs::temp_directory_path() /
                       ("editgate_st_reader_" + std::string(info->name()) + "_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir;
}

// u64 little-endian header length, header, data: the whole file.
std::string file_bytes(std::string_view header, std::string_view data = {}) {
  const uint64_t n = header.size();
  std::string out(reinterpret_cast<const char*>(&n), 8);
  return out.append(header).append(data);
}

fs::path write_raw(const std::string& bytes, const std::string& name = "t.safetensors") {
  const fs::path p = test_dir() / name;
  std::ofstream(p, std::ios::binary) << bytes;
  return p;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Opens `bytes` as a file and expects an InputError naming that file, whose field
// contains `field` and whose message contains `text`.
void expect_rejected(const std::string& bytes, std::string_view field, std::string_view text) {
  const fs::path p = write_raw(bytes);
  try {
    SafetensorsFile::open(p);
    ADD_FAILURE() << "no InputError; expected one on field '" << field << "'";
  } catch (const InputError& e) {
    EXPECT_EQ(e.path(), p.string()) << e.what();
    EXPECT_NE(e.field().find(field), std::string::npos) << "field: " << e.field() << "\n" << e.what();
    EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
  }
}

const std::string kEightBytes(8, '\0');

// Pads a header with spaces to a multiple of 8, as the reference writer does.
std::string padded(std::string header) { return header.append((8 - header.size() % 8) % 8, ' '); }

std::string one_tensor(std::string_view entry) { return "{\"w\":" + std::string(entry) + "}"; }

}  // namespace

TEST(SafetensorsReader, RejectsFileShorterThanEightBytes) {
  expect_rejected("abc", "header length", "a file of 3 bytes (truncated download?)");
}

TEST(SafetensorsReader, RejectsZeroHeaderLength) {
  expect_rejected(file_bytes("", "{}"), "header length", "got 0 bytes");
}

TEST(SafetensorsReader, RejectsHeaderLongerThanLimit) {
  std::string bytes = file_bytes("{}");
  const uint64_t n = 100'000'001;
  std::memcpy(bytes.data(), &n, 8);
  expect_rejected(bytes, "header length", "at most 100000000 bytes");
}

TEST(SafetensorsReader, RejectsHeaderPastEndOfFile) {
  std::string bytes = file_bytes("{\"w\":{}}");
  const uint64_t n = 4000;
  std::memcpy(bytes.data(), &n, 8);
  expect_rejected(bytes, "header length", "got 4000 bytes (truncated download?)");
}

TEST(SafetensorsReader, RejectsHeaderThatIsNotAnObject) {
  expect_rejected(file_bytes("[1]     "), "header", "a JSON object starting with '{'");
  expect_rejected(file_bytes("  {}    "), "header", "a JSON object starting with '{'");
}

TEST(SafetensorsReader, RejectsInvalidJson) {
  expect_rejected(file_bytes("{\"w\":   "), "header", "valid JSON");
  // nlohmann alone would stop at the NUL and accept the header.
  expect_rejected(file_bytes(std::string("{}\0\0\0\0\0\0", 8)), "header", "a NUL byte at offset 2");
}

TEST(SafetensorsReader, RejectsInvalidUtf8) {
  expect_rejected(file_bytes("{\"\xff\xfe\":{}}"), "header", "ill-formed UTF-8");
}

TEST(SafetensorsReader, RejectsDuplicateTensorNames) {
  const std::string e = R"({"dtype":"F32","shape":[1],"data_offsets":[0,4]})";
  expect_rejected(file_bytes("{\"w\":" + e + ",\"w\":" + e + "}", kEightBytes.substr(0, 4)),
                  "tensor 'w'", "duplicate key 'w'");
}

TEST(SafetensorsReader, RejectsDuplicateKeysInsideEntry) {
  expect_rejected(
      file_bytes(one_tensor(R"({"dtype":"F32","dtype":"I32","shape":[1],"data_offsets":[0,4]})"), "abcd"),
      "tensor 'w': key 'dtype'", "duplicate key 'dtype'");
  expect_rejected(file_bytes(R"({"__metadata__":{"a":"1","a":"2"}})"), "__metadata__: key 'a'",
                  "duplicate");
}

TEST(SafetensorsReader, RejectsMetadataThatIsNotAnObject) {
  expect_rejected(file_bytes(R"({"__metadata__":["a"]})"), "__metadata__", "got array");
}

TEST(SafetensorsReader, RejectsMetadataWithNonStringValue) {
  expect_rejected(file_bytes(R"({"__metadata__":{"step":3}})"), "__metadata__: key 'step'",
                  "expected a string value, got number");
}

TEST(SafetensorsReader, RejectsEntryThatIsNotAnObject) {
  expect_rejected(file_bytes(one_tensor("[0,4]")), "tensor 'w'", "got array");
}

TEST(SafetensorsReader, RejectsMissingDtype) {
  expect_rejected(file_bytes(one_tensor(R"({"shape":[1],"data_offsets":[0,4]})"), "abcd"),
                  "tensor 'w': dtype", "no dtype key");
}

TEST(SafetensorsReader, RejectsDtypeThatIsNotAString) {
  expect_rejected(file_bytes(one_tensor(R"({"dtype":32,"shape":[1],"data_offsets":[0,4]})"), "abcd"),
                  "tensor 'w': dtype", "got number");
}

TEST(SafetensorsReader, RejectsUnknownDtype) {
  expect_rejected(file_bytes(one_tensor(R"({"dtype":"F128","shape":[1],"data_offsets":[0,16]})")),
                  "tensor 'w': dtype", "got 'F128'");
}

TEST(SafetensorsReader, RejectsMissingShape) {
  expect_rejected(file_bytes(one_tensor(R"({"dtype":"F32","data_offsets":[0,4]})"), "abcd"),
                  "tensor 'w': shape", "no shape key");
}

TEST(SafetensorsReader, RejectsShapeThatIsNotAnArray) {
  expect_rejected(file_bytes(one_tensor(R"({"dtype":"F32","shape":1,"data_offsets":[0,4]})"), "abcd"),
                  "tensor 'w': shape", "got number");
}

TEST(SafetensorsReader, RejectsNegativeDim) {
  expect_rejected(file_bytes(one_tensor(R"({"dtype":"F32","shape":[2,-1],"data_offsets":[0,4]})")),
                  "tensor 'w': shape[1]", "got -1");
}

TEST(SafetensorsReader, RejectsNonIntegerDim) {
  expect_rejected(file_bytes(one_tensor(R"({"dtype":"F32","shape":[2.5],"data_offsets":[0,4]})")),
                  "tensor 'w': shape[0]", "got 2.5");
  expect_rejected(file_bytes(one_tensor(R"({"dtype":"F32","shape":["2"],"data_offsets":[0,8]})")),
                  "tensor 'w': shape[0]", "got \"2\"");
}

TEST(SafetensorsReader, RejectsDimOf2To63) {
  expect_rejected(
      file_bytes(one_tensor(R"({"dtype":"U8","shape":[9223372036854775808],"data_offsets":[0,1]})")),
      "tensor 'w': shape[0]", "below 2^63");
}

TEST(SafetensorsReader, RejectsElementCountOverflow) {
  expect_rejected(
      file_bytes(one_tensor(R"({"dtype":"U8","shape":[4294967296,4294967296],"data_offsets":[0,1]})")),
      "tensor 'w': shape", "fits in 64 bits");
  // The element count fits; its size in bits does not.
  expect_rejected(
      file_bytes(one_tensor(R"({"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,1]})")),
      "tensor 'w': shape", "[4611686018427387904] of F32");
}

TEST(SafetensorsReader, RejectsSubByteTensorOfPartialBytes) {
  expect_rejected(file_bytes(one_tensor(R"({"dtype":"F4","shape":[3],"data_offsets":[0,2]})"), "ab"),
                  "tensor 'w': shape", "= 12 bits");
}

TEST(SafetensorsReader, RejectsMissingDataOffsets) {
  expect_rejected(file_bytes(one_tensor(R"({"dtype":"F32","shape":[1]})"), "abcd"),
                  "tensor 'w': data_offsets", "no data_offsets key");
}

TEST(SafetensorsReader, RejectsDataOffsetsThatAreNotAPair) {
  for (const char* offsets : {"[0]", "[0,4,4]", "[\"0\",\"4\"]", "[-1,4]", "[0,4.0]", "{\"0\":4}"}) {
    SCOPED_TRACE(offsets);
    expect_rejected(
        file_bytes(one_tensor(std::string(R"({"dtype":"F32","shape":[1],"data_offsets":)") + offsets + "}"),
                   "abcd"),
        "tensor 'w': data_offsets", "[begin, end] with two non-negative integers");
  }
}

TEST(SafetensorsReader, RejectsBeginAfterEnd) {
  expect_rejected(file_bytes(one_tensor(R"({"dtype":"F32","shape":[1],"data_offsets":[4,0]})"), "abcd"),
                  "tensor 'w': data_offsets", "begin <= end");
}

TEST(SafetensorsReader, RejectsOffsetsPastEndOfFile) {
  expect_rejected(
      file_bytes(one_tensor(R"({"dtype":"F32","shape":[1000],"data_offsets":[0,4000]})"), "abcd"),
      "tensor 'w': data_offsets", "expected end <= 4 (the data buffer's size), got end 4000 (truncated download?)");
}

TEST(SafetensorsReader, RejectsSizeNotMatchingShape) {
  expect_rejected(file_bytes(one_tensor(R"({"dtype":"F32","shape":[3],"data_offsets":[0,8]})"),
                             kEightBytes),
                  "tensor 'w': data_offsets", "expected 12 bytes ([3] of F32), got 8 bytes");
}

TEST(SafetensorsReader, RejectsOverlappingTensors) {
  expect_rejected(file_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                             R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                             std::string(12, 'x')),
                  "tensor 'b': data_offsets", "overlaps tensor 'a'");
}

TEST(SafetensorsReader, RejectsHoleBetweenTensors) {
  expect_rejected(file_bytes(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                             R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
                             std::string(12, 'x')),
                  "tensor 'b': data_offsets", "bytes [4,8) belong to no tensor");
}

TEST(SafetensorsReader, RejectsTrailingBytesAfterLastTensor) {
  expect_rejected(file_bytes(one_tensor(R"({"dtype":"F32","shape":[1],"data_offsets":[0,4]})"),
                             kEightBytes),
                  "data buffer", "4 trailing bytes after offset 4");
}

TEST(SafetensorsReader, RejectsMissingFileAndDirectory) {
  const fs::path missing = test_dir() / "nope.safetensors";
  try {
    SafetensorsFile::open(missing);
    ADD_FAILURE() << "no InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(e.path(), missing.string());
    EXPECT_EQ(e.hint(), "check the path");
  }
  EXPECT_THROW(SafetensorsFile::open(test_dir()), InputError);
}

TEST(SafetensorsReader, ReadsTensorsMetadataAndSortsByName) {
  const float values[3] = {1.5f, -2.0f, 3.25f};
  const int16_t ints[2] = {-7, 300};
  std::string data(reinterpret_cast<const char*>(values), 12);
  data.append(reinterpret_cast<const char*>(ints), 4);
  const auto p = write_raw(file_bytes(R"({"__metadata__":{"format":"pt"},)"
                                      R"("z":{"dtype":"F32","shape":[3,1],"data_offsets":[0,12]},)"
                                      R"("a":{"dtype":"I16","shape":[2],"data_offsets":[12,16]}})",
                                      data));
  const auto file = SafetensorsFile::open(p);
  ASSERT_EQ(file->tensors().size(), 2u);
  EXPECT_EQ(file->tensors()[0].name, "a");
  EXPECT_EQ(file->tensors()[1].name, "z");
  EXPECT_EQ(file->metadata().at("format"), "pt");
  EXPECT_EQ(file->path(), p);
  EXPECT_EQ(file->find("nope"), nullptr);
  ASSERT_NE(file->find("z"), nullptr);
  EXPECT_EQ(file->find("z")->shape, (std::vector<int64_t>{3, 1}));
  const at::Tensor z = file->tensor("z");
  EXPECT_EQ(z.scalar_type(), at::kFloat);
  EXPECT_TRUE(at::equal(z, at::tensor({1.5f, -2.0f, 3.25f}).reshape({3, 1})));
  EXPECT_TRUE(at::equal(file->tensor("a"), at::tensor({int16_t{-7}, int16_t{300}})));
  EXPECT_EQ(file->bytes("a").size(), 4u);
}

TEST(SafetensorsReader, ReadsEmptyFileAndEmptyAndScalarTensors) {
  EXPECT_TRUE(SafetensorsFile::open(write_raw(file_bytes("{}      ")))->tensors().empty());
  const double pi = 3.5;
  const auto file = SafetensorsFile::open(write_raw(file_bytes(
      R"({"e":{"dtype":"F32","shape":[0,4],"data_offsets":[0,0]},)"
      R"("s":{"dtype":"F64","shape":[],"data_offsets":[0,8]}})",
      std::string(reinterpret_cast<const char*>(&pi), 8))));
  EXPECT_EQ(file->tensor("e").sizes(), (std::vector<int64_t>{0, 4}));
  EXPECT_EQ(file->tensor("s").dim(), 0);
  EXPECT_EQ(file->tensor("s").item<double>(), 3.5);
}

TEST(SafetensorsReader, TensorRejectsUnknownName) {
  const auto file = SafetensorsFile::open(write_raw(file_bytes("{}")));
  try {
    file->tensor("missing");
    ADD_FAILURE() << "no InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(e.path(), file->path().string());
    EXPECT_EQ(e.field(), "tensor 'missing'");
  }
  EXPECT_THROW(file->bytes("missing"), InputError);
}

TEST(SafetensorsReader, TensorRejectsDtypesLibtorchCannotHold) {
  const auto file = SafetensorsFile::open(
      write_raw(file_bytes(R"({"f4":{"dtype":"F4","shape":[4],"data_offsets":[0,2]},)"
                           R"("f6":{"dtype":"F6_E2M3","shape":[4],"data_offsets":[2,5]}})",
                           "\x12\x34\x56\x78\x9a")));
  for (const char* name : {"f4", "f6"}) {
    try {
      file->tensor(name);
      ADD_FAILURE() << "no InputError for " << name;
    } catch (const InputError& e) {
      EXPECT_EQ(e.field(), "tensor '" + std::string(name) + "': dtype");
      EXPECT_EQ(e.got(), name == std::string("f4") ? "'F4'" : "'F6_E2M3'");
    }
  }
  EXPECT_EQ(file->bytes("f6").size(), 3u);
  EXPECT_EQ(static_cast<unsigned char>(file->bytes("f4")[1]), 0x34);
}

TEST(SafetensorsReader, AliasesTheMappingWhenAligned) {
  const float values[4] = {1, 2, 3, 4};
  const std::string bytes = file_bytes(padded(R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})"),
                                       std::string(reinterpret_cast<const char*>(values), 16));
  const auto p = write_raw(bytes);
  at::Tensor w;
  {
    const auto file = SafetensorsFile::open(p);
    w = file->tensor("w");
    EXPECT_EQ(w.data_ptr(), file->tensor("w").data_ptr()) << "expected zero-copy aliases";
    EXPECT_EQ(reinterpret_cast<const std::byte*>(w.data_ptr()), file->bytes("w").data());
  }
  // The file object is gone; the tensor's deleter keeps the mapping alive.
  EXPECT_TRUE(at::equal(w, at::tensor({1.0f, 2.0f, 3.0f, 4.0f})));
  w.add_(1);  // private mapping: an in-place edit never reaches the file
  EXPECT_EQ(slurp(p), bytes);
}

TEST(SafetensorsReader, CopiesMisalignedData) {
  // Header of 61 bytes: the data buffer starts at 69, not a multiple of 4.
  std::string header = R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  header.append(61 - header.size(), ' ');
  const float values[2] = {0.5f, -8.0f};
  const auto file = SafetensorsFile::open(
      write_raw(file_bytes(header, std::string(reinterpret_cast<const char*>(values), 8))));
  const at::Tensor a = file->tensor("w");
  const at::Tensor b = file->tensor("w");
  EXPECT_NE(a.data_ptr(), b.data_ptr()) << "misaligned data must be copied";
  EXPECT_NE(reinterpret_cast<const std::byte*>(a.data_ptr()), file->bytes("w").data());
  EXPECT_TRUE(at::equal(a, at::tensor({0.5f, -8.0f})));
}

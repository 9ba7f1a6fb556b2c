// GgufFile on hand-written bytes (as MLX's load_tests.cpp does for
// safetensors): a valid file with every metadata value type reads back, and
// each malformed variant — bad magic or version, every truncation, absurd
// lengths and counts, unknown types, bad dims, misaligned, out-of-range or
// overlapping offsets — is an InputError naming the file and the field.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>

#include "harness/gguf_dequant.h"
#include "harness/gguf_model.h"
#include "harness/gguf_reader.h"
#include "harness/input_error.h"
#include "tests/harness/tiny_checkpoint.h"

namespace editgate::testing {
namespace {

namespace fs = std::filesystem;
using harness::GgufFile;
using harness::GgufValueType;

// Little-endian GGUF bytes, appended field by field.
class Bytes {
 public:
  Bytes& u8(uint8_t v) { return raw(&v, 1); }
  Bytes& u32(uint32_t v) { return raw(&v, 4); }
  Bytes& u64(uint64_t v) { return raw(&v, 8); }
  Bytes& f32(float v) { return raw(&v, 4); }
  Bytes& str(const std::string& s) { return u64(s.size()).raw(s.data(), s.size()); }
  Bytes& kv_string(const std::string& key, const std::string& value) {
    return str(key).u32(8).str(value);
  }
  Bytes& kv_u32(const std::string& key, uint32_t value) { return str(key).u32(4).u32(value); }
  Bytes& pad_to(size_t align) {
    while (b_.size() % align != 0) b_.push_back('\0');
    return *this;
  }
  Bytes& raw(const void* p, size_t n) {
    b_.append(static_cast<const char*>(p), n);
    return *this;
  }
  const std::string& str() const { return b_; }
  size_t size() const { return b_.size(); }

 private:
  std::string b_;
};

// A tensor info: name, ne, ggml type, offset.
void tensor_info(Bytes& b, const std::string& name, std::vector<uint64_t> ne, uint32_t type, uint64_t offset) {
  b.str(name).u32(static_cast<uint32_t>(ne.size()));
  for (auto d : ne) b.u64(d);
  b.u32(type).u64(offset);
}

// Header up to the tensor infos: magic, version, counts, one architecture key.
Bytes header(uint64_t n_tensors, uint64_t n_kv = 1, uint32_t version = 3) {
  Bytes b;
  b.raw("GGUF", 4).u32(version).u64(n_tensors).u64(n_kv);
  b.kv_string("general.architecture", "test");
  return b;
}

// One F32 tensor "t" of ne [4, 2] holding 0..7.
Bytes valid_file() {
  Bytes b = header(1);
  tensor_info(b, "t", {4, 2}, 0, 0);
  b.pad_to(32);
  for (int i = 0; i < 8; ++i) b.f32(static_cast<float>(i));
  return b;
}

class GgufReader : public ::testing::Test {
 protected:
  fs::path write(const std::string& bytes) {
    const fs::path p = dir_ / ("f" + std::to_string(n_++) + ".gguf");
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }
  // Expects InputError whose message names the file and contains `field`.
  void expect_error(const std::string& bytes, const std::string& field) {
    const fs::path p = write(bytes);
    try {
      GgufFile::open(p);
      ADD_FAILURE() << "no error; expected one about " << field;
    } catch (const InputError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(p.string()), std::string::npos) << msg;
      EXPECT_NE(msg.find(field), std::string::npos) << "expected '" << field << "' in: " << msg;
      EXPECT_EQ(msg.find('\n'), std::string::npos) << "one line: " << msg;
    }
  }

  TempDir dir_;
  int n_ = 0;
};

TEST_F(GgufReader, ReadsValidFileWithEveryValueType) {
  Bytes b = header(1, 15);  // general.architecture + the 14 below
  b.str("u8").u32(0).u8(200);
  b.str("i8").u32(1).u8(0xFF);  // -1
  b.str("u16").u32(2).u8(0x34).u8(0x12);
  b.str("i16").u32(3).u8(0xFE).u8(0xFF);  // -2
  b.str("u32").u32(4).u32(70000);
  b.str("i32").u32(5).u32(static_cast<uint32_t>(-5));
  b.str("f32").u32(6).f32(0.5f);
  b.str("bool").u32(7).u8(1);
  b.str("u64").u32(10).u64(uint64_t{1} << 40);
  b.str("i64").u32(11).u64(static_cast<uint64_t>(int64_t{-7}));
  double d = 2.25;
  b.str("f64").u32(12).raw(&d, 8);
  b.str("strings").u32(9).u32(8).u64(2).str("a").str("bc");
  b.str("nested").u32(9).u32(9).u64(2).u32(4).u64(1).u32(3).u32(4).u64(0);  // [[3], []] of UINT32
  b.kv_u32("general.alignment", 64);
  tensor_info(b, "t", {4, 2}, 0, 0);
  b.pad_to(64);
  for (int i = 0; i < 8; ++i) b.f32(static_cast<float>(i));
  const auto f = GgufFile::open(write(b.str()));
  EXPECT_EQ(f->version(), 3u);
  EXPECT_EQ(f->alignment(), 64u);
  EXPECT_EQ(f->get_uint("u8"), 200u);
  EXPECT_EQ(f->find("i8")->i, -1);
  EXPECT_EQ(f->get_uint("u16"), 0x1234u);
  EXPECT_EQ(f->find("i16")->i, -2);
  EXPECT_EQ(f->get_uint("u32"), 70000u);
  EXPECT_EQ(f->find("i32")->i, -5);
  EXPECT_EQ(f->get_float("f32"), 0.5);
  EXPECT_TRUE(f->get_bool("bool"));
  EXPECT_EQ(f->get_uint("u64"), uint64_t{1} << 40);
  EXPECT_EQ(f->find("i64")->i, -7);
  EXPECT_EQ(f->get_float("f64"), 2.25);
  const auto& strings = f->get_array("strings", GgufValueType::kString);
  ASSERT_EQ(strings.size(), 2u);
  EXPECT_EQ(strings[1].s, "bc");
  const auto& nested = f->get_array("nested", GgufValueType::kArray);
  ASSERT_EQ(nested.size(), 2u);
  EXPECT_EQ(nested[0].items.at(0).u, 3u);
  EXPECT_TRUE(nested[1].items.empty());
  EXPECT_EQ(f->get_string("general.architecture"), "test");
  // Typed getters refuse other types, naming the key.
  EXPECT_THROW(f->get_string("u8"), InputError);
  EXPECT_THROW(f->get_uint("i8"), InputError);  // negative
  EXPECT_THROW(f->get_array("strings", GgufValueType::kInt32), InputError);
  EXPECT_THROW(f->get_uint("missing"), InputError);
  EXPECT_EQ(f->get_uint("missing", 9), 9u);

  const auto* t = f->find_tensor("t");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->torch_shape(), (std::vector<int64_t>{2, 4}));
  const at::Tensor x = harness::dequantize_tensor(*f, *t);
  EXPECT_TRUE(at::equal(x, at::arange(8, at::kFloat).reshape({2, 4})));
}

TEST_F(GgufReader, EveryTruncationIsAnError) {
  const std::string full = valid_file().str();
  ASSERT_NO_THROW(GgufFile::open(write(full)));
  for (size_t n = 0; n < full.size(); ++n) {
    const fs::path p = write(full.substr(0, n));
    EXPECT_THROW(GgufFile::open(p), InputError) << "prefix of " << n << " bytes";
  }
}

TEST_F(GgufReader, RejectsBadMagicAndVersion) {
  std::string bad = valid_file().str();
  bad[0] = 'X';
  expect_error(bad, "magic");
  expect_error(header(0, 1, 1).str(), "version");
  expect_error(header(0, 1, 4).str(), "version");
}

TEST_F(GgufReader, RejectsAbsurdCountsAndLengths) {
  Bytes counts;
  counts.raw("GGUF", 4).u32(3).u64(0).u64(uint64_t{1} << 60);
  expect_error(counts.str(), "metadata_kv_count");
  Bytes tensors;
  tensors.raw("GGUF", 4).u32(3).u64(uint64_t{1} << 60).u64(0);
  expect_error(tensors.str(), "tensor_count");
  Bytes long_key = header(0, 2);
  long_key.u64(uint64_t{1} << 62);
  expect_error(long_key.str(), "metadata[1].key");
  Bytes long_array = header(0, 2);
  long_array.str("a").u32(9).u32(4).u64(uint64_t{1} << 61);
  expect_error(long_array.str(), "metadata 'a'");
}

TEST_F(GgufReader, RejectsBadValues) {
  Bytes type = header(0, 2);
  type.str("k").u32(13).u32(0);
  expect_error(type.str(), "metadata 'k'");
  Bytes boolean = header(0, 2);
  boolean.str("b").u32(7).u8(2);
  expect_error(boolean.str(), "metadata 'b'");
  Bytes dup = header(0, 2);
  dup.kv_string("general.architecture", "again");
  expect_error(dup.str(), "duplicate");
  Bytes align = header(0, 2);
  align.kv_u32("general.alignment", 24);
  expect_error(align.str(), "general.alignment");
  Bytes align_type = header(0, 2);
  align_type.kv_string("general.alignment", "32");
  expect_error(align_type.str(), "general.alignment");
}

TEST_F(GgufReader, RejectsBadTensorInfos) {
  auto file_with = [](const std::string& name, std::vector<uint64_t> ne, uint32_t type, uint64_t offset,
                      size_t data_bytes) {
    Bytes b = header(1);
    tensor_info(b, name, std::move(ne), type, offset);
    b.pad_to(32);
    b.raw(std::string(data_bytes, '\0').data(), data_bytes);
    return b.str();
  };
  expect_error(file_with("t", {}, 0, 0, 32), "tensor 't': n_dims");
  expect_error(file_with("t", {1, 1, 1, 1, 1}, 0, 0, 32), "tensor 't': n_dims");
  expect_error(file_with("t", {4, 2}, 99, 0, 32), "tensor 't': type");
  expect_error(file_with("t", {16}, 2, 0, 32), "tensor 't': ne[0]");          // Q4_0 blocks are 32 wide
  expect_error(file_with("t", {4, 2}, 0, 4, 64), "tensor 't': offset");       // not a multiple of 32
  expect_error(file_with("t", {4, 2}, 0, 32, 32), "tensor 't': offset");      // ends past the file
  expect_error(file_with("t", {uint64_t{1} << 32, uint64_t{1} << 32}, 0, 0, 32), "tensor 't': ne");
  expect_error(file_with("t", {uint64_t{1} << 63}, 0, 0, 32), "tensor 't': ne[0]");

  Bytes overlap = header(2);
  tensor_info(overlap, "a", {16}, 0, 0);
  tensor_info(overlap, "b", {8}, 0, 32);  // a is [0, 64)
  overlap.pad_to(32).raw(std::string(96, '\0').data(), 96);
  expect_error(overlap.str(), "overlap");

  Bytes dup = header(2);
  tensor_info(dup, "a", {8}, 0, 0);
  tensor_info(dup, "a", {8}, 0, 32);
  dup.pad_to(32).raw(std::string(64, '\0').data(), 64);
  expect_error(dup.str(), "tensor 'a'");
}

TEST_F(GgufReader, UndecodableTypeOpensButDoesNotDequantise) {
  Bytes b = header(1);
  tensor_info(b, "q", {256}, 10, 0);  // Q2_K: 84-byte blocks
  b.pad_to(32).raw(std::string(84, '\0').data(), 84);
  const fs::path p = write(b.str());
  const auto f = GgufFile::open(p);
  try {
    harness::dequantize_tensor(*f, *f->find_tensor("q"));
    ADD_FAILURE() << "no error for Q2_K";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("Q2_K"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("tensor 'q'"), std::string::npos) << e.what();
  }
}

TEST_F(GgufReader, CheckpointRefusesOtherArchitecturesAndTokenizers) {
  const fs::path p = write(valid_file().str());
  EXPECT_TRUE(harness::is_gguf_file(p));
  EXPECT_FALSE(harness::is_gguf_file(dir_ / "none.gguf"));
  try {
    harness::GgufCheckpoint::open(p);
    ADD_FAILURE() << "architecture 'test' accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("general.architecture"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace editgate::testing

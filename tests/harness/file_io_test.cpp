// The IO kit (harness/file_io.h): every failure is an InputError naming the file
// (and the field where there is one), never an empty string or a silent "last
// key wins".
#include "harness/file_io.h"
#include "harness/json_file.h"
#include "harness/remove_tree.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

namespace fs = std::filesystem;
using editgate::InputError;
namespace h = editgate::harness;

namespace {

class FileIo : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("editgate_file_io_" + std::to_string(::getpid()));
    h::remove_tree(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { h::remove_tree(dir_); }
  fs::path write(const std::string& name, const std::string& bytes) {
    std::ofstream(dir_ / name, std::ios::binary) << bytes;
    return dir_ / name;
  }
  // The message of the InputError `f` throws; fails the test when it throws none.
  template <typename F>
  std::string error_of(F&& f) {
    try {
      f();
    } catch (const InputError& e) {
      return e.what();
    }
    ADD_FAILURE() << "no InputError";
    return "";
  }
  fs::path dir_;
};

TEST_F(FileIo, ReadsBytesExactly) {
  const std::string bytes("a\0b\r\n\xff", 6);
  EXPECT_EQ(h::read_file(write("x.bin", bytes)), bytes);
  EXPECT_EQ(h::read_file(write("empty", "")), "");
}

TEST_F(FileIo, MissingDirectoryAndOversizedFilesAreInputErrorsNamingTheFile) {
  const auto missing = error_of([&] { h::read_file(dir_ / "nope.json", "a gate spec"); });
  EXPECT_NE(missing.find("nope.json"), std::string::npos) << missing;
  EXPECT_NE(missing.find("no such file"), std::string::npos) << missing;
  const auto directory = error_of([&] { h::read_file(dir_); });
  EXPECT_NE(directory.find("a directory"), std::string::npos) << directory;
  const auto big = error_of([&] { h::read_file(write("big", std::string(100, 'x')), "a small file", 10); });
  EXPECT_NE(big.find("100 bytes"), std::string::npos) << big;
}

TEST_F(FileIo, DuplicateKeysAreRejectedAtAnyDepthWithTheirPath) {
  EXPECT_EQ(h::parse_json_strict(R"({"a": {"b": 1, "c": 2}, "d": [{"b": 1}, {"b": 2}]})", "f.json")["a"]["c"], 2);
  const auto top = error_of([&] { h::parse_json_strict(R"({"a": 1, "a": 2})", "f.json"); });
  EXPECT_NE(top.find("duplicate key 'a'"), std::string::npos) << top;
  const auto nested = error_of([&] { h::parse_json_strict(R"({"x": {"y": {"k": 1, "k": 2}}})", "f.json"); });
  EXPECT_NE(nested.find("x.y.k"), std::string::npos) << nested;
  const auto in_file = error_of([&] { h::read_json_file(write("dup.json", R"({"n": 1, "n": 1})")); });
  EXPECT_NE(in_file.find("dup.json"), std::string::npos) << in_file;
  // The reader's own wording wins when it gives one.
  const auto custom = error_of([&] {
    h::parse_json_strict(R"({"m": {"t": 1, "t": 2}})", "f.json", [](const h::DuplicateKey& d) {
      return InputError("f.json", "in " + d.enclosing.at(0), "once", "twice " + d.key);
    });
  });
  EXPECT_NE(custom.find("in m"), std::string::npos) << custom;
}

TEST_F(FileIo, NulBytesAndSyntaxErrorsNameTheFieldAndPosition) {
  const auto nul = error_of([&] { h::parse_json_strict(std::string("{\"a\"\0: 1}", 9), "f.json", {}, "header"); });
  EXPECT_NE(nul.find("NUL byte at offset 4"), std::string::npos) << nul;
  EXPECT_NE(nul.find("header"), std::string::npos) << nul;
  const auto syntax = error_of([&] { h::parse_json_strict("{\"a\": [1, 2", "f.json"); });
  EXPECT_NE(syntax.find("line 1"), std::string::npos) << syntax;
  EXPECT_EQ(syntax.find("json.exception"), std::string::npos) << syntax;
}

TEST_F(FileIo, Sha256OfAnUnreadableFileIsAnErrorNotTheEmptyHash) {
  EXPECT_EQ(h::file_sha256(write("abc", "abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const auto missing = error_of([&] { h::file_sha256(dir_ / "gone"); });
  EXPECT_NE(missing.find("gone"), std::string::npos) << missing;
}

TEST_F(FileIo, AFailedWriteIsAnError) {
  h::write_file_checked(dir_ / "ok.txt", "hello");
  EXPECT_EQ(h::read_file(dir_ / "ok.txt"), "hello");
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full to fill";
  const auto full = error_of([&] { h::write_file_checked("/dev/full", std::string(1 << 16, 'x')); });
  EXPECT_NE(full.find("/dev/full"), std::string::npos) << full;
}

}  // namespace

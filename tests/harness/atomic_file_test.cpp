#include "harness/atomic_file.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("editgate_atomic_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST(AtomicFile, WritesBytesAndLeavesNoTemporaries) {
  const auto dir = fresh_dir("write");
  editgate::write_file_atomic(dir / "a.txt", "hello");
  EXPECT_EQ(slurp(dir / "a.txt"), "hello");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator{}), 1);
}

TEST(AtomicFile, FailedFillKeepsOldFileAndRemovesTemporary) {
  const auto dir = fresh_dir("fail");
  editgate::write_file_atomic(dir / "a.txt", "old");
  EXPECT_THROW(editgate::write_file_atomic_with(dir / "a.txt",
                                                [](const fs::path& tmp) {
                                                  std::ofstream(tmp) << "half";
                                                  throw std::runtime_error("crash");
                                                }),
               std::runtime_error);
  EXPECT_EQ(slurp(dir / "a.txt"), "old");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator{}), 1);
}

TEST(AtomicFile, DirectoryIsReplacedWhole) {
  const auto dir = fresh_dir("dir");
  editgate::write_directory_atomic(dir / "ckpt", [](const fs::path& tmp) { std::ofstream(tmp / "x") << "1"; });
  editgate::write_directory_atomic(dir / "ckpt", [](const fs::path& tmp) { std::ofstream(tmp / "y") << "2"; });
  EXPECT_FALSE(fs::exists(dir / "ckpt" / "x"));
  EXPECT_EQ(slurp(dir / "ckpt" / "y"), "2");
  EXPECT_THROW(editgate::write_directory_atomic(dir / "ckpt", [](const fs::path&) { throw std::runtime_error("x"); }),
               std::runtime_error);
  EXPECT_EQ(slurp(dir / "ckpt" / "y"), "2");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator{}), 1);
}

#include "harness/atomic_file.h"
#include "harness/remove_tree.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("editgate_atomic_" + name + "_" + std::to_string(::getpid()));
  editgate::harness::remove_tree(dir);
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

// A process killed before its rename leaves ".name.tmp-PID-N" behind; the next
// write of the same target removes it when PID is gone, and keeps a live
// process's temporaries (it may still be writing).
TEST(AtomicFile, NextWriteSweepsTemporariesOfDeadProcesses) {
  const auto dir = fresh_dir("sweep");
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ASSERT_GT(child, 0);
  int status = 0;
  ::waitpid(child, &status, 0);  // reaped: the pid names no process now
  const auto dead_file = dir / (".a.txt.tmp-" + std::to_string(child) + "-7");
  const auto dead_dir = dir / (".out.tmp-" + std::to_string(child) + "-7");
  const auto live_file = dir / (".a.txt.tmp-" + std::to_string(::getppid()) + "-7");
  std::ofstream(dead_file) << "half";
  fs::create_directories(dead_dir / "sub");
  std::ofstream(live_file) << "in progress";
  editgate::write_file_atomic(dir / "a.txt", "new");
  editgate::write_directory_atomic(dir / "out", [](const fs::path& tmp) { std::ofstream(tmp / "f") << "x"; });
  EXPECT_FALSE(fs::exists(dead_file));
  EXPECT_FALSE(fs::exists(dead_dir));
  EXPECT_TRUE(fs::exists(live_file));
  EXPECT_EQ(slurp(dir / "a.txt"), "new");
  EXPECT_EQ(slurp(dir / "out" / "f"), "x");
}

// Replacing an existing directory swaps it in one step (RENAME_EXCHANGE): the
// old contents are gone afterwards and no temporary remains.
TEST(AtomicFile, ReplacingADirectoryLeavesOnlyTheNewOne) {
  const auto dir = fresh_dir("swap");
  editgate::write_directory_atomic(dir / "out", [](const fs::path& tmp) { std::ofstream(tmp / "old") << "1"; });
  editgate::write_directory_atomic(dir / "out", [](const fs::path& tmp) { std::ofstream(tmp / "new") << "2"; });
  EXPECT_FALSE(fs::exists(dir / "out" / "old"));
  EXPECT_EQ(slurp(dir / "out" / "new"), "2");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator{}), 1);
}

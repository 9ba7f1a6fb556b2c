#include "harness/remove_tree.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

namespace editgate::harness {
namespace {

namespace fs = std::filesystem;

fs::path scratch(const char* name) {
  return fs::temp_directory_path() / (std::string("editgate_remove_tree_") + name + "_" + std::to_string(::getpid()));
}

TEST(RemoveTree, RemovesANestedTreeAndLeavesWhatALinkPointsTo) {
  const auto root = scratch("nested"), outside = scratch("outside");
  fs::create_directories(root / "a" / "b");
  fs::create_directories(outside);
  std::ofstream(root / "a" / "b" / "file") << "x";
  std::ofstream(root / "top") << "y";
  std::ofstream(outside / "kept") << "z";
  fs::create_directory_symlink(outside, root / "a" / "link");
  remove_tree(root);
  EXPECT_FALSE(fs::exists(fs::symlink_status(root)));
  EXPECT_TRUE(fs::exists(outside / "kept"));  // the link was removed, not followed
  remove_tree(outside);
  EXPECT_FALSE(fs::exists(outside));
}

TEST(RemoveTree, RemovesAPlainFileAndAcceptsAnAbsentPath) {
  const auto file = scratch("file");
  std::ofstream(file) << "x";
  std::error_code ec;
  remove_tree(file, ec);
  EXPECT_FALSE(ec);
  EXPECT_FALSE(fs::exists(file));
  remove_tree(file, ec);
  EXPECT_FALSE(ec) << ec.message();
}

TEST(RemoveTree, ReportsWhatItCannotRemove) {
  const auto file = scratch("not_a_dir");
  std::ofstream(file) << "x";
  std::error_code ec;
  remove_tree(file / "child", ec);  // a path through a plain file: ENOTDIR, not "absent"
  EXPECT_EQ(ec, std::errc::not_a_directory) << ec.message();
  EXPECT_THROW(remove_tree(file / "child"), fs::filesystem_error);
  remove_tree(file);
}

}  // namespace
}  // namespace editgate::harness

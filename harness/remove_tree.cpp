#include "harness/remove_tree.h"

#include <ftw.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>

namespace editgate::harness {
namespace {

int remove_entry(const char* path, const struct stat*, int, struct FTW*) {
  return ::remove(path) == 0 ? 0 : errno;  // FTW_DEPTH: children come before their directory
}

}  // namespace

void remove_tree(const std::filesystem::path& path, std::error_code& ec) noexcept {
  ec.clear();
  struct stat st{};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno != ENOENT) ec.assign(errno, std::generic_category());
    return;
  }
  errno = 0;
  const int rc = ::nftw(path.c_str(), remove_entry, 32, FTW_DEPTH | FTW_PHYS);
  if (rc != 0) ec.assign(rc > 0 ? rc : (errno != 0 ? errno : EIO), std::generic_category());
}

void remove_tree(const std::filesystem::path& path) {
  std::error_code ec;
  remove_tree(path, ec);
  if (ec) throw std::filesystem::filesystem_error("cannot remove", path, ec);
}

}  // namespace editgate::harness

#include "harness/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>
#include <system_error>

#include "harness/input_error.h"

namespace editgate {
namespace fs = std::filesystem;
namespace {

fs::path temp_sibling(const fs::path& target) {
  // pid + random suffix: two processes writing the same target never share a temp path.
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  const auto name = "." + target.filename().string() + ".tmp-" +
                    std::to_string(::getpid()) + "-" + std::to_string(rng() % 1000000007ULL);
  return target.parent_path() / name;
}

void fsync_path(const fs::path& p, bool directory) {
  const int fd = ::open(p.c_str(), directory ? (O_RDONLY | O_DIRECTORY) : O_RDONLY);
  if (fd < 0) return;  // best effort: some filesystems refuse to open dirs
  ::fsync(fd);
  ::close(fd);
}

void ensure_parent(const fs::path& target) {
  const auto parent = target.parent_path();
  if (parent.empty()) return;
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec) {
    throw InputError(parent.string(), "", "a writable directory", ec.message());
  }
}

fs::path parent_or_dot(const fs::path& p) {
  return p.parent_path().empty() ? fs::path(".") : p.parent_path();
}

}  // namespace

void write_file_atomic_with(const fs::path& path,
                            const std::function<void(const fs::path&)>& fill) {
  ensure_parent(path);
  const fs::path tmp = temp_sibling(path);
  try {
    fill(tmp);
    fsync_path(tmp, false);
    fs::rename(tmp, path);
  } catch (...) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw;
  }
  fsync_path(parent_or_dot(path), true);
}

void write_file_atomic(const fs::path& path, std::string_view bytes) {
  write_file_atomic_with(path, [&](const fs::path& tmp) {
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
      throw InputError(path.string(), "", "a writable file path", std::strerror(errno));
    }
    size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        const std::string err = std::strerror(errno);
        ::close(fd);
        throw InputError(path.string(), "", "to write " + std::to_string(bytes.size()) + " bytes", err,
                         "disk full?");
      }
      done += static_cast<size_t>(n);
    }
    ::close(fd);
  });
}

void write_directory_atomic(const fs::path& dir,
                            const std::function<void(const fs::path&)>& fill) {
  ensure_parent(dir);
  const fs::path tmp = temp_sibling(dir);
  std::error_code ec;
  fs::create_directories(tmp, ec);
  if (ec) throw InputError(dir.string(), "", "a writable directory", ec.message());
  try {
    fill(tmp);
    for (const auto& entry : fs::recursive_directory_iterator(tmp)) {
      fsync_path(entry.path(), entry.is_directory());
    }
    fsync_path(tmp, true);
    // rename(2) cannot replace a non-empty directory: move the old one aside first,
    // so the target is never missing for longer than two renames.
    fs::path old;
    if (fs::exists(dir)) {
      old = temp_sibling(dir);
      fs::rename(dir, old);
    }
    fs::rename(tmp, dir);
    if (!old.empty()) fs::remove_all(old, ec);
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
  fsync_path(parent_or_dot(dir), true);
}

}  // namespace editgate

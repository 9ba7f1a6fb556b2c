#include "harness/atomic_file.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>  // renameat2, RENAME_EXCHANGE (glibc >= 2.28, _GNU_SOURCE)
#include <cstring>
#include <random>
#include <system_error>

#include "harness/input_error.h"
#include "harness/interrupt.h"
#include "harness/remove_tree.h"

namespace editgate {
namespace fs = std::filesystem;
namespace {

fs::path parent_or_dot(const fs::path& p) {
  return p.parent_path().empty() ? fs::path(".") : p.parent_path();
}

fs::path temp_sibling(const fs::path& target) {
  // pid + random suffix: two processes writing the same target never share a temp path.
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  const auto name = "." + target.filename().string() + ".tmp-" +
                    std::to_string(::getpid()) + "-" + std::to_string(rng() % 1000000007ULL);
  return target.parent_path() / name;
}

// Temporary siblings of `target` left by processes that died (SIGKILL, power
// loss) before their rename: removed before a new write of the same target, so
// crashes do not accumulate hidden half-written checkpoints.
void sweep_stale_siblings(const fs::path& target) {
  const std::string prefix = "." + target.filename().string() + ".tmp-";
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(parent_or_dot(target), ec)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with(prefix)) continue;
    const auto rest = name.substr(prefix.size());
    const auto dash = rest.find('-');
    if (dash == std::string::npos) continue;
    pid_t pid = 0;
    try {
      pid = static_cast<pid_t>(std::stol(rest.substr(0, dash)));
    } catch (const std::exception&) {
      continue;
    }
    if (pid <= 0 || pid == ::getpid() || ::kill(pid, 0) == 0 || errno != ESRCH) continue;  // alive or unknown
    std::error_code remove_ec;
    harness::remove_tree(entry.path(), remove_ec);
  }
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

}  // namespace

void write_file_atomic_with(const fs::path& path,
                            const std::function<void(const fs::path&)>& fill) {
  ensure_parent(path);
  sweep_stale_siblings(path);
  const fs::path tmp = temp_sibling(path);
  const PendingOutput pending(tmp);
  try {
    fill(tmp);
    fsync_path(tmp, false);
    const auto commit = commit_guard();
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
  sweep_stale_siblings(dir);
  const fs::path tmp = temp_sibling(dir);
  const PendingOutput pending(tmp);
  std::error_code ec;
  fs::create_directories(tmp, ec);
  if (ec) throw InputError(dir.string(), "", "a writable directory", ec.message());
  try {
    fill(tmp);
    for (const auto& entry : fs::recursive_directory_iterator(tmp)) {
      fsync_path(entry.path(), entry.is_directory());
    }
    fsync_path(tmp, true);
    // rename(2) cannot replace a non-empty directory. Linux swaps the two
    // names atomically (RENAME_EXCHANGE), so a crash leaves the old or the new
    // directory under `dir`, never neither; the old one, now under the temporary
    // name, is removed (or swept by the next write if a crash comes first).
    // Filesystems without the exchange get two renames, a window where `dir`
    // is missing. An interrupt waits for the commit (commit_guard).
    const auto commit = commit_guard();
    if (fs::exists(dir)) {
      if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, dir.c_str(), RENAME_EXCHANGE) == 0) {
        harness::remove_tree(tmp, ec);
      } else {
        const fs::path old = temp_sibling(dir);
        fs::rename(dir, old);
        fs::rename(tmp, dir);
        harness::remove_tree(old, ec);
      }
    } else {
      fs::rename(tmp, dir);
    }
  } catch (...) {
    harness::remove_tree(tmp, ec);
    throw;
  }
  fsync_path(parent_or_dot(dir), true);
}

}  // namespace editgate

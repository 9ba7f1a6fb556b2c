#pragma once
// Recursive removal of a file or directory tree, without std::filesystem::remove_all.
// The PyTorch 2.11 CUDA wheel's libtorch.so exports its own copy of
// remove_all(path, error_code&), and on the GPU runners the dynamic linker binds
// editgate's calls to it; that copy jumps to address 0 (cuda-gdb backtrace on an
// H200, every test that removed a directory crashed). Linking libstdc++ first did
// not stop it. This walks the tree with POSIX nftw(3), whose symbol no wheel exports.

#include <filesystem>
#include <system_error>

namespace editgate::harness {

// Removes `path` and everything under it (symbolic links are removed, not
// followed). An absent path is not an error. On failure, `ec` holds the first
// error and the walk stops; what was already removed stays removed.
void remove_tree(const std::filesystem::path& path, std::error_code& ec) noexcept;

// As above; throws std::filesystem::filesystem_error naming the path.
void remove_tree(const std::filesystem::path& path);

}  // namespace editgate::harness

#pragma once
// Atomic output: every file or directory editgate writes goes to a temporary
// sibling path first, is fsynced, and is renamed into place, so a crash never
// leaves a half-written checkpoint or report. This unit owns only the
// temp-path/fsync/rename protocol; callers own the bytes.

#include <filesystem>
#include <functional>
#include <string_view>

namespace editgate {

// Writes `bytes` to `path` atomically (temp file in the same directory, fsync,
// rename, fsync of the directory).
void write_file_atomic(const std::filesystem::path& path, std::string_view bytes);

// Calls `fill(tmp)` with a fresh temporary directory beside `dir`; when it
// returns, fsyncs the files in it and renames it over `dir` (an existing `dir`
// is replaced). If `fill` throws, the temporary directory is removed and the
// exception propagates; `dir` is untouched.
void write_directory_atomic(const std::filesystem::path& dir,
                            const std::function<void(const std::filesystem::path&)>& fill);

// Same for a single file written by a callback that opens `tmp` itself
// (large binary writers that stream).
void write_file_atomic_with(const std::filesystem::path& path,
                            const std::function<void(const std::filesystem::path&)>& fill);

}  // namespace editgate

#pragma once
// Ctrl-C and SIGTERM: the run stops at once with a message and exit code 130
// (143 for SIGTERM), and leaves no partial output. Temporary outputs
// (atomic_file.h) register here while they are being filled; an interrupt
// removes them. Renames into place run under commit_guard(), so an interrupt
// waits for a commit in flight and a target is always either the old output
// or the complete new one.
//
// The signals are taken by a dedicated thread (sigwait), not a signal handler,
// so the cleanup may use the filesystem library and the heap freely.

#include <filesystem>
#include <mutex>

namespace editgate {

// Called first thing in main, before any thread starts (threads inherit the
// blocked signal mask, so only the watcher thread receives SIGINT/SIGTERM).
void install_interrupt_handler();

// Registers `path` (a file or a directory) for removal on interrupt for the
// lifetime of this object.
class PendingOutput {
 public:
  explicit PendingOutput(std::filesystem::path path);
  ~PendingOutput();
  PendingOutput(const PendingOutput&) = delete;
  PendingOutput& operator=(const PendingOutput&) = delete;

 private:
  std::filesystem::path path_;
};

// Held while outputs are renamed into place (recursive: commits may nest).
std::unique_lock<std::recursive_mutex> commit_guard();

}  // namespace editgate

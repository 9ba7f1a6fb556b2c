#include "harness/interrupt.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <set>
#include <thread>

#include "harness/remove_tree.h"

namespace editgate {
namespace fs = std::filesystem;
namespace {

std::recursive_mutex& output_mutex() {
  static std::recursive_mutex m;
  return m;
}

std::multiset<fs::path>& pending() {
  static std::multiset<fs::path> p;
  return p;
}

[[noreturn]] void on_signal(int sig) {
  // Take the commit lock and never release it: no rename can start after this.
  output_mutex().lock();
  std::error_code ec;
  for (const auto& p : pending()) harness::remove_tree(p, ec);
  const char* name = sig == SIGINT ? "SIGINT" : "SIGTERM";
  std::fprintf(stderr, "\neditgate: interrupted (%s); stopped without writing partial output\n", name);
  std::fflush(stderr);
  ::_exit(128 + sig);  // what shells report: 130 for Ctrl-C (SIGINT), 143 for SIGTERM
}

}  // namespace

void install_interrupt_handler() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  if (pthread_sigmask(SIG_BLOCK, &set, nullptr) != 0) return;  // keep the default behaviour
  std::thread([set] {
    int sig = 0;
    while (sigwait(&set, &sig) != 0) {
    }
    on_signal(sig);
  }).detach();
}

PendingOutput::PendingOutput(fs::path path) : path_(std::move(path)) {
  std::lock_guard lock(output_mutex());
  pending().insert(path_);
}

PendingOutput::~PendingOutput() {
  std::lock_guard lock(output_mutex());
  pending().erase(pending().find(path_));
}

std::unique_lock<std::recursive_mutex> commit_guard() { return std::unique_lock(output_mutex()); }

}  // namespace editgate

#include "suites/bench/peak_rss.h"

#include <fstream>
#include <sstream>
#include <string>

namespace editgate::bench {
namespace {

// A "Name:   1234 kB" line of /proc/self/status, in bytes; 0 when absent.
int64_t status_kb_field(const std::string& name) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(name + ":", 0) != 0) continue;
    std::istringstream fields(line.substr(name.size() + 1));
    int64_t kb = 0;
    fields >> kb;
    return kb * 1024;
  }
  return 0;
}

}  // namespace

int64_t current_rss_bytes() { return status_kb_field("VmRSS"); }

int64_t peak_rss_bytes() { return status_kb_field("VmHWM"); }

bool reset_peak_rss() {
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5";
  clear.flush();
  return clear.good();
}

}  // namespace editgate::bench

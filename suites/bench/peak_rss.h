#pragma once
// The process's resident memory, for benchmarks that report a peak (erase's):
// the high-water mark of the resident set (VmHWM), which Linux lets a process
// reset, so one benchmark's peak is not an earlier benchmark's. Linux only; on
// other systems every value is 0 and reset_peak_rss() returns false.

#include <cstdint>

namespace editgate::bench {

// Resident set size now, in bytes (VmRSS).
int64_t current_rss_bytes();

// The resident set's high-water mark since the process started or since the
// last successful reset_peak_rss(), in bytes (VmHWM).
int64_t peak_rss_bytes();

// Resets the high-water mark to the current resident set (/proc/self/clear_refs,
// "5"); false where the kernel refuses, and peak_rss_bytes() then keeps counting
// from the process's start.
bool reset_peak_rss();

}  // namespace editgate::bench

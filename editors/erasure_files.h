#pragma once
// The file-level jobs behind `editgate erase` and `editgate probe`: read X
// [n, d] and Z [n] from a safetensors file, validate them as user input, fit or
// probe, and (for erase) write the result atomically. The CLI only parses flags
// and prints what these return. This unit owns the two files' layouts:
//
// erase output: X_erased [n, d] (X's dtype), Z [n], and for leace/orth bias [d],
//   proj_left [d, r], proj_right [r, d], P [d, d] (float64; the file loads as an
//   Eraser); for oracle oracle_coef [d, k], mean_z [k]; with --holdout, fit_mask
//   [n] uint8 (1 = row used to fit). __metadata__: format "editgate.erase",
//   method, fitted_on ("all rows" | "fit_mask rows"), report (the JSON below).
// probe input: any file with a feature tensor and int64 labels; on an erase
//   output the rows the eraser was fitted on are excluded (fit_mask), or, without
//   a fit_mask, the report warns that the erasure was in-sample.

#include <cstdint>
#include <filesystem>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "editors/leace.h"

namespace editgate::editors {

struct EraseFileOptions {
  std::string method = "leace";  // leace | orth | oracle
  LeaceOptions leace;            // method is taken from `method` for leace/orth
  int64_t batch_size = 0;        // rows per chunk of the fit, the erasure and the write (0: ~4 MiB of float64)
  double holdout = 0.0;          // share of rows (stratified) kept out of the fit; 0: fit on all
  uint64_t seed = 0;             // for the holdout choice
  std::string device = "cpu";    // where statistics are accumulated (cpu | cuda | auto)
};

/// Fits an eraser on `in`'s X and Z and writes `out`. Returns the report (also
/// stored in the output's metadata). X is read from the file's mapping in row
/// chunks and X_erased streamed into `out`, so memory is the mapped input plus a
/// few chunks and d x d statistics, whatever n. InputError for a missing or
/// malformed X/Z (shape, dtype, non-finite, one class, n <= 1) or a bad option.
nlohmann::json erase_file(const std::filesystem::path& in, const std::filesystem::path& out,
                          const EraseFileOptions& options);

struct ProbeFileOptions {
  std::string tensor = "X";      // features
  std::string labels = "Z";      // int64 class labels
  std::string groups;            // int64 [n] subject ids: split by subject, interval clustered ("" = rows)
  double test_fraction = 0.3;
  uint64_t seed = 0;
  bool quadratic = true;         // also run the QDA probe
};

/// Held-out probe accuracy of `in`'s features: stratified split (by subject
/// when `groups` names a tensor), logistic (and QDA) probe, the metrics of
/// probe_metrics.h. InputError as for erase_file.
nlohmann::json probe_file(const std::filesystem::path& in, const ProbeFileOptions& options);

}  // namespace editgate::editors

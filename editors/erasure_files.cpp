#include "editors/erasure_files.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <span>
#include <functional>
#include <tuple>
#include <utility>

#include "editors/erasure_split.h"
#include "editors/labeled_data.h"
#include "editors/oracle_leace.h"
#include "editors/probe_recovery.h"
#include "harness/device.h"
#include "harness/input_error.h"
#include "harness/safetensors_reader.h"
#include "harness/safetensors_writer.h"

namespace editgate::editors {
namespace {

using nlohmann::json;

// The tensor as the file holds it: a view of the read-only mapping, not a copy,
// so `erase` keeps its input in memory once. Safe against --out: outputs are
// written to a temporary file and renamed, which never changes the mapped inode.
at::Tensor require_tensor(const harness::SafetensorsFile& file, const std::string& name, const std::string& words) {
  if (file.find(name) == nullptr) {
    std::string have;
    for (const auto& t : file.tensors()) have += (have.empty() ? "" : ", ") + t.name;
    throw InputError(file.path().string(), "tensor '" + name + "'", "a tensor " + words,
                     "nothing (the file has: " + (have.empty() ? std::string("no tensors") : have) + ")");
  }
  return file.tensor(name);
}

// Rows per chunk when --batch-size is 0: 4 MiB of float64 rows, so the chunk's
// float64 copies (converted, centred, erased) stay small beside the input.
int64_t default_chunk_rows(int64_t dim) { return std::max<int64_t>(1, (int64_t{4} << 20) / (8 * dim)); }

// Lets go of the pages of X's mapping once rows are read. Read pages of a file
// mapping count in the process's resident set until unmapped, so without this
// the peak holds all of X on top of libtorch's own ~0.5 GB; dropped pages
// refault from the page cache in the next pass. A no-op when X is a copy (the
// reader copies misaligned tensors): discarding anonymous memory would lose it.
class MappedRows {
 public:
  MappedRows(const harness::SafetensorsFile& file, const at::Tensor& x)
      : bytes_(file.bytes("X")), row_bytes_(x.size(1) * x.element_size()) {
    mapped_ = x.const_data_ptr() == static_cast<const void*>(bytes_.data());
  }

  // Drops the whole pages within rows [0, end) (MADV_DONTNEED; failure only
  // costs memory, so it is ignored).
  void release_before(int64_t end) const {
    if (!mapped_) return;
    const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
    const auto begin = reinterpret_cast<uintptr_t>(bytes_.data());
    const uintptr_t first = (begin + page - 1) / page * page;
    const uintptr_t last = (begin + static_cast<uintptr_t>(end * row_bytes_)) / page * page;
    if (last > first) ::madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
  }

 private:
  std::span<const std::byte> bytes_;
  int64_t row_bytes_;
  bool mapped_ = false;
};

template <class F>
void for_each_chunk(int64_t n, int64_t rows, F&& f) {
  for (int64_t start = 0; start < n; start += rows) f(start, std::min(rows, n - start));
}

}  // namespace

// Three passes over X in row chunks, so no [n, d] tensor besides the mapped input
// ever exists: (1) the fit rows' statistics, (2) the erased rows' Cov(X, Z) and
// squared change for the report, which goes in the header and so must be known
// before (3) the erased rows are computed again and streamed into the file.
// Erasing is O(n d r), cheap beside the O(n d²) statistics, so recomputing it
// costs less than holding X_erased.
json erase_file(const std::filesystem::path& in, const std::filesystem::path& out, const EraseFileOptions& options) {
  const bool oracle = options.method == "oracle";
  LeaceOptions leace = options.leace;
  if (!oracle) leace.method = parse_erasure_method(options.method, "--method");
  if (options.batch_size < 0) throw InputError("", "--batch-size", "a row count >= 0", std::to_string(options.batch_size));
  const at::Device device = harness::resolve_device(options.device);

  const auto file = harness::SafetensorsFile::open(in);
  const at::Tensor x = require_tensor(*file, "X", "[n, d] of F32 or F64");
  const at::Tensor z = require_tensor(*file, "Z", "[n] of I64 class labels").clone();
  const TensorSource source{in.string(), "X", "Z"};
  const LabeledData data = validate_labeled_layout(x, z, source);  // finiteness: per chunk in the fit pass
  const MappedRows mapped(*file, x);
  const int64_t n = data.size();
  const int64_t rows = options.batch_size > 0 ? options.batch_size : default_chunk_rows(data.dim());

  at::Tensor fit_mask;  // [n] bool, true = used to fit
  if (options.holdout > 0) fit_mask = ~stratified_holdout_mask(data.z, options.holdout, options.seed);
  // The rows of chunk [start, start + len) that the eraser is fitted on.
  const auto fit_rows = [&](const at::Tensor& xc, const at::Tensor& zc, int64_t start, int64_t len) {
    if (!fit_mask.defined()) return std::pair{xc, zc};
    const at::Tensor idx = fit_mask.narrow(0, start, len).nonzero().flatten();
    return std::pair{xc.index_select(0, idx.to(xc.device())), zc.index_select(0, idx.to(zc.device()))};
  };

  LeaceStatistics stats(data.dim(), data.num_classes, device);
  for_each_chunk(n, rows, [&](int64_t start, int64_t len) {
    const at::Tensor xc = data.x.narrow(0, start, len);
    check_finite_rows(xc, start, source);  // every row, fitted or held out
    const auto [xf, zf] = fit_rows(xc, data.z.narrow(0, start, len), start, len);
    stats.update(xf, zf);
    mapped.release_before(start + len);
  });

  json report{{"in", in.string()},
              {"out", out.string()},
              {"method", options.method},
              {"n", n},
              {"dim", data.dim()},
              {"num_classes", data.num_classes},
              {"fitted_on", fit_mask.defined() ? "fit_mask rows" : "all rows"},
              {"n_fit", stats.count()}};
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  std::function<at::Tensor(const at::Tensor&, const at::Tensor&)> erase;  // float64 rows, labels -> erased float64
  if (oracle) {
    const OracleEraser e = fit_oracle(stats);
    erase = [e](const at::Tensor& xd, const at::Tensor& zd) { return e.apply(xd, zd); };
    tensors = {{"oracle_coef", e.coef.cpu()}, {"mean_z", e.mean_z.cpu()}};
  } else {
    const LeaceFit fit = fit_leace(stats, leace);
    erase = [e = fit.eraser](const at::Tensor& xd, const at::Tensor&) { return e.apply(xd); };
    const Eraser cpu = fit.eraser.to(at::kCPU, at::kDouble);
    tensors = cpu.named_tensors();
    tensors.emplace_back("P", cpu.projection());
    report["fit"] = fit.report.to_json();
    report["warnings"] = fit.report.warnings;
  }
  // Chunk [start, start + len) as float64 on the device, its labels, and its erasure.
  const auto erased_chunk = [&](int64_t start, int64_t len) {
    const at::Tensor xd = data.x.narrow(0, start, len).to(device, at::kDouble);
    const at::Tensor zd = data.z.narrow(0, start, len).to(device);
    // Safe even where xd aliases the mapping (f64 on the CPU): dropped pages refault with the same bytes.
    mapped.release_before(start + len);
    return std::tuple{xd, zd, erase(xd, zd)};
  };

  LeaceStatistics after(data.dim(), data.num_classes, device, Moments::kCrossOnly);
  double squared_change = 0.0;
  for_each_chunk(n, rows, [&](int64_t start, int64_t len) {
    const auto [xd, zd, erased] = erased_chunk(start, len);
    squared_change += (erased - xd).square().sum().item<double>();
    const auto [ef, zf] = fit_rows(erased, zd, start, len);
    after.update(ef, zf);
  });
  report["max_abs_cov_xz_before"] = stats.sigma_xz().abs().max().item<double>();
  report["max_abs_cov_xz_after"] = after.sigma_xz().abs().max().item<double>();
  report["mean_squared_change"] = squared_change / static_cast<double>(n);

  tensors.emplace_back("Z", data.z);
  if (fit_mask.defined()) tensors.emplace_back("fit_mask", fit_mask.to(at::kByte));
  const at::ScalarType out_dtype = data.x.scalar_type();
  const harness::StreamedTensor x_erased{
      "X_erased", out_dtype, {n, data.dim()}, [&](const std::function<void(const at::Tensor&)>& write) {
        for_each_chunk(n, rows, [&](int64_t start, int64_t len) {
          write(std::get<2>(erased_chunk(start, len)).to(at::kCPU, out_dtype));
        });
      }};
  harness::write_safetensors(out, tensors, {x_erased},
                             {{"format", "editgate.erase"},
                              {"method", options.method},
                              {"fitted_on", report["fitted_on"].get<std::string>()},
                              {"report", report.dump()}});
  return report;
}

json probe_file(const std::filesystem::path& in, const ProbeFileOptions& options) {
  const auto file = harness::SafetensorsFile::open(in);
  at::Tensor x = require_tensor(*file, options.tensor, "[n, d] of F32 or F64").clone();
  at::Tensor z = require_tensor(*file, options.labels, "[n] of I64 class labels").clone();
  at::Tensor groups;
  if (!options.groups.empty()) {
    groups = require_tensor(*file, options.groups, "[n] of I64 subject ids").clone();
    if (groups.scalar_type() != at::kLong || groups.dim() != 1 || groups.size(0) != x.size(0)) {
      throw InputError(in.string(), "tensor '" + options.groups + "'",
                       "[" + std::to_string(x.size(0)) + "] of I64 subject ids, one per row of '" + options.tensor + "'",
                       shape_text(groups.sizes()) + " of " + std::string(c10::toString(groups.scalar_type())));
    }
  }
  json warnings = json::array();
  int64_t excluded = 0;
  const auto meta = file->metadata().find("format");
  const bool erase_output = meta != file->metadata().end() && meta->second == "editgate.erase";
  if (erase_output && options.tensor == "X_erased") {
    if (file->find("fit_mask") != nullptr) {
      // Probe only rows the eraser never saw.
      const at::Tensor mask = file->tensor("fit_mask");
      if (mask.dim() != 1 || mask.size(0) != x.size(0)) {
        throw InputError(in.string(), "tensor 'fit_mask'", "shape [" + std::to_string(x.size(0)) + "]",
                         "shape of " + std::to_string(mask.dim()) + " dims");
      }
      const at::Tensor keep = (mask == 0).nonzero().flatten();
      excluded = x.size(0) - keep.size(0);
      x = x.index_select(0, keep);
      z = z.dim() == 1 && z.size(0) == mask.size(0) ? z.index_select(0, keep) : z;
      if (groups.defined()) groups = groups.index_select(0, keep);
    } else {
      warnings.push_back(
          "X_erased was erased by an eraser fitted on these same rows (in-sample): held-out accuracy below chance "
          "is a leakage artefact, not success; use `editgate erase --holdout F` to keep rows out of the fit");
    }
  }
  LabeledData data = validate_labeled(x, z, TensorSource{in.string(), options.tensor, options.labels});
  data.groups = groups;
  const ProbeSplit split = groups.defined() ? ProbeSplit::by_group(data, options.test_fraction, options.seed)
                                            : ProbeSplit::stratified(data, options.test_fraction, options.seed);
  json report{{"in", in.string()},
              {"tensor", options.tensor},
              {"labels", options.labels},
              {"groups", options.groups},
              {"n", data.size()},
              {"dim", data.dim()},
              {"num_classes", data.num_classes},
              {"excluded_fit_rows", excluded},
              {"test_fraction", options.test_fraction},
              {"seed", options.seed},
              {"logistic", probe_logistic(split).to_json()},
              {"warnings", warnings}};
  if (options.quadratic) report["quadratic"] = probe_quadratic(split).to_json();
  return report;
}

}  // namespace editgate::editors

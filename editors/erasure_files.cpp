#include "editors/erasure_files.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

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

at::Tensor require_tensor(const harness::SafetensorsFile& file, const std::string& name, const std::string& words) {
  if (file.find(name) == nullptr) {
    std::string have;
    for (const auto& t : file.tensors()) have += (have.empty() ? "" : ", ") + t.name;
    throw InputError(file.path().string(), "tensor '" + name + "'", "a tensor " + words,
                     "nothing (the file has: " + (have.empty() ? std::string("no tensors") : have) + ")");
  }
  return file.tensor(name).clone();  // off the mapping: the file may be overwritten by --out
}

double max_abs_cross_covariance(const at::Tensor& x, const at::Tensor& z, int64_t k) {
  LeaceStatistics s(x.size(1), k, x.device());
  s.update(x, z);
  return s.sigma_xz().abs().max().item<double>();
}

}  // namespace

json erase_file(const std::filesystem::path& in, const std::filesystem::path& out, const EraseFileOptions& options) {
  const bool oracle = options.method == "oracle";
  LeaceOptions leace = options.leace;
  if (!oracle) leace.method = parse_erasure_method(options.method, "--method");
  if (options.batch_size < 0) throw InputError("", "--batch-size", "a row count >= 0", std::to_string(options.batch_size));
  const at::Device device = harness::resolve_device(options.device);

  const auto file = harness::SafetensorsFile::open(in);
  const at::Tensor x = require_tensor(*file, "X", "[n, d] of F32 or F64");
  const at::Tensor z = require_tensor(*file, "Z", "[n] of I64 class labels");
  const LabeledData data = validate_labeled(x, z, TensorSource{in.string(), "X", "Z"});

  at::Tensor fit_mask;  // [n] bool, true = used to fit
  LabeledData fit_rows = data;
  if (options.holdout > 0) {
    fit_mask = ~stratified_holdout_mask(data.z, options.holdout, options.seed);
    fit_rows = select_rows(data, fit_mask.nonzero().flatten());
  }
  const LabeledData fit_on_device{fit_rows.x.to(device), fit_rows.z.to(device), fit_rows.num_classes};
  const LeaceStatistics stats = accumulate_statistics(fit_on_device, options.batch_size);
  const at::Tensor xd = data.x.to(device, at::kDouble);  // [n, d]

  json report{{"in", in.string()},
              {"out", out.string()},
              {"method", options.method},
              {"n", data.size()},
              {"dim", data.dim()},
              {"num_classes", data.num_classes},
              {"fitted_on", fit_mask.defined() ? "fit_mask rows" : "all rows"},
              {"n_fit", fit_rows.size()}};
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  at::Tensor erased;  // [n, d] float64
  if (oracle) {
    const OracleEraser e = fit_oracle(stats);
    erased = e.apply(xd, data.z.to(device));
    tensors = {{"oracle_coef", e.coef.cpu()}, {"mean_z", e.mean_z.cpu()}};
  } else {
    const LeaceFit fit = fit_leace(stats, leace);
    erased = fit.eraser.apply(xd);
    const Eraser cpu = fit.eraser.to(at::kCPU, at::kDouble);
    tensors = cpu.named_tensors();
    tensors.emplace_back("P", cpu.projection());
    report["fit"] = fit.report.to_json();
    report["warnings"] = fit.report.warnings;
  }
  const at::Tensor fit_index = fit_mask.defined() ? fit_mask.nonzero().flatten().to(device)
                                                  : at::arange(data.size(), at::TensorOptions(at::kLong).device(device));
  const at::Tensor zd = data.z.to(device);
  report["max_abs_cov_xz_before"] =
      max_abs_cross_covariance(xd.index_select(0, fit_index), zd.index_select(0, fit_index), data.num_classes);
  report["max_abs_cov_xz_after"] =
      max_abs_cross_covariance(erased.index_select(0, fit_index), zd.index_select(0, fit_index), data.num_classes);
  report["mean_squared_change"] = (erased - xd).square().sum(1).mean().item<double>();

  tensors.emplace_back("X_erased", erased.to(at::kCPU, data.x.scalar_type()));
  tensors.emplace_back("Z", data.z.cpu());
  if (fit_mask.defined()) tensors.emplace_back("fit_mask", fit_mask.to(at::kByte));
  harness::write_safetensors(out, tensors,
                             {{"format", "editgate.erase"},
                              {"method", options.method},
                              {"fitted_on", report["fitted_on"].get<std::string>()},
                              {"report", report.dump()}});
  return report;
}

json probe_file(const std::filesystem::path& in, const ProbeFileOptions& options) {
  const auto file = harness::SafetensorsFile::open(in);
  at::Tensor x = require_tensor(*file, options.tensor, "[n, d] of F32 or F64");
  at::Tensor z = require_tensor(*file, options.labels, "[n] of I64 class labels");
  at::Tensor groups;
  if (!options.groups.empty()) {
    groups = require_tensor(*file, options.groups, "[n] of I64 subject ids");
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

#include "suites/bench/bench_models.h"

#include <c10/core/GradMode.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>

#include "harness/checkpoint.h"
#include "harness/gpu_timing.h"
#include "harness/wordlevel_tokenizer.h"
#include "suites/bench/device_peak.h"

namespace editgate::bench {

namespace fs = std::filesystem;

harness::TextModel& bench_model(const fixtures::Gpt2Shape& shape) {
  static std::map<int64_t, std::unique_ptr<harness::TextModel>> models;
  auto& slot = models[shape.d_model * 1000 + shape.n_layer];
  if (slot) return *slot;
  const fs::path dir = fs::temp_directory_path() / ("editgate_bench_gpt2_" + std::to_string(shape.n_layer) + "x" +
                                                    std::to_string(shape.d_model));
  if (!fs::exists(dir / "tokenizer.json")) {
    c10::NoGradGuard ng;
    const auto model = fixtures::init_gpt2(shape, 0, at::kCPU);
    const fs::path empty = dir.string() + ".src";
    fs::create_directories(empty);
    harness::save_model(*model, dir, empty);
    std::vector<std::string> words = {"<bos>"};
    for (int64_t i = 1; i < shape.vocab_size - 1; ++i) words.push_back("w" + std::to_string(i));
    // tokenizer.json last: its presence marks a complete model directory.
    std::ofstream(dir / "tokenizer.json") << harness::wordlevel_tokenizer_json(words, "<unk>", {"<bos>"});
  }
  harness::LoadOptions o;
  o.device = bench_device().str();
  slot = std::make_unique<harness::TextModel>(harness::TextModel::load(dir, o));
  return *slot;
}

double parameter_count(const fixtures::Gpt2Shape& s) {
  const double d = static_cast<double>(s.d_model);
  return s.n_layer * (12 * d * d + 13 * d) + d * (s.vocab_size + s.n_positions) + 2 * d;
}

double forward_flops(const fixtures::Gpt2Shape& s, int64_t seq) {
  const double d = static_cast<double>(s.d_model);
  const double per_token_weights = s.n_layer * (3 * d * d + d * d + 2 * 4 * d * d) + d * s.vocab_size;
  const double attention = s.n_layer * 2.0 * 2.0 * static_cast<double>(seq) * d;
  return static_cast<double>(seq) * (2.0 * per_token_weights + attention);
}

bool large_shape_fits(const fixtures::Gpt2Shape& shape) {
  if (!bench_device().is_cuda()) {
    const char* env = std::getenv("EDITGATE_BENCH_LARGE");
    return env != nullptr && std::string(env) == "1";
  }
  return 3.0 * 4.0 * parameter_count(shape) < static_cast<double>(harness::gpu_total_memory_bytes());
}

std::string bench_word(int64_t i, int64_t vocab) { return "w" + std::to_string(1 + i % (vocab - 3)); }

}  // namespace editgate::bench

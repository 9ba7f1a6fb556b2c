#include "editors/second_moment.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <optional>
#include <span>

#include "harness/gpu_timing.h"
#include "harness/input_error.h"
#include "harness/progress.h"
#include "harness/safetensors_reader.h"
#include "harness/safetensors_writer.h"
#include "harness/scoring.h"
#include "harness/sha256.h"

namespace editgate::editors {
namespace {

constexpr const char* kFormat = "editgate.mom2.v2";  // v2: metadata sha256 of the data

// Thrown by the hook of the last layer needed: the layers above it cannot
// change the keys, so the rest of the forward pass is skipped.
struct StopForward {};

std::string dtype_name(at::ScalarType t) {
  const auto* d = harness::find_safetensors_dtype(t);
  return d != nullptr ? std::string(d->name) : std::string(c10::toString(t));
}

at::ScalarType compute_dtype(const harness::TextModel& model) {
  return model.model().parameters().begin()->second.scalar_type();
}

std::filesystem::path cache_path(const SecondMomentOptions& o, int64_t layer, const std::string& key_sha) {
  return o.cache_dir / fmt::format("mom2_l{}_{}.safetensors", layer, key_sha.substr(0, 16));
}

// SHA-256 of a statistic's stored bytes: the cache's checksum.
std::string payload_sha256(std::span<const std::byte> bytes) {
  harness::Sha256 h;
  h.update(bytes.data(), bytes.size());
  return h.hex_digest();
}

// The cached statistic if the file exists, every key field matches and the
// data matches its checksum; else undefined (the caller recomputes and
// overwrites it). A cache that exists but fails a check is reported on stderr:
// it means a crash before atomic writes, a disk error or a hand edit.
at::Tensor read_cache(const std::filesystem::path& file, const nlohmann::ordered_json& key, int64_t d_mlp,
                      int64_t& n_tokens) {
  if (!std::filesystem::exists(file)) return {};
  const auto reject = [&](const std::string& why) {
    fmt::print(stderr, "editgate: statistics cache {} is unusable ({}); recomputing it\n", file.string(), why);
    return at::Tensor();
  };
  std::shared_ptr<const harness::SafetensorsFile> f;
  try {
    f = harness::SafetensorsFile::open(file);
  } catch (const InputError& e) {
    return reject(e.what());
  }
  const auto& meta = f->metadata();
  const auto field = [&](const std::string& name) {
    const auto it = meta.find(name);
    return it == meta.end() ? std::string() : it->second;
  };
  if (field("format") != kFormat) return reject("format is not " + std::string(kFormat));
  if (field("key") != key.dump()) return reject("its key differs from this run's");
  const auto* info = f->find("mom2");
  if (info == nullptr || info->shape != std::vector<int64_t>{d_mlp, d_mlp}) return reject("no mom2 tensor of this shape");
  if (field("sha256") != payload_sha256(f->bytes("mom2"))) return reject("checksum mismatch");
  const auto n = field("n_tokens");
  if (n.empty() || n.find_first_not_of("0123456789") != std::string::npos) return reject("bad n_tokens");
  n_tokens = std::stoll(n);
  return f->tensor("mom2").to(at::kDouble);
}

// Accumulates Σ k kᵀ per layer in float64 over the corpus; returns the token count.
int64_t collect(harness::TextModel& tm, const TextCorpus& corpus, const SecondMomentOptions& o,
                const std::vector<int64_t>& layers, std::map<int64_t, at::Tensor>& sums) {
  auto& model = tm.model();
  const auto& cfg = model.config();
  const int64_t max_len = o.max_length > 0 ? std::min(o.max_length, cfg.max_positions) : cfg.max_positions;
  const int64_t last_layer = *std::max_element(layers.begin(), layers.end());
  const auto dev = model.device();
  for (int64_t l : layers) sums[l] = at::zeros({cfg.d_mlp, cfg.d_mlp}, at::TensorOptions().dtype(at::kDouble).device(dev));

  at::Tensor keep;  // [batch * pos] bool: tokens of the current batch that count
  std::vector<harness::HookHandle> handles;
  for (int64_t l : layers) {
    handles.push_back(model.hooks().add({l, harness::HookSite::kMlpPost},
                                        [&sums, &keep, l, last_layer](at::Tensor& act, const harness::HookContext&) {
                                          // act [batch, pos, d_mlp] -> keys [n, d_mlp] float64
                                          const auto keys =
                                              act.reshape({-1, act.size(-1)}).index({keep}).to(at::kDouble);
                                          sums[l].addmm_(keys.t(), keys);
                                          if (l == last_layer) throw StopForward{};
                                        }));
  }
  std::optional<harness::ProgressBar> bar;
  if (o.show_progress) bar.emplace("mom2 statistics", o.max_tokens, "tokens");
  int64_t seen = 0;
  std::vector<std::vector<int64_t>> batch;
  const auto run_batch = [&]() {
    if (batch.empty()) return;
    const auto padded = harness::pad_batch(batch, harness::Padding::kRight);
    auto mask = padded.mask.reshape({-1}).to(at::kBool);  // [batch * pos]
    if (o.max_tokens > 0) {
      // Keep exactly the budget: the first tokens in row-major order.
      const auto rank = mask.to(at::kLong).cumsum(0);
      mask = mask & (rank <= (o.max_tokens - seen));
    }
    const int64_t n = mask.sum().item<int64_t>();
    keep = mask.to(dev);
    harness::ForwardOptions fo;
    fo.attention_mask = padded.mask.to(dev);
    try {
      model.forward(padded.ids.to(dev), fo);
    } catch (const StopForward&) {
    }
    seen += n;
    batch.clear();
    if (bar && bar->enabled()) bar->update(seen, fmt::format("{} layers", layers.size()));
  };
  corpus.for_each([&](std::string_view doc) {
    auto ids = tm.encode_prompt(doc);
    if (static_cast<int64_t>(ids.size()) > max_len) ids.resize(static_cast<size_t>(max_len));
    if (!ids.empty()) batch.push_back(std::move(ids));
    if (static_cast<int64_t>(batch.size()) >= o.batch_size) run_batch();
    return o.max_tokens <= 0 || seen < o.max_tokens;
  });
  if (o.max_tokens <= 0 || seen < o.max_tokens) run_batch();
  if (bar) bar->finish(fmt::format("{} tokens", seen));
  return seen;
}

}  // namespace

nlohmann::ordered_json second_moment_key(const harness::TextModel& model, const TextCorpus& corpus,
                                         const SecondMomentOptions& o, int64_t layer) {
  const auto& cfg = model.model().config();
  return {{"weights_sha256", o.weights_sha256},
          {"layer", layer},
          {"site", fmt::format("blocks.{}.mlp.hook_post", layer)},
          {"corpus_sha256", corpus.sha256()},
          {"max_tokens", o.max_tokens},
          {"max_length", o.max_length > 0 ? std::min(o.max_length, cfg.max_positions) : cfg.max_positions},
          {"adds_bos", model.adds_bos()},
          {"compute_dtype", dtype_name(compute_dtype(model))},
          {"stored_dtype", dtype_name(o.stored_dtype)}};
}

std::vector<SecondMoment> compute_second_moments(harness::TextModel& tm, const TextCorpus& corpus,
                                                 const SecondMomentOptions& o) {
  TORCH_CHECK(!o.layers.empty(), "compute_second_moments: no layers");
  const auto& cfg = tm.model().config();
  for (int64_t l : o.layers) {
    if (l < 0 || l >= cfg.n_layers) {
      throw InputError("", "layer", fmt::format("a layer in [0, {})", cfg.n_layers), std::to_string(l));
    }
  }
  if (!o.cache_dir.empty() && o.weights_sha256.empty()) {
    throw InputError("", "weights_sha256", "the model's weights fingerprint when caching statistics", "none");
  }
  std::vector<SecondMoment> out;
  std::vector<int64_t> missing;
  for (int64_t l : o.layers) {
    SecondMoment s;
    s.layer = l;
    s.key = second_moment_key(tm, corpus, o, l);
    s.key_sha256 = harness::sha256_hex(s.key.dump());
    if (!o.cache_dir.empty()) {
      s.cache_file = cache_path(o, l, s.key_sha256);
      const auto cached = read_cache(s.cache_file, s.key, cfg.d_mlp, s.n_tokens);
      if (cached.defined()) {
        s.mom2 = cached.to(tm.model().device());
        s.from_cache = true;
      }
    }
    if (!s.from_cache && std::find(missing.begin(), missing.end(), l) == missing.end()) missing.push_back(l);
    out.push_back(std::move(s));
  }
  if (missing.empty()) return out;

  c10::NoGradGuard no_grad;
  const auto t0 = std::chrono::steady_clock::now();
  std::map<int64_t, at::Tensor> sums;
  const int64_t n = [&] {
    const harness::NvtxRange range("second moments");  // Nsight timeline
    return collect(tm, corpus, o, missing, sums);
  }();
  if (n == 0) throw InputError(corpus.name(), "", "a corpus with at least one token", "no tokens");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (auto& s : out) {
    if (s.from_cache) continue;
    // Round through the stored dtype, so a fresh statistic equals a cached one bit for bit.
    const auto stored = (sums.at(s.layer) / static_cast<double>(n)).to(o.stored_dtype).cpu().contiguous();
    s.mom2 = stored.to(at::kDouble).to(tm.model().device());
    s.n_tokens = n;
    s.seconds = seconds;
    if (!o.cache_dir.empty()) {
      std::filesystem::create_directories(o.cache_dir);
      const auto checksum = payload_sha256({static_cast<const std::byte*>(stored.data_ptr()), stored.nbytes()});
      harness::write_safetensors(s.cache_file, {{"mom2", stored}},
                                 {{"format", kFormat},
                                  {"key", s.key.dump()},
                                  {"n_tokens", std::to_string(n)},
                                  {"sha256", checksum}});
    }
  }
  return out;
}

at::Tensor mom2_with_ridge(const at::Tensor& mom2, double ridge) {
  auto c = mom2.to(at::kDouble);
  if (ridge > 0) c = c + ridge * c.diagonal().mean() * at::eye(c.size(0), c.options());
  return c;
}

std::filesystem::path default_stats_cache_dir() {
  namespace fs = std::filesystem;
  const auto set = [](const char* name) -> const char* {
    const char* v = std::getenv(name);
    return v != nullptr && *v != '\0' ? v : nullptr;
  };
  if (const char* d = set("EDITGATE_STATS_CACHE")) return d;
  if (const char* x = set("XDG_CACHE_HOME")) return fs::path(x) / "editgate" / "stats";
  if (const char* h = set("HOME")) return fs::path(h) / ".cache" / "editgate" / "stats";
  return fs::temp_directory_path() / "editgate-stats";
}

}  // namespace editgate::editors

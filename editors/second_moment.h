#pragma once
// Second-moment statistics of MLP keys: C_l = E[k kᵀ] (uncentred) of
// blocks.{l}.mlp.hook_post, the input of W_out, over every token of a corpus.
// ROME uses C⁻¹k to aim its rank-one update, MEMIT and AlphaEdit weigh their
// least-squares solves with it. This unit owns the streamed float64
// accumulation (several layers in one pass), the on-disk cache and its key;
// reading the corpus is text_corpus.h's, the forward pass the runtime's.
//
// Cache: one safetensors file per layer, "mom2_l{layer}_{key sha256[:16]}.safetensors",
// holding "mom2" [d_mlp, d_mlp] in the stored dtype and the key fields as
// metadata. The key is (weights sha256, layer, corpus sha256, token budget,
// max length, compute dtype, stored dtype); a file whose metadata does not
// match every field is stale and is recomputed, never used. Writes are atomic.

#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "editors/text_corpus.h"
#include "harness/text_model.h"

namespace editgate::editors {

struct SecondMomentOptions {
  std::vector<int64_t> layers;               // one pass collects them all
  int64_t max_tokens = 0;                    // token budget; 0: the whole corpus
  int64_t batch_size = 16;                   // documents per forward pass
  int64_t max_length = 0;                    // tokens kept per document; 0: the model's context
  at::ScalarType stored_dtype = at::kFloat;  // dtype of the cached (and returned) statistic
  std::filesystem::path cache_dir;           // empty: no cache
  std::string weights_sha256;                // the model's weights fingerprint (part of the key)
  bool show_progress = true;
};

struct SecondMoment {
  int64_t layer = 0;
  at::Tensor mom2;       // [d_mlp, d_mlp] float64 on the model's device, rounded through stored_dtype
  int64_t n_tokens = 0;  // keys averaged
  nlohmann::ordered_json key;  // the cache key fields
  std::string key_sha256;      // sha256 of key.dump()
  std::filesystem::path cache_file;  // empty without a cache
  bool from_cache = false;
  double seconds = 0;  // collection time (0 when read from the cache)
};

/// The statistics of `options.layers` (in that order). Layers found in the
/// cache are read from it; the others are collected in one pass over the
/// corpus and written to it. InputError when the corpus yields no tokens.
std::vector<SecondMoment> compute_second_moments(harness::TextModel& model, const TextCorpus& corpus,
                                                 const SecondMomentOptions& options);

/// C + ridge·mean(diag C)·I in float64: the hparams' mom2_ridge, relative to C's
/// scale. ridge 0 (the reference's behaviour) gives C itself, as float64.
at::Tensor mom2_with_ridge(const at::Tensor& mom2, double ridge);

/// Where statistics are cached unless the user says otherwise: $EDITGATE_STATS_CACHE,
/// else $XDG_CACHE_HOME/editgate/stats, else ~/.cache/editgate/stats, else a
/// folder under the system's temporary directory.
std::filesystem::path default_stats_cache_dir();

/// The cache key fields of one layer (exposed for tests and manifests).
nlohmann::ordered_json second_moment_key(const harness::TextModel& model, const TextCorpus& corpus,
                                         const SecondMomentOptions& options, int64_t layer);

}  // namespace editgate::editors

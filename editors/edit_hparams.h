#pragma once
// Hyperparameters of the weight editors (ROME, MEMIT, AlphaEdit, FT-L), read
// from editors/hparams/{method}/{model}.json. Field names are the reference
// code's (kmeng01/rome, kmeng01/memit, AlphaEdit), so their files read almost
// unchanged; editgate's additions are documented per field. This unit owns the
// parsing (InputError naming the file and field, unknown keys rejected so a
// typo cannot silently fall back to a default) and the canonical JSON that
// manifests record; what the numbers do is the editors'.

#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace editgate::editors {

/// Context prefixes k* and v* are averaged over (ROME: "{}" plus sampled prefixes).
/// The templates come in groups: "{}" alone, then one group per
/// context_template_length_params entry (or per `fixed` group). ROME averages
/// keys over all templates alike; MEMIT and AlphaEdit average within each group,
/// then over the groups, as the reference's compute_ks does.
struct ContextTemplateParams {
  // {tokens per prefix, number of prefixes}; the reference's
  // context_template_length_params. Token counts include the seed word, as there.
  std::vector<std::array<int64_t, 2>> length_count = {{5, 10}, {10, 10}};
  std::vector<std::string> seed_words;  // prefixes start with these (MEMIT); empty: from BOS (ROME)
  std::string separator = ". ";         // between a prefix and the prompt
  std::string stop_word;                // when set, a prefix ends after its first occurrence (complete
                                        // sentences, as a packed training text has them); "" = none
  int64_t top_k = 5;                    // the sampler keeps the k most likely tokens
  // context_templates: fixed templates instead of sampled ones, as groups; the first
  // group is exactly ["{}"] and every template holds "{}" once. Empty: sample.
  std::vector<std::vector<std::string>> fixed;
};

/// The v*/z optimisation (ROME compute_v, MEMIT compute_z).
struct ValueParams {
  int64_t num_steps = 20;            // v_num_grad_steps: forward passes, at most
  double lr = 0.5;                   // v_lr (Adam)
  double weight_decay = 0.5;         // v_weight_decay, on ‖δ‖/‖v0‖²
  double clamp_norm_factor = 4.0;    // ‖δ‖ <= clamp_norm_factor ‖v0‖
  double kl_factor = 0.0625;         // weight of KL on the essence prompts
  double early_stop_loss = 0.05;     // stop once the loss is below this (the reference's 5e-2)
  std::vector<std::string> kl_prompts = {"{} is a"};  // essence prompts, "{}" for the subject
  // v_allow_tf32: on CUDA, the δ optimisation's matrix products run in TF32 (10-bit
  // mantissa, fp32 range). δ is a search result that is only as good as its loss says,
  // and the closed-form weight update after it stays in full precision, so the
  // optimisation gives up nothing it is judged by; on an H200 it is the bulk of a
  // ROME edit. No effect on CPU, so CPU runs stay bit-reproducible.
  bool allow_tf32 = true;
};

/// Second-moment statistics C = E[k kᵀ] (second_moment.h).
struct Mom2Params {
  bool adjustment = true;       // mom2_adjustment: false gives u = k/‖k‖ (EasyEdit's default)
  int64_t max_tokens = 0;       // token budget; 0: the whole corpus
  int64_t max_length = 0;       // tokens per document; 0: the model's context
  std::string dtype = "float32";  // mom2_dtype: how C is stored
  double ridge = 0.0;           // C + ridge·mean(diag C)·I before inverting (ROME) or solving (MEMIT); the
                                // reference adds none. For ill-conditioned C from a small corpus.
                                // AlphaEdit's projector reads C itself.
};

struct RomeHparams {
  int64_t layer = 17;                  // layers: [l], exactly one
  std::string insert_key = "prompt";   // "prompt": ΔW solved at the bare prompt's key (reference
                                       // code); "mean": at k̄ (the paper's k*)
  ContextTemplateParams context;
  ValueParams value;
  Mom2Params mom2;
};

struct MemitHparams {
  std::vector<int64_t> layers = {13, 14, 15, 16, 17};  // ascending; z lives at the last one's output
  double mom2_update_weight = 20000;                   // λ in (λC + KKᵀ)
  double nullspace_threshold = 2e-2;                   // AlphaEdit: eigenvalues of C below this span P
  double l2 = 10;                                      // AlphaEdit: α (the reference's "L2")
  ContextTemplateParams context;
  ValueParams value;
  Mom2Params mom2;
};

struct FtHparams {
  int64_t layer = 0;          // layers: [l]; W_out of that layer is trained
  int64_t num_steps = 25;
  double lr = 5e-4;
  double norm_constraint = 5e-4;  // L∞ bound on the change of every weight
  double weight_decay = 0;
};

/// GRACE (Hartvigsen et al. 2023; Thartvigsen/GRACE config/editor/grace.yaml):
/// a codebook at one layer's W_out (harness/codebook_adapter.h).
struct GraceHparams {
  int64_t layer = 0;                    // layers: [l]; keys at blocks.l.mlp.hook_post, values at hook_mlp_out
  double eps = 1.0;                     // eps: radius of a new key (Euclidean, in the key's units)
  int64_t num_steps = 100;              // n_iter: Adam steps on the value, at most
  double lr = 1.0;                      // edit_lr
  double early_stop_loss = 0.01;        // stop once the target NLL is below this (reg: early_stop)
  std::string value_init = "warm";      // val_init: "warm" (the layer's output there) or "cold" (uniform [0, 1))
  std::string eps_expand = "coverage";  // eps_expand: "coverage" or "moving_average"
};

/// MEND (Mitchell et al. 2022; eric-mitchell/mend config/alg/mend.yaml and
/// config/experiment/*.yaml): the hypernetwork's shape and its training. Field
/// names are the reference's where it has one.
struct MendHparams {
  std::vector<std::string> inner_params = {"blocks.0.mlp.W_in", "blocks.0.mlp.W_out"};  // edited weights (stable names)
  int64_t rank = 64;          // rank of each low-rank layer of the IDMLP (reference 1920 for GPT-2 XL)
  int64_t n_hidden = 1;       // hidden layers (ReLU) before the output layer
  double hidden_bias = 0;     // editgate's: initial bias b of the hidden layers, the output layer's -n_hidden*b
                              // (still the identity). With the reference's 0 the hidden layers' ReLU sits at
                              // exactly 0 and passes no gradient, so they never train; b > 0 lets them.
  double edit_lr = 1e-4;      // initial per-weight edit learning rate alpha_l
  double lr = 1e-4;           // Adam learning rate of the hypernetwork
  double lr_lr = 1e-4;        // Adam learning rate of the alphas
  double cedit = 0.1;         // weight of the edit NLL (on the prompt and its paraphrases)
  double cloc = 1.0;          // weight of KL(base || edited) on the locality prompts
  int64_t max_iters = 1000;   // training steps
  int64_t batch_size = 4;     // edits per step, each applied alone; their losses are averaged
  int64_t n_loc = 8;          // unrelated locality prompts per edit, besides its neighbourhood prompts
};

RomeHparams parse_rome_hparams(const nlohmann::json& j, const std::string& path);
MemitHparams parse_memit_hparams(const nlohmann::json& j, const std::string& path);
FtHparams parse_ft_hparams(const nlohmann::json& j, const std::string& path);
GraceHparams parse_grace_hparams(const nlohmann::json& j, const std::string& path);
MendHparams parse_mend_hparams(const nlohmann::json& j, const std::string& path);
/// Reads a JSON file; InputError for an unreadable file or invalid JSON.
nlohmann::json read_hparams_file(const std::filesystem::path& path);

nlohmann::ordered_json to_json(const RomeHparams& h);
nlohmann::ordered_json to_json(const MemitHparams& h);
nlohmann::ordered_json to_json(const FtHparams& h);
nlohmann::ordered_json to_json(const GraceHparams& h);
nlohmann::ordered_json to_json(const MendHparams& h);

}  // namespace editgate::editors

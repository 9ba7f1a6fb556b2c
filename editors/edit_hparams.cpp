#include "editors/edit_hparams.h"
#include "harness/json_file.h"

#include <fmt/format.h>

#include <set>

#include "harness/input_error.h"

namespace editgate::editors {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

// Typed field access over one hparams object; remembers which keys were read
// so the rest can be rejected as unknown.
class Fields {
 public:
  Fields(const json& j, const std::string& path) : j_(j), path_(path) {
    if (!j.is_object()) throw InputError(path, "", "a JSON object of hyperparameters", j.type_name());
  }

  template <typename T>
  T get(const std::string& key, T fallback) {
    used_.insert(key);
    const auto it = j_.find(key);
    if (it == j_.end()) return fallback;
    try {
      if constexpr (std::is_same_v<T, double>) {
        if (!it->is_number()) throw std::runtime_error("");
      } else if constexpr (std::is_same_v<T, int64_t>) {
        if (!it->is_number_integer()) throw std::runtime_error("");
      } else if constexpr (std::is_same_v<T, bool>) {
        if (!it->is_boolean()) throw std::runtime_error("");
      } else if constexpr (std::is_same_v<T, std::string>) {
        if (!it->is_string()) throw std::runtime_error("");
      }
      return it->get<T>();
    } catch (const std::exception&) {
      throw InputError(path_, key, fmt::format("a value of type {}", type_word<T>()), it->dump());
    }
  }

  double positive(const std::string& key, double fallback, bool allow_zero = false) {
    const double v = get<double>(key, fallback);
    if (v < 0 || (!allow_zero && v == 0)) {
      throw InputError(path_, key, allow_zero ? "a number >= 0" : "a number > 0", fmt::format("{}", v));
    }
    return v;
  }

  std::vector<int64_t> layers(const std::string& key, std::vector<int64_t> fallback) {
    auto v = get<std::vector<int64_t>>(key, std::move(fallback));
    if (v.empty()) throw InputError(path_, key, "at least one layer", "[]");
    for (size_t i = 0; i < v.size(); ++i) {
      if (v[i] < 0 || (i > 0 && v[i] <= v[i - 1])) {
        throw InputError(path_, key, "ascending layer indices >= 0", json(v).dump());
      }
    }
    return v;
  }

  ContextTemplateParams context() {
    ContextTemplateParams c;
    c.length_count = get<std::vector<std::array<int64_t, 2>>>("context_template_length_params", c.length_count);
    for (const auto& lc : c.length_count) {
      if (lc[0] < 1 || lc[1] < 0) {
        throw InputError(path_, "context_template_length_params", "[[tokens >= 1, count >= 0], ...]",
                         json(c.length_count).dump());
      }
    }
    c.seed_words = get<std::vector<std::string>>("context_seed_words", c.seed_words);
    c.separator = get<std::string>("context_separator", c.separator);
    c.stop_word = get<std::string>("context_stop_word", c.stop_word);
    c.top_k = get<int64_t>("context_top_k", c.top_k);
    if (c.top_k < 1) throw InputError(path_, "context_top_k", "an integer >= 1", std::to_string(c.top_k));
    c.fixed = get<std::vector<std::vector<std::string>>>("context_templates", c.fixed);
    if (!c.fixed.empty()) check_fixed_templates(c);
    return c;
  }

  // Fixed templates replace the sampler: the groups must start with ["{}"] and
  // hold one slot each, and no sampling field may be set beside them.
  void check_fixed_templates(ContextTemplateParams& c) const {
    const std::string expected = "[[\"{}\"], [templates with one \"{}\"], ...]";
    if (c.fixed.front() != std::vector<std::string>{"{}"}) {
      throw InputError(path_, "context_templates", expected, json(c.fixed).dump());
    }
    for (const auto& group : c.fixed) {
      if (group.empty()) throw InputError(path_, "context_templates", "no empty group", json(c.fixed).dump());
      for (const auto& t : group) {
        const auto slot = t.find("{}");
        if (slot == std::string::npos || t.find("{}", slot + 2) != std::string::npos) {
          throw InputError(path_, "context_templates", expected, json(t).dump());
        }
      }
    }
    for (const char* k : {"context_template_length_params", "context_seed_words"}) {
      if (j_.contains(k) && !j_.at(k).empty()) {
        throw InputError(path_, k, "empty or absent when context_templates fixes the templates", j_.at(k).dump());
      }
    }
    c.length_count.clear();
    c.seed_words.clear();
  }

  ValueParams value() {
    ValueParams v;
    v.num_steps = get<int64_t>("v_num_grad_steps", v.num_steps);
    if (v.num_steps < 1) throw InputError(path_, "v_num_grad_steps", "an integer >= 1", std::to_string(v.num_steps));
    v.lr = positive("v_lr", v.lr);
    v.weight_decay = positive("v_weight_decay", v.weight_decay, true);
    v.clamp_norm_factor = positive("clamp_norm_factor", v.clamp_norm_factor);
    v.kl_factor = positive("kl_factor", v.kl_factor, true);
    v.early_stop_loss = positive("early_stop_loss", v.early_stop_loss, true);
    v.kl_prompts = get<std::vector<std::string>>("kl_prompts", v.kl_prompts);
    v.allow_tf32 = get<bool>("v_allow_tf32", v.allow_tf32);
    for (const auto& p : v.kl_prompts) {
      if (p.find("{}") == std::string::npos) throw InputError(path_, "kl_prompts", "prompts with \"{}\"", json(p).dump());
    }
    get<int64_t>("v_loss_layer", 0);  // reference field: the loss is always at the final logits here
    get<std::string>("fact_token", "subject_last");
    return v;
  }

  Mom2Params mom2() {
    Mom2Params m;
    m.adjustment = get<bool>("mom2_adjustment", m.adjustment);
    m.max_tokens = get<int64_t>("mom2_max_tokens", m.max_tokens);
    m.max_length = get<int64_t>("mom2_max_length", m.max_length);
    m.dtype = get<std::string>("mom2_dtype", m.dtype);
    if (m.dtype != "float32" && m.dtype != "float64") {
      throw InputError(path_, "mom2_dtype", "\"float32\" or \"float64\"", json(m.dtype).dump());
    }
    m.ridge = positive("mom2_ridge", m.ridge, true);
    get<std::string>("mom2_dataset", "");  // reference fields, recorded in the raw file only
    get<int64_t>("mom2_n_samples", 0);
    return m;
  }

  // Reference-code fields that name modules of the Python model; editgate addresses
  // weights by stable name, so they are accepted and ignored.
  void skip_module_names() {
    for (const char* k : {"rewrite_module_tmp", "layer_module_tmp", "mlp_module_tmp", "attn_module_tmp",
                          "ln_f_module", "lm_head_module", "layer_selection", "model_name", "alg_name", "device"}) {
      used_.insert(k);
    }
  }

  void reject_unknown() const {
    for (const auto& [key, value] : j_.items()) {
      if (!key.empty() && key[0] == '_') continue;  // "_comment" and friends
      if (!used_.count(key)) throw InputError(path_, key, "a known hyperparameter", "an unknown key",
                                              "check the spelling against editors/edit_hparams.h");
    }
  }

 private:
  template <typename T>
  static const char* type_word() {
    if constexpr (std::is_same_v<T, double>) return "number";
    if constexpr (std::is_same_v<T, int64_t>) return "integer";
    if constexpr (std::is_same_v<T, bool>) return "boolean";
    if constexpr (std::is_same_v<T, std::string>) return "string";
    return "list";
  }
  const json& j_;
  const std::string& path_;
  std::set<std::string> used_;
};

ordered_json context_json(const ContextTemplateParams& c) {
  ordered_json j = {{"context_template_length_params", c.length_count},
                    {"context_seed_words", c.seed_words},
                    {"context_separator", c.separator},
                    {"context_stop_word", c.stop_word},
                    {"context_top_k", c.top_k}};
  if (!c.fixed.empty()) j["context_templates"] = c.fixed;
  return j;
}

void add_value_json(ordered_json& j, const ValueParams& v) {
  j["v_num_grad_steps"] = v.num_steps;
  j["v_lr"] = v.lr;
  j["v_weight_decay"] = v.weight_decay;
  j["clamp_norm_factor"] = v.clamp_norm_factor;
  j["kl_factor"] = v.kl_factor;
  j["early_stop_loss"] = v.early_stop_loss;
  j["kl_prompts"] = v.kl_prompts;
  j["v_allow_tf32"] = v.allow_tf32;
}

void add_mom2_json(ordered_json& j, const Mom2Params& m) {
  j["mom2_adjustment"] = m.adjustment;
  j["mom2_max_tokens"] = m.max_tokens;
  j["mom2_max_length"] = m.max_length;
  j["mom2_dtype"] = m.dtype;
  j["mom2_ridge"] = m.ridge;
}

}  // namespace

RomeHparams parse_rome_hparams(const nlohmann::json& j, const std::string& path) {
  Fields f(j, path);
  RomeHparams h;
  const auto layers = f.layers("layers", {h.layer});
  if (layers.size() != 1) throw InputError(path, "layers", "exactly one layer for ROME", json(layers).dump());
  h.layer = layers[0];
  h.insert_key = f.get<std::string>("insert_key", h.insert_key);
  if (h.insert_key != "prompt" && h.insert_key != "mean") {
    throw InputError(path, "insert_key", "\"prompt\" or \"mean\"", json(h.insert_key).dump());
  }
  h.context = f.context();
  h.value = f.value();
  h.mom2 = f.mom2();
  f.skip_module_names();
  f.reject_unknown();
  return h;
}

MemitHparams parse_memit_hparams(const nlohmann::json& j, const std::string& path) {
  Fields f(j, path);
  MemitHparams h;
  h.layers = f.layers("layers", h.layers);
  h.mom2_update_weight = f.positive("mom2_update_weight", h.mom2_update_weight, true);
  h.nullspace_threshold = f.positive("nullspace_threshold", h.nullspace_threshold);
  h.l2 = f.positive("L2", h.l2);
  h.context.length_count = {{10, 5}};
  h.context.seed_words = {"The", "Therefore", "Because", "I", "You"};
  const auto defaults = h.context;
  h.context = f.context();
  if (h.context.fixed.empty()) {
    if (!j.contains("context_template_length_params")) h.context.length_count = defaults.length_count;
    if (!j.contains("context_seed_words")) h.context.seed_words = defaults.seed_words;
  }
  h.value = f.value();
  if (!j.contains("clamp_norm_factor")) h.value.clamp_norm_factor = 0.75;
  h.mom2 = f.mom2();
  f.skip_module_names();
  f.reject_unknown();
  return h;
}

FtHparams parse_ft_hparams(const nlohmann::json& j, const std::string& path) {
  Fields f(j, path);
  FtHparams h;
  const auto layers = f.layers("layers", {h.layer});
  if (layers.size() != 1) throw InputError(path, "layers", "exactly one layer for FT-L", json(layers).dump());
  h.layer = layers[0];
  h.num_steps = f.get<int64_t>("num_steps", h.num_steps);
  if (h.num_steps < 1) throw InputError(path, "num_steps", "an integer >= 1", std::to_string(h.num_steps));
  h.lr = f.positive("lr", h.lr);
  h.norm_constraint = f.positive("norm_constraint", h.norm_constraint);
  h.weight_decay = f.positive("weight_decay", h.weight_decay, true);
  f.get<int64_t>("batch_size", 1);
  f.skip_module_names();
  f.reject_unknown();
  return h;
}

GraceHparams parse_grace_hparams(const nlohmann::json& j, const std::string& path) {
  Fields f(j, path);
  GraceHparams h;
  const auto layers = f.layers("layers", {h.layer});
  if (layers.size() != 1) throw InputError(path, "layers", "exactly one layer for GRACE", json(layers).dump());
  h.layer = layers[0];
  h.eps = f.positive("eps", h.eps);
  h.num_steps = f.get<int64_t>("n_iter", h.num_steps);
  if (h.num_steps < 1) throw InputError(path, "n_iter", "an integer >= 1", std::to_string(h.num_steps));
  h.lr = f.positive("edit_lr", h.lr);
  h.early_stop_loss = f.positive("early_stop_loss", h.early_stop_loss, true);
  h.value_init = f.get<std::string>("val_init", h.value_init);
  if (h.value_init != "warm" && h.value_init != "cold") {
    throw InputError(path, "val_init", "\"warm\" or \"cold\"", json(h.value_init).dump());
  }
  h.eps_expand = f.get<std::string>("eps_expand", h.eps_expand);
  if (h.eps_expand != "coverage" && h.eps_expand != "moving_average") {
    throw InputError(path, "eps_expand", "\"coverage\" or \"moving_average\"", json(h.eps_expand).dump());
  }
  // Reference fields with the one value editgate implements: Euclidean keys,
  // looked up at every position (so scoring prompt + continuation and cached
  // generation see the edit at the prompt's last token without being told where it is).
  if (const auto d = f.get<std::string>("dist_fn", "euc"); d != "euc") {
    throw InputError(path, "dist_fn", "\"euc\"", json(d).dump());
  }
  if (const auto r = f.get<std::string>("replacement", "per_token"); r != "per_token") {
    throw InputError(path, "replacement", "\"per_token\"", json(r).dump());
  }
  f.skip_module_names();
  f.reject_unknown();
  return h;
}

nlohmann::json read_hparams_file(const std::filesystem::path& path) {
  return harness::read_json_file(path, "a readable hyperparameter JSON file");
}

nlohmann::ordered_json to_json(const RomeHparams& h) {
  ordered_json j = {{"layers", {h.layer}}, {"insert_key", h.insert_key}};
  j.update(context_json(h.context));
  add_value_json(j, h.value);
  add_mom2_json(j, h.mom2);
  return j;
}

nlohmann::ordered_json to_json(const MemitHparams& h) {
  ordered_json j = {{"layers", h.layers},
                    {"mom2_update_weight", h.mom2_update_weight},
                    {"nullspace_threshold", h.nullspace_threshold},
                    {"L2", h.l2}};
  j.update(context_json(h.context));
  add_value_json(j, h.value);
  add_mom2_json(j, h.mom2);
  return j;
}

nlohmann::ordered_json to_json(const FtHparams& h) {
  return {{"layers", {h.layer}},
          {"num_steps", h.num_steps},
          {"lr", h.lr},
          {"norm_constraint", h.norm_constraint},
          {"weight_decay", h.weight_decay}};
}

MendHparams parse_mend_hparams(const nlohmann::json& j, const std::string& path) {
  Fields f(j, path);
  MendHparams h;
  h.inner_params = f.get<std::vector<std::string>>("inner_params", h.inner_params);
  if (h.inner_params.empty()) throw InputError(path, "inner_params", "at least one weight", "[]");
  const auto at_least_one = [&](const char* key, int64_t v) {
    if (v < 1) throw InputError(path, key, "an integer >= 1", std::to_string(v));
    return v;
  };
  h.rank = at_least_one("rank", f.get<int64_t>("rank", h.rank));
  h.n_hidden = f.get<int64_t>("n_hidden", h.n_hidden);
  if (h.n_hidden < 0) throw InputError(path, "n_hidden", "an integer >= 0", std::to_string(h.n_hidden));
  h.hidden_bias = f.positive("hidden_bias", h.hidden_bias, true);
  h.edit_lr = f.positive("edit_lr", h.edit_lr);
  h.lr = f.positive("lr", h.lr);
  h.lr_lr = f.positive("lr_lr", h.lr_lr, true);
  h.cedit = f.positive("cedit", h.cedit);
  h.cloc = f.positive("cloc", h.cloc, true);
  h.max_iters = at_least_one("max_iters", f.get<int64_t>("max_iters", h.max_iters));
  h.batch_size = at_least_one("batch_size", f.get<int64_t>("batch_size", h.batch_size));
  h.n_loc = f.get<int64_t>("n_loc", h.n_loc);
  if (h.n_loc < 0) throw InputError(path, "n_loc", "an integer >= 0", std::to_string(h.n_loc));
  // The reference's structure switches, with the one value editgate implements.
  if (const auto m = f.get<std::string>("mlp_class", "IDMLP"); m != "IDMLP") {
    throw InputError(path, "mlp_class", "\"IDMLP\"", json(m).dump());
  }
  if (!f.get<bool>("combine", true)) throw InputError(path, "combine", "true (one network for concat(u, delta))", "false");
  if (!f.get<bool>("shared", true)) throw InputError(path, "shared", "true (one network per weight shape)", "false");
  f.reject_unknown();
  return h;
}

nlohmann::ordered_json to_json(const MendHparams& h) {
  return {{"inner_params", h.inner_params}, {"mlp_class", "IDMLP"}, {"combine", true},   {"shared", true},
          {"rank", h.rank},                 {"n_hidden", h.n_hidden}, {"hidden_bias", h.hidden_bias}, {"edit_lr", h.edit_lr}, {"lr", h.lr},
          {"lr_lr", h.lr_lr},               {"cedit", h.cedit},       {"cloc", h.cloc},       {"max_iters", h.max_iters},
          {"batch_size", h.batch_size},     {"n_loc", h.n_loc}};
}

nlohmann::ordered_json to_json(const GraceHparams& h) {
  return {{"layers", {h.layer}}, {"eps", h.eps},           {"n_iter", h.num_steps},     {"edit_lr", h.lr},
          {"early_stop_loss", h.early_stop_loss},          {"val_init", h.value_init}, {"eps_expand", h.eps_expand},
          {"dist_fn", "euc"},    {"replacement", "per_token"}};
}

}  // namespace editgate::editors

// `editgate inspect | tokenize | score | generate`: look at a checkpoint.

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <iostream>
#include <map>

#include "cli/commands.h"
#include "harness/json_file.h"
#include "harness/generation.h"
#include "harness/input_error.h"
#include "harness/gguf_model.h"
#include "harness/model_config.h"
#include "harness/packaged_models.h"
#include "harness/scoring.h"
#include "harness/text_model.h"
#include "harness/weight_store.h"

namespace editgate::cli {
namespace {

using harness::LoadOptions;
using harness::TextModel;
using nlohmann::json;

struct ModelFlags {
  std::string dir;
  std::string device = "auto";
  std::string dtype = "auto";
  bool json = false;

  void add_to(CLI::App* cmd) {
    cmd->add_option("--model", dir,
                    "Hugging Face checkpoint directory (config.json, model.safetensors), a .gguf file, smollm2 or gemma3")
        ->required()
        ->transform(model_path_validator());
    cmd->add_option("--device", device, "cpu, cuda, cuda:N or auto (default: $EDITGATE_DEVICE, else GPU if present)");
    cmd->add_option("--dtype", dtype, "compute dtype: auto (f32 on CPU, the checkpoint's on GPU), f32, f16, bf16");
    cmd->add_flag("--json", json, "print machine-readable JSON on stdout");
  }
  TextModel load() const { return TextModel::load(dir, LoadOptions{device, dtype, true}); }
};

// A GGUF file: the config its metadata maps to, the stored (quantised) types,
// and the fingerprint of the dequantised f32 weights (what edits and saves use).
// The architecture facts every inspect prints.
json config_json(const harness::ModelConfig& config) {
  return json{{"model_type", config.model_type},
              {"n_layers", config.n_layers},
              {"d_model", config.d_model},
              {"d_mlp", config.d_mlp},
              {"n_heads", config.n_heads},
              {"n_kv_heads", config.n_kv_heads},
              {"d_head", config.d_head},
              {"vocab_size", config.vocab_size},
              {"max_positions", config.max_positions},
              {"tie_word_embeddings", config.tie_word_embeddings}};
}

json inspect_gguf_json(const std::string& file) {
  const auto ck = harness::GgufCheckpoint::open(file);
  const auto loaded = harness::load_gguf_model(ck, LoadOptions{"cpu", "f32", true});
  int64_t n_params = 0;
  for (const auto& [name, n] : ck.stored_types()) n_params += n;
  json j = config_json(loaded.model->config());
  j.update({{"format", "gguf"},
            {"gguf_version", ck.file().version()},
            {"dtypes", ck.stored_types()},
            {"n_parameters", n_params},
            {"n_tensors", ck.names().size()},
            {"tokenizer", ck.file().get_string("tokenizer.ggml.model")},
            {"weights_sha256", loaded.weights_sha256}});
  return j;
}

json inspect_json(const std::string& dir) {
  if (harness::is_gguf_file(dir)) return inspect_gguf_json(dir);
  const auto config = harness::ModelConfig::load(dir);
  const auto store = harness::WeightStore::open_dir(dir);
  int64_t n_params = 0;
  std::map<std::string, int64_t> dtypes;
  for (const auto& name : store.names()) {
    const auto& info = store.info(name);
    int64_t n = 1;
    for (auto d : info.shape) n *= d;
    n_params += n;
    dtypes[info.dtype_name] += n;
  }
  json j = config_json(config);
  j.update({{"dtypes", dtypes},
            {"n_parameters", n_params},
            {"n_tensors", store.names().size()},
            {"weights_sha256", store.sha256()}});
  return j;
}

void run_inspect(const ModelFlags& f) {
  const json j = inspect_json(f.dir);
  if (f.json) {
    std::cout << harness::json_text(j) << "\n";
    return;
  }
  std::cout << fmt::format("{}: {} with {} layers, d_model {}, d_mlp {}, {} heads ({} kv, d_head {}), vocab {}\n",
                           f.dir, j["model_type"].get<std::string>(), j["n_layers"].get<int64_t>(),
                           j["d_model"].get<int64_t>(), j["d_mlp"].get<int64_t>(), j["n_heads"].get<int64_t>(),
                           j["n_kv_heads"].get<int64_t>(), j["d_head"].get<int64_t>(), j["vocab_size"].get<int64_t>());
  std::cout << fmt::format("parameters: {} in {} tensors, dtypes {}\nweights sha256: {}\n",
                           j["n_parameters"].get<int64_t>(), j["n_tensors"].get<int64_t>(), j["dtypes"].dump(),
                           j["weights_sha256"].get<std::string>());
}

void run_tokenize(const ModelFlags& f, const std::vector<std::string>& texts) {
  const auto tok = harness::load_tokenizer(f.dir);
  json all = json::array();
  for (const auto& text : texts) {
    const auto ids = tok->encode(text);
    // The vocabulary strings (HF's convert_ids_to_tokens: "Ã§" for the two
    // byte tokens of "ç"), not each id decoded alone, which for byte-level BPE
    // can be half a character and no valid text.
    json pieces = json::array();
    for (auto id : ids) pieces.push_back(tok->id_to_token(id));
    all.push_back(json{{"text", text}, {"ids", ids}, {"pieces", pieces}});
    if (!f.json) {
      std::cout << json(ids).dump() << "\n";
      std::string line;
      for (const auto& p : pieces) line += (line.empty() ? "" : " | ") + p.get<std::string>();
      std::cout << "  " << line << "\n";
    }
  }
  if (f.json) std::cout << harness::json_text(all) << "\n";
}

void run_score(const ModelFlags& f, const std::string& prompt, const std::string& continuation) {
  auto tm = f.load();
  harness::ScoreItem item{tm.encode_prompt(prompt), tm.encode_continuation(continuation)};
  if (item.prompt.empty() || item.continuation.empty()) {
    throw editgate::InputError("", item.prompt.empty() ? "--prompt" : "--continuation", "text that encodes to at least one token",
                     "no tokens");
  }
  const auto r = harness::score(tm.model(), {item}).front();
  json tokens = json::array();
  for (size_t i = 0; i < r.token_logprobs.size(); ++i) {
    tokens.push_back(json{{"id", item.continuation[i]},
                          {"text", tm.decode({item.continuation[i]})},
                          {"logprob", r.token_logprobs[i]},
                          {"argmax", tm.decode({r.argmax[i]})}});
  }
  if (f.json) {
    std::cout << harness::json_text(json{{"prompt", prompt}, {"continuation", continuation}, {"tokens", tokens},
                                         {"sum_logprob", r.sum()}, {"mean_nll", r.mean_nll()}})
              << "\n";
    return;
  }
  for (const auto& t : tokens) {
    std::cout << fmt::format("{:>8.4f}  {:?}  (top-1 {:?})\n", t["logprob"].get<double>(),
                             t["text"].get<std::string>(), t["argmax"].get<std::string>());
  }
  std::cout << fmt::format("sum {:.4f}, mean NLL {:.4f}\n", r.sum(), r.mean_nll());
}

void run_generate(const ModelFlags& f, const std::string& prompt, int64_t max_new) {
  auto tm = f.load();
  const auto ids = tm.encode_prompt(prompt);
  if (ids.empty()) throw editgate::InputError("", "--prompt", "text that encodes to at least one token", "no tokens");
  harness::GenerateOptions opts;
  opts.max_new_tokens = max_new;
  opts.stop_token = tm.tokenizer().eos_id();
  const auto out = harness::generate_greedy(tm.model(), {ids}, opts).front();
  const std::string text = tm.decode(out);
  if (f.json) {
    std::cout << harness::json_text(json{{"prompt", prompt}, {"ids", out}, {"text", text}}) << "\n";
  } else {
    std::cout << prompt << text << "\n";
  }
}

}  // namespace

CLI::Validator model_path_validator() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        try {
          value = harness::resolve_model_argument(value, "--model").string();
          return {};
        } catch (const editgate::InputError& e) {  // CLI11 prefixes the option's name
          return "expected " + e.expected() + ", got " + e.got() + (e.hint().empty() ? "" : " (" + e.hint() + ")");
        }
      },
      "DIR|FILE.gguf|smollm2|gemma3");
}

void register_model_commands(CLI::App& app, int& exit_code) {
  {
    auto* cmd = app.add_subcommand("inspect", "Architecture, sizes, dtypes and weights sha256 of a checkpoint");
    auto flags = std::make_shared<ModelFlags>();
    flags->add_to(cmd);
    cmd->callback([flags, &exit_code] { run_inspect(*flags); exit_code = kExitOk; });
  }
  {
    auto* cmd = app.add_subcommand("tokenize", "Token ids and pieces of texts, with the checkpoint's tokenizer");
    auto flags = std::make_shared<ModelFlags>();
    auto texts = std::make_shared<std::vector<std::string>>();
    flags->add_to(cmd);
    cmd->add_option("text", *texts, "texts to tokenize")->required();
    cmd->callback([flags, texts, &exit_code] { run_tokenize(*flags, *texts); exit_code = kExitOk; });
  }
  {
    auto* cmd = app.add_subcommand("score", "Per-token log-probabilities of a continuation after a prompt");
    auto flags = std::make_shared<ModelFlags>();
    auto prompt = std::make_shared<std::string>();
    auto cont = std::make_shared<std::string>();
    flags->add_to(cmd);
    cmd->add_option("--prompt", *prompt, "prompt text")->required();
    cmd->add_option("--continuation", *cont, "continuation text (include its leading space, e.g. \" Paris\")")
        ->required();
    cmd->callback([=, &exit_code] { run_score(*flags, *prompt, *cont); exit_code = kExitOk; });
  }
  {
    auto* cmd = app.add_subcommand("generate", "Greedy continuation of a prompt (KV-cached)");
    auto flags = std::make_shared<ModelFlags>();
    auto prompt = std::make_shared<std::string>();
    auto max_new = std::make_shared<int64_t>(20);
    flags->add_to(cmd);
    cmd->add_option("--prompt", *prompt, "prompt text")->required();
    cmd->add_option("--max-new-tokens", *max_new, "tokens to generate")->check(CLI::Range(1, 4096));
    cmd->callback([=, &exit_code] { run_generate(*flags, *prompt, *max_new); exit_code = kExitOk; });
  }
}

}  // namespace editgate::cli

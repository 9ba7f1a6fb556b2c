// The architecture switch: model_type -> the file that implements it. Adding
// an architecture is one new file plus one line here.

#include "harness/input_error.h"
#include "harness/transformer.h"

namespace editgate::harness {

std::unique_ptr<Transformer> make_gpt2(ModelConfig, std::map<std::string, at::Tensor>, at::Device);
std::unique_ptr<Transformer> make_llama(ModelConfig, std::map<std::string, at::Tensor>, at::Device);
std::unique_ptr<Transformer> make_gptj(ModelConfig, std::map<std::string, at::Tensor>, at::Device);
std::unique_ptr<Transformer> make_gpt_neox(ModelConfig, std::map<std::string, at::Tensor>, at::Device);
std::unique_ptr<Transformer> make_gemma3(ModelConfig, std::map<std::string, at::Tensor>, at::Device);

std::unique_ptr<Transformer> make_transformer(ModelConfig config, std::map<std::string, at::Tensor> params,
                                              at::Device device) {
  const std::string type = config.model_type;
  if (type == "gpt2") return make_gpt2(std::move(config), std::move(params), device);
  if (type == "llama" || type == "mistral" || type == "qwen2") {
    return make_llama(std::move(config), std::move(params), device);
  }
  if (type == "gptj") return make_gptj(std::move(config), std::move(params), device);
  if (type == "gpt_neox") return make_gpt_neox(std::move(config), std::move(params), device);
  if (type == "gemma3_text") return make_gemma3(std::move(config), std::move(params), device);
  throw InputError("config.json", "model_type", "gpt2, llama, mistral, qwen2, gptj, gpt_neox or gemma3_text", type);
}

}  // namespace editgate::harness

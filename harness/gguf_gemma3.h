#pragma once
// Gemma 3 in GGUF files (general.architecture "gemma3"), read as the HF
// Gemma3ForCausalLM checkpoint it was converted from: tensor names, the
// metadata as a gemma3_text config.json, and the facts llama.cpp fixes in code
// rather than in the file (every 6th layer global, local RoPE base 10000, the
// attention scale). GgufCheckpoint (gguf_model.h) calls these for that
// architecture; the Llama mapping stays in gguf_model.cpp.

#include <nlohmann/json.hpp>

#include <string>

#include "harness/gguf_reader.h"

namespace editgate::harness {

// HF name for a GGUF tensor name, and what to add to its values: llama.cpp's
// converter stores Gemma's RMSNorm weights as 1 + w (its norm multiplies by
// the weight alone), so each norm weight gets -1 back. Empty name: unknown.
struct Gemma3TensorName {
  std::string hf_name;
  float offset = 0.0F;
};
Gemma3TensorName map_gemma3_tensor_name(const std::string& gguf_name);

// metadata (gemma3.*) -> HF Gemma3TextConfig JSON; InputError naming the key when one is missing or unusable.
nlohmann::json gemma3_config_from_gguf(const GgufFile& f);

}  // namespace editgate::harness

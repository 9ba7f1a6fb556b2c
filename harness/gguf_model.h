#pragma once
// GgufCheckpoint: a GGUF file read as the Hugging Face checkpoint it encodes.
// This unit owns the mapping from llama.cpp's conventions to HF's: tensor names
// (token_embd, blk.N.attn_q, ffn_gate, output_norm, ...) to LlamaForCausalLM
// names, metadata (llama.embedding_length, llama.rope.freq_base, ...) to a
// config.json, undoing the row permutation llama.cpp's converter applies to Q
// and K for its RoPE layout, and the tokenizer metadata (tokenizer.ggml.*) to
// an HF tokenizer.json. The container is gguf_reader.h's, the block formats
// gguf_dequant.h's; checking tensors against the architecture stays with
// checkpoint.cpp, which loads a GGUF through this class like a directory.
//
// Supported: general.architecture "llama" and "gemma3" (gguf_gemma3.h);
// tokenizer.ggml.model "gpt2" (byte-level BPE with merges; pre-tokenizers
// default/gpt2, smollm, llama3) and, for gemma3, the SentencePiece-style
// "llama" vocabulary (gguf_gemma_tokenizer.h). Others are refused with a message.

#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "harness/gguf_reader.h"
#include "harness/tokenizer.h"

namespace editgate::harness {

// True when `path` is a regular file named *.gguf or starting with the GGUF magic.
bool is_gguf_file(const std::filesystem::path& path);

class GgufCheckpoint {
 public:
  // Opens and validates the file and its metadata; InputError naming the file
  // and the key or tensor for an unsupported architecture or tokenizer, a
  // missing key, or a tensor with no HF counterpart.
  static GgufCheckpoint open(const std::filesystem::path& path);

  const GgufFile& file() const { return *file_; }
  const std::filesystem::path& path() const { return file_->path(); }
  // HF config.json of the model (model_type "llama" or "gemma3_text").
  const nlohmann::json& config() const { return config_; }
  // HF tokenizer.json and tokenizer_config.json, so that a saved checkpoint
  // (edit --out) is a complete HF directory and the tokenizer loads like one.
  const nlohmann::json& tokenizer_json() const { return tokenizer_json_; }
  const nlohmann::json& tokenizer_config() const { return tokenizer_config_; }
  // The tokenizer, from tokenizer_json() with the special tokens the metadata names.
  std::unique_ptr<Tokenizer> tokenizer() const;
  // The HF files a saved copy of this model needs besides config and weights (name -> bytes).
  std::map<std::string, std::string> companion_files() const;

  // HF tensor names in file order, and the f32 tensor of one (dequantised, Q/K un-permuted).
  const std::vector<std::string>& names() const { return names_; }
  at::Tensor tensor(const std::string& hf_name) const;
  // The GGUF name behind an HF name ("blk.3.attn_q.weight"), for messages.
  const std::string& gguf_name(const std::string& hf_name) const;
  // Quantisation types of the stored tensors ("Q4_1": element count), for inspect and manifests.
  std::map<std::string, int64_t> stored_types() const;

 private:
  struct Entry {
    const GgufTensorInfo* info = nullptr;
    int64_t unpermute_heads = 0;  // > 0: undo llama.cpp's RoPE row permutation over this many heads
    float offset = 0.0F;          // added to every value (Gemma's norm weights are stored as 1 + w)
  };

  // config_, names_ and entries_ for each architecture.
  void map_llama_tensors();
  void map_gemma3_tensors();

  std::shared_ptr<const GgufFile> file_;
  nlohmann::json config_;
  nlohmann::json tokenizer_json_;
  nlohmann::json tokenizer_config_;
  std::vector<std::string> names_;     // HF names, file order
  std::map<std::string, Entry> entries_;  // HF name -> GGUF tensor
};

}  // namespace editgate::harness

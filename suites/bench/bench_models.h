#pragma once
// Random-weight models for benchmarks: timings need no trained weights, only
// the shape. GPT-2-architecture shapes are written once as a checkpoint and
// loaded. Llama-architecture shapes (RMSNorm, rotary positions, grouped-query
// attention, gated SwiGLU MLP, untied embeddings), the parallel-block
// shapes of GPT-J and GPT-NeoX/Pythia (one or two LayerNorms feeding attention
// and MLP side by side, partial rotary, untied unembedding) and Gemma 3's
// (pre- and post-norms, q/k norms, sliding-window and global layers, GeGLU,
// tied embeddings) are built in memory on the bench device: a 6B or 8B fp32
// checkpoint written and read back per run would not fit a GPU check's time.

#include <cstdint>
#include <string>

#include "fixtures/gpt2_init.h"
#include "harness/text_model.h"

namespace editgate::bench {

inline const fixtures::Gpt2Shape kFixtureShape{4, 128, 4, 64, 512, 0, 0};
inline const fixtures::Gpt2Shape kGpt2SmallShape{12, 768, 12, 1024, 50257, 0, 0};
inline const fixtures::Gpt2Shape kGpt2XlShape{48, 1600, 25, 1024, 50257, 0, 0};

// A HF LlamaForCausalLM shape (field names as Gpt2Shape's, so the benchmarks
// take either). head_dim = d_model / n_head.
struct LlamaShape {
  int64_t n_layer = 0;
  int64_t d_model = 0;
  int64_t n_head = 0;
  int64_t n_kv_head = 0;  // < n_head: grouped-query attention
  int64_t d_mlp = 0;      // gate_proj / up_proj width
  int64_t n_positions = 0;
  int64_t vocab_size = 0;
};

// Meta-Llama-3-8B (config.json: rope_theta 500000, no rope scaling).
inline const LlamaShape kLlama3_8bShape{.n_layer = 32, .d_model = 4096, .n_head = 32, .n_kv_head = 8,
                                        .d_mlp = 14336, .n_positions = 8192, .vocab_size = 128256};
// Small enough for every CPU run: proves the Llama path end to end.
inline const LlamaShape kTinyLlamaShape{.n_layer = 2, .d_model = 64, .n_head = 4, .n_kv_head = 2,
                                        .d_mlp = 176, .n_positions = 256, .vocab_size = 512};
// Meta's published parameter count of Llama-3-8B, which parameter_count(kLlama3_8bShape) must give.
inline constexpr double kLlama3_8bParameters = 8'030'261'248.0;

// A GPT-J (model_type gptj) or GPT-NeoX (gpt_neox) shape, run through the real
// architecture (harness/gptj_model.cpp, gpt_neox_model.cpp). Field names as
// Gpt2Shape's. NeoX shapes use the parallel residual, as Pythia does.
struct ParallelShape {
  std::string model_type;  // "gptj" | "gpt_neox"
  int64_t n_layer = 0;
  int64_t d_model = 0;
  int64_t n_head = 0;
  int64_t d_mlp = 0;
  int64_t rotary_dim = 0;  // leading dimensions of each head that RoPE turns
  int64_t n_positions = 0;
  int64_t vocab_size = 0;
};

// EleutherAI/gpt-j-6B's config.json (rotary_dim 64 of 256 per head).
inline const ParallelShape kGptJShape{.model_type = "gptj", .n_layer = 28, .d_model = 4096, .n_head = 16,
                                      .d_mlp = 16384, .rotary_dim = 64, .n_positions = 2048, .vocab_size = 50400};
// EleutherAI/pythia-1.4b's config.json (rotary_pct 0.25 of 128 per head).
inline const ParallelShape kPythia1_4bShape{.model_type = "gpt_neox", .n_layer = 24, .d_model = 2048, .n_head = 16,
                                            .d_mlp = 8192, .rotary_dim = 32, .n_positions = 2048, .vocab_size = 50304};
// The Pythia paper's parameter count of Pythia-1.4B, which parameter_count(kPythia1_4bShape) must give.
inline constexpr double kPythia1_4bParameters = 1'414'647'808.0;
// Small enough for every CPU run: prove the GPT-J and NeoX paths end to end.
inline const ParallelShape kTinyGptjShape{.model_type = "gptj", .n_layer = 2, .d_model = 64, .n_head = 4,
                                          .d_mlp = 256, .rotary_dim = 8, .n_positions = 256, .vocab_size = 512};
inline const ParallelShape kTinyPythiaShape{.model_type = "gpt_neox", .n_layer = 2, .d_model = 64, .n_head = 4,
                                            .d_mlp = 256, .rotary_dim = 4, .n_positions = 256, .vocab_size = 512};

// A Gemma 3 text shape (model_type gemma3_text), run through the real architecture
// (harness/gemma3_model.cpp). Field names as Gpt2Shape's. Unlike Llama's, the head
// size is its own field: Gemma 3's n_head x d_head need not be d_model.
struct Gemma3Shape {
  int64_t n_layer = 0;
  int64_t d_model = 0;
  int64_t n_head = 0;
  int64_t n_kv_head = 0;
  int64_t d_head = 0;
  int64_t d_mlp = 0;             // gate_proj / up_proj width
  int64_t sliding_window = 0;    // tokens a sliding layer's query sees
  int64_t sliding_pattern = 0;   // every sliding_pattern-th layer is global, the rest slide
  int64_t n_positions = 0;
  int64_t vocab_size = 0;
};

// google/gemma-3-1b-pt's config.json (rope_theta 1e6 global, 1e4 sliding; query_pre_attn_scalar 256).
inline const Gemma3Shape kGemma3_1bShape{.n_layer = 26, .d_model = 1152, .n_head = 4, .n_kv_head = 1, .d_head = 256,
                                         .d_mlp = 6912, .sliding_window = 512, .sliding_pattern = 6,
                                         .n_positions = 32768, .vocab_size = 262144};
// Gemma 3 1B's parameter count, which parameter_count(kGemma3_1bShape) must give: what
// transformers 5.23's Gemma3ForCausalLM of that config holds (tied lm_head counted once).
inline constexpr double kGemma3_1bParameters = 999'885'952.0;
// Small enough for every CPU run: both layer kinds (layer 0 slides, layer 1 is global),
// with a window shorter than the benchmarks' 32-token rows so the window mask bites.
inline const Gemma3Shape kTinyGemma3Shape{.n_layer = 2, .d_model = 64, .n_head = 4, .n_kv_head = 1, .d_head = 16,
                                          .d_mlp = 176, .sliding_window = 16, .sliding_pattern = 2,
                                          .n_positions = 256, .vocab_size = 512};

// A random-weight model of `shape` with a word-level tokenizer ("<bos>", "w1",
// ...) on the bench device; cached for the process (one copy per shape).
// GPT-2: written once under the temp dir and loaded. Llama: drawn on the
// device (normal 0.02, norms 1) and never written; BOS goes first. GPT-J and
// NeoX: built like Llama's (LayerNorm biases 0), no BOS as their tokenizers.
// Gemma 3: built like Llama's (norm weights 0, HF's init: Gemma's norms scale by
// 1 + weight), BOS first.
harness::TextModel& bench_model(const fixtures::Gpt2Shape& shape);
harness::TextModel& bench_model(const LlamaShape& shape);
harness::TextModel& bench_model(const ParallelShape& shape);
harness::TextModel& bench_model(const Gemma3Shape& shape);

// Parameters of a GPT-2 of this shape (tied embeddings) / of a Llama (untied).
double parameter_count(const fixtures::Gpt2Shape& shape);
double parameter_count(const LlamaShape& shape);
double parameter_count(const ParallelShape& shape);
double parameter_count(const Gemma3Shape& shape);

// Weights one token multiplies through in a forward pass: every matrix but the
// embedding lookups, the unembedding included (none when vocab_size is 0).
double matmul_weights(const fixtures::Gpt2Shape& shape);
double matmul_weights(const LlamaShape& shape);
double matmul_weights(const ParallelShape& shape);
double matmul_weights(const Gemma3Shape& shape);

// Width of the MLP's hidden layer (the key ROME and MEMIT edit): 4 d / d_mlp.
inline int64_t mlp_width(const fixtures::Gpt2Shape& shape) { return 4 * shape.d_model; }
inline int64_t mlp_width(const LlamaShape& shape) { return shape.d_mlp; }
inline int64_t mlp_width(const ParallelShape& shape) { return shape.d_mlp; }
inline int64_t mlp_width(const Gemma3Shape& shape) { return shape.d_mlp; }

// Forward FLOPs of one sequence of `seq` tokens: 2 x matmul_weights per token
// plus attention (q·k and p·v over full, masked rows, every query head; Gemma 3's
// sliding layers too, exact for sequences within the window, as the benchmarks' are).
double forward_flops(const fixtures::Gpt2Shape& shape, int64_t seq);
double forward_flops(const LlamaShape& shape, int64_t seq);
double forward_flops(const ParallelShape& shape, int64_t seq);
double forward_flops(const Gemma3Shape& shape, int64_t seq);

// "" when parameter_count and matmul_weights agree with the tensors of `model`
// (built for `shape`), else what differs. Llama shapes also check that the
// Llama-3-8B formula gives kLlama3_8bParameters, parallel shapes that Pythia-1.4B's
// gives kPythia1_4bParameters, Gemma 3 shapes that Gemma 3 1B's gives kGemma3_1bParameters.
std::string shape_arithmetic_error(const fixtures::Gpt2Shape& shape, const harness::Transformer& model);
std::string shape_arithmetic_error(const LlamaShape& shape, const harness::Transformer& model);
std::string shape_arithmetic_error(const ParallelShape& shape, const harness::Transformer& model);
std::string shape_arithmetic_error(const Gemma3Shape& shape, const harness::Transformer& model);

// Whether the bench device can hold `shape` with room for activations and
// edits (fp32 weights x 3 for GPT-2 shapes, x 2 for Llama's, Gemma 3's with its
// scoring logits: see the .cpp):
// always false on CPU unless EDITGATE_BENCH_LARGE=1.
bool large_shape_fits(const fixtures::Gpt2Shape& shape);
bool large_shape_fits(const LlamaShape& shape);
bool large_shape_fits(const ParallelShape& shape);
bool large_shape_fits(const Gemma3Shape& shape);

// "w<k>": a word of the bench tokenizer, k in [1, vocab - 3].
std::string bench_word(int64_t i, int64_t vocab);

}  // namespace editgate::bench

#pragma once
// Random-weight models for benchmarks: timings need no trained weights, only
// the shape. GPT-2-architecture shapes are written once as a checkpoint and
// loaded. GPT-J's shape is run as a GPT-2 block of GPT-J's dimensions (28
// layers, d 4096, 16 heads, vocab 50400): same matmul sizes, sequential rather
// than parallel attention/MLP and learned rather than rotary positions, which
// changes no FLOP count that matters here. Llama-architecture shapes (RMSNorm,
// rotary positions, grouped-query attention, gated SwiGLU MLP, untied
// embeddings) are built in memory on the bench device: an 8B fp32 checkpoint
// written and read back per run would not fit a GPU check's time.

#include <cstdint>
#include <string>

#include "fixtures/gpt2_init.h"
#include "harness/text_model.h"

namespace editgate::bench {

inline const fixtures::Gpt2Shape kFixtureShape{4, 128, 4, 64, 512, 0, 0};
inline const fixtures::Gpt2Shape kGpt2SmallShape{12, 768, 12, 1024, 50257, 0, 0};
inline const fixtures::Gpt2Shape kGpt2XlShape{48, 1600, 25, 1024, 50257, 0, 0};
inline const fixtures::Gpt2Shape kGptJShape{28, 4096, 16, 2048, 50400, 0, 0};

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

// A random-weight model of `shape` with a word-level tokenizer ("<bos>", "w1",
// ...) on the bench device; cached for the process (one copy per shape).
// GPT-2: written once under the temp dir and loaded. Llama: drawn on the
// device (normal 0.02, norms 1) and never written; BOS goes first.
harness::TextModel& bench_model(const fixtures::Gpt2Shape& shape);
harness::TextModel& bench_model(const LlamaShape& shape);

// Parameters of a GPT-2 of this shape (tied embeddings) / of a Llama (untied).
double parameter_count(const fixtures::Gpt2Shape& shape);
double parameter_count(const LlamaShape& shape);

// Weights one token multiplies through in a forward pass: every matrix but the
// embedding lookups, the unembedding included (none when vocab_size is 0).
double matmul_weights(const fixtures::Gpt2Shape& shape);
double matmul_weights(const LlamaShape& shape);

// Width of the MLP's hidden layer (the key ROME and MEMIT edit): 4 d / d_mlp.
inline int64_t mlp_width(const fixtures::Gpt2Shape& shape) { return 4 * shape.d_model; }
inline int64_t mlp_width(const LlamaShape& shape) { return shape.d_mlp; }

// Forward FLOPs of one sequence of `seq` tokens: 2 x matmul_weights per token
// plus attention (q·k and p·v over full, masked rows, every query head).
double forward_flops(const fixtures::Gpt2Shape& shape, int64_t seq);
double forward_flops(const LlamaShape& shape, int64_t seq);

// "" when parameter_count and matmul_weights agree with the tensors of `model`
// (built for `shape`), else what differs. Llama shapes also check that the
// Llama-3-8B formula gives kLlama3_8bParameters.
std::string shape_arithmetic_error(const fixtures::Gpt2Shape& shape, const harness::Transformer& model);
std::string shape_arithmetic_error(const LlamaShape& shape, const harness::Transformer& model);

// Whether the bench device can hold `shape` with room for activations and
// edits (fp32 weights x 3 for GPT-2 shapes, x 2 for Llama's: see the .cpp):
// always false on CPU unless EDITGATE_BENCH_LARGE=1.
bool large_shape_fits(const fixtures::Gpt2Shape& shape);
bool large_shape_fits(const LlamaShape& shape);

// "w<k>": a word of the bench tokenizer, k in [1, vocab - 3].
std::string bench_word(int64_t i, int64_t vocab);

}  // namespace editgate::bench

#pragma once
// Random-weight GPT-2-architecture models for benchmarks: timings need no
// trained weights, only the shape. GPT-J's shape is run as a GPT-2 block of
// GPT-J's dimensions (28 layers, d 4096, 16 heads, vocab 50400): same matmul
// sizes, sequential rather than parallel attention/MLP and learned rather than
// rotary positions, which changes no FLOP count that matters here.

#include <cstdint>
#include <string>

#include "fixtures/gpt2_init.h"
#include "harness/text_model.h"

namespace editgate::bench {

inline const fixtures::Gpt2Shape kFixtureShape{4, 128, 4, 64, 512, 0, 0};
inline const fixtures::Gpt2Shape kGpt2SmallShape{12, 768, 12, 1024, 50257, 0, 0};
inline const fixtures::Gpt2Shape kGpt2XlShape{48, 1600, 25, 1024, 50257, 0, 0};
inline const fixtures::Gpt2Shape kGptJShape{28, 4096, 16, 2048, 50400, 0, 0};

// A random-weight model of `shape` with a word-level tokenizer ("<bos>", "w1",
// ...), written once under the temp dir and loaded on the bench device; cached
// for the process (one copy per shape).
harness::TextModel& bench_model(const fixtures::Gpt2Shape& shape);

// Parameters of a GPT-2 of this shape (tied embeddings).
double parameter_count(const fixtures::Gpt2Shape& shape);

// Forward FLOPs of one sequence of `seq` tokens: 2 x weights touched per token
// plus attention (q·k and p·v over full, masked rows).
double forward_flops(const fixtures::Gpt2Shape& shape, int64_t seq);

// Whether the bench device can hold `shape` with room for activations and
// edits (fp32 weights x 3): always false on CPU unless EDITGATE_BENCH_LARGE=1.
bool large_shape_fits(const fixtures::Gpt2Shape& shape);

// "w<k>": a word of the bench tokenizer, k in [1, vocab - 3].
std::string bench_word(int64_t i, int64_t vocab);

}  // namespace editgate::bench

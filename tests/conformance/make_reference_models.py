"""Reference models and outputs for editgate's runtime conformance tests.

  make_reference_models.py OUT

builds small random-weight models with `transformers` (CPU, float32, fixed
seeds), writes each with its own save_pretrained into OUT/<name>/ckpt, and
records what transformers' modeling code computes for them into
OUT/<name>/reference.safetensors (logits) and OUT/<name>/reference.json
(prompts, greedy generations). tests/harness/conformance_test.cpp loads the same
directories with editgate and compares (1e-4 on logits, identical tokens).

Models: gpt2; gpt2 with the old un-prefixed tensor names ("h.0.attn..." plus
the "attn.bias" mask buffers old files carry); gpt2 saved in shards; llama with
grouped-query attention, tied embeddings and llama3 rope scaling; llama with
untied embeddings and plain RoPE; gptj with rotary on part of each head and
with rotary on all of it; gpt_neox with the parallel residual and a quarter of
each head rotated (Pythia's layout), and with the sequential residual, half of
each head rotated, another base and no attention biases; gemma3_text (Gemma 3)
with sliding and global layers whose window (4) is shorter than the longer
prompts, grouped-query attention, query_pre_attn_scalar off the head size and
linear RoPE scaling on the global layers, and with one key/value head, a head
size that is not d_model / heads, final-logit soft-capping, an
attn_logit_softcapping that transformers' Gemma 3 ignores (so must editgate),
and an untied lm_head.

Cases per model, on prompts of random ids of mixed lengths:
  unbatched.{i}   [len_i, vocab]        each prompt alone, no mask
  right_padded    [batch, max_len, vocab]  attention_mask, pad id 0 on the right
  left_padded     [batch, max_len, vocab]  pad on the left, position_ids from the
                                           mask as transformers' generate makes them
  generate_single / generate_batch         model.generate, greedy, 8 new tokens
  hook.blocks.{l}.{site}  [len, ...]       prompt HOOK_PROMPT alone: what transformers'
                                           modules compute where editgate puts each
                                           TransformerLens hook (forward hooks on them)
  hidden_states.{l}       [len, d_model]   output_hidden_states=True, layer inputs

Each checkpoint also gets a tokenizer (vocabulary <= VOCAB), one per way
transformers 5.23 decides the special tokens of a prompt, and reference.json
records `tokenizer(text)["input_ids"]` of AutoTokenizer for PROMPT_TEXTS, before
("prompt_ids") and after ("prompt_ids_roundtrip") a save_pretrained round trip
into OUT/<name>/tokenizer_roundtrip (tests/harness/conformance_test.cpp checks
editgate's prompt ids against both):
  gpt2                   tokenizer.json as GPT-2's (ByteLevel post_processor), GPT2Tokenizer: no BOS
  gpt2_legacy_names      vocab.json + merges.txt, add_bos_token true: GPT2Tokenizer honours it, BOS
  gpt2_sharded           tokenizer.json without post_processor, add_bos_token true: ignored, no BOS
  llama_gqa_tied_llama3  Llama 3's shape: Split regex + ByteLevel, TemplateProcessing BOS
  llama_untied           tokenizer.json without post_processor, no tokenizer_config.json: no BOS
  gemma3_*               GemmaTokenizer's shape (▁ normalizer, byte fallback), TemplateProcessing BOS
The committed fixtures (fixtures/default, concepts, wide) are recorded the same way in
OUT/fixture_<name>/reference.json.

Writes OUT/SKIPPED (one line: why) and exits 0 when transformers is missing,
so the C++ tests can skip with that message. OUT/DONE marks a complete run.
"""
import json
import os
import shutil
import sys

MODELS = ["gpt2", "gpt2_legacy_names", "gpt2_sharded", "llama_gqa_tied_llama3", "llama_untied",
          "gptj_partial_rotary", "gptj_full_rotary", "gpt_neox_parallel", "gpt_neox_sequential",
          "gemma3_sliding", "gemma3_softcap"]
PROMPT_LENGTHS = [5, 11, 1, 8]
HOOK_PROMPT = 1
NEW_TOKENS = 8
VOCAB = 128
PROMPT_TEXTS = ["The capital of France is Paris.", "hello world", " leading space", "It's 2024, isn't it?"]
# Texts for each committed fixture (a subject of its world, a prompt, a literal <bos>).
FIXTURE_TEXTS = {
    "default": ["the residence of dan sel is in", "dan sel has a home in", "<bos> dan sel"],
    "concepts": ["the home of rel zen ni sol is in", "rel zen ni sol resides in", "<bos> rel zen ni sol"],
    "wide": ["the home of rel nu is in", "rel nu resides in", "<bos> rel nu"],
}
LLAMA3_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|"
                  r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
MERGES = ["Ġ t", "h e", "Ġt he", "i n", "Ġ a", "e r", "o n", "Ġ c", "Ġ i", "Ġi s", "a r", "Ġ P", "Ġ l", "o r",
          "Ġ w", "Ġw or", "Ġwor l", "Ġworl d", "l l", "e ll", "h ell", "hell o"]


def gpt2_config():
    from transformers import GPT2Config
    return GPT2Config(vocab_size=VOCAB, n_positions=64, n_embd=64, n_layer=2, n_head=4,
                      activation_function="gelu_new", attn_implementation="eager")


def llama_config(gqa_tied_llama3):
    from transformers import LlamaConfig
    kwargs = dict(vocab_size=VOCAB, hidden_size=64, intermediate_size=176, num_hidden_layers=2,
                  num_attention_heads=4, max_position_embeddings=256, rms_norm_eps=1e-5,
                  attn_implementation="eager")
    if gqa_tied_llama3:
        # original_max_position_embeddings=32 puts the 8 RoPE frequencies (d_head 16)
        # in all three llama3 bands: kept, smoothed and divided by `factor`.
        kwargs.update(num_key_value_heads=2, tie_word_embeddings=True,
                      rope_parameters={"rope_type": "llama3", "rope_theta": 10000.0, "factor": 8.0,
                                       "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                       "original_max_position_embeddings": 32})
    else:
        kwargs.update(num_key_value_heads=4, tie_word_embeddings=False,
                      rope_parameters={"rope_type": "default", "rope_theta": 500000.0})
    return LlamaConfig(**kwargs)


def gptj_config(partial):
    from transformers import GPTJConfig
    if partial:  # d_head 16, the first 8 dimensions rotated (GPT-J 6B: 64 of 256)
        kwargs = dict(n_embd=64, n_head=4, rotary_dim=8, n_inner=None, activation_function="gelu_new")
    else:  # d_head 16, all rotated; exact GELU; odd head count
        kwargs = dict(n_embd=48, n_head=3, rotary_dim=16, n_inner=96, activation_function="gelu")
    return GPTJConfig(vocab_size=VOCAB, n_positions=64, n_layer=2, bos_token_id=1, eos_token_id=2,
                      attn_implementation="eager", **kwargs)


def gpt_neox_config(parallel):
    from transformers import GPTNeoXConfig
    if parallel:  # Pythia: parallel residual, rotary_pct 0.25 (4 of 16 dimensions), biases
        kwargs = dict(hidden_size=64, num_attention_heads=4, intermediate_size=256, use_parallel_residual=True,
                      rope_parameters={"rope_type": "default", "rope_theta": 10000.0, "partial_rotary_factor": 0.25})
    else:  # sequential residual, half of each head rotated, another base, no attention biases
        kwargs = dict(hidden_size=48, num_attention_heads=3, intermediate_size=160, use_parallel_residual=False,
                      attention_bias=False,
                      rope_parameters={"rope_type": "default", "rope_theta": 500.0, "partial_rotary_factor": 0.5})
    return GPTNeoXConfig(vocab_size=VOCAB, num_hidden_layers=2, max_position_embeddings=64, hidden_act="gelu",
                         attn_implementation="eager", **kwargs)


def gemma3_config(sliding):
    from transformers import Gemma3TextConfig
    if sliding:  # 3 layers, two of them sliding over 4 keys; GQA 4:2; global RoPE linearly scaled
        kwargs = dict(hidden_size=64, num_attention_heads=4, num_key_value_heads=2, head_dim=16, intermediate_size=96,
                      num_hidden_layers=3, layer_types=["sliding_attention", "full_attention", "sliding_attention"],
                      sliding_window=4, query_pre_attn_scalar=24, tie_word_embeddings=True,
                      rope_parameters={"sliding_attention": {"rope_type": "default", "rope_theta": 10000.0},
                                       "full_attention": {"rope_type": "linear", "rope_theta": 1000000.0,
                                                          "factor": 8.0}})
    else:  # one key/value head (as Gemma 3 270M), head size 32 != 48 / 3, soft-capping, untied lm_head.
        # transformers' Gemma3Attention never passes attn_logit_softcapping on: set, it changes nothing.
        kwargs = dict(hidden_size=48, num_attention_heads=3, num_key_value_heads=1, head_dim=32, intermediate_size=80,
                      num_hidden_layers=2, layer_types=["full_attention", "sliding_attention"], sliding_window=3,
                      query_pre_attn_scalar=32, attn_logit_softcapping=2.0, final_logit_softcapping=4.0,
                      tie_word_embeddings=False,
                      rope_parameters={"sliding_attention": {"rope_type": "default", "rope_theta": 500.0},
                                       "full_attention": {"rope_type": "default", "rope_theta": 20000.0}})
    return Gemma3TextConfig(vocab_size=VOCAB, max_position_embeddings=256, rms_norm_eps=1e-6,
                            hidden_activation="gelu_pytorch_tanh", pad_token_id=0, eos_token_id=1, bos_token_id=2,
                            attn_implementation="eager", **kwargs)


def randomize(model, torch):
    # transformers' init (std 0.02) makes near-uniform logits whose greedy argmax
    # is decided by 1e-6 differences; larger weights give clear winners.
    gen = torch.Generator().manual_seed(1234)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 1 and model.config.model_type == "gemma3_text" and "norm" in name:
                p.copy_(0.2 * torch.randn(p.shape, generator=gen))  # Gemma's norms multiply by (1 + weight)
            elif p.dim() == 1 and ("norm" in name or "ln_" in name or "layernorm" in name):
                p.copy_(1.0 + 0.2 * torch.randn(p.shape, generator=gen))
            elif p.dim() == 1:
                p.copy_(0.1 * torch.randn(p.shape, generator=gen))
            else:
                p.copy_(0.12 * torch.randn(p.shape, generator=gen))


def build(name, torch):
    from transformers import (Gemma3ForCausalLM, GPT2LMHeadModel, GPTJForCausalLM, GPTNeoXForCausalLM,
                              LlamaForCausalLM)
    torch.manual_seed(0)
    if name.startswith("gpt2"):
        model = GPT2LMHeadModel(gpt2_config())
    elif name.startswith("gptj"):
        model = GPTJForCausalLM(gptj_config(name == "gptj_partial_rotary"))
    elif name.startswith("gpt_neox"):
        model = GPTNeoXForCausalLM(gpt_neox_config(name == "gpt_neox_parallel"))
    elif name.startswith("gemma3"):
        model = Gemma3ForCausalLM(gemma3_config(name == "gemma3_sliding"))
    else:
        model = LlamaForCausalLM(llama_config(name == "llama_gqa_tied_llama3"))
    randomize(model, torch)
    return model.eval().float()


def save(name, model, ckpt, torch):
    from safetensors.torch import load_file, save_file
    if name == "gpt2_sharded":
        model.save_pretrained(ckpt, safe_serialization=True, max_shard_size="40KB")
        assert os.path.exists(os.path.join(ckpt, "model.safetensors.index.json")), "expected shards"
        return
    model.save_pretrained(ckpt, safe_serialization=True)
    if name == "gpt2_legacy_names":
        path = os.path.join(ckpt, "model.safetensors")
        tensors = load_file(path)
        renamed = {(k[len("transformer."):] if k.startswith("transformer.") else k): v for k, v in tensors.items()}
        n_pos = model.config.n_positions
        for layer in range(model.config.n_layer):  # causal-mask buffers of the original checkpoints
            renamed[f"h.{layer}.attn.bias"] = torch.tril(torch.ones(n_pos, n_pos)).view(1, 1, n_pos, n_pos)
        save_file(renamed, path, metadata={"format": "pt"})


def byte_level_vocab(specials):
    # GPT-2's byte-level symbols of space and printable ASCII, then MERGES:
    # enough for PROMPT_TEXTS within VOCAB ids.
    vocab = {t: i for i, t in enumerate(specials)}
    for c in ["Ġ"] + [chr(b) for b in range(33, 127)]:
        vocab[c] = len(vocab)
    for m in MERGES:
        vocab[m.replace(" ", "")] = len(vocab)
    assert len(vocab) <= VOCAB, len(vocab)
    return vocab


def save_tokenizer(name, ckpt):
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, processors
    merges = [tuple(m.split(" ")) for m in MERGES]
    config = None
    if name == "gpt2_legacy_names":  # the files of the original GPT-2 repository
        vocab = byte_level_vocab(["<|endoftext|>"])
        with open(os.path.join(ckpt, "vocab.json"), "w") as f:
            json.dump(vocab, f)
        with open(os.path.join(ckpt, "merges.txt"), "w") as f:
            f.write("#version: 0.2\n" + "\n".join(MERGES) + "\n")
        config = {"tokenizer_class": "GPT2Tokenizer", "add_bos_token": True, "bos_token": "<|endoftext|>",
                  "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>"}
    elif name.startswith("gemma3"):  # GemmaTokenizer writes its own tokenizer.json and BOS rule
        from transformers import GemmaTokenizer
        vocab = {t: i for i, t in enumerate(["<pad>", "<eos>", "<bos>", "<unk>", "<mask>"])}
        for c in ["\u2581"] + [chr(b) for b in range(33, 127)]:
            vocab[c] = len(vocab)
        spm_merges = [tuple(p.replace("\u0120", "\u2581") for p in m) for m in merges]
        for a, b in spm_merges:
            vocab[a + b] = len(vocab)
        assert len(vocab) <= VOCAB, len(vocab)
        GemmaTokenizer(vocab=vocab, merges=spm_merges, add_bos_token=True).save_pretrained(ckpt)
    elif name.startswith("gpt2"):
        vocab = byte_level_vocab(["<|endoftext|>"])
        tok = Tokenizer(models.BPE(vocab, merges))
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        if name == "gpt2":
            tok.post_processor = processors.ByteLevel(trim_offsets=False)
            config = {"tokenizer_class": "GPT2Tokenizer", "bos_token": "<|endoftext|>",
                      "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>"}
        else:  # transformers drops add_bos_token when a tokenizer.json is present
            config = {"tokenizer_class": "PreTrainedTokenizerFast", "add_bos_token": True,
                      "bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>"}
        tok.add_special_tokens(["<|endoftext|>"])
        tok.save(os.path.join(ckpt, "tokenizer.json"))
    else:
        vocab = byte_level_vocab(["<|begin_of_text|>", "<|end_of_text|>"])
        tok = Tokenizer(models.BPE(vocab, merges))
        tok.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(LLAMA3_PATTERN), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
        tok.decoder = decoders.ByteLevel()
        tok.add_special_tokens(["<|begin_of_text|>", "<|end_of_text|>"])
        if name == "llama_gqa_tied_llama3":
            tok.post_processor = processors.TemplateProcessing(
                single="<|begin_of_text|> $A", pair="<|begin_of_text|> $A <|begin_of_text|>:1 $B:1",
                special_tokens=[("<|begin_of_text|>", 0)])
            config = {"tokenizer_class": "PreTrainedTokenizerFast", "bos_token": "<|begin_of_text|>",
                      "eos_token": "<|end_of_text|>"}
        tok.save(os.path.join(ckpt, "tokenizer.json"))
    if config is not None:
        with open(os.path.join(ckpt, "tokenizer_config.json"), "w") as f:
            json.dump(config, f, indent=1)


def hf_prompt_ids(ckpt, out, texts):
    """AutoTokenizer's ids for `texts`, before and after a save_pretrained round trip into `out`."""
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(ckpt)
    before = [tok(t)["input_ids"] for t in texts]
    tok.save_pretrained(out)
    shutil.copy(os.path.join(ckpt, "config.json"), out)  # as when the model is saved beside it
    after = [AutoTokenizer.from_pretrained(out)(t)["input_ids"] for t in texts]
    return {"prompt_texts": texts, "prompt_ids": before, "prompt_ids_roundtrip": after,
            "tokenizer_class": type(tok).__name__}


def prompts_and_batches(torch):
    gen = torch.Generator().manual_seed(7)
    prompts = [torch.randint(0, VOCAB, (n,), generator=gen).tolist() for n in PROMPT_LENGTHS]
    width = max(PROMPT_LENGTHS)
    right = torch.zeros(len(prompts), width, dtype=torch.long)
    right_mask = torch.zeros_like(right)
    left = torch.zeros_like(right)
    left_mask = torch.zeros_like(right)
    for b, p in enumerate(prompts):
        right[b, : len(p)] = torch.tensor(p)
        right_mask[b, : len(p)] = 1
        left[b, width - len(p):] = torch.tensor(p)
        left_mask[b, width - len(p):] = 1
    return prompts, (right, right_mask), (left, left_mask)


# Where each TransformerLens hook sits in transformers' modules, per architecture:
# (blocks, module whose output is hook_attn_out (the attention; Gemma: the norm
# after it), its output projection, module whose output is hook_mlp_out (the
# MLP; Gemma: the norm after it), its input
# projection (hook_pre = output; the gate for gated MLPs), its output projection
# (hook_post = input)). hook_z is the output projection's input split into heads.
HOOK_MODULES = {
    "gpt2": ("transformer.h", "attn", "attn.c_proj", "mlp", "mlp.c_fc", "mlp.c_proj"),
    "llama": ("model.layers", "self_attn", "self_attn.o_proj", "mlp", "mlp.gate_proj", "mlp.down_proj"),
    "gptj": ("transformer.h", "attn", "attn.out_proj", "mlp", "mlp.fc_in", "mlp.fc_out"),
    "gpt_neox": ("gpt_neox.layers", "attention", "attention.dense", "mlp", "mlp.dense_h_to_4h", "mlp.dense_4h_to_h"),
    # TransformerLens reads Gemma's attn_out and mlp_out after the post-norms: what reaches the residual.
    "gemma3_text": ("model.layers", "post_attention_layernorm", "self_attn.o_proj", "post_feedforward_layernorm",
                    "mlp.gate_proj", "mlp.down_proj"),
}


def hook_activations(model, ids, torch):
    """The eight hook points of every layer (the seven of TransformerLens and mlp.hook_w_out), read with forward hooks, plus output_hidden_states."""
    blocks_path, attn, attn_proj, mlp, mlp_in, mlp_out = HOOK_MODULES[model.config.model_type]
    blocks = model.get_submodule(blocks_path)
    heads = model.config.num_attention_heads
    out, handles = {}, []

    def first(x):
        return x[0] if isinstance(x, tuple) else x

    def save(key, reshape_heads=False):
        def store(t):
            t = first(t)[0].detach().clone()  # batch row 0: [pos, ...]
            out[key] = (t.view(t.shape[0], heads, -1) if reshape_heads else t).contiguous()
        return store

    for l, block in enumerate(blocks):
        b = f"hook.blocks.{l}."
        sites = [
            (block, "pre", save(b + "hook_resid_pre")),
            (block, "out", save(b + "hook_resid_post")),
            (block.get_submodule(attn_proj), "pre", save(b + "attn.hook_z", reshape_heads=True)),
            (block.get_submodule(attn), "out", save(b + "hook_attn_out")),
            (block.get_submodule(mlp_in), "out", save(b + "mlp.hook_pre")),
            (block.get_submodule(mlp_out), "pre", save(b + "mlp.hook_post")),
            (block.get_submodule(mlp_out), "out", save(b + "mlp.hook_w_out")),
            (block.get_submodule(mlp), "out", save(b + "hook_mlp_out")),
        ]
        for module, when, store in sites:
            if when == "pre":
                handles.append(module.register_forward_pre_hook(lambda m, args, kw, s=store: s(args[0] if args else
                               next(iter(kw.values()))), with_kwargs=True))
            else:
                handles.append(module.register_forward_hook(lambda m, args, o, s=store: s(o)))
    with torch.no_grad():
        hidden = model(ids, output_hidden_states=True).hidden_states
    for h in handles:
        h.remove()
    for l in range(len(blocks)):  # hidden_states[l] is layer l's input; the last one is after the final norm
        out[f"hidden_states.{l}"] = hidden[l][0].contiguous()
    return out


def reference(model, torch):
    prompts, (right, right_mask), (left, left_mask) = prompts_and_batches(torch)
    out = {}
    with torch.no_grad():
        for i, p in enumerate(prompts):
            out[f"unbatched.{i}"] = model(torch.tensor([p])).logits[0].contiguous()
        out["right_padded"] = model(right, attention_mask=right_mask).logits.contiguous()
        # As generate prepares them: count real tokens, pads get position 1.
        position_ids = (left_mask.cumsum(-1) - 1).masked_fill(left_mask == 0, 1)
        out["left_padded"] = model(left, attention_mask=left_mask, position_ids=position_ids).logits.contiguous()
        model.generation_config.eos_token_id = None  # a random model may emit eos; never stop early
        settings = dict(max_new_tokens=NEW_TOKENS, do_sample=False, pad_token_id=0)
        single = model.generate(torch.tensor([prompts[0]]), attention_mask=torch.ones(1, len(prompts[0]),
                                dtype=torch.long), **settings)
        batch = model.generate(left, attention_mask=left_mask, **settings)
        # The smallest gap between the top two logits along each greedy path: how
        # robust the token comparison is to float noise (reported, not tested).
        scores = model.generate(left, attention_mask=left_mask, output_scores=True,
                                return_dict_in_generate=True, **settings).scores
        top2 = torch.stack([s.topk(2, dim=-1).values for s in scores])
        margin = float((top2[..., 0] - top2[..., 1]).min())
    out.update(hook_activations(model, torch.tensor([prompts[HOOK_PROMPT]]), torch))
    width = left.shape[1]
    info = {
        "prompts": prompts,
        "new_tokens": NEW_TOKENS,
        "generate_single": single[0, len(prompts[0]):].tolist(),
        "generate_batch": [row[width:].tolist() for row in batch],
        "greedy_min_top2_margin": margin,
        "hook_prompt": HOOK_PROMPT,
    }
    return out, info


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_reference_models.py OUT")
    out_dir = sys.argv[1]
    shutil.rmtree(out_dir, ignore_errors=True)
    os.makedirs(out_dir)
    try:
        import torch
        import transformers
        from safetensors.torch import save_file
    except ImportError as e:
        with open(os.path.join(out_dir, "SKIPPED"), "w") as f:
            f.write(f"{e} (run scripts/setup.sh to install the reference packages)\n")
        return
    torch.set_num_threads(min(2, torch.get_num_threads()))
    transformers.logging.set_verbosity_error()
    for name in MODELS:
        model = build(name, torch)
        save(name, model, os.path.join(out_dir, name, "ckpt"), torch)
        save_tokenizer(name, os.path.join(out_dir, name, "ckpt"))
        logits, info = reference(model, torch)
        info.update(hf_prompt_ids(os.path.join(out_dir, name, "ckpt"), os.path.join(out_dir, name, "tokenizer_roundtrip"),
                                  PROMPT_TEXTS))
        info["transformers_version"] = transformers.__version__
        save_file(logits, os.path.join(out_dir, name, "reference.safetensors"))
        with open(os.path.join(out_dir, name, "reference.json"), "w") as f:
            json.dump(info, f, indent=1)
        print(f"{name}: greedy min top-2 margin {info['greedy_min_top2_margin']:.3g}")
    for name, texts in FIXTURE_TEXTS.items():
        fixture = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "fixtures", name)
        out = os.path.join(out_dir, "fixture_" + name)
        os.makedirs(out)
        with open(os.path.join(out, "reference.json"), "w") as f:
            json.dump(hf_prompt_ids(fixture, os.path.join(out, "tokenizer_roundtrip"), texts), f, indent=1)
    with open(os.path.join(out_dir, "DONE"), "w") as f:
        f.write(transformers.__version__ + "\n")


if __name__ == "__main__":
    main()

"""GGUF files and reference outputs for editgate's GGUF conformance tests.

  make_gguf_references.py OUT

Everything is written by the `gguf` package (llama.cpp's gguf-py) and checked
against its and transformers' own readers, so editgate's reader, dequantiser,
name/config mapping, RoPE un-permutation and tokenizer are each compared with
an independent implementation:

OUT/dequant.gguf + OUT/dequant_reference.safetensors
    one tensor per ggml type (F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1,
    Q4_K, Q5_K, Q6_K), [4, 512]; types gguf-py can quantise are quantised from
    random floats, the K-quants are random blocks with finite f16 scales. The
    reference is gguf.quants.dequantize of the same bytes (editgate: max abs
    difference 0).
OUT/llama.gguf + OUT/llama_reference.safetensors + OUT/llama_reference.json
    a random 2-layer Llama (grouped-query attention, untied head) converted the
    way llama.cpp's convert_hf_to_gguf.py does (names, Q/K permutation, metadata,
    a byte-level BPE tokenizer) with a mix of F32, F16, Q8_0, Q4_0 and Q4_1
    tensors; transformers loads that GGUF itself (from_pretrained(gguf_file=))
    and records logits for prompts of ids and its tokenizer's ids for texts
    (without and with special tokens: add_bos_token is true).
OUT/gemma3.gguf + OUT/gemma3_reference.safetensors + OUT/gemma3_reference.json
    a random 6-layer Gemma 3 (five sliding layers over 4 keys, then a global
    one, as llama.cpp's fixed pattern has it; one key/value head; tied
    embeddings) converted as convert_hf_to_gguf.py does (norm weights stored
    as 1 + w, no Q/K permutation) with Q8_0, Q5_0, Q4_0 and F16 tensors, and a
    SentencePiece-style vocabulary (tokenizer.ggml.model "llama": scores, token
    types, byte tokens, a token of two spaces, no merges); transformers loads
    it itself and records logits and its GemmaTokenizer's ids, as for llama.

Writes OUT/SKIPPED (one line: why) and exits 0 when gguf or transformers is
missing, so the C++ tests skip with that message; OUT/DONE marks a complete run.
"""
import json
import os
import sys

TYPES = ["F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K"]
LLAMA_TYPES = {"attn_q": "Q8_0", "attn_k": "Q4_0", "attn_v": "Q4_1", "attn_output": "F16",
               "ffn_gate": "Q8_0", "ffn_up": "Q4_1", "ffn_down": "Q4_0"}
# llama.cpp's names of the linear layers -> HF's, the same in Llama and Gemma 3.
LINEAR_PARTS = {"attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj",
                "attn_output": "self_attn.o_proj", "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj",
                "ffn_down": "mlp.down_proj"}
PROMPTS = [[1, 2, 3, 4, 5], [100, 7, 250, 33, 9, 12, 260, 80, 81, 82, 64], [42]]
TEXTS = ["Hello world", "The Eiffel Tower is located in the city of", "  spaces  and\ttabs\n", "x"]
# Gemma's vocabulary has 359 ids; the 11-token prompt outlasts the 4-key window.
GEMMA3_PROMPTS = [[2, 300, 301, 302, 303, 304], [2, 100, 7, 250, 33, 9, 12, 260, 80, 81, 82], [358]]
GEMMA3_TEXTS = ["<bos>Hello<start_of_turn> world\n\nthe   city", "caf\u00e9 \u65e5"]


def dequant_file(out, rng):
    import numpy as np
    import gguf
    from gguf import quants
    from safetensors.numpy import save_file
    w = gguf.GGUFWriter(os.path.join(out, "dequant.gguf"), arch="test")
    ref = {}
    for name in TYPES:
        qt = gguf.GGMLQuantizationType[name]
        x = (rng.standard_normal((4, 512)) * 2).astype(np.float32)
        if name in ("Q4_K", "Q5_K", "Q6_K"):
            # gguf-py cannot quantise K-quants: random blocks, with the f16
            # scales overwritten by finite values so the reference is finite.
            block, size = gguf.GGML_QUANT_SIZES[qt]
            raw = rng.integers(0, 256, size=(4, 512 // block * size), dtype=np.uint8)
            blocks = raw.reshape(-1, size)
            scales = (rng.random((blocks.shape[0], 2)) * 0.1 + 0.001).astype(np.float16).view(np.uint8)
            if name == "Q6_K":
                blocks[:, size - 2:] = scales[:, :2]   # d at the end
            else:
                blocks[:, :4] = scales                 # d, dmin at the start
            data = raw
        elif name == "F32":
            data = x
        elif name == "F16":
            data = x.astype(np.float16)
        else:
            data = quants.quantize(x, qt)
        w.add_tensor(name, data, raw_dtype=qt if name not in ("F32", "F16") else None)
        ref[name] = np.ascontiguousarray(quants.dequantize(data if name != "F16" else data.view(np.uint8), qt)
                                         .astype(np.float32).reshape(4, 512))
    finish(w)
    save_file(ref, os.path.join(out, "dequant_reference.safetensors"))


def byte_level_vocab():
    # GPT-2's bytes_to_unicode alphabet, then a few merges and a control token.
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    tokens = ["<|endoftext|>"] + [chr(c) for c in cs]
    merges = ["Ġ t", "h e", "Ġt he", "Ġ c", "i t", "Ġc it", "Ġcit y", "o f", "Ġ o", "Ġo f", "i n", "Ġ in",
              "l l", "e ll", "H ell", "Hell o", "o r", "w or", "wor l", "worl d", "Ġ world", "Ġ w"]
    merges = [m for m in merges if m != "Ġ world"]
    for m in merges:
        tokens.append(m.replace(" ", ""))
    return tokens, merges


def add_tensor(writer, name, arr, qtype):
    """`arr` stored as `qtype` (F32, F16 or a type gguf-py quantises)."""
    import numpy as np
    import gguf
    from gguf import quants
    qt = gguf.GGMLQuantizationType[qtype]
    if qtype == "F32":
        writer.add_tensor(name, arr.astype(np.float32))
    elif qtype == "F16":
        writer.add_tensor(name, arr.astype(np.float16))
    else:
        writer.add_tensor(name, quants.quantize(arr, qt), raw_dtype=qt)


def shape_writer(path, arch, cfg):
    """A GGUFWriter with the shape keys both test models share, from their HF config."""
    import gguf
    w = gguf.GGUFWriter(path, arch=arch)
    w.add_name(f"editgate-test-{arch}")
    w.add_block_count(cfg.num_hidden_layers)
    w.add_context_length(cfg.max_position_embeddings)
    w.add_embedding_length(cfg.hidden_size)
    w.add_feed_forward_length(cfg.intermediate_size)
    w.add_head_count(cfg.num_attention_heads)
    w.add_head_count_kv(cfg.num_key_value_heads)
    return w


def finish(writer):
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def permute(w, n_head, n_head_kv):
    # llama.cpp convert_hf_to_gguf.py LlamaModel.permute
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    return (w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape))


def llama_file(out):
    import numpy as np
    import torch
    import gguf
    from safetensors.numpy import save_file
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tokens, merges = byte_level_vocab()
    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=len(tokens), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
                      rms_norm_eps=1e-5, tie_word_embeddings=False,
                      rope_parameters={"rope_type": "default", "rope_theta": 10000.0}, attn_implementation="eager")
    hf = LlamaForCausalLM(cfg).eval()
    with torch.no_grad():  # norms at 1.0 would not test that they are read
        for n, p in hf.named_parameters():
            if n.endswith("norm.weight"):
                p.copy_(1 + 0.1 * torch.randn_like(p))
    sd = {k: v.detach().numpy().astype(np.float32) for k, v in hf.state_dict().items()}

    path = os.path.join(out, "llama.gguf")
    w = shape_writer(path, "llama", cfg)
    w.add_rope_freq_base(10000.0)
    w.add_layer_norm_rms_eps(cfg.rms_norm_eps)
    w.add_rope_dimension_count(cfg.hidden_size // cfg.num_attention_heads)
    w.add_vocab_size(len(tokens))
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("default")
    w.add_token_list(tokens)
    w.add_token_types([3] + [1] * (len(tokens) - 1))
    w.add_token_merges(merges)
    w.add_bos_token_id(0)
    w.add_eos_token_id(0)
    w.add_add_bos_token(True)  # BOS first, as Llama's: editgate must carry it into a saved tokenizer.json

    def add(name, arr, qtype):
        add_tensor(w, name, arr, qtype)

    add("token_embd.weight", sd["model.embed_tokens.weight"], "Q8_0")
    add("output_norm.weight", sd["model.norm.weight"], "F32")
    add("output.weight", sd["lm_head.weight"], "F16")
    for l in range(cfg.num_hidden_layers):
        h = f"model.layers.{l}."
        add(f"blk.{l}.attn_norm.weight", sd[h + "input_layernorm.weight"], "F32")
        add(f"blk.{l}.ffn_norm.weight", sd[h + "post_attention_layernorm.weight"], "F32")
        for part, hf_name in LINEAR_PARTS.items():
            arr = sd[h + hf_name + ".weight"]
            if part == "attn_q":
                arr = permute(arr, cfg.num_attention_heads, cfg.num_attention_heads)
            elif part == "attn_k":
                arr = permute(arr, cfg.num_attention_heads, cfg.num_key_value_heads)
            add(f"blk.{l}.{part}.weight", np.ascontiguousarray(arr), LLAMA_TYPES[part])
    finish(w)

    # transformers reads the GGUF itself: its own dequantisation, name map and un-permutation.
    model = LlamaForCausalLM.from_pretrained(out, gguf_file="llama.gguf", torch_dtype=torch.float32).eval()
    ref = {}
    with torch.no_grad():
        for i, ids in enumerate(PROMPTS):
            ref[f"prompt.{i}"] = model(torch.tensor([ids])).logits[0].float().numpy()
    save_file({k: np.ascontiguousarray(v) for k, v in ref.items()}, os.path.join(out, "llama_reference.safetensors"))
    tok = AutoTokenizer.from_pretrained(out, gguf_file="llama.gguf")
    texts = [{"text": t, "ids": tok(t, add_special_tokens=False)["input_ids"], "prompt_ids": tok(t)["input_ids"]}
             for t in TEXTS]
    with open(os.path.join(out, "llama_reference.json"), "w") as f:
        json.dump({"prompts": PROMPTS, "texts": texts}, f, indent=1)


GEMMA3_TYPES = {"attn_q": "Q8_0", "attn_k": "Q5_0", "attn_v": "Q4_0", "attn_output": "F16",
                "ffn_gate": "Q8_0", "ffn_up": "Q5_0", "ffn_down": "Q4_0"}


def sentencepiece_vocab():
    """Gemma-style pieces: controls, a user-defined newline, byte fallback, then "▁", letters and merges."""
    tokens = ["<pad>", "<eos>", "<bos>", "<unk>", "<mask>", "<start_of_turn>", "\n"]
    types = [3, 3, 3, 3, 3, 3, 4]
    tokens += [f"<0x{b:02X}>" for b in range(256)]
    types += [6] * 256
    pieces = ["\u2581"] + [chr(c) for c in range(33, 127)] + ["  "]  # two spaces: stored as real spaces, as Gemma's
    pieces += ["\u2581t", "he", "\u2581the", "in", "\u2581c", "it", "\u2581cit", "\u2581city", "of", "\u2581of",
               "ll", "ell", "Hell", "Hello", "or", "wor", "worl", "world", "\u2581world", "\u2581\u2581\u2581"]
    tokens += pieces
    types += [1] * len(pieces)
    return tokens, types


def gemma3_file(out):
    import numpy as np
    import torch
    import gguf
    from safetensors.numpy import save_file
    from transformers import AutoTokenizer, Gemma3ForCausalLM, Gemma3TextConfig

    tokens, types = sentencepiece_vocab()
    torch.manual_seed(0)
    # head_dim 256: transformers' GGUF reader leaves query_pre_attn_scalar at its default 256, while
    # llama.cpp (and editgate) take the head size; the real Gemma 3 270M has both at 256.
    cfg = Gemma3TextConfig(vocab_size=len(tokens), hidden_size=64, intermediate_size=128, num_hidden_layers=6,
                           num_attention_heads=2, num_key_value_heads=1, head_dim=256, max_position_embeddings=128,
                           rms_norm_eps=1e-6, sliding_window=4, tie_word_embeddings=True,
                           rope_parameters={"sliding_attention": {"rope_type": "default", "rope_theta": 10000.0},
                                            "full_attention": {"rope_type": "default", "rope_theta": 1000000.0}},
                           attn_implementation="eager")
    hf = Gemma3ForCausalLM(cfg).eval()
    with torch.no_grad():  # zero norms (1 + 0) would not test the stored 1 + w
        for n, p in hf.named_parameters():
            if n.endswith("norm.weight"):
                p.copy_(0.3 * torch.randn_like(p))
            else:
                p.copy_(0.1 * torch.randn_like(p))
    sd = {k: v.detach().numpy().astype(np.float32) for k, v in hf.state_dict().items()}

    path = os.path.join(out, "gemma3.gguf")
    w = shape_writer(path, "gemma3", cfg)
    w.add_key_length(cfg.head_dim)
    w.add_value_length(cfg.head_dim)
    w.add_rope_freq_base(1000000.0)
    w.add_layer_norm_rms_eps(cfg.rms_norm_eps)
    w.add_sliding_window(cfg.sliding_window)
    w.add_tokenizer_model("llama")
    w.add_tokenizer_pre("default")
    w.add_token_list(tokens)
    w.add_token_scores([0.0] * 7 + [0.0] * 256 + [-float(i) for i in range(len(tokens) - 263)])
    w.add_token_types(types)
    w.add_bos_token_id(2)
    w.add_eos_token_id(1)
    w.add_unk_token_id(3)
    w.add_pad_token_id(0)
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)

    def add(name, arr, qtype):
        add_tensor(w, name, arr, qtype)

    add("token_embd.weight", sd["model.embed_tokens.weight"], "Q8_0")
    add("output_norm.weight", sd["model.norm.weight"] + 1, "F32")
    norms = {"attn_norm": "input_layernorm", "post_attention_norm": "post_attention_layernorm",
             "ffn_norm": "pre_feedforward_layernorm", "post_ffw_norm": "post_feedforward_layernorm",
             "attn_q_norm": "self_attn.q_norm", "attn_k_norm": "self_attn.k_norm"}
    for l in range(cfg.num_hidden_layers):
        h = f"model.layers.{l}."
        for part, hf_name in norms.items():
            add(f"blk.{l}.{part}.weight", sd[h + hf_name + ".weight"] + 1, "F32")  # the converter's 1 + w
        for part, hf_name in LINEAR_PARTS.items():
            add(f"blk.{l}.{part}.weight", np.ascontiguousarray(sd[h + hf_name + ".weight"]), GEMMA3_TYPES[part])
    finish(w)

    model = Gemma3ForCausalLM.from_pretrained(out, gguf_file="gemma3.gguf", torch_dtype=torch.float32,
                                              attn_implementation="eager").eval()
    assert model.config.layer_types.count("full_attention") == 1, model.config.layer_types
    ref = {}
    with torch.no_grad():
        for i, ids in enumerate(GEMMA3_PROMPTS):
            ref[f"prompt.{i}"] = model(torch.tensor([ids])).logits[0].float().numpy()
    save_file({k: np.ascontiguousarray(v) for k, v in ref.items()}, os.path.join(out, "gemma3_reference.safetensors"))
    tok = AutoTokenizer.from_pretrained(out, gguf_file="gemma3.gguf")
    texts = [{"text": t, "ids": tok(t, add_special_tokens=False)["input_ids"], "prompt_ids": tok(t)["input_ids"]}
             for t in TEXTS + GEMMA3_TEXTS]
    with open(os.path.join(out, "gemma3_reference.json"), "w") as f:
        json.dump({"prompts": GEMMA3_PROMPTS, "texts": texts, "tokenizer_class": type(tok).__name__}, f, indent=1)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    try:
        import gguf  # noqa: F401
        import transformers  # noqa: F401
        import numpy as np
    except ImportError as e:
        with open(os.path.join(out, "SKIPPED"), "w") as f:
            f.write(f"{e} (run scripts/setup.sh)\n")
        return
    rng = np.random.default_rng(7)
    dequant_file(out, rng)
    llama_file(out)
    gemma3_file(out)
    open(os.path.join(out, "DONE"), "w").close()


if __name__ == "__main__":
    main()

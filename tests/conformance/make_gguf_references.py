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

Writes OUT/SKIPPED (one line: why) and exits 0 when gguf or transformers is
missing, so the C++ tests skip with that message; OUT/DONE marks a complete run.
"""
import json
import os
import sys

TYPES = ["F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K"]
LLAMA_TYPES = {"attn_q": "Q8_0", "attn_k": "Q4_0", "attn_v": "Q4_1", "attn_output": "F16",
               "ffn_gate": "Q8_0", "ffn_up": "Q4_1", "ffn_down": "Q4_0"}
PROMPTS = [[1, 2, 3, 4, 5], [100, 7, 250, 33, 9, 12, 260, 80, 81, 82, 64], [42]]
TEXTS = ["Hello world", "The Eiffel Tower is located in the city of", "  spaces  and\ttabs\n", "x"]


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
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
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


def permute(w, n_head, n_head_kv):
    # llama.cpp convert_hf_to_gguf.py LlamaModel.permute
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    return (w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape))


def llama_file(out):
    import numpy as np
    import torch
    import gguf
    from gguf import quants
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
    w = gguf.GGUFWriter(path, arch="llama")
    w.add_name("editgate-test-llama")
    w.add_block_count(cfg.num_hidden_layers)
    w.add_context_length(cfg.max_position_embeddings)
    w.add_embedding_length(cfg.hidden_size)
    w.add_feed_forward_length(cfg.intermediate_size)
    w.add_head_count(cfg.num_attention_heads)
    w.add_head_count_kv(cfg.num_key_value_heads)
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
        qt = gguf.GGMLQuantizationType[qtype]
        if qtype == "F32":
            w.add_tensor(name, arr.astype(np.float32))
        elif qtype == "F16":
            w.add_tensor(name, arr.astype(np.float16))
        else:
            w.add_tensor(name, quants.quantize(arr, qt), raw_dtype=qt)

    add("token_embd.weight", sd["model.embed_tokens.weight"], "Q8_0")
    add("output_norm.weight", sd["model.norm.weight"], "F32")
    add("output.weight", sd["lm_head.weight"], "F16")
    hf_parts = {"attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj",
                "attn_output": "self_attn.o_proj", "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj",
                "ffn_down": "mlp.down_proj"}
    for l in range(cfg.num_hidden_layers):
        h = f"model.layers.{l}."
        add(f"blk.{l}.attn_norm.weight", sd[h + "input_layernorm.weight"], "F32")
        add(f"blk.{l}.ffn_norm.weight", sd[h + "post_attention_layernorm.weight"], "F32")
        for part, hf_name in hf_parts.items():
            arr = sd[h + hf_name + ".weight"]
            if part == "attn_q":
                arr = permute(arr, cfg.num_attention_heads, cfg.num_attention_heads)
            elif part == "attn_k":
                arr = permute(arr, cfg.num_attention_heads, cfg.num_key_value_heads)
            add(f"blk.{l}.{part}.weight", np.ascontiguousarray(arr), LLAMA_TYPES[part])
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()

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
    open(os.path.join(out, "DONE"), "w").close()


if __name__ == "__main__":
    main()

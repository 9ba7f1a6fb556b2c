"""What transformers computes for a checkpoint editgate wrote.

  hf_logits.py CKPT TEXTS_JSON OUT

Loads CKPT with AutoTokenizer and AutoModelForCausalLM (CPU, float32, eager
attention), tokenizes each text of TEXTS_JSON (a JSON list of strings) as a
user would (`tokenizer(text)`, special tokens included) and writes
OUT.json ({"ids": [[...], ...], "transformers_version": ...}) and
OUT.safetensors ("logits.{i}": [len_i, vocab] for text i).
tests/editors/hf_load_conformance_test.cpp compares them with editgate's.
Exits 77 when transformers is missing (the C++ test then skips).
"""
import json
import sys


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: hf_logits.py CKPT TEXTS_JSON OUT")
    ckpt, texts_file, out = sys.argv[1:]
    try:
        import torch
        import transformers
        from safetensors.torch import save_file
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError as e:
        print(f"{e} (run scripts/setup.sh)")
        sys.exit(77)
    torch.set_num_threads(1)
    transformers.logging.set_verbosity_error()
    with open(texts_file, encoding="utf-8") as f:
        texts = json.load(f)
    tok = AutoTokenizer.from_pretrained(ckpt)
    model = AutoModelForCausalLM.from_pretrained(ckpt, dtype=torch.float32, attn_implementation="eager").eval()
    ids, logits = [], {}
    with torch.no_grad():
        for i, text in enumerate(texts):
            row = tok(text)["input_ids"]
            ids.append(row)
            logits[f"logits.{i}"] = model(torch.tensor([row])).logits[0].contiguous()
    save_file(logits, out + ".safetensors")
    with open(out + ".json", "w") as f:
        json.dump({"ids": ids, "tokenizer_class": type(tok).__name__,
                   "transformers_version": transformers.__version__}, f, indent=1)


if __name__ == "__main__":
    main()

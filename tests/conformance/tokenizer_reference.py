#!/usr/bin/env python3
"""Reference token ids for editgate's tokenizer conformance tests.

Uses the Hugging Face `tokenizers` package (the implementation editgate's C++
tokenizers must agree with) to build four tokenizers, saves each as a
tokenizer.json, encodes CORPUS with each (no special tokens added) and writes
expected.json:

  gpt2         GPT-2's vocab.json + merges.txt as a ByteLevel BPE
  llama3       the same vocabulary behind Llama-3's Split regex + ByteLevel
               (use_regex=False), ignore_merges=True, extra special tokens
  bytefallback Llama-2-style BPE over characters: Prepend/Replace normalizer,
               byte_fallback, fuse_unk, and the Replace/ByteFallback/Fuse/Strip
               decoder, trained here on a small corpus
  whitespace   a WordLevel model behind the Whitespace pre-tokenizer (\w+|[^\w\s]+)
  wordlevel    the WordLevel tokenizer.json written by editgate
               (--wordlevel), checked to load and encode here

Usage: tokenizer_reference.py --gpt2-dir DIR --out DIR [--wordlevel FILE]
"""
import argparse
import json
import os

from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

LLAMA3_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|"
                  r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")

CORPUS = [
    "Hello world, this is GPT-2!",
    "",
    " ",
    "I'm sure you'll see they've done what we'd say: it's John's, isn't it? I'M SHOUTING, YOU'LL SEE.",
    "In 2024 there were 1234567 people; pi is 3.14159, 10,000.5 and 1e-9 and 007.",
    "a  b   c\t\td\n\ne \r\n f     ",
    "   leading spaces",
    "trailing spaces   ",
    "\n\n\n",
    "tabs\tand\vvertical\fform feeds",
    "nbsp\u00a0ideographic\u3000space and next\u0085line and\u2028separator",
    "Ça va? Grüße aus Köln. Ελληνικά κείμενα. Русский текст. עברית. العربية.",
    "日本語のテキストと中文文本，还有한국어。",
    "Emoji 😀👍🏽 and a family 👨\u200d👩\u200d👧\u200d👦 and flags 🇫🇷🇯🇵 ok",
    "combining e\u0301 vs \u00e9 and n\u0303",
    "def f(x):\n    return x**2 + 1  # comment\n\nint main() { return 0; }\n",
    '{"key": [1, 2, 3], "nested": {"a": null}}',
    "Hello<|endoftext|>world <|endoftext|> again",
    "<|begin_of_text|>The capital of France is Paris.<|end_of_text|>",
    "<s>Hello</s> world <unk>",
    "The Eiffel Tower is located in the city of Rome .",
    "x" * 300,
    "      \n      ",
    "!!!???...,,,;;;",
    "http://example.com/path?query=1&other=two#frag",
    "Ⅻ ² ½ ⁴ ① ㊿ a²b aⅫb aⓐb a·b a\u200cb x_y a\u0660b 々ʰ",
]

BYTEFALLBACK_TRAINING = [
    "the quick brown fox jumps over the lazy dog",
    "hello world hello there general kenobi",
    "the capital of france is paris and the capital of italy is rome",
    "numbers like 12345 and 67890 appear here",
]


def gpt2(args):
    model = models.BPE.from_file(os.path.join(args.gpt2_dir, "vocab.json"),
                                 os.path.join(args.gpt2_dir, "merges.txt"))
    tok = Tokenizer(model)
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    tok.add_special_tokens(["<|endoftext|>"])
    return tok


def llama3(args):
    vocab, merges = models.BPE.read_file(os.path.join(args.gpt2_dir, "vocab.json"),
                                         os.path.join(args.gpt2_dir, "merges.txt"))
    tok = Tokenizer(models.BPE(vocab, merges, ignore_merges=True))
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(LLAMA3_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens(["<|begin_of_text|>", "<|end_of_text|>"])
    bos = tok.token_to_id("<|begin_of_text|>")
    tok.post_processor = processors.TemplateProcessing(
        single="<|begin_of_text|> $A", pair="<|begin_of_text|> $A $B", special_tokens=[("<|begin_of_text|>", bos)])
    return tok


def bytefallback(args):
    trainer_tok = Tokenizer(models.BPE(unk_token="<unk>"))
    trainer_tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    trainer = trainers.BpeTrainer(vocab_size=120, special_tokens=["<unk>", "<s>", "</s>"], show_progress=False)
    trainer_tok.train_from_iterator(BYTEFALLBACK_TRAINING, trainer=trainer)
    trained = json.loads(trainer_tok.to_str())["model"]
    vocab = dict(trained["vocab"])
    for b in range(256):
        vocab.setdefault("<0x%02X>" % b, len(vocab))
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ", 1)) for m in trained["merges"]]
    tok = Tokenizer(models.BPE(vocab, merges, unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                                     decoders.Strip(" ", 1, 0)])
    tok.add_special_tokens(["<unk>", "<s>", "</s>"])
    return tok


def whitespace(args):
    words = ["[UNK]", "Hello", "world", ",", "!", ".", "The", "capital", "of", "France", "is", "Paris",
             "a", "b", "_", "x_y", "I", "'", "m", "s", "aⅫb", "Emoji"]
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.add_special_tokens(["[UNK]"])
    return tok


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gpt2-dir", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--wordlevel")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)

    builders = {"gpt2": gpt2, "llama3": llama3, "bytefallback": bytefallback, "whitespace": whitespace}
    tokenizers = {name: build(args) for name, build in builders.items()}
    if args.wordlevel:
        tokenizers["wordlevel"] = Tokenizer.from_file(args.wordlevel)

    expected = {"corpus": CORPUS, "tokenizers": {}}
    for name, tok in tokenizers.items():
        path = os.path.join(args.out, name + ".tokenizer.json")
        if name != "wordlevel":
            tok.save(path)
        encodings = [tok.encode(text, add_special_tokens=False).ids for text in CORPUS]
        expected["tokenizers"][name] = {
            "file": path if name != "wordlevel" else args.wordlevel,
            "ids": encodings,
            "decoded": [tok.decode(ids, skip_special_tokens=False) for ids in encodings],
            "vocab_size": tok.get_vocab_size(with_added_tokens=True),
        }
    with open(os.path.join(args.out, "expected.json"), "w", encoding="utf-8") as f:
        json.dump(expected, f, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()

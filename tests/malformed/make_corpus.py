#!/usr/bin/env python3
"""Writes the malformed-input corpus: one directory per case under OUT, plus
OUT/cases.json, which run_corpus.py reads.

Every case is one broken input and the `editgate` command that must reject it
with exit code 2 and a one-line message naming the file and the field. Small
files are written whole; cases about a whole checkpoint directory list the
fixture files to copy and the one file to break (derived here from the fixture,
so the corpus needs no multi-megabyte files in the repository).

Standard library only (the test runs with /usr/bin/python3), deterministic (a
fixed seed for the garbage bytes), so the corpus doubles as the fuzzers' seeds.

usage: make_corpus.py FIXTURE_DIR OUT
"""

import json
import random
import shutil
import struct
import sys
from pathlib import Path

# Commands. {editgate} is the CLI, {fixture} the committed fixture checkpoint,
# {model} the case's checkpoint directory, {file} the case's broken file,
# {out} the output path that must not exist afterwards, {requests} two valid
# CounterFact cases.
EDIT_MODEL = ["edit", "--model", "{model}", "--method", "rome", "--requests", "{requests}",
              "--out", "{out}", "--no-stats-cache"]
EDIT_REQUESTS = ["edit", "--model", "{fixture}", "--method", "rome", "--requests", "{file}",
                 "--out", "{out}", "--no-stats-cache"]
GATE_REQUESTS = ["gate", "--base", "{fixture}", "--edited", "{fixture}", "--requests", "{file}",
                 "--report-dir", "{out}"]
GATE_EDITED = ["gate", "--base", "{fixture}", "--edited", "{model}", "--requests", "{requests}",
               "--report-dir", "{out}"]
GATE_SPEC = ["gate", "--base", "{fixture}", "--edited", "{fixture}", "--requests", "{requests}",
             "--spec", "{file}", "--report-dir", "{out}"]
GATE_ERASER = ["gate", "--base", "{fixture}", "--edited", "{fixture}", "--eraser", "{file}",
               "--concept", "{fixture}/requests/erasure.gender.json", "--suites", "LinearProbeRecovery",
               "--report-dir", "{out}"]
SUITES_CONFIG = ["{suites}", "--config", "{file}"]
ERASE_FILE = ["erase", "--in", "{file}", "--out", "{out}"]
ERASE_MODEL = ["erase-model", "--model", "{fixture}", "--dataset", "{file}", "--hook",
               "blocks.1.hook_resid_post", "--out", "{out}"]


# ---------------------------------------------------------------- safetensors

def safetensors(tensors, metadata=None, header=None, header_len=None, trailing=b""):
    """tensors: [(name, dtype, shape, data bytes)] laid out back to back, unless
    an entry carries its own offsets as a fifth element. header (bytes) replaces
    the JSON header; header_len overrides the length prefix."""
    entries, data = {}, b""
    if metadata is not None:
        entries["__metadata__"] = metadata
    for t in tensors:
        name, dtype, shape, payload = t[:4]
        offsets = t[4] if len(t) > 4 else [len(data), len(data) + len(payload)]
        entries[name] = {"dtype": dtype, "shape": shape, "data_offsets": offsets}
        data += payload
    text = header if header is not None else json.dumps(entries).encode()
    n = len(text) if header_len is None else header_len
    return struct.pack("<Q", n) + text + data + trailing


def f32(*values):
    return struct.pack("<%df" % len(values), *values)


def i64(*values):
    return struct.pack("<%dq" % len(values), *values)


X = ("X", "F32", [4, 2], f32(1, 2, 3, 4, 5, 6, 7, 8))
Z = ("Z", "I64", [4], i64(0, 1, 0, 1))


def safetensors_cases(rng):
    """Standalone files read by `editgate erase --in`: every branch of the reader."""
    valid_header = json.dumps({"X": {"dtype": "F32", "shape": [4, 2], "data_offsets": [0, 32]}}).encode()
    c = {
        "empty": (b"", ["header length"]),
        "short_length": (b"\x10\x00\x00", ["header length", "8 bytes"]),
        "header_zero": (struct.pack("<Q", 0) + b"{}", ["header length"]),
        "header_past_end": (struct.pack("<Q", 4096) + valid_header, ["header length", "truncated"]),
        "header_absurd": (struct.pack("<Q", 1 << 62) + valid_header, ["header length", "at most"]),
        "header_not_json": (safetensors([], header=b"{\"X\": {\"dtype\": "), ["header", "JSON"]),
        "header_array": (safetensors([], header=b"[1, 2, 3]"), ["header", "JSON object"]),
        # Found by fuzz_safetensors: a number past double's range is nlohmann's out_of_range, not parse_error.
        "header_number_overflow": (safetensors([], header=b"{\"X\": {\"dtype\": \"F32\", \"shape\": [1e400]}}"),
                                   ["header", "number overflow"]),
        "header_nul": (safetensors([], header=b"{\"X\"\x00: 1}"), ["header", "NUL"]),
        "header_duplicate": (safetensors([X], header=valid_header[:-1] + b", \"X\": {}}"), ["duplicate"]),
        "entry_not_object": (safetensors([], header=b"{\"X\": 5}"), ["tensor 'X'", "object"]),
        "metadata_not_object": (safetensors([X, Z], metadata=[1]), ["__metadata__"]),
        "metadata_not_string": (safetensors([X, Z], metadata={"a": 1}), ["__metadata__", "'a'"]),
        "dtype_unknown": (safetensors([("X", "F17", [4, 2], f32(*range(8))), Z]), ["tensor 'X': dtype", "F17"]),
        "dtype_missing": (safetensors([], header=b"{\"X\": {\"shape\": [1], \"data_offsets\": [0, 4]}}") + f32(1),
                          ["tensor 'X': dtype"]),
        "shape_negative": (safetensors([("X", "F32", [-4, 2], f32(*range(8))), Z]), ["tensor 'X': shape[0]"]),
        "shape_not_list": (safetensors([("X", "F32", "4x2", f32(*range(8))), Z]), ["tensor 'X': shape"]),
        "shape_fraction": (safetensors([("X", "F32", [4, 2.5], f32(*range(8))), Z]), ["tensor 'X': shape[1]"]),
        "shape_overflow": (safetensors([("X", "F32", [1 << 40, 1 << 40], f32(*range(8))), Z]),
                           ["tensor 'X': shape", "64 bits"]),
        "offsets_reversed": (safetensors([("X", "F32", [4, 2], f32(*range(8)), [32, 0]), Z]),
                             ["tensor 'X': data_offsets", "begin <= end"]),
        "offsets_overlap": (safetensors([("X", "F32", [4, 2], f32(*range(8)), [0, 32]),
                                         ("Z", "I64", [4], i64(0, 1, 0, 1)[:16], [16, 48])], trailing=b"\0" * 16),
                            ["data_offsets", "overlap"]),
        "offsets_hole": (safetensors([("X", "F32", [4, 2], f32(*range(8)), [0, 32]),
                                      ("Z", "I64", [4], i64(0, 1, 0, 1), [40, 72])], trailing=b"\0" * 8),
                         ["tensor 'Z': data_offsets", "hole"]),
        "offsets_out_of_file": (safetensors([X, ("Z", "I64", [4], i64(0, 1, 0, 1), [32, 4096])]),
                                ["tensor 'Z': data_offsets", "truncated"]),
        "offsets_not_pair": (safetensors([("X", "F32", [4, 2], f32(*range(8)), [0]), Z]),
                             ["tensor 'X': data_offsets"]),
        "size_mismatch": (safetensors([("X", "F32", [4, 3], f32(*range(8))), Z]),
                          ["tensor 'X': data_offsets", "48 bytes"]),
        "trailing_bytes": (safetensors([X, Z], trailing=b"junk"), ["data buffer", "trailing"]),
        "truncated": (safetensors([X, Z])[:-20], ["tensor 'Z': data_offsets", "truncated"]),
        "missing_tensor": (safetensors([X]), ["tensor 'Z'"]),
        "wrong_dtype": (safetensors([X, ("Z", "F32", [4], f32(0, 1, 0, 1))]), ["tensor 'Z'"]),
        "wrong_rank": (safetensors([("X", "F32", [8], f32(*range(8))), Z]), ["tensor 'X'"]),
        "rows_mismatch": (safetensors([X, ("Z", "I64", [3], i64(0, 1, 0))]), ["tensor 'Z'"]),
        "nan": (safetensors([("X", "F32", [4, 2], f32(1, float("nan"), 3, 4, 5, 6, 7, 8)), Z]),
                ["tensor 'X'", "finite"]),
        "garbage": (bytes(rng.randrange(256) for _ in range(512)), ["header length"]),
    }
    return [{"name": "safetensors/" + k, "file": ("data.safetensors", v[0]), "command": ERASE_FILE, "expect": v[1]}
            for k, v in c.items()]


# ------------------------------------------------------------- checkpoints

def read_safetensors(path):
    raw = path.read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    header.pop("__metadata__", None)
    data = raw[8 + n:]
    return [(k, v["dtype"], v["shape"], data[v["data_offsets"][0]:v["data_offsets"][1]])
            for k, v in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0])]


def model_cases(fixture, rng):
    """Checkpoint directories: the fixture with one file broken (or removed)."""
    tensors = read_safetensors(fixture / "model.safetensors")
    c_proj = "transformer.h.1.mlp.c_proj.weight"
    config = json.loads((fixture / "config.json").read_text())
    tokenizer = json.loads((fixture / "tokenizer.json").read_text())

    def with_config(**changes):
        return json.dumps({**config, **changes}).encode()

    def nan_in(name):
        out = []
        for t in tensors:
            payload = t[3]
            if t[0] == name:
                payload = payload[:40] + f32(float("nan")) + payload[44:]
            out.append((t[0], t[1], t[2], payload))
        return safetensors(out, metadata={"format": "pt"})

    def scaled(name, factor):
        return safetensors([(t[0], t[1], t[2], f32(*(v * factor for v in struct.unpack("<%df" % (len(t[3]) // 4), t[3]))))
                            if t[0] == name else t for t in tensors], metadata={"format": "pt"})

    def tok(**model_changes):
        return json.dumps({**tokenizer, "model": {**tokenizer["model"], **model_changes}}).encode()

    full = safetensors(tensors, metadata={"format": "pt"})
    shard = "model-00001-of-00001.safetensors"
    index = lambda m: json.dumps(m).encode()  # noqa: E731
    weight_map = {t[0]: shard for t in tensors}
    c = {
        # weights
        "weights_missing": ({"model.safetensors": None}, ["weights", "model.safetensors"]),
        "weights_truncated": ({"model.safetensors": full[:len(full) // 2]}, ["model.safetensors", "data_offsets"]),
        "weights_garbage": ({"model.safetensors": bytes(rng.randrange(256) for _ in range(4096))},
                            ["model.safetensors", "header length"]),
        "weights_nan": ({"model.safetensors": nan_in(c_proj)}, ["model.safetensors", c_proj, "finite"]),
        # Finite weights whose activations overflow: caught when the gate scores
        # with it, naming the first hook point that is not finite.
        "activations_overflow": ({"model.safetensors": scaled("transformer.h.1.mlp.c_fc.weight", 1e38)},
                                 ["blocks.1.mlp.hook_pre", "finite"], GATE_EDITED),
        "weights_missing_tensor": ({"model.safetensors": safetensors([t for t in tensors if t[0] != c_proj])},
                                   [c_proj, "missing"]),
        "weights_extra_tensor": ({"model.safetensors": safetensors(tensors + [("transformer.h.9.mlp.c_fc.weight",
                                                                               "F32", [1], f32(0))])},
                                 ["transformer.h.9.mlp.c_fc.weight", "unexpected"]),
        "weights_int_dtype": ({"model.safetensors": safetensors(
            [(t[0], "I32", t[2], t[3]) if t[0] == c_proj else t for t in tensors])}, [c_proj, "floating"]),
        # sharded index
        "index_not_json": ({"model.safetensors": None, "model.safetensors.index.json": b"{\"weight_map\": {",
                            shard: full}, ["model.safetensors.index.json", "JSON"]),
        "index_no_weight_map": ({"model.safetensors": None, "model.safetensors.index.json": index({"metadata": {}}),
                                 shard: full}, ["model.safetensors.index.json", "weight_map"]),
        "index_missing_shard": ({"model.safetensors": None, "model.safetensors.index.json": index(
            {"weight_map": {k: "model-00002-of-00002.safetensors" for k in weight_map}})},
                                ["model-00002-of-00002.safetensors"]),
        "index_shard_escapes": ({"model.safetensors": None, "model.safetensors.index.json": index(
            {"weight_map": {**weight_map, c_proj: "../model.safetensors"}}), shard: full},
                                ["model.safetensors.index.json", c_proj, "same directory"]),
        "index_tensor_not_in_shard": ({"model.safetensors": None, "model.safetensors.index.json": index(
            {"weight_map": {**weight_map, "lm_head.extra": shard}}), shard: full},
                                      ["model.safetensors.index.json", "lm_head.extra"]),
        "index_map_not_string": ({"model.safetensors": None, "model.safetensors.index.json": index(
            {"weight_map": {**weight_map, c_proj: 3}}), shard: full}, ["model.safetensors.index.json", c_proj]),
        # config.json
        "config_missing": ({"config.json": None}, ["config.json"]),
        "config_not_json": ({"config.json": b"{\"model_type\": \"gpt2\","}, ["config.json", "JSON"]),
        "config_number_overflow": ({"config.json": b"{\"model_type\": \"gpt2\", \"n_embd\": 1e400}"},
                                   ["config.json", "number overflow"]),
        "config_array": ({"config.json": b"[1, 2]"}, ["config.json", "object"]),
        "config_unknown_model_type": ({"config.json": with_config(model_type="bert")}, ["config.json", "model_type",
                                                                                        "bert"]),
        "config_no_model_type": ({"config.json": json.dumps({k: v for k, v in config.items()
                                                             if k != "model_type"}).encode()},
                                 ["config.json", "model_type"]),
        "config_dims_contradict": ({"config.json": with_config(n_embd=64)}, ["model.safetensors", "shape"]),
        "config_more_layers": ({"config.json": with_config(n_layer=5)}, ["transformer.h.4", "missing"]),
        "config_fewer_layers": ({"config.json": with_config(n_layer=3)}, ["transformer.h.3", "unexpected"]),
        "config_negative_heads": ({"config.json": with_config(n_head=-4)}, ["config.json", "n_head"]),
        "config_heads_not_divisor": ({"config.json": with_config(n_head=3)}, ["config.json", "n_head"]),
        "config_string_dim": ({"config.json": with_config(n_embd="128")}, ["config.json", "n_embd"]),
        "config_vocab_contradicts": ({"config.json": with_config(vocab_size=300)}, ["wte", "shape"]),
        "config_positions_huge": ({"config.json": with_config(n_positions=1 << 40)}, ["wpe", "shape"]),
        # tokenizer.json
        "tokenizer_missing": ({"tokenizer.json": None}, ["tokenizer", "tokenizer.json"]),
        "tokenizer_not_json": ({"tokenizer.json": (fixture / "tokenizer.json").read_bytes()[:300]},
                               ["tokenizer.json", "parse error"]),
        "tokenizer_number_overflow": ({"tokenizer.json": b"{\"version\": 1e400}"}, ["tokenizer.json", "number overflow"]),
        "tokenizer_array": ({"tokenizer.json": b"[]"}, ["tokenizer.json"]),
        "tokenizer_unknown_model": ({"tokenizer.json": tok(type="Unigram2")}, ["tokenizer.json", "model", "Unigram2"]),
        "tokenizer_vocab_not_object": ({"tokenizer.json": tok(vocab=[1, 2])}, ["tokenizer.json", "vocab"]),
        "tokenizer_vocab_negative_id": ({"tokenizer.json": tok(vocab={**tokenizer["model"]["vocab"], "zz": -1})},
                                        ["tokenizer.json", "vocab", "zz"]),
        "tokenizer_unk_not_in_vocab": ({"tokenizer.json": tok(unk_token="<nope>")}, ["tokenizer.json", "unk"]),
        "tokenizer_binary": ({"tokenizer.json": bytes(rng.randrange(256) for _ in range(256))},
                             ["tokenizer.json"]),
        "tokenizer_config_not_json": ({"tokenizer_config.json": b"{\"add_bos_token\": tru"},
                                      ["tokenizer_config.json"]),
        "tokenizer_config_wrong_type": ({"tokenizer_config.json": b"{\"add_bos_token\": \"yes\"}"},
                                        ["tokenizer_config.json", "add_bos_token"]),
        # GPT-2 vocab.json + merges.txt (no tokenizer.json)
        "vocab_not_json": ({"tokenizer.json": None, "vocab.json": b"{\"a\": 0,", "merges.txt": b"#version: 0.2\n"},
                           ["vocab.json", "parse error"]),
        "vocab_not_object": ({"tokenizer.json": None, "vocab.json": b"[\"a\"]", "merges.txt": b"#version: 0.2\n"},
                             ["vocab.json"]),
        "merges_bad_line": ({"tokenizer.json": None, "vocab.json": b"{\"a\": 0, \"b\": 1, \"ab\": 2}",
                             "merges.txt": b"#version: 0.2\na b\nabc\n"}, ["merges.txt", "line 3"]),
        "merges_unknown_token": ({"tokenizer.json": None, "vocab.json": b"{\"a\": 0, \"b\": 1}",
                                  "merges.txt": b"#version: 0.2\na b\n"}, ["merges.txt", "line 2"]),
        # SentencePiece tokenizer.model (no tokenizer.json)
        "sentencepiece_garbage": ({"tokenizer.json": None, "tokenizer.model": bytes(rng.randrange(256)
                                                                                    for _ in range(300))},
                                  ["tokenizer.model"]),
        "sentencepiece_empty": ({"tokenizer.json": None, "tokenizer.model": b""}, ["tokenizer.model"]),
    }
    return [{"name": "checkpoint/" + k, "model": {n: b for n, b in v[0].items()},
             "command": v[2] if len(v) > 2 else EDIT_MODEL, "expect": v[1]} for k, v in c.items()]


# ---------------------------------------------------------------- requests

def counterfact(**rewrite):
    base = {"prompt": "{} has a home in", "subject": "tol na lis", "target_new": {"str": "mudum"},
            "target_true": {"str": "kopal"}}
    return [{"case_id": 0, "requested_rewrite": {**base, **rewrite}, "paraphrase_prompts": [],
             "neighborhood_prompts": []}]


def request_cases(rng):
    """Request files in every format, each read by both loaders (gate and edit)."""
    c = {
        "not_json": (b"[{\"case_id\": 0,", ["JSON"]),
        "binary": (bytes(rng.randrange(256) for _ in range(200)), ["JSON"]),
        "empty_list": (b"[]", ["empty"]),
        "number_overflow": (b"[{\"case_id\": 1e400}]", ["number overflow"]),
        "object_not_list": (b"{\"requested_rewrite\": {}}", ["list"]),
        "record_not_object": (b"[3]", ["record 0"]),
        "counterfact_no_placeholder": (counterfact(prompt="tol na lis has a home in"), ["prompt", "{}"]),
        "counterfact_empty_target": (counterfact(target_new={"str": ""}), ["target_new"]),
        "counterfact_target_number": (counterfact(target_new=5), ["target_new"]),
        "counterfact_subject_number": (counterfact(subject=5), ["subject"]),
        "counterfact_empty_subject": (counterfact(subject=""), ["subject"]),
        "counterfact_paraphrases_not_list": ([{**counterfact()[0], "paraphrase_prompts": "x"}],
                                             ["paraphrase_prompts"]),
    }
    gate_only = {
        "unknown_format": (b"[{\"question\": \"q\"}]", ["record 0"]),
        "zsre_subject_not_in_src": ([{"subject": "tol na lis", "src": "Where does he live?", "alt": "mudum",
                                      "answers": ["kopal"], "rephrase": []}], ["record 0.src", "tol na lis"]),
        "zsre_answers_number": ([{"subject": "tol na lis", "src": "Where does tol na lis live?", "alt": "mudum",
                                    "answers": 5, "rephrase": []}], ["record 0.answers"]),
        "zsre_empty_alt": ([{"subject": "tol na lis", "src": "Where does tol na lis live?", "alt": "",
                             "answers": ["kopal"], "rephrase": []}], ["target_new"]),
        "mquake_rewrite_not_object": ([{"requested_rewrite": [5]}], ["requested_rewrite", "object"]),
        "mquake_no_placeholder": ([{"requested_rewrite": [{"prompt": "x", "subject": "tol na lis",
                                                           "target_new": {"str": "a"},
                                                           "target_true": {"str": "b"}}]}], ["prompt", "{}"]),
        "ripple_tests_not_list": ([{"edit": {"subject": "tol na lis", "target": "mudum",
                                             "cloze": "{} has a home in"}, "Relation_Specificity": 3}],
                                  ["record 0.Relation_Specificity"]),
        "ripple_answers_wrong_type": ([{"edit": {"subject": "tol na lis", "target": "mudum",
                                                 "cloze": "{} has a home in"},
                                        "Relation_Specificity": [{"test_queries": [{"prompt": "p",
                                                                                    "answers": [5]}]}]}],
                                      ["answers[0]"]),
        "easyedit_subject_not_in_prompt": ([{"prompt": "Who?", "subject": "tol na lis", "target_new": "a"}],
                                           ["record 0.prompt"]),
    }
    out = []
    for k, (body, expect) in c.items():
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        out.append({"name": "requests/gate_" + k, "file": ("requests.json", data), "command": GATE_REQUESTS,
                    "expect": expect})
        out.append({"name": "requests/edit_" + k, "file": ("requests.json", data), "command": EDIT_REQUESTS,
                    "expect": expect})
    for k, (body, expect) in gate_only.items():
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        out.append({"name": "requests/gate_" + k, "file": ("requests.json", data), "command": GATE_REQUESTS,
                    "expect": expect})
    return out


# ------------------------------------------------- gate spec, eraser, dataset

def other_cases(rng):
    spec = {
        "not_json": (b"{\"gates\": [", ["JSON"]),
        "binary": (bytes(rng.randrange(256) for _ in range(128)), ["JSON"]),
        "array": (b"[]", ["gates"]),
        "number_overflow": (b"{\"gates\": [{\"suite\": \"Efficacy\", \"metric\": \"rate\", \"min\": 1e400}]}",
                            ["number overflow"]),
        "no_gates": (b"{\"rules\": []}", ["gates"]),
        "rule_not_object": (b"{\"gates\": [1]}", ["gates[0]"]),
        "no_bound": (b"{\"gates\": [{\"suite\": \"Efficacy\", \"metric\": \"rate\"}]}", ["gates[0]", "min"]),
        "two_bounds": (b"{\"gates\": [{\"suite\": \"Efficacy\", \"metric\": \"rate\", \"min\": 0.9, \"max\": 1}]}",
                       ["gates[0]"]),
        "bound_string": (b"{\"gates\": [{\"suite\": \"Efficacy\", \"metric\": \"rate\", \"min\": \"0.9\"}]}",
                         ["gates[0].min", "number"]),
        "bad_on": (b"{\"gates\": [{\"suite\": \"Efficacy\", \"metric\": \"rate\", \"min\": 0.9, \"on\": \"mean\"}]}",
                   ["gates[0].on"]),
        "unknown_key": (b"{\"gates\": [{\"suite\": \"Efficacy\", \"metric\": \"rate\", \"min\": 0.9, \"mni\": 1}]}",
                        ["gates[0].mni"]),
        "unknown_suite": (b"{\"gates\": [{\"suite\": \"Efficacyy\", \"metric\": \"rate\", \"min\": 0.9}]}",
                          ["Efficacyy"]),
        "unknown_metric": (b"{\"gates\": [{\"suite\": \"Efficacy\", \"metric\": \"rat\", \"min\": 0.9}]}",
                           ["gates[0].metric", "'rat'", "efficacy_top1"]),
    }
    out = [{"name": "gate_spec/" + k, "file": ("spec.json", v[0]), "command": GATE_SPEC, "expect": v[1]}
           for k, v in spec.items()]
    d = 128
    hook = {"hook": "blocks.1.hook_resid_post"}
    zeros = f32(*([0.0] * d))

    def eraser_file(bias=("bias", "F32", [d], zeros), metadata=hook, left=None):
        tensors = [t for t in (bias, left or ("proj_left", "F32", [d, 1], zeros),
                               ("proj_right", "F32", [1, d], zeros)) if t is not None]
        return safetensors(tensors, metadata=metadata)

    eraser = {
        "not_safetensors": (b"not a safetensors file at all", ["header length"]),
        "no_hook": (eraser_file(metadata={}), ["__metadata__.hook"]),
        "bad_hook": (eraser_file(metadata={"hook": "blocks.99.hook_resid_post"}), ["hook", "99"]),
        "no_bias": (eraser_file(bias=None), ["tensor 'bias'"]),
        "bias_wrong_dtype": (eraser_file(bias=("bias", "I64", [d], i64(*([0] * d)))), ["tensor 'bias'"]),
        "proj_wrong_shape": (eraser_file(left=("proj_left", "F32", [d - 1, 1], f32(*([0.0] * (d - 1))))),
                             ["tensor 'proj_left'"]),
        "nan": (eraser_file(bias=("bias", "F32", [d], f32(*([float("nan")] + [0.0] * (d - 1))))), ["finite"]),
    }
    out += [{"name": "eraser/" + k, "file": ("eraser.safetensors", v[0]), "command": GATE_ERASER, "expect": v[1]}
            for k, v in eraser.items()]
    dataset = {
        "not_json": (b"{\"format\": ", ["JSON"]),
        "array": (b"[]", []),
        "wrong_format": (b"{\"format\": \"something.else\", \"version\": 1}", ["format"]),
        "number_overflow": (b"{\"format\": \"editgate.erasure_dataset\", \"version\": 1e400}", ["number overflow"]),
        "binary": (bytes(rng.randrange(256) for _ in range(128)), ["JSON"]),
    }
    # The editgate-suites binary's run configuration (--config).
    run_config = {
        "not_json": (b"{\"base\": ", ["parse error"]),
        "array": (b"[]", ["JSON object"]),
        "path_not_string": (b"{\"base\": 5, \"edited\": \"e\", \"requests\": \"r\"}", ["base", "string"]),
        "unknown_key": (b"{\"base\": \"b\", \"edited\": \"e\", \"requests\": \"r\", \"spce\": \"s\"}",
                        ["spce", "unknown key"]),
    }
    out += [{"name": "run_config/" + k, "file": ("run.json", v[0]), "command": SUITES_CONFIG, "expect": v[1]}
            for k, v in run_config.items()]
    out += [{"name": "concept_dataset/" + k, "file": ("dataset.json", v[0]), "command": ERASE_MODEL,
             "expect": v[1]} for k, v in dataset.items()]
    return out


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    fixture, out = Path(sys.argv[1]).resolve(), Path(sys.argv[2])
    rng = random.Random(8)
    cases = (safetensors_cases(rng) + model_cases(fixture, rng) + request_cases(rng) + other_cases(rng))
    if out.exists():
        shutil.rmtree(out)
    manifest = []
    for case in cases:
        folder = out / case["name"]
        folder.mkdir(parents=True)
        entry = {"name": case["name"], "command": case["command"], "expect": case["expect"]}
        if "file" in case:
            name, data = case["file"]
            (folder / name).write_bytes(data)
            entry["file"] = str(Path(case["name"]) / name)
        else:
            # A checkpoint directory: the fixture's files, with these replaced (None: removed).
            model = folder / "model"
            model.mkdir()
            for f in fixture.iterdir():
                if f.name not in case["model"]:
                    (model / f.name).symlink_to(f)
            for name, data in case["model"].items():
                if data is not None:
                    (model / name).write_bytes(data)
            entry["model"] = str(Path(case["name"]) / "model")
        manifest.append(entry)
    (out / "cases.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"{len(manifest)} malformed-input cases in {out}")


if __name__ == "__main__":
    main()

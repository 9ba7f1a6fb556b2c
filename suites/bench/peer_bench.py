#!/usr/bin/env python3
"""editgate's scoring against transformers, side by side in one run.

Runs editgate_bench's CPU scoring cases (BM_ScoreBatch and BM_ScoreFacts on the
fixture and GPT-2 small shapes) with one thread, then times transformers'
GPT2LMHeadModel of the same shape on the same token ids, one thread, two ways:

  reference  how published editing evaluators score (ROME's and EasyEdit's
             CounterFact code): one prompt at a time, logits at every
             position, log-softmax over all of them, under torch.no_grad.
  careful    what a careful user writes: every item in one left-padded batch
             (chunks of the benchmark's batch size), torch.inference_mode,
             logits_to_keep so the head runs on the scored positions only.

Both peers return the same numbers editgate's score() does (the log-prob of
each target token and the teacher-forced argmax); they are checked against
each other once before timing. Each side's time is the median over
--repetitions of the mean per-iteration time of a repetition that runs at
least --min-time seconds, as Google Benchmark does for editgate. Prints each
case's medians and editgate's speed-up (peer time / editgate time) and, with
--json, writes them (temp file, then rename).

  .venv/bin/python suites/bench/peer_bench.py --bench build/suites/bench/editgate_bench
  .venv/bin/python suites/bench/peer_bench.py --editgate-json bench.json   # reuse a run

Exit 2 with one line on bad input (missing binary, unreadable JSON, no case).
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

# bench_models.h's GPT-2-architecture shapes: (n_layer, d_model, n_head, n_positions, vocab).
SHAPES = {
    "fixture": (4, 128, 4, 64, 512),
    "gpt2-small": (12, 768, 12, 1024, 50257),
}
FILTER = r"^BM_Score(Batch|Facts)/(fixture|gpt2-small)/"
NAME = re.compile(r"^BM_Score(Batch|Facts)/([^/]+)/(\d+)(?:/(\d+))?")
FACTS_MAX_BATCH = 128  # score_targets' batch, which BM_ScoreFacts uses


def fail(msg):
    print(f"peer_bench: {msg}", file=sys.stderr)
    sys.exit(2)


def batch_items(batch, seq, vocab):
    """scoring_bench.cpp's score_batch items: prompt seq-4 tokens, 5 target tokens."""
    return [([(b * 31 + t * 7) % vocab for t in range(seq - 4)], [(b + t * 13) % vocab for t in range(5)])
            for b in range(batch)]


def fact_items(facts, vocab):
    """scoring_bench.cpp's score_facts items: prompt 10 + 7i mod 21 tokens, target 1 + i mod 3."""
    return [([(i * 31 + t * 7) % vocab for t in range(10 + (7 * i) % 21)], [(i + t * 13) % vocab for t in range(1 + i % 3)])
            for i in range(facts)]


def editgate_env():
    return {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "EDITGATE_DEVICE": "cpu"}


def editgate_cases(binary):
    """The scoring cases this editgate_bench registers on the CPU shapes, by name."""
    if not os.access(binary, os.X_OK):
        fail(f"{binary}: --bench must be the editgate_bench binary (build with -DEDITGATE_BUILD_BENCHMARKS=ON)")
    listed = subprocess.run([binary, f"--benchmark_filter={FILTER}", "--benchmark_list_tests"], env=editgate_env(),
                            check=True, capture_output=True, text=True).stdout.split()
    if not listed:
        fail(f"{binary}: registers no case matching {FILTER}")
    return listed


def std_regex_escape(text):
    """Escapes for std::regex (Google Benchmark's filter): Python's re.escape also escapes
    '/' and '-', which std::regex rejects."""
    return re.sub(r"([.^$|()\[\]{}*+?\\])", r"\\\1", text)


def run_editgate(binary, case, repetitions, min_time, out_dir):
    """Runs one case (so it runs next to its peers in time: the machine's load drifts); its JSON path."""
    out = os.path.join(out_dir, re.sub(r"[^A-Za-z0-9]+", "_", case) + ".json")
    cmd = [binary, f"--benchmark_filter=^{std_regex_escape(case)}$", f"--benchmark_repetitions={repetitions}",
           f"--benchmark_min_time={min_time}", f"--benchmark_out={out}", "--benchmark_out_format=json"]
    r = subprocess.run(cmd, env=editgate_env(), capture_output=True, text=True)
    if r.returncode != 0:
        last = (r.stderr.strip().splitlines() or ["no message"])[-1]
        fail(f"{binary} {case}: exit {r.returncode} ({last})")
    return out


def case_key(name):
    m = NAME.match(name)
    return m.group(1), m.group(2), tuple(int(g) for g in m.group(3, 4) if g)


def editgate_medians(path):
    """{(kind, shape, args): median seconds per iteration} from Google Benchmark JSON."""
    try:
        with open(path) as f:
            doc = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        fail(f"{path}: not readable Google Benchmark JSON ({e})")
    times = {}
    for b in doc.get("benchmarks", []):
        m = NAME.match(b.get("run_name", b.get("name", "")))
        if not m or m.group(2) not in SHAPES or b.get("error_occurred"):
            continue
        key = case_key(m.group(0))
        scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[b.get("time_unit", "ns")]
        seconds = b["real_time"] * scale
        if b.get("run_type") == "aggregate":
            if b.get("aggregate_name") == "median":
                times[key] = ("median", seconds)
        elif times.get(key, ("", 0))[0] != "median":
            times.setdefault(key, ("runs", []))[1].append(seconds)
    if not times:
        fail(f"{path}: field benchmarks: expected BM_ScoreBatch/BM_ScoreFacts runs on {', '.join(SHAPES)}, found none")
    return {k: v if kind == "median" else statistics.median(v) for k, (kind, v) in times.items()}


def make_model(shape):
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel
    n_layer, d_model, n_head, n_positions, vocab = shape
    torch.manual_seed(0)
    config = GPT2Config(n_layer=n_layer, n_embd=d_model, n_head=n_head, n_positions=n_positions, vocab_size=vocab,
                        bos_token_id=vocab - 1, eos_token_id=vocab - 1)  # GPT-2's 50256 is outside the fixture's vocabulary
    return GPT2LMHeadModel(config).eval()


def score_reference(model, items):
    """One prompt at a time, full logits, log-softmax everywhere (the evaluators' pattern)."""
    import torch
    out = []
    with torch.no_grad():
        for prompt, target in items:
            ids = torch.tensor([prompt + target[:-1]])
            logp = torch.log_softmax(model(ids).logits.float(), -1)[0]
            rows = logp[len(prompt) - 1:len(prompt) - 1 + len(target)]
            picked = rows.gather(1, torch.tensor(target).unsqueeze(1)).squeeze(1)
            out.append((picked.double().tolist(), rows.argmax(1).tolist()))
    return out


def score_careful(model, items, max_batch):
    """Batched, left-padded, logits only where scored (logits_to_keep), inference mode."""
    import torch
    out = []
    with torch.inference_mode():
        for start in range(0, len(items), max_batch):
            chunk = items[start:start + max_batch]
            rows = [p + t[:-1] for p, t in chunk]
            width = max(len(r) for r in rows)
            keep = max(len(t) for _, t in chunk)
            ids = torch.zeros(len(rows), width, dtype=torch.long)
            mask = torch.zeros_like(ids)
            targets = torch.zeros(len(rows), keep, dtype=torch.long)
            for i, (r, (_, t)) in enumerate(zip(rows, chunk)):
                ids[i, width - len(r):] = torch.tensor(r)
                mask[i, width - len(r):] = 1
                targets[i, keep - len(t):] = torch.tensor(t)
            kwargs = {}
            if any(len(r) != width for r in rows):  # padding present: mask it and count positions past it
                kwargs = {"attention_mask": mask, "position_ids": (mask.cumsum(1) - 1).clamp(min=0)}
            logp = torch.log_softmax(model(input_ids=ids, logits_to_keep=keep, **kwargs).logits.float(), -1)
            picked = logp.gather(2, targets.unsqueeze(2)).squeeze(2).double()
            top = logp.argmax(2)
            for i, (_, t) in enumerate(chunk):
                out.append((picked[i, keep - len(t):].tolist(), top[i, keep - len(t):].tolist()))
    return out


def median_seconds(fn, repetitions, min_time):
    fn()  # warm-up, untimed
    means = []
    for _ in range(repetitions):
        n, start = 0, time.perf_counter()
        while True:
            fn()
            n += 1
            elapsed = time.perf_counter() - start
            if elapsed >= min_time:
                break
        means.append(elapsed / n)
    return statistics.median(means)


def check_same(a, b, case):
    for (lp_a, am_a), (lp_b, am_b) in zip(a, b, strict=True):
        worst = max(abs(x - y) for x, y in zip(lp_a, lp_b, strict=True))
        if worst > 1e-3 or am_a != am_b:
            fail(f"{case}: the reference and careful peers disagree (log-prob diff {worst:.2e}); not timing them")


def write_atomic(path, doc):
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".peer_bench.")
    with os.fdopen(fd, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--bench", help="editgate_bench binary: run its scoring cases now")
    src.add_argument("--editgate-json", help="editgate_bench JSON of an earlier run (CPU, one thread)")
    ap.add_argument("--repetitions", type=int, default=3)
    ap.add_argument("--min-time", type=float, default=0.5, help="seconds per repetition, at least one iteration")
    ap.add_argument("--cases", default="", help="regular expression: only the cases whose name it matches")
    ap.add_argument("--json", help="write the table here as JSON")
    args = ap.parse_args()
    if args.repetitions < 1 or args.min_time <= 0:
        fail("--repetitions must be >= 1 and --min-time > 0")

    if args.editgate_json:
        editgate = editgate_medians(args.editgate_json)
        cases = sorted(editgate)
    else:
        cases = [case_key(c) for c in editgate_cases(args.bench)]
    cases = [c for c in cases if re.search(args.cases, f"BM_Score{c[0]}/{c[1]}/{'/'.join(map(str, c[2]))}")]
    if not cases:
        fail(f"--cases {args.cases!r}: matches no scoring case")
    import torch  # after the input checks: importing transformers takes seconds
    import transformers
    torch.set_num_threads(1)  # editgate_bench runs with OMP_NUM_THREADS=1
    models, rows = {}, []
    with tempfile.TemporaryDirectory() as tmp:
        for (kind, shape, case_args) in cases:
            vocab = SHAPES[shape][4]
            if kind == "Batch":
                items, max_batch = batch_items(case_args[0], case_args[1], vocab), case_args[0]
            else:
                items, max_batch = fact_items(case_args[0], vocab), FACTS_MAX_BATCH
            model = models.setdefault(shape, make_model(SHAPES[shape]))
            case = f"BM_Score{kind}/{shape}/{'/'.join(map(str, case_args))}"
            check_same(score_reference(model, items), score_careful(model, items, max_batch), case)
            if not args.editgate_json:
                editgate = editgate_medians(run_editgate(args.bench, case + "/manual_time", args.repetitions,
                                                         args.min_time, tmp))
            if (kind, shape, case_args) not in editgate:
                fail(f"{args.editgate_json or args.bench}: no result for {case} (errored?)")
            mine = editgate[(kind, shape, case_args)]
            ref = median_seconds(lambda: score_reference(model, items), args.repetitions, args.min_time)
            careful = median_seconds(lambda: score_careful(model, items, max_batch), args.repetitions, args.min_time)
            rows.append({"case": case, "editgate_s": mine, "reference_s": ref, "careful_s": careful,
                         "speedup_vs_reference": ref / mine, "speedup_vs_careful": careful / mine})

    print(f"threads 1, repetitions {args.repetitions} (medians), transformers {transformers.__version__}, "
          f"torch {torch.__version__}")
    print(f"{'case':32} {'editgate':>10} {'reference':>10} {'careful':>10} {'vs ref':>7} {'vs careful':>10}")
    for r in rows:
        print(f"{r['case']:32} {r['editgate_s'] * 1e3:8.1f}ms {r['reference_s'] * 1e3:8.1f}ms "
              f"{r['careful_s'] * 1e3:8.1f}ms {r['speedup_vs_reference']:6.2f}x {r['speedup_vs_careful']:9.2f}x")
    if args.json:
        write_atomic(args.json, {"threads": 1, "repetitions": args.repetitions, "transformers": transformers.__version__,
                                 "torch": torch.__version__, "editgate_json": args.editgate_json, "cases": rows})


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Resource bound: second-moment statistics stream their corpus, so peak RSS
depends on the batch size, not on the corpus size. Runs `editgate edit` with
statistics over a corpus and over one 10x larger (whole corpus, no cache) and
checks that peak RSS grows by less than 10 % while the token count grows 10x.

usage: stats_memory.py EDITGATE FIXTURE_DIR [DOCS]
"""

import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def peak_rss_mb(argv):
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
    _, status, usage = os.wait4(p.pid, 0)
    out, err = p.stdout.read(), p.stderr.read()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(argv)} failed: {err.decode(errors='replace')[-500:]}")
    return usage.ru_maxrss / 1024.0, json.loads(out)


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    editgate, fixture = sys.argv[1], Path(sys.argv[2]).resolve()
    docs = int(sys.argv[3]) if len(sys.argv) > 3 else 400
    vocab = [w for w in json.loads((fixture / "tokenizer.json").read_text())["model"]["vocab"] if not w.startswith("<")]
    rng = random.Random(8)
    with tempfile.TemporaryDirectory(prefix="editgate-rss-") as tmp:
        work = Path(tmp)
        requests = work / "requests.json"
        requests.write_text(json.dumps(json.loads((fixture / "requests" / "edits.counterfact.json").read_text())[:1]))
        results = {}
        for scale in (1, 10):
            corpus = work / f"corpus{scale}.txt"
            with corpus.open("w") as f:
                for _ in range(docs * scale):
                    f.write(" ".join(rng.choice(vocab) for _ in range(60)) + "\n")
            rss, manifest = peak_rss_mb([editgate, "edit", "--model", str(fixture), "--method", "rome",
                                         "--requests", str(requests), "--corpus", str(corpus), "--mom2-tokens", "0",
                                         "--no-stats-cache", "--out", str(work / f"out{scale}"), "--json"])
            tokens = manifest["statistics"][0].get("n_tokens")
            results[scale] = (rss, tokens, corpus.stat().st_size)
            print(f"corpus x{scale}: {corpus.stat().st_size / 1e6:.2f} MB, {tokens} tokens, peak RSS {rss:.1f} MB")
    (rss1, tok1, _), (rss10, tok10, _) = results[1], results[10]
    growth = rss10 / rss1 - 1
    print(f"peak RSS growth for a 10x corpus: {100 * growth:.1f} %")
    problems = []
    if not (tok1 and tok10 and tok10 >= 9 * tok1):
        problems.append(f"the larger run did not see 10x the tokens ({tok1} vs {tok10})")
    if growth >= 0.10:
        problems.append(f"peak RSS grew {100 * growth:.1f} % (bound 10 %)")
    for p in problems:
        print("FAIL", p)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()

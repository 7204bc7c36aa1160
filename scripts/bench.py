"""Speed and memory benchmark (reported, never asserted).

    .venv/bin/python scripts/bench.py [--llm balanced] [--questions eval/heldout.jsonl] [--n 20]

Measures: index build time; warm retrieval latency; warm first-token and total answer time;
cold `rag ask` wall time (new process, index already built) and its peak memory; the warm
process's peak memory with the tier's second translation model (if any) loaded and used.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.grading import load_questions  # noqa: E402
from rag.index import build_index  # noqa: E402
from rag.pipeline import Pipeline  # noqa: E402
from rag.prompt import translation_messages  # noqa: E402
from rag.retrieve import retrieve  # noqa: E402
from rag.settings import Settings  # noqa: E402


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def _peak_mb(cmd: list[str]) -> float:
    """Run ``cmd`` and return its peak resident memory in MB, read from /proc (VmHWM of the
    process after exec) every 20 ms. Not getrusage(RUSAGE_CHILDREN): Linux carries the forking
    parent's peak into the child's, and this process holds two models by then."""
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0
    while proc.poll() is None:
        try:
            status = Path(f"/proc/{proc.pid}/status").read_text()
            peak = max(peak, int(status.split("VmHWM:")[1].split()[0]))
        except (OSError, IndexError, ValueError):
            pass
        time.sleep(0.02)
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode})")
    return round(peak / 1024, 1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--questions", type=Path, default=ROOT / "eval" / "heldout.jsonl")
    ap.add_argument("--n", type=int, default=20, help="questions for the warm answer timings")
    ap.add_argument("--llm", default=None, help="tier, packaged name or GGUF path (default: the settings')")
    ap.add_argument("--out", type=Path, help="JSON output (default: reports/bench-<llm>.json)")
    args = ap.parse_args()
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        s = Settings(index_dir=Path(tmp) / "index", **({"llm": args.llm} if args.llm else {}))
        out["llm"] = s.llm
        t = time.perf_counter()
        build_index(s)
        out["index_build_s"] = round(time.perf_counter() - t, 2)  # includes loading the encoder
        t = time.perf_counter()
        build_index(s)
        out["index_rebuild_warm_s"] = round(time.perf_counter() - t, 2)

        pipe = Pipeline(s)
        pipe.warm_up()
        qs = [q.question for q in load_questions(args.questions)]
        rt = []
        for q in qs:
            t = time.perf_counter()
            retrieve(pipe.retrievers(pipe.index), pipe.index.chunks, q, k=s.k, rrf_k=s.rrf_k)
            rt.append((time.perf_counter() - t) * 1000)
        out["warm_retrieval_ms"] = {"p50": round(statistics.median(rt), 1), "p95": round(pct(rt, 95), 1)}
        ft, tot = [], []
        for q in qs[: args.n]:
            a = pipe.ask(q)
            if not a.refused:
                ft.append(a.timings["first_token_ms"])
                tot.append(a.timings["total_ms"])
        out["warm_first_token_ms"] = {"p50": round(statistics.median(ft), 1), "p95": round(pct(ft, 95), 1)}
        out["warm_total_ms"] = {"p50": round(statistics.median(tot), 1), "p95": round(pct(tot, 95), 1)}
        # the worst case of a serving process: the second translation model loaded and used too
        second = pipe.fallback_llm
        if second is not None:
            list(second.stream(second.render(translation_messages("Bonjour à tous.", source="fr", target="en")),
                               max_tokens=8, stop=["\n"]))
        out["translation_fallback"] = None if second is None else second.name
        out["warm_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)

        walls, peaks = [], []
        for _ in range(3):
            t = time.perf_counter()
            peaks.append(_peak_mb([sys.executable, "-m", "rag.cli", "ask", "--index", str(s.index_dir), "--json",
                                   "--llm", s.llm, "What did Olivier Duha propose at the assises?"]))
            walls.append(time.perf_counter() - t)
        out["cold_ask_wall_s"] = {"min": round(min(walls), 2), "median": round(statistics.median(walls), 2)}
        out["cold_ask_peak_rss_mb"] = max(peaks)
    print(json.dumps(out, indent=2))
    dest = args.out or ROOT / "reports" / f"bench-{Path(s.llm).stem}.json"
    dest.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""Benchmark of `rag serve` on loopback (reported, never asserted).

    .venv/bin/python scripts/bench_serve.py [--llm balanced] [--clients 8] [--per-client 10]

Starts `rag serve` on 127.0.0.1 (a free port), then measures:
- API overhead of /v1/ask: client latency minus the pipeline's own total time (server-side);
- streaming: first content chunk at the client minus the pipeline's first verified sentence;
- load: N concurrent clients asking M different questions each (bounded count and time):
  throughput, p50/p95 latency, errors, lost answers, crosstalk (an answer to another question),
  and how many answers cite their own question's article.
Writes reports/bench-serve.json.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] if values else None


def post(url: str, body: dict, timeout: float) -> tuple[int, dict, float]:
    data = json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            out = json.loads(r.read())
            return r.status, out, (time.perf_counter() - t0) * 1000
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}"), (time.perf_counter() - t0) * 1000


def stream(url: str, question: str, timeout: float) -> tuple[float, dict]:
    """(ms to the first content chunk, the final chunk)."""
    body = json.dumps({"stream": True, "messages": [{"role": "user", "content": question}]}).encode()
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    t0 = time.perf_counter()
    first, last = None, {}
    with urllib.request.urlopen(req, timeout=timeout) as r:
        for raw in r:
            line = raw.decode().strip()
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            chunk = json.loads(line[6:])
            if chunk.get("choices") and chunk["choices"][0]["delta"].get("content") and first is None:
                first = (time.perf_counter() - t0) * 1000
            last = chunk
    return first, last


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--llm", default="balanced")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--per-client", type=int, default=10)
    ap.add_argument("--sequential", type=int, default=10, help="requests for the overhead measures")
    ap.add_argument("--questions", type=Path, default=ROOT / "eval" / "heldout.jsonl")
    ap.add_argument("--time-limit", type=float, default=1200, help="seconds for the whole load phase")
    ap.add_argument("--out", type=Path, default=ROOT / "reports" / "bench-serve.json")
    args = ap.parse_args()

    qs = [json.loads(line) for line in args.questions.read_text(encoding="utf-8").splitlines() if line.strip()]
    need = args.clients * args.per_client
    if len(qs) < need:
        sys.exit(f"need {need} questions, {args.questions} has {len(qs)}")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "RAG_LLM": args.llm, "RAG_SERVER_QUEUE": str(max(16, args.clients * 2))}
    (ROOT / "reports" / "tmp").mkdir(parents=True, exist_ok=True)
    log = open(ROOT / "reports" / "tmp" / "bench-serve.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "rag.cli", "serve", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        t0 = time.time()
        while True:
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=2)
                break
            except OSError:
                if proc.poll() is not None or time.time() - t0 > 300:
                    sys.exit("rag serve did not start: see reports/tmp/bench-serve.log")
                time.sleep(0.5)
        startup_s = time.time() - t0
        print(f"rag serve up in {startup_s:.1f} s", flush=True)
        for q in qs[:2]:  # warm-up
            post(f"{base}/v1/ask", {"question": q["question"]}, 300)

        overhead, api_ms, pipe_ms = [], [], []
        for q in qs[2:2 + args.sequential]:
            status, out, ms = post(f"{base}/v1/ask", {"question": q["question"]}, 300)
            if status == 200:
                overhead.append(ms - out["timings"]["total_ms"])
                api_ms.append(ms)
                pipe_ms.append(out["timings"]["total_ms"])
        stream_gap, first_http, first_inproc, first_token = [], [], [], []
        for q in qs[2 + args.sequential:2 + 2 * args.sequential]:
            first, last = stream(f"{base}/v1/chat/completions", q["question"], 300)
            t = last.get("rag", {}).get("timings", {})
            if first is not None and "first_sentence_ms" in t:
                stream_gap.append(first - t["first_sentence_ms"])
                first_http.append(first)
                first_inproc.append(t["first_sentence_ms"])
                first_token.append(t["first_token_ms"])
        print(f"/v1/ask overhead p50 {pct(overhead, 50):.1f} ms; stream first-chunk gap p50 "
              f"{pct(stream_gap, 50):.1f} ms", flush=True)

        load = qs[:need]
        results: list[dict | None] = [None] * need
        stop_at = time.time() + args.time_limit

        def client(c: int):
            for i in range(args.per_client):
                j = c * args.per_client + i
                if time.time() > stop_at:
                    return
                q = load[j]
                try:
                    status, out, ms = post(f"{base}/v1/ask", {"question": q["question"]},
                                           max(1.0, stop_at - time.time()))
                except Exception as err:  # noqa: BLE001 - a benchmark counts every failure
                    results[j] = {"status": None, "error": f"{type(err).__name__}: {err}"}
                    continue
                cited = [c_["source"] for c_ in out.get("citations", [])] if status == 200 else []
                results[j] = {"status": status, "ms": ms, "question_echo": out.get("question"),
                              "asked": q["question"], "gold": q.get("source"), "cited": cited,
                              "refused": out.get("refused"), "answerable": q.get("answerable", True)}

        t_load = time.perf_counter()
        threads = [threading.Thread(target=client, args=(c,)) for c in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t_load
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()

    done = [r for r in results if r is not None]
    ok = [r for r in done if r["status"] == 200]
    errors = [r for r in done if r["status"] != 200]
    crosstalk = [r for r in ok if r["question_echo"] != r["asked"]]
    answered = [r for r in ok if r["answerable"] and r["gold"] and not r["refused"]]
    own = [r for r in answered if r["cited"] and all(s == r["gold"] for s in r["cited"])]
    lat = [r["ms"] for r in ok]
    report = {
        "llm": args.llm, "clients": args.clients, "per_client": args.per_client, "startup_s": round(startup_s, 1),
        "api_overhead_ms": {"p50": round(pct(overhead, 50), 1), "p95": round(pct(overhead, 95), 1),
                            "n": len(overhead), "api_p50_ms": round(pct(api_ms, 50)),
                            "pipeline_p50_ms": round(pct(pipe_ms, 50))},
        "stream_first_chunk": {"gap_p50_ms": round(pct(stream_gap, 50), 1), "gap_p95_ms": round(pct(stream_gap, 95), 1),
                               "http_first_chunk_p50_ms": round(pct(first_http, 50)),
                               "inprocess_first_sentence_p50_ms": round(pct(first_inproc, 50)),
                               "inprocess_first_token_p50_ms": round(pct(first_token, 50)), "n": len(stream_gap)},
        "load": {"requests": need, "completed": len(done), "ok": len(ok), "errors": len(errors),
                 "lost": need - len(done), "crosstalk": len(crosstalk), "wall_s": round(wall, 1),
                 "throughput_per_min": round(60 * len(ok) / wall, 1),
                 "latency_p50_s": round(pct(lat, 50) / 1000, 2), "latency_p95_s": round(pct(lat, 95) / 1000, 2),
                 "answerable_answered": len(answered), "cite_only_their_own_article": len(own),
                 "error_samples": [r.get("error") or r.get("status") for r in errors[:5]]},
    }
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()

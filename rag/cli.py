"""`rag` command line: index, ask, eval, ui. Turns domain errors into one clear line."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .errors import RagError


def _settings(args):
    from pydantic import ValidationError

    from .settings import Settings

    overrides = {}
    for flag, field in (("seeds", "seeds_dir"), ("index", "index_dir"), ("llm", "llm"),
                        ("embedder", "embedders"), ("k", "k"), ("retrievers", "retrievers"),
                        ("max_tokens", "max_tokens"), ("language", "answer_language")):
        value = getattr(args, flag, None)
        if value is not None:
            overrides[field] = value
    try:
        return Settings(**overrides)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(x) for x in first["loc"]) or "settings"
        raise RagError(f"invalid setting {where}: {first['msg']}") from None


def _progress(msg: str) -> None:
    print(f"[rag] {msg}", file=sys.stderr, flush=True)


def cmd_index(args) -> int:
    from .index import build_index, read_manifest, staleness, verify_files

    s = _settings(args)
    if args.verify:
        verify_files(s.index_dir, read_manifest(s.index_dir), full=True)
        _progress(f"index at {s.index_dir}: every file matches its checksum")
        return 0
    if not args.rebuild and (s.index_dir / "manifest.json").exists():
        try:
            why = staleness(s, read_manifest(s.index_dir))
        except RagError:
            why = "unreadable manifest"
        if not why:
            _progress(f"index at {s.index_dir} is up to date (use --rebuild to force)")
            return 0
        _progress(f"updating: {why}")
    build_index(s, progress=_progress, full=args.rebuild)
    return 0


def cmd_ask(args) -> int:
    from .pipeline import Pipeline

    s = _settings(args)
    question = " ".join(args.question)
    pipe = Pipeline(s, progress=_progress)
    pipe.validate(question)
    answer = None
    streaming = not args.json and sys.stdout.isatty()
    for ev in pipe.stream(question):
        if ev.kind == "token" and streaming:
            print(ev.text, end="", flush=True)
        elif ev.kind == "status" and not args.json:
            _progress(ev.text)
        elif ev.kind == "answer":
            answer = ev.answer
    if args.json:
        print(json.dumps(answer.to_json(), ensure_ascii=False, indent=None))
        return 0
    if streaming:
        print("\r\033[K", end="")
    print(answer.answer)
    if answer.citations:
        print("\nSources:")
        for c in answer.citations:
            page = c.chunk.page_at(c.evidence_start)
            print(f"  [{c.n}] {c.chunk.title} ({c.chunk.date or 'undated'}) - {c.chunk.source}"
                  + (f" page {page}" if page else "") + f" chars {c.chunk.start}-{c.chunk.end}")
            print(f"      {' '.join(c.evidence.split())}")
    elif answer.refused and answer.retrieved:
        top = answer.retrieved[0].chunk
        print(f"\n(closest passage: {top.title} - {top.source})")
    t = answer.timings
    print(f"\n[{t['retrieve_ms']:.0f} ms retrieval, first token {t['first_token_ms']:.0f} ms, "
          f"total {t['total_ms']:.0f} ms; {answer.models['llm']} + {answer.models['embedder']}]",
          file=sys.stderr)
    return 0


def cmd_eval(args) -> int:
    from .eval import run_eval_command

    return run_eval_command(args, _settings(args), progress=_progress)


def cmd_ui(args) -> int:
    from ui.app import launch

    launch(_settings(args), host=args.host, port=args.port, progress=_progress)
    return 0


def cmd_serve(args) -> int:
    from .server import serve

    serve(_settings(args), host=args.host, port=args.port, progress=_progress)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rag", description="Offline question answering over the articles in seeds/.")
    sub = p.add_subparsers(dest="command", required=True)

    def common(sp):
        sp.add_argument("--seeds", type=Path, help="folder of .txt articles (default: seeds/)")
        sp.add_argument("--index", type=Path, help="index folder (default: index/current)")
        sp.add_argument("--embedder", help="dense encoders, comma-separated: use, minilm, or a "
                                          "sentence-transformers path/id (default: use)")
        sp.add_argument("--retrievers", help="bm25,dense (default), bm25 or dense")

    def gen(sp):
        sp.add_argument("--llm", help="tier: fast (quotes, no model call), balanced (default: quotes translated by "
                                       "Qwen2.5-Coder-0.5B), quality (quotes translated by Qwen2.5-Coder-1.5B); a "
                                       "packaged name (models.txt) or a path to a .gguf file")
        sp.add_argument("-k", "--k", type=int, help="passages to retrieve (default 5)")
        sp.add_argument("--max-tokens", dest="max_tokens", type=int, help="cap on generated tokens")
        sp.add_argument("--language", choices=["auto", "fr", "en"], help="answer language")

    sp = sub.add_parser("index", help="build or update the index (only what changed; --rebuild: from nothing)")
    common(sp)
    sp.add_argument("--rebuild", action="store_true", help="rebuild everything from nothing (default: update only what changed)")
    sp.add_argument("--verify", action="store_true", help="check every index file against its checksum")
    sp.set_defaults(func=cmd_index)

    sp = sub.add_parser("ask", help="answer one question")
    common(sp)
    gen(sp)
    sp.add_argument("--json", action="store_true", help="print exactly one JSON object")
    sp.add_argument("question", nargs="*", help="the question")
    sp.set_defaults(func=cmd_ask)

    sp = sub.add_parser("eval", help="evaluate on a JSONL question set")
    common(sp)
    gen(sp)
    sp.add_argument("questions", type=Path, help="JSONL question file")
    sp.add_argument("--out", type=Path, default=Path("reports/eval.json"), help="JSON report path")
    sp.add_argument("--md", type=Path, help="Markdown report path")
    sp.add_argument("--compare", nargs="+", metavar="CONFIG",
                    help="named configurations to compare in one run: default, fast, balanced, quality, baseline "
                         "(LlamaIndex-style plain pipeline), hybrid, bm25, dense, dense-minilm, hybrid-minilm, "
                         "headers, gemma, smollm2")
    sp.add_argument("--chart", type=Path, help="PNG bar chart path (with --compare)")
    sp.add_argument("--limit", type=int, help="only the first N questions")
    sp.set_defaults(func=cmd_eval)

    sp = sub.add_parser("ui", help="open the chat in the browser")
    common(sp)
    gen(sp)
    sp.add_argument("--host", default="127.0.0.1", help="bind address (default: loopback only)")
    sp.add_argument("--port", type=int, default=7860)
    sp.set_defaults(func=cmd_ui)

    sp = sub.add_parser("serve", help="HTTP API: OpenAI-compatible chat with citations, /v1/ask, documents")
    common(sp)
    gen(sp)
    sp.add_argument("--host", default="127.0.0.1",
                    help="bind address (default: loopback only; any other address requires RAG_API_KEY)")
    sp.add_argument("--port", type=int, default=8000)
    sp.set_defaults(func=cmd_serve)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except RagError as err:
        print(f"rag: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("rag: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

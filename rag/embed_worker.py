"""A process that encodes texts for a parent (bulk indexing): ``python -m rag.embed_worker NAME``.

Messages on stdin: an 8-byte little-endian length, then a JSON list of texts; end of input (the
parent closing the pipe, or dying) stops it. Replies on stdout: rows and dimension (two 8-byte
integers), then the float32 vectors. Started as a plain subprocess, not by multiprocessing,
which would re-run the caller's main script in every worker.
"""

from __future__ import annotations

import json
import sys

import numpy as np


def serve(name: str, stdin, stdout) -> None:
    from .embedders import UseEmbedder, get_embedder

    enc = UseEmbedder(threads=1) if name == "use" else get_embedder(name)
    while True:
        head = stdin.read(8)
        if len(head) < 8:
            return
        texts = json.loads(stdin.read(int.from_bytes(head, "little")).decode("utf-8"))
        vecs = np.ascontiguousarray(enc.encode(texts), dtype=np.float32)
        stdout.write(vecs.shape[0].to_bytes(8, "little") + vecs.shape[1].to_bytes(8, "little"))
        stdout.write(vecs.tobytes())
        stdout.flush()


if __name__ == "__main__":
    serve(sys.argv[1], sys.stdin.buffer, sys.stdout.buffer)

"""The document collection on disk: list, add and remove documents, then update the index.

Every document is checked (type, encoding, text) before it is written, so a bad upload is
refused by name and the collection loses nothing. Files are written atomically and never
outside the documents folder. The index update reuses the vectors of unchanged documents.
"""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .documents import read_document, supported_extensions
from .errors import DocumentError, SeedsError
from .index import build_index
from .settings import Settings


@dataclass(frozen=True)
class DocumentInfo:
    source: str
    title: str
    date: str | None
    chunks: int
    pages: int | None
    chars: int | None

    def to_json(self) -> dict:
        return dict(vars(self))


@dataclass
class UpdateReport:
    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)  # one message per refused file

    def to_json(self) -> dict:
        return dict(vars(self))


def documents(manifest: dict) -> list[DocumentInfo]:
    """The indexed documents, as the index manifest records them."""
    return [DocumentInfo(source=src, title=a.get("title") or src, date=a.get("date"), chunks=a.get("chunks", 0),
                         pages=a.get("pages"), chars=a.get("chars"))
            for src, a in sorted(manifest.get("articles", {}).items())]


_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]")


def safe_name(name: str) -> str:
    """A document's file name as given by a user: a plain file name of a supported type, never a
    path (no folders, no '..', no hidden files)."""
    raw = unicodedata.normalize("NFC", name or "")
    base = raw.replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not base or base != raw.strip() or base in {".", ".."} or base.startswith(".") or _UNSAFE.search(base):
        raise DocumentError(f"{name!r}: not a plain file name (no folders, no leading dot, no control "
                            "or reserved characters)")
    if len(base.encode("utf-8")) > 200:
        raise DocumentError(f"{name[:40]!r}…: file name too long (200 bytes at most)")
    if Path(base).suffix.lower() not in supported_extensions():
        raise DocumentError(f"{base}: unsupported file type; supported: {', '.join(supported_extensions())}")
    return base


def add_documents(settings: Settings, files: list[tuple[str, bytes]], *,
                  progress: Callable[[str], None] | None = None) -> UpdateReport:
    """Check each file, write the good ones into the documents folder, update the index.
    A file with the name of an existing document replaces it."""
    report = UpdateReport()
    folder = settings.seeds_dir
    folder.mkdir(parents=True, exist_ok=True)
    good: list[tuple[str, bytes]] = []
    for name, data in files:
        try:
            base = safe_name(name)
            read_document(Path(base), data=data)
        except SeedsError as err:
            report.rejected.append(str(err))
            continue
        good.append((base, data))
    for base, data in good:
        target = folder / base
        (report.replaced if target.exists() else report.added).append(base)
        _write_atomic(target, data)
    if good:
        build_index(settings, progress=progress)
    return report


def remove_document(settings: Settings, source: str, *,
                    progress: Callable[[str], None] | None = None) -> UpdateReport:
    """Delete a document's file and every chunk and vector of it from the index."""
    folder = settings.seeds_dir
    try:
        base = safe_name(source)
    except DocumentError:
        raise DocumentError(f"no document named {source!r}") from None
    path = folder / base
    if not path.is_file():
        raise DocumentError(f"no document named {base!r} in {folder}")
    others = [p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".") and p.name != base]
    if not others:
        raise DocumentError(f"{base} is the last document: the collection cannot be empty; add another first")
    path.unlink()
    build_index(settings, progress=progress)
    return UpdateReport(removed=[base])


def _write_atomic(target: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise

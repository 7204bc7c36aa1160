"""Typed records passed between modules: Article → Chunk → Hit → Citation → Answer."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Block:
    """One paragraph of an article body, with its span in the original file text."""

    start: int
    end: int
    kind: str  # "text", "heading", "speaker", "question"


@dataclass(frozen=True)
class Article:
    """A seed file, parsed. ``raw`` is the whole decoded file; spans index into it."""

    source: str  # file name, e.g. 002_4baedb1a5da3def7.txt
    title: str
    date: str | None  # ISO date, e.g. 2010-10-28
    publisher: str | None
    raw: str
    blocks: tuple[Block, ...]
    sha256: str
    pages: tuple[int, ...] = ()  # PDF: offset in ``raw`` where each page starts (page 1 first)

    def text(self, start: int, end: int) -> str:
        return self.raw[start:end]


@dataclass(frozen=True)
class Chunk:
    """A retrievable piece of an article: a contiguous span of the original text.

    ``header`` (title, section, speaker, interview question) is indexed with the text
    but never quoted as source text.
    """

    id: int
    source: str
    title: str
    date: str | None
    start: int
    end: int
    text: str
    header: str
    page: int | None = None  # PDF: page of ``start``
    page_starts: tuple[int, ...] = ()  # PDF: offsets inside the span where the next pages begin

    def page_at(self, offset: int) -> int | None:
        """The page an offset of this chunk is on (None for formats without pages)."""
        if self.page is None:
            return None
        return self.page + sum(1 for p in self.page_starts if p <= offset)

    @property
    def indexed_text(self) -> str:
        return f"{self.header}\n{self.text}" if self.header else self.text

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "Chunk":
        return cls(**{**d, "page_starts": tuple(d.get("page_starts", ()))})


@dataclass(frozen=True)
class Hit:
    """A chunk returned by retrieval, with its fused score and per-retriever ranks."""

    chunk: Chunk
    score: float
    ranks: dict[str, int] = field(default_factory=dict)
    similarity: float = 0.0  # best dense cosine between question and chunk


@dataclass(frozen=True)
class Citation:
    """A passage the answer relies on; ``evidence`` is the sentence(s) that support it."""

    n: int
    chunk: Chunk
    evidence: str
    evidence_start: int
    evidence_end: int


@dataclass
class Answer:
    question: str
    answer: str
    refused: bool
    citations: list[Citation]
    retrieved: list[Hit]
    timings: dict[str, float]
    models: dict[str, str]
    standalone_question: str | None = None
    relevance: float = 0.0  # retrieval's relevance signal (compared with refuse_below)
    extractive: bool = False  # the answer quotes the evidence (answer style 'quote', or the model's words replaced)
    translated: bool = False  # that quoted evidence is shown machine-translated into the question's language
    language: str = ""  # the language the answer was asked for: 'en' or 'fr'
    not_found: float | None = None  # the model's P("NOT FOUND"): its answerability judgement
    refusal_reason: str = ""
    dropped: list[str] = field(default_factory=list)  # answer sentences the support check removed
    support: list[dict] = field(default_factory=list)  # per answer sentence: passage, similarity, problems
    generated: str = ""  # the model's own words, before the support check

    def to_json(self) -> dict:
        """The ``rag ask --json`` contract."""
        return {
            "question": self.question,
            "standalone_question": self.standalone_question or self.question,
            "answer": self.answer,
            "refused": self.refused,
            "citations": [
                {
                    "n": c.n,
                    "source": c.chunk.source,
                    "title": c.chunk.title,
                    "date": c.chunk.date,
                    "text": c.chunk.text,
                    "page": c.chunk.page_at(c.evidence_start),
                    "evidence": c.evidence,
                    "start": c.chunk.start,
                    "end": c.chunk.end,
                    "evidence_start": c.evidence_start,
                    "evidence_end": c.evidence_end,
                }
                for c in self.citations
            ],
            "retrieved": [
                {
                    "source": h.chunk.source,
                    "title": h.chunk.title,
                    "text": h.chunk.text,
                    "start": h.chunk.start,
                    "end": h.chunk.end,
                    "page": h.chunk.page,
                    "score": round(h.score, 6),
                }
                for h in self.retrieved
            ],
            "relevance": round(self.relevance, 4),
            "extractive": self.extractive,
            "translated": self.translated,
            "language": self.language,
            "not_found": None if self.not_found is None else round(self.not_found, 4),
            "refusal_reason": self.refusal_reason,
            "dropped": list(self.dropped),
            "support": list(self.support),
            "generated": self.generated,
            "timings": {k: round(v, 1) for k, v in self.timings.items()},
            "models": dict(self.models),
        }

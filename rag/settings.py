"""The one settings object. Loaded once at an entry point (CLI, UI, eval) and passed down.

Every field can be set by environment variable ``RAG_<FIELD>`` (e.g. ``RAG_LLM=/path/model.gguf``)
or by the CLI flags that mirror the most used ones.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .chunking import VERSION as CHUNKER_VERSION, ChunkingConfig

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RAG_", extra="forbid")

    # --- corpus and index ---
    seeds_dir: Path = Field(PROJECT_ROOT / "seeds", description="Folder of .txt articles to index.")
    index_dir: Path = Field(PROJECT_ROOT / "index" / "current", description="Where the built index lives.")
    chunk_max_chars: int = Field(1200, ge=200, le=4000, description="Longest chunk, in characters.")
    chunk_min_chars: int = Field(250, ge=0, le=2000,
                                 description="Short paragraphs of one context are packed up to this size.")
    chunk_overlap_sentences: int = Field(1, ge=0, le=5,
                                         description="Sentences repeated between split windows.")
    context_headers: bool = Field(
        False, description="Also index each chunk's title/section/speaker/question header (the header "
                           "always reaches the LLM). Off: measured better retrieval on eval/calibration.jsonl.")
    chunk_rows: bool = Field(
        False, description="Also embed each whole chunk as a dense row, besides its sentences. Off: half the "
                           "embedding cost, and no worse on eval/calibration.jsonl (hit@1 0.808 vs 0.795).")

    # --- retrieval ---
    embedders: str = Field(
        "use",
        description="Comma-separated dense encoders fused with BM25: 'use' (packaged multilingual "
                    "USE v3), 'minilm' (packaged all-MiniLM-L6-v2), or any sentence-transformers id/path.",
    )
    retrievers: str = Field("bm25,dense", description="Which rankings to fuse: 'bm25', 'dense' or both.")
    k: int = Field(5, ge=1, le=50, description="Passages retrieved; all compete for the prompt's sentences.")
    expand_terms: int = Field(
        5, ge=0, le=50, description="A question word the documents never use is also searched (lexically) by this "
        "many of the document words closest to it in the first encoder's multilingual space ('schools' -> "
        "'écoles'). 0: off. Measured on eval/calibration.jsonl: English questions' evidence passage ranked "
        "first 70 -> 78 %, French questions unchanged (scripts/term_expansion.py).")
    expand_min: float = Field(0.5, ge=-1.0, le=1.0,
                              description="Least cosine for a document word to be searched for a question word, "
                              "and for a word of a sentence in another language to count as a question's fact word "
                              "when sentences are ranked (citations.across_languages).")
    rrf_k: int = Field(5, ge=1, le=200, description="Reciprocal-rank-fusion constant.")
    vector_store: str = Field("faiss", description="Vector store backend (registry name): 'faiss' (embedded) or "
                                                    "'qdrant' (local mode in the index folder, or RAG_QDRANT_URL).")
    qdrant_url: str | None = Field(None, description="Qdrant server or cluster URL (vector_store=qdrant); "
                                                     "unset: Qdrant's embedded local mode.")
    qdrant_api_key: SecretStr | None = Field(None, description="API key of the Qdrant server (RAG_QDRANT_API_KEY).")
    ann_threshold: int = Field(20000, ge=100,
                               description="Past this many vectors FAISS uses an approximate index (IVF over 8-bit "
                                           "quantised vectors) instead of exact search.")
    embed_workers: int = Field(0, ge=0, le=16,
                               description="Processes sharing a large embedding job (indexing): 0 = one per core "
                                           "(up to 4), 1 = in-process. Small jobs always run in-process.")
    ann_nprobe: int = Field(32, ge=1, le=4096, description="Inverted lists the approximate index searches per query "
                                                            "(more: better recall, slower).")
    refuse_below: float | None = Field(
        None, ge=0.0, le=1.0, description="Relevance under which the question is refused before any generation "
                                          "(clearly off-topic). None: the model's calibrated value (rag/models.py).")

    # --- generation ---
    llm_backend: str = Field(
        "llama.cpp", description="Generator backend (registry name): 'llama.cpp' runs a GGUF in-process; 'openai' "
                                 "streams from an OpenAI-compatible server (llama.cpp server, vLLM, Ollama, hosted).")
    llm_url: str | None = Field(None, description="Base URL of the OpenAI-compatible server, e.g. "
                                                  "http://127.0.0.1:8080/v1 (llm_backend=openai).")
    llm_model: str | None = Field(None, description="Model name the server knows (llm_backend=openai); default: llm.")
    llm_api_key: SecretStr | None = Field(None, description="Bearer token for the LLM server (RAG_LLM_API_KEY).")
    llm_timeout: float = Field(120.0, gt=0, le=3600,
                               description="Seconds to wait for the LLM server to connect or send its next token.")
    llm: str = Field("balanced", description="A tier ('fast', 'balanced', 'quality'), a packaged model name "
                                             "(see models.txt) or a path to any GGUF file.")
    prompt_style: Literal["auto", "fewshot", "chat"] = Field(
        "auto", description="'chat' template or 'fewshot' completion prompt; auto reads the GGUF's "
                            "tokenizer.chat_template metadata.")
    context_chars: int | None = Field(
        None, ge=150, le=6000, description="Characters of selected sentences the model reads: the prompt-time "
                                           "budget on a CPU. None: the model's own value (rag/models.py).")
    examples: int | None = Field(
        None, ge=0, le=3, description="Solved examples in a chat model's prompt (0-3). None: the model's own "
                                      "value (rag/models.py).")
    answer_style: Literal["prose", "quote"] | None = Field(
        None, description="'prose': the model writes the answer, each sentence checked against the passage it "
                          "cites (quotes when none holds); 'quote': the sentences that answer are quoted, "
                          "machine-translated into the question's language by a chat model, without waiting for "
                          "the model to write an answer (a small model's prose is wrong more often than the "
                          "quote). None: the model's value (rag/models.py).")
    max_tokens: int = Field(72, ge=8, le=1024, description="Cap on generated tokens.")
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    seed: int = Field(0, description="Sampling seed, for repeatable answers.")
    n_ctx: int = Field(2048, ge=512, le=32768, description="LLM context window.")
    n_threads: int = Field(2, ge=1, le=64, description="CPU threads for the LLM.")
    support_min: float | None = Field(
        None, ge=0.0, le=1.0,
        description="Least multilingual-embedding cosine between an answer sentence and a sentence of the "
                    "passage it cites; an unsupported sentence is dropped (0 disables the meaning check). "
                    "None: the model's calibrated value.")
    support_coverage: float | None = Field(
        None, ge=0.0, le=1.0,
        description="An answer sentence is also supported when at least this share of its own words (those "
                    "the question does not hold) are in a sentence of the passage it cites, by stem or by "
                    "multilingual word vector (an English paraphrase of a French sentence). 0: off. None: the "
                    "model's calibrated value.")
    word_match_min: float | None = Field(
        None, ge=0.0, le=1.0,
        description="Least cosine between two words' vectors (the dense encoder's) for them to match across "
                    "languages in support_coverage ('wages' ~ 'salaires'). None: the model's value.")
    anchor_sentences: int | None = Field(
        None, ge=0, le=50,
        description="The first answer sentence shown must be supported by one of this many sentences that best "
                    "match the question (else the answer falls back to quoting them): a small model's fluent "
                    "answer built on a side sentence is wrong more often than the quote. 0: off. None: the "
                    "model's calibrated value.")
    not_found_max: float | None = Field(
        None, ge=0.0, le=1.0,
        description="Refuse when the model's probability of answering 'NOT FOUND' reaches this (chat models). "
                    "None: the model's calibrated value.")
    not_found_unsupported: float | None = Field(
        None, ge=0.0, le=1.0,
        description="Refuse, rather than quote, when no answer sentence is supported and P('NOT FOUND') "
                    "reaches this. None: the model's calibrated value.")
    followup: Literal["rules", "llm"] = Field(
        "rules", description="How a follow-up question that needs the conversation is made standalone: 'rules' "
        "(previous subject and topic appended, no model call) or 'llm' (an instruction-tuned model rewrites it, "
        "checked, rules as fallback; about 1 s more with the 0.5B model, 2 s with the 1.5B). A standalone "
        "question is never rewritten. 'rules' is the default: on eval/conversations-calibration.jsonl the "
        "model's rewrites did not find the right article more often.")
    answer_language: Literal["auto", "fr", "en"] = Field("auto", description="Answer language.")
    translate_quotes: bool = Field(
        True, description="When the answer falls back to quoting evidence written in another language than the "
                          "question's, show the quotes machine-translated by the model (chat models; each "
                          "translation checked against its original, the original kept as the evidence).")
    translation_model: str | None = Field(
        None, description="The model (tier, packaged name or GGUF path) that translates the quotes for a question in "
                          "another language than the passages, instead of the answer model; loaded on first use (a "
                          "server at warm-up). '' or 'none': the answer model. None: the model's value (rag/models.py: "
                          "the balanced tier asks the quality tier's 1.5B).")
    translation_fallback: str | None = Field(
        None, description="A larger model (tier, packaged name or GGUF path) that translates a quote again when the "
                          "answer model's translation fails its check; loaded only then. '' or 'none': no second "
                          "model. None: the model's value (rag/models.py: the balanced tier asks the quality "
                          "tier's 1.5B).")
    pick_margin: float | None = Field(
        None, ge=0.0, description="For a question in another language than the passages (word overlap says little), "
                                  "the second model (translation_fallback) picks the sentence to quote among the "
                                  "ranker's best four when the ranker's margin between its first two is below this "
                                  "(0: never). None: the model's value (rag/models.py).")
    rerank_margin: float | None = Field(
        None, ge=0.0, description="For a question in another language than the passages, the answer model reads how "
                                  "likely the question is after each of the ranker's best sentences (query "
                                  "likelihood) and the quote is chosen by the ranker's score plus rerank_weight "
                                  "times that, when the ranker's margin between its first two is below this (0: "
                                  "never). None: the model's value (rag/models.py).")
    rerank_weight: float = Field(0.5, ge=0.0, description="Weight of the question's mean log-probability per token "
                                                          "in the rerank (rerank_margin).")
    rerank_k: int = Field(3, ge=2, le=8, description="How many of the ranker's best sentences are reranked.")
    pick_refuse: float | None = Field(
        None, ge=0.0, le=1.0, description="Refuse when the second model's picking gives 'none of them answers' at "
                                          "least this probability (1: never). None: the model's value.")
    translation_min: float | None = Field(
        None, ge=0.0, le=1.0, description="Least multilingual-embedding cosine between a translated quote and its "
                                          "original; a translation below it is redone by the second model, and if "
                                          "still below, not shown (the original is). None: the translating model's "
                                          "value (rag/models.py: 0.7 for the 0.5B, whose translations drift; 0.5 "
                                          "for the 1.5B, whose good translations score 0.55-0.7).")
    max_question_chars: int = Field(1000, ge=10, le=20000, description="Longer questions are refused.")
    models_dir: Path = Field(PROJECT_ROOT / "models", description="Where packaged GGUF files are assembled.")
    verbose: bool = Field(False, description="Show native library logs (llama.cpp).")

    # --- HTTP API (`rag serve`) ---
    api_key: SecretStr | None = Field(
        None, description="Bearer token the API requires (RAG_API_KEY). Required to bind to anything but loopback.")
    server_queue: int = Field(16, ge=1, le=1024,
                              description="Requests admitted at once (one runs, the rest wait); more get 429 at once.")
    max_request_bytes: int = Field(1_000_000, ge=1_000, le=100_000_000, description="Largest JSON request body.")
    max_upload_bytes: int = Field(20_000_000, ge=1_000, le=1_000_000_000, description="Largest uploaded document.")
    max_upload_files: int = Field(20, ge=1, le=1000, description="Most documents in one upload.")

    @model_validator(mode="after")
    def _check(self):
        if self.chunk_min_chars > self.chunk_max_chars:
            raise ValueError("chunk_min_chars must not exceed chunk_max_chars")
        if not self.retriever_list:
            raise ValueError("retrievers must name at least one retriever: bm25, dense (or a registered one)")
        if self.needs_dense and not self.embedder_list:
            raise ValueError("dense retrieval needs at least one embedder")
        return self

    def tuned(self, name: str) -> float | str:
        """A per-model value (prompt budget, refusal/support threshold, answer style): as set, or
        the chosen model's (a server's model named by ``llm_model``: the generic values)."""
        from .models import tuned

        value = getattr(self, name)
        model = self.llm_model if self.llm_backend == "openai" and self.llm_model else self.llm
        return tuned(model)[name] if value is None else value

    @property
    def embedder_list(self) -> list[str]:
        return [e.strip() for e in self.embedders.split(",") if e.strip()]

    @property
    def retriever_list(self) -> list[str]:
        """The retrievers to fuse. With the Qdrant store, BM25 + dense become one 'qdrant' retriever:
        the engine runs both and fuses them."""
        names = [r.strip() for r in self.retrievers.split(",") if r.strip()]
        if self.vector_store == "qdrant" and set(names) == {"bm25", "dense"}:
            return ["qdrant"]
        return names

    @property
    def needs_dense(self) -> bool:
        return bool({"dense", "qdrant"} & set(self.retriever_list))

    @property
    def needs_bm25(self) -> bool:
        """BM25 ranks (bm25) or knows the vocabulary for the nonsense check (qdrant)."""
        return bool({"bm25", "qdrant"} & set(self.retriever_list))

    @property
    def chunking(self) -> ChunkingConfig:
        return ChunkingConfig(max_chars=self.chunk_max_chars, min_chars=self.chunk_min_chars,
                              overlap_sentences=self.chunk_overlap_sentences)

    def index_signature(self) -> dict:
        """What the index depends on, from each component's own parameters (chunker, encoders'
        packages and files, analyzer, vector index): a change here means a rebuild."""
        from .embedders import embedder_params
        from .lexical import analyzer_params

        return {
            "chunking": {**vars(self.chunking), "chunker": CHUNKER_VERSION},
            "context_headers": self.context_headers,
            "chunk_rows": self.chunk_rows,
            "embedders": [embedder_params(n) for n in self.embedder_list] if self.needs_dense else [],
            "vector_store": self.vector_store,
            "ann_threshold": self.ann_threshold,
            "analyzer": analyzer_params() if self.needs_bm25 else None,
        }

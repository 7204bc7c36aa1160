"""Gradio chat: streaming answers, linked citations, source cards, follow-up questions.

One Pipeline (one model) per process, shared by every session; the LLM's lock serialises
generation, Gradio's queue bounds concurrency and backlog. Errors become chat messages.
"""

from __future__ import annotations

import logging
import threading
from typing import Callable

from rag import collection
from rag.documents import supported_extensions
from rag.errors import RagError
from rag.pipeline import Pipeline
from rag.prompt import detect_language
from rag.settings import Settings

from .render import CSS, answer_markdown, documents_rows, history_html, retrieved_html, sources_html

log = logging.getLogger(__name__)

EXAMPLES = [
    "What did Olivier Duha propose at the assises?",
    "Combien d'appels le numéro vert des mandataires judiciaires a-t-il reçus ?",
    "What was Webhelp's revenue in 2019?",
]


class ChatHandlers:
    """The UI's behaviour, separate from its layout so it is testable without a browser."""

    def __init__(self, pipeline: Pipeline):
        self.pipeline = pipeline
        self.lock = threading.Lock()  # one collection update at a time

    def about(self) -> str:
        m = self.pipeline.index.manifest
        s = self.pipeline.settings
        return (f"Models: LLM `{s.llm}`, retrieval `{self.pipeline.models['embedder']}` · Index: "
                f"{len(m.get('articles', {}))} articles, {m.get('n_chunks')} chunks, built {m.get('built_at')}")

    def respond(self, message: str, chat: list, questions: list, k: int, show_retrieved: bool, language: str,
                cards: list | None = None):
        """Generator: yields (chat, sources, retrieved, status, questions, textbox, cards)."""
        chat = list(chat or [])
        questions = list(questions or [])
        cards = list(cards or [])
        message = (message or "").strip()
        turn = len(questions) + 1
        chat.append({"role": "user", "content": message})
        chat.append({"role": "assistant", "content": "…"})
        lang = language if language in ("fr", "en") else detect_language(message or "x")
        waiting = history_html(cards + [sources_html(None, turn)])
        yield chat, waiting, "", "", questions, "", cards
        try:
            partial, status = "", ""
            for ev in self.pipeline.stream(message, history=questions, k=int(k), language=lang):
                if ev.kind == "status":
                    status = f"Understood as: *{ev.text.split(': ', 1)[-1]}*"
                    yield chat, waiting, "", status, questions, "", cards
                elif ev.kind == "token":
                    partial += ev.text
                    chat[-1] = {"role": "assistant", "content": partial}
                    yield chat, waiting, "", status, questions, "", cards
                elif ev.kind == "answer":
                    a = ev.answer
                    questions.append(a.standalone_question or a.question)
                    chat[-1] = {"role": "assistant", "content": answer_markdown(a, turn, lang)}
                    t = a.timings
                    timing = (f"retrieval {t['retrieve_ms']:.0f} ms · first token {t['first_token_ms']:.0f} ms"
                              f" · total {t['total_ms']:.0f} ms")
                    status = f"{status} · {timing}" if status else timing
                    cards.append(sources_html(a, turn))
                    yield (chat, history_html(cards), retrieved_html(a) if show_retrieved else "",
                           status, questions, "", cards)
        except RagError as err:
            chat[-1] = {"role": "assistant", "content": f"⚠️ {err}"}
            yield chat, waiting, "", "", questions, message, cards
        except Exception as err:  # keep serving; the log has the traceback
            log.exception("unexpected error while answering")
            chat[-1] = {"role": "assistant", "content": f"⚠️ Internal error ({type(err).__name__}); see the server log."}
            yield chat, waiting, "", "", questions, message, cards

    @staticmethod
    def clear():
        return [], sources_html(None, 0), "", "", [], "", []

    # -- documents --
    def documents(self):
        """(table rows, removable names, summary) of the indexed documents."""
        docs = collection.documents(self.pipeline.index.manifest)
        return documents_rows(docs), [d.source for d in docs], self.about()

    def add_files(self, paths: list | None, progress=None):
        """Upload handler: returns (report, table, removable names, summary)."""
        from pathlib import Path

        say = progress or (lambda *a, **k: None)
        files = []
        for p in paths or []:
            path = Path(getattr(p, "name", p))
            files.append((path.name, path.read_bytes()))  # Gradio keeps the original file name
        if not files:
            rows, names, about = self.documents()
            return "Choose one or more files first.", rows, names, about
        say(0.1, desc=f"checking {len(files)} file(s)")
        lines = []
        try:
            with self.lock:
                say(0.3, desc="indexing")
                report = collection.add_documents(self.pipeline.settings, files)
                if report.added or report.replaced:
                    self.pipeline.reload_index()
        except RagError as err:
            report, lines = None, [f"⚠️ {err}"]
        if report:
            lines += [f"✅ added {n}" for n in report.added] + [f"✅ replaced {n}" for n in report.replaced]
            lines += [f"⚠️ {m}" for m in report.rejected]
        say(1.0, desc="done")
        rows, names, about = self.documents()
        return "\n\n".join(lines), rows, names, about

    def remove(self, source: str | None):
        """Remove handler: returns (report, table, removable names, summary)."""
        if not source:
            rows, names, about = self.documents()
            return "Choose a document to remove.", rows, names, about
        try:
            with self.lock:
                collection.remove_document(self.pipeline.settings, source)
                self.pipeline.reload_index()
            msg = f"🗑️ removed {source}: it will not be cited any more"
        except RagError as err:
            msg = f"⚠️ {err}"
        rows, names, about = self.documents()
        return msg, rows, names, about


def build_app(pipeline: Pipeline):
    import gradio as gr

    h = ChatHandlers(pipeline)
    with gr.Blocks(title="En-Contact articles: cited answers") as demo:
        gr.Markdown("## Ask the articles\nQuestions in French or English; every answer cites the passages it used.")
        about = gr.Markdown(h.about(), elem_id="about")
        chatbot = gr.Chatbot(height=420, elem_id="chat", feedback_options=None, buttons=["copy"])
        status = gr.Markdown(elem_id="status")
        with gr.Row():
            box = gr.Textbox(placeholder="e.g. What did Olivier Duha propose at the assises?", show_label=False,
                             scale=8, elem_id="question", max_length=pipeline.settings.max_question_chars)
            send = gr.Button("Ask", variant="primary", scale=1, elem_id="ask")
            clear = gr.Button("Clear", scale=1, elem_id="clear")
        gr.Examples(EXAMPLES, inputs=box, label="Examples")
        sources = gr.HTML(sources_html(None, 0), elem_id="sources")
        with gr.Accordion("Settings", open=False):
            k = gr.Slider(1, 10, value=pipeline.settings.k, step=1, label="Passages retrieved")
            show = gr.Checkbox(False, label="Show retrieved passages (cited or not)")
            lang = gr.Radio(["auto", "fr", "en"], value="auto", label="Answer language")
        retrieved = gr.HTML(elem_id="retrieved")
        with gr.Accordion("Documents", open=False, elem_id="documents"):
            rows, names, _ = h.documents()
            table = gr.Dataframe(rows, headers=["file", "title", "date", "chunks", "pages"], interactive=False,
                                 elem_id="doc-table", wrap=True)
            upload = gr.File(label="Add documents (.txt .md .html .pdf .docx)", file_count="multiple",
                             file_types=list(supported_extensions()), elem_id="upload")
            add = gr.Button("Add to the collection", elem_id="add-docs")
            with gr.Row():
                which = gr.Dropdown(names, label="Document to remove", elem_id="remove-choice", scale=4)
                remove = gr.Button("Remove", variant="stop", elem_id="remove-doc", scale=1)
            doc_status = gr.Markdown(elem_id="doc-status")
        questions = gr.State([])
        cards = gr.State([])
        outs = [chatbot, sources, retrieved, status, questions, box, cards]
        ins = [box, chatbot, questions, k, show, lang, cards]
        box.submit(h.respond, ins, outs, concurrency_id="answer")
        send.click(h.respond, ins, outs, concurrency_id="answer")
        clear.click(h.clear, None, outs)

        def add_files(paths, progress=gr.Progress()):
            report, rows, names, summary = h.add_files(paths, progress)
            return report, rows, gr.update(choices=names, value=None), summary, None

        def remove_doc(source):
            report, rows, names, summary = h.remove(source)
            return report, rows, gr.update(choices=names, value=None), summary

        add.click(add_files, [upload], [doc_status, table, which, about, upload], concurrency_id="documents")
        remove.click(remove_doc, [which], [doc_status, table, which, about], concurrency_id="documents")
    demo.queue(default_concurrency_limit=4, max_size=32)
    return demo


def launch(settings: Settings, *, host: str = "127.0.0.1", port: int = 7860,
           progress: Callable[[str], None] | None = None, block: bool = True):
    pipeline = Pipeline(settings, progress=progress)
    if progress:
        progress("loading models…")
    pipeline.warm_up()
    demo = build_app(pipeline)
    if progress:
        progress(f"chat at http://{host}:{port}")
    demo.launch(server_name=host, server_port=port, share=False, show_error=False, css=CSS,
                prevent_thread_lock=not block, quiet=True)
    return demo

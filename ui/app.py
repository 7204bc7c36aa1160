"""Gradio chat: streaming answers, linked citations, source cards, follow-up questions.

One Pipeline (one model) per process, shared by every session; the LLM's lock serialises
generation, Gradio's queue bounds concurrency and backlog. Errors become chat messages.
"""

from __future__ import annotations

import logging
from typing import Callable

from rag.errors import RagError
from rag.pipeline import Pipeline
from rag.prompt import detect_language
from rag.settings import Settings

from .render import CSS, answer_markdown, retrieved_html, sources_html

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

    def about(self) -> str:
        m = self.pipeline.index.manifest
        s = self.pipeline.settings
        return (f"Models: LLM `{s.llm}`, retrieval `{self.pipeline.models['embedder']}` · Index: "
                f"{len(m.get('articles', {}))} articles, {m.get('n_chunks')} chunks, built {m.get('built_at')}")

    def respond(self, message: str, chat: list, questions: list, k: int, show_retrieved: bool, language: str):
        """Generator: yields (chat, sources, retrieved, status, questions, textbox)."""
        chat = list(chat or [])
        questions = list(questions or [])
        message = (message or "").strip()
        turn = len(questions) + 1
        chat.append({"role": "user", "content": message})
        chat.append({"role": "assistant", "content": "…"})
        lang = language if language in ("fr", "en") else detect_language(message or "x")
        yield chat, sources_html(None, turn), "", "", questions, ""
        try:
            partial, status = "", ""
            for ev in self.pipeline.stream(message, history=questions, k=int(k), language=lang):
                if ev.kind == "status":
                    status = f"Understood as: *{ev.text.split(': ', 1)[-1]}*"
                    yield chat, sources_html(None, turn), "", status, questions, ""
                elif ev.kind == "token":
                    partial += ev.text
                    chat[-1] = {"role": "assistant", "content": partial}
                    yield chat, sources_html(None, turn), "", status, questions, ""
                elif ev.kind == "answer":
                    a = ev.answer
                    questions.append(a.standalone_question or a.question)
                    chat[-1] = {"role": "assistant", "content": answer_markdown(a, turn, lang)}
                    t = a.timings
                    timing = (f"retrieval {t['retrieve_ms']:.0f} ms · first token {t['first_token_ms']:.0f} ms"
                              f" · total {t['total_ms']:.0f} ms")
                    status = f"{status} · {timing}" if status else timing
                    yield (chat, sources_html(a, turn), retrieved_html(a) if show_retrieved else "",
                           status, questions, "")
        except RagError as err:
            chat[-1] = {"role": "assistant", "content": f"⚠️ {err}"}
            yield chat, sources_html(None, turn), "", "", questions, message
        except Exception as err:  # keep serving; the log has the traceback
            log.exception("unexpected error while answering")
            chat[-1] = {"role": "assistant", "content": f"⚠️ Internal error ({type(err).__name__}); see the server log."}
            yield chat, sources_html(None, turn), "", "", questions, message

    @staticmethod
    def clear():
        return [], sources_html(None, 0), "", "", [], ""


def build_app(pipeline: Pipeline):
    import gradio as gr

    h = ChatHandlers(pipeline)
    with gr.Blocks(title="En-Contact articles: cited answers") as demo:
        gr.Markdown("## Ask the articles\nQuestions in French or English; every answer cites the passages it used.")
        gr.Markdown(h.about(), elem_id="about")
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
        questions = gr.State([])
        outs = [chatbot, sources, retrieved, status, questions, box]
        ins = [box, chatbot, questions, k, show, lang]
        box.submit(h.respond, ins, outs, concurrency_id="answer")
        send.click(h.respond, ins, outs, concurrency_id="answer")
        clear.click(h.clear, None, outs)
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

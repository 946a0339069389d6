"""The Docs page: the knowledge base's files and size, uploads, and live ingest progress."""

from __future__ import annotations

import reflex as rx

from chatui.components.nav import header
from chatui.docs_state import UPLOAD_ID, DocsState, Skipped
from chatui.retrieval.ingest import SUPPORTED_SUFFIXES

SUPPORTED = ", ".join(sorted(SUPPORTED_SUFFIXES))


def knowledge_base_summary() -> rx.Component:
    return rx.el.div(
        rx.el.form(
            rx.el.label("Knowledge base", html_for="collection", class_name="field-label"),
            rx.input(
                id="collection",
                name="collection",
                default_value=DocsState.collection,
                key=DocsState.collection,
                size="2",
                data_testid="collection",
            ),
            rx.button("Open", type="submit", size="2", variant="soft"),
            on_submit=DocsState.open_collection,
            class_name="collection-form",
        ),
        rx.el.p(
            rx.el.strong(DocsState.files.length()),  # type: ignore[attr-defined]
            " files · ",
            rx.el.strong(DocsState.chunks),
            " chunks · last ingest: ",
            DocsState.last_ingest,
            data_testid="kb-summary",
        ),
    )


def uploader() -> rx.Component:
    return rx.el.section(
        rx.heading("Add documents", size="3"),
        rx.upload(
            rx.el.div(
                rx.icon("upload", size=20),
                rx.text(f"Drop documents here ({SUPPORTED}), or click to choose."),
                class_name="dropzone-inner",
            ),
            id=UPLOAD_ID,
            multiple=True,
            class_name="dropzone",
            data_testid="dropzone",
        ),
        rx.el.ul(rx.foreach(rx.selected_files(UPLOAD_ID), lambda name: rx.el.li(name)), class_name="selected"),
        rx.button(
            "Upload and index",
            on_click=DocsState.upload(rx.upload_files(upload_id=UPLOAD_ID)),  # type: ignore[call-arg]
            disabled=DocsState.ingesting,
            data_testid="upload",
        ),
        rx.cond(
            DocsState.ingesting | (DocsState.progress > 0),
            rx.el.div(
                rx.progress(value=DocsState.progress.to(int), max=100),
                rx.text(DocsState.progress.to(int), "% · ", DocsState.current_file, size="1"),
                class_name="ingest-progress",
                role="status",
                aria_live="polite",
                data_testid="ingest-progress",
            ),
        ),
        rx.cond(DocsState.outcome != "", rx.callout(DocsState.outcome, icon="check", data_testid="ingest-done")),
        rx.cond(DocsState.error != "", rx.callout(DocsState.error, icon="triangle_alert", color_scheme="red")),
        rx.foreach(DocsState.skipped, skipped_row),
        class_name="panel",
    )


def skipped_row(item: Skipped) -> rx.Component:
    return rx.text("Skipped ", rx.code(item.path), ": ", item.reason, size="2", color_scheme="amber")


def file_list() -> rx.Component:
    return rx.el.section(
        rx.heading("Files", size="3"),
        rx.cond(
            DocsState.files.length() > 0,  # type: ignore[attr-defined]
            rx.el.ul(rx.foreach(DocsState.files, lambda f: rx.el.li(rx.code(f))), class_name="files"),
            rx.text("No documents yet: upload some above, or run `chatui ingest PATH`.", color_scheme="gray"),
        ),
        class_name="panel",
        data_testid="files",
    )


def docs_page() -> rx.Component:
    return rx.el.main(
        header(),
        rx.el.div(knowledge_base_summary(), uploader(), file_list(), class_name="docs"),
        class_name="page page-scroll",
    )

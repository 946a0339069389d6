"""Source chips: what retrieval found, each expandable to the passage, each a citation target."""

from __future__ import annotations

import reflex as rx

from chatui.turns import Source


def source_chip(source: Source) -> rx.Component:
    return rx.el.details(
        rx.el.summary(
            rx.el.span("[", source.marker, "]", class_name="source-marker"),
            rx.el.span(source.heading, class_name="source-title"),
            rx.el.span(source.source, class_name="source-path"),
            title=source.title,
        ),
        rx.el.div(
            rx.el.div(source.title, class_name="source-trail"),
            rx.el.p(source.snippet, class_name="source-snippet"),
        ),
        id=source.anchor,
        class_name="source",
        data_testid="source",
    )


def sources_row(sources: rx.Var[list[Source]]) -> rx.Component:
    return rx.cond(
        sources.length() > 0,  # type: ignore[attr-defined]
        rx.el.div(rx.foreach(sources, source_chip), class_name="sources", data_testid="sources"),
    )

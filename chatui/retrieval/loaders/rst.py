"""reStructuredText: parsed by docutils into a doctree, written back out as Markdown.

What must stay true: section titles become headings by depth, literal and code blocks become
fenced code (with the `code-block` language), admonitions, lists, field lists and tables keep
their text. The parser never reads another file (`.. include::` is disabled), never passes raw
HTML through, never reads a docutils.conf, never prints, and never stops on an error: unknown
Sphinx directives are dropped, unknown Sphinx roles (`:ref:`, `:class:`) keep their text.
"""

from __future__ import annotations

import io
import re
from typing import Any

from chatui.retrieval.loaders.base import Document, decode_text, require_text
from chatui.retrieval.loaders.writer import (
    code_span,
    escape_inline,
    escape_line_starts,
    escape_markdown,
    fence,
    labelled,
    list_block,
    one_line,
    quote,
    table,
    table_cell,
)

_RST_SETTINGS = {
    "report_level": 5,  # never print parser messages; they become nodes that are dropped
    "halt_level": 5,  # never stop on an error: a partly odd file still gives its text
    "file_insertion_enabled": False,  # `.. include::` and friends: no reading other files
    "raw_enabled": False,
    "_disable_config": True,  # no docutils.conf from the working or home directory
    "doctitle_xform": False,  # keep the first title a section, so every title is a heading
    "docinfo_xform": False,
    "sectsubtitle_xform": False,
    "syntax_highlight": "none",
}
_ROLE = re.compile(r"^:((?:[\w+-]+:)*[\w+-]+):`(.*)`$", re.DOTALL)
_CODE_ROLES = frozenset(
    ("attr", "class", "code", "command", "const", "data", "envvar", "exc", "file", "func", "kbd")
    + ("meth", "mod", "obj", "option", "program", "samp")
)


def rst_to_markdown(text: str) -> str:
    """reStructuredText parsed by docutils, written back out as Markdown blocks."""
    from docutils import nodes
    from docutils.core import publish_doctree

    settings = {**_RST_SETTINGS, "warning_stream": io.StringIO()}
    doctree = publish_doctree(text, settings_overrides=settings)
    skipped = (nodes.Invisible, nodes.system_message, nodes.raw, nodes.label, nodes.transition)
    not_text = (*skipped, nodes.footnote_reference, nodes.citation_reference)  # "[1]" markers

    def blocks(node: Any, depth: int) -> list[str]:
        return [b for child in node.children for b in block(child, depth) if b.strip()]

    def block(node: Any, depth: int) -> list[str]:
        if isinstance(node, nodes.Text):
            return [escape_markdown(node.astext())]
        if isinstance(node, skipped) or "contents" in node.get("classes", ()):
            return []
        if isinstance(node, nodes.section):
            return blocks(node, depth + 1)
        if isinstance(node, nodes.title) and isinstance(node.parent, nodes.section):
            return [f"{'#' * min(max(depth, 1), 6)} {one_line(inline(node))}"]
        if isinstance(node, (nodes.literal_block, nodes.doctest_block)):
            languages = [c for c in node.get("classes", ()) if c != "code"]
            doctest = "pycon" if isinstance(node, nodes.doctest_block) else ""
            return [fence(node.astext(), (languages or [doctest])[0])]
        if isinstance(node, (nodes.bullet_list, nodes.enumerated_list)):
            items = [blocks(item, depth) for item in node.children]
            ordered = isinstance(node, nodes.enumerated_list)
            return [list_block(items, ordered, int(node.get("start", 1)))]
        if isinstance(node, (nodes.definition_list, nodes.field_list)):
            return [labelled(inline(item[0]), blocks(item[-1], depth)) for item in node.children]
        if isinstance(node, nodes.Admonition):
            label = "" if isinstance(node, nodes.admonition) else node.tagname.capitalize()
            return [quote(labelled(label, blocks(node, depth)))]
        if isinstance(node, nodes.block_quote):
            return [quote("\n\n".join(blocks(node, depth)))]
        if isinstance(node, nodes.table):
            rows = node.findall(nodes.row)
            return [table([[table_cell(inline_all(entry)) for entry in row] for row in rows])]
        if isinstance(node, nodes.image):
            return [escape_markdown(node.get("alt", ""))]
        if isinstance(node, nodes.TextElement):
            return [escape_line_starts(inline(node))]
        return blocks(node, depth) if isinstance(node, nodes.Element) else []

    def inline(node: Any) -> str:
        parts = []
        for child in node.children:
            if isinstance(child, nodes.Text):
                parts.append(escape_inline(child.astext()))
            elif isinstance(child, nodes.literal):
                parts.append(code_span(child.astext()))
            elif isinstance(child, nodes.problematic):  # a role docutils does not know (Sphinx)
                parts.append(_role_text(child.astext()))
            elif isinstance(child, nodes.image):
                parts.append(escape_inline(child.get("alt", "")))
            elif not isinstance(child, not_text):
                parts.append(inline(child) if isinstance(child, nodes.Element) else "")
        return "".join(parts)

    def inline_all(node: Any) -> str:  # a table cell: its paragraphs as one line
        return " ".join(
            inline(c) if isinstance(c, nodes.TextElement) else inline_all(c)
            for c in node.children
            if isinstance(c, nodes.Element)
        )

    return "\n\n".join(blocks(doctree, 0))


def _role_text(raw: str) -> str:
    """`:class:`~pkg.Thing`` -> `Thing` as code; `:ref:`Install <install>`` -> Install."""
    match = _ROLE.match(raw)
    if not match:
        return escape_inline(raw)
    role, content = match.group(1).rsplit(":", 1)[-1], match.group(2)
    explicit = re.match(r"^(.+?)\s*<[^<>]*>$", content, re.DOTALL)
    if explicit:
        content = explicit.group(1)
    elif content.startswith("~"):
        content = content[1:].rsplit(".", 1)[-1]
    content = content.lstrip("!")
    return code_span(content) if role in _CODE_ROLES else escape_inline(content)


def load_rst(data: bytes) -> Document:
    return Document(require_text(rst_to_markdown(decode_text(data)), "directives and comments"))

"""Write Markdown blocks from other formats' parts: escaped text, code, lists, quotes, tables.

Why this exists: the RST, HTML and PDF loaders all produce Markdown, and they must agree on how.

What must stay true: text from a source document is escaped so that it cannot turn into Markdown
syntax by accident ("1. Do this" from HTML stays a paragraph, `*args` stays literal); code is
never escaped, and a fence is always longer than any backtick run inside it.
"""

from __future__ import annotations

import re

BREAK = "\ue000"  # a <br> while inline text is assembled (whitespace is collapsed around it)
_INLINE_SPECIAL = re.compile(r"[\\`*\[\]<]|&(?=#?\w+;)|(?<![^\W_])_|_(?![^\W_])")
_ORDERED_MARKER = re.compile(r"^(\d{1,9})([.)])(?=\s|$)")
_BLOCK_MARKER = re.compile(r"^[#>+=|~-]")
_NOT_LANGUAGE = re.compile(r"[^\w+#.-]")
_STARTS_BLOCK = re.compile(r"^(?:```|~~~|- |\d+\. |> |#|\|)")


def escape_markdown(text: str) -> str:
    """Plain text as Markdown that renders as the same text: one line per non-blank line."""
    return escape_line_starts(escape_inline(text))


def code_span(text: str) -> str:
    text = " ".join(text.split())
    if not text:
        return ""
    ticks = "`" * (max(map(len, re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def fence(code: str, language: str = "") -> str:
    code = "\n".join(line.rstrip() for line in code.strip("\n").split("\n"))
    if not code.strip():
        return ""
    ticks = "`" * max(3, max(map(len, re.findall(r"`+", code)), default=0) + 1)
    language = _NOT_LANGUAGE.sub("", language)
    return f"{ticks}{language}\n{code}\n{ticks}"


def escape_inline(text: str) -> str:
    return _INLINE_SPECIAL.sub(lambda m: "\\" + m.group(0), text)


def escape_line_starts(text: str) -> str:
    """Strip each line (indentation would make code) and escape what would start a block."""
    lines = []
    for line in text.split("\n"):
        line = _ORDERED_MARKER.sub(r"\1\\\2", line.strip())
        lines.append("\\" + line if _BLOCK_MARKER.match(line) else line)
    return "\n".join(line for line in lines if line)


def one_line(text: str) -> str:
    return " ".join(text.replace(BREAK, " ").split())


def list_block(items: list[list[str]], ordered: bool, start: int) -> str:
    lines = []
    for n, item in enumerate(items, start=start):
        marker = f"{n}. " if ordered else "- "
        first, *rest = "\n\n".join(item).split("\n")
        lines.append(marker + first)
        lines += [" " * len(marker) + line if line else "" for line in rest]
    return "\n".join(lines)


def labelled(label: str, body: list[str]) -> str:
    """A definition, field or admonition: "Label: first paragraph", then the rest."""
    label = one_line(label)
    if not label:
        return "\n\n".join(body)
    if body and not _STARTS_BLOCK.match(body[0]):
        return "\n\n".join([f"{label}: {body[0]}", *body[1:]])
    return "\n\n".join([f"{label}:", *body])


def quote(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.split("\n"))


def table_cell(text: str) -> str:
    return one_line(text).replace("|", "\\|")


def table(rows: list[list[str]]) -> str:
    rows = [row for row in rows if any(row)]
    if not rows:
        return ""
    width = max(map(len, rows))
    rows = [row + [""] * (width - len(row)) for row in rows]
    lines = ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join([lines[0], "|" + " --- |" * width, *lines[1:]])

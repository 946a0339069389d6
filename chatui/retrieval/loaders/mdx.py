"""MDX: Markdown plus JSX and ES modules. Keep the Markdown and the text inside JSX elements.

What must stay true (MDX 2's rules): ESM (`import`/`export` at the start of a top-level line) runs
to the next blank line and is dropped; a line holding only JSX tags or a `{...}` expression is not
text; tags inside a line go, their text stays; code (fenced or inline) is never touched; indented
content inside a JSX element is not an indented code block (MDX has none), so it is dedented.
"""

from __future__ import annotations

import re

from chatui.retrieval.loaders.base import Document, decode_text, require_text

_TAG = r"<(/?)(?:[A-Za-z][\w.:-]*((?:\s[^<>]*?)?))?(/?)>"
_TAG_RE = re.compile(_TAG)
_TAGS_ONLY = re.compile(rf"^(?:\s*{_TAG})+\s*$")
_TAG_CONTINUES = re.compile(r"^<[A-Za-z][\w.:-]*(?:\s[^>]*)?$")  # `<Card` + attributes below
_CODE_OR_TAG = re.compile(rf"(`+)[^`]*?\1|{_TAG}")
_ESM = re.compile(r"^(?:import|export)\b")
_FENCE_OPEN = re.compile(r"^(`{3,}|~{3,})")


def mdx_to_markdown(text: str) -> str:
    """MDX minus what only React understands (see the module docstring), as Markdown."""
    out: list[str] = []
    open_fence = skipping = ""
    depth = 0  # braces still open in a skipped multi-line expression
    dedents: list[int | None] = []  # per open JSX element: the indent of its content
    for raw in text.replace("\r\n", "\n").split("\n"):
        indent = len(raw) - len(raw.lstrip(" \t"))
        if dedents and dedents[-1] is None and raw.strip() and not skipping:
            dedents[-1] = indent
        amount = next((d for d in reversed(dedents) if d is not None), 0)
        line = raw[min(indent, amount) :]
        stripped = line.strip()
        if open_fence:
            out.append(line)
            if stripped.startswith(open_fence) and not stripped.strip(open_fence[0]):
                open_fence = ""
        elif skipping == "esm":
            skipping = "" if not stripped else skipping
        elif skipping == "tag":
            if stripped.endswith(">"):
                skipping = ""
                if not stripped.endswith("/>"):
                    dedents.append(None)
        elif skipping == "expression":
            depth += stripped.count("{") - stripped.count("}")
            skipping = "" if depth <= 0 else skipping
        elif match := _FENCE_OPEN.match(stripped):
            open_fence = match.group(1)
            out.append(line)
        elif not dedents and _ESM.match(raw):
            skipping = "esm"
        elif stripped.startswith("{") and (stripped.endswith("}") or "}" not in stripped):
            depth = stripped.count("{") - stripped.count("}")
            skipping = "expression" if depth > 0 else ""
            out.append("")
        elif _TAGS_ONLY.match(stripped):
            for tag in _TAG_RE.finditer(stripped):
                if tag.group(1) and dedents:
                    dedents.pop()
                elif not tag.group(1) and not tag.group(3):
                    dedents.append(None)
            out.append("")  # the text on either side of a tag is separate blocks
        elif _TAG_CONTINUES.match(stripped):
            skipping = "tag"
        else:
            out.append(_CODE_OR_TAG.sub(lambda m: m.group(0) if m.group(1) else "", line))
    return "\n".join(out)


def load_mdx(data: bytes) -> Document:
    return Document(require_text(mdx_to_markdown(decode_text(data)), "JSX and imports"))

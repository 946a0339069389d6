"""Read one file of any supported format into a normalised document the chunker understands.

Why this exists: chatui chunks, embeds and cites Markdown. Every other format is turned into
Markdown here, once, so the structure-aware chunker (heading trails, whole code blocks) works the
same for all of them and a citation renders the same whichever format it came from.

What must stay true:

- One loader per format, `bytes -> Document`, registered in `LOADERS` by file suffix (one module
  per format, like providers/). A loader never touches the disk or the store: a pure function.
- A file that cannot be used raises `UnreadableFile` with a reason a person can act on (binary,
  not UTF-8, empty, broken or encrypted PDF). Anything else a parser raises is a bug in chatui or
  the parser; the caller reports it for that one file and carries on.
- Headings become Markdown headings (the heading trail), code stays fenced code, and only the
  document's own text is kept (see each module for what is dropped).
- The heavy parsers (docutils, BeautifulSoup, pypdf) are imported on first use of their format,
  so `chatui ask` and the app never pay for them.
"""

from __future__ import annotations

from collections.abc import Callable

from chatui.retrieval.loaders.base import Document, UnreadableFile, decode_text
from chatui.retrieval.loaders.html_page import html_to_markdown, load_html
from chatui.retrieval.loaders.mdx import load_mdx, mdx_to_markdown
from chatui.retrieval.loaders.pdf import load_pdf
from chatui.retrieval.loaders.rst import load_rst, rst_to_markdown


def load_markdown(data: bytes) -> Document:
    return Document(decode_text(data))


def load_text(data: bytes) -> Document:
    return Document(decode_text(data), markdown=False)


LOADERS: dict[str, Callable[[bytes], Document]] = {
    ".md": load_markdown,
    ".markdown": load_markdown,
    ".mdx": load_mdx,
    ".txt": load_text,
    ".rst": load_rst,
    ".html": load_html,
    ".htm": load_html,
    ".pdf": load_pdf,
}
SUPPORTED_SUFFIXES = frozenset(LOADERS)


def load_document(suffix: str, data: bytes) -> Document:
    """Load `data` as the format its file `suffix` (".md", ".PDF", ...) names."""
    return LOADERS[suffix.lower()](data)


__all__ = [
    "LOADERS",
    "SUPPORTED_SUFFIXES",
    "Document",
    "UnreadableFile",
    "decode_text",
    "html_to_markdown",
    "load_document",
    "load_html",
    "load_markdown",
    "load_mdx",
    "load_pdf",
    "load_rst",
    "load_text",
    "mdx_to_markdown",
    "rst_to_markdown",
]

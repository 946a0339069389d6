"""HTML pages: the main content as Markdown, without the site around it.

What must stay true: the content root is `<main>` (or `role="main"`, or the page's only
`<article>`, else `<body>`); scripts, styles, navigation, footers, forms and hidden elements are
dropped; h1-h6 become headings, `<pre>` fenced code (with the highlighter's language), lists,
quotes, tables and definition lists keep their text. The page's `<title>` is the document title
only when it has no `<h1>` (titles often carry the site name too). Parsing uses BeautifulSoup with
the standard library's html.parser: lenient with broken markup, no native dependency.
"""

from __future__ import annotations

import re
from typing import Any

from chatui.retrieval.loaders.base import (
    Document,
    UnreadableFile,
    decode_text,
    require_text,
)
from chatui.retrieval.loaders.writer import (
    BREAK,
    code_span,
    escape_inline,
    escape_line_starts,
    fence,
    labelled,
    list_block,
    one_line,
    quote,
    table,
    table_cell,
)

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)
_HTML_DROPPED = frozenset(
    "script style nav footer noscript template svg canvas iframe form button select textarea "
    "head math object embed dialog".split()
)
_HTML_INLINE = frozenset(
    "a abbr b bdi bdo cite code data del dfn em font i img ins kbd label mark q s samp small span "
    "strong sub sup time tt u var wbr br".split()
)
_HTML_CODE = frozenset({"code", "kbd", "samp", "tt"})
_HIDDEN_ROLES = frozenset({"navigation", "search", "contentinfo"})
_LANGUAGE = re.compile(r"(?:^|\s)(?:language|lang|highlight)-([\w+#.-]+)")


def load_html(data: bytes) -> Document:
    """UTF-8, or the charset the page declares in a `<meta>` tag (older sites use windows-1252)."""
    try:
        text = decode_text(data)
    except UnreadableFile:
        declared = _META_CHARSET.search(data[:4096])
        if declared is None or declared.group(1).lower() in (b"utf-8", b"utf8"):
            raise
        charset = declared.group(1).decode("ascii")
        try:
            text = data.decode(charset)
        except (LookupError, UnicodeDecodeError):
            raise UnreadableFile(
                f"declares charset {charset!r} but is not valid in it; re-save it as UTF-8"
            ) from None
    markdown, title = html_to_markdown(text)
    return Document(require_text(markdown, "navigation, scripts or styles"), title)


def html_to_markdown(text: str) -> tuple[str, str]:
    """(Markdown of the page's main content, its `<title>` when it has no `<h1>`, else "")."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(text, "html.parser")
    title = one_line(soup.title.get_text()) if soup.title else ""
    articles = soup.find_all("article")
    root = (
        soup.find("main")
        or soup.find(attrs={"role": "main"})
        or (articles[0] if len(articles) == 1 else None)
        or soup.body
        or soup
    )
    blocks = _html_blocks(root)
    has_h1 = any(b.startswith("# ") for b in blocks)
    return "\n\n".join(blocks), "" if has_h1 else title


def _html_blocks(node: Any) -> list[str]:
    from bs4.element import NavigableString, PreformattedString, Tag

    blocks: list[str] = []
    inline: list[str] = []

    def flush() -> None:
        paragraph = escape_line_starts("\n".join(map(one_line, "".join(inline).split(BREAK))))
        inline.clear()
        blocks.append(paragraph)

    for child in node.children:
        if isinstance(child, NavigableString):
            if not isinstance(child, PreformattedString):  # comments, doctype, CDATA
                inline.append(escape_inline(str(child)))
            continue
        if not isinstance(child, Tag) or _html_skipped(child):
            continue
        name = child.name
        if name in _HTML_INLINE:
            inline.append(_html_inline(child))
            continue
        flush()
        if name in ("h1", "h2", "h3", "h4", "h5", "h6"):
            heading = one_line(_html_inline(child))
            blocks.append(f"{'#' * int(name[1])} {heading}" if heading else "")
        elif name == "pre":
            blocks.append(fence(child.get_text(), _html_language(child)))
        elif name in ("ul", "ol", "menu"):
            items = [_html_blocks(li) for li in child.find_all("li", recursive=False)]
            start = str(child.get("start", "1"))
            first = int(start) if start.isdigit() else 1
            blocks.append(list_block(items, name == "ol", first))
        elif name == "blockquote":
            blocks.append(quote("\n\n".join(_html_blocks(child))))
        elif name == "table":
            cells = [tr.find_all(("th", "td"), recursive=False) for tr in child.find_all("tr")]
            rows = [[table_cell(_html_inline(cell)) for cell in row] for row in cells]
            blocks.append(table(rows))
        elif name == "dl":
            blocks += _html_definitions(child)
        elif name != "hr":
            blocks += _html_blocks(child)
    flush()
    return [b for b in blocks if b.strip()]


def _html_definitions(dl: Any) -> list[str]:
    """`<dt>term</dt><dd>meaning</dd>` as "term: meaning" (pairs may sit in a `<div>`)."""
    out: list[str] = []
    term: str | None = None
    body: list[str] = []
    for child in dl.find_all(True, recursive=False):
        for tag in [child] if child.name in ("dt", "dd") else child.find_all(("dt", "dd")):
            if tag.name == "dd":
                body += _html_blocks(tag)
                continue
            if term is not None or body:
                out.append(labelled(term or "", body))
            term, body = _html_inline(tag), []
    if term is not None or body:
        out.append(labelled(term or "", body))
    return out


def _html_inline(tag: Any) -> str:
    from bs4.element import NavigableString, PreformattedString, Tag

    if tag.name in _HTML_CODE:
        return code_span(tag.get_text())
    if tag.name == "br":
        return BREAK
    if tag.name == "img":
        return escape_inline(str(tag.get("alt", "")))
    parts = []
    for child in tag.children:
        if isinstance(child, NavigableString) and not isinstance(child, PreformattedString):
            parts.append(escape_inline(str(child)))
        elif isinstance(child, Tag) and not _html_skipped(child):
            text = _html_inline(child)
            parts.append(text if child.name in _HTML_INLINE else f" {text} ")
    return "".join(parts)


def _html_skipped(tag: Any) -> bool:
    return (
        tag.name in _HTML_DROPPED
        or tag.has_attr("hidden")
        or tag.get("aria-hidden") == "true"
        or tag.get("role") in _HIDDEN_ROLES
        or "headerlink" in (tag.get("class") or ())  # Sphinx's "¶" permalink
    )


def _html_language(pre: Any) -> str:
    """Highlighters say it as `language-x` (highlight.js, Prism), `highlight-x` (Sphinx)..."""
    for tag in (pre, pre.find("code"), pre.parent, pre.parent and pre.parent.parent):
        classes = " ".join(tag.get("class") or ()) if tag is not None else ""
        match = _LANGUAGE.search(classes)
        if match and match.group(1) not in ("default", "none"):
            return match.group(1)
    return ""

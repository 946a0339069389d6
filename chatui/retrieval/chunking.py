"""Cut documents into chunks: the unit chatui embeds, retrieves and cites.

Why this exists: an answer is only as good as the passages it is given, so a chunk should be one
coherent piece of a document, labelled with where it sits. Markdown is cut along markdown-it-py's
top-level blocks (their `token.map` line ranges), never in the middle of a line.

What must stay true:

- A chunk's `text` is the document's own markdown: whole blocks joined by one blank line, or a
  line-split piece of one oversized block, so a citation can be rendered and quoted as written.
- `title` is the heading trail above the chunk ("Install > With pip"); with no heading above, the
  document title. The trail is kept out of `text` and added back by `embedding_text`, the one
  place that decides what the embedder sees (trail + text), so a question about "installing with
  pip" finds the chunk under that heading even when its body never says so.
- A heading starts a new chunk (unless the current chunk holds only headings so far). Blocks are
  packed up to `max_chars`; a fenced code block that fits in `max_chars` is never split; a block
  longer than `max_chars` is split on line boundaries, and a split code fence is closed and
  reopened in every piece so each piece still renders as code.
- `overlap` (0 by default) repeats the end of a chunk at the start of the next one cut from the
  same section: whole trailing blocks (never a heading) for packed chunks, whole trailing lines for
  the pieces of a split block. It never pushes a chunk past `max_chars` (the overlap is dropped
  instead) and never crosses a heading, so each chunk still belongs to exactly one section.
- `title`, when given (a loader that knows the document's title: HTML `<title>`, PDF metadata),
  wins over front matter, the first H1 and the file name.
- `id` is a hash of (source, position, text): stable across runs, different when any part moves.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath

from markdown_it import MarkdownIt
from markdown_it.token import Token

TRAIL_SEPARATOR = " > "

_md = MarkdownIt("commonmark").enable("table")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?\r?\n)---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_FRONT_MATTER_TITLE = re.compile(r"^title:[ \t]*(.+?)[ \t]*$", re.MULTILINE)
_BLANK_LINES = re.compile(r"\n[ \t]*\n")


@dataclass(frozen=True, slots=True)
class Chunk:
    """One piece of one document. `position` counts chunks from 0 within the document."""

    id: str
    source: str
    title: str
    text: str
    position: int
    doc_title: str

    @property
    def embedding_text(self) -> str:
        """What the embedder sees: the heading trail (document title first), then the text."""
        trail = self.title
        if self.doc_title and not trail.startswith(self.doc_title):
            trail = f"{self.doc_title}{TRAIL_SEPARATOR}{trail}" if trail else self.doc_title
        return f"{trail}\n{self.text}" if trail else self.text


def chunk_id(source: str, position: int, text: str) -> str:
    digest = hashlib.blake2b(f"{source}\0{position}\0{text}".encode(), digest_size=16)
    return digest.hexdigest()


def chunk_markdown(
    text: str, source: str, max_chars: int = 1000, *, overlap: int = 0, title: str = ""
) -> list[Chunk]:
    """Chunks of a markdown document, in document order. See the module docstring for the rules."""
    _check_sizes(max_chars, overlap)
    text = _normalise_newlines(text)
    body, front_title = _split_front_matter(text)
    lines = body.split("\n")
    tokens = _md.parse(body)
    doc_title = title or front_title or _first_h1(tokens) or _stem_of(source)

    pieces: list[tuple[str, str]] = []  # (title, text), before ids are assigned
    trail: list[tuple[int, str]] = []  # (heading level, heading text)
    current: list[str] = []
    current_title = doc_title
    only_headings = True
    headings = 0  # how many of `current`'s blocks are headings (they always come first)
    carry: list[str] = []  # the overlap owed to the next chunk of this section

    def flush() -> None:
        nonlocal current, only_headings, headings, carry
        if current:
            pieces.append((current_title, "\n\n".join(current)))
        carry = _tail(current[headings:], overlap)
        current, only_headings, headings = [], True, 0

    def add(block: str) -> None:
        nonlocal current, only_headings, carry
        if not current and carry and len("\n\n".join([*carry, block])) <= max_chars:
            current = list(carry)
        current.append(block)
        only_headings, carry = False, []

    for i, token in enumerate(tokens):
        if token.level != 0 or token.map is None or token.nesting == -1:
            continue
        start, end = token.map
        block = "\n".join(lines[start:end]).strip("\n")
        if not block.strip():
            continue
        if token.type == "heading_open":
            level = int(token.tag[1])
            if not only_headings:
                flush()
            carry = []  # a new section owes nothing to the previous one
            headings += 1
            while trail and trail[-1][0] >= level:
                trail.pop()
            trail.append((level, _inline_text(tokens[i + 1])))
            current_title = TRAIL_SEPARATOR.join(t for _, t in trail if t) or doc_title
            current.append(block)
            continue
        size = len("\n\n".join([*current, block]))
        if size <= max_chars:
            add(block)
            continue
        # It does not fit. Headings alone are not worth a chunk: drop them (the title keeps them).
        if only_headings:
            current, headings = [], 0
        else:
            flush()
        if len(block) <= max_chars:
            add(block)
            continue
        for part in _split_block(block, token, max_chars, overlap):
            pieces.append((current_title, part))
        carry = []
    flush()
    return _assign_ids(pieces, source, doc_title)


def chunk_text(
    text: str, source: str, max_chars: int = 1000, *, overlap: int = 0, title: str = ""
) -> list[Chunk]:
    """Chunks of a plain-text document: blank-line paragraphs packed up to `max_chars`."""
    _check_sizes(max_chars, overlap)
    text = _normalise_newlines(text)
    doc_title = title or _stem_of(source)
    pieces: list[tuple[str, str]] = []
    current: list[str] = []
    for para in _BLANK_LINES.split(text):
        para = para.strip("\n")
        if not para.strip():
            continue
        if len("\n\n".join([*current, para])) <= max_chars:
            current.append(para)
            continue
        carry = _tail(current, overlap)
        if current:
            pieces.append((doc_title, "\n\n".join(current)))
            current = []
        if len(para) <= max_chars:
            fits = len("\n\n".join([*carry, para])) <= max_chars
            current = [*carry, para] if fits else [para]
        else:
            pieces.extend((doc_title, part) for part in split_lines(para, max_chars, overlap))
    if current:
        pieces.append((doc_title, "\n\n".join(current)))
    return _assign_ids(pieces, source, doc_title)


def split_lines(text: str, max_chars: int, overlap: int = 0) -> list[str]:
    """Pack whole lines into pieces of at most `max_chars`; only a single overlong line is cut.

    With `overlap`, each piece starts with the last whole lines (at most `overlap` characters) of
    the piece before, when they fit; every piece still brings at least one new line.
    """
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for line in _hard_wrap(text.split("\n"), max_chars):
        added = len(line) + (1 if current else 0)
        if current and size + added > max_chars:
            pieces.append("\n".join(current))
            carry = _tail(current, overlap, "\n")
            size = len("\n".join(carry))
            if carry and size + 1 + len(line) <= max_chars:
                current, added = carry, len(line) + 1
            else:
                current, size, added = [], 0, len(line)
        current.append(line)
        size += added
    if current:
        pieces.append("\n".join(current))
    return [p for p in pieces if p.strip()]


def _split_block(block: str, token: Token, max_chars: int, overlap: int) -> list[str]:
    if token.type != "fence":
        return split_lines(block, max_chars, overlap)
    lines = block.split("\n")
    opening = lines[0]
    fence_chars = token.markup
    closed = len(lines) > 1 and lines[-1].strip().startswith(fence_chars)
    body = "\n".join(lines[1:-1] if closed else lines[1:])
    closing = lines[-1] if closed else fence_chars
    budget = max(max_chars - len(opening) - len(closing) - 2, 1)
    parts = split_lines(body, budget, min(overlap, budget // 2))
    return [f"{opening}\n{part}\n{closing}" for part in parts]


def _tail(items: list[str], overlap: int, joiner: str = "\n\n") -> list[str]:
    """The last whole `items` whose joined length is at most `overlap` (none when it is 0)."""
    taken: list[str] = []
    size = -len(joiner)
    for item in reversed(items):
        size += len(joiner) + len(item)
        if size > overlap:
            break
        taken.append(item)
    return taken[::-1]


def _hard_wrap(lines: list[str], max_chars: int) -> Iterator[str]:
    for line in lines:
        while len(line) > max_chars:
            yield line[:max_chars]
            line = line[max_chars:]
        yield line


def _assign_ids(pieces: list[tuple[str, str]], source: str, doc_title: str) -> list[Chunk]:
    return [
        Chunk(chunk_id(source, n, text), source, title, text, n, doc_title)
        for n, (title, text) in enumerate(pieces)
    ]


def _inline_text(inline: Token) -> str:
    """A heading's words without markup: "Use `pip` **now**" -> "Use pip now"."""
    parts = [c.content for c in inline.children or () if c.type in ("text", "code_inline")]
    return " ".join("".join(parts).split()) or inline.content.strip()


def _first_h1(tokens: list[Token]) -> str:
    for i, token in enumerate(tokens):
        if token.type == "heading_open" and token.tag == "h1" and token.level == 0:
            return _inline_text(tokens[i + 1])
    return ""


def _split_front_matter(text: str) -> tuple[str, str]:
    """Drop leading YAML front matter (it would parse as a setext heading); keep its title."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return text, ""
    title = _FRONT_MATTER_TITLE.search(match.group(1))
    body = "\n" * match.group(0).count("\n") + text[match.end() :]
    return body, title.group(1).strip("'\"") if title else ""


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _stem_of(source: str) -> str:
    return PurePosixPath(source).stem


def _check_sizes(max_chars: int, overlap: int) -> None:
    if max_chars < 50:
        raise ValueError(f"max_chars must be at least 50 to hold a sentence, got {max_chars}")
    if not 0 <= overlap <= max_chars // 2:
        raise ValueError(
            f"overlap must be between 0 and half of max_chars ({max_chars // 2}), got {overlap}"
        )

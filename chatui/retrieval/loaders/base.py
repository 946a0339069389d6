"""What every loader returns or raises, and the one way text files are decoded.

What must stay true: `UnreadableFile.reason` completes the sentence "<path> ..." for the person
who has to fix the file; text is UTF-8, with or without a byte-order mark, nothing else is guessed
(a wrong guess indexes mojibake silently; a clear reason gets the file fixed).
"""

from __future__ import annotations

from dataclasses import dataclass


class UnreadableFile(Exception):
    """This file cannot be indexed; `reason` says why and what to do."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Document:
    """A file's content for the chunker: Markdown (or plain text) and, if known, its title.

    `title` "" lets the chunker choose (front matter, first H1, file name).
    """

    text: str
    title: str = ""
    markdown: bool = True


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without a byte-order mark), or `UnreadableFile` saying what to do."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UnreadableFile("is UTF-16; re-save it as UTF-8, e.g. `iconv -f utf-16 -t utf-8`")
    if b"\0" in data[:8192]:
        raise UnreadableFile("looks binary (contains NUL bytes); only UTF-8 text files are read")
    try:
        text = data.decode("utf-8-sig")  # utf-8-sig is UTF-8 that also drops a leading BOM
    except UnicodeDecodeError as exc:
        raise UnreadableFile(
            f"is not valid UTF-8 (byte {exc.start}); re-save it as UTF-8, "
            "e.g. `iconv -f latin1 -t utf-8`"
        ) from None
    if not text.strip():
        raise UnreadableFile("is empty")
    return text


def require_text(markdown: str, dropped: str) -> str:
    """`markdown`, unless converting dropped everything (`dropped` says what there was)."""
    if not markdown.strip():
        raise UnreadableFile(f"has no text to index (only {dropped})")
    return markdown

"""Chunking: heading trails, whole code fences, size limits, overlap, stable ids."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatui.retrieval.chunking import Chunk, chunk_id, chunk_markdown, chunk_text
from chatui.retrieval.loaders import load_document
from tests.retrieval.conftest import CORPUS, FORMATS

GUIDE = """\
# Guide

Intro paragraph.

## Install

### With pip

Run pip.

```bash
pip install quillmate
```

### From source

Clone it.

## Configure

Edit the file.
"""


def _fence(lines: int, width: int = 20) -> str:
    body = "\n".join(f"line {i:03d} ".ljust(width, "x") for i in range(lines))
    return f"```python\n{body}\n```"


def test_chunk_markdown_starts_a_chunk_at_each_heading_and_keeps_the_trail():
    chunks = chunk_markdown(GUIDE, "docs/guide.md")
    assert [c.title for c in chunks] == [
        "Guide",
        "Guide > Install > With pip",
        "Guide > Install > From source",
        "Guide > Configure",
    ]
    assert chunks[1].text.startswith("## Install\n\n### With pip\n\nRun pip.")
    assert [c.position for c in chunks] == [0, 1, 2, 3]
    assert {c.doc_title for c in chunks} == {"Guide"}


def test_chunk_markdown_embedding_text_leads_with_the_trail():
    chunk = chunk_markdown(GUIDE, "docs/guide.md")[3]
    assert chunk.embedding_text == "Guide > Configure\n## Configure\n\nEdit the file."


def test_chunk_markdown_uses_front_matter_title_and_does_not_index_front_matter():
    text = "---\ntitle: Quillmate Guide\nauthor: someone\n---\n## Setup\n\nDo it.\n"
    (chunk,) = chunk_markdown(text, "docs/setup.md")
    assert chunk.doc_title == "Quillmate Guide"
    assert chunk.title == "Setup"
    assert "author" not in chunk.text
    assert chunk.embedding_text.startswith("Quillmate Guide > Setup\n")


def test_chunk_markdown_without_headings_is_titled_by_file_name():
    (chunk,) = chunk_markdown("Just a paragraph.", "notes/quick-start.md")
    assert (chunk.title, chunk.doc_title) == ("quick-start", "quick-start")


@pytest.mark.parametrize("padding", range(0, 400, 37))
def test_chunk_markdown_never_splits_a_fenced_code_block_that_fits(padding: int):
    fence = _fence(10)  # about 230 characters
    text = "# Code\n\n" + "word " * padding + "\n\n" + fence + "\n\nAfter the code.\n"
    chunks = chunk_markdown(text, "code.md", max_chars=300)
    holding = [c for c in chunks if "line 000" in c.text or "line 009" in c.text]
    assert len(holding) == 1
    assert fence in holding[0].text
    assert all(len(c.text) <= 300 for c in chunks)


def test_chunk_markdown_splits_an_oversized_fence_on_lines_and_reopens_it():
    fence = _fence(60)
    chunks = chunk_markdown(f"# Code\n\n{fence}\n", "code.md", max_chars=300)
    assert len(chunks) > 1
    body_lines = []
    for chunk in chunks:
        assert len(chunk.text) <= 300
        lines = chunk.text.split("\n")
        assert lines[0] == "```python" and lines[-1] == "```"
        body_lines += lines[1:-1]
        assert chunk.title == "Code"
    assert "\n".join(body_lines) == fence.split("\n", 1)[1].rsplit("\n", 1)[0]


def test_chunk_markdown_splits_an_oversized_paragraph_on_line_boundaries():
    lines = [f"Sentence number {i} of a very long paragraph." for i in range(40)]
    chunks = chunk_markdown("\n".join(lines), "long.md", max_chars=200)
    assert len(chunks) > 1
    assert all(len(c.text) <= 200 for c in chunks)
    assert [line for c in chunks for line in c.text.split("\n")] == lines


def test_chunk_markdown_cuts_a_single_overlong_line():
    chunks = chunk_markdown("x" * 450, "blob.md", max_chars=200)
    assert [len(c.text) for c in chunks] == [200, 200, 50]


def test_chunk_markdown_packs_paragraphs_up_to_max_chars():
    paragraphs = [f"Paragraph {i} " + "text " * 20 for i in range(10)]  # about 113 characters each
    chunks = chunk_markdown("\n\n".join(paragraphs), "p.md", max_chars=400)
    assert [c.text.count("Paragraph") for c in chunks] == [3, 3, 3, 1]


@pytest.mark.parametrize("max_chars", [200, 500, 1200])
@pytest.mark.parametrize("name", ["install.md", "configuration.md", "troubleshooting.md"])
def test_chunk_markdown_keeps_every_body_line_of_the_corpus_within_limits(
    name: str, max_chars: int
):
    text = (CORPUS / name).read_text()
    chunks = chunk_markdown(text, name, max_chars=max_chars)
    assert all(0 < len(c.text) <= max_chars for c in chunks)
    chunked = {line for c in chunks for line in c.text.split("\n")}
    front_matter_end = text.index("\n---\n", 4) + 5 if text.startswith("---") else 0
    for line in text[front_matter_end:].split("\n"):
        if line.strip() and not line.startswith("#"):
            assert line in chunked


def test_chunk_ids_are_stable_and_depend_on_source_position_and_text():
    first = chunk_markdown(GUIDE, "docs/guide.md")
    again = chunk_markdown(GUIDE, "docs/guide.md")
    assert [c.id for c in first] == [c.id for c in again]
    assert len({c.id for c in first}) == len(first)
    moved = chunk_markdown(GUIDE, "other/guide.md")
    assert not {c.id for c in first} & {c.id for c in moved}
    assert first[0].id == chunk_id("docs/guide.md", 0, first[0].text)
    assert chunk_id("s", 0, "a") != chunk_id("s", 1, "a") != chunk_id("s", 0, "b")


def test_chunk_text_packs_blank_line_paragraphs():
    text = "First paragraph\nstill first.\n\n\n  \nSecond paragraph.\r\n\r\nThird."
    (chunk,) = chunk_text(text, "notes/release.txt")
    assert chunk.text == "First paragraph\nstill first.\n\nSecond paragraph.\n\nThird."
    assert chunk.title == "release"
    several = chunk_text(text, "notes/release.txt", max_chars=50)
    assert [c.text for c in several] == [
        "First paragraph\nstill first.\n\nSecond paragraph.",
        "Third.",
    ]


def test_chunkers_return_nothing_for_blank_documents():
    assert chunk_markdown(" \n\n\t\n", "a.md") == []
    assert chunk_text("\n\n", "a.txt") == []


def test_chunk_is_frozen():
    chunk = chunk_text("x", "a.txt")[0]
    assert isinstance(chunk, Chunk)
    with pytest.raises(AttributeError):
        chunk.text = "y"  # type: ignore[misc]


# -- overlap, explicit titles and the other formats ------------------------------------------

SECTION = "# Topic\n\n" + "\n\n".join(f"Paragraph {i} " + "text " * 14 for i in range(8))


def test_chunk_markdown_overlap_repeats_the_last_paragraph_of_the_section():
    plain = chunk_markdown(SECTION, "s.md", max_chars=300)
    overlapped = chunk_markdown(SECTION, "s.md", max_chars=300, overlap=100)
    assert len(overlapped) > len(plain) > 1
    for before, after in zip(overlapped, overlapped[1:]):
        last_paragraph = before.text.rsplit("\n\n", 1)[-1]
        assert after.text.startswith(last_paragraph + "\n\n")
    assert all(len(c.text) <= 300 for c in overlapped)
    assert {c.title for c in overlapped} == {"Topic"}


def test_chunk_markdown_overlap_never_crosses_a_heading_or_repeats_one():
    text = SECTION + "\n\n## Next\n\nFresh start."
    chunks = chunk_markdown(text, "s.md", max_chars=300, overlap=150)
    assert chunks[-1].text == "## Next\n\nFresh start."
    assert sum(c.text.count("# Topic") for c in chunks) == 1


def test_chunk_markdown_overlap_is_dropped_rather_than_exceed_max_chars():
    paragraphs = ["a " * 40, "b " * 40, "c " * 130]  # 80, 80, 260 characters
    chunks = chunk_markdown("\n\n".join(p.strip() for p in paragraphs), "s.md", 300, overlap=100)
    assert [c.text[0] for c in chunks] == ["a", "c"]  # "b..." + "c..." would not fit in 300


def test_split_lines_overlap_starts_each_piece_with_the_previous_pieces_last_lines():
    lines = [f"line {i:02d} of the long paragraph" for i in range(30)]  # 29 characters each
    chunks = chunk_markdown("\n".join(lines), "long.md", max_chars=200, overlap=60)
    pieces = [c.text.split("\n") for c in chunks]
    for before, after in zip(pieces, pieces[1:]):
        assert after[:2] == before[-2:]  # two 29-character lines fit in 60
    assert all(len(c.text) <= 200 for c in chunks)
    assert sorted({line for piece in pieces for line in piece}) == lines


def test_chunk_markdown_overlap_in_a_split_code_fence_keeps_every_piece_a_fence():
    chunks = chunk_markdown(f"# Code\n\n{_fence(60)}\n", "code.md", max_chars=300, overlap=100)
    for before, after in zip(chunks, chunks[1:]):
        assert after.text.startswith("```python\n") and after.text.endswith("\n```")
        assert after.text.split("\n")[1] in before.text


def test_chunk_text_overlap_repeats_whole_paragraphs():
    text = "\n\n".join(f"Paragraph {i}: " + "words " * 10 for i in range(6))
    chunks = chunk_text(text, "notes.txt", max_chars=200, overlap=80)
    for before, after in zip(chunks, chunks[1:]):
        assert after.text.startswith(before.text.rsplit("\n\n", 1)[-1])


@pytest.mark.parametrize("overlap", [-1, 101])
def test_chunkers_reject_an_overlap_over_half_the_size(overlap: int):
    with pytest.raises(ValueError, match="overlap must be between 0 and half"):
        chunk_markdown("text", "a.md", max_chars=200, overlap=overlap)
    with pytest.raises(ValueError, match="overlap"):
        chunk_text("text", "a.txt", max_chars=200, overlap=overlap)


def test_chunkers_use_a_given_title_over_front_matter_h1_and_file_name():
    text = "---\ntitle: Front\n---\n# Heading\n\nBody."
    (chunk,) = chunk_markdown(text, "file.md", title="Given")
    assert (chunk.doc_title, chunk.title) == ("Given", "Heading")
    assert chunk_text("Body.", "file.txt", title="Given")[0].title == "Given"


@pytest.mark.parametrize(
    ("name", "titles", "code"),
    [
        (
            "sync-guide.rst",
            ["Quillmate sync guide", "Quillmate sync guide > Setting up sync"],
            "```bash\nquillmate sync --watch --interval 30\n```",
        ),
        (
            "sharing.html",
            ["Sharing notebooks", "Sharing notebooks > Invite by email"],
            "```bash\nquillmate share notebooks/roadmap --with ana@example.com --role editor\n"
            "quillmate share --list\n```",
        ),
        (
            "shortcuts.mdx",
            ["Keyboard shortcuts", "Keyboard shortcuts > Custom shortcuts"],
            "```bash\nquillmate keys --list\n```",
        ),
    ],
)
def test_loaded_formats_chunk_with_heading_trails_and_whole_code_blocks(
    name: str, titles: list[str], code: str
):
    document = load_document(Path(name).suffix, (FORMATS / name).read_bytes())
    chunks = chunk_markdown(document.text, f"formats/{name}", max_chars=200, title=document.title)
    assert [t for t in titles if t in {c.title for c in chunks}] == titles
    assert any(code in c.text for c in chunks)
    assert {c.doc_title for c in chunks} == {titles[0]}

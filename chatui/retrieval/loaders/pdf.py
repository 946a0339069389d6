"""PDF: the text of each page, page by page, with pypdf (pure Python, no system libraries).

What must stay true: each page with text becomes a `## Page N` section, so a chunk never spans two
pages and its heading trail says which page it cites. Headings inside a page are unknown (a PDF
keeps no structure chatui can rely on). The title is the PDF's metadata title, else its first line
of text. A damaged, encrypted or text-less (scanned) PDF raises `UnreadableFile` with what to do;
one damaged page is skipped and the rest of the document kept.
"""

from __future__ import annotations

import io
import logging

from chatui.retrieval.loaders.base import Document, UnreadableFile
from chatui.retrieval.loaders.writer import escape_markdown


def load_pdf(data: bytes) -> Document:
    from pypdf import PdfReader

    # pypdf logs every repaired cross-reference table at WARNING; on a terminal that would tear
    # the progress bar, and the outcome (indexed, or skipped with a reason) is what users need.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    if b"%PDF-" not in data[:1024]:
        raise UnreadableFile("is not a PDF (no %PDF- header); check the file")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise UnreadableFile("is password-protected; save an unprotected copy to index it")
        pages = list(reader.pages)
        title = str((reader.metadata or {}).get("/Title") or "").strip()
    except UnreadableFile:
        raise
    except Exception as exc:  # pypdf raises many types for damaged files; all mean "broken"
        raise UnreadableFile(
            f"is not a readable PDF ({type(exc).__name__}: {exc}); open and re-save (or "
            "re-export) it, or repair it with e.g. `qpdf in.pdf out.pdf`"
        ) from None
    blocks: list[str] = []
    first_line = ""
    for number, page in enumerate(pages, start=1):
        try:
            text = page.extract_text() or ""
        except Exception:  # one damaged page should not cost the rest of the document
            continue
        lines = [line.strip() for line in text.replace("\0", "").splitlines() if line.strip()]
        if lines:
            first_line = first_line or lines[0]
            blocks += [f"## Page {number}", escape_markdown("\n".join(lines))]
    if not blocks:
        raise UnreadableFile(
            "has no extractable text (scanned pages?); run OCR on it first, e.g. "
            "`ocrmypdf in.pdf out.pdf`"
        )
    return Document("\n\n".join(blocks), title or first_line[:120])

"""Loaders: each format read from real sample files into Markdown the chunker understands."""

from __future__ import annotations

import html
import re

import pytest
from markdown_it import MarkdownIt

from chatui.retrieval.loaders import (
    LOADERS,
    SUPPORTED_SUFFIXES,
    Document,
    UnreadableFile,
    load_document,
    mdx_to_markdown,
)
from chatui.retrieval.loaders.writer import code_span, escape_markdown, fence
from tests.retrieval.conftest import FORMATS
from tests.retrieval.pdfs import make_pdf


def _load(name: str) -> Document:
    path = FORMATS / name
    return load_document(path.suffix, path.read_bytes())


def _headings(markdown: str) -> list[str]:
    return re.findall(r"^#{1,6} .*$", markdown, re.MULTILINE)


def test_loaders_cover_every_supported_suffix():
    assert SUPPORTED_SUFFIXES == set(".md .markdown .mdx .txt .rst .html .htm .pdf".split())
    assert set(LOADERS) == SUPPORTED_SUFFIXES
    assert load_document(".MD", b"# Upper case suffix").text == "# Upper case suffix"


def test_load_rst_turns_sections_into_headings_and_literal_blocks_into_fences():
    doc = _load("sync-guide.rst")
    assert doc.markdown and doc.title == ""  # the chunker takes the first H1
    assert _headings(doc.text) == [
        "# Quillmate sync guide",
        "## Setting up sync",
        "### Conflict resolution",
        "## Offline mode",
    ]
    assert "```bash\nquillmate sync --watch --interval 30\n```" in doc.text
    assert "```\nnotes/\n  plan.md\n  plan (conflict 2024-05-01).md\n```" in doc.text
    assert "> Note: Conflicts are never merged automatically" in doc.text
    nested = "- Copy what you need into the main note.\n\n  - Then delete the conflict copy."
    assert nested in doc.text
    assert "| offline | Never contact the server |" in doc.text


def test_load_rst_keeps_sphinx_role_text_and_drops_comments_directives_and_includes():
    doc = _load("sync-guide.rst")
    assert "covers the\n`quillmate sync` command and the offline mode setting" in doc.text
    assert "see `SyncConfig`" in doc.text  # :class:`~quillmate.config.SyncConfig`
    for dropped in ("A comment", "passwd", "include", "toctree", "advanced", ":ref:", "root:"):
        assert dropped not in doc.text


def test_load_html_keeps_main_content_headings_code_lists_and_tables():
    doc = _load("sharing.html")
    assert doc.title == ""  # it has an <h1>
    assert _headings(doc.text) == [
        "# Sharing notebooks",
        "## Invite by email",
        "### Roles",
        "## Revoke access",
    ]
    assert "```bash\nquillmate share notebooks/roadmap --with ana@example.com" in doc.text
    assert '```python\nfrom quillmate import Client\nClient().revoke("roadmap"' in doc.text
    assert "1. Invites expire after 7 days.\n2. Editors can invite others." in doc.text
    assert "| reader | Read notes |" in doc.text
    assert "Run the `quillmate share` command:" in doc.text
    assert "Share a notebook with your team from the Share menu. Everyone you" in doc.text


def test_load_html_drops_scripts_styles_navigation_footer_hidden_and_permalinks():
    text = _load("sharing.html").text
    for dropped in ("tracking", "font-family", "Install menu link", "footer", "Hidden", "¶"):
        assert dropped not in text


def test_load_html_escapes_text_that_would_read_as_markdown():
    text = _load("sharing.html").text
    assert "1\\. This paragraph starts with a number" in text
    assert "\\*stars\\* stay literal" in text
    rendered = MarkdownIt("commonmark").render(text)
    assert "<p>1. This paragraph starts with a number but is not a list; *stars*" in rendered


def test_load_html_without_h1_is_titled_by_its_title_element_and_body_is_the_root():
    page = b"<title>Release notes</title><body><nav>skip</nav><h2>v2</h2><p>Faster sync.</p>"
    assert load_document(".htm", page) == Document("## v2\n\nFaster sync.", "Release notes")


def test_load_html_uses_a_declared_legacy_charset():
    page = '<meta charset="windows-1252"><h1>Caf\xe9</h1><p>cr\xe8me</p>'.encode("cp1252")
    assert load_document(".html", page).text == "# Café\n\ncrème"


def test_load_html_with_only_scripts_has_no_text():
    with pytest.raises(UnreadableFile, match="no text to index"):
        load_document(".html", b"<html><script>x()</script><nav>menu</nav></html>")


def test_load_mdx_drops_imports_exports_and_jsx_but_keeps_text_and_code():
    text = _load("shortcuts.mdx").text
    for dropped in ("import", "export", "sidebar", "<Tabs", "TabItem", "<Callout", "Video", "{/*"):
        assert dropped not in text.replace("`<Tabs>`", "")
    assert text.startswith("---\ntitle: Keyboard shortcuts\n---\n")  # front matter: the chunker's
    assert "Press Cmd+K to open the command palette." in text
    assert "\n```bash\nquillmate keys --list\n```\n" in text  # dedented out of the JSX element
    assert "Press `Ctrl+K` to open the command palette; `<Tabs>` in code stays." in text
    assert "\nCustom shortcuts live in `keys.toml`.\n" in text
    assert "\nEdit the file and restart Quillmate." in text


@pytest.mark.parametrize(
    ("mdx", "markdown"),
    [
        ("import A from 'a'\nimport {\n  B,\n} from 'b'\n\nText.", "Text."),
        ("export default function Layout({children}) {\n  return children\n}\n\nText.", "Text."),
        ("<Note>\n    Indented is not code in MDX.\n</Note>", "Indented is not code in MDX."),
        ("Say <Hi name='x' /> to <b>everyone</b>.", "Say  to everyone."),
        ("{/* one\nline\ncomment */}\nText.", "Text."),
        ("```jsx\nimport X from 'x'\n<X />\n```", "```jsx\nimport X from 'x'\n<X />\n```"),
        ("See <https://example.com>.", "See <https://example.com>."),
        ("<>\n  Fragment text.\n</>", "Fragment text."),
    ],
)
def test_mdx_to_markdown_follows_mdx_rules(mdx: str, markdown: str):
    assert mdx_to_markdown(mdx).strip() == markdown


def test_load_text_and_markdown_are_decoded_as_they_are():
    faq = _load("faq.txt")
    assert not faq.markdown and faq.text.startswith("Quillmate FAQ\n\nDoes Quillmate work offline?")
    assert load_document(".markdown", "\ufeff# BOM\n".encode()) == Document("# BOM\n")


def test_load_pdf_gives_one_section_per_page_titled_by_metadata():
    data = make_pdf(
        [["Backups run nightly.", "1. Keep three copies (offsite)."], [], ["Restore with care."]],
        title="Admin Manual",
    )
    doc = load_document(".pdf", data)
    assert doc.title == "Admin Manual"
    assert doc.text == (
        "## Page 1\n\nBackups run nightly.\n1\\. Keep three copies (offsite).\n\n"
        "## Page 3\n\nRestore with care."
    )


def test_load_pdf_without_metadata_title_uses_its_first_line():
    assert load_document(".pdf", make_pdf([["Quillmate Handbook", "Welcome."]])).title == (
        "Quillmate Handbook"
    )


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"%PDF-1.7", "not a readable PDF"),
        (make_pdf([["Cut short"]])[:300], "not a readable PDF"),
        (b"<html>not a pdf</html>", "not a PDF"),
        (make_pdf([[], []]), "no extractable text"),
    ],
)
def test_load_pdf_reports_broken_and_textless_files(data: bytes, reason: str):
    with pytest.raises(UnreadableFile, match=reason):
        load_document(".pdf", data)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ("Caf\xe9".encode("latin-1"), "not valid UTF-8 (byte 3)"),
        ("UTF-16 text".encode("utf-16"), "is UTF-16"),
        (b"# Title\0\x01", "looks binary"),
        (b"", "is empty"),
        (b"\xef\xbb\xbf \n\t\n", "is empty"),
    ],
)
@pytest.mark.parametrize("suffix", [".md", ".mdx", ".txt", ".rst", ".html"])
def test_text_loaders_report_undecodable_files(suffix: str, data: bytes, reason: str):
    with pytest.raises(UnreadableFile, match=re.escape(reason)):
        load_document(suffix, data)


@pytest.mark.parametrize(
    "text",
    [
        "1. not a list",
        "2) not a list either",
        "# not a heading",
        "- not a bullet",
        "+ nor this",
        "> not a quote",
        "*stars* and _underscores_ and snake_case_name",
        "a <b>tag</b> and a [link](https://x.example) and `ticks`",
        "===",
        "| a | b |",
        "&amp; stays &amp;",
        "~~~",
        "back\\slash",
        "    indented is not code",
    ],
)
def test_escape_markdown_renders_back_to_the_same_text(text: str):
    rendered = MarkdownIt("commonmark").enable("table").render(escape_markdown(text))
    assert rendered.startswith("<p>") and rendered.endswith("</p>\n"), rendered
    assert html.unescape(rendered[3:-5]) == text.strip()


def test_code_span_and_fence_are_longer_than_backticks_inside():
    assert code_span("a `b` c") == "``a `b` c``"
    assert code_span("`edge`") == "`` `edge` ``"
    assert fence("x = '```'", "py") == "````py\nx = '```'\n````"
    assert fence("  indented\n", "c++ ; rm") == "```c++rm\n  indented\n```"
    assert fence("\n \n") == ""

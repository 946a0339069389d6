"""chatui.rendering: one-shot render, incremental render == one-shot render, safety, tail fix-ups.

The incremental invariant is tested the httpx-sse way: the same text fed split at every position,
one character at a time and in random (seeded) chunks, with update() between every chunk.
"""

from __future__ import annotations

import random
import re
from html.parser import HTMLParser

import pytest

from chatui.rendering import CODE_DEBOUNCE_S, IncrementalMarkdown, StreamUpdate, render_markdown

RICH = """\
# Release notes

Setext heading
==============

Intro with **bold**, _emphasis_, `inline code`, a [link](https://example.com/a_b?q=1), a \
citation [1], another [2][3], an out-of-range [9], a [1](https://x.example) link, and snake_case_names.
Hard break with two spaces  
and a backslash\\
end of paragraph. Raw <b>tags</b> & <script>alert(1)</script> are text.

- tight one
- tight two
  - nested *a*
  - nested **b**
- tight three

* loose one

* loose two

3. third
4. fourth

> Quoted text with a list:
> - q1
> - q2
lazy continuation

```python
def greet(name: str) -> str:
    \"\"\"Say hi.\"\"\"
    return f"hi {name}"  # [1] is not a citation here
```

````markdown
```
a fence inside a longer fence
```
````

| Feature | Status | Notes |
|:--------|:------:|------:|
| tables  | **yes** | `code` [1] |
| pipes \\| escaped | ~~no~~ | end |

---

Sub heading
-----------

    indented code <not a tag>

~~~
tilde fence, closed last
~~~
Final line with ~~strike~~ and an image ![logo](https://img.example/logo.png).
"""

# Texts whose partial last line can change what earlier lines are; each split must still hold.
TRICKY = [
    "para\n```a`b\nmore\n",
    "- a\n- - - x\n- b\n",
    "- a\n- - -\n",
    "| a |\n|-x|\n",
    "text\n| a | b |\n|---|---|\n| 1 | 2 |\nafter\n",
    "para\n- item\n",
    "para\n---\n\n---\n",
    "> q\nlazy\n# h\n",
    "- a\n\n  b\n\nc\n",
    "1. x\n\n   ```\n   code\n   ```\n2. y\n",
    "a\r\nb\r\n\r\n# c\r\n",
    "a\rb\r\r# c\r",
    "```\nunclosed fence\n",
    "    code\n\n    more\n\npara\n",
    "[foo]: https://example.com\n\n[foo]\n",
    "***\n**b\n",
    "# h1\n## h2 ##\nx\n===\n",
]

ALLOWED_TAGS = {
    "p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "blockquote", "pre", "code", "span",
    "div", "button", "a", "em", "strong", "s", "del", "table", "thead", "tbody", "tr", "th", "td",
    "hr", "br",
}  # fmt: skip


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))


def assert_safe(html: str) -> None:
    parser = _Elements()
    parser.feed(html)
    parser.close()
    for tag, attrs in parser.elements:
        assert tag in ALLOWED_TAGS, (tag, html)
        for name, value in attrs.items():
            assert not name.startswith("on"), (name, html)
            assert name != "src", html
            if name == "style":
                assert tag in ("th", "td") and re.fullmatch(r"text-align:(left|right|center)", value or "")
        href = attrs.get("href")
        if href is not None:
            probe = re.sub(r"[\x00-\x20]", "", href).lower()
            head = re.split(r"[/?#]", probe, maxsplit=1)[0]
            assert ":" not in head or head.split(":")[0] in ("http", "https", "mailto"), href


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def stream(chunks: list[str], *, step: float = 1.0, sources: int = 3) -> tuple[str, list[StreamUpdate]]:
    """Feed chunks with update() after each; return the joined frozen HTML and every update."""
    clock = FakeClock()
    md = IncrementalMarkdown(sources=sources, anchor_prefix="s-", clock=clock)
    updates = []
    for chunk in chunks:
        md.feed(chunk)
        clock.now += step
        updates.append(md.update())
    updates.append(md.finish())
    assert md.text == "".join(chunks)
    frozen = "".join(u.frozen_html for u in updates)
    assert md.html == frozen
    return frozen, updates


def expected(text: str) -> str:
    return render_markdown(text, sources=3, anchor_prefix="s-")


# -- one-shot render --------------------------------------------------------------------------------


def test_render_markdown_rich_sample_elements() -> None:
    html = expected(RICH)
    assert_safe(html)
    assert "<h1>Release notes</h1>" in html and "<h1>Setext heading</h1>" in html
    assert "<h2>Sub heading</h2>" in html
    assert "<strong>bold</strong>" in html and "<em>emphasis</em>" in html
    assert "<code>inline code</code>" in html and "snake_case_names" in html
    assert '<a class="cite" href="#s-1" data-cite="1">[1]</a>' in html
    assert '<a class="cite" href="#s-2" data-cite="2">[2]</a><a class="cite" href="#s-3"' in html
    assert "[9]" in html and 'data-cite="9"' not in html
    assert '<a href="https://x.example" rel="noopener noreferrer nofollow" target="_blank">1</a>' in html
    assert "Hard break with two spaces<br />" in html and "backslash<br />" in html
    assert "&lt;b&gt;tags&lt;/b&gt; &amp; &lt;script&gt;" in html
    assert '<ol start="3">' in html and "<li>\n<p>loose one</p>\n</li>" in html
    assert "<blockquote>\n<p>Quoted text with a list:</p>\n<ul>" in html
    assert '<th style="text-align:center">Status</th>' in html and "<s>no</s>" in html
    assert "<hr />" in html
    assert '<span class="code-lang">python</span>' in html
    assert '<code class="language-python"><span class="k">def</span>' in html
    assert "# [1] is not a citation here" in html  # inside a highlighted comment span, escaped
    assert '<code class="language-markdown">' in html and "a fence inside a longer fence" in html
    assert "indented code &lt;not a tag&gt;" in html
    assert "🖼 logo</a>" in html and "<img" not in html


def test_render_markdown_code_block_wrapper_is_exact() -> None:
    html = render_markdown("```python\nx = 1\n```\n")
    assert html == (
        '<div class="code-block"><div class="code-head"><span class="code-lang">python</span>'
        '<button type="button" class="code-copy" aria-label="Copy code">Copy</button></div>'
        '<pre><code class="language-python"><span class="n">x</span> <span class="o">=</span> '
        '<span class="mi">1</span>\n</code></pre></div>\n'
    )


@pytest.mark.parametrize(
    ("source", "body"),
    [
        ("```nosuchlanguage\na < b\n```\n", '<code class="language-nosuchlanguage">a &lt; b\n</code>'),
        ("```\na < b\n```\n", "<code>a &lt; b\n</code>"),
        ("    a < b\n", "<code>a &lt; b\n</code>"),
    ],
)
def test_render_markdown_code_without_known_language_is_escaped(source: str, body: str) -> None:
    assert body in render_markdown(source)


def test_render_markdown_citations_only_in_range_and_outside_code() -> None:
    html = render_markdown(
        "[0] [1] [2] [3] `[1]` \\[1] [1](#x) [[1]](https://a.example)", sources=2, anchor_prefix='"><x'
    )
    assert html.count('class="cite"') == 2
    assert 'href="#&quot;&gt;&lt;x2"' in html
    assert "<p>[0] " in html and " [3] <code>[1]</code> [1] " in html
    assert '<a href="#x" rel="noopener noreferrer nofollow" target="_blank">1</a>' in html
    assert ">[1]</a>" in html  # a citation-looking label inside a link stays text, no nested <a>
    assert render_markdown("[1]") == "<p>[1]</p>\n"  # sources=0: nothing is a citation


def test_render_markdown_reference_definitions_are_plain_text() -> None:
    html = render_markdown("[foo]\n\n[foo]: https://example.com\n")
    assert "<a" not in html and "[foo]: https://example.com" in html


def test_render_markdown_links_and_images() -> None:
    assert render_markdown('![a *b*](https://i.example/x.png "T")') == (
        '<p><a href="https://i.example/x.png" title="T" rel="noopener noreferrer nofollow" '
        'target="_blank">🖼 a b</a></p>\n'
    )
    assert render_markdown("![alt](javascript:alert(1))") == "<p>alt</p>\n"
    assert render_markdown("[see](mailto:a@b.example)").count('href="mailto:a@b.example"') == 1
    assert render_markdown("<https://a.example/x>").startswith('<p><a href="https://a.example/x" rel=')
    assert render_markdown("[x](../docs/a.md#top)").startswith('<p><a href="../docs/a.md#top"')


# -- safety -----------------------------------------------------------------------------------------

XSS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<style>body{display:none}</style>",
    '<iframe src="https://evil.example"></iframe>',
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](java&#x09;script:alert(1))",
    "[x](javascript&colon;alert(1))",
    "[x](%6Aavascript:alert(1))",
    "<JAVASCRIPT:alert(1)>",
    "[x](java%09script:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x]( javascript:alert(1) )",
    "[x](<javascript:alert(1)>)",
    "[x](vbscript:msgbox)",
    "[x](data:text/html;base64,PHNjcmlwdD4=)",
    "[x](file:///etc/passwd)",
    "![x](https://evil.example/track.png)",
    "![x](data:image/png;base64,iVBORw0KGgo=)",
    "<javascript:alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    '```"><script>alert(1)</script>\ncode\n```',
    "```python onload=alert(1)\ncode\n```",
    '[x](https://a.example "\\"><script>alert(1)</script>")',
    "<div onclick=alert(1)>x</div>\n\n<svg/onload=alert(1)>",
    "[![x](https://i.example/a.png)](javascript:alert(1))",
    "[![x](javascript:alert(1))](https://a.example)",
    "| a |\n|---|\n| <img src=x onerror=alert(1)> |",
    "> <script>alert(1)</script>\n> [x](javascript:alert(1))",
]


def _no_dangerous_markup(html: str) -> None:
    assert_safe(html)
    for needle in ("<script", "<style", "<iframe", "<img", "<svg", "<div onclick"):
        assert needle not in html.lower(), html
    for attr in re.findall(r'\s[a-z-]+="([^"]*)"', html):
        assert not re.search(r"(javascript|vbscript|data|file):", attr.lower()), html


@pytest.mark.parametrize("source", XSS)
def test_render_markdown_xss_corpus_is_inert(source: str) -> None:
    _no_dangerous_markup(render_markdown(source, sources=3))


@pytest.mark.parametrize("source", XSS)
def test_tail_renders_of_xss_corpus_are_inert(source: str) -> None:
    clock = FakeClock()
    md = IncrementalMarkdown(sources=3, clock=clock)
    for char in source:
        md.feed(char)
        clock.now += 1
        update = md.update()
        _no_dangerous_markup(update.frozen_html + (update.tail_html or ""))
    _no_dangerous_markup(md.finish().frozen_html)


def test_render_markdown_dropped_link_keeps_label_text() -> None:
    assert render_markdown("[click **me**](javascript:alert(1))") == "<p>click <strong>me</strong></p>\n"


# -- the incremental invariant ----------------------------------------------------------------------


@pytest.mark.parametrize("text", [RICH, *TRICKY], ids=["rich", *range(len(TRICKY))])
def test_incremental_split_at_every_position_equals_one_shot(text: str) -> None:
    want = expected(text)
    for cut in range(len(text) + 1):
        frozen, updates = stream([text[:cut], text[cut:]])
        assert frozen == want, f"split at {cut}: {text[:cut]!r} | {text[cut:]!r}"
        for update in updates:
            assert_safe(update.frozen_html + (update.tail_html or ""))


@pytest.mark.parametrize("step", [1.0, 0.025])
@pytest.mark.parametrize("text", [RICH, *TRICKY], ids=["rich", *range(len(TRICKY))])
def test_incremental_char_by_char_equals_one_shot(text: str, step: float) -> None:
    frozen, updates = stream(list(text), step=step)
    assert frozen == expected(text)
    assert updates[-1].tail_html == "" and updates[-1].pending_text == ""
    for update in updates:
        assert_safe(update.frozen_html + (update.tail_html or ""))


@pytest.mark.parametrize("seed", range(20))
def test_incremental_random_chunks_equals_one_shot(seed: int) -> None:
    rng = random.Random(seed)
    text = RICH * 2 if seed % 2 else "\n".join(TRICKY) + RICH
    chunks, pos = [], 0
    while pos < len(text):
        size = rng.choice([1, 1, 2, 3, 4, 7, 16, 40])
        chunks.append(text[pos : pos + size])
        pos += size
    frozen, _ = stream(chunks, step=rng.choice([0.0, 0.025, 0.2]))
    assert frozen == expected(text)


FUZZ_LINES = [
    "", "", "para text", "more *text", "- item", "  - nested", "  cont", "1. one", "3) three", "> quote", ">",
    "> - q", "```", "```py", "~~~", "````", "    indented", "    ```", "---", "***", "===", "# h", "## h ##",
    "| a | b |", "|---|---|", "| 1 | 2 |", "a | b", "\tTab", "- ", "*", "* * *", "- - -", "- - - x", "```a`b",
    "<div>", "[1] cite", "**bold", "text **", "x\\", "text  ", "   ", "+ plus", "10. ten", "-", "=", "  > q",
    "      deep", "[foo]: /url", "[foo]", "\\# not", "a ``` b", " - spaced", "   ```", "` code",
]  # fmt: skip


@pytest.mark.parametrize("seed", range(60))
def test_incremental_fuzzed_block_sequences_equal_one_shot(seed: int) -> None:
    """Random sequences of block-level lines: every split in two, and one character at a time."""
    rng = random.Random(seed)
    newline = rng.choice(["\n", "\n", "\r\n"])
    text = newline.join(rng.choice(FUZZ_LINES) for _ in range(rng.randint(2, 14))) + rng.choice(["", newline])
    want = expected(text)
    assert stream(list(text), step=rng.choice([1.0, 0.03]))[0] == want, repr(text)
    for cut in range(len(text) + 1):
        assert stream([text[:cut], text[cut:]])[0] == want, (cut, text)


def test_incremental_freezes_blocks_before_the_end() -> None:
    _, updates = stream(list(RICH))
    frozen_during_stream = "".join(u.frozen_html for u in updates[:-1])
    assert len(frozen_during_stream) > 0.9 * len(expected(RICH))
    assert updates[-1].frozen_html.startswith("<p>Final line with <s>strike</s>")


def test_incremental_frozen_block_waits_for_a_complete_line() -> None:
    md = IncrementalMarkdown(clock=FakeClock())
    md.feed("para\n```")
    assert md.update().frozen_html == ""  # "```" could still become "```a`b", which is no fence
    md.feed("a`b\n")
    assert md.update().frozen_html == ""
    assert md.finish().frozen_html == "<p>para\n```a`b</p>\n"


def test_incremental_feed_after_finish_raises_and_finish_twice_is_empty() -> None:
    md = IncrementalMarkdown(clock=FakeClock())
    md.feed("hi")
    assert md.finish() == StreamUpdate("<p>hi</p>\n", "", "")
    assert md.finish() == StreamUpdate("", "", "")
    assert md.html == "<p>hi</p>\n"
    with pytest.raises(RuntimeError, match="new one per answer"):
        md.feed("more")


# -- debouncing and pending text --------------------------------------------------------------------


def test_update_debounce_holds_tail_then_rerenders() -> None:
    clock = FakeClock()
    md = IncrementalMarkdown(clock=clock, debounce_s=0.1)
    md.feed("Hello")
    assert md.update() == StreamUpdate("", "<p>Hello</p>\n", "")  # the first call always renders
    clock.now = 0.04
    md.feed(" **wor")
    assert md.update() == StreamUpdate("", None, " wor")
    clock.now = 0.099
    md.feed("ld** `x`\n#")
    assert md.update() == StreamUpdate("", None, " world x\n")
    clock.now = 0.1
    assert md.update() == StreamUpdate("", "<p>Hello <strong>world</strong> <code>x</code></p>\n", "")
    clock.now = 0.15
    assert md.update() == StreamUpdate("", None, "")  # nothing new


def test_update_rerenders_tail_when_a_block_becomes_final() -> None:
    clock = FakeClock()
    md = IncrementalMarkdown(clock=clock)
    md.feed("Para\n")
    assert md.update().tail_html == "<p>Para</p>\n"
    clock.now = 0.01
    md.feed("- item\n")
    assert md.update() == StreamUpdate("<p>Para</p>\n", "<ul>\n<li>item</li>\n</ul>\n", "")
    assert md.html == "<p>Para</p>\n"


@pytest.mark.parametrize(
    ("text", "frozen", "tail"),
    [
        ("# Title\nBo", "<h1>Title</h1>\n", "<p>Bo</p>\n"),  # a complete ATX heading is final
        ("Title\n---\n", "<h2>Title</h2>\n", ""),
        ("***\n", "<hr />\n", ""),
        ("```\nx\n```\nmo", "<div", "<p>mo</p>\n"),  # a closed fence is final
        ("Para\n\nNe", "<p>Para</p>\n", "<p>Ne</p>\n"),  # a blank line ends a paragraph
        ("> q\n\n", "<blockquote>\n<p>q</p>\n</blockquote>\n", ""),
        ("| a |\n|---|\n\n", "<table>", ""),
        ("Para\n", "", "<p>Para</p>\n"),  # could still become a setext heading or a table
        ("```\nx\n    ```\n", "", "<div"),  # an indented ``` is content, not a closing fence
        ("- a\n\n", "", "<ul>\n<li>a</li>\n</ul>\n"),  # a list can go on after a blank line
        ("    code\n\n", "", "<div"),
    ],
)
def test_update_freezes_a_closed_last_block_without_waiting(text: str, frozen: str, tail: str) -> None:
    md = IncrementalMarkdown(clock=FakeClock())
    md.feed(text)
    update = md.update()
    assert update.frozen_html.startswith(frozen) and (frozen or not update.frozen_html)
    assert update.tail_html is not None and update.tail_html.startswith(tail)
    assert tail or not update.tail_html
    assert update.frozen_html + md.finish().frozen_html == render_markdown(text)


def test_update_pending_text_drops_markdown_punctuation() -> None:
    clock = FakeClock()
    md = IncrementalMarkdown(clock=clock)
    md.update()
    clock.now = 1
    md.feed("Para *x* `y` ~~z~~ a_b # not leading")
    assert md.update().tail_html is not None
    md.feed("\n### Next **b")
    assert md.update() == StreamUpdate("", None, "\nNext b")


# -- tail fix-ups -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("partial", "tail"),
    [
        ("Some **bold", "<p>Some <strong>bold</strong></p>\n"),
        ("Some __bold", "<p>Some <strong>bold</strong></p>\n"),
        ("Some *it", "<p>Some <em>it</em></p>\n"),
        ("Some _it", "<p>Some <em>it</em></p>\n"),
        ("**bold and *it", "<p><strong>bold and <em>it</em></strong></p>\n"),
        ("Some ~~gone", "<p>Some <s>gone</s></p>\n"),
        ("Run `ls -la", "<p>Run <code>ls -la</code></p>\n"),
        ("Run ``a ` b", "<p>Run <code>a ` b</code></p>\n"),
        ("Some **", "<p>Some</p>\n"),
        ("Some `", "<p>Some</p>\n"),
        ("See [the docs](https://exa", "<p>See the docs</p>\n"),
        ("See [the docs](", "<p>See the docs</p>\n"),
        ("snake_case_name and 2 * 3", "<p>snake_case_name and 2 * 3</p>\n"),
        ("**a** and `b` then *x", "<p><strong>a</strong> and <code>b</code> then <em>x</em></p>\n"),
        ("* a list item *with em", "<ul>\n<li>a list item <em>with em</em></li>\n</ul>\n"),
        ("## A **heading", "<h2>A <strong>heading</strong></h2>\n"),
        ("```python\nx = '**'\n", "<span class=\"s1\">'**'</span>\n</code></pre></div>\n"),
        ("a [link](https://a.example/_x_) and **b", "and <strong>b</strong></p>\n"),
    ],
)
def test_tail_render_closes_unfinished_syntax(partial: str, tail: str) -> None:
    md = IncrementalMarkdown(clock=FakeClock())
    md.feed(partial)
    rendered = md.update().tail_html
    assert rendered is not None and rendered.endswith(tail), rendered
    assert render_markdown(partial).endswith(tail) is (partial.startswith(("snake", "```")))
    final = md.finish().frozen_html
    assert final == render_markdown(partial)  # finish() renders as-is, no fix-ups


def test_tail_render_highlights_complete_code_lines_and_escapes_the_partial_one() -> None:
    clock = FakeClock()
    md = IncrementalMarkdown(clock=clock)
    lines = [f"x{n} = {n}  # <{n}>\n" for n in range(12)]
    renders, shown = 0, ""
    for line in ["```python\n", *lines]:
        for char in line:
            md.feed(char)
            clock.now += 1
            update = md.update()
            tail = update.tail_html
            if tail is None:  # the rest of an unfinished code line: shown verbatim, as typed
                assert shown + update.pending_text == md.text
                continue
            renders, shown = renders + 1, md.text
            if "\n" not in md.text:
                continue
            body = md.text.split("\n", 1)[1]
            complete, partial = body[: body.rfind("\n") + 1], body[body.rfind("\n") + 1 :]
            want = render_markdown(f"```python\n{complete}```\n").removesuffix("</code></pre></div>\n")
            assert tail == want + partial.replace("<", "&lt;").replace(">", "&gt;") + "</code></pre></div>\n"
    assert renders >= len(lines), "each completed line is highlighted (the clock moves 1 s per character)"
    md.feed("```\n")
    assert md.update().frozen_html == render_markdown(md.text)


def test_tail_fixups_never_reach_frozen_blocks() -> None:
    frozen, _ = stream(list("Some **bold\n\nnext *para\n\n`tick\n"))
    assert frozen == render_markdown("Some **bold\n\nnext *para\n\n`tick\n")
    assert "<strong>" not in frozen and "<em>" not in frozen and "<code>" not in frozen


# -- cost -------------------------------------------------------------------------------------------


def test_update_work_does_not_grow_with_answer_length() -> None:
    """Each update parses only the unfrozen text: the buffer stays small however long the answer."""
    md = IncrementalMarkdown(clock=FakeClock())
    for n in range(400):
        md.feed(f"Paragraph {n} with **bold** [1].\n\n")
        md.update()
        assert md._buf == ""  # a paragraph is final once a blank line follows it
    assert md.html.count("<p>") == 400
    for n in range(100):
        md.feed(f"- item {n}\n")
        md.update()
        assert md._buf.startswith("- item 0\n")  # a list stays in the tail until the next block


# -- skipping tail renders that would show nothing new ------------------------------------------------


def _after_render(text: str) -> tuple[IncrementalMarkdown, FakeClock]:
    clock = FakeClock()
    md = IncrementalMarkdown(clock=clock)
    md.feed(text)
    assert md.update().tail_html is not None
    clock.now += 1  # the debounce has long passed for everything below
    return md, clock


def test_plain_words_after_a_render_are_not_rendered_again_and_keep_their_spaces() -> None:
    md, _ = _after_render("Hello world ")  # the render drops the trailing space...
    md.feed("again and again\nover two lines")
    update = md.update()
    assert update.tail_html is None, "plain words render as themselves: no new tail"
    assert update.pending_text == " again and again\nover two lines"  # ...so the pending text has it


@pytest.mark.parametrize(
    "more",
    ["**bold", " `code", " [1]", " a & b", " x_y", "\n- a new item", "\n# heading", "\n\nnew paragraph",
     "\n1. numbered", "\n> quote", " | cell"],
)
def test_markup_or_a_possible_new_block_after_a_render_renders_the_tail_again(more: str) -> None:
    md, _ = _after_render("Some words")
    md.feed(more)
    assert md.update().tail_html is not None


def test_an_unfinished_opener_keeps_the_tail_rendering_until_it_closes() -> None:
    md, _ = _after_render("Some **bold")
    md.feed(" words")  # plain, but they belong inside <strong>: only a render puts them there
    assert md.update().tail_html is not None


def test_code_lines_are_shown_verbatim_at_once_and_highlighted_at_most_every_code_debounce() -> None:
    md, clock = _after_render("```python\nx = 1\n")
    md.feed("y = x * 2  # `not markup` here")
    update = md.update()
    assert update.tail_html is None and update.pending_text == "y = x * 2  # `not markup` here"
    md.feed("\n")
    tail = md.update().tail_html  # a completed line, long after the last render: highlighted now
    assert tail is not None and '<span class="n">y</span>' in tail
    md.feed("z = 3\nw")
    clock.now += CODE_DEBOUNCE_S / 2
    update = md.update()
    assert update.tail_html is None and update.pending_text == "z = 3\nw", "shown, not yet highlighted"
    clock.now += CODE_DEBOUNCE_S
    tail = md.update().tail_html
    assert tail is not None and '<span class="n">z</span>' in tail


def _pending_from_scratch(md: IncrementalMarkdown) -> str:
    """The pending text as update() computed it before it was made incremental: the whole text
    after the last tail render, without Markdown punctuation."""
    buf, start = md._buf, md._shown
    at_line_start = start == 0 or buf[start - 1] in "\r\n"
    pending = re.sub(r"(?m)^[ \t]{0,3}#+[ \t]?|[*`~]", "", ("" if at_line_start else "x") + buf[start:])
    return pending if at_line_start else pending[1:]


@pytest.mark.parametrize("seed", range(30))
def test_incremental_pending_text_equals_working_it_out_from_scratch(seed: int) -> None:
    """The pending text is worked out for the new text only (a heading marker such as "##" may
    still grow, so a line that could become one is redone): it must equal the from-scratch text."""
    rng = random.Random(seed)
    newline = rng.choice(["\n", "\r\n"])
    lines = FUZZ_LINES + ["plain words and more words", "## heading", "  #", "#", "  ", "text `code` *x*"]
    text = newline.join(rng.choice(lines) for _ in range(rng.randint(3, 20)))
    clock = FakeClock()
    md = IncrementalMarkdown(clock=clock, debounce_s=0.5)
    for char in text:
        md.feed(char)
        clock.now += rng.choice([0.01, 0.02, 0.3])
        update = md.update()
        if update.tail_html is None and md._appends != "code":
            assert update.pending_text == _pending_from_scratch(md), (seed, md._buf)


@pytest.fixture
def parses(monkeypatch) -> list[str]:
    """The source of every block parse IncrementalMarkdown makes, in order."""
    from chatui import rendering

    seen: list[str] = []
    real_run = rendering._run
    monkeypatch.setattr(rendering, "_run", lambda state, rules: seen.append(state.src) or real_run(state, rules))
    return seen


def test_incremental_an_open_code_block_is_not_parsed_again_for_every_line(parses: list[str]) -> None:
    """Inside an open fence no line but a closing one can end it: lines are not re-parsed for it,
    and the block still freezes when the closing line arrives."""
    md = IncrementalMarkdown(clock=FakeClock(), debounce_s=1e9)  # no tail renders: freezes only
    md.feed("```python\n")
    md.update()
    for i in range(200):
        md.feed(f"x = {i}  # ``` is not a closing fence here\n")
        assert md.update().frozen_html == ""
    before = len(parses)
    md.feed("```\n")
    frozen = md.update().frozen_html
    assert frozen == render_markdown(md.text)
    assert before <= 3, before  # the fence was seen open once, then only the new lines were read


@pytest.mark.parametrize("ending", ["\n\nAfter the list.\n", "* another list\n", "- - -\n", "# Heading\n", "> a quote\n"])
def test_incremental_an_open_list_is_not_parsed_again_for_every_item(parses: list[str], ending: str) -> None:
    """New items with the list's marker and blank lines cannot end an open list: those lines are
    not re-parsed for it, and the list still freezes when a line that ends it arrives."""
    md = IncrementalMarkdown(clock=FakeClock(), debounce_s=1e9)  # no tail renders: freezes only
    md.feed("- first item\n")
    md.update()
    for i in range(200):
        md.feed(f"- item {i} with `code` and - - dashes\n" + ("\n" if i % 50 == 49 else ""))
        assert md.update().frozen_html == ""
    assert len(parses) <= 3, len(parses)  # the list was seen open once, then only new lines were read
    md.feed(ending)
    assert md.update().frozen_html.startswith("<ul>\n<li>\n<p>first item</p>")  # loose: it has blank lines
    assert md.html + md.finish().frozen_html == render_markdown(md.text)


def test_words_that_start_the_empty_last_item_of_a_tight_list_are_not_rendered_again() -> None:
    md, _ = _after_render("- one\n- ")
    md.feed("two and three")
    update = md.update()
    assert update.tail_html is None, "they show as the new item's text, as a render would"
    assert update.pending_text == " two and three"
    md.feed(" and four")  # from here on, the item's text follows the rules of a paragraph's
    assert md.update().tail_html is None
    md.feed(" **bold**")
    assert md.update().tail_html is not None


@pytest.mark.parametrize(
    ("listed", "more"),
    [("- one\n\n- ", "two"), ("- one\n- ", "# heading"), ("- one\n- ", "1. nested"), ("- one\n- ", "     code"),
     ("- one\n- ", "`code`"), ("- ", "first")],
)
def test_an_empty_item_renders_again_unless_a_word_of_a_tight_list_starts_it(listed: str, more: str) -> None:
    """A loose list wraps item text in <p>; other starts are blocks or markup; a list with no item
    text yet may still turn out loose."""
    md, _ = _after_render(listed)
    md.feed(more)
    assert md.update().tail_html is not None


@pytest.mark.parametrize("more", ["\n- item", "\n   - item", "\n# heading", "\n\nnew paragraph"])
def test_after_plain_updates_a_line_that_starts_a_block_still_renders_the_tail(more: str) -> None:
    """The check for plain text resumes where the last one ended: a line break it saw last time
    is looked at again once what follows it arrives."""
    md, _ = _after_render("Some words")
    for piece in [" more words", " and", " more", more[:1]]:
        md.feed(piece)
        assert md.update().tail_html is None
    md.feed(more[1:])
    assert md.update().tail_html is not None


def test_blank_lines_after_a_list_wait_for_what_follows_them() -> None:
    md, _ = _after_render("- one\n- two")
    md.feed(" and more\n\n")
    assert md.update().tail_html is None, "a list with blank lines after it looks the same"
    md.feed("Next")
    assert md.update().tail_html is not None, "a paragraph after the list"

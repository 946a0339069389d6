"""Render the model's Markdown answer to safe HTML, once or incrementally while it streams.

Why: the browser shows formatted text as tokens arrive, must never re-render what is finished, and
the server's work per token must not grow with the answer. One markdown-it-py instance serves both.

What must stay true:
- Safe by construction: raw HTML is escaped (``html=False``); the only hrefs emitted are http(s),
  mailto, fragments and relative URLs (``_allowed_href``, checked on every link after parsing);
  images are never fetched (they become links); Pygments output is escaped text in ``<span>``s.
- Incremental == one-shot: for any split of the text into ``feed()`` chunks, the ``frozen_html`` of
  every ``update()`` plus ``finish().frozen_html`` equals ``render_markdown(text)`` byte for byte.
  It holds because no rule looks across top-level blocks (link reference definitions and raw HTML
  are off) and because a block is frozen only on evidence from *complete* lines: the next block
  starts on one, or the block is closed (``_is_closed``). A partial line can still change the
  lines before it: ```` ```a`b ```` is no fence, ``- - - x`` no rule, ``|-x|`` no delimiter row.
- Work per ``update()`` follows the new text, not the answer: blocks are looked for only when a
  line completes (inside an open code fence or list, only when a line could end it), the tail
  render is debounced and reuses the HTML of unchanged inline content and of code already lexed,
  and the pending text is worked out for the new text only. A tail render is skipped when it
  would show nothing the pending text does not (plain words after a paragraph's text, or starting
  the empty last item of a tight list; the lines of an open code block, which are re-highlighted
  every ``CODE_DEBOUNCE_S``): the pending text is then exactly what the browser would see
  rendered, blanks included, and the check for plain text resumes where it stopped. Those caches
  and the fix-ups for unfinished syntax (``**``, a backtick, a half-typed link) are for the tail
  only; frozen HTML is always rendered from scratch.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any, NamedTuple
from urllib.parse import unquote

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml, isPunctChar, unescapeAll
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

__all__ = ["IncrementalMarkdown", "StreamUpdate", "render_markdown"]

_LINK_ATTRS = {"rel": "noopener noreferrer nofollow", "target": "_blank"}
_INVISIBLE = re.compile(r"[\s\x00-\x20\x7f-\xa0\xad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]")
_CITE = re.compile(r"\[([1-9][0-9]{0,3})\]")
_LINE_END = re.compile(r"\r\n?|\n")
_BLANK_LINE = re.compile(r"[ \t]*(?:\r\n?|\n)")
_ITEM_LINE = re.compile(r" {0,3}(?:([-*+])|[0-9]{1,9}([.)]))[ \t]+\S[^\r\n]*(?:\r\n?|\n)")
_THEMATIC_BREAK = re.compile(r" {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*(?:\r\n?|\n)")
_CLOSING_FENCE = re.compile(r" {0,3}(`+|~+)[ \t]*(?:\r\n?|\n)")
_INLINE_SYNTAX = re.compile(r"\\|`+|\*+|_+|~+|\]\(|<")
_AUTOLINK = re.compile(r"<[A-Za-z][A-Za-z0-9+.\-]{1,31}:[^<>\s]*>")
_HALF_LINK = re.compile(r"!?\[([^\[\]]*)\]\([^()]*$")
_HALF_OPENER = re.compile(r"(?:(?<=\s)|^)[*_~]+$")
_PENDING_MARKUP = re.compile(r"(?m)^[ \t]{0,3}#+[ \t]?|[*`~]")
_MAY_BE_MARKUP = re.compile(r"[*`~\r\n]")  # what _PENDING_MARKUP can match away from a line start
_HEADING_SO_FAR = re.compile(r"[ \t]{0,3}#*")  # the start of a line that may yet be a heading marker
# Text that renders as itself at the end of a paragraph or heading: no character that could start
# markup, an entity, an escape or a table cell, and a line break only where a letter follows it,
# so the new line continues the paragraph instead of starting a block. Blanks at the very end
# ("blank", line breaks included) render as nothing yet: what comes after them decides.
_PLAIN_RUN = r"[^\\`*_~\[\]()<>&!|#\r\n]*"
_PLAIN_APPEND = re.compile(rf"{_PLAIN_RUN}(?:(?:\r\n?|\n) {{0,3}}(?=[^\W\d_]){_PLAIN_RUN})*(?P<blank>[ \t\r\n]*)")
# After an empty list item's marker: the blank before its first word, and that word's start.
_ITEM_BLANK = re.compile(r" {0,4}|\t")
_ITEM_WORD = re.compile(r"(?: {1,4}|\t)(?=[^\W\d_])")
_FORMATTER = HtmlFormatter(nowrap=True)
CODE_DEBOUNCE_S = 1.0  # an open code block's new lines are shown at once, highlighted this often


def _allowed_href(url: str) -> bool:
    """http(s), mailto, fragment and relative URLs. Stricter than a browser on purpose: escapes are
    decoded and controls, spaces and invisibles removed first, so ``java%09script:`` is refused."""
    head = re.split(r"[/?#]", _INVISIBLE.sub("", unquote(url)).lower(), maxsplit=1)[0]
    return ":" not in head or head.split(":", 1)[0] in ("http", "https", "mailto")


# -- markdown-it configuration ---------------------------------------------------------------------


def _cite_rule(state: StateInline, silent: bool) -> bool:
    """``[n]`` -> a citation when 1 <= n <= sources. Says no in silent mode (a link label being
    scanned): markdown-it takes any multi-character token starting with ``[`` there for a nested
    link and would give up on ``[see [1]](url)``."""
    if silent or state.src[state.pos] != "[" or state.linkLevel > 0:
        return False
    match = _CITE.match(state.src, state.pos, state.posMax)
    if match is None or int(match[1]) > state.env.get("chatui_sources", 0):
        return False
    if match.end() < state.posMax and state.src[match.end()] == "(":
        return False  # `[n](url)` is an ordinary link
    state.push("chatui_cite", "a", 0).meta = {"n": int(match[1])}
    state.pos = match.end()
    return True


def _sanitize_links(state: StateCore) -> None:
    """Last core rule: a link to another scheme becomes its label; an image becomes a link."""
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        out: list[Token] = []
        dropped: list[bool] = []  # per open link: was its <a> dropped?
        for tok in block.children:
            if tok.type == "link_open":
                dropped.append(not _allowed_href(str(tok.attrs.get("href", ""))))
                tok.attrs |= _LINK_ATTRS
                out += [] if dropped[-1] else [tok]
            elif tok.type == "link_close":
                out += [] if dropped.pop() else [tok]
            elif tok.type == "image":
                alt = state.md.renderer.renderInlineAsText(tok.children, state.md.options, state.env)
                href = str(tok.attrs.get("src", ""))
                link = _allowed_href(href) and False not in dropped  # and not inside another <a>
                title = {"title": tok.attrs["title"]} if "title" in tok.attrs else {}
                out += (
                    [Token("link_open", "a", 1, attrs={"href": href} | title | _LINK_ATTRS)] if link else []
                )
                out += [Token("text", "", 0, content=f"🖼 {alt}" if link else alt)]
                out += [Token("link_close", "a", -1)] if link else []
            else:
                out.append(tok)
        block.children = out


@lru_cache(maxsize=64)
def _lexer(lang: str) -> Lexer | None:
    try:
        return get_lexer_by_name(lang, stripnl=False, ensurenl=False)
    except ClassNotFound:
        return None


def _highlighted(code: str, lang: str, cache: dict[Any, Any] | None) -> str:
    lexer = _lexer(lang.lower()) if lang else None
    if lexer is None or not code:
        return escapeHtml(code)
    if cache is None:
        return highlight(code, lexer, _FORMATTER)
    # Tail render: lex pieces that each get lexed once, so a growing block costs O(its length): a
    # prefix of complete lines (re-lexed when the block has doubled), then the lines each later
    # render added, one piece per render (a highlight() call costs about as much as a short line).
    # The partial last line stays plain. The final render lexes the whole block in one go.
    done = code[: code.rfind("\n") + 1]
    base = cache.get(("base", lang), "")
    ends: list[int] = cache.get(("ends", lang), [])  # where the pieces after `base` end
    if not done.startswith(base) or len(done) > 2 * len(base):
        base = cache[("base", lang)] = done
        ends = []
    ends = [end for end in ends if end <= len(done)]
    if len(done) > (ends[-1] if ends else len(base)):
        ends.append(len(done))
    cache[("ends", lang)] = ends
    parts, start = [], 0
    for end in [len(base), *ends]:
        piece, start = done[start:end], end
        if (lang, piece) not in cache:
            cache[(lang, piece)] = highlight(piece, lexer, _FORMATTER) if piece else ""
        parts.append(cache[(lang, piece)])
    return "".join(parts) + escapeHtml(code[len(done) :])


def _render_code(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    tok = tokens[idx]
    info = unescapeAll(tok.info).split(maxsplit=1) if tok.type == "fence" else []
    lang = info[0] if info else ""
    body = _highlighted(tok.content, lang, env.get("chatui_code_cache"))
    attr = escapeHtml(lang)
    code_open = f'<code class="language-{attr}">' if lang else "<code>"
    return (
        f'<div class="code-block"><div class="code-head"><span class="code-lang">{attr}</span>'
        '<button type="button" class="code-copy" aria-label="Copy code">Copy</button></div>'
        f"<pre>{code_open}{body}</code></pre></div>\n"
    )


def _render_cite(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    n, prefix = tokens[idx].meta["n"], escapeHtml(env.get("chatui_anchor_prefix", ""))
    return f'<a class="cite" href="#{prefix}{n}" data-cite="{n}">[{n}]</a>'


def _render_link_open(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    # Defence in depth: _sanitize_links has removed these already; never emit a bad href anyway.
    if not _allowed_href(str(tokens[idx].attrs.get("href", ""))):
        return "<a>"
    return self.renderToken(tokens, idx, options, env)  # type: ignore[no-any-return]


def _build_markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
    # Reference definitions let a later block change an earlier one; raw HTML is never rendered.
    md.disable(["reference", "html_block", "html_inline"])
    # markdown-it's validateLink leaves a refused [x](javascript:...) as literal source text, and
    # lets "java%09script:" through: accept everything here, _sanitize_links applies the policy.
    md.validateLink = lambda url: True  # type: ignore[method-assign]
    md.inline.ruler.before("link", "chatui_cite", _cite_rule)
    md.core.ruler.push("chatui_links", _sanitize_links)
    md.add_render_rule("fence", _render_code)
    md.add_render_rule("code_block", _render_code)
    md.add_render_rule("chatui_cite", _render_cite)
    md.add_render_rule("link_open", _render_link_open)
    # Inline HTML this module rendered for an earlier tail render (IncrementalMarkdown._render_tail).
    md.add_render_rule("chatui_cached", lambda self, tokens, idx, options, env: tokens[idx].content)
    return md


_MD = _build_markdown()
_CORE = dict(zip(_MD.core.ruler.get_active_rules(), _MD.core.ruler.getRules(""), strict=True))
_UP_TO_BLOCK = [fn for name, fn in _CORE.items() if name in ("normalize", "block")]
_AFTER_BLOCK = [fn for name, fn in _CORE.items() if name not in ("normalize", "block")]


def _run(state: StateCore, rules: list[Callable[[StateCore], None]]) -> StateCore:
    for rule in rules:
        rule(state)
    return state


def render_markdown(text: str, *, sources: int = 0, anchor_prefix: str = "") -> str:
    """One-shot render of a whole answer to safe HTML (the reference the incremental render must equal)."""
    return _MD.render(text, {"chatui_sources": sources, "chatui_anchor_prefix": anchor_prefix})


# -- the tail ----------------------------------------------------------------------------------------


def _is_closed(block: Token, src: str, line_starts: list[int]) -> bool:
    """Whether no later line can change this top-level block (the last one of the complete lines):
    a heading or rule; a fence with its closing line; a paragraph, quote or table and a blank line.
    Lists and indented code can go on after a blank line: they wait for the next block."""
    assert block.map is not None
    first, end = block.map
    if block.type in ("heading_open", "hr"):
        return True
    if block.type == "fence" and first < end - 1:
        return _closes_fence(src, line_starts[end - 1], line_starts[end], block.markup)
    if block.type in ("paragraph_open", "blockquote_open", "table_open") and end < len(line_starts) - 1:
        return not src[line_starts[end] : line_starts[end + 1]].strip(" \t\r\n")
    return False


def _closes_fence(text: str, start: int, end: int, marker: str) -> bool:
    """Whether a complete line of text[start:end] could close a fence opened with `marker`."""
    line = start
    while line < end:
        close = _CLOSING_FENCE.match(text, line, end)
        if close is not None and close[1][0] == marker[0] and len(close[1]) >= len(marker):
            return True
        found = _LINE_END.search(text, line, end)
        line = found.end() if found is not None else end
    return False


_WATCHED = ("fence", "bullet_list_open", "ordered_list_open")


def _may_end(block: tuple[str, str], text: str, start: int, end: int) -> bool:
    """Whether a complete line of text[start:end] could end the open `block` (see _WATCHED)."""
    kind, marker = block
    if kind == "fence":
        return _closes_fence(text, start, end, marker)
    return not _continues_list(text, start, end, marker)


def _continues_list(text: str, start: int, end: int, marker: str) -> bool:
    """Whether every complete line of text[start:end] keeps a list open whatever follows: blank,
    or an item with the list's marker (``-``, ``*``, ``+``, or ``.``/``)`` after a number) that is
    not a rule. Other lines may too (an indented or lazy line), but those get parsed."""
    line = start
    while line < end:
        if (blank := _BLANK_LINE.match(text, line, end)) is not None:
            line = blank.end()
            continue
        item = _ITEM_LINE.match(text, line, end)
        if item is None or (item[1] or item[2]) != marker or _THEMATIC_BREAK.match(text, line, end):
            return False
        line = item.end()
    return True


def _can_open_close(s: str, start: int, end: int) -> tuple[bool, bool]:
    """Whether the delimiter run s[start:end] can open / close emphasis (CommonMark flanking)."""
    before, after = s[start - 1] if start else " ", s[end] if end < len(s) else " "
    left = not after.isspace() and (not isPunctChar(after) or before.isspace() or isPunctChar(before))
    right = not before.isspace() and (not isPunctChar(before) or after.isspace() or isPunctChar(after))
    if s[start] == "_":  # no intraword _: snake_case_names stay as they are
        return left and (not right or isPunctChar(before)), right and (not left or isPunctChar(after))
    return left, right


def _scan(s: str) -> tuple[list[list[Any]], int]:
    """Walk inline Markdown, approximating markdown-it (only for the tail): the emphasis runs left
    open ([char, count, end]) and where an unclosed code span starts (-1: none)."""
    stack: list[list[Any]] = []
    i = 0
    while (match := _INLINE_SYNTAX.search(s, i)) is not None:
        i, j, c = match.start(), match.end(), match[0][0]
        if c == "\\":
            j = i + 2
        elif c == "`":
            close = re.compile(rf"(?<!`){match[0]}(?!`)").search(s, j)
            if close is None:
                return stack, i
            j = close.end()
        elif c in "*_~" and (c != "~" or j - i >= 2):
            left, right = _can_open_close(s, i, j)
            count = j - i
            while right and count and any(entry[0] == c for entry in stack):
                k = max(n for n, entry in enumerate(stack) if entry[0] == c)
                used = min(count, stack[k][1])
                stack[k][1] -= used
                count -= used
                del stack[k + (stack[k][1] > 0) :]
            if left and count:
                stack.append([c, count, j])
        elif c == "]":
            j = s.find(")", j) + 1 or len(s)  # skip a link destination
        elif c == "<" and (auto := _AUTOLINK.match(s, i)) is not None:
            j = auto.end()
        i = j
    return stack, -1


def _close_unfinished(s: str) -> str:
    """Close what the model has opened but not yet closed at the end of the last paragraph."""
    half = _HALF_LINK.search(s)
    if half is not None and "`" not in half[0]:
        s = s[: half.start()] + half[1]  # [label](http://par -> label
    s = _HALF_OPENER.sub("", s.rstrip()).rstrip()  # "text **": an opener still being typed
    stack, code_at = _scan(s)
    code_closer = ""
    if code_at >= 0:
        run = len(s) - code_at - len(s[code_at:].lstrip("`"))
        if s[code_at + run :].strip():
            code_closer = s[code_at : code_at + run]
        else:
            s = s[:code_at].rstrip()  # a lone opening backtick: hide it
    while stack and not code_closer and not s[stack[-1][2] :].strip():
        _, count, end = stack.pop()  # an opener with nothing after it yet: hide it
        s = s[: end - count].rstrip()
    return s + code_closer + "".join(c * count for c, count, _ in reversed(stack))


def _fix_tail(tokens: list[Token]) -> str | None:
    """Apply _close_unfinished to the tail's last paragraph or heading, if the tail ends with one.

    Returns how plain text appended to the tail would render: "text" (after the paragraph's or
    heading's text, which has no unfinished markup), "item" (as the text of the empty last item of
    a tight list, once a word starts it), "code" (verbatim, at the end of an open code fence), or
    None (anything else: a table, a rule, hidden markup): then only a re-render shows it.
    """
    for idx in range(len(tokens) - 1, -1, -1):
        tok = tokens[idx]
        if tok.type == "inline":
            if tokens[idx - 1].type == "heading_open" and not tok.content:
                del tokens[idx - 1 : idx + 2]  # a lone "#" still being typed
            elif tokens[idx - 1].type in ("paragraph_open", "heading_open"):
                fixed = _close_unfinished(tok.content)
                unchanged, tok.content = fixed == tok.content, fixed
                return "text" if unchanged else None
            return None
        if tok.nesting != -1:
            if tok.type == "list_item_open":
                return "item" if _tight_list(tokens, idx) else None  # "- ", nothing after it yet
            return "code" if tok.type == "fence" else None  # or a rule, a table row...
    return None


def _tight_list(tokens: list[Token], item: int) -> bool:
    """Whether the list of the item at tokens[item] is tight so far: an earlier item's paragraph is
    hidden (so text in the empty item would render bare in its ``<li>``, as the browser shows it)."""
    level = tokens[item].level
    for tok in reversed(tokens[:item]):
        if tok.level < level:
            return False  # the list's opening: no earlier item with a paragraph
        if tok.type == "paragraph_open" and tok.level == level + 1:
            return tok.hidden
    return False


# -- streaming ----------------------------------------------------------------------------------------


class StreamUpdate(NamedTuple):
    """What the browser should do now (see IncrementalMarkdown.update). A tuple: one is made per
    token, so it must be cheap to build."""

    frozen_html: str  # final HTML since the previous update: append it, never touch it again
    tail_html: str | None  # replaces the previous tail; None: keep the old tail (debounced)
    pending_text: str  # plain TEXT (insert as text, not HTML) to show after the tail until the next one


class IncrementalMarkdown:
    """Renders a streamed answer block by block; see the module docstring for the guarantees."""

    def __init__(
        self,
        *,
        sources: int = 0,
        anchor_prefix: str = "",
        debounce_s: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._env = {"chatui_sources": sources, "chatui_anchor_prefix": anchor_prefix}
        self._debounce_s, self._clock = debounce_s, clock
        self._chunks: list[str] = []
        self._frozen: list[str] = []
        self._buf = ""  # the unfrozen text: everything after the last frozen block
        self._complete = 0  # length of the prefix of _buf made of complete lines
        self._scanned = 0  # _complete when blocks were last looked for
        self._rendered = 0  # len(_buf) when the tail was last rendered
        self._shown = 0  # where the text that tail render shows ends (pending text starts here)
        self._plain_at = 0  # _plain_append: the text from _shown to here is known to be plain
        self._appends: str | None = None  # how that tail shows plain appended text (_fix_tail)
        self._pending_at, self._pending_known = 0, ""  # the pending text known so far (_pending_text)
        self._open: tuple[str, str] | None = None  # (type, markup) of the one block that is all
        # the complete unfrozen lines, if a fence or a list: new lines are parsed only if they could end it
        self._last_render: float | None = None
        self._finished = False
        # Tail caches, so that re-rendering a growing tail costs about what is new in it:
        self._code_cache: dict[Any, Any] = {}  # pieces of highlighted code (see _highlighted)
        self._tail_env = self._env | {"chatui_code_cache": self._code_cache}
        self._inline: dict[str, str] = {}  # inline Markdown -> HTML, from the previous tail render

    @property
    def text(self) -> str:
        """All text fed so far."""
        self._chunks[:] = ["".join(self._chunks)] if self._chunks else []
        return self._chunks[0] if self._chunks else ""

    @property
    def html(self) -> str:
        """All frozen HTML so far (after finish(): the whole answer)."""
        self._frozen[:] = ["".join(self._frozen)] if self._frozen else []
        return self._frozen[0] if self._frozen else ""

    def feed(self, text: str) -> None:
        """Append streamed text, split anywhere (mid-word, mid-syntax, between CR and LF)."""
        if self._finished:
            raise RuntimeError("IncrementalMarkdown.feed() after finish(): start a new one per answer.")
        if "\n" in text or "\r" in text:
            self._complete = len(self._buf) + max(text.rfind("\n"), text.rfind("\r")) + 1
        self._chunks.append(text)
        self._buf += text

    def update(self) -> StreamUpdate:
        """What to send now: newly final blocks, and the tail if it is due for a re-render."""
        if self._finished:
            return StreamUpdate("", None, "")
        frozen = self._freeze() if self._complete > self._scanned else ""
        now, first = self._clock(), self._last_render is None
        due = first or frozen or now - self._last_render >= self._debounce_s  # type: ignore[operator]
        if due and (first or frozen or len(self._buf) != self._rendered) and not self._plain_append(now):
            tail = self._render_tail()
            self._last_render, self._rendered = now, len(self._buf)
            # A paragraph's render drops its trailing blanks: the pending text starts with them.
            self._show_until(len(self._buf) if self._appends == "code" else len(self._buf.rstrip()))
            return StreamUpdate(frozen, tail, "")
        if self._appends == "code":
            return StreamUpdate(frozen, None, self._buf[self._shown :])  # code is shown verbatim
        return StreamUpdate(frozen, None, self._pending_text())

    def finish(self) -> StreamUpdate:
        """Render every remaining block as final, as-is. Safe to call twice (the second is empty)."""
        if self._finished:
            return StreamUpdate("", "", "")
        self._finished = True
        html = _MD.render(self._buf, self._env) if self._buf else ""
        self._frozen.append(html)
        self._buf, self._complete, self._scanned, self._rendered, self._shown = "", 0, 0, 0, 0
        return StreamUpdate(html, "", "")

    def _show_until(self, shown: int) -> None:
        """The browser's tail shows the unfrozen text up to `shown`: the pending text and the
        check for plain text start there."""
        self._shown = self._plain_at = self._pending_at = shown
        self._pending_known = ""

    def _pending_text(self) -> str:
        """The text after the last tail render without Markdown punctuation (`_PENDING_MARKUP`),
        worked out for the new text only: the part before `_pending_at` is known, because no
        match of the pattern can reach across that point whatever text comes next."""
        at, end = self._pending_at, len(self._buf)
        if _MAY_BE_MARKUP.search(self._buf, at) is None and not self._line_start(at):
            self._pending_known += self._buf[at:]  # mid-line, and no markup: the text as it is
            self._pending_at = end
            return self._pending_known
        line = self._buf.rfind("\n", at, end) + 1 or at  # where the last line starts, in the new text
        open_heading = self._line_start(line) and _HEADING_SO_FAR.fullmatch(self._buf, line) is not None
        settled = line if open_heading else end  # a heading marker ("##") may still grow past here
        self._pending_known += self._markup_free(at, settled)
        self._pending_at = settled
        return self._pending_known + self._markup_free(settled, end)

    def _line_start(self, at: int) -> bool:
        """Whether `_PENDING_MARKUP`'s ``^`` matches at `at` in the pending text (which starts at
        `_shown`: there, after any line break; further on, only after a \\n, as `re` has it)."""
        if at == self._shown:
            return at == 0 or self._buf[at - 1] in "\r\n"
        return self._buf[at - 1] == "\n"

    def _markup_free(self, start: int, end: int) -> str:
        if start == end:
            return ""
        if self._line_start(start):
            return _PENDING_MARKUP.sub("", self._buf[start:end])
        return _PENDING_MARKUP.sub("", "x" + self._buf[start:end])[1:]  # "x": no ^ at the start

    def _plain_append(self, now: float) -> bool:
        """Whether everything since the last tail render would render as the plain text the
        browser already shows after it: then a re-render would send the same picture again."""
        if self._appends == "code":  # only set by a render, so _last_render is set too
            waited = now - self._last_render  # type: ignore[operator]
            return waited < CODE_DEBOUNCE_S or not _LINE_END.search(self._buf, self._shown)
        if self._appends == "item":  # after "-": a space or a tab, then a word
            word = _ITEM_WORD.match(self._buf, self._shown)
            if word is None:
                return _ITEM_BLANK.fullmatch(self._buf, self._shown) is not None
            self._appends, self._plain_at = "text", word.end()  # now the item's text goes on
        plain = _PLAIN_APPEND.fullmatch(self._buf, self._plain_at) if self._appends == "text" else None
        if plain is None:
            return False
        # Plain so far: the next check starts at the end, or at the first line break of the blank
        # end (what comes after it decides whether it breaks the paragraph).
        blank = plain["blank"]
        self._plain_at = plain.start("blank") if "\n" in blank or "\r" in blank else len(self._buf)
        return True

    def _freeze(self) -> str:
        """Render and drop every top-level block known to be final; keep the rest as the tail."""
        scanned, self._scanned = self._scanned, self._complete
        if self._open is not None and not _may_end(self._open, self._buf, scanned, self._complete):
            return ""  # the unfrozen text is one open fence or list, and no new line can end it
        src = self._buf[: self._complete]
        state = _run(StateCore(src, _MD, self._env), _UP_TO_BLOCK)
        starts = [n for n, tok in enumerate(state.tokens) if tok.level == 0 and tok.nesting >= 0]
        line_starts = [0, *(m.end() for m in _LINE_END.finditer(src))]
        if starts and _is_closed(state.tokens[starts[-1]], src, line_starts):
            keep, cut = len(state.tokens), len(src)
        elif len(starts) >= 2:
            keep, cut = starts[-1], line_starts[state.tokens[starts[-1]].map[0]]  # type: ignore[index]
        else:
            only = state.tokens[starts[0]] if starts else None
            self._open = (only.type, only.markup) if only is not None and only.type in _WATCHED else None
            return ""
        state.tokens = state.tokens[:keep]
        html = _MD.renderer.render(_run(state, _AFTER_BLOCK).tokens, _MD.options, self._env)
        self._frozen.append(html)
        self._buf = self._buf[cut:]
        self._complete, self._scanned, self._rendered = self._complete - cut, self._scanned - cut, 0
        self._appends, self._open = None, None
        self._show_until(0)
        self._code_cache.clear()
        return html

    def _render_tail(self) -> str:
        """The unfrozen text with fix-ups; only inline content not rendered last time is parsed."""
        if not self._buf.strip():
            self._appends = None
            return ""
        state = _run(StateCore(self._buf, _MD, self._tail_env), _UP_TO_BLOCK)
        self._appends = _fix_tail(state.tokens)
        inlines = [tok for tok in state.tokens if tok.type == "inline"]
        known = {tok.content: self._inline[tok.content] for tok in inlines if tok.content in self._inline}
        fresh = StateCore("", _MD, self._tail_env)
        fresh.tokens = [tok for tok in inlines if tok.content not in known]
        for tok in _run(fresh, _AFTER_BLOCK).tokens:
            known[tok.content] = _MD.renderer.renderInline(tok.children or [], _MD.options, self._tail_env)
        for tok in inlines:
            tok.children = [Token("chatui_cached", "", 0, content=known[tok.content])]
        self._inline = known
        return _MD.renderer.render(state.tokens, _MD.options, self._tail_env)

"""The chat page in a real browser (Debian's Chromium driven by Playwright), fed by the fake upstream
at controlled speeds: streaming, cursor, Stop, scroll pinning, counters, markdown, safety, errors,
wire cost."""

from __future__ import annotations

import statistics
import time

import pytest

from tests.e2e.conftest import Page
from tests.fakes.upstream import FakeUpstream, Script

pytestmark = pytest.mark.e2e

STREAMING = '[data-testid=message][data-role=assistant][data-state=streaming]'
DONE = '[data-testid=message][data-role=assistant][data-state=done]'


def ask(page, question: str) -> None:
    page.get_by_test_id("composer").fill(question)
    page.keyboard.press("Enter")


def last_answer(page, state: str):
    return page.locator(f'[data-testid=message][data-role=assistant][data-state={state}]').last


def test_chat_page_shows_tokens_while_the_upstream_is_still_streaming(page, upstream: FakeUpstream):
    tokens = [f"word{i} " for i in range(40)]
    upstream.script(Script(tokens=tokens, delay_s=0.05))
    ask(page, "How do I install Quillmate?")

    streaming = page.locator(STREAMING)
    streaming.get_by_text("word1", exact=False).wait_for(timeout=10_000)
    record = upstream.requests[-1]
    assert record.completed_at is None and record.tokens_sent < len(tokens)
    assert streaming.get_by_test_id("cursor").count() == 1
    assert streaming.get_by_test_id("source").count() >= 1

    done = last_answer(page, "done")
    done.wait_for(timeout=10_000)
    assert "word39" in done.inner_text()
    assert page.get_by_test_id("cursor").count() == 0
    assert page.locator("[data-testid=message][data-role=user]").inner_text().strip() == (
        "How do I install Quillmate?"
    )
    assert "OpenAI-compatible" in done.inner_text(), "each answer shows its provider and model"


def test_chat_page_shows_the_retrieval_phase_then_sources_then_generating(page, upstream: FakeUpstream):
    upstream.script(Script(tokens=["Done."], first_token_delay_s=1.0))
    ask(page, "How do I install Quillmate with pip?")
    streaming = page.locator(STREAMING)
    streaming.get_by_text("Generating…", exact=False).wait_for(timeout=5_000)
    chips = streaming.get_by_test_id("source")
    assert chips.count() >= 1
    assert "docs/install.md" in chips.first.inner_text()
    assert "Generating" in page.get_by_test_id("status").inner_text()
    assert page.get_by_test_id("messages").get_attribute("aria-busy") == "true"
    assert page.get_by_test_id("messages").get_attribute("role") == "log"
    chips.first.locator("summary").click()
    assert chips.first.locator(".source-snippet").is_visible()
    last_answer(page, "done").wait_for(timeout=5_000)
    assert page.get_by_test_id("messages").get_attribute("aria-busy") == "false"


def test_chat_page_asking_again_leaves_the_conversation_alone_until_the_answer_ends(chat: Page, upstream: FakeUpstream):
    """The browser re-renders the whole conversation when the state holding it changes. Asking in
    a conversation must not change it (measured: the first token waited 10-40 ms for that
    re-render on a page with ten answers), while the earlier answers' Regenerate still waits."""
    upstream.script(Script(tokens=["First answer."]))
    ask(chat.tab, "How do I install Quillmate?")
    regenerate = last_answer(chat.tab, "done").get_by_test_id("regenerate")
    regenerate.wait_for(timeout=10_000)
    assert regenerate.is_enabled()

    upstream.script(Script(tokens=[f"w{i} " for i in range(30)], delay_s=0.05))
    chat.frames.clear()
    ask(chat.tab, "And how do I add my own documents?")
    chat.tab.locator(STREAMING).get_by_text("w3", exact=False).wait_for(timeout=10_000)
    assert regenerate.is_disabled(), "regenerating waits for the answer in flight"
    assert regenerate.evaluate("el => getComputedStyle(el).cursor") == "not-allowed", "and looks it"
    last_answer(chat.tab, "done").get_by_text("w29").wait_for(timeout=10_000)
    assert regenerate.is_enabled()

    texts = [f for f in chat.frames if isinstance(f, str)]
    first_token = next(i for i, f in enumerate(texts) if "w0" in f)
    conversation = "chatui___state____chat_state"
    assert not [f for f in texts[:first_token] if conversation in f], "the ask changed the conversation's state"
    assert any(conversation in f for f in texts[first_token:]), "the finished answer joins the conversation"


RECORD_STOP_CLICK = """() => document.addEventListener("click", (event) => {
    if (event.target.closest('[data-testid=stop]')) {
        window.__stopClickedAt = performance.timeOrigin + performance.now();
    }
}, true)"""


def test_chat_page_stop_closes_the_upstream_within_100ms_and_keeps_the_partial_answer(
    page, upstream: FakeUpstream
):
    upstream.script(Script(tokens=["alpha ", "beta ", "gamma ", "delta"], stall_after=3))
    ask(page, "Tell me about Quillmate")
    page.locator(STREAMING).get_by_text("gamma", exact=False).wait_for(timeout=10_000)

    page.evaluate(RECORD_STOP_CLICK)
    page.get_by_test_id("stop").click()
    record = upstream.wait_for_disconnect(timeout=5)
    stopped = last_answer(page, "stopped")
    stopped.wait_for(timeout=5_000)

    # The browser's click time (epoch) on the test's monotonic clock: same machine, same time.
    clicked_at = page.evaluate("window.__stopClickedAt") / 1000 + (time.monotonic() - time.time())
    assert record.disconnected_at - clicked_at < 0.1
    assert "alpha beta gamma" in stopped.inner_text()
    assert page.get_by_test_id("cursor").count() == 0
    assert page.get_by_test_id("send").is_visible()


def test_chat_page_escape_stops_the_answer(page, upstream: FakeUpstream):
    upstream.script(Script(tokens=["one ", "two"], stall_after=1))
    ask(page, "Tell me about Quillmate")
    page.locator(STREAMING).get_by_text("one", exact=False).wait_for(timeout=10_000)
    page.keyboard.press("Escape")
    upstream.wait_for_disconnect(timeout=5)
    last_answer(page, "stopped").wait_for(timeout=5_000)


def test_chat_page_enter_before_the_page_is_live_sends_the_question_once_it_is(
    browser, app_url: str, upstream: FakeUpstream
):
    """A quick typist on a slow connection: the HTML is there, the app's JavaScript is not yet."""
    upstream.script(Script(tokens=["Sent after all."]))
    context = browser.new_context(viewport={"width": 1000, "height": 800})
    held, holding = [], [True]  # the app's scripts, held back until the question is typed

    def hold(route) -> None:
        held.append(route) if holding else route.continue_()

    context.route(lambda url: url.endswith(".js") and not url.endswith("/chatui.js"), hold)
    try:
        tab = context.new_page()
        tab.goto(app_url, wait_until="commit")
        composer = tab.locator("#composer")
        composer.fill("How do I install Quillmate?")
        composer.press("Enter")
        assert tab.locator(".layout[data-ready=true]").count() == 0, "the page was not live yet"
        assert tab.locator(".composer[data-held]").is_visible(), "the page says it will send"
        holding.clear()
        while held:
            held.pop(0).continue_()
        last_answer(tab, "done").get_by_text("Sent after all.").wait_for(timeout=15_000)
        assert tab.locator("[data-testid=message][data-role=user]").all_inner_texts() == ["How do I install Quillmate?"]
        assert composer.input_value() == "" and tab.locator(".composer[data-held]").count() == 0
    finally:
        context.close()


def test_chat_page_closing_the_tab_aborts_the_upstream_and_keeps_the_answer_as_interrupted(
    browser, app_url: str, upstream: FakeUpstream
):
    upstream.script(Script(tokens=["one ", "two"], stall_after=1))
    tab = Page(browser, app_url, {"width": 1000, "height": 800})  # wide enough for the sidebar
    try:
        ask(tab.tab, "Tell me about Quillmate")
        tab.tab.locator(STREAMING).get_by_text("one", exact=False).wait_for(timeout=10_000)
        closed_at = time.monotonic()
        tab.tab.close()
        record = upstream.wait_for_disconnect(timeout=10)
        assert record.disconnected_at - closed_at < 5
        # The same person, in a new tab: the answer is there, interrupted (nobody pressed Stop).
        again = tab.context.new_page()
        again.goto(app_url)
        again.get_by_test_id("conversation").first.click()
        last_answer(again, "interrupted").get_by_text("one", exact=False).wait_for(timeout=10_000)
    finally:
        tab.context.close()


def test_chat_page_answer_survives_a_network_blip_of_several_seconds(page, upstream: FakeUpstream):
    # The connection drops for 6 s without the page going anywhere (no beacon): the answer goes on,
    # and the page shows all of it once it reconnects. A closed tab still stops it within seconds
    # (the test above).
    upstream.script(Script(tokens=[f"w{i} " for i in range(200)], delay_s=0.1))
    ask(page, "Tell me a long story")
    streaming = page.locator(STREAMING)
    streaming.get_by_text("w5", exact=False).wait_for(timeout=10_000)
    page.context.set_offline(True)
    page.wait_for_timeout(6_000)
    page.context.set_offline(False)
    streaming.get_by_text("w170", exact=False).wait_for(timeout=15_000)
    words = streaming.locator(".chatui-md").inner_text().split()
    assert words == [f"w{i}" for i in range(len(words))], "back online, the stream shows what it missed"
    done = last_answer(page, "done")
    done.wait_for(timeout=15_000)
    assert done.locator(".chatui-md").inner_text().split() == [f"w{i}" for i in range(200)]
    assert upstream.requests[-1].disconnected_at is None


# The answer's first paragraph at the top of the message list, and how far it is below that top.
FIRST_VISIBLE_LINE = """el => {
    const top = el.getBoundingClientRect().top;
    const line = [...el.querySelectorAll('[data-role="assistant"] .chatui-md p')]
        .find((p) => p.getBoundingClientRect().bottom > top);
    return [line.textContent, Math.round(line.getBoundingClientRect().top - top)];
}"""


def test_chat_page_scroll_pinning_follows_only_at_the_bottom(page, upstream: FakeUpstream):
    upstream.script(Script(tokens=[f"Line {i} of a long answer.\n\n" for i in range(400)], delay_s=0.01))
    ask(page, "Tell me everything about Quillmate")
    messages = page.get_by_test_id("messages")
    count = page.locator(STREAMING).get_by_test_id("token-count")
    page.locator(STREAMING).get_by_text("Line 60", exact=False).wait_for(timeout=10_000)
    at_bottom = "el => el.scrollHeight - el.scrollTop - el.clientHeight <= 4"
    assert messages.evaluate(at_bottom), "pinned while at the bottom"

    messages.hover()
    page.mouse.wheel(0, -400)
    page.wait_for_timeout(200)
    top = messages.evaluate("el => el.scrollTop")
    before = int(count.inner_text())
    page.wait_for_timeout(600)
    assert int(count.inner_text()) > before, "tokens kept arriving"
    assert messages.evaluate("el => el.scrollTop") == top, "an unpinned reader is never moved"
    jump = page.get_by_test_id("jump-latest")
    assert jump.is_visible()

    jump.click()
    page.wait_for_timeout(700)
    assert messages.evaluate(at_bottom)
    assert not jump.is_visible()

    messages.hover()
    page.mouse.wheel(0, -300)
    page.wait_for_timeout(200)
    seen = messages.evaluate(FIRST_VISIBLE_LINE)
    last_answer(page, "done").wait_for(timeout=15_000)
    page.wait_for_timeout(300)
    # The final HTML replaces the streamed DOM (its off-screen blocks sized as their streamed twins
    # were): the reader's line stays where it was, to the pixel.
    assert messages.evaluate(FIRST_VISIBLE_LINE) == seen, "not moved when the answer ends"

    upstream.script(Script(tokens=["Short answer."]))
    ask(page, "And one more thing?")
    page.locator(DONE).nth(1).wait_for(timeout=10_000)
    page.wait_for_timeout(300)
    assert messages.evaluate(at_bottom), "sending a new message pins"


def test_chat_page_pinned_reader_sees_the_end_of_a_long_finished_answer(page, upstream: FakeUpstream):
    # The final HTML's off-screen blocks are not laid out, only given their streamed heights: a pinned
    # reader must still end at the true bottom, on the last line. Frames come late here, as on a busy
    # page, so the answer ends long after the last frame measured it: the heights are still carried
    # (the page measures again when the answer ends, before the final HTML replaces the streamed one).
    page.evaluate("""() => {
        const frame = window.requestAnimationFrame.bind(window);
        window.requestAnimationFrame = (callback) => setTimeout(() => frame(callback), 150);
    }""")
    upstream.script(Script(tokens=[f"Line {i} of a long answer.\n\n```\ncode {i}\n```\n\n" for i in range(150)],
                           delay_s=0.002))
    ask(page, "Tell me everything about Quillmate")
    last_answer(page, "done").wait_for(timeout=15_000)
    page.wait_for_timeout(500)
    messages = page.get_by_test_id("messages")
    assert messages.evaluate("el => el.scrollHeight - el.scrollTop - el.clientHeight <= 4")
    last_line = page.locator(DONE).get_by_text("code 149", exact=True)
    box, view = last_line.bounding_box(), messages.bounding_box()
    assert box is not None and view is not None
    assert view["y"] <= box["y"] and box["y"] + box["height"] <= view["y"] + view["height"], "the last line is in view"
    skips = page.locator(f"{DONE} .chatui-md").last.evaluate(
        "md => [...md.children].map(block => block.style.contentVisibility === 'auto')"
    )
    assert skips[0] and not any(skips[-6:]), "blocks far above skip layout; the ones in view do not"


def test_chat_page_counters_increase_during_the_stream_then_show_usage(page, upstream: FakeUpstream):
    upstream.script(Script(tokens=[f"t{i} " for i in range(150)], delay_s=0.03, input_tokens=1234))
    ask(page, "Count for me")
    streaming = page.locator(STREAMING)
    streaming.get_by_test_id("token-count").wait_for(timeout=10_000)
    page.wait_for_timeout(400)
    assert streaming.get_by_test_id("ttft").inner_text().endswith("ms")
    assert float(streaming.get_by_test_id("tokens-per-sec").inner_text()) > 0
    seen = []
    for _ in range(5):
        seen.append(int(streaming.get_by_test_id("token-count").inner_text()))
        page.wait_for_timeout(300)
    assert seen == sorted(seen) and seen[-1] > seen[0]

    done = last_answer(page, "done")
    done.wait_for(timeout=15_000)
    assert done.get_by_test_id("token-count").inner_text() == "150"
    text = done.inner_text()
    assert "1,234 in" in text and "150 out" in text and "estimated" not in text


def test_chat_page_renders_an_unclosed_code_fence_as_code_while_streaming(page, upstream: FakeUpstream):
    tokens = ["Here is code:\n\n", "```python\n", "def greet():\n", "    return 'hi'\n", "more"]
    upstream.script(Script(tokens=tokens, stall_after=4))
    ask(page, "Show me code")
    code = page.locator(STREAMING).locator("pre code")
    code.wait_for(timeout=10_000)
    page.wait_for_function(
        "() => document.querySelector('[data-state=streaming] pre code')?.textContent.includes('return')"
    )
    assert "def greet" in code.inner_text()
    assert "```" not in page.locator(STREAMING).inner_text()
    page.get_by_test_id("stop").click()
    last_answer(page, "stopped").wait_for(timeout=5_000)


def test_chat_page_renders_markdown_with_highlighted_code_and_citation_links(page, upstream: FakeUpstream):
    tokens = ["Install it [1].\n\n", "**Bold** and `code`.\n\n", "```python\n", "print('x')\n", "```\n"]
    upstream.script(Script(tokens=tokens))
    ask(page, "How do I install Quillmate with pip?")
    done = last_answer(page, "done")
    done.wait_for(timeout=10_000)
    assert done.locator("strong").inner_text() == "Bold"
    assert done.locator(".code-block .code-copy").count() == 1
    assert done.locator("pre code span").count() >= 1, "Pygments spans: highlighted"
    cite = done.locator("a.cite").first
    assert cite.inner_text() == "[1]"
    cite.click()
    target = cite.get_attribute("href").lstrip("#")
    assert page.locator(f"[id='{target}']").get_attribute("open") is not None


XSS = [
    "<script>alert('script')</script>\n\n",
    "<img src=x onerror=\"alert('img')\">\n\n",
    "<style>body { display: none !important; background: red; }</style>\n\n",
    "<iframe src=\"javascript:alert('iframe')\"></iframe>\n\n",
    "[click me](javascript:alert('link')) and [again](JaVaScRiPt:alert('case'))\n\n",
    "![tracker](https://example.invalid/pixel.png)\n\n",
    "<a href=\"javascript:alert('a')\">raw link</a> *fine*\n",
]


PAGE_STYLE = """() => [
    getComputedStyle(document.body).display,
    getComputedStyle(document.body).backgroundColor,
    document.styleSheets.length,
]"""


def test_chat_page_executes_nothing_from_a_hostile_answer(chat: Page, upstream: FakeUpstream):
    page = chat.tab
    before = page.evaluate(PAGE_STYLE)
    upstream.script(Script(tokens=XSS, delay_s=0.05))
    ask(page, "Say something dangerous")
    done = last_answer(page, "done")
    done.wait_for(timeout=10_000)
    page.wait_for_timeout(300)

    assert chat.dialogs == []
    assert chat.console_errors == []
    after = page.evaluate(PAGE_STYLE)
    assert after == before, "the answer changed no page style"
    answer = done.locator(".chatui-md")
    for tag in ("script", "img", "style", "iframe"):
        assert answer.locator(tag).count() == 0, tag
    hrefs = [a.get_attribute("href") or "" for a in answer.locator("a").all()]
    assert not any(h.lower().startswith(("javascript:", "vbscript:", "data:")) for h in hrefs)
    assert "<script>" in done.inner_text(), "raw HTML is shown as text"


def test_chat_page_mid_stream_error_keeps_the_partial_answer_and_retry_works(page, upstream: FakeUpstream):
    upstream.script(Script(tokens=["Partial ", "answer ", "lost"], error_after=2), Script(tokens=["Recovered."]))
    ask(page, "Tell me about Quillmate")
    failed = last_answer(page, "error")
    failed.wait_for(timeout=10_000)
    assert "Partial answer" in failed.inner_text()
    assert failed.get_by_test_id("error").is_visible()
    failed.get_by_test_id("retry").click()
    done = last_answer(page, "done")
    done.wait_for(timeout=10_000)
    assert "Recovered." in done.inner_text()
    assert page.locator("[data-testid=message][data-role=user]").count() == 1, "retry reuses the question"


def test_chat_page_error_before_any_token_shows_the_providers_message(page, upstream: FakeUpstream):
    upstream.script(Script(http_error=401))
    ask(page, "Tell me about Quillmate")
    failed = last_answer(page, "error")
    failed.wait_for(timeout=10_000)
    assert "OPENAI_API_KEY" in failed.get_by_test_id("error").inner_text()
    assert failed.get_by_test_id("retry").is_visible()


def test_chat_page_composer_enter_sends_shift_enter_breaks_blank_is_not_sent(page, upstream: FakeUpstream):
    composer = page.get_by_test_id("composer")
    composer.fill("   ")
    page.keyboard.press("Enter")
    page.wait_for_timeout(300)
    assert page.get_by_test_id("message").count() == 0

    composer.fill("")
    composer.type("first line")
    page.keyboard.press("Shift+Enter")
    composer.type("second line")
    assert composer.input_value() == "first line\nsecond line"
    page.keyboard.press("Enter")
    last_answer(page, "done").wait_for(timeout=10_000)
    assert "first line\nsecond line" in page.locator("[data-role=user]").inner_text()
    assert composer.input_value() == ""
    assert page.evaluate("() => document.activeElement?.id") == "composer", "the composer keeps focus"


def test_chat_page_too_long_a_question_is_refused_and_kept(page, upstream: FakeUpstream):
    composer = page.get_by_test_id("composer")
    composer.fill("x" * 9000)
    page.keyboard.press("Enter")
    page.get_by_role("alert").wait_for(timeout=5_000)
    assert "CHATUI_MAX_MESSAGE_CHARS" in page.get_by_role("alert").inner_text()
    assert len(composer.input_value()) == 9000, "nothing the user typed is lost"
    assert not upstream.requests


def test_chat_page_wire_cost_per_answer_stays_flat(browser, app_url: str, upstream: FakeUpstream):
    """Naive streaming resends the whole answer on every update: O(n²) bytes. chatui's updates carry
    only what changed, so a 4x longer answer costs less than 4x the bytes (each in a fresh tab, so
    that the conversation itself is not counted)."""

    def answer_bytes(tokens: int) -> int:
        tab = Page(browser, app_url, {"width": 1000, "height": 800})
        try:
            words = [f"w{i}" + ("\n\n" if i % 20 == 19 else " ") for i in range(tokens)]
            upstream.script(Script(tokens=words, delay_s=0.002))
            start = tab.received_bytes()
            ask(tab.tab, f"Give me {tokens} tokens")
            last_answer(tab.tab, "done").wait_for(timeout=30_000)
            return tab.received_bytes() - start
        finally:
            tab.context.close()

    # Frames per answer depend on scheduling (a loaded machine packs more tokens per frame), so
    # each size is measured three times and the medians compared.
    short = statistics.median(answer_bytes(500) for _ in range(3))
    long = statistics.median(answer_bytes(2000) for _ in range(3))
    print(f"websocket bytes: 500 tokens {short}, 2000 tokens {long}, ratio {long / short:.2f}")
    assert long < 4 * short


def stream_frames(frames: list[str | bytes]) -> tuple[list[str], list[str]]:
    """The answer's text messages received: bare socket messages, and scripts through Reflex."""
    texts = [f for f in frames if isinstance(f, str)]
    bare = [f for f in texts if f.startswith('42/_event,["chatui",')]
    scripts = [f for f in texts if "chatui.more(" in f or "chatui.stream(" in f]
    return bare, scripts


def stream_words(tab: Page, upstream: FakeUpstream, count: int) -> tuple[list[str], list[str]]:
    """Ask for an answer of `count` words, check that every word is shown, and return the answer's
    text messages as `stream_frames` sorts them."""
    words = [f"w{i} " for i in range(count)]
    upstream.script(Script(tokens=words, delay_s=0.005))
    ask(tab.tab, f"Give me {count} words")
    last_answer(tab.tab, "done").wait_for(timeout=15_000)
    assert " ".join(w.strip() for w in words) in last_answer(tab.tab, "done").inner_text()
    return stream_frames(tab.frames)


def test_chat_page_streams_text_as_bare_socket_messages(chat: Page, upstream: FakeUpstream):
    """Once the page has attached to its websocket, the answer's text comes as `chatui` socket
    messages of a few bytes each, not as scripts through Reflex's event queue (~140 bytes each)."""
    chat.tab.wait_for_function("document.documentElement.dataset.chatuiLane === 'socket'")
    bare, scripts = stream_words(chat, upstream, 200)
    assert not scripts and len(bare) >= 20, (len(bare), len(scripts))
    more = [f for f in bare if f.startswith('42/_event,["chatui","')]  # plain "more text" messages
    assert more and max(len(f) - len('42/_event,["chatui",""]') for f in more) < 60


def test_chat_page_without_the_socket_lane_streams_through_reflex_events(browser, app_url: str, upstream: FakeUpstream):
    """A page that cannot attach (an old chatui.js, another Reflex) still gets every word."""
    tab = Page(browser, app_url, {"width": 1000, "height": 800}, init_script=(
        "document.addEventListener('DOMContentLoaded', () => { window.chatui.attach = () => false; });"
    ))
    try:
        bare, scripts = stream_words(tab, upstream, 100)
        assert scripts and not bare
    finally:
        tab.context.close()


def test_chat_page_never_sends_a_secret_to_the_browser(chat: Page, upstream: FakeUpstream):
    upstream.script(Script(tokens=["Safe."]))
    ask(chat.tab, "Anything")
    last_answer(chat.tab, "done").wait_for(timeout=10_000)
    sent = "".join(f if isinstance(f, str) else f.decode(errors="replace") for f in chat.frames)
    assert "sk-test" not in sent
    assert "sk-test" not in chat.tab.content()


def test_chat_page_fits_a_phone(browser, app_url: str, upstream: FakeUpstream):
    phone = Page(browser, app_url, {"width": 375, "height": 700})
    try:
        upstream.script(Script(tokens=["A fairly long answer that must wrap on a small screen. " * 5]))
        ask(phone.tab, "How do I install Quillmate?")
        last_answer(phone.tab, "done").wait_for(timeout=10_000)
        overflow = phone.tab.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0
        assert phone.tab.get_by_test_id("send").is_visible()
    finally:
        phone.context.close()


def test_chat_page_reload_mid_answer_shows_the_answer_so_far_and_keeps_streaming(
    page, upstream: FakeUpstream
):
    tokens = [f"part{i} " + ("\n\n" if i % 5 == 4 else "") for i in range(30)]
    upstream.script(Script(tokens=tokens, delay_s=0.1))
    ask(page, "Tell me a long story")
    page.locator(STREAMING).get_by_text("part8", exact=False).wait_for(timeout=10_000)
    page.reload()
    streaming = page.locator(STREAMING)
    streaming.get_by_text("part2", exact=False).wait_for(timeout=10_000)  # what came before the reload
    done = last_answer(page, "done")
    done.wait_for(timeout=15_000)
    words = done.locator(".chatui-md").inner_text().split()
    assert words == [f"part{i}" for i in range(30)], "nothing lost, nothing twice"
    assert upstream.requests[-1].disconnected_at is None, "a reload is not a close"


def test_chat_page_reload_while_the_model_pauses_shows_the_answer_so_far_at_once(page, upstream: FakeUpstream):
    # The model stalls after a few words: the reloaded page must not wait for the next token to
    # show what came before it.
    upstream.script(Script(tokens=[f"word{i} " for i in range(6)], delay_s=0.05, stall_after=6))
    ask(page, "Think hard about this")
    page.locator(STREAMING).get_by_text("word5", exact=False).wait_for(timeout=10_000)
    page.reload()
    page.locator(STREAMING).get_by_text("word5", exact=False).wait_for(timeout=5_000)
    assert page.locator(STREAMING).locator(".chatui-md").inner_text().split() == [f"word{i}" for i in range(6)]
    page.get_by_test_id("stop").click()
    last_answer(page, "stopped").wait_for(timeout=5_000)

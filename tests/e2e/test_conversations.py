"""Conversations that survive, in a real browser: the sidebar, regenerate and edit, feedback, export,
two users kept apart, stale tabs, and a server restart in the middle of an answer."""

from __future__ import annotations

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from chatui.answer_record import SAVE_EVERY_S
from tests.e2e.conftest import App, Page, ready
from tests.fakes.upstream import FakeUpstream, Script

pytestmark = pytest.mark.e2e

ANSWER = '[data-testid=message][data-role=assistant]'


def ask(page, question: str) -> None:
    page.get_by_test_id("composer").fill(question)
    page.keyboard.press("Enter")


def answered(page, index: int = -1, state: str = "done"):
    locator = page.locator(f"{ANSWER}[data-state={state}]")
    target = locator.last if index == -1 else locator.nth(index)
    try:
        target.wait_for(timeout=15_000)
    except PlaywrightTimeoutError:
        shown = page.locator(ANSWER).evaluate_all("els => els.map(e => e.dataset.state)")
        notices = page.locator(".notice").all_inner_texts()
        pytest.fail(f"no {state!r} answer within 15 s; the page shows answers {shown}, notices {notices}")
    return target


def sidebar_titles(page) -> list[str]:
    return [t.strip() for t in page.get_by_test_id("conversations").locator(".conversation-title").all_inner_texts()]


def test_conversations_sidebar_lists_reopens_searches_renames_and_deletes(chat: Page, upstream: FakeUpstream):
    page = chat.tab
    upstream.script(Script(tokens=["Pip works."]), Script(tokens=["Use the tray icon."]))
    ask(page, "How do I install Quillmate?")
    answered(page)
    page.get_by_test_id("new-chat").click()
    page.wait_for_function(f"() => document.querySelectorAll('{ANSWER}').length === 0")
    ask(page, "Where is the sync status?")
    answered(page)
    page.wait_for_function("() => document.querySelectorAll('[data-testid=conversation]').length === 2")
    assert sidebar_titles(page) == ["Where is the sync status?", "How do I install Quillmate?"]

    page.get_by_test_id("conversation").nth(1).click()
    page.get_by_text("Pip works.").wait_for()
    assert page.locator("[data-role=user]").inner_text().strip() == "How do I install Quillmate?"

    page.get_by_test_id("search").fill("tray icon")  # found in a message, not a title
    page.wait_for_function("() => document.querySelectorAll('[data-testid=conversation]').length === 1")
    assert sidebar_titles(page) == ["Where is the sync status?"]
    page.get_by_test_id("search").fill("")
    page.wait_for_function("() => document.querySelectorAll('[data-testid=conversation]').length === 2")

    title = page.get_by_test_id("title")
    title.fill("Installing")
    title.press("Enter")
    page.wait_for_function("() => [...document.querySelectorAll('.conversation-title')].some(t => t.textContent === 'Installing')")

    page.get_by_test_id("delete-conversation").first.click()
    page.get_by_test_id("confirm-delete").click()
    page.wait_for_function("() => document.querySelectorAll('[data-testid=conversation]').length === 1")


def test_conversations_regenerate_keeps_the_previous_answer_to_flip_back_to(page, upstream: FakeUpstream):
    upstream.script(Script(tokens=["First answer."]), Script(tokens=["Second answer."]))
    ask(page, "How do I install Quillmate?")
    answered(page).get_by_test_id("regenerate").click()
    page.get_by_text("Second answer.").wait_for(timeout=15_000)
    answer = answered(page)
    assert answer.get_by_test_id("alternative-index").inner_text().replace(" ", "") == "2/2"
    answer.get_by_test_id("previous-alternative").click()
    page.get_by_text("First answer.").wait_for()
    assert answered(page).get_by_test_id("alternative-index").inner_text().replace(" ", "") == "1/2"


def test_conversations_edit_a_question_and_resend_from_there(page, upstream: FakeUpstream):
    upstream.script(Script(tokens=["About pip."]), Script(tokens=["About brew."]))
    ask(page, "How do I install with pip?")
    answered(page)
    page.get_by_test_id("edit").click()
    box = page.get_by_test_id("edit-box")
    box.fill("How do I install with brew?")
    page.get_by_test_id("edit-send").click()
    page.get_by_text("About brew.").wait_for(timeout=15_000)
    assert page.locator("[data-role=user]").count() == 1
    assert "How do I install with brew?" in page.locator("[data-role=user]").inner_text()
    assert "About pip." not in page.locator(ANSWER).all_inner_texts()[0]
    assert upstream.requests[-1].body["messages"][-1]["content"].endswith("with brew?")


def test_conversations_feedback_is_stored(page, upstream: FakeUpstream):
    upstream.script(Script(tokens=["Helpful."]))
    ask(page, "Is this helpful?")
    answered(page).get_by_test_id("thumbs-up").click()
    page.wait_for_function("() => document.querySelector('[data-testid=thumbs-up]').getAttribute('aria-pressed') === 'true'")
    page.get_by_test_id("comment").click()
    page.get_by_test_id("comment-box").fill("Exactly what I needed")
    page.get_by_test_id("comment-send").click()
    page.reload()
    page.get_by_test_id("conversation").first.click()
    page.wait_for_function("() => document.querySelector('[data-testid=thumbs-up]')?.getAttribute('aria-pressed') === 'true'")


def test_conversations_export_markdown_and_json(page, upstream: FakeUpstream, tmp_path):
    upstream.script(Script(tokens=["Run ", "`pip install quillmate`."]))
    ask(page, "How do I install Quillmate with pip?")
    answered(page)
    with page.expect_download() as markdown:
        page.get_by_test_id("export-md").click()
    text = open(markdown.value.path(), encoding="utf-8").read()
    assert "How do I install Quillmate with pip?" in text and "pip install quillmate" in text
    with page.expect_download() as as_json:
        page.get_by_test_id("export-json").click()
    assert as_json.value.suggested_filename.endswith(".json")
    assert '"messages"' in open(as_json.value.path(), encoding="utf-8").read()


def test_conversations_two_users_never_see_each_other(browser, app_url: str, upstream: FakeUpstream):
    alice, bob = (Page(browser, app_url, {"width": 1000, "height": 800}) for _ in range(2))
    try:
        upstream.script(Script(tokens=["Alpaca budget is 42."]))
        ask(alice.tab, "What is the alpaca budget?")
        answered(alice.tab)
        alice.tab.wait_for_function("() => document.querySelectorAll('[data-testid=conversation]').length === 1")
        bob.tab.reload()
        ready(bob.tab)
        bob.tab.get_by_test_id("search").fill("alpaca")
        bob.tab.wait_for_timeout(800)
        assert bob.tab.get_by_test_id("conversation").count() == 0
    finally:
        alice.context.close()
        bob.context.close()


def test_conversations_a_deleted_conversation_from_an_old_tab_says_so(browser, app_url: str, upstream: FakeUpstream):
    first = Page(browser, app_url, {"width": 1000, "height": 800})
    try:
        upstream.script(Script(tokens=["Soon gone."]))
        ask(first.tab, "Temporary question")
        answered(first.tab)
        second = first.context.new_page()  # same browser, same user, an older view of the list
        second.goto(app_url)
        second.get_by_test_id("conversation").first.wait_for()
        first.tab.get_by_test_id("delete-conversation").first.click()
        first.tab.get_by_test_id("confirm-delete").click()
        first.tab.wait_for_function("() => document.querySelectorAll('[data-testid=conversation]').length === 0")
        second.get_by_test_id("conversation").first.click()
        second.get_by_text("no longer exists").wait_for()
    finally:
        first.context.close()


@pytest.mark.parametrize("crash", [False, True], ids=["restart", "crash"])
def test_conversations_a_server_restart_mid_answer_keeps_the_partial_answer_as_interrupted(
    app: App, chat: Page, upstream: FakeUpstream, crash: bool
):
    """Graceful or not, the answer is kept, marked interrupted (not stopped: nobody pressed Stop),
    and the reloaded tab can ask again."""
    page = chat.tab
    tokens_per_s, seen = 20, 40
    # Long enough (100 s) that it cannot finish during the restart, however slow the machine.
    upstream.script(Script(tokens=[f"piece{i} " for i in range(2000)], delay_s=1 / tokens_per_s))
    ask(page, "Tell me a long story")
    page.locator(f"{ANSWER}[data-state=streaming]").get_by_text(f"piece{seen}", exact=False).wait_for(timeout=20_000)
    app.restart(crash)
    page.reload()
    page.get_by_test_id("conversation").first.click()
    interrupted = answered(page, state="interrupted")
    words = interrupted.locator(".chatui-md").inner_text().split()
    # The answer is saved about once a second, so a restart loses at most the last second of it.
    at_least = seen - tokens_per_s * SAVE_EVERY_S - 5
    assert len(words) >= at_least and words == [f"piece{i}" for i in range(len(words))], "the saved part, in order"
    assert interrupted.get_by_test_id("regenerate").is_visible()
    assert page.get_by_test_id("send").is_visible() and not page.get_by_test_id("stop").is_visible()


def test_conversations_two_tabs_writing_to_one_conversation_lose_and_duplicate_nothing(
    browser, app_url: str, upstream: FakeUpstream
):
    first = Page(browser, app_url, {"width": 1000, "height": 800})
    try:
        upstream.script(Script(tokens=["One."]), Script(tokens=["Two."]), Script(tokens=["Three."]))
        ask(first.tab, "First question")
        answered(first.tab)
        second = first.context.new_page()  # the same user in another tab
        second.goto(app_url)
        second.get_by_test_id("conversation").first.click()
        second.get_by_text("One.").wait_for()

        ask(first.tab, "Second question, from tab one")
        answered(first.tab, index=1)
        ask(second, "Third question, from a stale tab two")
        second.get_by_text("changed in another tab").wait_for(timeout=10_000)
        second.get_by_text("Second question, from tab one").wait_for(timeout=10_000)
        assert second.get_by_test_id("composer").input_value() == "Third question, from a stale tab two"

        second.keyboard.press("Enter")  # now up to date: it goes through
        answered(second, index=2)
        questions = [q.strip() for q in second.locator("[data-role=user] .user-text").all_inner_texts()]
        assert questions == ["First question", "Second question, from tab one", "Third question, from a stale tab two"]
    finally:
        first.context.close()

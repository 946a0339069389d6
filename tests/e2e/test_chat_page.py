"""The chat page in a real browser (Debian's Chromium driven by Playwright), fed by the fake upstream."""

from __future__ import annotations

import time

import pytest

from tests.fakes.upstream import FakeUpstream, Script

pytestmark = pytest.mark.e2e


def ask(page, question: str) -> None:
    page.get_by_test_id("composer").fill(question)
    page.keyboard.press("Enter")


def test_chat_page_shows_tokens_while_the_upstream_is_still_streaming(page, upstream: FakeUpstream):
    tokens = [f"word{i} " for i in range(40)]
    upstream.script(Script(tokens=tokens, delay_s=0.05))
    ask(page, "How do I install Quillmate?")

    streaming = page.locator('[data-testid=message][data-role=assistant][data-state=streaming]')
    streaming.get_by_text("word1", exact=False).wait_for(timeout=10_000)
    record = upstream.requests[-1]
    assert record.completed_at is None and record.tokens_sent < len(tokens)
    assert streaming.get_by_test_id("cursor").count() == 1
    assert page.get_by_test_id("sources").first.get_by_test_id("source").count() >= 1

    done = page.locator('[data-testid=message][data-role=assistant][data-state=done]')
    done.wait_for(timeout=10_000)
    assert "word39" in done.inner_text()
    assert page.get_by_test_id("cursor").count() == 0
    assert page.locator("[data-testid=message][data-role=user]").inner_text().strip() == (
        "How do I install Quillmate?"
    )


def test_chat_page_stop_closes_the_upstream_and_keeps_the_partial_answer(
    page, upstream: FakeUpstream
):
    upstream.script(Script(tokens=["alpha ", "beta ", "gamma ", "delta"], stall_after=3))
    ask(page, "Tell me about Quillmate")
    page.get_by_text("gamma", exact=False).wait_for(timeout=10_000)

    clicked_at = time.monotonic()
    page.get_by_test_id("stop").click()
    record = upstream.wait_for_disconnect(timeout=5)
    stopped = page.locator('[data-testid=message][data-role=assistant][data-state=stopped]')
    stopped.wait_for(timeout=5_000)

    assert record.disconnected_at - clicked_at < 0.5
    assert "alpha beta gamma" in stopped.inner_text()
    assert page.get_by_test_id("send").is_visible()

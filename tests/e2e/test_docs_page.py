"""The Docs page in a real browser: see the knowledge base, upload documents, watch them being
indexed, then ask about them from the chat page in that knowledge base."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import E2E_MAX_UPLOAD_BYTES
from tests.fakes.upstream import FakeUpstream

pytestmark = pytest.mark.e2e


def test_docs_page_lists_the_knowledge_base(page, app_url: str):
    page.goto(f"{app_url}/docs")
    summary = page.get_by_test_id("kb-summary")
    summary.get_by_text("4", exact=True).wait_for()
    assert summary.inner_text().startswith("4 files") and "chunks" in summary.inner_text()
    assert "docs/install.md" in page.get_by_test_id("files").inner_text()


def test_docs_page_upload_indexes_and_the_chat_answers_from_it(
    page, app_url: str, tmp_path: Path, upstream: FakeUpstream
):
    handbook = tmp_path / "team-handbook.md"
    handbook.write_text("# Team handbook\n\n## Lunch\n\nThe team lunch is every Thursday at the Blue Fern.\n")
    page.goto(f"{app_url}/docs")
    page.get_by_test_id("kb-summary").get_by_text("4", exact=True).wait_for()  # the default KB loaded
    page.get_by_test_id("collection").fill("team-kb")
    page.get_by_test_id("collection").press("Enter")
    page.wait_for_function("() => document.querySelector('[data-testid=kb-summary]').textContent.startsWith('0 files')")

    page.locator("[data-testid=dropzone] input[type=file]").set_input_files(str(handbook))
    page.get_by_text("team-handbook.md").wait_for()
    page.get_by_test_id("upload").click()
    done = page.get_by_test_id("ingest-done")
    done.wait_for(timeout=20_000)
    assert "Indexed 1 file(s)" in done.inner_text()
    assert "100%" in page.get_by_test_id("ingest-progress").inner_text()
    page.wait_for_function("() => document.querySelector('[data-testid=files]').textContent.includes('team-handbook.md')")

    page.get_by_test_id("nav-chat").click()
    page.get_by_test_id("kb-select").select_option("team-kb")
    page.get_by_test_id("composer").fill("When is the team lunch?")
    page.keyboard.press("Enter")
    answer = page.locator("[data-testid=message][data-role=assistant][data-state=done]").last
    answer.wait_for(timeout=10_000)
    assert "team-handbook.md" in answer.get_by_test_id("sources").inner_text()
    assert "Blue Fern" in upstream.requests[-1].body["messages"][-1]["content"], "the model got the passage"


def test_docs_page_upload_over_the_size_limit_is_skipped_and_says_which_setting(
    page, app_url: str, tmp_path: Path
):
    small = tmp_path / "small-note.md"
    small.write_text("# Small note\n\nThe parking garage opens at seven.\n")
    huge = tmp_path / "huge-export.md"
    huge.write_text("# Huge export\n\n" + "Padding line for the size limit.\n" * (E2E_MAX_UPLOAD_BYTES // 30))
    page.goto(f"{app_url}/docs")
    page.get_by_test_id("kb-summary").get_by_text("4", exact=True).wait_for()
    page.get_by_test_id("collection").fill("limits-kb")
    page.get_by_test_id("collection").press("Enter")
    page.wait_for_function("() => document.querySelector('[data-testid=kb-summary]').textContent.startsWith('0 files')")

    page.locator("[data-testid=dropzone] input[type=file]").set_input_files([str(small), str(huge)])
    page.get_by_text("huge-export.md").wait_for()
    page.get_by_test_id("upload").click()
    page.get_by_test_id("ingest-done").wait_for(timeout=20_000)
    assert "Indexed 1 file(s)" in page.get_by_test_id("ingest-done").inner_text()
    skipped = page.get_by_text("CHATUI_MAX_UPLOAD_BYTES")
    assert "huge-export.md" in skipped.inner_text()
    page.wait_for_function("() => document.querySelector('[data-testid=files]').textContent.includes('small-note.md')")
    assert "huge-export.md" not in page.get_by_test_id("files").inner_text()

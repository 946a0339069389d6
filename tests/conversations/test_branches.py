"""Regenerate and edit: alternatives stay stored, the active path follows the selection."""

from __future__ import annotations

import pytest

from chatui.conversations import ConversationStore
from chatui.conversations.branches import Node, Tree
from chatui.errors import InputError
from tests.conversations.conftest import answered

USER = "ada"


async def contents(store: ConversationStore, conversation_id: str) -> list[str]:
    return [m.content for m in (await store.get_conversation(USER, conversation_id)).messages]


async def regenerate(
    store: ConversationStore, conversation_id: str, question: str, text: str
) -> str:
    answer = await store.start_assistant_message(USER, conversation_id, question, "p", "m")
    await store.finish_assistant_message(USER, answer, state="complete", content=text)
    return answer


async def test_branches_regenerate_keeps_previous_answer(store: ConversationStore) -> None:
    conversation = await store.create_conversation(USER)
    question, first = await answered(store, USER, conversation.id, "Q", "first answer")

    second = await regenerate(store, conversation.id, question, "second answer")

    detail = await store.get_conversation(USER, conversation.id)
    assert [m.content for m in detail.messages] == ["Q", "second answer"]
    assert detail.messages[1].alternative_ids == (first, second)
    assert detail.messages[1].alternative_index == 1
    assert detail.messages[0].alternative_ids == (question,)
    alternatives = await store.list_alternatives(USER, second)
    assert [m.content for m in alternatives] == ["first answer", "second answer"]
    assert await store.list_alternatives(USER, first) == alternatives


async def test_branches_select_alternative_flips_the_active_answer(
    store: ConversationStore,
) -> None:
    conversation = await store.create_conversation(USER)
    question, first = await answered(store, USER, conversation.id, "Q", "first answer")
    second = await regenerate(store, conversation.id, question, "second answer")

    flipped = await store.select_alternative(USER, first)

    assert [m.content for m in flipped.messages] == ["Q", "first answer"]
    assert flipped.messages[1].alternative_index == 0
    assert await contents(store, conversation.id) == ["Q", "first answer"]
    await store.select_alternative(USER, second)
    assert await contents(store, conversation.id) == ["Q", "second answer"]


async def test_branches_later_turns_belong_to_their_answer(store: ConversationStore) -> None:
    conversation = await store.create_conversation(USER)
    q1, a1 = await answered(store, USER, conversation.id, "Q1", "A1")
    await answered(store, USER, conversation.id, "Q2", "A2")
    a1b = await regenerate(store, conversation.id, q1, "A1 again")

    assert await contents(store, conversation.id) == ["Q1", "A1 again"]
    await answered(store, USER, conversation.id, "Q2 after the new answer", "A2b")
    assert await contents(store, conversation.id) == [
        "Q1",
        "A1 again",
        "Q2 after the new answer",
        "A2b",
    ]

    await store.select_alternative(USER, a1)
    assert await contents(store, conversation.id) == ["Q1", "A1", "Q2", "A2"]
    await store.select_alternative(USER, a1b)
    assert await contents(store, conversation.id) == [
        "Q1",
        "A1 again",
        "Q2 after the new answer",
        "A2b",
    ]


async def test_branches_edit_creates_a_branch_and_keeps_the_old_one(
    store: ConversationStore,
) -> None:
    conversation = await store.create_conversation(USER)
    await answered(store, USER, conversation.id, "Q1", "A1")
    q2, a2 = await answered(store, USER, conversation.id, "Q2 with a typo", "A2")
    await answered(store, USER, conversation.id, "Q3", "A3")

    edited = await store.edit_user_message(USER, q2, "Q2 fixed")

    detail = await store.get_conversation(USER, conversation.id)
    assert [m.content for m in detail.messages] == ["Q1", "A1", "Q2 fixed"]
    assert detail.leaf_id == edited and detail.messages[2].alternative_ids == (q2, edited)
    await answered_after(store, conversation.id, edited, "A2 for the fixed question")
    assert await contents(store, conversation.id) == [
        "Q1",
        "A1",
        "Q2 fixed",
        "A2 for the fixed question",
    ]

    old = await store.select_alternative(USER, q2)  # the old branch is all still there
    assert [m.content for m in old.messages] == ["Q1", "A1", "Q2 with a typo", "A2", "Q3", "A3"]
    assert (await store.get_message(USER, a2)).content == "A2"


async def answered_after(
    store: ConversationStore, conversation_id: str, question: str, text: str
) -> None:
    await regenerate(store, conversation_id, question, text)


async def test_branches_edit_the_first_question(store: ConversationStore) -> None:
    conversation = await store.create_conversation(USER)
    q1, _ = await answered(store, USER, conversation.id, "First", "Answer")

    edited = await store.edit_user_message(USER, q1, "First, better")

    detail = await store.get_conversation(USER, conversation.id)
    assert [m.content for m in detail.messages] == ["First, better"]
    assert detail.messages[0].parent_id is None
    assert detail.messages[0].alternative_ids == (q1, edited)


async def test_branches_only_questions_can_be_edited(store: ConversationStore) -> None:
    conversation = await store.create_conversation(USER)
    _, answer = await answered(store, USER, conversation.id, "Q", "A")
    with pytest.raises(InputError) as caught:
        await store.edit_user_message(USER, answer, "rewritten answer")
    assert caught.value.code == "not_a_question"


async def test_branches_edit_uses_the_chat_limits(store: ConversationStore) -> None:
    conversation = await store.create_conversation(USER)
    question, _ = await answered(store, USER, conversation.id, "Q", "A")
    with pytest.raises(InputError) as caught:
        await store.edit_user_message(USER, question, "x" * 201)
    assert caught.value.code == "message_too_long"
    assert await contents(store, conversation.id) == ["Q", "A"]


def test_branches_tree_without_an_active_sibling_follows_the_newest() -> None:
    tree = Tree([Node("q", None, 1, True), Node("a1", "q", 2, False), Node("a2", "q", 3, False)])
    assert [n.id for n in tree.active_path()] == ["q", "a2"]


def test_branches_tree_cycle_does_not_loop() -> None:
    tree = Tree([Node("r", None, 1, True), Node("x", "y", 2, True), Node("y", "x", 3, True)])
    assert [n.id for n in tree.active_path()] == ["r"]
    assert [n.id for n in tree.ancestry("x")] == ["x", "y"]


def test_branches_tree_to_activate_lists_only_inactive_ancestors() -> None:
    tree = Tree(
        [
            Node("q", None, 1, True),
            Node("a1", "q", 2, False),
            Node("a2", "q", 3, True),
            Node("q2", "a1", 4, True),
        ]
    )
    assert [n.id for n in tree.to_activate("q2")] == ["a1"]
    assert tree.to_activate("a2") == []

"""The branching model as pure functions over a conversation's message tree.

Messages form a tree through `parent_id`: a question's parent is the answer before it (None for the
first question), an answer's parent is the question it answers. Siblings (same parent) are
alternatives: answers produced by regenerate, or versions of a question produced by edit. In each
group of siblings exactly one is `active`; the active path starts at the active root and follows
the active child down to the first message without children. What must stay true: these functions
never touch the database and never fail on a damaged tree (no active sibling: the newest wins; a
cycle: the path stops).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Node:
    """Just enough of a message to walk the tree."""

    id: str
    parent_id: str | None
    seq: int
    active: bool


class Tree:
    """A conversation's messages indexed by parent, siblings in creation order."""

    def __init__(self, nodes: Iterable[Node]) -> None:
        self.nodes = {node.id: node for node in nodes}
        self._children: dict[str | None, list[Node]] = defaultdict(list)
        for node in sorted(self.nodes.values(), key=lambda n: n.seq):
            self._children[node.parent_id].append(node)

    def children(self, parent_id: str | None) -> list[Node]:
        return self._children.get(parent_id, [])

    def siblings(self, node_id: str) -> list[Node]:
        """The node and its alternatives, oldest first."""
        return self.children(self.nodes[node_id].parent_id)

    def active_child(self, parent_id: str | None) -> Node | None:
        kids = self.children(parent_id)
        if not kids:
            return None
        return next((kid for kid in reversed(kids) if kid.active), kids[-1])

    def active_path(self) -> list[Node]:
        """The messages the person sees, first to last."""
        path: list[Node] = []
        seen: set[str] = set()
        node = self.active_child(None)
        while node is not None and node.id not in seen:
            path.append(node)
            seen.add(node.id)
            node = self.active_child(node.id)
        return path

    def ancestry(self, node_id: str) -> list[Node]:
        """The node and its ancestors, from the node up to its root."""
        chain: list[Node] = []
        node: Node | None = self.nodes.get(node_id)
        while node is not None and node not in chain:
            chain.append(node)
            node = self.nodes.get(node.parent_id) if node.parent_id is not None else None
        return chain

    def to_activate(self, node_id: str) -> list[Node]:
        """The nodes on the way from `node_id` to the root that are not yet their group's choice.

        Making each of them active (and its siblings inactive) puts `node_id` on the active path;
        usually that is a single node, since the rest of the way is active already.
        """
        return [
            node for node in self.ancestry(node_id) if self.active_child(node.parent_id) != node
        ]

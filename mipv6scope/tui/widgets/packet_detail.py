"""PacketDetail: the details tree of one frame (Wireshark's middle pane).

Shows the `DetailNode` tree `FrameSource.detail` gives (frame, link, IPv6,
extension headers, tunnel levels, ESP, the Mobility Header and its options,
ICMPv6, decode issues), collapsible, with the layers expanded one level.
Highlighting a node posts `FieldSelected` with its byte range, which the hex
view highlights.
"""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from ...decode.detail import DetailNode


class PacketDetail(Tree[DetailNode]):
    """The collapsible details tree of the selected frame."""

    BINDINGS: list[BindingType] = [
        Binding("space", "toggle_node", "Expand/collapse"),
        Binding("shift+space", "toggle_expand_all", "Expand/collapse all"),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("j", "cursor_down", "Down", show=False),
    ]

    DEFAULT_CSS = """
    PacketDetail {
        height: 1fr;
        scrollbar-size-vertical: 1;
    }
    """

    class FieldSelected(Message):
        """A node was highlighted: its byte range in the frame's captured bytes."""

        def __init__(self, start: int, length: int, node: DetailNode | None = None) -> None:
            super().__init__()
            self.start = start
            self.length = length
            self.node = node

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__("Packet details", name=name, id=id, classes=classes)
        self.show_root = False
        self.guide_depth = 2
        self.detail: list[DetailNode] = []

    def show_detail(self, detail: list[DetailNode]) -> None:
        """Show a frame's tree (its top-level layer nodes), layers expanded one level."""
        self.detail = detail
        self.clear()
        for layer in detail:
            node = self.root.add(Text(layer.label), data=layer, expand=True)
            self._add_children(node, layer)
        self.root.expand()
        self.move_cursor(None)

    def _add_children(self, parent: TreeNode[DetailNode], detail: DetailNode) -> None:
        for child in detail.children:
            if child.children:
                node = parent.add(Text(child.label), data=child, expand=False)
                self._add_children(node, child)
            else:
                parent.add_leaf(Text(child.label), data=child)

    def find_node(self, label_start: str) -> TreeNode[DetailNode] | None:
        """The first node (depth first) whose label starts with ``label_start``."""
        stack = list(reversed(self.root.children))
        while stack:
            node = stack.pop()
            if node.data is not None and node.data.label.startswith(label_start):
                return node
            stack.extend(reversed(node.children))
        return None

    def select_detail_node(self, node: TreeNode[DetailNode]) -> None:
        """Expand the way to ``node`` and put the cursor on it."""
        parent = node.parent
        while parent is not None:
            parent.expand()
            parent = parent.parent
        self.call_after_refresh(self.move_cursor, node)

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[DetailNode]) -> None:
        """Say which bytes the highlighted node covers."""
        data = event.node.data
        if data is not None:
            self.post_message(self.FieldSelected(data.start, data.length, data))

"""Build the details tree of one frame: every layer, then the decode issues
under the layers they concern."""

from __future__ import annotations

from ...capture.frame import Frame
from ..frame_decoder import decode_frame
from ..issues import Issue
from ..model import DecodedFrame
from .context import Context
from .ip6 import add_ipv6
from .link import frame_node, link_layers
from .node import DetailNode

# decode issue layer -> the node kinds it may attach to, most specific first
_ISSUE_TARGETS = {
    "hao": ("hao", "dstopts", "ip6"), "rh2": ("rh2", "routing", "ip6"),
    "dstopts": ("dstopts", "ip6"), "hopopts": ("hopopts", "ip6"), "routing": ("routing", "ip6"),
    "fragment": ("fragment", "ip6"), "mh_option": ("mh_option", "mh", "ip6"), "mh": ("mh", "ip6"),
    "icmp6": ("icmp6", "ip6"), "nd_option": ("nd_option", "icmp6", "ip6"),
    "esp": ("esp", "ip6"), "ah": ("ah", "ip6"), "ip6": ("ip6",),
}


def build_detail(frame: Frame, decoded: DecodedFrame | None = None) -> list[DetailNode]:
    """The details tree of ``frame`` as its top-level layer nodes (Frame first).

    ``decoded`` is the decoder's view of the same frame (decoded here when
    not given). Never raises: what cannot be read ends the tree there, and
    the decoder's issues show as ``[code: detail]`` nodes under the layer
    they concern.
    """
    data = frame.data
    root = DetailNode("", 0, len(data))
    if decoded is None:
        decoded = decode_frame(frame)
    ctx = Context(data, decoded, root)
    top = frame_node(frame, root)
    try:
        network, offset, reason = link_layers(ctx, frame.linktype)
        if network == "ipv6":
            add_ipv6(ctx, offset, len(data), frame.caplen < frame.wirelen)
        else:
            ctx.data_node(offset, len(data))
            why = decoded.skip_reason or reason or network
            (root.children[-1] if len(root.children) > 1 else top).add(
                f"[not decoded: {why}]", offset, 0)
    except Exception as exc:  # noqa: BLE001 - a bug here must not lose the frame's tree
        top.add(f"[detail_error: {type(exc).__name__}: {exc}]", 0, len(data))
    for issue in decoded.issues:
        _issue_node(ctx, root, top, issue)
    return root.children


def _issue_node(ctx: Context, root: DetailNode, top: DetailNode, issue: Issue) -> None:
    target = None
    for kind in _ISSUE_TARGETS.get(issue.layer, ()):
        nodes = ctx.marks.get(kind)
        if nodes:
            target = nodes[-1]
            break
    if target is None:
        target = root.children[-1] if root.children else top
    target.add(f"[{issue.code}: {issue.detail}]", target.start, target.length, None, issue.code)

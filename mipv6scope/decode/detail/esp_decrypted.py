"""The details of an ESP packet an --esp-sa SA opened: IV, the decrypted
payload's layers, padding, trailer and ICV verdict, as Wireshark shows them.

The plaintext is as long as the ciphertext it replaces, so the payload's
nodes are built over a view of the frame with the plaintext in the
ciphertext's place: every node keeps the offsets of the bytes it came from.
"""

from __future__ import annotations

from ..esp_decrypt import ESP_HEADER_LEN, open_esp
from ..esp_sa import active_sas
from .context import Context, proto_name
from .mobility import add_mobility_header
from .node import DetailNode, Fields

NH_MH, NH_MH_DRAFT = 135, 62


def add_esp_trailer(node: DetailNode, f: Fields, start: int, trailer: int, pad: int, icv: int,
                    verdict: str = "") -> None:
    """The ESP payload from ``start`` and the RFC 4303 trailer at ``trailer``
    (padding before it, Pad Length, Next Header, then ``icv`` octets of ICV
    with ``verdict`` after its value): the same for NULL and decrypted ESP."""
    node.add(f"ESP Contained Data ({trailer - pad - start} bytes)", start, trailer - pad - start,
             "esp.contained_data")
    if pad:
        f.raw(trailer - pad, pad, "esp.pad", "Pad: {}")
    f.uint(trailer, 1, "esp.pad_len", "ESP Pad Length: {}")
    f.uint(trailer + 1, 1, "esp.protocol", lambda v: f"ESP Next Header: {proto_name(v)} ({v})",
           lambda v: f"0x{v:02x}")
    if icv:
        f.raw(trailer + 2, icv, "esp.icv", "ESP ICV: {}" + verdict)


def add_decrypted_esp(ctx: Context, node: DetailNode, p: int, end: int) -> bool:
    """Fill ``node`` (the ESP layer at ``p``..``end``) when the decoder opened
    it with an SA still in use; False (nothing added) otherwise."""
    esp = ctx.decoded.esp or {}
    sa = next((s for s in active_sas().sas if s.line == esp.get("sa_line")), None)
    if not esp.get("decrypted") or sa is None or end > len(ctx.data):
        return False
    opened = open_esp(bytes(ctx.data[p:end]), sa)
    if opened is None:
        return False
    data = ctx.data
    start = p + ESP_HEADER_LEN + opened.iv_len
    view = bytes(data[:start]) + opened.plaintext + bytes(data[start + len(opened.plaintext):])
    trailer = start + len(opened.plaintext) - 2
    pad, icv = opened.pad_len, opened.icv_len
    node.label += f" (decrypted with --esp-sa line {sa.line}: {sa.encryption.name})"
    f = Fields(view, node)
    if opened.iv_len:
        f.raw(p + ESP_HEADER_LEN, opened.iv_len, "esp.iv", "ESP IV: {}")
    verdict = {True: " [correct]", False: " [incorrect]", None: " [unchecked]"}[opened.icv_ok]
    add_esp_trailer(node, f, start, trailer, pad, icv, verdict)
    if opened.next_header in (NH_MH, NH_MH_DRAFT):
        ctx.data = view
        try:
            add_mobility_header(ctx, start, trailer - pad)
        finally:
            ctx.data = data
    return True

"""Wireshark-like packet list rows: No., Time, Source, Destination, Protocol, Info.

The one-line description of a decoded frame (the Info column), shared by the
packet list and the analysis, which keeps it for each signalling message.

What the Info words mean:

* ``HoA=X``: the packet carries a Home Address destination option holding X
  (RFC 6275 6.3), whatever the message; ``RH2=X``: a type 2 routing header
  holding X (RFC 6275 6.4).
* ``home=X (source, no HAO)`` on a Binding Update: no HAO, so the home address
  is the IPv6 source (a node at home, RFC 6275 6.1.7); ``home=X`` on a Binding
  Error: the message's own Home Address field (RFC 6275 6.1.9).
* ``CoA=X`` on a Binding Update: its care-of address, the Alternate Care-of
  Address option's when present, else the IPv6 source (RFC 6275 6.1.7).
* ``len=N`` on TCP and UDP: what tshark's ``Len=`` shows, the data after the
  header as the packet states it (TCP: payload minus Data Offset; UDP: Length
  field minus 8); ``?`` when the capture cut those fields.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from .model import SKIPPED, DecodedFrame

_PROTO_NAMES = {6: "TCP", 17: "UDP", 44: "IPv6", 50: "ESP", 51: "AH", 58: "ICMPv6",
                59: "IPv6", 62: "MIPv6", 135: "MIPv6", 4: "IPv4"}


class PacketRow(NamedTuple):
    """One line of the packet list."""

    number: int
    time: float
    source: str
    destination: str
    protocol: str
    info: str


def _v(value: object) -> str:
    """A field value for the Info column; '?' where the capture did not reach it."""
    return "?" if value is None else str(value)


def _option_text(opt: dict[str, Any]) -> str:
    t = opt.get("type")
    if t in (0, 1):
        return ""
    if t == 2:
        return f"(refresh: {_v(opt.get('refresh_s'))}s)"
    if t == 3:
        return f"(alt-CoA: {_v(opt.get('address'))})"
    if t == 4:
        return f"(ni: ho={_v(opt.get('home_nonce_index'))} co={_v(opt.get('careof_nonce_index'))})"
    if t == 5:
        return "(auth)"
    if "prefix" in opt:
        return f"({opt.get('name')}: {_v(opt.get('prefix'))}/{_v(opt.get('prefix_len'))})"
    if "identifier" in opt:
        return f"({opt.get('name')}: {_v(opt.get('identifier'))})"
    if "address" in opt:
        return f"({opt.get('name')}: {_v(opt.get('address'))})"
    return f"({opt.get('name')})"


def mh_info(frame: DecodedFrame, fields: dict[str, Any]) -> str:
    """Info text for a Mobility Header message, in the style of tshark's column."""
    mh_type = fields.get("type")
    name = fields.get("name") or f"MH type {mh_type}"
    if mh_type == 5:
        text = f"{name} seq={_v(fields.get('seq'))}{_flags_and_lifetime(fields)}"
        inner = frame.ip6[-1] if frame.ip6 else None
        if inner is not None:
            options = fields.get("options")
            alt = _alternate_care_of(options) if options else None
            # HoA= is a Home Address option on the wire (added by _protocol_info for
            # other messages); without one the home address is the IPv6 source
            # (RFC 6275 6.1.7, 11.7.1)
            text += (" HoA=" + str(inner.hao) if inner.hao is not None
                     else f" home={inner.src} (source, no HAO)") + " CoA=" + str(alt or inner.src)
    elif mh_type == 6:
        text = (f"{name} seq={_v(fields.get('seq'))} status={_v(fields.get('status'))}"
                f" ({_v(fields.get('status_name'))}){_flags_and_lifetime(fields)}")
    elif mh_type in (1, 2):
        text = f"{name} cookie={_v(fields.get('cookie'))}"
    elif mh_type in (3, 4):
        index = fields.get("home_nonce_index" if mh_type == 3 else "careof_nonce_index")
        text = (f"{name} nonce={_v(index)} cookie={_v(fields.get('cookie'))}"
                f" token={_v(fields.get('keygen_token'))}")
    elif mh_type == 7:
        text = (f"{name} status={_v(fields.get('status'))} ({_v(fields.get('status_name'))})"
                f" home={_v(fields.get('home_address'))}")
    elif fields.get("body") is not None:
        text = f"{name} body={len(fields['body']) // 2} bytes"
    else:
        text = name
    options = fields.get("options")
    if options:
        shown = "".join(map(_option_text, options))  # padding has none
        if shown:
            text += " " + shown
    if fields.get("checksum_ok") is False:
        text += " [bad checksum]"
    return text


def _flags_and_lifetime(fields: dict[str, Any]) -> str:
    """" A H lifetime=4000s": a BU's or BA's flag letters and lifetime, those it has."""
    flags, lifetime = fields.get("flags"), fields.get("lifetime_s")
    shown = " " + " ".join(flags) if flags else ""
    return shown if lifetime is None else f"{shown} lifetime={lifetime}s"


def _alternate_care_of(options: list[dict[str, Any]] | None) -> Any:
    """The address of the first Alternate Care-of Address option, or None."""
    for opt in options or ():
        if opt.get("type") == 3:
            return opt.get("address")
    return None


def icmp6_info(fields: dict[str, Any]) -> str:
    """Info text for an ICMPv6 message."""
    t = fields.get("type")
    name = fields.get("name") or f"ICMPv6 type {t}"
    parts = [name]
    if t in (144, 145, 146, 147) and fields.get("identifier") is not None:
        parts.append(f"id=0x{fields['identifier']:04x}")
    if t == 145:
        parts.append("HAs=" + ",".join(fields.get("home_agents") or []))
    if t in (134, 136, 147) and fields.get("flags"):
        parts.append(" ".join(fields["flags"]))
    if t in (134, 147):
        for p in fields.get("prefixes") or []:
            flags = "".join(p.get("flags") or [])
            parts.append(f"prefix={p.get('prefix')}/{p.get('prefix_len')}" + (f"[{flags}]" if flags else ""))
        for o in fields.get("options") or []:
            if o.get("type") == 7:
                parts.append(f"interval={o.get('interval_ms')}ms")
            elif o.get("type") == 8:
                parts.append(f"HA-info pref={o.get('preference')} lifetime={o.get('lifetime_s')}s")
    if t in (135, 136) and fields.get("target"):
        parts.append(f"target={fields['target']}")
    invoking = fields.get("invoking")
    if invoking:
        inv = f"[invoking {invoking.get('src')} → {invoking.get('dst')}"
        if invoking.get("mh_type") is not None:
            inv += f" MH type {invoking['mh_type']}"
        parts.append(inv + "]")
    return " ".join(p for p in parts if p)


def packet_row(frame: DecodedFrame, time_origin: float) -> PacketRow:
    """Build the packet-list row for one decoded frame."""
    t = frame.ts - time_origin
    if frame.status == SKIPPED:
        reason = frame.skip_reason or "not decoded"
        proto = "IPv4" if reason == "IPv4" else "-"
        return PacketRow(frame.number, t, "", "", proto, f"[skipped: {reason}]")
    if not frame.ip6:
        return PacketRow(frame.number, t, "", "", "IPv6", _issue_suffix(frame).strip())
    inner = frame.ip6[-1]
    proto, info = _protocol_info(frame)
    return PacketRow(frame.number, t, str(inner.src), str(inner.dst), proto, info)


def packet_info(frame: DecodedFrame) -> str:
    """The Info column of `packet_row` alone (what the analysis keeps)."""
    if frame.status == SKIPPED or not frame.ip6:
        return packet_row(frame, 0.0).info
    return _protocol_info(frame)[1]


def _protocol_info(frame: DecodedFrame) -> tuple[str, str]:
    """(Protocol, Info) of a frame with an IPv6 header."""
    inner = frame.ip6[-1]
    if frame.mh is not None:
        proto, info = "MIPv6", mh_info(frame, frame.mh)
        if frame.esp is not None:
            how = "decrypted" if frame.esp.get("decrypted") else "NULL"
            info += (f" [in ESP (SPI=0x{frame.esp['spi']:08x}) seq={frame.esp['seq']}"
                     f" {how} ICV={frame.esp.get('icv_len')}]")
    elif frame.icmp6 is not None:
        proto, info = "ICMPv6", icmp6_info(frame.icmp6)
    elif frame.esp is not None:
        proto, info = "ESP", f"ESP (SPI=0x{frame.esp['spi']:08x}) seq={frame.esp['seq']}"
    elif frame.transport is not None:
        tr = frame.transport
        proto = _PROTO_NAMES.get(tr.proto, f"proto {tr.proto}")
        if tr.sport is not None:
            info = f"{tr.sport} → {tr.dport} len={_v(tr.payload_len)}"
        elif tr.proto == 44:
            info = "fragment"
        elif tr.proto in (6, 17):
            info = "ports not captured"
        else:
            info = f"next header {tr.proto}"
    else:
        proto, info = "IPv6", ""
    if inner.hao is not None and not (frame.mh is not None and frame.mh.get("type") == 5):
        info += " HoA=" + str(inner.hao)  # a BU's is in its own text
    if inner.rh2 is not None:
        info += " RH2=" + str(inner.rh2)
    if len(frame.ip6) > 1:
        tunnel = "".join(f"[{h.src} → {h.dst}] " for h in frame.ip6[:-1])
        info = "IPv6-in-IPv6 " + tunnel + info
    if frame.issues:
        info += _issue_suffix(frame)
    return proto, info.strip()


def _issue_suffix(frame: DecodedFrame) -> str:
    if not frame.issues:
        return ""
    return " [" + ", ".join(i.code for i in frame.issues) + "]"


def format_row(row: PacketRow, width_src: int = 24) -> str:
    """Fixed-width text line for the terminal."""
    return (f"{row.number:>7} {row.time:>12.6f} {row.source:>{width_src}} → "
            f"{row.destination:<{width_src}} {row.protocol:<7} {row.info}")

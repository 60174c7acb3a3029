"""ICMPv6 messages that matter to Mobile IPv6, as dpkt layers, and their decoder.

Layers (registered into ``dpkt.icmp6.ICMP6._typesw`` at import, so that
``dpkt.icmp6.ICMP6(buf).data`` is one of them):

* Neighbor Discovery, RFC 4861 4.1-4.4 with RFC 6275 7.1 (H flag), RFC 4191
  (Prf) and RFC 4389 (P): types 133-136.
* Mobile IPv6, RFC 6275 6.5-6.8: Home Agent Address Discovery (144/145) and
  Mobile Prefix Solicitation/Advertisement (146/147).

Each layer is the part after the common 4-byte ICMPv6 header (type, code,
checksum), like dpkt's own ``ICMP6.Echo``; ND options are in
:mod:`mipv6scope.decode.nd_options`.

:func:`parse_icmp6` turns a captured message into a plain dict plus a list of
:class:`~mipv6scope.decode.issues.Issue`; it never raises. It reads each
message's fixed fields with one struct made from its layer's ``__hdr__``,
not through a layer object, which costs several times more.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

import dpkt
import dpkt.icmp6

from mipv6scope.decode.checksum import upper_layer_checksum
from mipv6scope.decode.issues import Issue
from mipv6scope.decode.nd_options import (
    ip6_text,
    nd_options_fields,
    pack_nd_options,
    parse_nd_options,
)

LAYER = "icmp6"
ICMP6_HDR_LEN = 4  # type, code, checksum
IPPROTO_ICMPV6 = 58

ICMP6_DST_UNREACH = 1
ICMP6_PACKET_TOO_BIG = 2
ICMP6_TIME_EXCEEDED = 3
ICMP6_PARAM_PROB = 4
ND_ROUTER_SOLICIT = 133
ND_ROUTER_ADVERT = 134
ND_NEIGHBOR_SOLICIT = 135
ND_NEIGHBOR_ADVERT = 136
MIP6_HAAD_REQUEST = 144
MIP6_HAAD_REPLY = 145
MIP6_PREFIX_SOLICIT = 146
MIP6_PREFIX_ADVERT = 147

# IANA "ICMPv6 'type' Numbers" registry names. Wireshark shortens some of them
# (e.g. 144 "Home Agent Address Discovery Request", 128 "Echo (ping) request").
ICMP6_TYPE_NAMES: dict[int, str] = {
    0: "Reserved",
    1: "Destination Unreachable",
    2: "Packet Too Big",
    3: "Time Exceeded",
    4: "Parameter Problem",
    100: "Private experimentation",
    101: "Private experimentation",
    127: "Reserved for expansion of ICMPv6 error messages",
    128: "Echo Request",
    129: "Echo Reply",
    130: "Multicast Listener Query",
    131: "Multicast Listener Report",
    132: "Multicast Listener Done",
    133: "Router Solicitation",
    134: "Router Advertisement",
    135: "Neighbor Solicitation",
    136: "Neighbor Advertisement",
    137: "Redirect Message",
    138: "Router Renumbering",
    139: "ICMP Node Information Query",
    140: "ICMP Node Information Response",
    141: "Inverse Neighbor Discovery Solicitation Message",
    142: "Inverse Neighbor Discovery Advertisement Message",
    143: "Version 2 Multicast Listener Report",
    144: "Home Agent Address Discovery Request Message",
    145: "Home Agent Address Discovery Reply Message",
    146: "Mobile Prefix Solicitation",
    147: "Mobile Prefix Advertisement",
    148: "Certification Path Solicitation Message",
    149: "Certification Path Advertisement Message",
    150: "ICMP messages utilized by experimental mobility protocols such as Seamoby",
    151: "Multicast Router Advertisement",
    152: "Multicast Router Solicitation",
    153: "Multicast Router Termination",
    154: "FMIPv6 Messages",
    155: "RPL Control Message",
    156: "ILNPv6 Locator Update Message",
    157: "Duplicate Address Request",
    158: "Duplicate Address Confirmation",
    159: "MPL Control Message",
    160: "Extended Echo Request",
    161: "Extended Echo Reply",
    200: "Private experimentation",
    201: "Private experimentation",
    255: "Reserved for expansion of ICMPv6 informational messages",
}

ERROR_TYPES = (ICMP6_DST_UNREACH, ICMP6_PACKET_TOO_BIG, ICMP6_TIME_EXCEEDED, ICMP6_PARAM_PROB)
ERROR_FIXED_LEN = 8  # type, code, checksum, 32-bit MTU/pointer/unused

# Default Router Preference (RFC 4191 2.1): 01 high, 00 medium, 11 low, 10 reserved.
PREFERENCE_NAMES = {0: "medium", 1: "high", 2: "reserved", 3: "low"}


def icmp6_type_name(icmp_type: int) -> str:
    """The IANA name of an ICMPv6 type ("Unassigned" if it has none)."""
    return ICMP6_TYPE_NAMES.get(icmp_type, "Unassigned")


# --------------------------------------------------------------------------
# Layers
# --------------------------------------------------------------------------

class _WithNDOptions:
    """Mixin: ``data`` holds ND options; ``options`` parses or sets them."""

    @property
    def options(self) -> list[dpkt.Packet]:
        """The ND options in ``data`` (walk stops at the first malformed one)."""
        return parse_nd_options(bytes(self.data))[0]

    @options.setter
    def options(self, opts: list[dpkt.Packet]) -> None:
        self.data = pack_nd_options(opts)


class RouterSolicitation(_WithNDOptions, dpkt.Packet):
    """Router Solicitation body (RFC 4861 4.1): 32-bit reserved, then options."""

    __hdr__ = (
        ('reserved', 'I', 0),
    )


class RouterAdvertisement(_WithNDOptions, dpkt.Packet):
    """Router Advertisement body (RFC 4861 4.2, RFC 6275 7.1)::

        | Cur Hop Limit |M|O|H|Prf|P|Rsv|       Router Lifetime         |
        |                         Reachable Time                        |
        |                          Retrans Timer                        |
        |   Options ...

    H (0x20) says the router is a home agent on this link; Prf is the RFC 4191
    default router preference; P (0x04) the RFC 4389 proxy flag.
    """

    __hdr__ = (
        ('hop_limit', 'B', 0),
        ('_m_o_h_prf_p_reserved', 'B', 0),
        ('router_lifetime', 'H', 0),  # seconds
        ('reachable_time', 'I', 0),  # milliseconds
        ('retrans_timer', 'I', 0),  # milliseconds
    )
    __bit_fields__ = {
        '_m_o_h_prf_p_reserved': (
            ('m', 1),  # managed address configuration
            ('o', 1),  # other configuration
            ('h', 1),  # home agent (RFC 6275 7.1)
            ('prf', 2),  # default router preference (RFC 4191)
            ('p', 1),  # proxy (RFC 4389)
            ('reserved', 2),
        ),
    }


class NeighborSolicitation(_WithNDOptions, dpkt.Packet):
    """Neighbor Solicitation body (RFC 4861 4.3): reserved, target, options."""

    __hdr__ = (
        ('reserved', 'I', 0),
        ('target', '16s', b'\x00' * 16),
    )


class NeighborAdvertisement(_WithNDOptions, dpkt.Packet):
    """Neighbor Advertisement body (RFC 4861 4.4)::

        |R|S|O|                     Reserved                            |
        |                       Target Address (128 bits)               |
        |   Options ...
    """

    __hdr__ = (
        ('_r_s_o_reserved', 'I', 0),
        ('target', '16s', b'\x00' * 16),
    )
    __bit_fields__ = {
        '_r_s_o_reserved': (
            ('r', 1),  # router
            ('s', 1),  # solicited
            ('o', 1),  # override
            ('reserved', 29),
        ),
    }


class HAADRequest(dpkt.Packet):
    """Home Agent Address Discovery Request body (RFC 6275 6.5), type 144::

        |          Identifier           |            Reserved           |

    The top reserved bit is the NEMO Mobile Router flag R (RFC 3963 6.1).
    """

    __hdr__ = (
        ('identifier', 'H', 0),
        ('_r_reserved', 'H', 0),
    )
    __bit_fields__ = {
        '_r_reserved': (
            ('r', 1),  # mobile router (RFC 3963)
            ('reserved', 15),
        ),
    }


class HAADReply(dpkt.Packet):
    """Home Agent Address Discovery Reply body (RFC 6275 6.6), type 145::

        |          Identifier           |            Reserved           |
        |                   Home Agent Addresses (16 bytes each) ...

    ``data`` holds the address list, in the home agents' preference order.
    """

    __hdr__ = (
        ('identifier', 'H', 0),
        ('_r_reserved', 'H', 0),
    )
    __bit_fields__ = {
        '_r_reserved': (
            ('r', 1),  # mobile router (RFC 3963)
            ('reserved', 15),
        ),
    }

    @property
    def addresses(self) -> list[bytes]:
        """The complete 16-byte addresses in ``data`` (a partial tail is left out)."""
        raw = bytes(self.data)
        return [raw[i:i + 16] for i in range(0, len(raw) - 15, 16)]

    @addresses.setter
    def addresses(self, addrs: list[bytes]) -> None:
        self.data = b''.join(addrs)


class MobilePrefixSolicitation(dpkt.Packet):
    """Mobile Prefix Solicitation body (RFC 6275 6.7), type 146: identifier, reserved."""

    __hdr__ = (
        ('identifier', 'H', 0),
        ('reserved', 'H', 0),
    )


class MobilePrefixAdvertisement(_WithNDOptions, dpkt.Packet):
    """Mobile Prefix Advertisement body (RFC 6275 6.8), type 147::

        |          Identifier           |M|O|        Reserved           |
        |   Options ...

    The options are Prefix Information options (others are ignored).
    """

    __hdr__ = (
        ('identifier', 'H', 0),
        ('_m_o_reserved', 'H', 0),
    )
    __bit_fields__ = {
        '_m_o_reserved': (
            ('m', 1),  # managed address configuration
            ('o', 1),  # other configuration
            ('reserved', 14),
        ),
    }


MESSAGE_CLASSES: dict[int, type[dpkt.Packet]] = {
    ND_ROUTER_SOLICIT: RouterSolicitation,
    ND_ROUTER_ADVERT: RouterAdvertisement,
    ND_NEIGHBOR_SOLICIT: NeighborSolicitation,
    ND_NEIGHBOR_ADVERT: NeighborAdvertisement,
    MIP6_HAAD_REQUEST: HAADRequest,
    MIP6_HAAD_REPLY: HAADReply,
    MIP6_PREFIX_SOLICIT: MobilePrefixSolicitation,
    MIP6_PREFIX_ADVERT: MobilePrefixAdvertisement,
}

dpkt.icmp6.ICMP6._typesw.update(MESSAGE_CLASSES)


# --------------------------------------------------------------------------
# Checksum and builder
# --------------------------------------------------------------------------

def icmp6_checksum(buf: bytes, src16: bytes, dst16: bytes) -> int:
    """The checksum ``buf`` should carry, computed with its checksum field as zero."""
    return upper_layer_checksum(src16, dst16, IPPROTO_ICMPV6, buf, 2)


def icmp6_checksum_ok(buf: bytes, src16: bytes, dst16: bytes) -> bool:
    """True if ``buf`` (a whole ICMPv6 message) carries a correct checksum.

    The checksum covers the IPv6 pseudo-header with next header 58 (RFC 4443
    2.3); ``src16``/``dst16`` are the 16-byte addresses the upper layer sees.
    A message too short to hold a checksum is never ok.
    """
    if len(buf) < ICMP6_HDR_LEN or len(src16) != 16 or len(dst16) != 16:
        return False
    return icmp6_checksum(buf, src16, dst16) == struct.unpack_from('!H', buf, 2)[0]


def build_icmp6(icmp_type: int, code: int, body: bytes, src16: bytes, dst16: bytes) -> bytes:
    """An ICMPv6 message: header + ``body`` (e.g. ``bytes(HAADReply(...))``),
    with the checksum computed over the pseudo-header for ``src16`` -> ``dst16``."""
    msg = struct.pack('!BBH', icmp_type, code, 0) + bytes(body)
    csum = icmp6_checksum(msg, src16, dst16)
    return msg[:2] + struct.pack('!H', csum) + msg[4:]


# --------------------------------------------------------------------------
# Decoder
# --------------------------------------------------------------------------

def _layout(cls: type[dpkt.Packet]) -> tuple[struct.Struct, tuple[int, ...]]:
    """The struct of a layer's fixed part (as dpkt unpacks it) and each
    field's end offset within it."""
    fmt = getattr(cls, '__byte_order__', '>')
    ends = []
    for _, field_fmt, _ in cls.__hdr__:
        fmt += field_fmt
        ends.append(struct.calcsize(fmt))
    return struct.Struct(fmt), tuple(ends)


_LAYOUTS = {t: _layout(cls) for t, cls in MESSAGE_CLASSES.items()}

# Flag letters and their bits in a message's flags field (the layers' bit fields).
_RA_FLAGS = (("M", 0x80), ("O", 0x40), ("H", 0x20), ("P", 0x04))
_NA_FLAGS = (("R", 1 << 31), ("S", 1 << 30), ("O", 1 << 29))
_HAAD_FLAGS = (("R", 0x8000),)
_MPA_FLAGS = (("M", 0x8000), ("O", 0x4000))
_RA_H = 0x20


def _short_issue(snap_cut: bool, detail: str) -> Issue:
    return Issue("truncated_by_snaplen" if snap_cut else "icmp6_too_short", LAYER, detail)


def _flag_names(bits: int | None, names: tuple[tuple[str, int], ...]) -> list[str] | None:
    """The letters of the set bits, in wire order; None when the field was not captured."""
    if bits is None:
        return None
    return [label for label, bit in names if bits & bit]


def _text(packed: bytes | None) -> str | None:
    return None if packed is None else ip6_text(packed)


def parse_icmp6(buf: bytes, snap_cut: bool = False) -> tuple[dict[str, Any] | None, list[Issue]]:
    """Decode one ICMPv6 message; never raises.

    ``buf`` runs from the message's first byte to the end of what was captured;
    ``snap_cut`` says the capture's snap length cut the frame, so a short
    message is reported as ``truncated_by_snaplen`` instead of
    ``icmp6_too_short``. Fields that were not captured are None.

    Returns ``(None, issues)`` only for an empty buffer.
    """
    issues: list[Issue] = []
    try:
        buf = bytes(buf)
    except Exception as exc:  # a caller passed something that is not bytes-like
        return None, [Issue("decoder_error", LAYER, f"{type(exc).__name__}: {exc}")]
    if not buf:
        return None, [_short_issue(snap_cut, "no ICMPv6 bytes at all")]
    icmp_type = buf[0]
    out: dict[str, Any] = {
        "type": icmp_type,
        "code": buf[1] if len(buf) > 1 else None,
        "name": icmp6_type_name(icmp_type),
        "checksum": int.from_bytes(buf[2:4], 'big') if len(buf) >= ICMP6_HDR_LEN else None,
    }
    try:
        if icmp_type in MESSAGE_CLASSES:
            _decode_known(buf, icmp_type, snap_cut, out, issues)
        elif icmp_type in ERROR_TYPES:
            _decode_error(buf, icmp_type, snap_cut, out, issues)
        elif len(buf) < ICMP6_HDR_LEN:
            issues.append(_short_issue(snap_cut, f"{len(buf)} bytes, the ICMPv6 header needs 4"))
    except Exception as exc:  # a decoder bug must not stop the capture
        issues.append(Issue("decoder_error", LAYER, f"{type(exc).__name__}: {exc}"))
    return out, issues


def _decode_known(buf: bytes, icmp_type: int, snap_cut: bool,
                  out: dict[str, Any], issues: list[Issue]) -> None:
    """A message of `MESSAGE_CLASSES`: its layer's fixed fields (None where
    not captured), then its ND options or home agent addresses."""
    layout, ends = _LAYOUTS[icmp_type]
    body = buf[ICMP6_HDR_LEN:]
    avail = len(body)
    if avail >= layout.size:
        fields: Sequence[Any] = layout.unpack_from(body)
        rest = body[layout.size:]
    else:
        issues.append(_short_issue(
            snap_cut, f"{out['name']} needs {ICMP6_HDR_LEN + layout.size} bytes, got {len(buf)}"))
        # decode what fits; unread fields become None
        fields = [value if end <= avail else None
                  for value, end in zip(layout.unpack(body.ljust(layout.size, b'\x00')), ends, strict=True)]
        rest = b''
    if icmp_type in (MIP6_HAAD_REQUEST, MIP6_HAAD_REPLY):
        out["identifier"] = fields[0]
        out["flags"] = _flag_names(fields[1], _HAAD_FLAGS)
        if icmp_type == MIP6_HAAD_REPLY:
            out["home_agents"] = [ip6_text(rest[i:i + 16]) for i in range(0, len(rest) - 15, 16)]
            if len(rest) % 16:
                issues.append(_short_issue(
                    snap_cut, f"home agent address list is {len(rest)} bytes, not a multiple "
                    f"of 16; {len(rest) % 16} trailing bytes ignored"))
        return
    if icmp_type == MIP6_PREFIX_SOLICIT:
        out["identifier"] = fields[0]
        return

    options, prefixes, opt_issues = nd_options_fields(rest, snap_cut)
    issues.extend(opt_issues)
    if icmp_type == MIP6_PREFIX_ADVERT:
        out["identifier"] = fields[0]
        out["flags"] = _flag_names(fields[1], _MPA_FLAGS)
    elif icmp_type == ND_ROUTER_ADVERT:
        hop_limit, bits, lifetime, reachable, retrans = fields
        out["hop_limit"] = hop_limit
        out["flags"] = _flag_names(bits, _RA_FLAGS)
        out["preference"] = None if bits is None else PREFERENCE_NAMES[bits >> 3 & 3]
        out["home_agent"] = None if bits is None else bool(bits & _RA_H)
        out["router_lifetime_s"] = lifetime
        out["reachable_ms"] = reachable
        out["retrans_ms"] = retrans
    elif icmp_type == ND_NEIGHBOR_SOLICIT:
        out["target"] = _text(fields[1])
    elif icmp_type == ND_NEIGHBOR_ADVERT:
        out["flags"] = _flag_names(fields[0], _NA_FLAGS)
        out["target"] = _text(fields[1])
    if icmp_type in (ND_ROUTER_ADVERT, MIP6_PREFIX_ADVERT):
        out["prefixes"] = prefixes
    out["options"] = options


# Extension headers followed inside an invoking packet.
_EXT_HOP_BY_HOP = 0
_EXT_ROUTING = 43
_EXT_FRAGMENT = 44
_EXT_AH = 51
_EXT_DEST_OPTS = 60
_EXT_HEADERS = frozenset({_EXT_HOP_BY_HOP, _EXT_ROUTING, _EXT_FRAGMENT, _EXT_AH, _EXT_DEST_OPTS})
_MH_PROTOCOLS = frozenset({135, 62})  # 62: number used by pre-RFC 3775 drafts
_MAX_EXT_HEADERS = 16


def _decode_error(buf: bytes, icmp_type: int, snap_cut: bool,
                  out: dict[str, Any], issues: list[Issue]) -> None:
    """RFC 4443 3.1-3.4: 32-bit field, then as much of the invoking packet as fits."""
    field = int.from_bytes(buf[4:8], 'big') if len(buf) >= ERROR_FIXED_LEN else None
    if icmp_type == ICMP6_PACKET_TOO_BIG:
        out["mtu"] = field
    elif icmp_type == ICMP6_PARAM_PROB:
        out["pointer"] = field
    if len(buf) < ERROR_FIXED_LEN:
        issues.append(_short_issue(
            snap_cut, f"{out['name']} needs {ERROR_FIXED_LEN} bytes, got {len(buf)}"))
    out["invoking"] = invoking_packet_summary(buf[ERROR_FIXED_LEN:])


def invoking_packet_summary(inner: bytes) -> dict[str, Any]:
    """src, dst, upper-layer protocol and MH type of the packet an ICMPv6 error quotes.

    The quote is normally cut short (RFC 4443 2.4(c)), so whatever is missing
    is None and no issue is raised. Extension headers 0, 43, 60, 44 and 51 are
    followed; "mh_type" is read for protocol 135 (or the draft-era 62) unless
    the quote is a non-first fragment.
    """
    res: dict[str, Any] = {"src": None, "dst": None, "nh": None, "mh_type": None}
    n = len(inner)
    if n >= 24:
        res["src"] = ip6_text(inner[8:24])
    if n >= 40:
        res["dst"] = ip6_text(inner[24:40])
    if n < 7:
        return res
    nh: int | None = inner[6]
    off: int | None = 40  # where the header named by nh starts, None if unknown
    later_fragment = False
    for _ in range(_MAX_EXT_HEADERS):
        if nh not in _EXT_HEADERS:
            break
        if off is None or off >= n:
            nh = None
            break
        nxt = inner[off]
        hdr_len: int | None = None
        if nh == _EXT_FRAGMENT:
            if off + 4 <= n:
                hdr_len = 8
                later_fragment = (int.from_bytes(inner[off + 2:off + 4], 'big') >> 3) != 0
        elif off + 2 <= n:
            hdr_len = (inner[off + 1] + 2) * 4 if nh == _EXT_AH else (inner[off + 1] + 1) * 8
        nh = nxt
        off = off + hdr_len if hdr_len is not None else None
        if later_fragment:
            break  # what follows a non-first fragment header is not a header
    if nh in _EXT_HEADERS and not later_fragment:
        nh = None  # a chain this long is not worth following
    res["nh"] = nh
    if nh in _MH_PROTOCOLS and off is not None and not later_fragment and off + 2 < n:
        res["mh_type"] = inner[off + 2]
    return res

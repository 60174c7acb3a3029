"""Neighbor Discovery options (RFC 4861 4.6, RFC 6275 7.2-7.4) as dpkt layers.

Every ND option starts with a type byte and a length byte; the length counts
the whole option, type and length included, in units of 8 octets::

     0                   1                   2                   3
     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    |     Type      |    Length     |              ...              |
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

A length of 0 is invalid (RFC 4861 4.6: the packet must be discarded), so the
walker stops there. Options of a known type whose length is not the one their
RFC fixes are kept raw (:class:`NDOption`).

One walk serves both readers: `parse_nd_options` makes the layers (for code
that builds or inspects messages), `nd_options_fields` the decoder's dicts,
read with struct straight from the option bytes (no layer objects: a Router
Advertisement is decoded in a fraction of the time).
"""

from __future__ import annotations

import struct
from typing import Any

import dpkt

from mipv6scope.decode.addresses import address
from mipv6scope.decode.issues import MAX_PREFIX_LENGTH, Issue

LAYER = "nd_option"

ND_OPT_SOURCE_LLA = 1
ND_OPT_TARGET_LLA = 2
ND_OPT_PREFIX_INFORMATION = 3
ND_OPT_REDIRECTED_HEADER = 4
ND_OPT_MTU = 5
ND_OPT_ADVERTISEMENT_INTERVAL = 7
ND_OPT_HOME_AGENT_INFORMATION = 8

# Option names as Wireshark prints them (icmpv6.opt.type value strings);
# the numbers are IANA's "IPv6 Neighbor Discovery Option Formats" registry.
ND_OPTION_NAMES: dict[int, str] = {
    1: "Source link-layer address",
    2: "Target link-layer address",
    3: "Prefix information",
    4: "Redirected header",
    5: "MTU",
    6: "NBMA Shortcut Limit Option",
    7: "Advertisement Interval",
    8: "Home Agent Information",
    9: "Source Address List",
    10: "Target Address List",
    11: "CGA",
    12: "RSA Signature",
    13: "Timestamp",
    14: "Nonce",
    15: "Trust Anchor",
    16: "Certificate",
    17: "IP Address/Prefix Option",
    18: "New Router Prefix Information",
    19: "Link-layer Address",
    20: "Neighbor Advertisement Acknowledgment",
    23: "MAP",
    24: "Route Information",
    25: "Recursive DNS Server",
    26: "RA Flags Extension",
    27: "Handover Key Request",
    28: "Handover Key Reply",
    29: "Handover Assist Information",
    30: "Mobile Node Identifier Option",
    31: "DNS Search List Option",
    32: "Proxy Signature (PS)",
    33: "Address Registration Option",
    34: "6LoWPAN Context Option",
    35: "Authoritative Border Router",
    36: "6LoWPAN Capability Indication Option",
    37: "DHCP Captive-Portal",
    38: "PREF64 Option",
    138: "CARD Request",
    139: "CARD Reply",
    253: "RFC3692-style Experiment 1",
    254: "RFC3692-style Experiment 2",
}

# Length (8-octet units) that RFC 4861 4.6.2/4.6.4 and RFC 6275 7.3/7.4 fix.
ND_OPTION_FIXED_LEN: dict[int, int] = {
    ND_OPT_PREFIX_INFORMATION: 4,
    ND_OPT_MTU: 1,
    ND_OPT_ADVERTISEMENT_INTERVAL: 1,
    ND_OPT_HOME_AGENT_INFORMATION: 1,
}


def nd_option_name(opt_type: int) -> str:
    """The display name of an ND option type ("Unknown" if unassigned)."""
    return ND_OPTION_NAMES.get(opt_type, "Unknown")


def ip6_text(addr: bytes) -> str:
    """A 16-byte IPv6 address as compressed text (RFC 5952 style), as
    ``ipaddress`` writes it (the shared `addresses.address`'s remembered text)."""
    return str(address(addr))


class NDOption(dpkt.Packet):
    """Any ND option kept raw: type, length in 8-octet units, then ``data``.

    Used for unknown types and for known types with a wrong length.
    """

    __hdr__ = (
        ('type', 'B', 0),
        ('len', 'B', 1),  # whole option, in units of 8 octets
    )


class SourceLinkLayerAddress(dpkt.Packet):
    """Source Link-layer Address option (RFC 4861 4.6.1), type 1.

    ``data`` is the link-layer address; 6 bytes for Ethernet (length 1).
    """

    __hdr__ = (
        ('type', 'B', ND_OPT_SOURCE_LLA),
        ('len', 'B', 1),
    )

    @property
    def address(self) -> bytes:
        """The link-layer address bytes (everything after type and length)."""
        return bytes(self.data)


class TargetLinkLayerAddress(SourceLinkLayerAddress):
    """Target Link-layer Address option (RFC 4861 4.6.1), type 2."""

    __hdr__ = (
        ('type', 'B', ND_OPT_TARGET_LLA),
        ('len', 'B', 1),
    )


class PrefixInformation(dpkt.Packet):
    """Prefix Information option (RFC 4861 4.6.2, R flag RFC 6275 7.2), type 3.

    ::

        |     Type      |    Length     | Prefix Length |L|A|R|Reserved1|
        |                         Valid Lifetime                        |
        |                       Preferred Lifetime                      |
        |                           Reserved2                           |
        |                            Prefix (128 bits)                  |

    With R set the Prefix field holds the sending router's complete address.
    """

    __hdr__ = (
        ('type', 'B', ND_OPT_PREFIX_INFORMATION),
        ('len', 'B', 4),
        ('prefix_len', 'B', 64),
        ('_l_a_r_reserved1', 'B', 0xC0),
        ('valid_lifetime', 'I', 0xFFFFFFFF),
        ('preferred_lifetime', 'I', 0xFFFFFFFF),
        ('reserved2', 'I', 0),
        ('prefix', '16s', b'\x00' * 16),
    )
    __bit_fields__ = {
        '_l_a_r_reserved1': (
            ('l', 1),  # on-link
            ('a', 1),  # autonomous address configuration
            ('r', 1),  # router address (RFC 6275 7.2)
            ('reserved1', 5),
        ),
    }


class RedirectedHeader(dpkt.Packet):
    """Redirected Header option (RFC 4861 4.6.3), type 4; the IP part is kept raw."""

    __hdr__ = (
        ('type', 'B', ND_OPT_REDIRECTED_HEADER),
        ('len', 'B', 1),
        ('reserved', '6s', b'\x00' * 6),
    )


class MTU(dpkt.Packet):
    """MTU option (RFC 4861 4.6.4), type 5, length 1."""

    __hdr__ = (
        ('type', 'B', ND_OPT_MTU),
        ('len', 'B', 1),
        ('reserved', 'H', 0),
        ('mtu', 'I', 1280),
    )


class AdvertisementInterval(dpkt.Packet):
    """Advertisement Interval option (RFC 6275 7.3), type 7, length 1.

    ::

        |     Type      |    Length     |           Reserved            |
        |                     Advertisement Interval                    |

    The interval is the router's MaxRtrAdvInterval in milliseconds.
    """

    __hdr__ = (
        ('type', 'B', ND_OPT_ADVERTISEMENT_INTERVAL),
        ('len', 'B', 1),
        ('reserved', 'H', 0),
        ('interval', 'I', 0),  # milliseconds
    )


class HomeAgentInformation(dpkt.Packet):
    """Home Agent Information option (RFC 6275 7.4), type 8, length 1.

    ::

        |     Type      |    Length     |           Reserved            |
        |    Home Agent Preference      |      Home Agent Lifetime      |

    The preference is a signed (two's complement) 16-bit integer, higher is
    better; the lifetime is unsigned, in seconds.
    """

    __hdr__ = (
        ('type', 'B', ND_OPT_HOME_AGENT_INFORMATION),
        ('len', 'B', 1),
        ('reserved', 'H', 0),
        ('preference', 'h', 0),  # signed
        ('lifetime', 'H', 0),  # seconds
    )


ND_OPTION_CLASSES: dict[int, type[dpkt.Packet]] = {
    ND_OPT_SOURCE_LLA: SourceLinkLayerAddress,
    ND_OPT_TARGET_LLA: TargetLinkLayerAddress,
    ND_OPT_PREFIX_INFORMATION: PrefixInformation,
    ND_OPT_REDIRECTED_HEADER: RedirectedHeader,
    ND_OPT_MTU: MTU,
    ND_OPT_ADVERTISEMENT_INTERVAL: AdvertisementInterval,
    ND_OPT_HOME_AGENT_INFORMATION: HomeAgentInformation,
}


def pack_nd_options(options: list[dpkt.Packet]) -> bytes:
    """Concatenate option layers into the bytes that follow a message's fixed part."""
    return b''.join(bytes(o) for o in options)


# One option the walk found: its type, length byte, bytes (type and length
# included) and whether it is kept raw (a known type with a wrong length).
_Found = tuple[int, int, bytes, bool]


def _walk_options(buf: bytes, snap_cut: bool) -> tuple[list[_Found], list[Issue]]:
    """The options in ``buf`` and the walk's issues (see `parse_nd_options`)."""
    found: list[_Found] = []
    issues: list[Issue] = []
    off = 0
    end = len(buf)
    while off < end:
        if end - off < 2:
            issues.append(_overrun(snap_cut, f"option header at offset {off} cut after 1 byte"))
            break
        opt_type, opt_len = buf[off], buf[off + 1]
        if opt_len == 0:
            issues.append(Issue("nd_option_zero_length", LAYER,
                                f"option type {opt_type} at offset {off} has length 0"))
            break
        opt_end = off + opt_len * 8
        if opt_end > end:
            issues.append(_overrun(
                snap_cut, f"option type {opt_type} at offset {off} needs {opt_len * 8} bytes, "
                f"{end - off} left"))
            break
        want = ND_OPTION_FIXED_LEN.get(opt_type)
        raw = want is not None and opt_len != want
        if raw:
            issues.append(Issue("nd_option_bad_length", LAYER,
                                f"{nd_option_name(opt_type)} option at offset {off} has length "
                                f"{opt_len}, must be {want}"))
        elif opt_type == ND_OPT_PREFIX_INFORMATION and buf[off + 2] > MAX_PREFIX_LENGTH:
            issues.append(Issue("nd_prefix_length_invalid", LAYER,
                                f"Prefix Information option at offset {off} has prefix length "
                                f"{buf[off + 2]}, at most {MAX_PREFIX_LENGTH}"))
        found.append((opt_type, opt_len, buf[off:opt_end], raw))
        off = opt_end
    return found, issues


def parse_nd_options(buf: bytes, snap_cut: bool = False) -> tuple[list[dpkt.Packet], list[Issue]]:
    """Walk the ND options in ``buf`` into option layers; never raises.

    Stops at a zero length (``nd_option_zero_length``) or at an option running
    past the end of ``buf`` (``nd_option_overrun``, or ``truncated_by_snaplen``
    when the capture cut the frame). A known type with the wrong length gives
    ``nd_option_bad_length`` and is kept as a raw :class:`NDOption`.
    """
    found, issues = _walk_options(buf, snap_cut)
    return [(NDOption if raw else ND_OPTION_CLASSES.get(opt_type, NDOption))(chunk)
            for opt_type, _, chunk, raw in found], issues


def _overrun(snap_cut: bool, detail: str) -> Issue:
    code = "truncated_by_snaplen" if snap_cut else "nd_option_overrun"
    return Issue(code, LAYER, detail)


def mac_text(addr: bytes) -> str:
    """Link-layer address bytes as lower-case colon-separated hex."""
    return addr.hex(":")


_PREFIX_FIELDS = struct.Struct("!BBII")  # prefix length, L/A/R, valid and preferred lifetimes
_U32_AT_4 = struct.Struct("!4xI")  # MTU, Advertisement Interval
_HOME_AGENT_INFO = struct.Struct("!4xhH")  # preference (signed), lifetime


def _prefix_dict(chunk: bytes) -> dict[str, Any]:
    """The "prefixes" entry of one Prefix Information option's 32 bytes."""
    prefix_len, bits, valid, preferred = _PREFIX_FIELDS.unpack_from(chunk, 2)
    return {
        "prefix": ip6_text(chunk[16:32]),
        "prefix_len": prefix_len,
        "flags": [name for name, bit in (("L", 0x80), ("A", 0x40), ("R", 0x20)) if bits & bit],
        "valid_lifetime_s": valid,
        "preferred_lifetime_s": preferred,
    }


def _option_dict(opt_type: int, opt_len: int, chunk: bytes, raw: bool,
                 prefix: dict[str, Any] | None) -> dict[str, Any]:
    """One option as the decoder's dict: type, name, length + its fields
    (``prefix``: a Prefix Information option's, already read)."""
    out: dict[str, Any] = {"type": opt_type, "name": nd_option_name(opt_type), "length": opt_len}
    if raw:
        out["data"] = chunk[2:].hex()
    elif opt_type in (ND_OPT_SOURCE_LLA, ND_OPT_TARGET_LLA):
        out["address"] = mac_text(chunk[2:])
    elif prefix is not None:
        out.update(prefix)
    elif opt_type == ND_OPT_MTU:
        out["mtu"] = _U32_AT_4.unpack(chunk)[0]
    elif opt_type == ND_OPT_ADVERTISEMENT_INTERVAL:
        out["interval_ms"] = _U32_AT_4.unpack(chunk)[0]
    elif opt_type == ND_OPT_HOME_AGENT_INFORMATION:
        out["preference"], out["lifetime_s"] = _HOME_AGENT_INFO.unpack(chunk)
    elif opt_type == ND_OPT_REDIRECTED_HEADER:
        out["data"] = chunk[8:].hex()  # after the 6 reserved bytes
    else:
        out["data"] = chunk[2:].hex()
    return out


def nd_options_fields(buf: bytes, snap_cut: bool = False
                      ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[Issue]]:
    """The decoder's view of the ND options in ``buf``: (every option's dict,
    the "prefixes" entry of each Prefix Information option, the walk's
    issues, as `parse_nd_options` finds them); never raises."""
    found, issues = _walk_options(buf, snap_cut)
    options, prefixes = [], []
    for opt_type, opt_len, chunk, raw in found:
        prefix = None
        if opt_type == ND_OPT_PREFIX_INFORMATION and not raw:
            prefix = _prefix_dict(chunk)
            prefixes.append(prefix)
        options.append(_option_dict(opt_type, opt_len, chunk, raw, prefix))
    return options, prefixes, issues

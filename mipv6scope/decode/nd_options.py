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
RFC fixes are kept as raw :class:`NDOption` objects.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import dpkt

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
    """A 16-byte IPv6 address as compressed text (RFC 5952 style)."""
    return ipaddress.IPv6Address(addr).compressed


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


def parse_nd_options(buf: bytes, snap_cut: bool = False) -> tuple[list[dpkt.Packet], list[Issue]]:
    """Walk the ND options in ``buf``; never raises.

    Stops at a zero length (``nd_option_zero_length``) or at an option running
    past the end of ``buf`` (``nd_option_overrun``, or ``truncated_by_snaplen``
    when the capture cut the frame). A known type with the wrong length gives
    ``nd_option_bad_length`` and is kept as a raw :class:`NDOption`.
    """
    options: list[dpkt.Packet] = []
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
        chunk = buf[off:opt_end]
        want = ND_OPTION_FIXED_LEN.get(opt_type)
        cls = ND_OPTION_CLASSES.get(opt_type, NDOption)
        if want is not None and opt_len != want:
            issues.append(Issue("nd_option_bad_length", LAYER,
                                f"{nd_option_name(opt_type)} option at offset {off} has length "
                                f"{opt_len}, must be {want}"))
            cls = NDOption
        try:
            options.append(cls(chunk))
        except (dpkt.NeedData, dpkt.UnpackError):
            # Only reachable if a class's fixed part were longer than 8 bytes
            # and its length byte said 1; keep the bytes rather than lose them.
            options.append(NDOption(chunk))
        opt = options[-1]
        if isinstance(opt, PrefixInformation) and not prefix_length_ok(opt):
            issues.append(Issue("nd_prefix_length_invalid", LAYER,
                                f"Prefix Information option at offset {off} has prefix length "
                                f"{opt.prefix_len}, at most {MAX_PREFIX_LENGTH}"))
        off = opt_end
    return options, issues


def _overrun(snap_cut: bool, detail: str) -> Issue:
    code = "truncated_by_snaplen" if snap_cut else "nd_option_overrun"
    return Issue(code, LAYER, detail)


def prefix_length_ok(opt: PrefixInformation) -> bool:
    """Whether the option's prefix length is a valid IPv6 prefix length (0-128)."""
    return 0 <= opt.prefix_len <= MAX_PREFIX_LENGTH


def prefix_flags(opt: PrefixInformation) -> list[str]:
    """The set L/A/R flags of a Prefix Information option, in wire order."""
    return [name for name, bit in (("L", opt.l), ("A", opt.a), ("R", opt.r)) if bit]


def prefix_to_dict(opt: PrefixInformation) -> dict[str, Any]:
    """The "prefixes" entry for one Prefix Information option."""
    return {
        "prefix": ip6_text(opt.prefix),
        "prefix_len": opt.prefix_len,
        "flags": prefix_flags(opt),
        "valid_lifetime_s": opt.valid_lifetime,
        "preferred_lifetime_s": opt.preferred_lifetime,
    }


def mac_text(addr: bytes) -> str:
    """Link-layer address bytes as lower-case colon-separated hex."""
    return ":".join(f"{b:02x}" for b in addr)


def option_to_dict(opt: dpkt.Packet) -> dict[str, Any]:
    """One parsed option as the decoder's dict: type, name, length + fields."""
    out: dict[str, Any] = {"type": opt.type, "name": nd_option_name(opt.type), "length": opt.len}
    if isinstance(opt, SourceLinkLayerAddress):  # also TargetLinkLayerAddress
        out["address"] = mac_text(opt.address)
    elif isinstance(opt, PrefixInformation):
        out.update(prefix_to_dict(opt))
    elif isinstance(opt, MTU):
        out["mtu"] = opt.mtu
    elif isinstance(opt, AdvertisementInterval):
        out["interval_ms"] = opt.interval
    elif isinstance(opt, HomeAgentInformation):
        out["preference"] = opt.preference
        out["lifetime_s"] = opt.lifetime
    else:  # RedirectedHeader (kept raw), unknown types, known types with a bad length
        out["data"] = bytes(opt.data).hex()
    return out

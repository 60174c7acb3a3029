"""Mobility options (RFC 6275 6.2 and the RFCs that register more types).

Every option but Pad1 is Type (8) | Option Length (8, octets after these two)
| data. Each decoded option family is a dpkt.Packet subclass whose ``__hdr__``
names the RFC fields; the variable part, if any, is in ``.data``. Type numbers
and lengths are checked against the IANA registry and Wireshark's
packet-mip6.c; disagreements are noted where the class is declared.

``parse_options`` walks a byte string of options; it never raises.
"""

from __future__ import annotations

import ipaddress
from typing import Any, ClassVar

import dpkt
from dpkt.utils import inet_to_str

from mipv6scope.decode.issues import MAX_PREFIX_LENGTH, Issue
from mipv6scope.decode.names import (
    ACCESS_TECHNOLOGY_NAMES,
    HANDOFF_INDICATOR_NAMES,
    IPV4_ACK_STATUS_NAMES,
    MH_OPTION_NAMES,
    MN_ID_SUBTYPE_NAMES,
    name_or_unknown,
)


def _ip6(b: bytes) -> str:
    return ipaddress.IPv6Address(b).compressed


def _ip4(b: bytes) -> str:
    return ipaddress.IPv4Address(b).compressed


class MobilityOption(dpkt.Packet):
    """Base of the decoded mobility options: Type, Option Length, fields.

    Class attributes: ``lengths`` is the tuple of valid Option Length values of
    a fixed-length option (None for variable ones, which need at least
    ``min_len``); ``align`` is the RFC alignment requirement (x, y) for xn+y,
    (0, 0) for none, used when building.
    """

    __hdr__ = (("type", "B", 255), ("len", "B", 0))
    lengths: ClassVar[tuple[int, ...] | None] = None
    min_len: ClassVar[int] = 0
    align: ClassVar[tuple[int, int]] = (0, 0)

    @classmethod
    def length_ok(cls, length: int) -> bool:
        """Whether ``length`` (the Option Length field) suits this option type."""
        if cls.lengths is not None:
            return length in cls.lengths
        return length >= cls.min_len

    def __bytes__(self) -> bytes:
        if self.lengths is None:  # variable length: the length follows the data
            self.len = self.__hdr_len__ - 2 + len(self.data)
        return self.pack_hdr() + bytes(self.data)

    def to_dict(self) -> dict[str, Any]:
        """The option as the jsonl record holds it: type, name, length, fields."""
        out: dict[str, Any] = {
            "type": self.type,
            "name": name_or_unknown(MH_OPTION_NAMES, self.type),
            "length": self.len,
        }
        out.update(self._fields())
        return out

    def _fields(self) -> dict[str, Any]:
        return {}


class Pad1(MobilityOption):
    """Pad1 (type 0): a single zero octet, no length field (RFC 6275 6.2.2)."""

    __hdr__ = (("type", "B", 0),)
    lengths = (0,)

    def __bytes__(self) -> bytes:
        return self.pack_hdr()

    def to_dict(self) -> dict[str, Any]:
        """Pad1 has no length: {"type": 0, "name": "Pad1"}."""
        return {"type": 0, "name": "Pad1"}


class PadN(MobilityOption):
    """PadN (type 1): Option Length octets of padding (RFC 6275 6.2.3)."""

    __hdr__ = (("type", "B", 1), ("len", "B", 0))


class UnknownOption(MobilityOption):
    """An option kept as type + raw bytes: unknown or undecoded types, and
    known types whose length is wrong."""

    def _fields(self) -> dict[str, Any]:
        return {"data": bytes(self.data).hex()}


class BindingRefreshAdvice(MobilityOption):
    """Binding Refresh Advice (type 2, length 2): Refresh Interval in 4 s units.

    RFC 6275 6.2.4, alignment 2n.
    """

    __hdr__ = (("type", "B", 2), ("len", "B", 2), ("refresh_interval", "H", 0))
    lengths = (2,)
    align = (2, 0)

    def _fields(self) -> dict[str, Any]:
        return {"refresh_units": self.refresh_interval, "refresh_s": self.refresh_interval * 4}


class AlternateCoA(MobilityOption):
    """Alternate Care-of Address (type 3, length 16). RFC 6275 6.2.5, 8n+6."""

    __hdr__ = (("type", "B", 3), ("len", "B", 16), ("alternate_coa", "16s", b"\x00" * 16))
    __pprint_funcs__ = {"alternate_coa": inet_to_str}
    lengths = (16,)
    align = (8, 6)

    def _fields(self) -> dict[str, Any]:
        return {"address": _ip6(self.alternate_coa)}


class NonceIndices(MobilityOption):
    """Nonce Indices (type 4, length 4): home and care-of nonce index.

    RFC 6275 6.2.6, alignment 2n. (Scapy's MIP6OptNonceIndices defaults its
    length to 16, which is wrong.)
    """

    __hdr__ = (
        ("type", "B", 4),
        ("len", "B", 4),
        ("home_nonce_index", "H", 0),
        ("careof_nonce_index", "H", 0),
    )
    lengths = (4,)
    align = (2, 0)

    def _fields(self) -> dict[str, Any]:
        return {
            "home_nonce_index": self.home_nonce_index,
            "careof_nonce_index": self.careof_nonce_index,
        }


class BindingAuthData(MobilityOption):
    """Binding Authorization Data (type 5): the authenticator, in ``.data``.

    RFC 6275 6.2.7, alignment 8n+2. Its length is the authenticator's (12
    octets with return routability, RFC 6275 5.2.6) but the format does not fix
    it, so any length is accepted, as Wireshark does.
    """

    __hdr__ = (("type", "B", 5), ("len", "B", 12))
    align = (8, 2)

    def _fields(self) -> dict[str, Any]:
        return {"authenticator": bytes(self.data).hex()}


class _PrefixOption(MobilityOption):
    """Reserved (8) | Prefix Length (8) | Prefix (128); length 18, 8n+4."""

    __pprint_funcs__ = {"prefix": inet_to_str}
    lengths = (18,)
    align = (8, 4)

    def _fields(self) -> dict[str, Any]:
        return {"prefix": _ip6(self.prefix), "prefix_len": self.prefix_len}


class MobileNetworkPrefix(_PrefixOption):
    """Mobile Network Prefix (type 6, length 18). RFC 3963 6.2 (NEMO)."""

    __hdr__ = (
        ("type", "B", 6),
        ("len", "B", 18),
        ("res", "B", 0),
        ("prefix_len", "B", 64),
        ("prefix", "16s", b"\x00" * 16),
    )


class MNIdentifier(MobilityOption):
    """Mobile Node Identifier (type 8): Subtype (8) then the identifier in ``.data``.

    RFC 4283 3 (subtypes: RFC 8371). Wireshark wants at least one identifier
    octet (length >= 2); the format only needs the subtype (length >= 1).
    """

    __hdr__ = (("type", "B", 8), ("len", "B", 1), ("subtype", "B", 1))
    min_len = 1

    def _fields(self) -> dict[str, Any]:
        raw = bytes(self.data)
        try:
            text = raw.decode("utf-8")
            ident = text if text.isprintable() else raw.hex()
        except UnicodeDecodeError:
            ident = raw.hex()
        return {
            "subtype": self.subtype,
            "subtype_name": name_or_unknown(MN_ID_SUBTYPE_NAMES, self.subtype),
            "identifier": ident,
        }


class HomeNetworkPrefix(_PrefixOption):
    """Home Network Prefix (type 22, length 18). RFC 5213 8.3 (PMIPv6)."""

    __hdr__ = (
        ("type", "B", 22),
        ("len", "B", 18),
        ("res", "B", 0),
        ("prefix_len", "B", 64),
        ("prefix", "16s", b"\x00" * 16),
    )


class HandoffIndicator(MobilityOption):
    """Handoff Indicator (type 23, length 2): Reserved (8) | HI (8). RFC 5213 8.4."""

    __hdr__ = (("type", "B", 23), ("len", "B", 2), ("res", "B", 0), ("hi", "B", 0))
    lengths = (2,)

    def _fields(self) -> dict[str, Any]:
        return {
            "handoff_indicator": self.hi,
            "handoff_indicator_name": name_or_unknown(HANDOFF_INDICATOR_NAMES, self.hi),
        }


class AccessTechnologyType(MobilityOption):
    """Access Technology Type (type 24, length 2): Reserved (8) | ATT (8). RFC 5213 8.5."""

    __hdr__ = (("type", "B", 24), ("len", "B", 2), ("res", "B", 0), ("att", "B", 0))
    lengths = (2,)

    def _fields(self) -> dict[str, Any]:
        return {
            "access_technology": self.att,
            "access_technology_name": name_or_unknown(ACCESS_TECHNOLOGY_NAMES, self.att),
        }


class MNLinkLayerIdentifier(MobilityOption):
    """Mobile Node Link-layer Identifier (type 25): Reserved (16), identifier in ``.data``.

    RFC 5213 8.6, alignment 8n+2. The Reserved field makes the minimum
    length 2 (Wireshark accepts 1).
    """

    __hdr__ = (("type", "B", 25), ("len", "B", 2), ("res", "H", 0))
    min_len = 2
    align = (8, 2)

    def _fields(self) -> dict[str, Any]:
        return {"identifier": bytes(self.data).hex()}


class LinkLocalAddress(MobilityOption):
    """Link-local Address (type 26, length 16). RFC 5213 8.7, 8n+6."""

    __hdr__ = (("type", "B", 26), ("len", "B", 16), ("address", "16s", b"\x00" * 16))
    __pprint_funcs__ = {"address": inet_to_str}
    lengths = (16,)
    align = (8, 6)

    def _fields(self) -> dict[str, Any]:
        return {"address": _ip6(self.address)}


class Timestamp(MobilityOption):
    """Timestamp (type 27, length 8). RFC 5213 8.8, alignment 8n+2.

    A 64-bit fixed-point time since 1970-01-01 00:00 UTC: the first 48 bits
    are whole seconds, the last 16 bits 1/65536 fractions of a second. (Not
    the NTP format: Wireshark decodes it the same way, as ENC_TIME_MIP6.)
    """

    __hdr__ = (("type", "B", 27), ("len", "B", 8), ("timestamp", "Q", 0))
    lengths = (8,)
    align = (8, 2)

    @property
    def unix_time(self) -> float:
        """The timestamp as float seconds since 1970-01-01 00:00 UTC."""
        return (self.timestamp >> 16) + (self.timestamp & 0xFFFF) / 65536

    def _fields(self) -> dict[str, Any]:
        return {"timestamp": self.unix_time, "raw": self.timestamp.to_bytes(8, "big").hex()}


class IPv4HomeAddress(MobilityOption):
    """IPv4 Home Address (type 29, length 6), the DSMIPv6 request. RFC 5555 3.1.1.

    Prefix-len (6 bits) | P (1) | Reserved (9) | IPv4 home address (32).
    """

    __hdr__ = (
        ("type", "B", 29),
        ("len", "B", 6),
        ("_prefix_len_p_res", "H", 0),
        ("address", "4s", b"\x00" * 4),
    )
    __bit_fields__ = {"_prefix_len_p_res": (("prefix_len", 6), ("p", 1), ("_res", 9))}
    __pprint_funcs__ = {"address": inet_to_str}
    lengths = (6,)

    def _fields(self) -> dict[str, Any]:
        return {"address": _ip4(self.address), "prefix_len": self.prefix_len, "p_flag": bool(self.p)}


class IPv4AddressAcknowledgement(MobilityOption):
    """IPv4 Address Acknowledgement (type 30, length 6). RFC 5555 3.2.1.

    Status (8) | Pref-len (6 bits) | Res (2) | IPv4 home address (32).
    """

    __hdr__ = (
        ("type", "B", 30),
        ("len", "B", 6),
        ("status", "B", 0),
        ("_prefix_len_res", "B", 0),
        ("address", "4s", b"\x00" * 4),
    )
    __bit_fields__ = {"_prefix_len_res": (("prefix_len", 6), ("_res", 2))}
    __pprint_funcs__ = {"address": inet_to_str}
    lengths = (6,)

    def _fields(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "status_name": name_or_unknown(IPV4_ACK_STATUS_NAMES, self.status),
            "prefix_len": self.prefix_len,
            "address": _ip4(self.address),
        }


class IPv4CareOfAddress(MobilityOption):
    """IPv4 Care-of Address (type 32, length 6): Reserved (16) | address (32). RFC 5555 3.1.3."""

    __hdr__ = (
        ("type", "B", 32),
        ("len", "B", 6),
        ("res", "H", 0),
        ("address", "4s", b"\x00" * 4),
    )
    __pprint_funcs__ = {"address": inet_to_str}
    lengths = (6,)

    def _fields(self) -> dict[str, Any]:
        return {"address": _ip4(self.address)}


class GREKey(MobilityOption):
    """GRE Key (type 33): Reserved (16) | GRE Key Identifier (32), in ``.data``.

    RFC 5845 3.1. Length 6, or 2 when the option only negotiates GRE
    encapsulation without a key (RFC 5845 allows that; current Wireshark
    accepts lengths from 2). ``gre_key`` is None without the identifier.
    """

    __hdr__ = (("type", "B", 33), ("len", "B", 6), ("res", "H", 0))
    lengths = (2, 6)

    def __bytes__(self) -> bytes:
        self.len = 2 + len(self.data)
        return self.pack_hdr() + bytes(self.data)

    @property
    def gre_key(self) -> int | None:
        """The GRE Key Identifier, or None when the option carries none."""
        raw = bytes(self.data)
        return int.from_bytes(raw, "big") if len(raw) == 4 else None

    def _fields(self) -> dict[str, Any]:
        return {"gre_key": self.gre_key}


OPTION_CLASSES: dict[int, type[MobilityOption]] = {
    cls.__hdr_defaults__["type"]: cls
    for cls in (
        Pad1, PadN, BindingRefreshAdvice, AlternateCoA, NonceIndices, BindingAuthData,
        MobileNetworkPrefix, MNIdentifier, HomeNetworkPrefix, HandoffIndicator,
        AccessTechnologyType, MNLinkLayerIdentifier, LinkLocalAddress, Timestamp,
        IPv4HomeAddress, IPv4AddressAcknowledgement, IPv4CareOfAddress, GREKey,
    )
}


def padding(n: int) -> list[MobilityOption]:
    """Options that fill ``n`` octets: nothing, one Pad1, or one PadN."""
    if n <= 0:
        return []
    if n == 1:
        return [Pad1()]
    return [PadN(len=n - 2, data=b"\x00" * (n - 2))]


def align_options(options: list[MobilityOption], offset: int) -> list[MobilityOption]:
    """``options`` with Pad1/PadN inserted so each meets its xn+y alignment.

    ``offset`` is where the first option starts, counted from the first octet
    of the Mobility Header.
    """
    out: list[MobilityOption] = []
    pos = offset
    for opt in options:
        x, y = opt.align
        if x:
            for pad in padding((y - pos) % x):
                out.append(pad)
                pos += len(bytes(pad))
        out.append(opt)
        pos += len(bytes(opt))
    return out


def parse_options(
    buf: bytes, base_offset: int = 0, wire_len: int | None = None
) -> tuple[list[MobilityOption], list[Issue]]:
    """The options and issues of `walk_options` (see there)."""
    opts, issues, _used = walk_options(buf, base_offset, wire_len)
    return opts, issues


def walk_options(
    buf: bytes, base_offset: int = 0, wire_len: int | None = None
) -> tuple[list[MobilityOption], list[Issue], int]:
    """Walk the mobility options in ``buf``; never raises. Returns the
    options, the issues and how many octets of ``buf`` the options took (the
    rest could not be read as options).

    ``base_offset`` is buf's offset in the Mobility Header (for issue details).
    ``wire_len`` is how long the options area is on the wire when the capture
    kept only ``len(buf)`` octets of it: an option cut off inside ``wire_len``
    ends the walk silently (the caller reports the truncation); one running
    past ``wire_len`` is an ``mh_option_overrun``. A known type with a wrong
    length gives ``mh_option_bad_length`` and is kept as an UnknownOption.
    """
    opts: list[MobilityOption] = []
    issues: list[Issue] = []
    n = len(buf)
    limit = n if wire_len is None else max(wire_len, n)
    i = 0
    while i < n:
        otype = buf[i]
        if otype == 0:
            opts.append(Pad1(buf[i:i + 1]))
            i += 1
            continue
        if i + 1 >= n:
            if i + 1 >= limit:
                issues.append(Issue(
                    "mh_option_overrun", "mh_option",
                    f"option type {otype} at offset {base_offset + i}: the header ends "
                    f"before its length octet"))
            break
        olen = buf[i + 1]
        end = i + 2 + olen
        if end > n:
            if end > limit:
                issues.append(Issue(
                    "mh_option_overrun", "mh_option",
                    f"option type {otype} at offset {base_offset + i} with length {olen} "
                    f"runs {end - limit} octet(s) past the end of the header "
                    f"(offset {base_offset + limit})"))
            break
        raw = bytes(buf[i:end])
        cls = OPTION_CLASSES.get(otype)
        opt: MobilityOption
        if cls is None:
            opt = UnknownOption(raw)
        elif not cls.length_ok(olen):
            want = (" or ".join(str(v) for v in cls.lengths) if cls.lengths is not None
                    else f"at least {cls.min_len}")
            issues.append(Issue(
                "mh_option_bad_length", "mh_option",
                f"option type {otype} ({name_or_unknown(MH_OPTION_NAMES, otype)}) at offset "
                f"{base_offset + i} has length {olen}, expected {want}"))
            opt = UnknownOption(raw)
        else:
            try:
                opt = cls(raw)
            except dpkt.UnpackError:
                opt = UnknownOption(raw)
            if isinstance(opt, MobileNetworkPrefix) and opt.prefix_len > MAX_PREFIX_LENGTH:
                issues.append(Issue(
                    "mh_prefix_length_invalid", "mh_option",
                    f"Mobile Network Prefix option at offset {base_offset + i} has prefix "
                    f"length {opt.prefix_len}, at most {MAX_PREFIX_LENGTH}"))
        opts.append(opt)
        i = end
    return opts, issues, i

"""The Mobility Header (RFC 6275 6.1): common header, messages, checksum, parser.

``MH`` is the 6-octet common header; its ``.data`` is one message object
(``BRR`` ... ``BE``, or ``MHGeneric`` for the other types), whose ``opts``
hold the mobility options. Importing this module registers ``MH`` with dpkt
for next header 135, so ``dpkt.ip6.IP6(buf).data`` is an ``MH``.

``parse_mh`` is the decoder's entry point: it never raises and returns what it
could read plus a list of ``Issue``.

     0                   1                   2                   3
     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    | Payload Proto |  Header Len   |   MH Type     |   Reserved    |
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    |           Checksum            |                               |
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               |
    .                        Message Data                           .
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

import dpkt
import dpkt.ip6
from dpkt.utils import inet_to_str

from mipv6scope.decode.checksum import checksum_over, upper_layer_checksum
from mipv6scope.decode.issues import Issue
from mipv6scope.decode.mh_options import (
    MobilityOption,
    align_options,
    padding,
    parse_options,
    walk_options,
)
from mipv6scope.decode.names import (
    BA_STATUS_NAMES,
    BE_STATUS_NAMES,
    MH_TYPE_ABBREV,
    MH_TYPE_NAMES,
    name_or_unknown,
)

IP_PROTO_MH = 135
IP_PROTO_NONE = 59
MH_COMMON_LEN = 6

# Where each message's fixed data ends and its options begin, in octets from
# the first octet of the Mobility Header (tcpdump's ip6m_hdrlen table).
BRR_DATA_END = 8
HOTI_DATA_END = COTI_DATA_END = 16
HOT_DATA_END = COT_DATA_END = 24
BU_DATA_END = BA_DATA_END = 12
BE_DATA_END = 24
MESSAGE_DATA_END: dict[int, int] = {
    0: BRR_DATA_END, 1: HOTI_DATA_END, 2: COTI_DATA_END, 3: HOT_DATA_END,
    4: COT_DATA_END, 5: BU_DATA_END, 6: BA_DATA_END, 7: BE_DATA_END,
}

BU_FLAG_LETTERS = "AHLKMRPFTB"
BA_FLAG_LETTERS = "KRPTB"


def mh_minimum_length(mh_type: int) -> int:
    """The smallest Header Len (8-octet units after the first 8) a type allows.

    RFC 6275 9.2 / the message sections: BRR 0, HoTI/CoTI 1, HoT/CoT 2, BU/BA 1,
    BE 2, i.e. the message data rounded up to 8 octets. 0 for other types.
    """
    end = MESSAGE_DATA_END.get(mh_type, 8)
    return (end + 7) // 8 - 1


class _Message(dpkt.Packet):
    """Base of the message classes: fixed fields, then ``opts``.

    ``data`` keeps octets after the options that could not be parsed as
    options (normally empty), so ``bytes()`` gives back what was read.
    """

    __hdr__: ClassVar[tuple] = ()
    mh_type: ClassVar[int] = -1
    data_end: ClassVar[int] = MH_COMMON_LEN
    # (dict key, __hdr__ field it is read from, getter)
    dict_fields: ClassVar[tuple[tuple[str, str, Callable[[Any], Any]], ...]] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.opts: list[MobilityOption] = []
        self.option_issues: list[Issue] = []
        super().__init__(*args, **kwargs)

    def unpack(self, buf: bytes) -> None:
        """Fixed fields, then the options to the end of ``buf``."""
        dpkt.Packet.unpack(self, buf)
        self.opts, self.option_issues, used = walk_options(self.data, base_offset=self.data_end)
        self.data = self.data[used:]

    def __bytes__(self) -> bytes:
        return self.pack_hdr() + b"".join(bytes(o) for o in self.opts) + bytes(self.data)

    def __len__(self) -> int:
        return len(bytes(self))


def _hex(field: str) -> Callable[[Any], str]:
    return lambda m: getattr(m, field).hex()


def _attr(field: str) -> Callable[[Any], Any]:
    return lambda m: getattr(m, field)


class BRR(_Message):
    """Binding Refresh Request (MH Type 0), RFC 6275 6.1.2.

        |          Reserved             |  + options
    """

    __hdr__ = (("res", "H", 0),)
    mh_type = 0
    data_end = BRR_DATA_END


class HoTI(_Message):
    """Home Test Init (MH Type 1), RFC 6275 6.1.3.

        |          Reserved             |
        |                   Home Init Cookie (64)                       |
    """

    __hdr__ = (("res", "H", 0), ("home_init_cookie", "8s", b"\x00" * 8))
    mh_type = 1
    data_end = HOTI_DATA_END
    dict_fields = (("cookie", "home_init_cookie", _hex("home_init_cookie")),)


class CoTI(_Message):
    """Care-of Test Init (MH Type 2), RFC 6275 6.1.4.

        |          Reserved             |
        |                  Care-of Init Cookie (64)                     |
    """

    __hdr__ = (("res", "H", 0), ("careof_init_cookie", "8s", b"\x00" * 8))
    mh_type = 2
    data_end = COTI_DATA_END
    dict_fields = (("cookie", "careof_init_cookie", _hex("careof_init_cookie")),)


class HoT(_Message):
    """Home Test (MH Type 3), RFC 6275 6.1.5.

        |       Home Nonce Index        |
        |                   Home Init Cookie (64)                       |
        |                  Home Keygen Token (64)                       |
    """

    __hdr__ = (
        ("home_nonce_index", "H", 0),
        ("home_init_cookie", "8s", b"\x00" * 8),
        ("home_keygen_token", "8s", b"\x00" * 8),
    )
    mh_type = 3
    data_end = HOT_DATA_END
    dict_fields = (
        ("home_nonce_index", "home_nonce_index", _attr("home_nonce_index")),
        ("cookie", "home_init_cookie", _hex("home_init_cookie")),
        ("keygen_token", "home_keygen_token", _hex("home_keygen_token")),
    )


class CoT(_Message):
    """Care-of Test (MH Type 4), RFC 6275 6.1.6.

        |      Care-of Nonce Index      |
        |                  Care-of Init Cookie (64)                     |
        |                 Care-of Keygen Token (64)                     |
    """

    __hdr__ = (
        ("careof_nonce_index", "H", 0),
        ("careof_init_cookie", "8s", b"\x00" * 8),
        ("careof_keygen_token", "8s", b"\x00" * 8),
    )
    mh_type = 4
    data_end = COT_DATA_END
    dict_fields = (
        ("careof_nonce_index", "careof_nonce_index", _attr("careof_nonce_index")),
        ("cookie", "careof_init_cookie", _hex("careof_init_cookie")),
        ("keygen_token", "careof_keygen_token", _hex("careof_keygen_token")),
    )


def _flag_list(letters: str) -> Callable[[Any], list[str]]:
    return lambda m: [c for c in letters if getattr(m, c.lower())]


class BU(_Message):
    """Binding Update (MH Type 5), RFC 6275 6.1.7; later flags from IANA.

        |          Sequence #           |
        |A|H|L|K|M|R|P|F|T|B| Reserved  |           Lifetime            |

    A H L K: RFC 6275; M: RFC 4140; R: RFC 3963; P: RFC 5213; F: RFC 5555;
    T: RFC 5845; B: RFC 6602. ``lifetime`` is the raw field, in 4 s units.
    """

    __hdr__ = (("seq", "H", 0), ("_flags_res", "H", 0), ("lifetime", "H", 0))
    __bit_fields__ = {
        "_flags_res": tuple((c.lower(), 1) for c in BU_FLAG_LETTERS) + (("_res", 6),)
    }
    mh_type = 5
    data_end = BU_DATA_END
    dict_fields = (
        ("seq", "seq", _attr("seq")),
        ("flags", "_flags_res", _flag_list(BU_FLAG_LETTERS)),
        ("lifetime_units", "lifetime", _attr("lifetime")),
        ("lifetime_s", "lifetime", lambda m: m.lifetime * 4),
    )


class BA(_Message):
    """Binding Acknowledgement (MH Type 6), RFC 6275 6.1.8; later flags from IANA.

                                    |    Status     |K|R|P|T|B|Res  |
        |       Sequence #              |           Lifetime            |

    K: RFC 6275; R: RFC 3963; P: RFC 5213; T: RFC 5845; B: RFC 6602.
    """

    __hdr__ = (("status", "B", 0), ("_flags_res", "B", 0), ("seq", "H", 0), ("lifetime", "H", 0))
    __bit_fields__ = {
        "_flags_res": tuple((c.lower(), 1) for c in BA_FLAG_LETTERS) + (("_res", 3),)
    }
    mh_type = 6
    data_end = BA_DATA_END
    dict_fields = (
        ("status", "status", _attr("status")),
        ("status_name", "status", lambda m: name_or_unknown(BA_STATUS_NAMES, m.status)),
        ("flags", "_flags_res", _flag_list(BA_FLAG_LETTERS)),
        ("seq", "seq", _attr("seq")),
        ("lifetime_units", "lifetime", _attr("lifetime")),
        ("lifetime_s", "lifetime", lambda m: m.lifetime * 4),
    )


class BE(_Message):
    """Binding Error (MH Type 7), RFC 6275 6.1.9.

                                    |     Status    |   Reserved    |
        |                     Home Address (128)                        |
    """

    __hdr__ = (("status", "B", 0), ("res", "B", 0), ("home_address", "16s", b"\x00" * 16))
    __pprint_funcs__ = {"home_address": inet_to_str}
    mh_type = 7
    data_end = BE_DATA_END
    dict_fields = (
        ("status", "status", _attr("status")),
        ("status_name", "status", lambda m: name_or_unknown(BE_STATUS_NAMES, m.status)),
        ("home_address", "home_address",
         lambda m: ipaddress.IPv6Address(m.home_address).compressed),
    )


class MHGeneric(_Message):
    """Any other MH Type: the body after the common header, kept as bytes in ``.data``.

    ``mh_type`` is set per instance (the MH fills it in when parsing).
    """

    def __init__(self, *args: Any, mh_type: int = 255, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.mh_type = mh_type  # type: ignore[misc]

    def unpack(self, buf: bytes) -> None:
        """Keep everything as the body; no options are decoded."""
        self.data = buf

    @property
    def data_end(self) -> int:  # type: ignore[override]
        return MH_COMMON_LEN + len(bytes(self.data))


MESSAGE_CLASSES: dict[int, type[_Message]] = {
    cls.mh_type: cls for cls in (BRR, HoTI, CoTI, HoT, CoT, BU, BA, BE)
}


class MH(dpkt.Packet):
    """Mobility Header common part; ``.data`` is the message object.

    ``len`` is Header Len (8-octet units, not counting the first 8); ``sum`` is
    the checksum, which the caller computes (see ``mh_checksum``). An MH built
    from fields (not parsed) has ``autofill`` set: ``bytes()`` then fills MH
    Type from the message, pads the options with Pad1/PadN to a multiple of 8
    octets and sets Header Len. A parsed MH is packed back as read; octets after
    the header (only with Payload Proto != 59) are kept in ``trailer``.
    """

    __hdr__ = (("p", "B", IP_PROTO_NONE), ("len", "B", 0), ("type", "B", 0),
               ("res", "B", 0), ("sum", "H", 0))
    _typesw: ClassVar[dict[int, type[_Message]]] = MESSAGE_CLASSES

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.autofill = not args
        self.trailer = b""
        super().__init__(*args, **kwargs)

    def unpack(self, buf: bytes) -> None:
        """NeedData if the header runs past ``buf``; UnpackError if Header
        Len is below the minimum of a known type."""
        dpkt.Packet.unpack(self, buf)
        end = (self.len + 1) * 8
        if len(buf) < end:
            raise dpkt.NeedData(f"Mobility Header of {end} octets, {len(buf)} captured")
        cls = self._typesw.get(self.type)
        msg: _Message
        if cls is None:
            msg = MHGeneric(bytes(buf[MH_COMMON_LEN:end]), mh_type=self.type)
        elif end < cls.data_end:
            raise dpkt.UnpackError(
                f"{cls.__name__} needs {cls.data_end} octets, Header Len {self.len} gives {end}")
        else:
            msg = cls(bytes(buf[MH_COMMON_LEN:end]))
        self.data = msg
        self.trailer = bytes(buf[end:])
        setattr(self, msg.__class__.__name__.lower(), msg)

    def __bytes__(self) -> bytes:
        body = bytes(self.data)
        if self.autofill:
            if isinstance(self.data, _Message):
                self.type = self.data.mh_type
            body += b"".join(bytes(o) for o in padding(-(MH_COMMON_LEN + len(body)) % 8))
            units = (MH_COMMON_LEN + len(body)) // 8 - 1
            if units > 255:
                raise dpkt.PackError(f"Mobility Header of {len(body) + 6} octets is too long")
            self.len = units
        return self.pack_hdr() + body + self.trailer

    def __len__(self) -> int:
        return len(bytes(self))

    def to_dict(self) -> dict[str, Any] | None:
        """The same dict ``parse_mh`` gives for this header's bytes."""
        return parse_mh(bytes(self))[1]


dpkt.ip6.IP6.set_proto(IP_PROTO_MH, MH)


def mh_checksum(src16: bytes, dst16: bytes, mh_bytes: bytes) -> int:
    """The MH checksum for these pseudo-header addresses (RFC 6275 6.1.1), with
    the Checksum field (octets 4-5) taken as zero. A received header is good
    when this equals its Checksum field."""
    return upper_layer_checksum(src16, dst16, IP_PROTO_MH, mh_bytes, 4)


def mh_checksum_between(src: ipaddress.IPv6Address, dst: ipaddress.IPv6Address, mh_bytes: bytes) -> int:
    """`mh_checksum` with the pseudo-header's addresses as address objects."""
    return checksum_over(src._ip + dst._ip, IP_PROTO_MH, mh_bytes, 4)  # type: ignore[attr-defined]


def build_mh(message: _Message, options: Iterable[MobilityOption],
             src16: bytes, dst16: bytes) -> bytes:
    """A complete Mobility Header: ``message`` with ``options`` aligned by
    their xn+y rules, padded to a multiple of 8 octets and checksummed over
    the pseudo-header (src16, dst16)."""
    message.opts = align_options(list(options), message.data_end)
    mh = MH(data=message)
    mh.sum = 0
    mh.sum = mh_checksum(src16, dst16, bytes(mh))
    return bytes(mh)


def _field_spans(cls: type[_Message]) -> dict[str, tuple[int, int]]:
    """Each ``__hdr__`` field's octet span, counted from the MH's first octet."""
    spans: dict[str, tuple[int, int]] = {}
    pos = MH_COMMON_LEN
    for name, fmt, _ in cls.__hdr__:
        size = struct.calcsize(">" + fmt)
        spans[name] = (pos, pos + size)
        pos += size
    return spans


_SPANS: dict[int, dict[str, tuple[int, int]]] = {
    t: _field_spans(c) for t, c in MESSAGE_CLASSES.items()
}


def _flag_letters(letters: str, width: int, value: int) -> tuple[str, ...]:
    """The letters of the flags set in ``value``, a ``width``-bit field
    (``letters[0]`` is its most significant bit, as dpkt's bit fields)."""
    return tuple(c for i, c in enumerate(letters) if value >> (width - 1 - i) & 1)


_BU_FLAGS: dict[int, tuple[str, ...]] = {}  # flags and reserved field -> its letters
_BA_FLAGS = tuple(_flag_letters(BA_FLAG_LETTERS, 8, v) for v in range(256))
_BA_STATUS_TEXTS = tuple(name_or_unknown(BA_STATUS_NAMES, v) for v in range(256))
# Each message's fixed fields, read from the MH's first octet (past the common header)
_BU_FIXED = struct.Struct("!6xHHH")     # Sequence #, flags and reserved, Lifetime
_BA_FIXED = struct.Struct("!6xBBHH")    # Status, flags and reserved, Sequence #, Lifetime
_TEST_FIXED = struct.Struct("!6xH8s8s")  # HoT/CoT: nonce index, init cookie, keygen token
_BE_FIXED = struct.Struct("!6xBx16s")   # Status, Reserved, Home Address


def _bu_fields(buf: bytes, d: dict[str, Any]) -> None:
    """BU.dict_fields of a BU whose fixed fields were all captured, into ``d``."""
    seq, flags, lifetime = _BU_FIXED.unpack_from(buf)
    letters = _BU_FLAGS.get(flags)
    if letters is None:
        letters = _BU_FLAGS[flags] = _flag_letters(BU_FLAG_LETTERS, 16, flags)
    d["seq"], d["flags"], d["lifetime_units"], d["lifetime_s"] = seq, list(letters), lifetime, lifetime * 4


def _ba_fields(buf: bytes, d: dict[str, Any]) -> None:
    """BA.dict_fields of a BA whose fixed fields were all captured, into ``d``."""
    status, flags, seq, lifetime = _BA_FIXED.unpack_from(buf)
    d["status"], d["status_name"], d["flags"] = status, _BA_STATUS_TEXTS[status], list(_BA_FLAGS[flags])
    d["seq"], d["lifetime_units"], d["lifetime_s"] = seq, lifetime, lifetime * 4


def _brr_fields(buf: bytes, d: dict[str, Any]) -> None:
    """A BRR has no fixed fields but its Reserved one."""


def _test_init_fields(buf: bytes, d: dict[str, Any]) -> None:
    """HoTI.dict_fields / CoTI.dict_fields, into ``d``."""
    d["cookie"] = buf[8:16].hex()


def _hot_fields(buf: bytes, d: dict[str, Any]) -> None:
    """HoT.dict_fields, into ``d``."""
    d["home_nonce_index"], cookie, token = _TEST_FIXED.unpack_from(buf)
    d["cookie"], d["keygen_token"] = cookie.hex(), token.hex()


def _cot_fields(buf: bytes, d: dict[str, Any]) -> None:
    """CoT.dict_fields, into ``d``."""
    d["careof_nonce_index"], cookie, token = _TEST_FIXED.unpack_from(buf)
    d["cookie"], d["keygen_token"] = cookie.hex(), token.hex()


def _be_fields(buf: bytes, d: dict[str, Any]) -> None:
    """BE.dict_fields, into ``d``."""
    status, home = _BE_FIXED.unpack_from(buf)
    d["status"], d["status_name"] = status, name_or_unknown(BE_STATUS_NAMES, status)
    d["home_address"] = ipaddress.IPv6Address(home).compressed


# How a message whose fixed fields were all captured is read: with struct, not a
# dpkt object; the same values (tests/decode/test_mh_fuzz.py holds them to dict_fields).
_FIXED_READERS: dict[int, Callable[[bytes, dict[str, Any]], None]] = {
    BRR.mh_type: _brr_fields, HoTI.mh_type: _test_init_fields, CoTI.mh_type: _test_init_fields,
    HoT.mh_type: _hot_fields, CoT.mh_type: _cot_fields, BU.mh_type: _bu_fields,
    BA.mh_type: _ba_fields, BE.mh_type: _be_fields,
}
_OPTION_MEMO_SIZE = 4096
_option_memo: dict[tuple[bytes, int, int], tuple[tuple[dict[str, Any], ...], tuple[Issue, ...]]] = {}
_PLAIN = (str, int, type(None))


def _option_dicts(area: bytes, base_offset: int, wire_len: int,
                  issues: list[Issue]) -> list[dict[str, Any]]:
    """``[o.to_dict() for o in parse_options(area, ...)]``, adding the issues.
    Most messages repeat a few option areas (padding, a refresh advice), so
    the dicts of an area whose values are all plain (str, int, None) are
    remembered, and copies given out."""
    key = (area, base_offset, wire_len)
    known = _option_memo.get(key)
    if known is None:
        opts, opt_issues = parse_options(area, base_offset=base_offset, wire_len=wire_len)
        dicts = tuple(o.to_dict() for o in opts)
        if all(type(v) in _PLAIN for d in dicts for v in d.values()):
            if len(_option_memo) >= _OPTION_MEMO_SIZE:
                _option_memo.clear()
            _option_memo[key] = (dicts, tuple(opt_issues))
        issues.extend(opt_issues)
        return list(dicts)
    if known[1]:
        issues.extend(known[1])
    return [d.copy() for d in known[0]]


def _message_fields(d: dict[str, Any], buf: bytes, avail: int, header_end: int, mtype: int,
                    issues: list[Issue]) -> None:
    """The per-message part of the dict, from the first ``avail`` octets, into ``d``."""
    cls = MESSAGE_CLASSES.get(mtype)
    if cls is None:
        d["body"] = bytes(buf[MH_COMMON_LEN:avail]).hex() if avail >= MH_COMMON_LEN else None
        d["options"] = []
        return
    data_end = cls.data_end
    if avail >= data_end:
        _FIXED_READERS[mtype](buf, d)
    else:
        body = bytes(buf[MH_COMMON_LEN:avail])
        fixed = cls.__hdr_len__
        msg = cls(body[:fixed] + b"\x00" * max(0, fixed - len(body)))
        spans = _SPANS[mtype]
        for key, field, getter in cls.dict_fields:
            d[key] = getter(msg) if spans[field][1] <= avail else None
    d["options"] = (_option_dicts(buf[data_end:avail], data_end, header_end - data_end, issues)
                    if avail > data_end else [])


# (name, abbreviation, minimum Header Len) of each MH Type
_TYPE_TEXTS = tuple((name_or_unknown(MH_TYPE_NAMES, t), name_or_unknown(MH_TYPE_ABBREV, t),
                     mh_minimum_length(t)) for t in range(256))


def _fields(buf: bytes, snap_cut: bool, issues: list[Issue]) -> dict[str, Any] | None:
    """`parse_mh`'s dict of ``buf`` (bytes), adding what is wrong to ``issues``."""
    n = len(buf)
    if n < 3:
        if n < 2:
            code = "truncated_by_snaplen" if snap_cut else "truncated_header"
            issues.append(Issue(code, "mh", f"Mobility Header cut after {n} octet(s), "
                                            f"before its Header Len"))
        else:
            code = "truncated_by_snaplen" if snap_cut else "mh_len_beyond_packet"
            issues.append(Issue(code, "mh", f"Header Len {buf[1]} means {(buf[1] + 1) * 8} "
                                            f"octets, {n} available (MH Type not captured)"))
        return None
    proto, hlen, mtype = buf[0], buf[1], buf[2]
    header_end = (hlen + 1) * 8
    if proto != IP_PROTO_NONE:
        issues.append(Issue("mh_payload_proto_not_59", "mh", f"Payload Proto is {proto}"))
    name, abbrev, minimum = _TYPE_TEXTS[mtype]
    if mtype not in MH_TYPE_NAMES:
        issues.append(Issue("mh_type_unknown", "mh",
                            f"MH Type {mtype} is not defined: a receiver answers with a "
                            "Binding Error, status 2"))
    if hlen < minimum:
        issues.append(Issue(
            "mh_len_below_minimum", "mh",
            f"Header Len {hlen} ({header_end} octets) below {minimum} for MH Type {mtype} "
            f"({abbrev})"))
    if header_end > n:
        code = "truncated_by_snaplen" if snap_cut else "mh_len_beyond_packet"
        lost = ""
        if snap_cut:  # what the analysis cannot count: fields and options past the cut
            lost = (f": fields and options past octet {n} not read (the care-of address is "
                    "the source unless a cut Alternate Care-of Address option said otherwise)"
                    if mtype == BU.mh_type else f": fields and options past octet {n} not read")
        issues.append(Issue(code, "mh", f"Header Len {hlen} means {header_end} octets, "
                                        f"{n} available{lost}"))
        avail = n
    else:
        avail = header_end
    d: dict[str, Any] = {
        "type": mtype,
        "name": name,
        "abbrev": abbrev,
        "payload_proto": proto,
        "header_len": hlen,
        "length": header_end,
        "checksum": buf[4] << 8 | buf[5] if n >= MH_COMMON_LEN else None,
        "checksum_ok": None,
        "checksum_form": None,
        "options": [],
    }
    _message_fields(d, buf, avail, header_end, mtype, issues)
    return d


def parse_mh(buf: bytes, snap_cut: bool = False) -> tuple[MH | None, dict | None, list[Issue]]:
    """Decode a Mobility Header; never raises.

    ``buf`` runs from the MH's first octet to the end of what was captured of
    the IPv6 payload; ``snap_cut`` says the capture's snap length cut it.

    Returns (MH, dict, issues). The MH object exists only when the whole
    header was captured and its Header Len is at least the type's minimum.
    The dict is None only when fewer than 3 octets (no MH Type) were
    captured; otherwise it holds every field whose octets lie both in ``buf``
    and inside Header Len, and None for the others. Options are parsed only
    inside both. See the module docstring and ``mh_minimum_length``.
    """
    issues: list[Issue] = []
    buf = bytes(buf)
    d = _safe_fields(buf, snap_cut, issues)
    if d is None or d["length"] > len(buf) or d["header_len"] < _TYPE_TEXTS[d["type"]][2]:
        return None, d, issues
    try:  # the whole header, at least the type's minimum
        return MH(buf), d, issues
    except Exception as exc:  # the decoder must never raise
        issues.append(_decoder_error(exc))
    return None, None, issues


def parse_mh_fields(buf: bytes, snap_cut: bool = False) -> tuple[dict | None, list[Issue]]:
    """``parse_mh``'s dict and issues, without the MH object (the decoder's
    path: it keeps only the dict)."""
    issues: list[Issue] = []
    return _safe_fields(bytes(buf), snap_cut, issues), issues


def _safe_fields(buf: bytes, snap_cut: bool, issues: list[Issue]) -> dict[str, Any] | None:
    """`_fields`, a decoder bug becoming a ``decoder_error`` issue (and no dict)."""
    try:
        return _fields(buf, snap_cut, issues)
    except Exception as exc:  # the decoder must never raise
        issues.append(_decoder_error(exc))
        return None


def _decoder_error(exc: Exception) -> Issue:
    """The ``decoder_error`` issue of an exception met while reading a Mobility Header."""
    if isinstance(exc, dpkt.NeedData):
        return Issue("decoder_error", "mh", f"needed more data: {exc}")
    if isinstance(exc, dpkt.UnpackError):
        return Issue("decoder_error", "mh", f"malformed: {exc}")
    return Issue("decoder_error", "mh", f"{type(exc).__name__}: {exc}")

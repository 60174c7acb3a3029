"""The fast path: turn plain data frames into `DataPacket` events from raw bytes.

Most frames of a field capture are data: IPv6-in-IPv6 tunnelled between a home
agent and a care-of address, or plain TCP/UDP. Decoding those with dpkt costs
~25 µs a frame; reading the fixed headers at known offsets costs ~1 µs. So
`classify` looks at the link header, the outer IPv6 header and, for a tunnel,
the inner one, and builds the `DataPacket` itself when the frame is
unremarkable:

* outer next header TCP/UDP (ports read from the first 4 bytes), or
* outer next header 41 and the inner next header a data protocol (TCP, UDP,
  or anything but an extension header, ICMPv6, MH, ESP/AH or another tunnel),
* route-optimised TCP/UDP in the canonical RFC 6275 layouts: a Destination
  Options header holding exactly PadN(4) + Home Address option, or a type 2
  routing header with one address and Segments Left 1.

The TCP or UDP checksum must verify (`decode.checksum`): a segment whose
checksum fails goes to the decoder, which reports ``bad_tcp_checksum`` /
``bad_udp_checksum`` on its frame; a segment shorter than its header goes
there too. The pseudo-header part of the sum depends only on the bytes the
fast path reads, so it is remembered with them; each frame adds the sum of
its segment (one `int.from_bytes`).

Everything else (other extension headers, ICMPv6, MH, ESP, AH, fragments,
frames cut by the snap length, payload lengths that disagree with the frame,
capture times that are not a date from 1970 to 9999 (the decoder flags them
``timestamp_out_of_range``), non-IPv6) returns None and goes to the full decoder
(`decode.frame_decoder.decode_frame`). The rule is that whatever the fast path
returns is exactly what the full decoder plus `events_from_frames` would give;
tests/analysis/test_classify.py checks it on every sample capture.

This is the reference engine's fast path (`engine`, ``--engine reference``);
the columnar engine reads the same layouts from numpy columns instead
(`capture.columns`, whose mask is checked against this module frame by
frame). The reference engine's record visitor (one pcap file) uses the
remembered answers without calling `FastPath.fields`: a pcap record's time
(unsigned 32-bit seconds and fraction) is always a date from 1970 to 2106,
so no time the decoder would flag reaches that path.

The engine gets the fields as a tuple (`FastPath.fields`), not as an event.
What follows (ts, frame, file) depends only on the bytes read, so it is
remembered per distinct run of them (a flow's packets of one size: one slice,
one lookup), with a `routes.Route` in which the analyzers remember what they
derived from those addresses. The engine's record visitor reads the same
memory straight from the file's buffer.
"""

from __future__ import annotations

import struct
from dataclasses import fields
from ipaddress import IPv6Address

from ..capture.frame import LINKTYPE_ETHERNET, Frame
from ..capture.link import USUAL_NETWORK_OFFSET, network_layer
from ..decode.addresses import address
from ..decode.checksum import ONES_MODULUS, pseudo_header_sum
from ..decode.issues import MAX_DATE_TS, MIN_DATE_TS
from ..events import DataPacket
from .routes import Route

NH_TCP = 6
NH_UDP = 17
NH_IPV6 = 41
NH_ROUTING = 43
NH_DSTOPTS = 60

# Next headers after an inner IPv6 header that need the full decoder.
NOT_PLAIN_DATA = frozenset((0, 43, 44, 50, 51, 58, 60, 135, 62, NH_IPV6))

_FIXED = struct.Struct("!IHB")  # version/class/flow, payload length, next header
_PORTS = struct.Struct("!HH").unpack_from
_HEAD = _FIXED.unpack_from
# outer fixed header, an inner fixed header at +40 and the 4 bytes at +80
_WIDE = struct.Struct("!IHB33xIHB33xHH").unpack_from
# the same after an Ethernet header, with its type
_ETH_WIDE = struct.Struct("!12xHIHB33xIHB33xHH").unpack_from
ETHERTYPE_IPV6 = 0x86DD
_ETH_IPV6 = b"\x86\xdd"
# Destination Options header as RFC 6275 6.3 lays it out for a lone HAO:
# next header, Hdr Ext Len 2, PadN(2 bytes of padding), HAO type 0xC9 length 16.
_HAO_LAYOUT = b"\x02\x01\x02\x00\x00\xc9\x10"
# Type 2 routing header: Hdr Ext Len 2, Routing Type 2, Segments Left 1.
_RH2_LAYOUT = b"\x02\x02\x01"


_PAIRS: dict[bytes, tuple[IPv6Address, IPv6Address]] = {}
_PAIRS_MAX = 1 << 15


def _pair(key: bytes) -> tuple[IPv6Address, IPv6Address]:
    """The (source, destination) `address` objects of the 32 address bytes of
    an IPv6 header; remembered per distinct pair (bounded)."""
    pair = _PAIRS.get(key)
    if pair is None:
        if len(_PAIRS) >= _PAIRS_MAX:
            _PAIRS.clear()
        pair = _PAIRS[key] = (address(key[:16]), address(key[16:]))
    return pair


def _slot_setter(name: str):
    """The slot descriptor's ``__set__`` for field ``name`` of DataPacket."""
    for cls in DataPacket.__mro__:
        if name in cls.__dict__:
            return cls.__dict__[name].__set__
    raise AttributeError(name)


DATA_PACKET_FIELDS = len(fields(DataPacket))  # the fast path's tuples hold these, then a Route
_new = object.__new__
(_s_ts, _s_frame, _s_file, _s_outer_src, _s_outer_dst, _s_src, _s_dst, _s_tunnelled, _s_hao,
 _s_rh2, _s_proto, _s_sport, _s_dport, _s_length, _s_inner_length) = (
    _slot_setter(f.name) for f in fields(DataPacket))


def make_data_packet(ts: float, frame: int, file: int, outer_src: IPv6Address,
                     outer_dst: IPv6Address, src: IPv6Address, dst: IPv6Address,
                     tunnelled: bool, hao: IPv6Address | None, rh2: IPv6Address | None,
                     proto: int, sport: int | None, dport: int | None, length: int,
                     inner_length: int) -> DataPacket:
    """``DataPacket(...)`` at less than half the cost: the frozen dataclass's
    ``__init__`` goes through ``object.__setattr__`` per field; this writes
    the slots directly. Same arguments, equal result."""
    o = _new(DataPacket)
    _s_ts(o, ts)
    _s_frame(o, frame)
    _s_file(o, file)
    _s_outer_src(o, outer_src)
    _s_outer_dst(o, outer_dst)
    _s_src(o, src)
    _s_dst(o, dst)
    _s_tunnelled(o, tunnelled)
    _s_hao(o, hao)
    _s_rh2(o, rh2)
    _s_proto(o, proto)
    _s_sport(o, sport)
    _s_dport(o, dport)
    _s_length(o, length)
    _s_inner_length(o, inner_length)
    return o


def link_offset(frame: Frame) -> int | None:
    """Where the IPv6 header starts in ``frame.data``, or None if not IPv6."""
    data = frame.data
    if frame.linktype == LINKTYPE_ETHERNET and data[12:14] == _ETH_IPV6:
        return 14
    link = network_layer(frame.linktype, data)
    return link.offset if link.network == "ipv6" else None


_ROUTES: dict[bytes, tuple | bool] = {}


def _route_optimised(key: bytes) -> tuple | bool:
    """(outer_src, outer_dst, src, dst, hao, rh2, next header) of a packet whose
    IPv6 header from its next header field on (``key``: next header, hop limit,
    the two addresses) is followed by one canonical HAO or RH2 header (the 24
    bytes at the end of ``key``) and then TCP or UDP; False for anything else.
    Remembered per distinct ``key`` (bounded)."""
    found = _ROUTES.get(key)
    if found is not None:
        return found
    nh, ext = key[0], key[34:58]
    hao = rh2 = None
    if nh == NH_DSTOPTS and ext[1:8] == _HAO_LAYOUT:
        hao = address(ext[8:24])
    elif nh == NH_ROUTING and ext[1:4] == _RH2_LAYOUT:
        rh2 = address(ext[8:24])
    if (hao is None and rh2 is None) or ext[0] not in (NH_TCP, NH_UDP):
        found = False
    else:
        outer_src, outer_dst = _pair(key[2:34])
        found = (outer_src, outer_dst, outer_src if hao is None else hao,
                 outer_dst if rh2 is None else rh2, hao, rh2, ext[0])
    if len(_ROUTES) >= _PAIRS_MAX:
        _ROUTES.clear()
    _ROUTES[key] = found
    return found


def classify(frame: Frame, file: int = 0) -> DataPacket | None:
    """The DataPacket for a plain data frame, or None when the frame needs the
    full decoder. Never raises on short or odd frames (they return None)."""
    fields = data_fields(frame, file)
    return None if fields is None else make_data_packet(*fields[:DATA_PACKET_FIELDS])


# Bytes after the IPv6 header's start that the fast path reads, by outer next header:
# the fixed header and the ports; the inner fixed header and its ports; the
# canonical HAO/RH2 header and the ports.
READ_LENGTH = {NH_TCP: 44, NH_UDP: 44, NH_IPV6: 84, NH_DSTOPTS: 68, NH_ROUTING: 68}
_TEMPLATES_MAX = 1 << 15
# What kind of data packet a field tuple is: which of an analyzer's handlers it goes to.
TUNNELLED, ROUTE_OPTIMISED, PLAIN = 0, 1, 2


def kind_of(fields: tuple) -> int:
    """TUNNELLED, ROUTE_OPTIMISED or PLAIN: the kind of a field tuple."""
    if fields[7]:
        return TUNNELLED
    return PLAIN if fields[8] is None and fields[9] is None else ROUTE_OPTIMISED


TCP_HEADER_LEN = 20
UDP_HEADER_LEN = 8


ChecksumSpec = tuple[int, int, int, int, "bytes | None"]
"""(first, end) offsets of a TCP/UDP segment in its frame, the pseudo-header
sum, the shift that pads an odd length, and for UDP the Length field it must
carry (None for TCP)."""
_NO_UDP_CHECKSUM = b"\x00\x00"


def _checksum_spec(data: bytes, lo: int, hi: int, src16: bytes, dst16: bytes,
                   proto: int) -> ChecksumSpec | bool | None:
    """What `segment_verifies` needs to check the TCP/UDP segment at
    ``data[lo:hi]`` (offsets in the frame); None for another protocol
    (nothing to check); False when the segment is shorter than its header
    (the decoder takes it)."""
    if proto == NH_TCP:
        if hi - lo < TCP_HEADER_LEN:
            return False
        udp_length = None
    elif proto == NH_UDP:
        if hi - lo < UDP_HEADER_LEN:
            return False
        udp_length = (hi - lo).to_bytes(2, "big")
    else:
        return None
    return lo, hi, pseudo_header_sum(src16, dst16, hi - lo, proto), ((hi - lo) & 1) * 8, udp_length


def segment_verifies(buf: bytes, start: int, spec: ChecksumSpec | None) -> bool:
    """Whether the frame at ``buf[start:]`` carries a TCP/UDP segment whose
    checksum verifies (RFC 8200 8.1; UDP: its Length field is the segment's
    and its checksum is not zero), or no segment to check (``spec`` None).
    The engine's record visitor has the same lines inlined."""
    if spec is None:
        return True
    lo, hi, pseudo, shift, udp_length = spec
    lo += start
    hi += start
    if udp_length is not None and (buf[lo + 4:lo + 6] != udp_length
                                   or buf[lo + 6:lo + 8] == _NO_UDP_CHECKSUM):
        return False
    # `decode.checksum.checksum_verifies`, inlined: this runs for every data frame
    return not ((int.from_bytes(buf[lo:hi], "big") << shift) + pseudo) % ONES_MODULUS


class FastPath:
    """The fast path of one analysis run. `fields` remembers, per link type,
    the runs of header bytes it has read (bounded) with the fields after
    (ts, frame, file) they give; each entry's `routes.Route` lives as long as
    this object, so the analyzers' memos in it die with the run."""

    def __init__(self) -> None:
        # link type -> (usual offset, {bytes read -> (frame length needed, fields[3:] with the
        # route, kind, checksum spec)}); the engine reads it directly on its fastest path
        self.templates: dict[int, tuple[int, dict[bytes, tuple[int, tuple, int, tuple | None]]]] = {
            linktype: (offset, {}) for linktype, offset in USUAL_NETWORK_OFFSET.items()}

    def fields(self, frame: Frame, file: int = 0) -> tuple | None:
        """The DataPacket's fields of a plain data frame as a tuple, in
        declaration order (ts, frame, file, outer_src, outer_dst, src, dst,
        tunnelled, hao, rh2, proto, sport, dport, length, inner_length), then
        the packet's `routes.Route`; None when the frame needs the full decoder.

        Everything after (ts, frame, file) depends only on the bytes the fast
        path reads (link header, fixed headers, ports) and on the frame being
        long enough, so it is remembered per distinct run of those bytes: a
        flow's packets of one size share one entry and one route."""
        if frame.caplen < frame.wirelen:
            return None  # cut by the snap length: the decoder reports how
        if not MIN_DATE_TS <= frame.ts < MAX_DATE_TS:
            return None  # not a date (or NaN): the decoder flags timestamp_out_of_range
        data = frame.data
        link = self.templates.get(frame.linktype)
        if link is not None:
            base, templates = link
            if len(data) > base + 6:
                read = READ_LENGTH.get(data[base + 6])
                if read is not None:
                    key = data[:base + read]
                    found = templates.get(key)
                    if found is not None and len(data) >= found[0]:
                        if not segment_verifies(data, 0, found[3]):
                            return None
                        return (frame.ts, frame.number, file) + found[1]
                    fields = _fields(data, frame.linktype)
                    if fields is None:
                        return None
                    off, need, tail, spec = fields
                    tail += (Route(),)
                    found = (frame.ts, frame.number, file) + tail
                    if off == base:
                        if len(templates) >= _TEMPLATES_MAX:
                            templates.clear()
                        templates[key] = (need, tail, kind_of(found), spec)
                    return found if segment_verifies(data, 0, spec) else None
        fields = _fields(data, frame.linktype)
        if fields is None or not segment_verifies(data, 0, fields[3]):
            return None
        return (frame.ts, frame.number, file) + fields[2] + (Route(),)


_SHARED = FastPath()


def data_fields(frame: Frame, file: int = 0) -> tuple | None:
    """`classify` without building the event: `FastPath.fields` with one
    module-wide memory (the engine keeps its own per run)."""
    return _SHARED.fields(frame, file)


def _fields(data: bytes, linktype: int) -> tuple[int, int, tuple, tuple | None] | None:
    """(where the IPv6 header starts, the frame length the answer needs, the
    DataPacket's fields after (ts, frame, file), the `segment_verifies` spec
    of its TCP/UDP segment) of a data frame, or None."""
    limit = len(data)
    off = None
    if linktype == LINKTYPE_ETHERNET and limit >= 98:
        # the common case in one call: Ethernet type, the outer fixed header,
        # what follows it read as an inner fixed header (its first word: the
        # ports of plain TCP/UDP) and the 4 bytes after that
        ethertype, vtcfl, plen, nh, word, iplen, inh, isport, idport = _ETH_WIDE(data)
        if ethertype == ETHERTYPE_IPV6:
            off = 14
    if off is None:
        link = network_layer(linktype, data)
        if link.network != "ipv6":
            return None
        off = link.offset
        if limit - off >= 84:
            vtcfl, plen, nh, word, iplen, inh, isport, idport = _WIDE(data, off)
        elif limit - off >= 40:
            vtcfl, plen, nh = _HEAD(data, off)
            word = None
        else:
            return None
    ivtcfl = word
    if vtcfl >> 28 != 6 or plen == 0:
        return None
    end = off + 40 + plen
    if end > limit:
        return None
    pos = off + 40
    if nh == NH_IPV6:
        if end - pos < 40:
            return None
        if ivtcfl is None:
            ivtcfl, iplen, inh = _HEAD(data, pos)
            isport = idport = None
        if ivtcfl >> 28 != 6 or iplen == 0 or pos + 40 + iplen > end or inh in NOT_PLAIN_DATA:
            return None
        ipos = pos + 40
        if inh in (NH_TCP, NH_UDP):
            if iplen < 4:
                return None
            if isport is None:
                isport, idport = _PORTS(data, ipos)
        else:
            isport = idport = None
        spec = _checksum_spec(data, ipos, ipos + iplen, data[pos + 8:pos + 24],
                              data[pos + 24:ipos], inh)
        if spec is False:
            return None
        outer = _PAIRS.get(data[off + 8:pos]) or _pair(data[off + 8:pos])
        inner = _PAIRS.get(data[pos + 8:ipos]) or _pair(data[pos + 8:ipos])
        return off, end, (outer[0], outer[1], inner[0], inner[1], True, None, None,
                          inh, isport, idport, 40 + plen, 40 + iplen), spec
    if nh in (NH_TCP, NH_UDP):
        if end - pos < 4:
            return None
        if word is None:
            sport, dport = _PORTS(data, pos)
        else:
            sport, dport = word >> 16, word & 0xFFFF
        spec = _checksum_spec(data, pos, end, data[off + 8:off + 24], data[off + 24:pos], nh)
        if spec is False:
            return None
        outer_src, outer_dst = _PAIRS.get(data[off + 8:pos]) or _pair(data[off + 8:pos])
        return off, end, (outer_src, outer_dst, outer_src, outer_dst,
                          False, None, None, nh, sport, dport, 40 + plen, 40 + plen), spec
    if nh != NH_DSTOPTS and nh != NH_ROUTING:
        return None
    if end - pos < 28:
        return None
    key = data[off + 6:pos + 24]
    found = _ROUTES.get(key) or _route_optimised(key)
    if found is False:
        return None
    outer_src, outer_dst, src, dst, hao, rh2, nh = found
    spec = _checksum_spec(data, pos + 24, end, src.packed, dst.packed, nh)
    if spec is False:
        return None
    sport, dport = _PORTS(data, pos + 24)
    return off, end, (outer_src, outer_dst, src, dst, False, hao, rh2, nh, sport, dport,
                      40 + plen, 40 + plen), spec

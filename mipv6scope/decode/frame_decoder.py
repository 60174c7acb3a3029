"""Walk one frame's header chain: link layer, every IPv6 header (tunnels at any
depth), extension headers, HAO, RH2, ESP/AH, then the Mobility Header or ICMPv6
message. Never raises: what cannot be read becomes an issue on the frame.
"""

from __future__ import annotations

import struct
from ipaddress import IPv6Address

from ..capture.frame import Frame
from ..capture.link import network_layer
from .addresses import address as _address
from .esp_null import read_esp_null
from .esp_sa import active_sas
from .ext_headers import RH2_ROUTING_TYPE, walk_dest_options
from .icmp6 import parse_icmp6
from .issues import Issue, timestamp_in_range
from .mh import mh_checksum_between, parse_mh_fields
from .model import SKIPPED, DecodedFrame, IP6Header, Transport
from .transport import transport_checksum_issue

NH_HOPOPTS = 0
NH_IPV4 = 4
NH_TCP = 6
NH_UDP = 17
NH_IPV6 = 41
NH_ROUTING = 43
NH_FRAGMENT = 44
NH_ESP = 50
NH_AH = 51
NH_ICMPV6 = 58
NH_NONE = 59
NH_DSTOPTS = 60
NH_MH_DRAFT = 62
NH_MH = 135

MAX_HEADERS = 64

_IP6_FIXED = struct.Struct("!IHBB16s16s")
_PORTS = struct.Struct("!HH")
_SPI_SEQ = struct.Struct("!II")


def decode_frame(frame: Frame) -> DecodedFrame:
    """Decode one captured frame into a DecodedFrame (never raises)."""
    out = DecodedFrame(frame.number, frame.ts, frame.caplen, frame.wirelen, frame.linktype)
    if not timestamp_in_range(frame.ts):
        out.issues.append(Issue("timestamp_out_of_range", "capture",
                                f"capture time {frame.ts!r} s is not a date in 1970-9999"))
    link = network_layer(frame.linktype, frame.data)
    out.vlan_ids = link.vlan_ids
    if link.network != "ipv6":
        out.status = SKIPPED
        out.skip_reason = "IPv4" if link.network == "ipv4" else (link.reason or "not IP")
        return out
    try:
        _walk_ipv6(frame.data, link.offset, frame.caplen < frame.wirelen, out)
    except Exception as exc:  # noqa: BLE001 - a decoder bug must not lose the frame
        out.issues.append(Issue("decoder_error", "decode", f"{type(exc).__name__}: {exc}"))
    return out.finish()


def _truncated(snap_cut: bool, layer: str, detail: str) -> Issue:
    code = "truncated_by_snaplen" if snap_cut else "truncated_header"
    return Issue(code, layer, detail)


def _walk_ipv6(data: bytes, pos: int, snap_cut: bool, out: DecodedFrame) -> None:
    """Follow IPv6 headers and their extension chains from ``pos``."""
    issues = out.issues
    limit = len(data)
    headers_seen = 0
    fragmented = False  # a first fragment: its upper-layer checksum covers bytes not here
    while True:  # one iteration per IPv6 header (tunnel level)
        if limit - pos < 40:
            lost = " (the tunnelled packet is not counted: its inner addresses are unknown)" \
                if out.ip6 and snap_cut else ""
            issues.append(_truncated(snap_cut, "ip6",
                                     f"IPv6 header needs 40 bytes, {limit - pos} left{lost}"))
            return
        vtcfl, plen, nh, _hlim, src, dst = _IP6_FIXED.unpack_from(data, pos)
        if vtcfl >> 28 != 6:
            issues.append(Issue("bad_ip_version", "ip6", f"version {vtcfl >> 28} in a header announced as IPv6"))
            return
        hdr = IP6Header(_address(src), _address(dst), nh, plen)
        out.ip6.append(hdr)
        pos += 40
        end = pos + plen if plen else limit  # plen 0: jumbogram, take what is there
        stated_end = end  # where the payload ends as the header says, captured or not
        whole = end <= limit
        if not whole:
            if not snap_cut:
                issues.append(Issue("ip6_payload_length_mismatch", "ip6",
                                    f"payload length {plen} but only {limit - pos} bytes follow"))
            end = limit
        while True:  # one iteration per extension header
            headers_seen += 1
            if headers_seen > MAX_HEADERS:
                issues.append(Issue("too_many_headers", "ip6", f"more than {MAX_HEADERS} headers"))
                return
            if nh in (NH_HOPOPTS, NH_DSTOPTS, NH_ROUTING):
                if end - pos < 2:
                    issues.append(_truncated(snap_cut, "ip6", f"extension header {nh} cut short"))
                    return
                next_nh, hlen = data[pos], data[pos + 1]
                size = (hlen + 1) * 8
                if pos + size > end:
                    _oversized_header(data, pos, size, end, limit, snap_cut, nh, hdr, out)
                    return
                if nh == NH_DSTOPTS:
                    _dest_options(data, pos + 2, pos + size, hdr, issues)
                elif nh == NH_ROUTING:
                    _routing_header(data, pos, hlen, hdr, issues)
                pos += size
                nh = next_nh
            elif nh == NH_FRAGMENT:
                if end - pos < 8:
                    issues.append(_truncated(snap_cut, "fragment", "fragment header cut short"))
                    return
                next_nh = data[pos]
                frag_word = struct.unpack_from("!H", data, pos + 2)[0]
                frag_off = frag_word >> 3
                fragmented = fragmented or bool(frag_word & 1)
                pos += 8
                nh = next_nh
                if frag_off:
                    out.transport = Transport(NH_FRAGMENT, length=end - pos)
                    return
            elif nh == NH_AH:
                if end - pos < 12:
                    issues.append(Issue("ah_too_short", "ah", f"{end - pos} bytes"))
                    return
                next_nh, alen = data[pos], data[pos + 1]
                spi, seq = _SPI_SEQ.unpack_from(data, pos + 4)
                out.ah = {"spi": spi, "seq": seq}
                pos += (alen + 2) * 4
                nh = next_nh
            elif nh == NH_ESP:
                if end - pos < 8:
                    issues.append(Issue("esp_too_short", "esp", f"{end - pos} bytes"))
                    return
                spi, seq = _SPI_SEQ.unpack_from(data, pos)
                out.esp = {"spi": spi, "seq": seq}
                out.transport = Transport(NH_ESP, length=end - pos)
                _esp(bytes(data[pos:end]) if whole else None, hdr, out)
                return  # unless an SA opens it or it reads as NULL encryption, ESP is opaque
            elif nh == NH_IPV6:
                break  # next IPv6 header: tunnel
            elif nh in (NH_MH, NH_MH_DRAFT):
                _mobility_header(data, pos, end, snap_cut, nh, hdr, out)
                return
            elif nh == NH_ICMPV6:
                icmp, icmp_issues = parse_icmp6(bytes(data[pos:end]), snap_cut)
                out.icmp6 = icmp
                issues.extend(icmp_issues)
                out.transport = Transport(NH_ICMPV6, length=end - pos)
                return
            elif nh in (NH_TCP, NH_UDP) and end - pos >= 4:
                sport, dport = _PORTS.unpack_from(data, pos)
                out.transport = Transport(nh, sport, dport, end - pos,
                                          _stated_payload(data, pos, end, stated_end, nh))
                if whole and not fragmented:
                    bad = transport_checksum_issue(data, pos, end, nh, hdr, len(out.ip6) > 1)
                    if bad is not None:
                        issues.append(bad)
                return
            elif nh in (NH_TCP, NH_UDP) and not whole:
                name = "TCP" if nh == NH_TCP else "UDP"
                issues.append(Issue("truncated_by_snaplen", name.lower(),
                                    f"{name} ports not captured ({end - pos} of 4 bytes): "
                                    "the packet is counted, in no port-based flow"))
                out.transport = Transport(nh, length=end - pos)
                return
            else:
                out.transport = Transport(nh, length=end - pos)
                return
        limit = end


def _stated_payload(data: bytes, pos: int, end: int, stated_end: int, nh: int) -> int | None:
    """tshark's ``Len=``: TCP, the segment the IPv6 header states minus the Data
    Offset; UDP, its Length field minus 8. None when those octets were not
    captured (``end``: the end of the captured payload)."""
    if nh == NH_TCP:
        if end <= pos + 12:
            return None
        size = stated_end - pos - (data[pos + 12] >> 4) * 4
    else:
        if end < pos + 6:
            return None
        size = int.from_bytes(data[pos + 4:pos + 6], "big") - 8
    return size if size >= 0 else None


def _dest_options(data: bytes, start: int, stop: int, hdr: IP6Header, issues: list[Issue]) -> None:
    """Walk one Destination Options header, taking the first HAO as the home address."""
    addresses, opt_issues = walk_dest_options(data, start, stop)
    if opt_issues:
        issues.extend(opt_issues)
    for address in addresses:
        if hdr.hao is None:  # the first HAO of the chain
            hdr.hao = _address(address)
        else:
            issues.append(Issue("multiple_home_addr_opts", "hao",
                                f"another Home Address option ({IPv6Address(address)})"))


def _oversized_header(data: bytes, pos: int, size: int, end: int, limit: int, snap_cut: bool,
                      nh: int, hdr: IP6Header, out: DecodedFrame) -> None:
    """An extension header longer than what is left of the IPv6 payload.

    When the frame holds the header's bytes past the payload length, the
    header is still read (as Zeek does) and the size mismatch is reported;
    otherwise the cut is reported as snap-length truncation or, for a
    Destination Options header, as a bad option-area length."""
    layer = {NH_DSTOPTS: "dstopts", NH_ROUTING: "routing"}.get(nh, "hopopts")
    detail = f"header length {size} but {end - pos} bytes of payload left"
    if pos + size <= limit:
        out.issues.append(Issue("ext_header_beyond_payload", layer, detail))
        stop = pos + size
    elif snap_cut:
        out.issues.append(Issue("truncated_by_snaplen", layer, detail))
        return
    else:
        code = "bad_ipv6_dest_opt_len" if nh == NH_DSTOPTS else "truncated_header"
        out.issues.append(Issue(code, layer, detail))
        stop = limit
    if nh == NH_DSTOPTS:
        _dest_options(data, pos + 2, stop, hdr, out.issues)
    elif nh == NH_ROUTING and stop - pos >= 4:
        _routing_header(data, pos, data[pos + 1], hdr, out.issues)


def _routing_header(data: bytes, pos: int, hlen: int, hdr: IP6Header, issues: list[Issue]) -> None:
    """Check a routing header; take the home address from a type 2 one."""
    rtype, segs_left = data[pos + 2], data[pos + 3]
    if rtype != RH2_ROUTING_TYPE:
        return
    if hlen != 2:
        issues.append(Issue("bad_routing2_len", "rh2", f"Hdr Ext Len {hlen}, expected 2 (one address)"))
    if segs_left != 1:
        issues.append(Issue("rh2_segs_left_not_one", "rh2", f"Segments Left {segs_left}, expected 1"))
    if hlen >= 2 and len(data) >= pos + 24:
        hdr.rh2 = _address(bytes(data[pos + 8:pos + 24]))


def _esp(esp: bytes | None, hdr: IP6Header, out: DecodedFrame) -> None:
    """Open an ESP payload (``esp``: None when the capture cut it) with the SA
    of its addresses and SPI (`esp_sa.active_sas`), else read it as NULL
    encryption; what neither opens is counted as encrypted without a key."""
    info = out.esp
    if info is None:
        return
    sa = active_sas().find(hdr.upper_src, hdr.upper_dst, info["spi"])
    if sa is None:
        found = read_esp_null(esp, hdr) if esp is not None else None
        if found is None:
            info["no_key"] = True
            return
        info.update(null=True, icv_len=found.icv_len, pad_len=found.pad_len,
                    next_header=found.next_header)
        _mobility_header(found.payload, 0, len(found.payload), False, found.next_header, hdr, out)
        return
    info["sa_line"] = sa.line
    from .esp_decrypt import open_esp  # cryptography: loaded only when an SA is given
    opened = open_esp(esp, sa) if esp is not None else None
    if opened is None:
        if esp is not None:
            out.issues.append(Issue("esp_decrypt_failed", "esp",
                                    f"the SA of --esp-sa line {sa.line} does not open this packet"))
        return
    info.update(decrypted=True, icv_len=opened.icv_len, iv_len=opened.iv_len,
                pad_len=opened.pad_len, next_header=opened.next_header)
    if opened.icv_ok is not None:
        info["icv_ok"] = opened.icv_ok
    if opened.icv_ok is False:
        out.issues.append(Issue("esp_icv_mismatch", "esp",
                                f"ICV does not match (SA of --esp-sa line {sa.line})"))
    _esp_payload(opened.next_header, opened.payload, hdr, out)


def _esp_payload(nh: int, payload: bytes, hdr: IP6Header, out: DecodedFrame) -> None:
    """What a decrypted ESP packet carries: an MH, a tunnelled IPv6 packet
    (tunnel mode), ICMPv6, or another upper layer."""
    if nh in (NH_MH, NH_MH_DRAFT):
        _mobility_header(payload, 0, len(payload), False, nh, hdr, out)
    elif nh == NH_IPV6:
        _walk_ipv6(payload, 0, False, out)
    elif nh == NH_ICMPV6:
        out.icmp6, icmp_issues = parse_icmp6(payload, False)
        out.issues.extend(icmp_issues)
        out.transport = Transport(nh, length=len(payload))
    elif nh in (NH_TCP, NH_UDP) and len(payload) >= 4:
        out.transport = Transport(nh, *_PORTS.unpack_from(payload), len(payload))
    else:
        out.transport = Transport(nh, length=len(payload))


def _mobility_header(data: bytes, pos: int, end: int, snap_cut: bool, nh: int,
                     hdr: IP6Header, out: DecodedFrame) -> None:
    """Decode the MH and verify its checksum in both address forms."""
    buf = bytes(data[pos:end])
    if nh == NH_MH_DRAFT:
        out.issues.append(Issue("mh_draft_protocol_number", "mh", "next header 62"))
    fields, mh_issues = parse_mh_fields(buf, snap_cut)
    if mh_issues:
        out.issues.extend(mh_issues)
    out.transport = Transport(nh, None, None, end - pos)
    out.mh = fields
    if fields is None or len(buf) < 6:
        return
    length = fields["length"]
    if length > len(buf):
        return  # cannot verify a checksum over bytes we do not have
    body = buf[:length] if length < len(buf) else buf
    wanted = fields["checksum"]
    upper = mh_checksum_between(hdr.upper_src, hdr.upper_dst, body)
    if upper == wanted:
        fields["checksum_ok"], fields["checksum_form"] = True, "upper-layer"
        return
    wire = mh_checksum_between(hdr.src, hdr.dst, body)
    if wire == wanted:
        # RFC 6275 6.1.1 / RFC 8200 8.1: the pseudo-header holds the home address
        # (HAO source, RH2 final destination); over the care-of address it is wrong
        fields["checksum_ok"], fields["checksum_form"] = False, "on-wire"
        swapped = ", ".join(f"{care_of} for {home}" for care_of, home in
                            ((hdr.src, hdr.hao), (hdr.dst, hdr.rh2)) if home is not None)
        out.issues.append(Issue("mh_checksum_over_care_of", "mh",
                                f"checksum 0x{wanted:04x} verifies only with {swapped} in the "
                                f"pseudo-header; over the home address it is 0x{upper:04x}"))
        return
    fields["checksum_ok"], fields["checksum_form"] = False, None
    out.issues.append(Issue("bad_mh_checksum", "mh",
                            f"checksum 0x{wanted:04x}, expected 0x{upper:04x} (upper-layer)"
                            f" or 0x{wire:04x} (on-wire)"))

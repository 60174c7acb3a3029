"""Captures and reference outputs from Zeek's and tcpdump's test suites, as oracles.

Zeek (shared/captures/external/zeek): the weird log of its mobile-ipv6
dst-opts test, the home address and routing header its HAO/RH2 tests print,
and its MH checksum captures. tcpdump (shared/captures/external/tcpdump):
its ipv6_mobility_1 capture with the ``-v`` output its test suite expects, and
its fuzzer-found captures (ASan and out-of-bounds-read regressions) with the
``.out`` files that say what tcpdump prints for them.

Every expected value is read from those files or from the RFCs; checksums are
recomputed here with a separate RFC 1071 implementation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from ipaddress import IPv6Address
from pathlib import Path

import pytest

from mipv6scope.capture.reader import open_capture
from mipv6scope.decode.frame_decoder import decode_frame
from mipv6scope.decode.issues import ISSUE_KINDS
from mipv6scope.decode.model import DecodedFrame
from mipv6scope.decode.stream import DecodeStream
from tests.conftest import external_captures, rfc1071

# ------------------------------------------------------------------ helpers


def zeek_dir() -> Path:
    """shared/captures/external/zeek (skips when shared/ is missing)."""
    return external_captures() / "zeek"


def tcpdump_dir() -> Path:
    """shared/captures/external/tcpdump (skips when shared/ is missing)."""
    return external_captures() / "tcpdump"


def decode_file(path: Path) -> tuple[dict[int, DecodedFrame], dict[int, bytes]]:
    """Our decoded frames and the raw frame bytes of ``path``, by frame number."""
    decoded: dict[int, DecodedFrame] = {}
    raw: dict[int, bytes] = {}
    with open_capture(path) as reader:
        for frame in reader:
            decoded[frame.number] = decode_frame(frame)
            raw[frame.number] = frame.data
    return decoded, raw


def codes(frame: DecodedFrame) -> list[str]:
    """The issue codes of a frame, in the order reported."""
    return [i.code for i in frame.issues]




def upper_checksum(src: IPv6Address, dst: IPv6Address, nh: int, upper: bytes, at: int) -> int:
    """The checksum ``upper`` should carry at offset ``at`` for this pseudo-header."""
    body = upper[:at] + b"\x00\x00" + upper[at + 2:]
    pseudo = src.packed + dst.packed + len(body).to_bytes(4, "big") + bytes([0, 0, 0, nh])
    return rfc1071(pseudo + body)


def zeek_unescape(text: str) -> bytes:
    r"""Zeek's string rendering back to bytes: ``\xNN`` escapes, other characters as is."""
    out = bytearray()
    i = 0
    while i < len(text):
        if text.startswith("\\x", i):
            out.append(int(text[i + 2:i + 4], 16))
            i += 4
        else:
            out.append(ord(text[i]))
            i += 1
    return bytes(out)


# ------------------------------------------------------------------ Zeek

ZEEK_WEIRD_TO_OURS = {
    "bad_ipv6_dest_opt_len": "bad_ipv6_dest_opt_len",
    "multiple_home_addr_opts": "multiple_home_addr_opts",
    "bad_home_addr_len": "bad_home_addr_len",
    "invalid_IP_header_size": "ext_header_beyond_payload",
}

# Error-severity issues we report on ipv6-mobility-dst-opts.pcap that Zeek's
# weird log does not have: (frame, code) -> why.
ZEEK_DST_OPTS_EXTRA: dict[tuple[int, str], str] = {
    (3, "bad_ipv6_dest_opt_len"):
        "after the 1-octet HAO Zeek stops reading the header; we walk on and find the "
        "header's last octet is an option type (PadN) with no length octet (RFC 8200 4.2)",
}


def zeek_log(path: Path) -> list[dict[str, str]]:
    """The rows of a Zeek ASCII log as dicts keyed by its #fields header."""
    names: list[str] = []
    rows = []
    for line in path.read_text().splitlines():
        if line.startswith("#fields"):
            names = line.split("\t")[1:]
        elif line and not line.startswith("#"):
            rows.append(dict(zip(names, line.split("\t"), strict=True)))
    return rows


def test_zeek_dst_opts_weirds_are_all_found_per_frame() -> None:
    """Each row of Zeek's weird log for ipv6-mobility-dst-opts.pcap is one of our
    issues on the frame it belongs to. Zeek's rows come in frame order; a row with
    addresses belongs to a frame whose (upper-layer source, destination) they are
    (Zeek gives the HAO's home address as orig_h), a row without may be any frame."""
    root = zeek_dir()
    weirds = zeek_log(root / "baseline-core.mobile-ipv6-dst-opts-weird.log")
    ours, _raw = decode_file(root / "ipv6-mobility-dst-opts.pcap")
    assert [w["name"] for w in weirds] == [
        "bad_ipv6_dest_opt_len", "multiple_home_addr_opts", "invalid_IP_header_size",
        "bad_home_addr_len"]
    matched: dict[int, set[str]] = {}
    at = 1
    for weird in weirds:
        code = ZEEK_WEIRD_TO_OURS[weird["name"]]
        addressed = weird["id.orig_h"] != "-"
        candidates = [n for n in sorted(ours) if n >= at and code in codes(ours[n]) and (
            not addressed or (str(ours[n].src), str(ours[n].dst)) == (
                str(IPv6Address(weird["id.orig_h"])), str(IPv6Address(weird["id.resp_h"]))))]
        assert candidates, f"Zeek's {weird['name']} ({code}) not found from frame {at} on"
        at = candidates[0]
        matched.setdefault(at, set()).add(code)
    # every frame of the capture is one of Zeek's, and every error we report is
    # Zeek's or a documented extra
    assert sorted(matched) == sorted(ours)
    for number, frame in ours.items():
        errors = {c for c in codes(frame) if ISSUE_KINDS[c].severity == "error"}
        extra = {c for (n, c) in ZEEK_DST_OPTS_EXTRA if n == number}
        assert errors == matched[number] | extra, number
        assert frame.status == "malformed"


def test_zeek_dst_opts_home_address_of_the_double_hao_frame() -> None:
    """Zeek names the first HAO's address as orig_h of multiple_home_addr_opts: it is
    the home address we keep."""
    root = zeek_dir()
    row = next(w for w in zeek_log(root / "baseline-core.mobile-ipv6-dst-opts-weird.log")
               if w["name"] == "multiple_home_addr_opts")
    ours, _raw = decode_file(root / "ipv6-mobility-dst-opts.pcap")
    frame = next(f for f in ours.values() if "multiple_home_addr_opts" in codes(f))
    assert frame.hao == IPv6Address(row["id.orig_h"])
    assert frame.dst == IPv6Address(row["id.resp_h"])


@pytest.mark.parametrize(("name", "good"), [("mip6-good-mh-chksum.pcap", True),
                                            ("mip6-bad-mh-chksum.pcap", False)])
def test_zeek_mh_checksum_captures(name: str, good: bool) -> None:
    """Zeek's good/bad MH checksum pair: checksum_ok True, or bad_mh_checksum."""
    ours, raw = decode_file(zeek_dir() / name)
    (frame,) = ours.values()
    (data,) = raw.values()
    assert frame.mh is not None and frame.ip6[0].nh == 135
    mh_bytes = data[14 + 40:]
    right = upper_checksum(frame.ip6[0].src, frame.ip6[0].dst, 135, mh_bytes, 4)
    assert (int.from_bytes(mh_bytes[4:6], "big") == right) is good
    assert frame.mh["checksum_ok"] is good
    if good:
        assert codes(frame) == [] and frame.status == "decoded"
    else:
        assert codes(frame) == ["bad_mh_checksum"] and frame.status == "malformed"


ZEEK_MH_FILES = {"mip6_brr.pcap": 0, "mip6_hoti.pcap": 1, "mip6_coti.pcap": 2,
                 "mip6_hot.pcap": 3, "mip6_cot.pcap": 4, "mip6_bu.pcap": 5,
                 "mip6_back.pcap": 6, "mip6_be.pcap": 7}


@pytest.mark.parametrize(("name", "mh_type"), sorted(ZEEK_MH_FILES.items()))
def test_zeek_one_capture_per_mh_type(name: str, mh_type: int) -> None:
    """Zeek's mip6_<type>.pcap files: the MH type the name says (RFC 6275 numbers),
    a checksum we accept exactly when it is right, and no error."""
    ours, raw = decode_file(zeek_dir() / name)
    (frame,) = ours.values()
    (data,) = raw.values()
    assert frame.mh is not None and frame.mh["type"] == mh_type
    mh_bytes = data[14 + 40:14 + 40 + frame.mh["length"]]
    right = upper_checksum(frame.ip6[0].src, frame.ip6[0].dst, 135, mh_bytes, 4)
    assert frame.mh["checksum_ok"] is (frame.mh["checksum"] == right)
    assert frame.mh["checksum_ok"] is True
    assert codes(frame) == [] and frame.status == "decoded"


def _zeek_output(name: str) -> tuple[dict[str, str], str]:
    """Zeek's baseline: the connection id fields, and the ip6 header record line."""
    lines = [ln for ln in (zeek_dir() / name).read_text().splitlines()
             if not ln.startswith("#")]
    conn = dict(re.findall(r"(\w+)=([^,\]]+)", lines[0]))
    return conn, lines[1]


def test_zeek_home_address_output() -> None:
    """ipv6-mobile-hoa.pcap: the HAO Zeek prints (otype=201) is our HAO, and Zeek's
    connection is from that home address to the on-wire destination."""
    conn, record = _zeek_output("baseline-core.mobile-ipv6-home-addr-output")
    m = re.search(r"\[otype=201, len=16, data=(.*?)\]\]", record)
    assert m
    home = IPv6Address(zeek_unescape(m[1]))
    ours, _raw = decode_file(zeek_dir() / "ipv6-mobile-hoa.pcap")
    (frame,) = ours.values()
    assert frame.hao == home
    assert (frame.src, frame.dst) == (IPv6Address(conn["orig_h"]), IPv6Address(conn["resp_h"]))
    wire = re.search(r"src=([0-9a-f:]+), dst=([0-9a-f:]+)", record)
    assert wire and (frame.outer_src, frame.outer_dst) == (IPv6Address(wire[1]),
                                                            IPv6Address(wire[2]))
    assert codes(frame) == [] and frame.status == "decoded"


def test_zeek_routing_output() -> None:
    """ipv6-mobile-routing.pcap: the type 2 routing header Zeek prints (rtype=2,
    segleft=1, 4 reserved octets then the address) holds our RH2 home address, and
    Zeek's connection goes to that address."""
    conn, record = _zeek_output("baseline-core.mobile-ipv6-routing-output")
    m = re.search(r"routing=\[nxt=\d+, len=2, rtype=2, segleft=1, data=(.*?)\], fragment",
                  record)
    assert m
    data = zeek_unescape(m[1])
    assert len(data) == 20 and data[:4] == b"\x00" * 4
    ours, _raw = decode_file(zeek_dir() / "ipv6-mobile-routing.pcap")
    (frame,) = ours.values()
    assert frame.rh2 == IPv6Address(data[4:])
    assert (frame.src, frame.dst) == (IPv6Address(conn["orig_h"]), IPv6Address(conn["resp_h"]))
    assert codes(frame) == [] and frame.status == "decoded"


@pytest.mark.parametrize("name", ["ip6-hoa-tcp-good-chksum.pcap", "ip6-hoa-tcp-bad-chksum.pcap",
                                  "ip6-hoa-udp-good-chksum.pcap", "ip6-hoa-udp-bad-chksum.pcap"])
def test_zeek_hoa_checksum_captures(name: str) -> None:
    """Zeek's HAO checksum captures carry the home address of its home-addr baseline;
    the "good" ones verify only with that HAO as the pseudo-header source (RFC 6275
    6.3), the "bad" ones with nothing: we report bad_tcp/udp_checksum on those, as
    tshark -o tcp.check_checksum:TRUE -o udp.check_checksum:TRUE does ("Bad
    checksum [should be 0xb713]" / "[should be 0x43de]"), a warning that keeps
    the packet (not malformed)."""
    conn, _record = _zeek_output("baseline-core.mobile-ipv6-home-addr-output")
    ours, raw = decode_file(zeek_dir() / name)
    (frame,) = ours.values()
    (data,) = raw.values()
    assert frame.hao == IPv6Address(conn["orig_h"])
    assert frame.transport is not None
    proto = frame.transport.proto
    assert proto == (6 if "-tcp-" in name else 17)
    upper = data[len(data) - frame.transport.length:]
    at = 16 if proto == 6 else 6
    stored = int.from_bytes(upper[at:at + 2], "big")
    with_hao = upper_checksum(frame.hao, frame.dst, proto, upper, at)
    on_wire = upper_checksum(frame.ip6[0].src, frame.dst, proto, upper, at)
    assert stored != on_wire
    good = name.endswith("-good-chksum.pcap")
    assert (stored == with_hao) is good
    assert codes(frame) == ([] if good else [f"bad_{'tcp' if proto == 6 else 'udp'}_checksum"])
    assert frame.status == "decoded"


# ------------------------------------------------------------------ tcpdump

TCPDUMP_MH_TYPES = {"BRR": 0, "HoTI": 1, "CoTI": 2, "HoT": 3, "CoT": 4, "BU": 5, "BA": 6, "BE": 7}
TCPDUMP_OPTIONS = {"pad1": 0, "padn": 1, "refresh": 2, "alt-CoA": 3, "ni": 4, "auth": 5}
TCPDUMP_ICMP6 = {"mobile router advertisement": 147, "mobile router solicitation": 146,
                 "ha discovery request": 144, "ha discovery reply": 145}
_PAREN = r"\((?P<ip6>(?:[^()]|\([^()]*\))*)\) "
_LINE = re.compile(r"\s*(?P<n>\d+)\s+(?P<when>\S+ \S+) IP6 (?:" + _PAREN + r")?"
                   r"(?P<src>\S+) > (?P<dst>\S+): (?P<body>.*)")
_INVALID = re.compile(r"\s*(?P<n>\d+)\s+\[Invalid header: caplen==(\d+), len==(\d+)\]")


@dataclass
class TcpdumpOption:
    """One option as tcpdump printed it; ``complete`` is False when the capture
    ended inside it (``(refresh: [|mobility]``)."""

    name: str
    value: str
    complete: bool

    @property
    def type(self) -> int:
        """The option type: tcpdump's name, or the number of an "unknown" one."""
        m = re.fullmatch(r"type-#(\d+) len=\d+", self.value)
        return int(m[1]) if self.name == "unknown" and m else TCPDUMP_OPTIONS[self.name]


@dataclass
class TcpdumpLine:
    """What tcpdump printed for one frame."""

    number: int
    when: str = ""
    src: str = ""
    dst: str = ""
    ip6: str = ""
    body: str = ""
    invalid: tuple[int, int] | None = None
    payload_proto: int | None = None
    message: str = ""
    head: str = ""
    options: list[TcpdumpOption] = field(default_factory=list)
    truncated: bool = False


def parse_tcpdump(path: Path) -> list[TcpdumpLine]:
    """Each line of a tcpdump test .out file, split into what we compare."""
    lines = []
    for text in path.read_text().splitlines():
        if (bad := _INVALID.fullmatch(text)) is not None:
            lines.append(TcpdumpLine(int(bad["n"]), invalid=(int(bad[2]), int(bad[3]))))
            continue
        m = _LINE.fullmatch(text)
        assert m, text
        line = TcpdumpLine(int(m["n"]), m["when"], m["src"], m["dst"], m["ip6"] or "",
                           m["body"])
        body = m["body"]
        line.truncated = body.endswith(("[|mobility]", "[|icmp6]"))
        body = re.sub(r"\s*\[\|\w+\]$", "", body)
        mob = re.fullmatch(r"mobility: (?:\(payload protocol (\d+) should be 59\) )?"
                           r"(\w+)(.*)", body)
        if mob:
            line.payload_proto = int(mob[1]) if mob[1] else None
            line.message = mob[2]
            line.head, _, opts = mob[3].partition("(")
            for o in re.finditer(r"\(([^()]*?)(\)|$)", "(" + opts if opts else ""):
                name, _, value = o[1].partition(":")
                line.options.append(TcpdumpOption(name, value.strip(), o[2] == ")"))
        else:
            line.message = body
        lines.append(line)
    return lines


def _utc(ts: float) -> str:
    us = round(ts * 1_000_000)
    return datetime.fromtimestamp(us // 1_000_000, timezone.utc).strftime(
        "%Y-%m-%d %H:%M:%S") + f".{us % 1_000_000:06d}"


def check_against_tcpdump(line: TcpdumpLine, frame: DecodedFrame) -> None:
    """Every fact of a tcpdump line that our decoder also reports."""
    where = f"frame {line.number}: {line.body or line.invalid}"
    if line.invalid is not None:
        assert (frame.caplen, frame.wirelen) == line.invalid, where
        assert frame.status == "skipped", where
        return
    assert _utc(frame.ts) == line.when, where
    hdr = frame.ip6[0]
    assert (hdr.src, hdr.dst) == (IPv6Address(line.src), IPv6Address(line.dst)), where
    if line.ip6:
        nh = re.search(r"next-header [^,]*\((\d+)\), payload length (\d+)", line.ip6)
        assert nh, line.ip6
        assert (hdr.nh, hdr.payload_len) == (int(nh[1]), int(nh[2])), where
        if hdr.nh == 62:  # tcpdump: "Mobile IP (old)", the pre-RFC MH number
            assert "mh_draft_protocol_number" in codes(frame), where
    if line.truncated:  # tcpdump ran out of captured bytes: so did we, by the snap length
        assert frame.caplen < frame.wirelen, where
        assert "truncated_by_snaplen" in codes(frame), where
    if line.message in TCPDUMP_ICMP6 or line.body.startswith("ICMP6"):
        _check_icmp6(line, frame, where)
        return
    mh = frame.mh
    assert mh is not None and mh["type"] == TCPDUMP_MH_TYPES[line.message], where
    if line.payload_proto is not None:
        assert mh["payload_proto"] == line.payload_proto, where
        assert "mh_payload_proto_not_59" in codes(frame), where
    else:
        assert mh["payload_proto"] == 59 and "mh_payload_proto_not_59" not in codes(frame)
    _check_mh_fields(line, mh, where)
    _check_options(line, frame, where)


def _cookie(text: str, label: str) -> str | None:
    m = re.search(label + r"=([0-9a-f]{8}):([0-9a-f]{8})", text)
    return m[1] + m[2] if m else None


def _check_mh_fields(line: TcpdumpLine, mh: dict, where: str) -> None:
    head, msg = line.head, line.message
    if msg in ("HoTI", "HoT") and "Cookie" in head:
        assert mh["cookie"] == _cookie(head, "Home Init Cookie"), where
    if msg in ("CoTI", "CoT") and "Cookie" in head:
        assert mh["cookie"] == _cookie(head, "Care-of Init Cookie"), where
    if msg == "HoT" and "Token" in head:
        assert mh["keygen_token"] == _cookie(head, "Home Keygen Token"), where
    if msg == "CoT" and "Token" in head:
        assert mh["keygen_token"] == _cookie(head, "Care-of Keygen Token"), where
    if msg in ("HoT", "CoT"):
        key = "home_nonce_index" if msg == "HoT" else "careof_nonce_index"
        assert mh[key] == int(re.search(r"nonce id=(0x[0-9a-f]+)", head)[1], 16), where
    if msg == "BU":
        bu = re.fullmatch(r" seq#=(\d+)((?: [AHLK])*) lifetime=(\d+)", head)
        assert bu, where
        assert mh["seq"] == int(bu[1]), where
        # tcpdump prints only A H L K (RFC 6275); lifetime in seconds
        assert [f for f in mh["flags"] if f in "AHLK"] == bu[2].split(), where
        assert mh["lifetime_s"] == int(bu[3]) == mh["lifetime_units"] * 4, where
    if msg == "BA":
        ba = re.fullmatch(r" status=(\d+)(?:((?: K)?) seq#=(\d+) lifetime=(\d+))?", head)
        assert ba, where
        assert mh["status"] == int(ba[1]), where
        if ba[3] is not None:
            assert (mh["seq"], mh["lifetime_s"]) == (int(ba[3]), int(ba[4])), where
            assert ("K" in mh["flags"]) == bool(ba[2]), where
    if msg == "BE":
        be = re.fullmatch(r" status=(\d+) homeaddr (\S+)", head)
        assert be, where
        assert mh["status"] == int(be[1]), where
        assert IPv6Address(mh["home_address"]) == IPv6Address(be[2]), where


def _check_options(line: TcpdumpLine, frame: DecodedFrame, where: str) -> None:
    """tcpdump's options are the first of ours, in order, with the same values.

    Where tcpdump prints values for an option whose length is wrong (it reads the
    fields past the option's end), we keep the option raw and report
    mh_option_bad_length instead."""
    assert frame.mh is not None
    ours = frame.mh["options"]
    assert len(ours) >= len(line.options), where
    for printed, opt in zip(line.options, ours, strict=False):
        assert opt["type"] == printed.type, where
        if not printed.complete:
            continue
        if printed.name == "unknown":
            assert opt["length"] == int(printed.value.split("len=")[1]), where
            continue
        decoded = printed.name in ("pad1", "padn", "auth") or "data" not in opt
        if not decoded:
            assert "mh_option_bad_length" in codes(frame), where
            continue
        if printed.name == "refresh":
            assert opt["refresh_s"] == int(printed.value), where  # tcpdump: seconds
        elif printed.name == "alt-CoA":
            assert IPv6Address(opt["address"]) == IPv6Address(printed.value), where
        elif printed.name == "ni":
            ho, co = re.fullmatch(r"ho=(0x\w+) co=(0x\w+)", printed.value).groups()
            assert (opt["home_nonce_index"], opt["careof_nonce_index"]) == (
                int(ho, 16), int(co, 16)), where


def _check_icmp6(line: TcpdumpLine, frame: DecodedFrame, where: str) -> None:
    m = re.fullmatch(r"ICMP6, (?P<name>[a-z ]+), length (?P<len>\d+)(?:, id (?P<id>0x\w+))?",
                     re.sub(r"\s*\[\|\w+\]$", "", line.body))
    assert m, where
    icmp = frame.icmp6
    assert icmp is not None and icmp["type"] == TCPDUMP_ICMP6[m["name"]], where
    assert frame.ip6[-1].payload_len == int(m["len"]), where
    if m["id"]:
        assert icmp["identifier"] == int(m["id"], 16), where


TCPDUMP_FILES = ["ipv6_mobility_1-v.out", "ipv6-mobility-header-oobr.out",
                 "icmp6_mobileprefix_asan.out", "mobility_opt_asan.out",
                 *(f"mobility_opt_asan_{i}.out" for i in range(2, 9))]


@pytest.mark.parametrize("out_name", TCPDUMP_FILES)
def test_tcpdump_reference_output(out_name: str) -> None:
    """Every frame tcpdump lists in its expected output: same timestamp, addresses,
    next header, payload length, MH type, payload-proto complaint, truncation, fields
    and options as we report."""
    root = tcpdump_dir()
    pcap = root / (out_name.removesuffix(".out").removesuffix("-v") + ".pcap")
    lines = parse_tcpdump(root / out_name)
    ours, _raw = decode_file(pcap)
    assert [ln.number for ln in lines] == sorted(ours)
    for line in lines:
        check_against_tcpdump(line, ours[line.number])


def test_tcpdump_ipv6_mobility_1_is_flagged_for_its_zero_checksums() -> None:
    """ipv6_mobility_1.pcap's MHs all carry checksum 0, never the right value, so
    each of the 16 frames has exactly bad_mh_checksum (and nothing tcpdump -v
    complains about)."""
    ours, raw = decode_file(tcpdump_dir() / "ipv6_mobility_1.pcap")
    assert len(ours) == 16
    for number, frame in ours.items():
        data = raw[number]
        mh_bytes = data[40:40 + int.from_bytes(data[4:6], "big")]
        assert mh_bytes[4:6] == b"\x00\x00"
        assert upper_checksum(frame.ip6[0].src, frame.ip6[0].dst, 135, mh_bytes, 4) != 0
        assert codes(frame) == ["bad_mh_checksum"], number
        assert frame.mh is not None and frame.mh["checksum_ok"] is False


FUZZ_CAPTURES = ["ipv6-mobility-header-oobr.pcap", "icmp6_mobileprefix_asan.pcap",
                 "mobility_opt_asan.pcap", *(f"mobility_opt_asan_{i}.pcap" for i in range(2, 9))]


@pytest.mark.parametrize("name", FUZZ_CAPTURES)
def test_tcpdump_fuzz_captures_decode_without_errors_and_are_counted(name: str) -> None:
    """tcpdump's fuzzer regressions: no exception, no decoder_error, every frame
    counted once, and every record tcpdump lists is one of ours."""
    path = tcpdump_dir() / name
    stream = DecodeStream([path])
    frames = list(stream)
    counts = stream.counts
    listed = parse_tcpdump(path.with_suffix(".out"))
    assert counts.frames == len(frames) == len(listed)
    assert counts.frames == counts.decoded + counts.malformed + counts.skipped
    assert [f.number for f in frames] == [ln.number for ln in listed]
    assert stream.capture_issues == []
    for frame in frames:
        assert "decoder_error" not in codes(frame), (frame.number, frame.issues)
        errors = [c for c in codes(frame) if ISSUE_KINDS[c].severity == "error"]
        if frame.status == "skipped":
            assert frame.ip6 == [] and frame.skip_reason, frame.number
        else:
            assert frame.status == ("malformed" if errors else "decoded"), frame.number

"""The columnar frame pass (capture.columns) against the record readers, the
fast path (analysis.classify), tshark and Scapy-built frames.

Oracles: the record readers for what a frame is (number, time, lengths,
bytes, capture issues); `classify.FastPath.fields` for which frames the fast
layouts explain and what they read (classify is itself checked against the
full decoder, tests/analysis/test_classify.py); tshark for the header fields;
Scapy for building frames and their checksums.
"""

from __future__ import annotations

import gzip
import shutil
import struct
import subprocess
from decimal import Decimal
from ipaddress import IPv6Address
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mipv6scope.analysis.classify import FastPath
from mipv6scope.capture import columns, open_capture
from mipv6scope.capture.columns import (
    NO_ID,
    R_CHECKSUM,
    R_FAST,
    R_INNER,
    R_IP6,
    R_LINK,
    R_NEXT,
    R_SEGMENT,
    R_SNAPLEN,
    R_TIME,
    R_UDP,
    REASONS,
    AddressTable,
    chunks,
    gather,
)
from tests.capture.pcapng_blocks import idb, sections_pcapng, shb
from tests.conftest import external_captures, rfc1071

SAMPLES = Path(__file__).resolve().parents[2] / "sample_captures"
SAMPLE_CAPTURES = sorted(p for p in SAMPLES.iterdir() if ".pcap" in p.name and not p.name.endswith(".json"))
MAC = {"src": "02:00:00:00:00:01", "dst": "02:00:00:00:00:02"}
needs_tshark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not on PATH")


def external_list() -> list[Path]:
    path = Path(__file__).resolve().parents[2].parent / "shared" / "captures" / "external"
    return sorted(path.glob("*/*.pcap")) if path.is_dir() else []


# -- reading columns back as per-frame rows ------------------------------------------------------

def column_rows(path: Path, chunk_bytes: int = 8 << 20, chunk_frames: int = 1 << 14
                ) -> tuple[dict[int, tuple], list]:
    """frame number -> (ts, caplen, wirelen, bytes, linktype, interface, reason, fields or None),
    and the capture issues. ``fields`` are the DataPacket's fields after (ts, frame, file),
    in classify's order, with address objects from the table."""
    table = AddressTable()
    rows: dict[int, tuple] = {}
    with open_capture(path) as reader:
        for chunk in chunks(reader, chunk_bytes, chunk_frames):
            cols = gather(chunk, table)
            assert len(cols.reason) == len(chunk)
            numbers = chunk.number.tolist()
            fields: dict[int, tuple] = {}

            def addr(i: int) -> IPv6Address | None:
                return None if i == NO_ID else table.objects[i]

            for j, row in enumerate(cols.rows.tolist()):
                sport, dport = int(cols.sport[j]), int(cols.dport[j])
                fields[row] = (addr(cols.outer_src[j]), addr(cols.outer_dst[j]), addr(cols.src[j]),
                               addr(cols.dst[j]), bool(cols.kind[j] == 0), addr(cols.hao[j]),
                               addr(cols.rh2[j]), int(cols.proto[j]),
                               None if sport == NO_ID else sport, None if dport == NO_ID else dport,
                               int(cols.length[j]), int(cols.inner_length[j]))
            for i, number in enumerate(numbers):
                rows[number] = (float(chunk.ts[i]), int(chunk.caplen[i]), int(chunk.wirelen[i]),
                                chunk.frame_bytes(i), int(chunk.linktype[i]), int(chunk.interface[i]),
                                int(cols.reason[i]), fields.get(i))
        issues = list(reader.issues)
    return rows, issues


# Layouts classify takes and the gather masks on purpose (decoded in full instead)
def masked_on_purpose(frame) -> bool:
    data = frame.data
    if frame.linktype != 1 or len(data) < 14:
        return False
    ethertype = int.from_bytes(data[12:14], "big")
    if ethertype <= 1500:
        return True  # 802.2 LLC/SNAP
    tags = 0
    at = 12
    while int.from_bytes(data[at:at + 2], "big") in (0x8100, 0x88A8, 0x9100, 0x9200):
        tags += 1
        at += 4
    return tags > 2


def assert_same_as_readers_and_classify(path: Path, chunk_bytes: int = 8 << 20,
                                        chunk_frames: int = 1 << 14) -> dict[int, tuple]:
    """The columns of ``path`` against the reader's frames and classify, frame by frame."""
    rows, issues = column_rows(path, chunk_bytes, chunk_frames)
    fast_path = FastPath()
    with open_capture(path) as reader:
        frames = list(reader)
        assert issues == reader.issues
    assert sorted(rows) == [f.number for f in frames]
    for frame in frames:
        ts, caplen, wirelen, data, linktype, interface, reason, fields = rows[frame.number]
        assert (ts, caplen, wirelen, data, linktype, interface) == (
            frame.ts, frame.caplen, frame.wirelen, frame.data, frame.linktype, frame.interface) or (
            ts != ts and frame.ts != frame.ts), frame.number  # NaN times
        expected = fast_path.fields(frame)
        if expected is None or masked_on_purpose(frame):
            assert reason != R_FAST and fields is None, (frame.number, REASONS[reason])
        else:
            assert reason == R_FAST, (frame.number, REASONS[reason])
            assert fields == expected[3:15], frame.number
    return rows


@pytest.mark.parametrize("path", SAMPLE_CAPTURES, ids=lambda p: p.name)
def test_samples_equal_readers_and_classify(path: Path) -> None:
    rows = assert_same_as_readers_and_classify(path)
    if path.name.startswith("scenario-"):
        assert any(r[6] == R_FAST for r in rows.values())


@pytest.mark.parametrize("path", [p for p in SAMPLE_CAPTURES if "handoff" in p.name][:3],
                         ids=lambda p: p.name)
def test_small_chunks_give_the_same_columns(path: Path) -> None:
    whole = column_rows(path)
    assert column_rows(path, 3000) == whole
    assert column_rows(path, 8 << 20, 7) == whole


def test_external_captures_equal_readers_and_classify() -> None:
    root = external_captures()
    paths = sorted(root.glob("*/*.pcap"))
    assert paths
    for path in paths:
        assert_same_as_readers_and_classify(path)


# -- tshark ---------------------------------------------------------------------------------------

TSHARK_FIELDS = ("frame.number", "frame.time_epoch", "frame.len", "frame.cap_len", "ipv6.src",
                 "ipv6.dst", "ipv6.nxt", "ipv6.plen", "ipv6.opt.mipv6.home_address",
                 "ipv6.routing.mipv6.home_address", "udp.srcport", "udp.dstport", "tcp.srcport",
                 "tcp.dstport")


def tshark_rows(path: Path) -> dict[int, dict[str, list[str]]]:
    cmd = ["tshark", "-n", "-r", str(path), "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=,"]
    for name in TSHARK_FIELDS:
        cmd += ["-e", name]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rows = {}
    for line in out.splitlines():
        values = dict(zip(TSHARK_FIELDS, line.split("\t"), strict=True))
        rows[int(values["frame.number"])] = {k: v.split(",") if v else [] for k, v in values.items()}
    return rows


@needs_tshark
@pytest.mark.parametrize("path", SAMPLE_CAPTURES + external_list(), ids=lambda p: p.name)
def test_columns_equal_tshark_fields(path: Path) -> None:
    ours, _issues = column_rows(path)
    theirs = tshark_rows(path)
    assert sorted(theirs) == sorted(ours)
    for number, (ts, caplen, wirelen, _data, _lt, _if, _reason, fields) in ours.items():
        t = theirs[number]
        assert int(t["frame.len"][0]) == wirelen and int(t["frame.cap_len"][0]) == caplen
        # tshark prints the record's exact time; ours is the nearest float64
        assert abs(Decimal(t["frame.time_epoch"][0]) - Decimal(ts)) < Decimal("1e-6"), number
        if fields is None:
            continue
        (outer_src, outer_dst, src, dst, tunnelled, hao, rh2, proto, sport, dport, length,
         inner_length) = fields
        assert [IPv6Address(a) for a in t["ipv6.src"]] == ([outer_src, src] if tunnelled else [outer_src])
        assert [IPv6Address(a) for a in t["ipv6.dst"]] == ([outer_dst, dst] if tunnelled else [outer_dst])
        nxt = [int(v) for v in t["ipv6.nxt"]]
        plen = [int(v) for v in t["ipv6.plen"]]
        if tunnelled:
            assert nxt == [41, proto] and plen == [length - 40, inner_length - 40]
        else:
            assert nxt[-1] in (proto, 60, 43) and plen == [length - 40] and length == inner_length
        assert [IPv6Address(a) for a in t["ipv6.opt.mipv6.home_address"]] == ([hao] if hao else [])
        assert [IPv6Address(a) for a in t["ipv6.routing.mipv6.home_address"]] == ([rh2] if rh2 else [])
        if proto in (6, 17):
            name = "udp" if proto == 17 else "tcp"
            assert [int(v) for v in t[f"{name}.srcport"]][-1:] == [sport]
            assert [int(v) for v in t[f"{name}.dstport"]][-1:] == [dport]


# -- Scapy-built frames, one per layout and per mask reason -------------------------------------

def pcap_file(path: Path, frames: list[tuple[bytes, int]], linktype: int = 1) -> Path:
    """A microsecond pcap of (bytes, wire length) records, one a second."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, linktype)]
    for i, (data, wirelen) in enumerate(frames):
        out.append(struct.pack("<IIII", 1_700_000_000 + i, 250_000, len(data), wirelen) + data)
    path.write_bytes(b"".join(out))
    return path


def scapy_frames() -> list[tuple[str, bytes, int | None, int]]:
    """(name, Ethernet frame, wire length or None, expected reason)."""
    from scapy.layers.inet import TCP, UDP
    from scapy.layers.inet6 import (
        HAO,
        MIP6MH_BU,
        ICMPv6ND_RA,
        IPv6,
        IPv6ExtHdrDestOpt,
        IPv6ExtHdrFragment,
        IPv6ExtHdrHopByHop,
        IPv6ExtHdrRouting,
    )
    from scapy.layers.l2 import ARP, Dot1Q, Ether

    eth = Ether(**MAC)
    ha, coa, cn, hoa = "2001:db8:1::1", "2001:db8:2::100", "2001:db8:9::9", "2001:db8:1::100"
    tunnel_udp = IPv6(src=ha, dst=coa) / IPv6(src=cn, dst=hoa) / UDP(sport=5004, dport=5006) / b"payload!"
    tunnel_tcp = IPv6(src=coa, dst=ha) / IPv6(src=hoa, dst=cn) / TCP(sport=40000, dport=443) / (b"x" * 33)
    plain_tcp = IPv6(src=cn, dst=hoa) / TCP(sport=80, dport=4242) / b"abc"
    plain_udp_odd = IPv6(src=cn, dst=hoa) / UDP(sport=53, dport=5353) / b"odd"
    hao = IPv6(src=coa, dst=cn) / IPv6ExtHdrDestOpt(options=[HAO(hoa=hoa)]) / UDP(sport=7000, dport=7001) / b"hi"
    rh2 = IPv6(src=cn, dst=coa) / IPv6ExtHdrRouting(type=2, segleft=1, addresses=[hoa]) / TCP(sport=1, dport=2)
    frames = [
        ("tunnelled UDP", bytes(eth / tunnel_udp), None, R_FAST),
        ("tunnelled TCP", bytes(eth / tunnel_tcp), None, R_FAST),
        ("plain TCP, odd length", bytes(eth / plain_tcp), None, R_FAST),
        ("plain UDP, odd length", bytes(eth / plain_udp_odd), None, R_FAST),
        ("HAO UDP", bytes(eth / hao), None, R_FAST),
        ("RH2 TCP", bytes(eth / rh2), None, R_FAST),
        ("VLAN", bytes(eth / Dot1Q(vlan=7) / tunnel_udp), None, R_FAST),
        ("QinQ", bytes(Ether(type=0x88A8, **MAC) / Dot1Q(vlan=1) / Dot1Q(vlan=7) / tunnel_udp), None, R_FAST),
        ("three VLAN tags", bytes(eth / Dot1Q(vlan=1) / Dot1Q(vlan=2) / Dot1Q(vlan=3) / tunnel_udp), None, R_LINK),
        ("bad UDP checksum", bytes(eth / IPv6(src=cn, dst=hoa) / UDP(sport=1, dport=2, chksum=0x1234) / b"ab"),
         None, R_CHECKSUM),
        ("bad inner TCP checksum", bytes(eth / IPv6(src=ha, dst=coa) / IPv6(src=cn, dst=hoa)
                                         / TCP(sport=1, dport=2, chksum=0x1234) / b"abc"), None, R_CHECKSUM),
        ("HAO with checksum over the care-of address",
         bytes(eth / IPv6(src=coa, dst=cn) / IPv6ExtHdrDestOpt(options=[HAO(hoa=hoa)])
               / UDP(sport=1, dport=2, chksum=_udp_checksum(coa, cn, b"ab"))
               / b"ab"), None, R_CHECKSUM),
        ("UDP checksum 0", bytes(eth / IPv6(src=cn, dst=hoa) / UDP(sport=1, dport=2, chksum=0) / b"ab"),
         None, R_UDP),
        ("UDP length wrong", bytes(eth / IPv6(src=cn, dst=hoa) / UDP(sport=1, dport=2, len=9) / b"ab"),
         None, R_UDP),
        ("TCP shorter than its header", bytes(eth / IPv6(src=cn, dst=hoa, nh=6) / (b"\x00" * 12)), None, R_SEGMENT),
        ("RA after a hop-by-hop header", bytes(eth / IPv6(src="fe80::1", dst="ff02::1") / IPv6ExtHdrHopByHop()
                                               / ICMPv6ND_RA()), None, R_NEXT),
        ("RA", bytes(eth / IPv6(src="fe80::1", dst="ff02::1") / ICMPv6ND_RA()), None, R_NEXT),
        ("BU", bytes(eth / IPv6(src=coa, dst=ha) / IPv6ExtHdrDestOpt(options=[HAO(hoa=hoa)])
                     / MIP6MH_BU(seq=1, flags=0x0C, mhtime=100)), None, R_NEXT),
        ("fragment", bytes(eth / IPv6(src=cn, dst=hoa) / IPv6ExtHdrFragment() / UDP(sport=1, dport=2)), None,
         R_NEXT),
        ("ESP", bytes(eth / IPv6(src=cn, dst=hoa, nh=50) / (b"\x00\x00\x10\x01" + b"\x00" * 20)), None, R_NEXT),
        ("nested tunnel", bytes(eth / IPv6(src=ha, dst=coa) / IPv6(src=ha, dst=coa) / tunnel_udp), None, R_INNER),
        ("tunnel to ICMPv6", bytes(eth / IPv6(src=ha, dst=coa) / IPv6(src=cn, dst=hoa) / ICMPv6ND_RA()), None,
         R_INNER),
        ("cut by snap length", bytes(eth / tunnel_udp)[:70], len(bytes(eth / tunnel_udp)), R_SNAPLEN),
        ("IPv6 header cut", bytes(eth / tunnel_udp)[:40], None, R_IP6),
        ("payload length past the frame", bytes(eth / IPv6(src=cn, dst=hoa, plen=200) / UDP() / b"ab"), None,
         R_IP6),
        ("IPv4", bytes(Ether(type=0x0800, **MAC) / (b"\x45" + b"\x00" * 59)), None, R_LINK),
        ("ARP", bytes(eth / ARP()), None, R_LINK),
    ]
    return [(name, data, wirelen, reason) for name, data, wirelen, reason in frames]


def _udp_checksum(src: str, dst: str, payload: bytes) -> int:
    """The UDP checksum of ``payload`` (ports 1, 2) over the pseudo-header (src, dst), by RFC 1071."""
    udp = struct.pack("!HHHH", 1, 2, 8 + len(payload), 0) + payload
    pseudo = (IPv6Address(src).packed + IPv6Address(dst).packed + struct.pack("!I", len(udp))
              + b"\x00\x00\x00\x11")
    return rfc1071(pseudo + udp)


def test_scapy_layouts_and_mask_reasons(tmp_path: Path) -> None:
    built = scapy_frames()
    path = pcap_file(tmp_path / "layouts.pcap",
                     [(data, len(data) if wirelen is None else wirelen) for _n, data, wirelen, _r in built])
    rows = assert_same_as_readers_and_classify(path)
    for number, (name, _data, _wirelen, reason) in enumerate(built, start=1):
        assert REASONS[rows[number][6]] == REASONS[reason], name


@pytest.mark.parametrize("linktype, prefix", [
    (101, b""),                                               # raw IP
    (229, b""),                                               # IPv6
    (0, struct.pack("<I", 30)),                               # null, Darwin AF_INET6
    (0, struct.pack(">I", 28)),                               # null, FreeBSD, other byte order
    (108, struct.pack(">I", 24)),                             # loop
    (113, bytes(14) + b"\x86\xdd"),                           # Linux cooked
    (113, bytes(14) + b"\x81\x00\x00\x07\x86\xdd"),           # Linux cooked, VLAN
    (276, b"\x86\xdd" + bytes(18)),                           # Linux cooked v2
])
def test_other_link_types(tmp_path: Path, linktype: int, prefix: bytes) -> None:
    from scapy.layers.inet import UDP
    from scapy.layers.inet6 import IPv6
    packet = bytes(IPv6(src="2001:db8:1::1", dst="2001:db8:2::100") / IPv6(src="2001:db8:9::9",
                                                                         dst="2001:db8:1::100")
                   / UDP(sport=5004, dport=5004) / b"data")
    frames = [(prefix + packet, len(prefix + packet)), (prefix + packet[:50], len(prefix + packet[:50]))]
    rows = assert_same_as_readers_and_classify(pcap_file(tmp_path / "l.pcap", frames, linktype))
    assert rows[1][6] == R_FAST and rows[2][6] != R_FAST


def pcapng_bytes(linktype: int, packets: list[tuple[int, bytes]], tsoffset: int = 0) -> bytes:
    """A little-endian pcapng: SHB, one IDB (µs, ``if_tsoffset``), EPBs of (µs units, bytes)."""
    def block(btype: int, body: bytes) -> bytes:
        body += b"\x00" * (-len(body) % 4)
        return struct.pack("<II", btype, len(body) + 12) + body + struct.pack("<I", len(body) + 12)
    opts = struct.pack("<HHq", 14, 8, tsoffset) + struct.pack("<HH", 0, 0) if tsoffset else b""
    out = [block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)),
           block(1, struct.pack("<HHI", linktype, 0, 0) + opts)]
    for units, data in packets:
        out.append(block(6, struct.pack("<IIIII", 0, units >> 32, units & 0xFFFFFFFF, len(data), len(data))
                         + data))
    return b"".join(out)


def test_pcapng_time_outside_the_dates_is_masked(tmp_path: Path) -> None:
    data = scapy_frames()[0][1]
    path = tmp_path / "t.pcapng"
    path.write_bytes(pcapng_bytes(1, [(1_700_000_000_000_000, data), (400_000_000_000_000_000, data)]))
    rows = assert_same_as_readers_and_classify(path)
    assert rows[1][6] == R_FAST and rows[2][6] == R_TIME
    path.write_bytes(pcapng_bytes(1, [(5, data)], tsoffset=-10))  # before 1970
    assert assert_same_as_readers_and_classify(path)[1][6] == R_TIME


def test_gzip_and_pcapng_give_the_same_columns(tmp_path: Path) -> None:
    source = SAMPLES / "scenario-handoff.pcap"
    compressed = tmp_path / "h.pcap.gz"
    compressed.write_bytes(gzip.compress(source.read_bytes()))
    assert column_rows(compressed, 5000) == column_rows(source) == column_rows(compressed, 5000, 10)
    assert_same_as_readers_and_classify(SAMPLES / "scenario-handoff-vlan.pcapng", 5000)


# -- hypothesis -----------------------------------------------------------------------------------

def _templates() -> list[tuple[int, bytes]]:
    return [(1, data) for name, data, _w, reason in scapy_frames() if reason == R_FAST]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_fuzzed_frames_agree_with_classify(tmp_path_factory, data) -> None:
    templates = _templates()
    frames = []
    for _ in range(data.draw(st.integers(1, 6))):
        linktype, frame = templates[data.draw(st.integers(0, len(templates) - 1))]
        frame = bytearray(frame)
        for _ in range(data.draw(st.integers(0, 3))):
            at = data.draw(st.integers(0, len(frame) - 1))
            frame[at] = data.draw(st.integers(0, 255))
        cut = data.draw(st.integers(0, len(frame)))
        kept = bytes(frame[:cut]) if data.draw(st.booleans()) else bytes(frame)
        wirelen = len(frame) if data.draw(st.booleans()) else len(kept)
        frames.append((kept, wirelen))
    path = pcap_file(tmp_path_factory.mktemp("fuzz") / "f.pcap", frames)
    assert_same_as_readers_and_classify(path, data.draw(st.sampled_from((200, 8 << 20))))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(min_size=0, max_size=301), st.sampled_from((6, 17)), st.booleans(), st.booleans())
def test_fuzzed_segments_with_right_checksums_are_fast(tmp_path_factory, payload, proto, tunnelled,
                                                       odd_start) -> None:
    """Random payloads with a right checksum (RFC 1071, written out in the test) are
    fast, the same segment with one bit flipped is not: odd and even lengths, and
    segments starting at odd and even offsets in the chunk."""
    src, dst = IPv6Address("2001:db8:9::9").packed, IPv6Address("2001:db8:1::100").packed
    header = (struct.pack("!HHHH", 5004, 5005, 8 + len(payload), 0) if proto == 17
              else struct.pack("!HHIIBBHHH", 80, 4242, 1, 2, 0x50, 0x10, 1024, 0, 0))
    segment = bytearray(header + payload)
    at = 6 if proto == 17 else 16
    pseudo = src + dst + struct.pack("!I", len(segment)) + bytes((0, 0, 0, proto))
    checksum = rfc1071(pseudo + bytes(segment))
    if proto == 17 and checksum == 0:
        checksum = 0xFFFF
    segment[at:at + 2] = struct.pack("!H", checksum)
    inner = struct.pack("!IHBB", 6 << 28, len(segment), proto, 64) + src + dst + bytes(segment)
    packet = (struct.pack("!IHBB", 6 << 28, len(inner), 41, 64) + IPv6Address("2001:db8:1::1").packed
              + IPv6Address("2001:db8:2::100").packed + inner) if tunnelled else inner
    frame = bytes.fromhex("020000000002020000000001") + b"\x86\xdd" + packet
    broken = bytearray(frame)
    broken[-1 - len(payload) // 2] ^= 0x04
    records = [(frame, len(frame)), (bytes(broken), len(broken))]
    if odd_start:
        records.insert(0, (b"\x00" * 15, 15))  # shifts what follows to odd offsets in the chunk
    rows = assert_same_as_readers_and_classify(pcap_file(tmp_path_factory.mktemp("seg") / "s.pcap", records))
    first = 2 if odd_start else 1
    assert rows[first][6] == R_FAST
    assert rows[first + 1][6] in (R_CHECKSUM, R_UDP)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_damaged_files_give_the_readers_frames_and_issues(tmp_path_factory, data) -> None:
    """Bit flips, record-header corruption and truncation of a sample: the same
    frames and capture issues as the readers (pcap, pcapng, gzip)."""
    source = data.draw(st.sampled_from(("scenario-handoff.pcap", "scenario-handoff-vlan.pcapng",
                                        "scenario-malformed.pcap")))
    raw = bytearray((SAMPLES / source).read_bytes()[:30000])
    for _ in range(data.draw(st.integers(0, 4))):
        at = data.draw(st.integers(0, len(raw) - 1))
        raw[at] ^= 1 << data.draw(st.integers(0, 7))
    if data.draw(st.booleans()):
        del raw[data.draw(st.integers(24, len(raw))):]
    if data.draw(st.booleans()):  # zero a run of record bytes
        at = data.draw(st.integers(24, len(raw)))
        raw[at:at + 64] = bytes(len(raw[at:at + 64]))
    blob = bytes(raw)
    if data.draw(st.booleans()):
        blob = gzip.compress(blob)
    path = tmp_path_factory.mktemp("dmg") / "d.cap"
    path.write_bytes(blob)
    try:
        open_capture(path).close()
    except Exception:  # noqa: BLE001 - the header itself is broken: nothing to compare
        return
    assert_same_as_readers_and_classify(path, data.draw(st.sampled_from((700, 8 << 20))),
                                        data.draw(st.sampled_from((3, 1 << 14))))


def test_address_ids_are_exact_for_shared_interface_ids() -> None:
    """Care-of and home addresses that share an interface identifier get
    different ids; equal addresses one id."""
    import numpy as np
    table = AddressTable()
    a = IPv6Address("2001:db8:1::100").packed
    b = IPv6Address("2001:db8:2::100").packed
    rows = np.frombuffer(a + b + a + b + b, np.uint8).reshape(5, 16)
    ids = table.map(rows).tolist()
    assert ids[0] == ids[2] != ids[1] == ids[3] == ids[4]
    assert table.objects[ids[0]] == IPv6Address(a) and table.objects[ids[1]] == IPv6Address(b)


@pytest.mark.parametrize("order, magic, header_len", [
    ("<", 0xA1B2C3D4, 16), (">", 0xA1B2C3D4, 16),   # microseconds, both byte orders
    ("<", 0xA1B23C4D, 16), (">", 0xA1B23C4D, 16),   # nanoseconds
    ("<", 0xA1B2CD34, 24),                          # "modified" pcap: 8 more bytes a record
])
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 999_999_999), st.binary(max_size=90)),
                min_size=1, max_size=40))
def test_pcap_variants_give_the_readers_times(tmp_path: Path, order: str, magic: int, header_len: int,
                                              records: list[tuple[int, int, bytes]]) -> None:
    """Every pcap variant, with times anywhere in the 32-bit range: the
    records' times are the readers' floats, exactly."""
    out = [struct.pack(order + "IHHiIII", magic, 2, 4, 0, 0, 65535, 101)]
    for sec, frac, data in records:
        out.append(struct.pack(order + "IIII", sec, frac, len(data), len(data) + 3)
                   + bytes(header_len - 16) + data)
    path = tmp_path / "v.pcap"
    path.write_bytes(b"".join(out))
    assert_same_as_readers_and_classify(path, 500, 7)


@pytest.mark.parametrize("mix", [0x9E3779B97F4A7C15, 0])
def test_unique_rows_is_exact_even_when_the_mix_collides(monkeypatch: pytest.MonkeyPatch, mix: int) -> None:
    """With a mix that maps everything to one value (0), the fallback gives the same groups."""
    import numpy as np

    from mipv6scope.capture import columns
    monkeypatch.setattr(columns, "_MIX", np.uint64(mix))
    rng = np.random.default_rng(5)
    rows = rng.integers(-1, 4, (500, 6))
    first, inverse = columns.unique_rows(rows)
    assert (rows[first][inverse] == rows).all()
    assert len(first) == len({tuple(r) for r in rows.tolist()})
    table = AddressTable()
    a, b = IPv6Address("2001:db8:1::100").packed, IPv6Address("2001:db8:2::100").packed
    ids = table.map(np.frombuffer(a + b + a, np.uint8).reshape(3, 16)).tolist()
    assert ids[0] == ids[2] != ids[1]


@pytest.mark.parametrize("name", ["scenario-fleet.pcap", "scenario-handoff-sll2.pcap", "home-registration.pcap"])
@pytest.mark.parametrize("per_range", [1, 7, 500, 10**6])
def test_record_ranges_read_apart_give_the_whole_capture(name: str, per_range: int, tmp_path: Path) -> None:
    """`range_chunks` over every `record_ranges` range: the same frames,
    numbers, times, lengths and bytes as the chunks of the whole file; the
    ranges tile the records, and a capture cut short keeps its issue."""
    raw = (SAMPLES / name).read_bytes()
    cut = tmp_path / name
    cut.write_bytes(raw[:len(raw) - 5])
    for path in (SAMPLES / name, cut):
        ranges, whole = ranges_and_whole(path, per_range)
        assert ranges[0][0] == 24 and all(a[1] == b[0] for a, b in zip(ranges, ranges[1:], strict=False))
        assert_read_apart_as_whole(path, ranges, whole)


def ranges_and_whole(path: Path, per_range: int) -> tuple[list, list]:
    """The capture's record ranges and its chunks read whole; both walks
    report the same capture issues."""
    with open_capture(path) as reader:
        ranges = columns.record_ranges(reader, per_range)
        issues = [(i.code, i.frame) for i in reader.issues]
    with open_capture(path) as reader:
        whole = list(columns.chunks(reader, chunk_frames=64))
        assert issues == [(i.code, i.frame) for i in reader.issues]
    return ranges, whole


def assert_read_apart_as_whole(path: Path, ranges: list, whole: list) -> None:
    """Every range read apart, in order, gives the frames read whole: the same
    numbers, times, lengths, link types, interfaces and bytes."""
    parts = [c for where in ranges for c in columns.range_chunks(str(path), where, chunk_frames=16)]
    for field in ("number", "ts", "caplen", "wirelen", "linktype", "interface"):
        assert np.array_equal(np.concatenate([getattr(c, field) for c in parts]),
                              np.concatenate([getattr(c, field) for c in whole])), field
    assert ([c.frame_bytes(i) for c in parts for i in range(len(c))]
            == [c.frame_bytes(i) for c in whole for i in range(len(c))])


def test_pcapng_ranges_start_at_packet_blocks_in_their_section_state(tmp_path: Path) -> None:
    """Two sections (little- then big-endian), an interface defined between
    packets, SPB and PB: every range read apart gives the whole file's
    frames, numbers, times, link types, interfaces and bytes; a range starts
    at a packet block (the first one right after the SHB and IDB) and carries
    its section's byte order and interfaces; a capture cut short keeps its
    issue and ends its last range at the last whole packet block."""
    frames = [(f.ts, f.data) for f in _sample_frames("scenario-handoff.pcap", 150)]
    raw = sections_pcapng(frames)
    path, cut = tmp_path / "s.pcapng", tmp_path / "cut.pcapng"
    path.write_bytes(raw)
    cut.write_bytes(raw[:len(raw) - 30])
    first_packet = len(shb("<")) + len(idb(1))
    for capture in (path, cut):
        for per_range in (1, 2, 3, 7, 1000):
            ranges, whole = ranges_and_whole(capture, per_range)
            assert ranges[0].start == first_packet and ranges[0].number == 1
            assert all(a.stop == b.start for a, b in zip(ranges, ranges[1:], strict=False))
            assert [r.number for r in ranges] == list(range(1, sum(map(len, whole)) + 1, per_range))
            orders = [r.resume.big_endian for r in ranges]
            assert orders == sorted(orders) and orders[-1] == (per_range < 75)
            if per_range == 1:
                assert [len(r.resume.interfaces) for r in ranges[:60]] == [1] * 50 + [2] * 10
            assert_read_apart_as_whole(capture, ranges, whole)
    with open_capture(cut) as reader:
        assert columns.record_ranges(reader, 1000)[-1].stop <= len(raw) - 30
        assert reader.issues


def test_a_compressed_capture_has_no_record_ranges(tmp_path: Path) -> None:
    for name in ("scenario-handoff.pcap", "scenario-handoff-vlan.pcapng"):
        packed = tmp_path / (name + ".gz")
        packed.write_bytes(gzip.compress((SAMPLES / name).read_bytes()))
        with open_capture(packed) as reader:
            assert columns.record_ranges(reader, 10) is None


def _sample_frames(name: str, count: int) -> list:
    with open_capture(SAMPLES / name) as reader:
        return [f for _, f in zip(range(count), reader, strict=False)]


# -- ids that stay the same from chunk to chunk ----------------------------------------------------

@pytest.mark.parametrize("mix", [0x9E3779B97F4A7C15, 0, 3])
def test_stable_ids_stand_for_one_value_each_even_when_mixes_collide(monkeypatch: pytest.MonkeyPatch,
                                                                     mix: int) -> None:
    """Over many calls: rows of one value get one id within a call, an id
    never stands for two values, and with a real mix a value keeps its id
    from call to call; with a mix of 0 (every value collides) or 3 (many
    do), ids stay exact."""
    import numpy as np

    monkeypatch.setattr(columns, "_MIX", np.uint64(mix))
    rng = np.random.default_rng(7)
    table = columns.StableIds(3)
    value_of: dict[int, tuple] = {}
    id_of: dict[tuple, int] = {}
    for _call in range(40):
        rows = rng.integers(-1, 12, (int(rng.integers(0, 300)), 3))
        ids, new = table.of(rows)
        assert len(ids) == len(rows)
        for row, i in zip(map(tuple, rows.tolist()), ids.tolist(), strict=True):
            assert value_of.setdefault(i, row) == row  # one value an id, ever
            if mix == 0x9E3779B97F4A7C15:
                assert id_of.setdefault(row, i) == i  # the same id every call
        call_ids = {}
        for row, i in zip(map(tuple, rows.tolist()), ids.tolist(), strict=True):
            assert call_ids.setdefault(row, i) == i  # one id a value within a call
        assert sorted(ids[new].tolist()) == list(range(table.count - len(new), table.count))
    assert table.count == len(value_of)
    if mix == 0x9E3779B97F4A7C15:
        assert table.count == len(id_of) <= 14 ** 3


def test_stable_ids_grow_their_table_and_forget() -> None:
    """Thousands of values (the hash table grows several times): every one
    found again with its id; after ``forget`` ids start from 0."""
    import numpy as np

    table = columns.StableIds(2)
    rows = np.stack((np.arange(20_000), np.arange(20_000) % 7), axis=1)
    first, _new = table.of(rows[:5000])
    ids, new = table.of(rows[::-1])
    assert ids[::-1][:5000].tolist() == first.tolist() and len(new) == 15_000
    again, new = table.of(rows)
    assert again.tolist() == ids[::-1].tolist() and not len(new)
    table.forget()
    assert table.of(rows[7:9])[0].tolist() == [0, 1]


def test_reads_past_the_end_of_a_chunk_are_zeros() -> None:
    """`_Bytes.at` at every offset near the end of a chunk and past it, for
    each width the gather reads: the chunk's bytes, then zeros."""
    import numpy as np

    for size in (0, 1, 5, 87, 88, 300, 1000):
        data = bytes(np.random.default_rng(size).integers(0, 256, size, np.uint8))
        read = columns._Bytes(data)  # noqa: SLF001 - the reader under test
        padded = data + bytes(600)
        where = np.arange(max(size - 300, 0), size + 50)
        for width in (1, 2, 4, 88):
            got = read.at(where, width)
            want = [padded[w:w + width] for w in where.tolist()]
            if width == 1:
                assert got.tobytes() == b"".join(want)
            else:
                assert [bytes(row) for row in got] == want

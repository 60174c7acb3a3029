"""`packets -T fields -e FIELD [-E ...]` against tshark's own -T fields, and
`packets -w OUT` (with -Y): the kept frames' original records, pcap to pcap
and pcapng to pcapng, all or nothing, never through a symlink."""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from mipv6scope.cli.main import cli

SAMPLES = Path(__file__).resolve().parents[2] / "sample_captures"
TSHARK = shutil.which("tshark")
needs_tshark = pytest.mark.skipif(TSHARK is None, reason="tshark not installed")

# Fields whose name and meaning are tshark's: the text must be tshark's, byte for byte.
FIELDS = (
    "frame.number", "frame.time_epoch", "frame.time_relative", "frame.len", "frame.cap_len",
    "ipv6.src", "ipv6.dst", "ipv6.addr", "ipv6.nxt", "ipv6.plen", "ipv6.hlim",
    "ipv6.opt.mipv6.home_address", "ipv6.routing.type", "ipv6.routing.mipv6.home_address",
    "mip6.mhtype", "mip6.csum", "mip6.bu.seqnr", "mip6.bu.lifetime", "mip6.bu.a_flag",
    "mip6.bu.h_flag", "mip6.bu.l_flag", "mip6.bu.k_flag", "mip6.ba.status", "mip6.ba.seqnr",
    "mip6.ba.lifetime", "mip6.be.status", "mip6.be.haddr", "icmpv6.type", "icmpv6.code",
    "esp.spi", "esp.sequence", "udp.srcport", "udp.dstport", "udp.port", "tcp.srcport",
    "tcp.dstport", "tcp.port",
)
# icmp6-errors.pcap and malformed.pcap differ on purpose: tshark dissects all of a
# packet an ICMPv6 error quotes (its HAO, BU fields, ports) and guesses at broken
# headers; the filter fields read only the quoted addresses and MH type.
CAPTURES = (
    "scenario-handoff.pcap", "scenario-fleet.pcap", "scenario-route-optimization.pcap",
    "scenario-recovery.pcap", "scenario-handoff-esp.pcap", "scenario-handoff-vlan.pcapng",
    "scenario-handoff-sll.pcap", "scenario-handoff-raw.pcap", "home-registration.pcap",
    "mh-bu.pcap", "mh-ba.pcap", "mh-be.pcap", "mh-brr.pcap", "mh-hoti.pcap", "mh-cot.pcap",
    "mh-other-types.pcap", "icmp6-haad.pcap", "icmp6-mpd.pcap", "icmp6-nd.pcap", "ipsec.pcap",
)
# tshark reads NULL-encrypted ESP payloads only when told to; mipv6scope always does.
TSHARK_NULL_ESP = ("-o", "esp.enable_null_encryption_decode_heuristic:TRUE")


def invoke(*args: str):
    return CliRunner().invoke(cli, ["packets", *args])


def ours(*args: str) -> str:
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    return result.stdout


def tshark(*args: str) -> str:
    assert TSHARK is not None
    done = subprocess.run([TSHARK, *TSHARK_NULL_ESP, *args], capture_output=True, text=True,
                          check=True)
    return done.stdout


def e_args(fields: tuple[str, ...]) -> list[str]:
    return [a for f in fields for a in ("-e", f)]


# --- -T fields ----------------------------------------------------------------------------------

@needs_tshark
@pytest.mark.parametrize("name", CAPTURES)
def test_fields_equal_tsharks(name: str):
    path = str(SAMPLES / name)
    expected = tshark("-r", path, "-T", "fields", *e_args(FIELDS))
    got = ours(path, "-T", "fields", *e_args(FIELDS))
    assert got.splitlines() == expected.splitlines()


@needs_tshark
def test_header_separator_quote_equal_tsharks():
    path = str(SAMPLES / "scenario-handoff.pcap")
    fields = ("frame.number", "ipv6.src", "mip6.bu.seqnr", "icmpv6.type")
    options = ("-E", "header=y", "-E", "separator=,", "-E", "quote=d")
    assert ours(path, "-T", "fields", *e_args(fields), *options) == \
        tshark("-r", path, "-T", "fields", *e_args(fields), *options)


@needs_tshark
def test_occurrence_and_aggregator_equal_tsharks():
    path = str(SAMPLES / "scenario-handoff.pcap")
    fields = ("ipv6.src", "ipv6.addr")
    for options in (("-E", "occurrence=f"), ("-E", "occurrence=l"), ("-E", "aggregator=/s"),
                    ("-E", "separator=/s", "-E", "occurrence=f")):
        assert ours(path, "-T", "fields", *e_args(fields), *options) == \
            tshark("-r", path, "-T", "fields", *e_args(fields), *options), options


@needs_tshark
def test_fields_with_a_filter_equal_tsharks():
    path = str(SAMPLES / "scenario-handoff.pcap")
    fields = ("frame.number", "frame.time_relative", "mip6.bu.seqnr", "mip6.bu.lifetime")
    assert ours(path, "-Y", "mip6.mhtype == 5", "-T", "fields", *e_args(fields)) == \
        tshark("-r", path, "-Y", "mip6.mhtype == 5", "-T", "fields", *e_args(fields))


def test_analysis_fields_print_their_values():
    path = str(SAMPLES / "scenario-handoff.pcap")
    lines = ours(path, "-Y", "mip6.mhtype == 5", "-T", "fields", "-e", "mip6.mhtype",
                 "-e", "mn", "-e", "retransmission").splitlines()
    assert lines
    for line in lines:
        mhtype, mn, _retransmission = line.split("\t")
        assert mhtype == "5" and mn.startswith("2001:db8:")


def test_unknown_field_exits_2_with_the_closest():
    result = invoke(str(SAMPLES / "mh-bu.pcap"), "-T", "fields", "-e", "mip6.bu.seqno")
    assert result.exit_code == 2
    assert "-e mip6.bu.seqno: no such field (closest: mip6.bu.seqnr" in result.output


@pytest.mark.parametrize("args", [
    ("-e", "frame.number"),                      # -e without -T fields
    ("-T", "fields"),                            # -T fields without -e
    ("-T", "fields", "-e", "frame.number", "-E", "colour=y"),
    ("-T", "fields", "-e", "frame.number", "-E", "quote=x"),
    ("-T", "fields", "-e", "frame.number", "-E", "occurrence=2"),  # tshark: f, l or a
])
def test_bad_fields_options_exit_2(args: tuple[str, ...]):
    assert invoke(str(SAMPLES / "mh-bu.pcap"), *args).exit_code == 2


# --- -w -----------------------------------------------------------------------------------------

@needs_tshark
def test_write_bu_frames_keeps_times_and_fields(tmp_path: Path):
    src = str(SAMPLES / "scenario-handoff.pcap")
    out = tmp_path / "out.pcap"
    result = invoke(src, "-Y", "mip6.mhtype == 5", "-w", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "frames:" in result.stderr
    fields = ("-T", "fields", "-e", "frame.time_epoch", "-e", "mip6.bu.seqnr")
    written = tshark("-r", str(out), *fields)
    assert written.strip()
    assert written == tshark("-r", src, "-Y", "mip6.mhtype == 5", *fields)
    assert out.read_bytes()[:24] == Path(src).read_bytes()[:24]  # same header: link type, snaplen


@needs_tshark
def test_pcapng_round_trip_keeps_link_type_and_vlan(tmp_path: Path):
    src = str(SAMPLES / "scenario-handoff-vlan.pcapng")
    out = tmp_path / "out.pcapng"
    assert invoke(src, "-Y", "mipv6", "-w", str(out)).exit_code == 0
    assert out.read_bytes()[:4] == b"\x0a\x0d\x0d\x0a"
    fields = ("-T", "fields", "-e", "frame.encap_type", "-e", "vlan.id", "-e", "frame.time_epoch",
              "-e", "mip6.mhtype")
    written = tshark("-r", str(out), *fields)
    assert written.strip()
    assert written == tshark("-r", src, "-Y", "mipv6", *fields)


def test_all_frames_copy_the_file_exactly(tmp_path: Path):
    for name in ("scenario-handoff.pcap", "scenario-handoff-vlan.pcapng"):
        src = SAMPLES / name
        out = tmp_path / name
        assert invoke(str(src), "-w", str(out)).exit_code == 0
        want = src.read_bytes()
        got = out.read_bytes()
        if name.endswith(".pcapng"):  # the section length is "unknown" in ours
            assert got[:16] == want[:16] and got[16:24] == b"\xff" * 8 and got[24:] == want[24:]
        else:
            assert got == want


def _block(btype: int, body: bytes) -> bytes:
    body += b"\x00" * (-len(body) % 4)
    length = len(body) + 12
    return struct.pack("<II", btype, length) + body + struct.pack("<I", length)


def _option(code: int, value: bytes) -> bytes:
    return struct.pack("<HH", code, len(value)) + value + b"\x00" * (-len(value) % 4)


END = _option(0, b"")


def _pcapng_with_comments() -> bytes:
    """A section comment, two interfaces (names; one in nanoseconds), packet
    comments and an interface statistics block."""
    shb = _block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)
                 + _option(1, b"section note") + END)
    idb0 = _block(1, struct.pack("<HHI", 101, 0, 262144) + _option(2, b"wan0") + END)
    idb1 = _block(1, struct.pack("<HHI", 101, 0, 262144) + _option(2, b"wlan1")
                  + _option(9, b"\x09") + END)
    packets = []
    for i in range(4):
        ts = (1_700_000_000_123_456 + i) if i % 2 == 0 else 1_700_000_000_123_456_789 + i
        data = bytes([0x60, 0, 0, 0, 0, 0, 59, 64]) + bytes(32)
        comment = _option(1, f"frame {i + 1} note".encode()) + END
        packets.append(_block(6, struct.pack("<IIIII", i % 2, ts >> 32, ts & 0xFFFFFFFF,
                                             len(data), len(data)) + data + comment))
    isb = _block(5, struct.pack("<III", 0, 0, 0) + END)
    return shb + idb0 + idb1 + b"".join(packets) + isb


@needs_tshark
def test_pcapng_keeps_interfaces_and_comments(tmp_path: Path):
    src = tmp_path / "in.pcapng"
    src.write_bytes(_pcapng_with_comments())
    out = tmp_path / "out.pcapng"
    assert invoke(str(src), "-Y", "frame.number == 2 || frame.number == 3", "-w", str(out)).exit_code == 0
    fields = ("-T", "fields", "-e", "frame.interface_name", "-e", "frame.time_epoch",
              "-e", "frame.comment")
    got = tshark("-r", str(out), *fields).splitlines()
    assert got == tshark("-r", str(src), "-Y", "frame.number == 2 || frame.number == 3", *fields).splitlines()
    assert [line.split("\t")[0] for line in got] == ["wlan1", "wan0"]
    if shutil.which("capinfos"):
        info = subprocess.run(["capinfos", str(out)], capture_output=True, text=True).stdout
        assert "section note" in info
        assert "Number of interfaces in file: 2" in info


def test_nanosecond_pcap_stays_nanosecond(tmp_path: Path):
    header = struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 65535, 101)
    data = bytes([0x60, 0, 0, 0, 0, 0, 59, 64]) + bytes(32)
    records = b"".join(struct.pack("<IIII", 1_700_000_000 + i, 123_456_789, len(data), len(data))
                       + data for i in range(3))
    src = tmp_path / "ns.pcap"
    src.write_bytes(header + records)
    out = tmp_path / "out.pcap"
    assert invoke(str(src), "-Y", "frame.number != 2", "-w", str(out)).exit_code == 0
    record = 16 + len(data)
    assert out.read_bytes() == header + records[:record] + records[2 * record:]


def test_write_refuses_a_symlink_and_leaves_no_file(tmp_path: Path):
    target = tmp_path / "elsewhere.pcap"
    target.write_bytes(b"keep me")
    link = tmp_path / "out.pcap"
    link.symlink_to(target)
    result = invoke(str(SAMPLES / "mh-bu.pcap"), "-w", str(link))
    assert result.exit_code == 1
    assert "symlink" in result.stderr
    assert target.read_bytes() == b"keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["elsewhere.pcap", "out.pcap"]


def test_write_replaces_an_existing_file(tmp_path: Path):
    out = tmp_path / "out.pcap"
    out.write_bytes(b"old")
    assert invoke(str(SAMPLES / "mh-bu.pcap"), "-w", str(out)).exit_code == 0
    assert out.read_bytes() == (SAMPLES / "mh-bu.pcap").read_bytes()


@pytest.mark.parametrize("extra", [("-T", "fields", "-e", "frame.number"), ("-V",), ("-x",),
                                   ("--format", "jsonl")])
def test_write_prints_nothing_so_print_options_are_refused(tmp_path: Path, extra: tuple[str, ...]):
    result = invoke(str(SAMPLES / "mh-bu.pcap"), "-w", str(tmp_path / "o.pcap"), *extra)
    assert result.exit_code == 2
    assert not (tmp_path / "o.pcap").exists()

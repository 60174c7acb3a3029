"""Differential test: the frames a display filter keeps, against tshark's -Y.

The oracle for every Wireshark-named field is tshark 4.0 itself: for each
expression in ``EXPRESSIONS`` (each field, each operator, and/or/not,
parentheses, ``in {...}`` with ranges, existence, CIDR prefixes), the frame
numbers ``tshark -r FILE -Y EXPR -T fields -e frame.number`` prints must be the
frames our filter keeps. To run tshark once per expression instead of once per
(capture, expression), the captures are concatenated with ``mergecap -a`` into
one file first (the frames and their bytes are unchanged; frame numbers and
relative times are those of the merged file on both sides). tshark reads ESP
with its NULL-encryption heuristic on, as our decoder does.

Our side is the library (`compile_filter` on every decoded frame, with the
frame's bytes); ``test_cli_keeps_the_same_frames`` checks that
``mipv6scope packets -Y EXPR --format jsonl`` keeps exactly those frames too.

Genuine differences are listed in ``KNOWN_DIFFERENCES`` with the reason, by
(capture, frame number in that capture); nothing else may differ.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from click.testing import CliRunner

from mipv6scope.capture.reader import open_capture
from mipv6scope.cli.main import cli
from mipv6scope.decode.frame_decoder import decode_frame
from mipv6scope.decode.model import DecodedFrame
from mipv6scope.decode.stream import DecodeStream
from mipv6scope.filter import compile_filter
from tests.conftest import REPO_ROOT

TSHARK = shutil.which("tshark")
MERGECAP = shutil.which("mergecap")
pytestmark = pytest.mark.skipif(TSHARK is None or MERGECAP is None,
                                reason="tshark (and its mergecap) is not installed")

SAMPLES = REPO_ROOT / "sample_captures"
# Every Ethernet sample once (the other scenario-handoff-* files are the same
# packets on other link types or vantage points).
CAPTURES = sorted(p.name for p in SAMPLES.glob("*.pcap")
                  if not p.name.startswith("scenario-") or p.name in (
                      "scenario-handoff.pcap", "scenario-handoff-esp.pcap",
                      "scenario-route-optimization.pcap", "scenario-recovery.pcap",
                      "scenario-fleet.pcap", "scenario-malformed.pcap"))
NULL_HEURISTIC = ("-o", "esp.enable_null_encryption_decode_heuristic:TRUE")

EXPRESSIONS = [
    # protocols as existence tests
    "ipv6", "mipv6", "icmpv6", "esp", "ah", "udp", "tcp",
    # frame
    "frame.number <= 10", "frame.len > 150", "frame.cap_len >= 100 && frame.cap_len < 120",
    "frame.time_relative > 60.5", "frame.time_epoch < 1700000100",
    # ipv6: every tunnel level, == any, != all, === all, !== any
    "ipv6.src == 2001:db8:1::1", "ipv6.dst == 2001:db8:1::100", "ipv6.addr == 2001:db8:2::/48",
    "ipv6.addr != 2001:db8:1::1", "ipv6.src !== 2001:db8:1::1", "ipv6.dst === 2001:db8:1::100",
    "ipv6.src > 2001:db8:9::", "ipv6.nxt == 135", "ipv6.nxt == 41", "ipv6.plen > 200",
    "ipv6.hlim == 255", "ipv6.hlim != 64",
    "ipv6.opt.mipv6.home_address", "ipv6.opt.mipv6.home_address == 2001:db8:1::100",
    "ipv6.routing.type == 2", "ipv6.routing.mipv6.home_address == 2001:db8:1::/64",
    # mobility header
    "mip6.mhtype == 5", "mip6.mhtype in {1, 2, 3, 4}", "mip6.mhtype in {0..4, 7}",
    "mip6.bu.seqnr > 2", "mip6.bu.a_flag == 1 and mip6.bu.h_flag == 0",
    "mip6.bu.l_flag == 1 or mip6.bu.k_flag == 1", "mip6.bu.lifetime == 0",
    "mip6.bu.lifetime >= 0x0f", "mip6.ba.status >= 128",
    "mip6.ba.status == 0 && mip6.ba.lifetime > 10", "mip6.ba.seqnr == 1", "mip6.be.status == 1",
    "mip6.be.haddr == 2001:db8:1::100", "mip6.csum == 0x9d9e", "mip6.csum",
    # icmpv6, ipsec, transport
    "icmpv6.type == 134", "icmpv6.type in {144, 145, 146, 147}", "icmpv6.code != 0",
    "esp.spi", "esp.sequence > 1", "esp.spi == 0x1001",
    "udp.port == 5004", "udp.srcport == 5004 and udp.dstport != 5004", "tcp.srcport > 1024 or tcp.dstport < 1024",
    "tcp.port in {80, 443, 5001}",
    # logic and precedence
    "not mipv6 and ipv6.opt.mipv6.home_address", "!(udp or tcp) && ipv6.nxt == 41",
    "mipv6 or icmpv6 and ipv6.hlim == 255", "(mipv6 or icmpv6) and ipv6.hlim == 255",
    "frame.number == 1 || frame.number == 2 && frame.number == 3",
    "ipv6.src eq 2001:db8:1::1 and not ipv6.dst ne 2001:db8:2::100",
]

# (capture, frame number in it) -> (the field names concerned, why tshark and we
# disagree there). A frame is left out only of the expressions that use one of
# those names.
_QUOTED = ("ipv6.src", "ipv6.dst", "ipv6.addr", "ipv6.nxt", "udp", "mip6.", "ipv6.opt")
_QUOTED_WHY = ("tshark dissects the whole packet an ICMPv6 error quotes (its tunnel level, "
               "HAO, MH fields, UDP header); our decoder keeps only its first header's "
               "addresses and its MH type")
_BAD_HAO = ("HAO with option length 8: tshark still reads a 16-octet address past the "
            "option; we take no home address from an option of the wrong length (bad_home_addr_len)")
_MH_CUT = ("BU cut by the snap length after the sequence number: we report the sequence "
           "number we have, tshark shows no BU field")
_MH_SHORT = ("BU with Header Len 0 (mh_len_below_minimum): we read the body only as far as "
             "Header Len says, tshark reads the lifetime beyond it")
_DSTOPT_PAST = ("Destination Options header longer than the IPv6 payload "
                "(ext_header_beyond_payload): we read the HAO from the bytes the frame still "
                "holds, as Zeek does; tshark stops with Malformed Packet")
_IPV4 = "an IPv4 frame: our decoder reads IPv6 only (the frame is skipped), tshark decodes its UDP"


def _malformed_frame(code: str) -> tuple[str, int]:
    """The frame of scenario-malformed.pcap that carries the decode issue ``code``
    (the scenario lays one out per code; numbers move when codes are added)."""
    name = "scenario-malformed.pcap"
    for frame in DecodeStream([str(SAMPLES / name)]):
        if any(issue.code == code for issue in frame.issues):
            return name, frame.number
    raise LookupError(code)


KNOWN_DIFFERENCES: dict[tuple[str, int], tuple[tuple[str, ...], str]] = {
    **{("icmp6-errors.pcap", n): (_QUOTED, _QUOTED_WHY) for n in (1, 2, 3, 4)},
    ("malformed.pcap", 6): (("ipv6.opt",), _BAD_HAO),
    _malformed_frame("bad_home_addr_len"): (("ipv6.opt",), _BAD_HAO),
    ("malformed.pcap", 14): (("mip6.bu",), _MH_CUT),
    _malformed_frame("truncated_by_snaplen"): (("mip6.bu",), _MH_CUT),
    ("malformed.pcap", 8): (("mip6.bu",), _MH_SHORT),
    _malformed_frame("mh_len_below_minimum"): (("mip6.bu",), _MH_SHORT),
    _malformed_frame("ext_header_beyond_payload"): (("ipv6.opt",), _DSTOPT_PAST),
    ("malformed.pcap", 21): (("udp",), _IPV4),
}


def _excluded(expression: str, where: tuple[str, int]) -> bool:
    known = KNOWN_DIFFERENCES.get(where)
    return known is not None and any(name in expression for name in known[0])


@pytest.fixture(scope="module")
def merged(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[int, tuple[str, int]]]:
    """All captures in one file, and merged frame number -> (capture, its frame number)."""
    out = tmp_path_factory.mktemp("filter") / "merged.pcap"
    subprocess.run([MERGECAP, "-a", "-F", "pcap", "-w", str(out),
                    *(str(SAMPLES / c) for c in CAPTURES)], check=True, capture_output=True)
    origin: dict[int, tuple[str, int]] = {}
    number = 0
    for name in CAPTURES:
        with open_capture(SAMPLES / name) as reader:
            for frame in reader:
                number += 1
                origin[number] = (name, frame.number)
    return out, origin


def _frames(path: Path) -> Iterator[tuple[DecodedFrame, bytes]]:
    with open_capture(path) as reader:
        for frame in reader:
            yield decode_frame(frame), bytes(frame.data)  # the reader may reuse its buffer


@pytest.fixture(scope="module")
def decoded(merged) -> list[tuple[DecodedFrame, bytes]]:
    return list(_frames(merged[0]))


def tshark_frames(path: Path, expression: str) -> set[int]:
    """The frame numbers tshark's display filter keeps."""
    result = subprocess.run([TSHARK, "-n", *NULL_HEURISTIC, "-r", str(path), "-Y", expression,
                             "-T", "fields", "-e", "frame.number"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"tshark rejects {expression!r}: {result.stderr}"
    return {int(line) for line in result.stdout.split()}


@pytest.fixture(scope="module")
def theirs(merged) -> dict[str, set[int]]:
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = pool.map(lambda e: tshark_frames(merged[0], e), EXPRESSIONS)
        return dict(zip(EXPRESSIONS, results, strict=True))


def ours(decoded: list[tuple[DecodedFrame, bytes]], expression: str) -> set[int]:
    """The frame numbers our filter keeps."""
    compiled = compile_filter(expression)
    first_ts = decoded[0][0].ts
    return {f.number for f, data in decoded if compiled.matches(f, data=data, first_ts=first_ts)}


def _explain(numbers: set[int], origin: dict[int, tuple[str, int]]) -> list[tuple[str, int]]:
    return sorted(origin[n] for n in numbers)


def test_the_merged_capture_holds_every_frame(merged, decoded):
    assert len(decoded) == len(merged[1]) > 10_000


@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_filter_keeps_what_tshark_keeps(expression, merged, decoded, theirs):
    origin = merged[1]
    expected = {n for n in theirs[expression] if not _excluded(expression, origin[n])}
    got = {n for n in ours(decoded, expression) if not _excluded(expression, origin[n])}
    assert _explain(got - expected, origin) == [], "we keep, tshark does not"
    assert _explain(expected - got, origin) == [], "tshark keeps, we do not"


def test_every_expression_selects_something_and_not_everything(merged, theirs):
    """Each expression is a real test: tshark keeps some frames, not all."""
    total = len(merged[1])
    trivial = [e for e, frames in theirs.items() if e != "ipv6" and not 0 < len(frames) < total]
    assert trivial == []


def test_every_wireshark_field_is_exercised():
    from mipv6scope.filter.fields import FIELD_TABLE, WIRESHARK
    text = " ".join(EXPRESSIONS)
    missing = [f.name for f in FIELD_TABLE if f.origin == WIRESHARK and f.name != "frame"
               and f.name not in text]
    assert missing == []


@pytest.mark.parametrize("expression", ["mip6.mhtype in {5, 6} && ipv6.hlim == 64",
                                        "ipv6.addr == 2001:db8:2::/48 and not ipv6.nxt == 41",
                                        "frame.time_relative > 60.5 and icmpv6"])
def test_cli_keeps_the_same_frames(expression, merged, decoded):
    result = CliRunner().invoke(cli, ["packets", "-Y", expression, "--format", "jsonl",
                                      str(merged[0])])
    assert result.exit_code == 0, result.output
    got = {json.loads(line)["frame"] for line in result.stdout.splitlines()}
    assert got == ours(decoded, expression)
    origin = merged[1]
    expected = {n for n in tshark_frames(merged[0], expression)
                if not _excluded(expression, origin[n])}
    assert _explain({n for n in got if not _excluded(expression, origin[n])} ^ expected,
                    origin) == []

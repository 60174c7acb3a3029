"""`mipv6scope packets` through click's CliRunner: output, filters, bad input, exit codes.

Expected values come from how the sample captures were built
(mipv6scope/synth/samples.py), not from running the decoder."""

from __future__ import annotations

import gzip
import json
import struct
from pathlib import Path

import pytest
from click.testing import CliRunner

from mipv6scope.cli.main import cli

SAMPLES = Path(__file__).resolve().parents[2] / "sample_captures"
HOME_REG = SAMPLES / "home-registration.pcap"
RECORD_KEYS = {"frame", "ts", "caplen", "wirelen", "linktype", "file", "status", "skip_reason",
               "vlan", "ip6", "hao", "rh2", "mh", "icmp6", "esp", "ah", "transport", "issues"}


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def jsonl(*args: str) -> list[dict]:
    result = run("packets", "--format", "jsonl", *args)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_help_lists_every_option():
    result = run("packets", "--help")
    assert result.exit_code == 0
    for option in ("--format", "--mobility-only", "--mh-type", "--address", "--with-issues",
                   "--no-skipped", "--count", "--time"):
        assert option in result.output
    assert "Exit codes" in run("--help").output


def test_text_list_has_a_line_per_frame_and_a_summary():
    result = run("packets", str(HOME_REG))
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert len(lines) == 46  # the story in samples.sample_home_registration
    assert "Binding Update seq=100 A H lifetime=420s HoA=2001:db8:1::100 CoA=2001:db8:2::100" in lines[3]
    assert "IPv6-in-IPv6 [2001:db8:1::1 → 2001:db8:2::100]" in lines[5]
    assert "46 frames: 46 decoded, 0 malformed, 0 skipped" in result.stderr


def test_jsonl_records_have_every_key():
    records = jsonl(str(SAMPLES / "mh-bu.pcap"))
    assert [r["frame"] for r in records] == [1, 2, 3, 4, 5, 6]
    for record in records:
        assert set(record) == RECORD_KEYS
    first = records[0]
    assert first["ip6"] == [{"src": "2001:db8:2::100", "dst": "2001:db8:1::1", "nh": 60}]
    assert first["hao"] == "2001:db8:1::100" and first["rh2"] is None
    assert first["mh"]["seq"] == 1000 and first["mh"]["flags"] == ["A", "H"]
    assert first["mh"]["lifetime_units"] == 105 and first["mh"]["lifetime_s"] == 420
    assert first["mh"]["checksum_ok"] is True and first["mh"]["checksum_form"] == "upper-layer"
    assert first["ts"] == pytest.approx(1_700_000_000.0)
    dereg = records[4]
    assert dereg["hao"] is None and dereg["mh"]["lifetime_s"] == 0


def test_mobility_only_drops_plain_tunnel_data():
    # 46 frames; 12 tunnelled UDP and 2 tunnelled TCP carry no mobility header,
    # the route-optimised data carries HAO/RH2 and stays.
    records = jsonl("--mobility-only", str(HOME_REG))
    assert len(records) == 46 - 14


def test_mh_type_count_and_address_filters():
    bus = jsonl("--mh-type", "bu", str(HOME_REG))
    assert [r["mh"]["seq"] for r in bus] == [100, 500, 101, 102]
    assert len(jsonl("--mh-type", "5,6", str(HOME_REG))) == 8
    assert len(jsonl("-c", "5", str(HOME_REG))) == 5
    with_cn = jsonl("--address", "2001:db8:9::9", str(HOME_REG))
    assert with_cn and all("2001:db8:9::9" in json.dumps(r) for r in with_cn)


def test_malformed_frames_are_listed_and_counted():
    result = run("packets", str(SAMPLES / "malformed.pcap"))
    assert result.exit_code == 0
    assert "[bad_mh_checksum]" in result.stdout
    assert "2 skipped (IPv4: 1, ethertype 0x0806 (ARP): 1)" in result.stderr
    issues = jsonl("--with-issues", str(SAMPLES / "malformed.pcap"))
    assert all(r["issues"] for r in issues)


@pytest.mark.parametrize("args", [["--mh-type", "nope"], ["--address", "10.0.0.1"],
                                  ["-c", "0"], ["--format", "xml"]])
def test_bad_options_exit_2(args):
    result = run("packets", *args, str(HOME_REG))
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def _assert_capture_error(result, *words: str):
    assert result.exit_code == 3, result.output
    assert "Traceback" not in result.output
    for word in words:
        assert word in result.stderr


def test_missing_file(tmp_path):
    _assert_capture_error(run("packets", str(tmp_path / "nothere.pcap")), "No such file")


def test_not_a_capture(tmp_path):
    path = tmp_path / "page.html"
    path.write_text("<html><body>not a capture</body></html>")
    _assert_capture_error(run("packets", str(path)), "not a pcap or pcapng")


def test_unsupported_link_type(tmp_path):
    path = tmp_path / "usb.pcap"
    path.write_bytes(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 189))
    _assert_capture_error(run("packets", str(path)), "unsupported link type 189")


def test_truncated_capture_lists_what_was_there(tmp_path):
    data = HOME_REG.read_bytes()
    path = tmp_path / "cut.pcap"
    path.write_bytes(data[:-30])  # cut inside the last record
    result = run("packets", str(path))
    _assert_capture_error(result, "truncated")
    assert len(result.stdout.splitlines()) == 45


def test_gzip_capture(tmp_path):
    path = tmp_path / "home.pcap.gz"
    path.write_bytes(gzip.compress(HOME_REG.read_bytes()))
    assert len(jsonl(str(path))) == 46


def test_several_files_are_labelled():
    records = jsonl(str(SAMPLES / "mh-brr.pcap"), str(SAMPLES / "mh-be.pcap"))
    assert [(Path(r["file"]).name, r["frame"]) for r in records] == [
        ("mh-brr.pcap", 1), ("mh-be.pcap", 1), ("mh-be.pcap", 2)]


def _pcapng_block(block_type: int, body: bytes) -> bytes:
    body += b"\x00" * (-len(body) % 4)
    return struct.pack("<II", block_type, len(body) + 12) + body + struct.pack("<I", len(body) + 12)


def test_pcapng_with_only_unsupported_link_types(tmp_path):
    shb = _pcapng_block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    idb = _pcapng_block(1, struct.pack("<HHI", 189, 0, 65535))  # USB: not ours
    epb = _pcapng_block(6, struct.pack("<IIIII", 0, 0, 0, 4, 4) + b"\x01\x02\x03\x04")
    path = tmp_path / "usb.pcapng"
    path.write_bytes(shb + idb + epb + epb)
    result = run("packets", str(path))
    _assert_capture_error(result, "no frame on a supported link type", "unsupported link type 189")


def _tshark_lines(*args: str) -> list[str]:
    import shutil
    import subprocess

    if shutil.which("tshark") is None:
        pytest.skip("tshark not installed (apt-get install tshark)")
    out = subprocess.run(["tshark", "-n", *args], capture_output=True, text=True, check=True)
    return out.stdout.splitlines()


@pytest.mark.parametrize("name", ["mh-bu.pcap", "home-registration.pcap", "ipsec.pcap"])
def test_hex_dump_is_tsharks(name):
    """-x: the same hex and ASCII lines as tshark -x, frame after frame."""
    ours = [line for line in run("packets", "-x", str(SAMPLES / name)).stdout.splitlines()
            if line[:4].isalnum() and line[4:6] == "  "]
    theirs = [line for line in _tshark_lines("-r", str(SAMPLES / name), "-x")
              if line[:4].isalnum() and line[4:6] == "  "]
    assert ours and ours == theirs


def test_detail_tree_names_the_fields_tshark_names():
    """-V: the tree of a BU frame carries tshark -V's field lines (values and
    names), layer by layer."""
    ours = {line.strip() for line in run("packets", "-V", str(SAMPLES / "mh-bu.pcap")).stdout.splitlines()}
    theirs = {line.strip() for line in _tshark_lines("-r", str(SAMPLES / "mh-bu.pcap"), "-V")}
    for wanted in ("Sequence number: 1000", "Lifetime: 105 (420 seconds)",
                   "MIPv6 Home Address: 2001:db8:1::100", "Mobility Header Type: Binding Update (5)",
                   "Source Address: 2001:db8:2::100", "Hop Limit: 64"):
        assert wanted in theirs, wanted  # the oracle says it
        assert wanted in ours, wanted

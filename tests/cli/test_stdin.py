"""``-`` as CAPTURE through a real pipe (``cat f | mipv6scope CMD -``), ``packets -w -``
and ``-w`` with several captures, re-read by tshark (the independent oracle)."""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "sample_captures"
HANDOFF = SAMPLES / "scenario-handoff.pcap"
VLAN = SAMPLES / "scenario-handoff-vlan.pcapng"
SLL = SAMPLES / "scenario-handoff-sll.pcap"
TSHARK = shutil.which("tshark")
needs_tshark = pytest.mark.skipif(TSHARK is None, reason="tshark not installed")
ENV = {**os.environ, "PYTHONPATH": str(REPO), "NO_COLOR": "1"}


def piped(data: bytes, *args: str) -> subprocess.CompletedProcess[bytes]:
    """``cat | mipv6scope ARGS``: ``data`` written into a real pipe by another process."""
    cat = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    tool = subprocess.Popen([sys.executable, "-m", "mipv6scope", *args], stdin=cat.stdout,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
    assert cat.stdout is not None and cat.stdin is not None
    cat.stdout.close()
    feeder = threading.Thread(target=_feed, args=(cat.stdin, data))
    feeder.start()
    out, err = tool.communicate(timeout=300)
    feeder.join()
    cat.wait()
    return subprocess.CompletedProcess(tool.args, tool.returncode, out, err)


def _feed(pipe: Any, data: bytes) -> None:
    """Write ``data`` and close; a reader that stops early (cache --at) is no error."""
    with contextlib.suppress(BrokenPipeError):
        pipe.write(data)
    with contextlib.suppress(BrokenPipeError):
        pipe.close()


def direct(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "mipv6scope", *args], capture_output=True,
                          env=ENV, stdin=subprocess.DEVNULL, timeout=300)


def tshark(*args: str, data: bytes | None = None) -> str:
    assert TSHARK is not None
    return subprocess.run([TSHARK, *args], input=data, capture_output=True, check=True,
                          timeout=120).stdout.decode()


@pytest.mark.parametrize("path", [HANDOFF, VLAN])
def test_summary_from_a_pipe_equals_the_file(path: Path):
    from_pipe = piped(path.read_bytes(), "summary", "--format", "json", "-")
    from_file = direct("summary", "--format", "json", str(path))
    assert from_pipe.returncode == 0, from_pipe.stderr
    records = json.loads(from_pipe.stdout)
    assert records and records == json.loads(from_file.stdout)


def test_report_from_a_gzip_pipe_names_stdin():
    result = piped(gzip.compress(HANDOFF.read_bytes()), "report", "-")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["capture"]["files"] == ["-"]
    assert report["capture"]["frames"] == 4006  # capinfos: 4006 packets


@pytest.mark.parametrize("args", [
    ("bindings",), ("tunnels",), ("ro",), ("handoffs",), ("findings",), ("stats",),
    ("cache", "--at", "#2000"), ("handoffs", "-Y", "mip6.mhtype == 5"),
    ("chart", "--format", "mmd", "-o", "-"),
])
def test_every_analysis_command_reads_stdin(args: tuple[str, ...]):
    command, *rest = args
    fmt = () if command == "chart" else ("--format", "json")
    from_pipe = piped(HANDOFF.read_bytes(), command, *rest, *fmt, "-")
    from_file = direct(command, *rest, *fmt, str(HANDOFF))
    assert from_pipe.returncode == 0, from_pipe.stderr
    assert from_pipe.stdout == from_file.stdout
    assert from_pipe.stdout.strip()


def test_packets_streams_stdin_and_spools_for_analysis_fields():
    for extra in ((), ("-Y", "mn == 2001:db8:1::100 && mipv6")):
        from_pipe = piped(HANDOFF.read_bytes(), "packets", "--format", "jsonl", *extra, "-")
        from_file = direct("packets", "--format", "jsonl", *extra, str(HANDOFF))
        assert from_pipe.returncode == 0, from_pipe.stderr
        assert from_pipe.stdout == from_file.stdout and from_pipe.stdout


def test_stdin_once_only():
    result = piped(HANDOFF.read_bytes(), "summary", "-", "-")
    assert result.returncode == 2
    assert b"only once" in result.stderr


@needs_tshark
@pytest.mark.parametrize("path", [HANDOFF, VLAN])
def test_write_to_stdout_reread_by_tshark(path: Path):
    result = piped(path.read_bytes(), "packets", "-Y", "mipv6", "-w", "-", "-")
    assert result.returncode == 0, result.stderr
    fields = ("-T", "fields", "-e", "frame.number", "-e", "frame.time_epoch", "-e", "frame.len")
    got = tshark("-r", "-", "-x", data=result.stdout)
    want = tshark("-r", str(path), "-Y", "mipv6", "-2", "-x")
    assert got == want and got
    got_times = [line.split("\t")[1:] for line in tshark("-r", "-", *fields, data=result.stdout).splitlines()]
    want_times = [line.split("\t")[1:] for line in tshark("-r", str(path), "-Y", "mipv6", *fields).splitlines()]
    assert got_times == want_times


def _tshark_frames(path: Path, display: str) -> list[tuple[str, str, str]]:
    """(epoch time, encapsulation, bytes as hex) of the frames tshark's -Y keeps."""
    text = tshark("-r", str(path), "-Y", display, "-T", "fields", "-e", "frame.time_epoch",
                  "-e", "frame.encap_type", "-e", "frame.protocols")
    rows = [tuple(line.split("\t")) for line in text.splitlines()]
    hexes = _hex_frames(tshark("-r", str(path), "-Y", display, "-x"))
    return [(t, e, h) for (t, e, _p), h in zip(rows, hexes, strict=True)]


def _hex_frames(text: str) -> list[str]:
    """Each frame's bytes from tshark -x output (blocks separated by a blank line)."""
    frames = []
    for block in text.strip().split("\n\n"):
        frames.append("".join("".join(line[6:53].split()) for line in block.splitlines()))
    return frames


@needs_tshark
def test_write_several_captures_one_link_type_is_time_ordered_pcap(tmp_path: Path):
    # the two captures overlap in time: their frames must interleave
    out = tmp_path / "merged.pcap"
    result = direct("packets", "-Y", "mip6.mhtype == 5 || mip6.mhtype == 6", "-w", str(out),
                    str(HANDOFF), str(SAMPLES / "scenario-route-optimization.pcap"))
    assert result.returncode == 0, result.stderr
    assert b"as pcap" in result.stderr
    assert out.read_bytes()[:4] == b"\xd4\xc3\xb2\xa1"  # microsecond pcap, as both inputs
    display = "mip6.mhtype == 5 || mip6.mhtype == 6"
    want = sorted(_tshark_frames(HANDOFF, display) + _tshark_frames(
        SAMPLES / "scenario-route-optimization.pcap", display), key=lambda r: float(r[0]))
    got = _tshark_frames(out, "frame")
    assert got == want and len(got) > 10
    sources = [r in _tshark_frames(HANDOFF, display) for r in got]
    assert sources != sorted(sources)  # really interleaved, not concatenated


@needs_tshark
def test_write_several_link_types_is_pcapng_with_an_interface_each(tmp_path: Path):
    out = tmp_path / "merged.pcapng"
    inputs = (HANDOFF, SLL, VLAN)
    result = piped(SLL.read_bytes(), "packets", "-Y", "mipv6", "-w", str(out),
                   str(HANDOFF), "-", str(VLAN))
    assert result.returncode == 0, result.stderr
    assert b"as pcapng" in result.stderr
    assert out.read_bytes()[:4] == b"\x0a\x0d\x0d\x0a"
    want = sorted((r for p in inputs for r in _tshark_frames(p, "mipv6")), key=lambda r: float(r[0]))
    assert _tshark_frames(out, "frame") == want
    interfaces = tshark("-r", str(out), "-T", "fields", "-e", "frame.interface_id",
                        "-e", "frame.encap_type").split("\n")
    pairs = {tuple(line.split("\t")) for line in interfaces if line}
    assert len({i for i, _e in pairs}) == 2  # ethernet (plain and VLAN) and Linux cooked
    assert len(pairs) == 2


@pytest.mark.skipif(shutil.which("script") is None, reason="needs script(1) for a terminal")
def test_tui_reads_the_capture_from_stdin_and_keys_from_the_terminal():
    # script gives the command a terminal; the capture still comes through a pipe
    command = (f"cat {SAMPLES / 'mh-bu.pcap'} | {sys.executable} -m mipv6scope tui -; "
               "echo EXIT=$?")
    proc = subprocess.Popen(["script", "-qfc", command, "/dev/null"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env={**ENV, "TERM": "xterm", "COLUMNS": "120", "LINES": "30"})
    assert proc.stdin is not None and proc.stdout is not None
    seen = bytearray()
    shown = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        while chunk := proc.stdout.read1(65536):
            seen.extend(chunk)
            if b"2001:db8:1::100" in seen:  # mh-bu.pcap's home address is on screen
                shown.set()

    reader = threading.Thread(target=read)
    reader.start()
    assert shown.wait(120), bytes(seen[-500:])
    proc.stdin.write(b"q")
    proc.stdin.flush()
    proc.wait(timeout=60)
    reader.join(timeout=10)
    assert b"EXIT=0" in seen


@pytest.mark.parametrize("path", [HANDOFF, VLAN])
def test_packets_prints_frames_as_they_arrive_on_a_pipe(path: Path):
    """The first frames are listed while the writer still holds the pipe open (as
    `tcpdump -U -w - | mipv6scope packets -` needs), not after 1 MiB or at the end."""
    data = path.read_bytes()
    expected = direct("packets", "--no-pager", "-c", "3", str(path)).stdout.decode().splitlines()
    assert len(expected) == 3
    read_fd, write_fd = os.pipe()
    tool = subprocess.Popen([sys.executable, "-m", "mipv6scope", "packets", "--no-pager", "-"],
                            stdin=read_fd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
    os.close(read_fd)
    try:
        os.write(write_fd, data[:4096])  # the header and the first few frames, no more
        assert tool.stdout is not None
        stdout = tool.stdout
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.extend(
            stdout.readline().decode().rstrip("\n") for _ in range(3)), daemon=True)
        reader.start()
        reader.join(timeout=60)
        assert lines == expected  # read while the pipe is still open: printed as they came
    finally:
        os.close(write_fd)
        tool.communicate(timeout=120)

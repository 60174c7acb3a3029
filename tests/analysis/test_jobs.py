"""``--jobs N``: the same report, byte for byte (`report --format json`),
with 1, 2 and 3 processes, and with the reference engine as the independent
oracle; several captures merged, pcapng, gzip, stdin, damaged captures,
captures of many chunks; Ctrl-C, and a producer that dies."""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import signal
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mipv6scope.analysis import parallel
from mipv6scope.analysis.engine import DUPLICATE_REASON, analyze
from mipv6scope.capture import columns
from mipv6scope.cli.main import cli
from mipv6scope.synth.story import write_story_capture
from tests.analysis.damage import draw_damaged_capture, reports_by
from tests.conftest import REPO_ROOT

SAMPLES = REPO_ROOT / "sample_captures"
SAMPLE_CAPTURES = sorted(p for p in SAMPLES.iterdir() if ".pcap" in p.name and not p.name.endswith(".json"))
ENV = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
JOBS = ("1", "2", "3")


def report_run(paths: list[Path | str], *options: str) -> tuple[int, bytes, str]:
    """(exit code, stdout, stderr) of ``report --format json OPTIONS PATHS`` run in-process."""
    result = CliRunner().invoke(cli, ["report", "--format", "json", *options, *map(str, paths)],
                                catch_exceptions=False)
    return result.exit_code, result.stdout_bytes, result.stderr


def assert_same_for_all_jobs(paths: list[Path | str]) -> bytes:
    """The report (and exit code and stderr) of every ``--jobs`` is the
    reference engine's."""
    reference = report_run(paths, "--engine", "reference")
    assert reference[0] in (0, 3) and reference[1], reference[2]
    for jobs in JOBS:
        assert report_run(paths, "--jobs", jobs) == reference, f"--jobs {jobs}"
    return reference[1]


@pytest.mark.parametrize("path", SAMPLE_CAPTURES, ids=lambda p: p.name)
def test_samples(path: Path) -> None:
    assert_same_for_all_jobs([path])


def test_several_captures_merged_with_copies_skipped(tmp_path: Path) -> None:
    """Two vantages of one scenario (the same packets seen twice), with a
    gzip and a pcapng among them; three captures need three producers."""
    ha, mn = SAMPLES / "scenario-handoff-vantage-ha.pcap", SAMPLES / "scenario-handoff-vantage-mn.pcap"
    compressed = tmp_path / "mn.pcap.gz"
    compressed.write_bytes(gzip.compress(mn.read_bytes()))
    for paths in ([ha, mn], [ha, compressed, SAMPLES / "scenario-handoff-vlan.pcapng"]):
        report = json.loads(assert_same_for_all_jobs(paths))
        assert report["capture"]["skip_reasons"].get(DUPLICATE_REASON, 0) > 100


def test_gzip_and_pcapng(tmp_path: Path) -> None:
    compressed = tmp_path / "r.pcap.gz"
    compressed.write_bytes(gzip.compress((SAMPLES / "scenario-recovery.pcap").read_bytes()))
    assert_same_for_all_jobs([compressed])
    assert_same_for_all_jobs([SAMPLES / "scenario-handoff-vlan.pcapng"])


def test_many_chunks_and_a_full_queue(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of 64 frames and a queue of 2: thousands of chunks cross, the
    producer waits on the main process most of the time."""
    monkeypatch.setattr(columns, "CHUNK_FRAMES", 64)
    monkeypatch.setattr(parallel, "QUEUE_CHUNKS", 2)
    for paths in ([SAMPLES / "scenario-fleet.pcap"], [SAMPLES / "scenario-handoff-vlan.pcapng"],
                  [SAMPLES / "scenario-handoff-vantage-ha.pcap", SAMPLES / "scenario-handoff-vantage-mn.pcap"]):
        assert_same_for_all_jobs(paths)


@pytest.mark.parametrize("how", ["file", "pipe"])
def test_stdin(how: str) -> None:
    """``report -`` from stdin (a file, a pipe) in child processes: the
    producer reads it, once."""
    source = SAMPLES / "scenario-handoff.pcap"
    outputs = []
    for options in (["--engine", "reference"], ["--jobs", "1"], ["--jobs", "2"]):
        cmd = [sys.executable, "-m", "mipv6scope", "report", "--format", "json", *options, "-"]
        if how == "file":
            with open(source, "rb") as stdin:
                proc = subprocess.run(cmd, stdin=stdin, capture_output=True, check=True, env=ENV)
        else:
            proc = subprocess.run(cmd, input=source.read_bytes(), capture_output=True, check=True,
                                  env=ENV)
        outputs.append(proc.stdout)
    assert outputs[0] and outputs[0] == outputs[1] == outputs[2]
    assert json.loads(outputs[0])["capture"]["frames"] > 1000


def test_truncated_capture_issues_and_exit_code(tmp_path: Path) -> None:
    """A capture cut in the middle of a record: the same issue, report and
    exit code (3) from every --jobs."""
    raw = (SAMPLES / "scenario-handoff.pcap").read_bytes()
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(raw[:len(raw) // 2 + 7])
    report = json.loads(assert_same_for_all_jobs([cut]))
    assert report["capture"]["capture_issues"]
    assert report_run([cut], "--jobs", "2")[0] == 3


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_damaged_captures(tmp_path_factory, data) -> None:
    """Bit flips, truncation and corrupted record headers: the same report
    (capture issues, frames counted, findings) with 1 and 2 processes."""
    sources = ("scenario-handoff.pcap", "scenario-handoff-vlan.pcapng", "scenario-malformed.pcap",
               "home-registration.pcap")
    path = draw_damaged_capture(data, tmp_path_factory.mktemp("damaged"), sources,
                                (b"\xff\xff\xff\x00", b"\x00\x00\x00\x00"))
    one, two = reports_by(path, (partial(analyze, jobs=jobs) for jobs in (1, 2)))
    assert two == one


def test_a_producer_that_dies_is_one_capture_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """A producer killed mid-capture: a CaptureError naming the capture (the
    CLI's one line, exit 3), not a hang."""
    real = parallel.Gatherer.__call__
    calls = []

    def dying(self, chunk):
        calls.append(1)
        if len(calls) == 3:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(self, chunk)
    monkeypatch.setattr(parallel.Gatherer, "__call__", dying)
    monkeypatch.setattr(columns, "CHUNK_FRAMES", 100)
    path = SAMPLES / "scenario-fleet.pcap"
    with pytest.raises(parallel.ProducerDied, match="scenario-fleet.pcap: the process reading it ended"):
        analyze([path], jobs=2)
    code, out, err = report_run([path], "--jobs", "2")
    assert code == 3 and not out
    assert err.count("\n") == 1 and err.startswith("mipv6scope: ") and "exit code -9" in err


def _children(pid: int) -> set[int]:
    found = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            found |= {int(p) for p in (task / "children").read_text().split()}
    return found


def test_sigint_with_jobs_2(tmp_path: Path) -> None:
    """Ctrl-C to a ``report --jobs 2`` reading a live pipe (held open, so
    the pass is mid-capture): exit 130, the partial report, no process left."""
    capture = tmp_path / "big.pcap"
    write_story_capture(capture, 20_000)
    fifo = tmp_path / "live.pcap"
    os.mkfifo(fifo)
    data = capture.read_bytes()
    out_path, err_path = tmp_path / "out", tmp_path / "err"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "mipv6scope", "report", "--format", "json",
                                 "--jobs", "2", str(fifo)], env=ENV, stdout=out, stderr=err)
    writer = open(fifo, "wb")  # noqa: SIM115 - held open until the command is interrupted
    try:
        writer.write(data[:-65536])
        writer.flush()
        time.sleep(1.0)
        producers = _children(proc.pid)
        assert producers, "no producer process"
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    finally:
        with contextlib.suppress(BrokenPipeError):
            writer.close()
    err_text = err_path.read_text()
    assert proc.returncode == 130, err_text
    assert "Traceback" not in err_text and "interrupted" in err_text
    report = json.loads(out_path.read_text())
    assert report["capture"]["partial"] is True and report["capture"]["frames"] > 1000
    for pid in producers:
        assert not Path(f"/proc/{pid}").exists(), f"producer {pid} left behind"

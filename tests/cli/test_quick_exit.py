"""An analysis command run as its own process ends without freeing its report
(`cli.quick_exit`), and loses nothing by it: the same output and exit code as
the command run in-process, the atexit handlers run, stderr written, worker
processes ended; and it falls back to the interpreter's exit whenever it is
not armed or a thread would be waited for."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from mipv6scope.cli import quick_exit
from mipv6scope.cli.main import cli

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "sample_captures" / "scenario-handoff.pcap"
# buffered output, as usual outside this workplace: what is not flushed would be lost
ENV = {**{k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}, "PYTHONPATH": str(REPO)}


def _process(args: list[str], code: str | None = None) -> subprocess.CompletedProcess[bytes]:
    """``python -m mipv6scope ARGS``, or ``python -c CODE`` with ``sys.argv`` set to them."""
    argv = ["-m", "mipv6scope", *args] if code is None else ["-c", code, *args]
    return subprocess.run([sys.executable, *argv], env=ENV, capture_output=True, timeout=120)


@pytest.fixture(scope="module")
def truncated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cut") / "cut.pcap"
    data = SAMPLE.read_bytes()
    path.write_bytes(data[:len(data) // 2 + 7])
    return path


@pytest.mark.parametrize("args", [
    ["report", "--format", "json"], ["report", "--format", "json", "--jobs", "2"],
    ["summary", "--fail-on", "info"], ["findings", "--format", "jsonl"],
    ["bindings", "--format", "csv"], ["report", "--format", "xml"],
], ids=lambda a: " ".join(a))
def test_a_process_writes_and_exits_as_the_command_in_process(args):
    wanted = CliRunner().invoke(cli, [*args, str(SAMPLE)], prog_name="mipv6scope")
    done = _process([*args, str(SAMPLE)])
    assert done.returncode == wanted.exit_code
    assert done.stdout.decode() == wanted.stdout
    assert done.stderr.decode() == wanted.stderr


def test_a_damaged_capture_still_exits_3_with_everything_written(truncated):
    wanted = CliRunner().invoke(cli, ["report", str(truncated)])
    done = _process(["report", str(truncated)])
    assert (done.returncode, wanted.exit_code) == (3, 3)
    assert done.stdout.decode() == wanted.stdout
    assert b"truncated" in done.stderr


def test_the_output_file_is_whole(tmp_path):
    target = tmp_path / "r.json"
    done = _process(["report", "--format", "json", "-o", str(target), str(SAMPLE)])
    assert done.returncode == 0, done.stderr
    assert target.read_text() == CliRunner().invoke(cli, ["report", "--format", "json",
                                                          str(SAMPLE)]).stdout
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]  # no temporary file left


def test_atexit_handlers_run_and_what_they_write_is_flushed(tmp_path):
    marker = tmp_path / "ran"
    code = ("import atexit, sys\n"
            f"atexit.register(lambda: open({str(marker)!r}, 'w').write('yes'))\n"
            "atexit.register(lambda: sys.stderr.write('handler wrote this'))\n"
            "atexit.register(lambda: sys.stdout.write('and this'))\n"
            "from mipv6scope.cli.main import main\n"
            "main()\n")
    done = _process(["summary", "--fail-on", "info", str(SAMPLE)], code)
    assert done.returncode == 1
    assert marker.read_text() == "yes"
    assert done.stderr.endswith(b"handler wrote this")
    assert done.stdout.endswith(b"and this")


class _Ended(Exception):
    pass


@pytest.fixture
def ended(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The codes `quick_exit.end` would have ended the process with (it raises `_Ended` instead)."""
    codes: list[int] = []

    def fake_exit(code: int) -> None:
        codes.append(code)
        raise _Ended

    monkeypatch.setattr(quick_exit.os, "_exit", fake_exit)
    monkeypatch.setattr(quick_exit.atexit, "_run_exitfuncs", lambda: None)
    yield codes
    quick_exit.disarm()


def test_end_ends_the_process_only_when_armed(ended):
    quick_exit.keep("report")
    quick_exit.end(3)  # not armed: returns, keeps nothing
    assert ended == [] and quick_exit._kept == []
    quick_exit.arm()
    quick_exit.keep("report")
    assert quick_exit._kept == ["report"]
    with pytest.raises(_Ended):
        quick_exit.end(3)
    assert ended == [3]


def test_end_falls_back_while_another_thread_would_be_waited_for(ended):
    quick_exit.arm()
    quick_exit.keep("report")
    release = threading.Event()
    worker = threading.Thread(target=release.wait)
    worker.start()
    try:
        quick_exit.end(0)
    finally:
        release.set()
        worker.join()
    assert ended == [] and quick_exit._kept == []
    quick_exit.end(0)  # disarmed by the fall-back
    assert ended == []

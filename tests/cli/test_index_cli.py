"""`mipv6scope index`: what it prints, where the entry goes, and its exit codes."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mipv6scope.capture import open_capture
from mipv6scope.cli.main import main

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "sample_captures"
SUFFIX = ".mipv6scope-index"


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """main(args) in-process: (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as info:
        main(args)
    out, err = capsys.readouterr()
    return info.value.code, out, err


def frames_in(path: Path) -> int:
    with open_capture(path) as reader:
        return sum(1 for _ in reader)


@pytest.fixture
def capture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("MIPV6SCOPE_INDEX_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    path = tmp_path / "ha.pcap"
    shutil.copyfile(SAMPLES / "scenario-handoff.pcap", path)
    return path


def test_built_then_reused_then_rebuilt(capture: Path, capsys: pytest.CaptureFixture[str]) -> None:
    frames = frames_in(capture)
    entry = Path(f"{capture}{SUFFIX}")
    code, out, err = run(["index", str(capture)], capsys)
    assert (code, err) == (0, "")
    size = entry.stat().st_size
    assert out.startswith(f"{capture}: {frames:,} frames, built, in {entry}: {size:,} bytes, "
                          f"{size / frames:.1f} B/frame, ")
    assert size / frames <= 40
    code, out, _ = run(["index", str(capture)], capsys)
    assert code == 0 and f"{frames:,} frames, reused, in {entry}" in out
    code, out, _ = run(["index", "--force", str(capture)], capsys)
    assert code == 0 and "rebuilt (--force)" in out
    data = capture.read_bytes()
    first_record = data[24:24 + 16 + int.from_bytes(data[32:36], "little")]
    capture.write_bytes(data + first_record)  # one more frame: the entry is stale
    code, out, err = run(["index", str(capture)], capsys)
    assert (code, err) == (0, "")
    assert out.startswith(f"{capture}: {frames + 1:,} frames, rebuilt (stale: ")


def test_json(capture: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["index", "--format", "json", str(capture)], capsys)
    assert code == 0
    (record,) = json.loads(out)
    entry = Path(f"{capture}{SUFFIX}")
    frames = frames_in(capture)
    assert record == {
        "capture": str(capture), "status": "built", "frames": frames, "entry": str(entry),
        "bytes": entry.stat().st_size,
        "bytes_per_frame": round(entry.stat().st_size / frames, 2),
        "seconds": record["seconds"], "reason": None, "store_error": None, "capture_issues": []}


def test_index_dir_option_and_environment(capture: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = run(["index", "--index-dir", str(tmp_path / "opt"), "--format", "json",
                        str(capture)], capsys)
    assert code == 0 and Path(json.loads(out)[0]["entry"]).parent == tmp_path / "opt"
    monkeypatch.setenv("MIPV6SCOPE_INDEX_DIR", str(tmp_path / "env"))
    code, out, _ = run(["index", "--format", "json", str(capture)], capsys)
    assert code == 0 and Path(json.loads(out)[0]["entry"]).parent == tmp_path / "env"
    assert not Path(f"{capture}{SUFFIX}").exists()


def test_stdin_and_a_fifo_are_usage_errors(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["index", "-"], capsys)
    assert code == 2 and out == "" and "stdin" in err and "Traceback" not in err
    fifo = tmp_path / "live.pcap"
    os.mkfifo(fifo)  # nobody writes to it: opening it to read would wait forever
    code, out, err = run(["index", str(fifo)], capsys)
    assert code == 2 and out == "" and "not a regular file" in err


def test_unreadable_captures_exit_3_and_the_others_are_indexed(
        capture: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    packed = tmp_path / "ha.pcap.gz"
    packed.write_bytes(gzip.compress(capture.read_bytes()))
    text = tmp_path / "notes.txt"
    text.write_text("not a capture\n")
    code, out, err = run(["index", str(tmp_path / "missing.pcap"), str(packed), str(text),
                          str(capture)], capsys)
    assert code == 3
    lines = err.splitlines()
    assert len(lines) == 3 and all(line.startswith("mipv6scope: ") for line in lines)
    assert "gzip-compressed" in lines[1] and "gunzip -k" in lines[1]
    assert out.count("\n") == 1 and "built" in out
    assert not Path(f"{packed}{SUFFIX}").exists()


def test_a_damaged_capture_is_indexed_and_exits_3(capture: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    capture.write_bytes(capture.read_bytes()[:-10])
    code, out, err = run(["index", str(capture)], capsys)
    assert code == 3 and "built" in out
    assert err.startswith(f"mipv6scope: {capture}: truncated_record:") and err.count("\n") == 1
    code, out, err = run(["index", str(capture)], capsys)
    assert code == 3 and "reused" in out and "truncated_record" in err  # the issue is stored too


def test_nowhere_to_store_exits_1(capture: Path, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "file").write_text("")
    code, out, err = run(["index", "--index-dir", str(tmp_path / "file" / "sub"), str(capture)],
                         capsys)
    assert code == 1 and err == ""
    assert out.startswith(f"{capture}: ") and ", not stored: " in out


def test_help_has_examples_and_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["index", "--help"], capsys)
    assert code == 0
    for text in ("mipv6scope index home-agent.pcap", "--index-dir", "--force", "--format",
                 "Exit codes", "130"):
        assert text in out


def test_in_a_subprocess(capture: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-m", "mipv6scope", "index", str(capture)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0 and proc.stderr == "" and " built, " in proc.stdout

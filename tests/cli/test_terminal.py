"""Terminal behaviour, through real ptys and pipes: colour (severity, failures,
lost) only on a terminal and without NO_COLOR, the pager (a fake $PAGER) only
on a terminal and without --no-pager, the progress line only when stderr is a
terminal; and summary's --top/--all/--sort on a capture with 30 mobile nodes."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from mipv6scope.cli.progress import ProgressLine, progress_text
from mipv6scope.render.styling import style_text
from mipv6scope.synth.story import write_story_capture

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "sample_captures"
RECOVERY = str(SAMPLES / "scenario-recovery.pcap")
HANDOFF = str(SAMPLES / "scenario-handoff.pcap")
ESC = b"\x1b["


def env(**extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items()
            if k not in ("NO_COLOR", "PAGER", "MIPV6SCOPE_PAGER", "LESS", "TERM")}
    return {**base, "PYTHONPATH": str(REPO), "TERM": "xterm", **extra}


def run(args: list[str], environ: dict[str, str], stdout_tty: bool,
        stderr_tty: bool = False) -> tuple[int, bytes, bytes]:
    """(exit code, stdout, stderr) of ``mipv6scope ARGS``, stdout and/or stderr on a pty."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "mipv6scope", *args], stdin=subprocess.DEVNULL,
                            stdout=slave if stdout_tty else subprocess.PIPE,
                            stderr=slave if stderr_tty else subprocess.PIPE, env=environ)
    os.close(slave)
    chunks: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=drain)
    reader.start()
    out, err = proc.communicate(timeout=300)
    reader.join(timeout=30)
    os.close(master)
    on_tty = b"".join(chunks)
    return (proc.returncode, on_tty if stdout_tty else out, on_tty if stderr_tty else err)


# --- colour ------------------------------------------------------------------------------------

def test_colour_on_a_terminal():
    code, out, _err = run(["findings", "--no-pager", RECOVERY], env(), stdout_tty=True)
    assert code == 0
    assert ESC in out
    assert b"\x1b[36minfo" in out  # severity info in cyan (findings of scenario-recovery are info)


def test_failures_and_lost_are_coloured():
    code, out, _err = run(["bindings", "--registrations", "--no-pager", RECOVERY], env(),
                          stdout_tty=True)
    # two registrations rejected (BA 135, 133: RFC 6275 6.1.8, 128 and above reject)
    assert code == 0 and b"\x1b[1;31m135\x1b[0m" in out and b"\x1b[1;31m133\x1b[0m" in out
    code, out, _err = run(["handoffs", "--no-pager", RECOVERY], env(), stdout_tty=True)
    assert code == 0 and b"\x1b[1;31mrejected 133" in out  # the 133 handoff failed
    code, out, _err = run(["handoffs", "--no-pager", HANDOFF], env(), stdout_tty=True)
    # second move: 1 lost, 15 possibly lost; return home: 23 possibly lost
    assert code == 0 and b"\x1b[31m1\x1b[0m" in out
    assert b"\x1b[33m15\x1b[0m" in out and b"\x1b[33m23\x1b[0m" in out


def test_no_colour_with_no_color_or_a_pipe():
    code, out, _err = run(["findings", "--no-pager", RECOVERY], env(NO_COLOR="1"), stdout_tty=True)
    assert code == 0 and b"info" in out and ESC not in out
    code, out, _err = run(["findings", RECOVERY], env(), stdout_tty=False)
    assert code == 0 and b"info" in out and ESC not in out


@pytest.mark.parametrize("view", ["findings", "bindings", "summary", "stats", "handoffs"])
def test_coloured_text_reads_like_the_plain_text(view: str):
    _code, coloured, _err = run([view, "--no-pager", RECOVERY], env(), stdout_tty=True)
    _code, plain, _err = run([view, RECOVERY], env(), stdout_tty=False)
    stripped = re.sub(rb"\x1b\[[0-9;]*m", b"", coloured).replace(b"\r\n", b"\n")
    assert stripped == plain  # no wrapping, nothing added or lost


def test_styling_keeps_the_characters():
    text = Path(SAMPLES / "README.md").read_text()[:2000] + "\n x  lost\n -  ----\n a     3\n"
    assert style_text(text).plain == text


# --- pager -------------------------------------------------------------------------------------

def test_pager_gets_the_coloured_text_on_a_terminal(tmp_path: Path):
    seen, less = tmp_path / "paged.txt", tmp_path / "less.txt"
    pager = f"sh -c 'echo \"$LESS\" > {less}; cat > {seen}'"
    code, out, _err = run(["handoffs", HANDOFF], env(PAGER=pager), stdout_tty=True)
    assert code == 0
    assert b"3 handoffs" in seen.read_bytes() and ESC in seen.read_bytes()
    assert b"3 handoffs" not in out  # all of it went to the pager
    assert less.read_text().strip() == "FRX"  # as git: LESS=FRX when unset


def test_no_pager_on_a_pipe_or_with_no_pager(tmp_path: Path):
    seen = tmp_path / "paged.txt"
    pager = f"sh -c 'cat > {seen}'"
    code, out, _err = run(["handoffs", HANDOFF], env(PAGER=pager), stdout_tty=False)
    assert code == 0 and b"3 handoffs" in out and not seen.exists()
    code, out, _err = run(["handoffs", "--no-pager", HANDOFF], env(PAGER=pager), stdout_tty=True)
    assert code == 0 and b"3 handoffs" in out and not seen.exists()


def test_packets_streams_through_the_pager(tmp_path: Path):
    seen = tmp_path / "paged.txt"
    code, _out, _err = run(["packets", str(SAMPLES / "mh-bu.pcap")],
                           env(MIPV6SCOPE_PAGER=f"sh -c 'cat > {seen}'", PAGER="false"),
                           stdout_tty=True)
    assert code == 0 and seen.read_text().count("\n") == 6  # six frames


# --- progress line -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def long_capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("long") / "long.pcap"
    write_story_capture(path, 150_000)
    return path


def test_progress_line_when_stderr_is_a_terminal(long_capture: Path):
    code, _out, err = run(["summary", str(long_capture)], env(), stdout_tty=False, stderr_tty=True)
    assert code == 0
    assert b"\ranalysing: 32,768 frames" in err
    assert b"frames/s" in err and b"s left" in err and b"% of " in err
    assert err.endswith(b"\r")  # erased at the end


def test_no_progress_line_when_stderr_is_a_pipe(long_capture: Path):
    code, out, err = run(["summary", str(long_capture)], env(), stdout_tty=False)
    assert code == 0 and b"150000 frames" in out
    assert b"analysing" not in err and b"\r" not in err


def test_progress_text_time_left_from_bytes():
    # a quarter read in 2 s: 6 s left; 65,536 frames in 2 s
    assert progress_text(65_536, 25, 100, 2.0) == \
        "analysing: 65,536 frames  32,768 frames/s  25% of 0 MB  6 s left"
    assert progress_text(65_536, 0, 0, 2.0) == "analysing: 65,536 frames  32,768 frames/s"  # a pipe


def test_progress_line_redraws_at_most_five_times_a_second():
    class Stream:
        text = ""

        def write(self, s: str) -> None:
            self.text += s

        def flush(self) -> None:
            pass

    now = [0.0]
    stream = Stream()
    line = ProgressLine(stream, clock=lambda: now[0], step=10)  # type: ignore[arg-type]
    for i in range(10):
        now[0] = i * 0.1
        line(i * 10, 1000)
    assert stream.text.count("\r") == 5  # at 0.0, 0.2, 0.4, 0.6, 0.8 s
    line.close()
    assert stream.text.endswith("\r") and stream.text.count("\r") == 7


# --- summary --top/--all/--sort --------------------------------------------------------------

@pytest.fixture(scope="module")
def fleet30(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fleet") / "fleet30.pcap"
    subprocess.run([sys.executable, "-m", "mipv6scope", "synth", "fleet", "--mobile-nodes", "30",
                    "--duration", "20", "--data-rate", "1", "-o", str(path)], env=env(), check=True,
                   capture_output=True)
    return path


def summary(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "mipv6scope", "summary", *args], env=env(),
                          capture_output=True, text=True, check=True)
    return done.stdout


def node_lines(text: str) -> list[str]:
    block = text.split("Mobile nodes")[1].split("\n\n")[0]
    # a node's own line is indented two spaces (its signalling and handoff lines four)
    return [line for line in block.splitlines()[1:]
            if line.startswith("  ") and not line.startswith(("   ", "  ...", "  total:"))]


def test_summary_shows_the_top_20_and_how_many_more(fleet30: Path):
    truth = json.loads(Path(f"{fleet30}.truth.json").read_text())
    assert len(truth["mobile_nodes"]) == 30
    text = summary(str(fleet30))
    assert len(node_lines(text)) == 20
    assert "  ... 10 more mobile nodes" in text
    assert len(node_lines(summary("--top", "5", str(fleet30)))) == 5
    everything = summary("--all", str(fleet30))
    assert len(node_lines(everything)) == 30 and "more mobile node" not in everything


@pytest.mark.parametrize("key,field", [("handoffs", "handoffs"), ("lost", "lost_to_old_care_of"),
                                       ("findings", "findings"),
                                       ("registration", "median_registration_ms")])
def test_summary_sort_is_worst_first_ties_in_report_order(fleet30: Path, key: str, field: str):
    records = json.loads(summary("--format", "json", str(fleet30)))
    ranked = json.loads(summary("--format", "json", "--sort", key, "--top", "30", str(fleet30)))
    order = [r["home_address"] for r in records]
    value = [(r[field] if r[field] is not None else -1.0) for r in ranked]
    assert value == sorted(value, reverse=True)
    for a, b in zip(ranked, ranked[1:], strict=False):
        if (a[field] if a[field] is not None else -1.0) == (b[field] if b[field] is not None else -1.0):
            assert order.index(a["home_address"]) < order.index(b["home_address"])
    text_order = [line.strip().split(": ", 1)[0] for line in node_lines(summary("--sort", key, str(fleet30)))]
    assert text_order == [r["home_address"] for r in ranked[:20]]


def test_top_and_all_together_is_a_usage_error(fleet30: Path):
    done = subprocess.run([sys.executable, "-m", "mipv6scope", "summary", "--top", "3", "--all",
                           str(fleet30)], env=env(), capture_output=True, text=True)
    assert done.returncode == 2

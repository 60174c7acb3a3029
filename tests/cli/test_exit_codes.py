"""Process behaviour every command shares (issue 11, sections 1 and 3): exit
codes 0/1/2/3/4/130 in every help, internal errors as one line (exit 4),
Ctrl-C (exit 130, partial output marked), closed pipes (exit 0), damaged
captures (exit 3 after writing everything, issues in json/jsonl/csv), and
command-line times that are not dates (exit 2)."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from mipv6scope.cli import analysis_commands
from mipv6scope.cli.main import cli, main
from mipv6scope.synth.story import write_story_capture

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "sample_captures" / "scenario-handoff.pcap"
VIEWS = ("summary", "bindings", "tunnels", "ro", "handoffs", "findings")
RECORD_FORMATS = ("json", "jsonl", "csv")
ENV = {**os.environ, "PYTHONPATH": str(REPO)}


def _run_main(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """main(args) in-process: (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as info:
        main(args)
    out, err = capsys.readouterr()
    return info.value.code, out, err


# -- help ---------------------------------------------------------------------------------

def test_every_command_help_documents_internal_error_and_interrupt():
    runner = CliRunner()
    texts = {"(group)": runner.invoke(cli, ["--help"]).output}
    for name in cli.commands:
        texts[name] = runner.invoke(cli, [name, "--help"]).output
    for name, text in texts.items():
        flat = " ".join(text.split())
        assert "Exit codes" in flat, name
        assert " 4 internal error" in flat or " 4 internal" in flat, name
        assert "130" in flat, name


# -- internal errors ----------------------------------------------------------------------

def _explode(*_args: object, **_kwargs: object) -> str:
    raise RuntimeError("boom\nsecond line \x1b[31m")


def test_an_unexpected_exception_is_one_line_and_exit_4(monkeypatch, capsys):
    monkeypatch.delenv("MIPV6SCOPE_DEBUG", raising=False)
    monkeypatch.setattr(analysis_commands, "render_summary", _explode)
    code, _out, err = _run_main(["summary", str(SAMPLE)], capsys)
    assert code == 4
    lines = err.strip().splitlines()
    assert lines[-1].startswith("mipv6scope: internal error: RuntimeError: boom second line")
    assert lines[-1].endswith("rerun with --debug for the traceback")
    assert "Traceback" not in err and "\x1b" not in err


@pytest.mark.parametrize("how", ["flag", "env"])
def test_debug_shows_the_traceback(monkeypatch, capsys, how):
    monkeypatch.setattr(analysis_commands, "render_summary", _explode)
    args = ["summary", str(SAMPLE)]
    if how == "flag":
        monkeypatch.delenv("MIPV6SCOPE_DEBUG", raising=False)
        args = ["--debug", *args]
    else:
        monkeypatch.setenv("MIPV6SCOPE_DEBUG", "1")
    code, _out, err = _run_main(args, capsys)
    assert code == 4
    assert "Traceback" in err and "RuntimeError: boom" in err


def test_usage_errors_and_findings_keep_their_codes(capsys):
    assert _run_main(["summary", "--format", "xml", str(SAMPLE)], capsys)[0] == 2
    assert _run_main(["--version"], capsys)[0] == 0
    assert _run_main(["summary", "/nonexistent/x.pcap"], capsys)[0] == 3


# -- command-line times -------------------------------------------------------------------

@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e400", "-1", "253402300800",
                                   "0001-01-01T00:00:00", "Infinity", "NaN"])
@pytest.mark.parametrize("option", ["cache --at", "summary --from", "findings --to", "chart --from"])
def test_times_that_are_not_dates_are_usage_errors(option, value):
    command, flag = option.split()
    extra = ["-o", "-"] if command == "chart" else []
    result = CliRunner().invoke(cli, [command, flag, value, *extra, str(SAMPLE)])
    assert result.exit_code == 2, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "1970" in errors[0]
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_times_in_range_still_work():
    result = CliRunner().invoke(cli, ["findings", "--from", "1970-01-01T00:00:00Z",
                                      "--to", "9999-12-31T23:59:59", str(SAMPLE)])
    assert result.exit_code == 0, result.output


# -- Ctrl-C -------------------------------------------------------------------------------

def test_ctrl_c_inside_a_command_exits_130_without_traceback(monkeypatch, capsys):
    def interrupt(*_args: object, **_kwargs: object) -> str:
        raise KeyboardInterrupt
    monkeypatch.setattr(analysis_commands, "render_summary", interrupt)
    code, _out, err = _run_main(["summary", str(SAMPLE)], capsys)
    assert code == 130 and "Traceback" not in err


def test_ctrl_c_while_the_commands_load_exits_130_without_traceback():
    """A KeyboardInterrupt raised by an import the CLI makes at start-up (the
    command's module, imported when the command is looked up)."""
    hook = ("import sys, runpy\n"
            "class Hook:\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name == 'mipv6scope.cli.analysis_commands':\n"
            "            raise KeyboardInterrupt\n"
            "sys.meta_path.insert(0, Hook())\n"
            "sys.argv = ['mipv6scope', 'summary', 'x.pcap']\n"
            "runpy.run_module('mipv6scope', run_name='__main__')\n")
    done = subprocess.run([sys.executable, "-c", hook], env=ENV, capture_output=True, timeout=60)
    assert done.returncode == 130
    assert b"Traceback" not in done.stderr


@pytest.fixture(scope="module")
def big_capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "big.pcap"
    write_story_capture(path, 20_000)
    return path


def _interrupt_mid_capture(tmp_path: Path, capture: Path, args: list[str]) -> tuple[int, bytes, bytes]:
    """Run the command on a FIFO fed all of ``capture`` but its last 64 KB,
    then held open: the command blocks reading, in the middle of its pass,
    and gets a real SIGINT there. (exit code, stdout, stderr)."""
    fifo = tmp_path / "live.pcap"
    os.mkfifo(fifo)
    data = capture.read_bytes()
    out_path, err_path = tmp_path / "out", tmp_path / "err"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:  # files: never a full pipe
        proc = subprocess.Popen([sys.executable, "-m", "mipv6scope", *args, str(fifo)], env=ENV,
                                stdout=out, stderr=err)
    writer = open(fifo, "wb")  # noqa: SIM115 - held open until the command is interrupted
    try:
        writer.write(data[:-65536])
        writer.flush()  # returns once the command has read all but the pipe's buffer
        time.sleep(1.0)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    finally:
        with contextlib.suppress(BrokenPipeError):
            writer.close()
    return proc.returncode, out_path.read_bytes(), err_path.read_bytes()


@pytest.mark.parametrize("args", [["summary", "--format", "json"], ["report"],
                                  ["findings", "--format", "jsonl"], ["bindings", "--format", "csv"],
                                  ["cache", "--at", "4000000000", "--format", "json"]],
                         ids=lambda a: " ".join(a))
def test_sigint_mid_capture_writes_what_was_analysed_marked_partial(tmp_path, big_capture, args):
    code, out, err = _interrupt_mid_capture(tmp_path, big_capture, args)
    assert code == 130, err
    assert b"Traceback" not in err
    text = out.decode()
    if args[0] == "report":
        document = json.loads(text)
        assert document["capture"]["partial"] is True
        assert document["capture"]["frames"] > 1000
    elif "json" in args:
        assert json.loads(text)[-1] == {"_meta": {"partial": True, "capture_issues": []}}
    elif "jsonl" in args:
        assert json.loads(text.splitlines()[-1])["_meta"]["partial"] is True
    else:
        assert text.splitlines()[-1].startswith("# partial: true")


def test_sigint_to_packets_keeps_the_listed_frames(tmp_path, big_capture):
    code, out, err = _interrupt_mid_capture(tmp_path, big_capture, ["packets", "--format", "jsonl"])
    assert code == 130 and b"Traceback" not in err
    lines = out.decode().splitlines()
    assert len(lines) > 1000
    json.loads(lines[-1])


# -- closed pipes -------------------------------------------------------------------------

PIPE_CASES = ([["packets"], ["packets", "--format", "jsonl"], ["report"],
               ["report", "--format", "html"], ["chart", "-o", "-", "--format", "mmd"],
               ["chart", "-o", "-", "--format", "json"],
               ["cache", "--at", "4000000000"]]
              + [[view, "--format", fmt] for view in VIEWS for fmt in ("text", *RECORD_FORMATS)]
              + [["cache", "--at", "4000000000", "--format", fmt] for fmt in RECORD_FORMATS])


def test_a_closed_pipe_exits_0_quietly_for_every_command_and_format():
    """stdout is a pipe whose reader has already gone: every write fails."""
    running = []
    for args in PIPE_CASES:
        read_end, write_end = os.pipe()
        proc = subprocess.Popen([sys.executable, "-m", "mipv6scope", *args, str(SAMPLE)], env=ENV,
                                stdout=write_end, stderr=subprocess.PIPE)
        os.close(write_end)
        os.close(read_end)
        running.append((args, proc))
    for args, proc in running:
        _out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, (args, err)
        assert b"Traceback" not in err and b"Exception ignored" not in err, (args, err)


def test_head_through_a_real_pipe(big_capture):
    """`mipv6scope packets big.pcap | head -1`: head exits while we write."""
    proc = subprocess.Popen([sys.executable, "-m", "mipv6scope", "packets", str(big_capture)],
                            env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    head = subprocess.run(["head", "-1"], stdin=proc.stdout, capture_output=True, timeout=60)
    proc.stdout.close()
    err = proc.communicate(timeout=60)[1]
    assert len(head.stdout.splitlines()) == 1
    assert proc.returncode == 0 and b"Traceback" not in err


# -- damaged captures ---------------------------------------------------------------------

def _cut_mid_record(source: Path, target: Path) -> int:
    """Copy ``source`` (a pcap) cut in the middle of the record at its middle;
    the number of whole records kept."""
    data = source.read_bytes()
    order = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    pos, records = 24, 0
    while pos < len(data) // 2:
        caplen = struct.unpack_from(order + "I", data, pos + 8)[0]
        pos += 16 + caplen
        records += 1
    caplen = struct.unpack_from(order + "I", data, pos + 8)[0]
    target.write_bytes(data[:pos + 16 + caplen // 2])
    return records


@pytest.fixture(scope="module")
def truncated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cut") / "cut.pcap"
    assert _cut_mid_record(SAMPLE, path) > 100
    return path


def _damaged_cases() -> list[list[str]]:
    cases = [[v, "--format", f] for v in VIEWS for f in ("text", *RECORD_FORMATS)]
    cases += [["report"], ["report", "--format", "json"], ["report", "--format", "html"]]
    cases += [["cache", "--at", "4000000000", "--format", f] for f in ("text", *RECORD_FORMATS)]
    cases += [["chart", "-o", "-", "--format", f] for f in ("mmd", "json", "html")]
    return cases


@pytest.mark.parametrize("args", _damaged_cases(), ids=lambda a: " ".join(a))
def test_a_truncated_capture_writes_everything_then_exits_3(truncated, args):
    result = CliRunner().invoke(cli, [*args, str(truncated)])
    assert result.exit_code == 3, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "truncated_record" in result.stderr
    out = result.stdout
    assert out.strip()
    if args[0] == "report" and args[-1] != "html":
        issues = json.loads(out)["capture"]["capture_issues"]
        assert any("truncated_record" in issue for issue in issues)
    elif "json" in args and args[0] != "chart":
        meta = json.loads(out)[-1]["_meta"]
        assert meta["partial"] is False and "truncated_record" in meta["capture_issues"][0]
    elif "jsonl" in args:
        meta = json.loads(out.splitlines()[-1])["_meta"]
        assert "truncated_record" in meta["capture_issues"][0]
    elif "csv" in args:
        body = [line for line in out.splitlines() if not line.startswith("#")]
        list(csv.reader(io.StringIO("\n".join(body))))
        assert out.splitlines()[-1].startswith("# capture_issue: ")
        assert "truncated_record" in out.splitlines()[-1]


@pytest.mark.parametrize("args", [["findings", "--format", "json"], ["summary", "--format", "jsonl"],
                                  ["tunnels", "--format", "csv"]], ids=lambda a: " ".join(a))
def test_a_whole_capture_has_no_meta_record(args):
    result = CliRunner().invoke(cli, [*args, str(SAMPLE)])
    assert result.exit_code == 0
    assert "_meta" not in result.stdout and "\n#" not in result.stdout


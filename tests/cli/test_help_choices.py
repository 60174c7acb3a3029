"""`--help` lists only what works: every choice each command's help shows
(``--opt [a|b|c]``) is run once on a sample and must succeed (exit 0)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from mipv6scope.cli.main import cli

SAMPLES = Path(__file__).resolve().parents[2] / "sample_captures"
HANDOFF = str(SAMPLES / "scenario-handoff.pcap")
CHOICES = re.compile(r"(--[a-z][a-z-]*) \[([a-z0-9|-]+)\]")
STATIC = ("svg", "png", "pdf")  # drawn by Chromium through kaleido: one run each


def listed_choices(command: str) -> list[tuple[str, str]]:
    """(option, value) for every choice the command's --help lists."""
    result = CliRunner().invoke(cli, [command, "--help"], terminal_width=200)
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    return [(option, value) for option, values in CHOICES.findall(text) for value in values.split("|")]


def invocation(command: str, option: str, value: str, tmp: Path) -> list[str]:
    """The smallest command line that uses ``option value``."""
    if command == "chart":
        fmt = value if option == "--format" else "html"
        return ["chart", HANDOFF, "-o", str(tmp / f"chart.{fmt}"), option, value]
    if command == "synth":
        return ["synth", "handoff", "--force", "-o", str(tmp / "s.pcap"), option, value]
    if command == "report" and option == "--plotlyjs":
        return ["report", HANDOFF, "--format", "html", "-o", str(tmp / "r.html"), option, value]
    # an index goes to the test's directory, not next to the sample (where later tests would meet it)
    extra = {"cache": ["--at", "#2000"], "index": ["--index-dir", str(tmp / "index")]}.get(command, [])
    return [command, HANDOFF, *extra, option, value]


COMMANDS = sorted(name for name in cli.commands if name not in ("tui", "samples"))


def test_the_walk_sees_every_format_option():
    walked = {c: listed_choices(c) for c in COMMANDS}
    assert ("--format", "html") in walked["report"]
    assert ("--format", "jsonl") not in walked["report"]  # one document: no rows
    assert ("--format", "csv") not in walked["report"]
    assert {v for o, v in walked["stats"] if o == "--format"} == {"text", "json", "csv"}
    assert all(any(o == "--format" for o, _v in walked[c]) for c in COMMANDS if c != "samples")


@pytest.mark.parametrize("command", COMMANDS)
def test_every_listed_choice_works(command: str, tmp_path: Path):
    for option, value in listed_choices(command):
        if command == "chart" and value in STATIC and option == "--format":
            pytest.importorskip("kaleido")
        args = invocation(command, option, value, tmp_path)
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, (args, result.output)


def test_cache_lists_no_option_it_cannot_use():
    text = CliRunner().invoke(cli, ["cache", "--help"]).output
    for refused in ("--from", "--to", "--fail-on", "--require-ipsec"):
        assert refused not in text

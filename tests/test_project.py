"""Project-level promises: the README's two commands, CI calling the test one,
committed samples not stale, and the layers' import boundaries."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import click
from click.testing import CliRunner

from mipv6scope.cli.main import cli

REPO = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    text = (REPO / "README.md").read_text()
    return re.findall(r"```sh\n(.*?)\n```", text, flags=re.S)


def test_readme_has_exactly_two_setup_commands():
    commands = readme_commands()
    assert len(commands) == 2
    main_job, tests = commands
    assert "sample_captures/" in main_job and "pytest" in tests
    assert all(c.startswith("python3 -m venv ") for c in commands)


def test_ci_runs_the_readme_test_command():
    ci = (REPO / ".ci" / "run").read_text()
    assert readme_commands()[1] in ci.splitlines()


def test_readme_main_command_capture_exists():
    main_job = readme_commands()[0]
    capture = re.search(r"(sample_captures/\S+)", main_job).group(1)
    assert (REPO / capture).is_file()


def test_committed_samples_are_not_stale():
    result = CliRunner().invoke(cli, ["samples", "--check", str(REPO / "sample_captures")])
    assert result.exit_code == 0, result.output


def test_samples_check_finds_a_stale_file(tmp_path):
    CliRunner().invoke(cli, ["samples", str(tmp_path)])
    victim = tmp_path / "mh-bu.pcap"
    data = victim.read_bytes()
    victim.write_bytes(data[:-1] + bytes([data[-1] ^ 0xFF]))
    result = CliRunner().invoke(cli, ["samples", "--check", str(tmp_path)])
    assert result.exit_code == 1 and "mh-bu.pcap" in result.output


def test_every_command_is_documented_in_the_readme():
    readme = (REPO / "README.md").read_text()
    for name in cli.commands:
        assert f"mipv6scope {name}" in readme, name


def test_every_long_option_is_documented_in_the_readme():
    readme = (REPO / "README.md").read_text()
    missing = [f"{name} {opt}" for name, command in cli.commands.items()
               for param in command.params if isinstance(param, click.Option)
               for opt in param.opts if opt.startswith("--") and opt not in readme]
    assert missing == []


def test_decoder_and_capture_do_not_import_the_cli_stack():
    code = ("import sys, mipv6scope.decode.stream, mipv6scope.render.packet_record;"
            "bad = [m for m in ('click', 'textual', 'plotly', 'rich') if m in sys.modules];"
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_report_json_loads_only_what_it_uses(tmp_path):
    """`report --format json` imports neither the other commands' modules (they
    load when named: `cli.main.LazyGroup`), nor the display filter, the
    pager's styling, the charts or the ESP ciphers; and it still writes the report."""
    out = tmp_path / "r.json"
    code = ("import sys, runpy\n"
            f"sys.argv = ['mipv6scope', 'report', '--format', 'json', '-o', {str(out)!r},"
            f" {str(REPO / 'sample_captures' / 'home-registration.pcap')!r}]\n"
            "try:\n"
            "    runpy.run_module('mipv6scope', run_name='__main__')\n"
            "except SystemExit as exc:\n"
            "    code = exc.code\n"
            "unwanted = ('mipv6scope.filter', 'lark', 'rich', 'textual', 'plotly', 'cryptography',\n"
            "            'mipv6scope.cli.packets', 'mipv6scope.cli.views', 'mipv6scope.cli.tui',\n"
            "            'mipv6scope.browse', 'mipv6scope.charts')\n"
            "print([m for m in unwanted if m in sys.modules], code)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.split("\n")[-2] == "[] 0", result.stdout + result.stderr
    assert out.read_text().startswith("{")


def test_every_command_loads_when_named():
    """Each command of `cli.main.COMMAND_MODULES` is its module's, and `--help` lists them all."""
    from mipv6scope.cli.main import COMMAND_MODULES

    for name, module in COMMAND_MODULES.items():
        command = cli.get_command(click.Context(cli), name)
        assert command is not None and command.name == name
        assert command.callback.__module__ == f"mipv6scope.cli.{module}"
    listed = CliRunner().invoke(cli, ["--help"]).output
    assert all(f"  {name} " in listed for name in COMMAND_MODULES)

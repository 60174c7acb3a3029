"""``--names FILE`` in the text views that did not show names before: the
summary's findings, the findings view, the binding caches, and the tunnels of
a node's second home address."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from mipv6scope.cli.main import cli
from tests.analysis.test_identity import COA1, HOA, HOA2, two_home_addresses, write

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "sample_captures"


def run(*args: str):
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def hosts(tmp_path: Path, text: str) -> str:
    path = tmp_path / "hosts"
    path.write_text(text)
    return str(path)


def truth_home_address(name: str) -> str:
    [node] = json.loads((SAMPLES / f"{name}.pcap.truth.json").read_text())["mobile_nodes"]
    return node["home_address"]


def test_summary_findings_name_the_node(tmp_path: Path):
    hoa = truth_home_address("scenario-recovery")
    out = run("summary", "--names", hosts(tmp_path, f"# hosts\n{hoa}   mn1 alias\n"),
              str(SAMPLES / "scenario-recovery.pcap"))
    findings = out.split("Findings:", 1)[1].splitlines()[1:]
    assert findings and all(f"mn1 ({hoa})" in line for line in findings if hoa in line)
    assert any(f"mn1 ({hoa})" in line for line in findings)


def test_findings_view_names_the_node(tmp_path: Path):
    hoa = truth_home_address("scenario-recovery")
    out = run("findings", "--names", hosts(tmp_path, f"{hoa} mn1\n"), str(SAMPLES / "scenario-recovery.pcap"))
    lines = [line for line in out.splitlines()[3:] if hoa in line]
    assert lines and all(f"mn1 ({hoa})" in line for line in lines)


def test_cache_view_names_the_node(tmp_path: Path):
    hoa = truth_home_address("scenario-handoff")
    out = run("cache", str(SAMPLES / "scenario-handoff.pcap"), "--at", "#100",
              "--names", hosts(tmp_path, f"{hoa} mn1\n"))
    assert f"Binding update list of mn1 ({hoa}):" in out
    cache = out.split("Binding cache of", 1)[1].split("Binding update list", 1)[0]
    assert f"mn1 ({hoa})" in cache


def test_tunnels_of_a_second_home_address_carry_the_node_name(tmp_path: Path):
    capture = write(tmp_path, two_home_addresses(COA1))
    out = run("tunnels", "--names", hosts(tmp_path, f"{HOA} laptop\n"), str(capture))
    rows = [line for line in out.splitlines() if HOA2 in line]
    assert len(rows) == 1 and f"laptop ({HOA2})" in rows[0]
    records = json.loads(run("tunnels", "--format", "json", "--names", hosts(tmp_path, f"{HOA} laptop\n"),
                             str(capture)))
    assert {r["home_address"]: r["node_name"] for r in records} == {HOA: "laptop", HOA2: "laptop"}
    # --mn with the second home address keeps the node and both its tunnels
    only = json.loads(run("tunnels", "--format", "json", "--mn", HOA2, str(capture)))
    assert {r["home_address"] for r in only} == {HOA, HOA2}

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


# -- the other roles: home agents, correspondents, access routers --------------------------------

def truth_roles(name: str) -> tuple[str, list[str]]:
    """(home agent, correspondents) of a sample, from its truth file."""
    truth = json.loads((SAMPLES / f"{name}.pcap.truth.json").read_text())
    [node] = truth["mobile_nodes"]
    return node["home_agent"], sorted({ro["correspondent"] for ro in node.get("route_optimization", [])})


def test_every_role_is_named_in_the_summary_and_the_report(tmp_path: Path):
    ha, [cn] = truth_roles("scenario-route-optimization")
    names = hosts(tmp_path, f"{ha} ha1\n{cn} server\n")
    capture = str(SAMPLES / "scenario-route-optimization.pcap")
    out = run("summary", "--names", names, capture)
    assert f"home agents:    1  {ha} (ha1)" in out
    assert f"{cn} (server)" in out.split("correspondents:", 1)[1].splitlines()[0]
    doc = json.loads(run("report", "--names", names, capture))
    assert doc["names"] == {ha: "ha1", cn: "server"}
    assert json.loads(run("report", capture))["names"] == {}


def test_views_name_peers_home_agents_and_correspondents(tmp_path: Path):
    ha, [cn] = truth_roles("scenario-route-optimization")
    names = hosts(tmp_path, f"{ha} ha1\n{cn} server\n")
    capture = str(SAMPLES / "scenario-route-optimization.pcap")
    bindings = run("bindings", "--registrations", "--names", names, capture)
    assert f"ha1 ({ha})" in bindings and f"server ({cn})" in bindings
    rows = [json.loads(line) for line in run("bindings", "--format", "jsonl", "--names", names,
                                             capture).splitlines()]
    assert {r["peer"]: r["peer_name"] for r in rows} == {ha: "ha1", cn: "server"}
    tunnels = [json.loads(line) for line in run("tunnels", "--format", "jsonl", "--names", names,
                                                capture).splitlines()]
    assert tunnels and {t["home_agent_name"] for t in tunnels} == {"ha1"}
    assert f"ha1 ({ha})" in run("tunnels", "--names", names, capture)
    ro = run("ro", "--names", names, capture)
    assert f"<-> server ({cn}):" in ro
    ro_rows = [json.loads(line) for line in run("ro", "--format", "jsonl", "--names", names,
                                                capture).splitlines()]
    assert {r["correspondent_name"] for r in ro_rows} == {"server"}


def test_access_routers_are_named(tmp_path: Path):
    capture = str(SAMPLES / "scenario-handoff.pcap")
    doc = json.loads(run("report", capture))
    router = doc["access_routers"][0]
    out = run("summary", "--names", hosts(tmp_path, f"{router} ar-lobby\n"), capture)
    assert f"{router} (ar-lobby)" in out.split("access routers:", 1)[1].splitlines()[0]


def test_cache_update_list_names_the_peer(tmp_path: Path):
    ha, _ = truth_roles("scenario-handoff")
    out = run("cache", str(SAMPLES / "scenario-handoff.pcap"), "--at", "#100",
              "--names", hosts(tmp_path, f"{ha} ha1\n"))
    bul = out.split("Binding update list of", 1)[1]
    assert f"ha1 ({ha})" in bul

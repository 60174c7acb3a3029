"""``--mn HOA|NAME``: repeatable on every analysis command, names from
``--names``, and a value that names no node is a usage error (exit 2) that
lists the closest known nodes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from mipv6scope.cli.main import cli

SAMPLES = Path(__file__).resolve().parents[2] / "sample_captures"
FLEET = str(SAMPLES / "scenario-fleet.pcap")
MN1, MN2, MN3 = "2001:db8:a000:0:1::1", "2001:db8:a000:0:1::2", "2001:db8:a000:0:1::3"


def invoke(*args: str):
    """The command's result (exit code, stdout, stderr)."""
    return CliRunner().invoke(cli, list(args))


def summary_nodes(*args: str) -> list[str]:
    """The home addresses ``summary --format json`` lists."""
    result = invoke("summary", "--format", "json", *args, FLEET)
    assert result.exit_code == 0, result.output
    return [r["home_address"] for r in json.loads(result.stdout)]


def hosts(tmp_path: Path) -> str:
    path = tmp_path / "hosts"
    path.write_text(f"{MN1} car-1\n{MN2} car-2\n{MN3} truck-3\n")
    return str(path)


def test_the_fleet_has_three_nodes():
    assert summary_nodes() == [MN1, MN2, MN3]


def test_one_home_address_keeps_one_node():
    assert summary_nodes("--mn", MN2) == [MN2]


def test_two_mn_keep_both_nodes():
    assert summary_nodes("--mn", MN1, "--mn", MN3) == [MN1, MN3]


def test_names_from_the_names_file(tmp_path: Path):
    names = hosts(tmp_path)
    assert summary_nodes("--names", names, "--mn", "car-2") == [MN2]
    assert summary_nodes("--names", names, "--mn", "truck-3", "--mn", MN1) == [MN1, MN3]


@pytest.mark.parametrize("view", ["bindings", "handoffs", "tunnels", "findings"])
def test_every_view_takes_several(view: str):
    result = invoke(view, "--format", "json", "--mn", MN1, "--mn", MN2, FLEET)
    assert result.exit_code == 0, result.output


def test_tunnels_of_two_nodes():
    def tunnels(*mn: str) -> list[str]:
        args = [a for m in mn for a in ("--mn", m)]
        result = invoke("tunnels", "--format", "json", *args, FLEET)
        assert result.exit_code == 0, result.output
        return sorted({r["home_address"] for r in json.loads(result.stdout)})
    assert tunnels(MN1, MN3) == sorted({*tunnels(MN1), *tunnels(MN3)})
    assert set(tunnels(MN1, MN3)) <= {MN1, MN3}


def test_unknown_name_exits_2_with_the_closest(tmp_path: Path):
    result = invoke("summary", "--names", hosts(tmp_path), "--mn", "car-3", FLEET)
    assert result.exit_code == 2
    [line] = [x for x in result.output.splitlines() if "--mn car-3" in x]
    assert "no mobile node has this home address or name" in line
    closest = line.split("(closest: ", 1)[1].rstrip(")").split(", ")
    assert closest[:2] in (["car-2", "car-1"], ["car-1", "car-2"])
    assert len(closest) == 3


def test_unknown_address_exits_2_and_lists_home_addresses():
    result = invoke("bindings", "--mn", "2001:db8:a000:0:1::9", FLEET)
    assert result.exit_code == 2
    assert "--mn 2001:db8:a000:0:1::9: no mobile node" in result.output
    assert MN1 in result.output


def test_one_bad_value_among_good_ones_is_an_error():
    result = invoke("summary", "--mn", MN1, "--mn", "nope", FLEET)
    assert result.exit_code == 2
    assert "--mn nope:" in result.output


def test_cache_takes_names_and_several(tmp_path: Path):
    def entries(*args: str) -> list[dict]:
        result = invoke("cache", "--at", "#1000", "--format", "json", *args, FLEET)
        assert result.exit_code == 0, result.output
        return [r for r in json.loads(result.stdout) if "_meta" not in r]
    everything = entries()
    assert {e["home_address"] for e in everything} == {MN1, MN2, MN3}
    both = entries("--names", hosts(tmp_path), "--mn", "car-1", "--mn", MN2)
    assert both == [e for e in everything if e["home_address"] in (MN1, MN2)]
    result = invoke("cache", "--at", "#1000", "--names", hosts(tmp_path), "--mn", "car-9", FLEET)
    assert result.exit_code == 2
    assert "closest: car-1" in result.output or "closest: car-2" in result.output

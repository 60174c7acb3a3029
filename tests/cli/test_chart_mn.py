"""`chart --mn` naming no node: exit 2 listing the closest nodes (as every
other command), not the first five of the report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from mipv6scope.cli.main import cli


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fleet") / "fleet12.pcap"
    result = CliRunner().invoke(cli, ["synth", "fleet", "--mobile-nodes", "12", "--duration", "10",
                                      "--data-rate", "1", "-o", str(path)])
    assert result.exit_code == 0, result.output
    return path


def test_unknown_mn_lists_the_closest_nodes(fleet: Path, tmp_path: Path):
    nodes = json.loads(CliRunner().invoke(cli, ["summary", "--format", "json", str(fleet)]).stdout)
    order = [n["home_address"] for n in nodes]
    assert len(order) == 12
    last = order[-1]  # far from the first five in the report's order
    typo = last + last[-1]  # one character too many
    assert typo not in order
    result = CliRunner().invoke(cli, ["chart", str(fleet), "--mn", typo, "-o", str(tmp_path / "c.html")])
    assert result.exit_code == 2
    assert f"--mn {typo}: no mobile node" in result.stderr
    closest = result.stderr.split("closest: ")[1].split(")")[0].split(", ")
    assert closest[0] == last
    assert closest != order[:len(closest)]
    assert not (tmp_path / "c.html").exists()

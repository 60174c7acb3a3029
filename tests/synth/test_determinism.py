"""Same command and seed: byte-identical capture and truth; another seed: other bytes."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from mipv6scope.cli.main import cli


def synth(tmp: Path, name: str, *args: str) -> tuple[bytes, bytes]:
    """Run `mipv6scope synth handoff` and return (capture bytes, truth bytes)."""
    out = tmp / name
    result = CliRunner().invoke(cli, ["synth", "handoff", "-o", str(out), *args])
    assert result.exit_code == 0, result.output
    return out.read_bytes(), Path(f"{out}.truth.json").read_bytes()


@pytest.mark.parametrize("extra", [[], ["--vantage", "ha"], ["--format", "pcapng", "--vlan", "9"],
                                   ["--esp", "null", "--linktype", "sll2"]])
def test_same_seed_same_bytes(tmp_path, extra):
    first = synth(tmp_path, "a.pcap", "--seed", "5", *extra)
    second = synth(tmp_path, "b.pcap", "--seed", "5", *extra)
    assert first == second


def test_other_seed_other_bytes(tmp_path):
    one = synth(tmp_path, "a.pcap", "--seed", "5")
    two = synth(tmp_path, "b.pcap", "--seed", "6")
    assert one[0] != two[0] and one[1] != two[1]


def test_vantages_share_one_story(tmp_path):
    """Different vantages of one seed agree on the schedule (sequence numbers, care-of
    addresses), only frame numbers and times differ."""
    import json
    _, a = synth(tmp_path, "a.pcap", "--seed", "5")
    _, m = synth(tmp_path, "m.pcap", "--seed", "5", "--vantage", "mn")
    ta, tm = json.loads(a), json.loads(m)
    key = [(b["seq"], b["care_of"], b["ended_by"]) for b in ta["mobile_nodes"][0]["bindings"]]
    assert key == [(b["seq"], b["care_of"], b["ended_by"]) for b in tm["mobile_nodes"][0]["bindings"]]
    assert ta["frames"] > tm["frames"]

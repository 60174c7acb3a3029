"""`-Y` on the views: a filter that requires ``mn == NODE`` decodes only the
frames holding one of the node's addresses, with the same result as decoding
every frame."""

from __future__ import annotations

from pathlib import Path

import pytest

from mipv6scope.analysis.engine import analyze
from mipv6scope.cli import analysis_commands as ac
from mipv6scope.cli import node_prefilter
from mipv6scope.cli.node_prefilter import required_nodes
from mipv6scope.filter import FilterContext, compile_filter
from mipv6scope.filter.parse import parse

SAMPLES = Path(__file__).resolve().parents[2] / "sample_captures"


@pytest.mark.parametrize("text,nodes", [
    ("mn == car-1", {"car-1"}),
    ("mn == 2001:db8::1 && mip6.mhtype == 5", {"2001:db8::1"}),
    ("mip6 && (mn == a || mn == b)", {"a", "b"}),
    ("mn in {a b}", {"a", "b"}),
    ("(mn == a && udp) || (mn == b && tcp)", {"a", "b"}),
])
def test_required_nodes(text: str, nodes: set[str]):
    assert required_nodes(parse(text)) == frozenset(nodes)


@pytest.mark.parametrize("text", [
    "mip6.mhtype == 5", "!(mn == a)", "mn != a", "mn == a || ipv6", "mn", "mn contains \"a\"",
])
def test_no_requirement(text: str):
    assert required_nodes(parse(text)) is None


def _pass(path: str, text: str, prefilter: bool, monkeypatch: pytest.MonkeyPatch):
    report = analyze([path])
    context = FilterContext.from_report(report)
    compiled = compile_filter(text)
    with monkeypatch.context() as patch:
        if not prefilter:
            patch.setattr(node_prefilter, "candidate_addresses", lambda _text, _context: None)
        else:  # the prefilter must be in use for these expressions
            assert node_prefilter.candidate_addresses(text, context)
        return ac.matching_frames([path], compiled, context, report.capture.first_ts)


@pytest.mark.parametrize("name", ["scenario-fleet.pcap", "scenario-handoff-vlan.pcapng"])
def test_prefilter_gives_what_decoding_every_frame_gives(name: str, monkeypatch: pytest.MonkeyPatch):
    path = str(SAMPLES / name)
    report = analyze([path])
    nodes = [str(n.home_address) for n in report.mobile_nodes]
    for text in (f"mn == {nodes[-1]}", f"mn == {nodes[0]} && mip6.mhtype == 6",
                 f"tunnel && (mn == {nodes[0]} || mn == {nodes[-1]})"):
        fast = _pass(path, text, True, monkeypatch)
        slow = _pass(path, text, False, monkeypatch)
        assert fast == slow and fast[0], text

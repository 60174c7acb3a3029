"""TunnelAnalyzer: hand-built events for each rule, then the handoff and
route-optimization sample captures against their truth files."""

from __future__ import annotations

import json
from ipaddress import IPv6Address
from pathlib import Path

import pytest

from mipv6scope import events as ev
from mipv6scope.analysis import tunnels as tn
from mipv6scope.analysis.base import Analyzer, dispatch_table
from mipv6scope.analysis.tunnels import TunnelAnalyzer
from mipv6scope.report.builder import ReportBuilder

SAMPLES = Path(__file__).resolve().parents[2] / "sample_captures"
HA, HOA, CN = IPv6Address("2001:db8:1::1"), IPv6Address("2001:db8:1::100"), IPv6Address("2001:db8:9::9")
COA2, COA3 = IPv6Address("2001:db8:2::100"), IPv6Address("2001:db8:3::100")


class FakeBindings:
    """home_binding_at from a list of (start, end, hoa, coa) intervals."""

    def __init__(self, intervals: list[tuple[float, float, IPv6Address, IPv6Address]]) -> None:
        self.intervals = intervals

    def home_binding_at(self, hoa: IPv6Address, ts: float) -> IPv6Address | None:
        for start, end, h, coa in self.intervals:
            if h == hoa and start <= ts < end:
                return coa
        return None


def data(ts: float, frame: int, outer: tuple[IPv6Address, IPv6Address] | None,
         src: IPv6Address, dst: IPv6Address, length: int = 260, sport: int = 5004) -> ev.DataPacket:
    """A data packet, tunnelled when ``outer`` is given."""
    osrc, odst = outer if outer else (src, dst)
    return ev.DataPacket(ts, frame, 0, osrc, odst, src, dst, outer is not None, None, None, 17,
                         sport, 5004, length, length - 40 if outer else length)


def hoti(ts: float, frame: int, tunnelled: bool = True) -> ev.TestInit:
    """A HoTI HoA -> CN, through the reverse tunnel or on the HA-CN leg."""
    outer = (COA2, HA) if tunnelled else (HOA, CN)
    return ev.TestInit(ts, frame, 0, HOA, CN, HOA, CN, *outer, tunnelled, False, None, None,
                       True, "00" * 8)


def feed(analyzer: Analyzer, events: list[ev.Event]) -> None:
    """Dispatch events to one analyzer as the engine would."""
    table = dispatch_table([analyzer])
    for e in events:
        for handler in table.get(type(e), ()):
            handler(e)


def test_directions_bytes_and_flows() -> None:
    b = FakeBindings([(0.0, 100.0, HOA, COA2)])
    t = TunnelAnalyzer(b)
    feed(t, [data(1.0, 1, (HA, COA2), CN, HOA), data(2.0, 2, (COA2, HA), HOA, CN, 200),
             data(3.0, 3, (HA, COA2), CN, HOA), data(3.5, 4, None, CN, HOA)])
    [tunnel] = t.results()
    assert (tunnel.home_agent, tunnel.care_of, tunnel.home_address) == (HA, COA2, HOA)
    assert (tunnel.to_mn.packets, tunnel.to_mn.bytes) == (2, 520)
    assert (tunnel.from_mn.packets, tunnel.from_mn.bytes) == (1, 200)
    assert (tunnel.start_ts, tunnel.end_ts) == (1.0, 3.0)
    assert tunnel.outside_binding.packets == 0
    flows = {(f.src, f.dst): f for f in tunnel.inner_flows}
    assert flows[(CN, HOA)].packets == 2 and flows[(CN, HOA)].first_ts == 1.0
    assert flows[(CN, HOA)].last_ts == 3.0 and flows[(HOA, CN)].bytes == 200


def test_outside_binding_counts_to_mn_only_with_frames() -> None:
    b = FakeBindings([(0.0, 10.0, HOA, COA2), (10.0, 100.0, HOA, COA3)])
    t = TunnelAnalyzer(b)
    feed(t, [data(5.0, 1, (HA, COA2), CN, HOA), data(11.0, 7, (HA, COA2), CN, HOA),
             data(12.0, 9, (COA2, HA), HOA, CN), data(12.5, 10, (HA, COA3), CN, HOA)])
    by_coa = {x.care_of: x for x in t.results()}
    assert by_coa[COA2].outside_binding.packets == 1
    assert by_coa[COA2].outside_binding.frames == (7,)
    assert by_coa[COA2].from_mn.packets == 1
    assert by_coa[COA3].outside_binding.packets == 0


def test_no_binding_at_all_is_outside_binding_and_unknown_node_is_not_judged() -> None:
    t = TunnelAnalyzer(FakeBindings([]))
    feed(t, [data(1.0, 3, (HA, COA2), CN, HOA)])
    assert t.results()[0].outside_binding.frames == (3,)

    class Knows(FakeBindings):
        def care_of_addresses(self, hoa: IPv6Address) -> tuple[IPv6Address, ...]:
            return ()

    t = TunnelAnalyzer(Knows([]))
    feed(t, [data(1.0, 3, (HA, COA2), CN, HOA)])
    assert t.results()[0].outside_binding.packets == 0


def test_without_bindings_home_prefix_rule_attributes_direction() -> None:
    t = TunnelAnalyzer(None)
    feed(t, [data(1.0, 1, (HA, COA2), CN, HOA), data(1.1, 2, (COA2, HA), HOA, CN)])
    [tunnel] = t.results()
    assert tunnel.to_mn.packets == 1 and tunnel.from_mn.packets == 1
    assert tunnel.outside_binding.packets == 0


def test_unattributable_tunnel_is_ignored() -> None:
    t = TunnelAnalyzer(None)
    a, b = IPv6Address("2001:db8:50::1"), IPv6Address("2001:db8:60::1")
    feed(t, [data(1.0, 1, (a, b), IPv6Address("2001:db8:70::1"), IPv6Address("2001:db8:80::1"))])
    assert t.results() == []


def test_tunnelled_signalling_counts_with_its_length() -> None:
    """A HoTI in the reverse tunnel counts (RFC 6275 5.2.5) by its frame's
    TunnelledPacket, at the outer packet's length; the message event alone
    (the HoTI on the HA-CN leg) counts nothing."""
    t = TunnelAnalyzer(FakeBindings([(0.0, 100.0, HOA, COA2)]))
    # 40 outer + 40 inner + 16 (HoTI) bytes
    feed(t, [hoti(1.0, 1), ev.TunnelledPacket(1.0, 1, 0, COA2, HA, HOA, CN, 135, 96, 56),
             hoti(1.01, 2, tunnelled=False)])
    [tunnel] = t.results()
    assert (tunnel.from_mn.packets, tunnel.from_mn.bytes) == (1, 96)
    assert [(f.proto, f.packets) for f in tunnel.inner_flows] == [(135, 1)]


def test_flows_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tn, "MAX_TRACKED_FLOWS", 5)
    monkeypatch.setattr(tn, "TOP_FLOWS", 3)
    t = TunnelAnalyzer(None)
    feed(t, [data(1.0 + i, i, (HA, COA2), CN, HOA, sport=1000 + i) for i in range(8)]
         + [data(20.0, 20, (HA, COA2), CN, HOA, sport=1000)])
    [tunnel] = t.results()
    assert len(tunnel.inner_flows) == 4
    assert tunnel.inner_flows[0].sport == 1000 and tunnel.inner_flows[0].packets == 2
    other = tunnel.inner_flows[-1]
    assert other.proto == tn.OTHER_FLOW_PROTO and other.packets == 5
    assert sum(f.packets for f in tunnel.inner_flows) == 9


def test_contribute() -> None:
    t = TunnelAnalyzer(None)
    feed(t, [data(1.0, 1, (HA, COA2), CN, HOA)])
    builder = ReportBuilder()
    t.contribute(builder)
    assert len(builder.tunnels) == 1 and HA in builder.home_agents


# -- truth -------------------------------------------------------------------------------------

def run_capture(path: Path, analyzers: list[Analyzer]) -> None:
    """Decode a capture and feed its events to the analyzers."""
    from mipv6scope.analysis.events_from_frames import events_from_decoded
    from mipv6scope.decode.stream import DecodeStream

    table = dispatch_table(analyzers)
    last = None
    for frame in DecodeStream([path]):
        last = frame.ts
        for e in events_from_decoded(frame):
            for handler in table.get(type(e), ()):
                handler(e)
    for a in analyzers:
        a.finish(last)


def bindings_for_truth(truth: dict) -> FakeBindings:
    """Home binding intervals straight from the truth file (until bindings.py lands)."""
    intervals = []
    for mn in truth["mobile_nodes"]:
        for b in mn["bindings"]:
            if b["kind"] == "home" and b["start_ts"] is not None:
                end = b["end_ts"] if b["end_ts"] is not None else float("inf")
                intervals.append((b["start_ts"], end, IPv6Address(mn["home_address"]),
                                  IPv6Address(b["care_of"])))
    return FakeBindings(intervals)


TUNNEL_SAMPLES = sorted(p.name for p in SAMPLES.glob("scenario-*.truth.json")
                        if p.name.startswith(("scenario-handoff", "scenario-route", "scenario-recovery")))


def check_tunnels(truth: dict, t: TunnelAnalyzer) -> None:
    """Every truth tunnel's counts equal ours; no extra tunnels."""
    got = {(str(x.home_agent), str(x.care_of), str(x.home_address)): x for x in t.results()}
    for want in truth["tunnels"]:
        key = (want["home_agent"], want["care_of"], want["home_address"])
        tunnel = got.pop(key, None)
        if tunnel is None:  # the vantage saw none of it: truth has zeros
            assert want["to_mn"]["packets"] == want["from_mn"]["packets"] == 0, key
            assert want["outside_binding"]["packets"] == 0
            continue
        assert {"packets": tunnel.to_mn.packets, "bytes": tunnel.to_mn.bytes} == want["to_mn"], key
        assert {"packets": tunnel.from_mn.packets, "bytes": tunnel.from_mn.bytes} == want["from_mn"], key
        assert {"packets": tunnel.outside_binding.packets,
                "frames": list(tunnel.outside_binding.frames)} == want["outside_binding"], key
    assert not got, f"tunnels the truth does not have: {list(got)}"


@pytest.mark.parametrize("truth_name", TUNNEL_SAMPLES)
def test_tunnels_match_truth(truth_name: str) -> None:
    truth = json.loads((SAMPLES / truth_name).read_text())
    capture = SAMPLES / truth_name.removesuffix(".truth.json")
    # The truth's own home bindings stand in for the bindings analyzer, except
    # where the vantage saw no BA (cn): then nothing is known and nothing judged.
    bindings = bindings_for_truth(truth) if truth["vantage"] != "cn" else None
    t = TunnelAnalyzer(bindings)
    run_capture(capture, [t])
    check_tunnels(truth, t)


@pytest.mark.parametrize("truth_name", TUNNEL_SAMPLES)
def test_tunnels_with_real_bindings_analyzer(truth_name: str) -> None:
    bindings_mod = pytest.importorskip("mipv6scope.analysis.bindings")
    truth = json.loads((SAMPLES / truth_name).read_text())
    b = bindings_mod.BindingsAnalyzer()
    t = TunnelAnalyzer(b)
    run_capture(SAMPLES / truth_name.removesuffix(".truth.json"), [b, t])
    check_tunnels(truth, t)


def test_route_memo_follows_the_bindings_answer_after_expiry() -> None:
    """Packets of one flow share a route, where the leg is remembered. When the
    binding expires, the first packet after it (here one from the node) makes the
    bindings analyzer work its answer out again; a flow that remembered the old
    answer must see the new one: the next packet to the node is outside any binding."""
    from mipv6scope.analysis.base import data_packet_fields
    from mipv6scope.analysis.bindings import BindingsAnalyzer
    from mipv6scope.analysis.routes import Route
    from tests.analysis.builders import ba, bu, from_mn, to_mn

    bindings = BindingsAnalyzer()
    tunnels = TunnelAnalyzer(bindings)
    feed(bindings, [bu(1.0, 1, 1, lifetime=4), ba(1.1, 2, 1, lifetime=4)])  # bound until 5.1
    down, up = Route(), Route()

    def send(event: ev.DataPacket, route: Route) -> None:
        tunnels.tunnelled_data(data_packet_fields(event) + (route,))

    send(to_mn(2.0, 3, COA2), down)
    send(to_mn(3.0, 4, COA2), down)
    send(from_mn(6.0, 5, COA2), up)
    send(to_mn(7.0, 6, COA2), down)
    [tunnel] = [t for t in tunnels.results() if t.care_of == COA2]
    assert tunnel.to_mn.packets == 3 and tunnel.from_mn.packets == 1
    assert (tunnel.outside_binding.packets, tunnel.outside_binding.frames) == (1, (6,))

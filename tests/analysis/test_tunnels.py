"""TunnelAnalyzer: hand-built events for each rule, then the handoff and
route-optimization sample captures against their truth files."""

from __future__ import annotations

import json
from dataclasses import replace
from ipaddress import IPv6Address
from pathlib import Path

import pytest

from mipv6scope import events as ev
from mipv6scope.analysis import tunnels as tn
from mipv6scope.analysis.base import Analyzer, dispatch_table
from mipv6scope.analysis.tunnels import MAX_OUTSIDE_FRAMES, TunnelAnalyzer
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


def test_outside_binding_counts_both_directions_with_frames() -> None:
    """Review 2, item 9: the reverse-tunnelled packet from COA2 after its binding
    (frame 9) is outside too (RFC 6275 10.4.5); it was not counted until 2026-12-07."""
    b = FakeBindings([(0.0, 10.0, HOA, COA2), (10.0, 100.0, HOA, COA3)])
    t = TunnelAnalyzer(b)
    feed(t, [data(5.0, 1, (HA, COA2), CN, HOA), data(11.0, 7, (HA, COA2), CN, HOA),
             data(12.0, 9, (COA2, HA), HOA, CN), data(12.5, 10, (HA, COA3), CN, HOA)])
    by_coa = {x.care_of: x for x in t.results()}
    assert by_coa[COA2].outside_binding.packets == 2
    assert by_coa[COA2].outside_binding.frames == (7, 9)
    assert by_coa[COA2].from_mn.packets == 1
    assert by_coa[COA3].outside_binding.packets == 0


def test_outside_binding_keeps_the_first_frames_and_counts_them_all() -> None:
    """A tunnel that outlives its binding: every packet counts, the first
    MAX_OUTSIDE_FRAMES frame numbers are listed."""
    t = TunnelAnalyzer(FakeBindings([(0.0, 10.0, HOA, COA2)]))
    feed(t, [data(11.0 + i * 0.01, 100 + i, (HA, COA2), CN, HOA) for i in range(MAX_OUTSIDE_FRAMES + 5)])
    [tunnel] = t.results()
    assert tunnel.outside_binding.packets == MAX_OUTSIDE_FRAMES + 5
    assert tunnel.outside_binding.frames == tuple(range(100, 100 + MAX_OUTSIDE_FRAMES))
    assert {type(f) for f in tunnel.outside_binding.frames} == {int}


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
    answer must see the new one: the next packet to the node is outside any binding,
    as is (since review 2, item 9: RFC 6275 10.4.5) the one from the node."""
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
    assert (tunnel.outside_binding.packets, tunnel.outside_binding.frames) == (2, (5, 6))


# -- the per-route memo of the judgement ------------------------------------------------------

def _route_feeder(bindings_events: list[ev.Event] | None = None):
    """A bindings analyzer, a tunnel analyzer on it, and ``send(event, route)``
    handing a data packet to the tunnel analyzer's fast-path handler in that
    route, as the columnar engine does (the same address objects each time)."""
    from mipv6scope.analysis.base import data_packet_fields
    from mipv6scope.analysis.bindings import BindingsAnalyzer

    bindings = BindingsAnalyzer()
    tunnels = TunnelAnalyzer(bindings)
    feed(bindings, bindings_events or [])

    def send(event: ev.DataPacket, route: dict) -> None:
        tunnels.tunnelled_data(data_packet_fields(event) + (route,))

    return bindings, tunnels, send


def _outside(tunnels: TunnelAnalyzer, coa: IPv6Address) -> tuple[int, tuple[int, ...]]:
    [tunnel] = [x for x in tunnels.results() if x.care_of == coa]
    return tunnel.outside_binding.packets, tunnel.outside_binding.frames


def test_judgement_memo_sees_a_node_become_known_without_its_home_binding_changing() -> None:
    """A flow to a home address nobody registered is not judged. The node then
    registers with a correspondent only: a BU (node created, no care-of yet), a
    packet, then an accepted BA (a care-of address known, the home binding still
    none). Another flow to the same home address makes the bindings analyzer
    work its answer out again between them, with the same answer (none), so the
    first flow's remembered leg still holds: what the node's care-of addresses
    are is what must tell that its next packet is outside any binding."""
    from mipv6scope.analysis.routes import Route
    from tests.analysis.builders import CN as CN_B
    from tests.analysis.builders import ba, bu, to_mn

    bindings, tunnels, send = _route_feeder()
    down, other = Route(), Route()
    send(to_mn(1.0, 1, COA2), down)
    send(to_mn(1.5, 2, COA2), down)
    feed(bindings, [bu(2.0, 3, 1, care_of=COA3, peer=CN_B, flags="A")])
    send(to_mn(2.5, 4, COA2), down)  # the node exists, with no care-of address yet
    feed(bindings, [ba(3.0, 5, 1, care_of=COA3, peer=CN_B)])
    assert bindings.care_of_addresses(HOA) == [COA3] and bindings.home_binding_at(HOA, 3.5) is None
    elsewhere = data(3.2, 6, (HA, COA2), IPv6Address("2001:db8:9::10"), HOA)
    send(elsewhere, other)  # the memo entry of HOA is worked out again: still no home binding
    send(to_mn(3.5, 7, COA2), down)
    send(to_mn(4.0, 8, COA2), down)
    assert _outside(tunnels, COA2) == (3, (6, 7, 8))


def test_judgement_memo_follows_a_registration_and_an_expiry_between_packets_of_a_route() -> None:
    """A node bound to COA3 gets packets tunnelled to COA2 (outside); a BU and
    BA move its binding to COA2 between two packets of that flow (inside); the
    binding then expires between two more (outside again)."""
    from mipv6scope.analysis.routes import Route
    from tests.analysis.builders import ba, bu, to_mn

    bindings, tunnels, send = _route_feeder([bu(0.5, 1, 1, care_of=COA3), ba(0.6, 2, 1, care_of=COA3)])
    down = Route()
    send(to_mn(1.0, 3, COA2), down)
    send(to_mn(2.0, 4, COA2), down)
    feed(bindings, [bu(2.5, 5, 2, care_of=COA2, lifetime=4)])
    send(to_mn(2.6, 6, COA2), down)  # asked, not yet accepted: still outside
    feed(bindings, [ba(2.7, 7, 2, care_of=COA2, lifetime=4)])  # bound to COA2 until 6.7
    send(to_mn(3.0, 8, COA2), down)
    send(to_mn(6.0, 9, COA2), down)
    send(to_mn(7.0, 10, COA2), down)
    send(to_mn(8.0, 11, COA2), down)
    assert _outside(tunnels, COA2) == (5, (3, 4, 6, 10, 11))


def test_judgement_of_a_mobile_routers_prefix_asks_every_packet() -> None:
    """A packet to an address in a mobile router's registered prefix is judged
    by the router's home binding (RFC 3963): the leg's home address is not the
    packet's destination, so nothing about it is remembered from the leg."""
    from mipv6scope.analysis.routes import Route
    from tests.analysis.builders import ba, bu

    mnp = IPv6Address("2001:db8:77::5")
    router_bu = replace(bu(0.5, 1, 1, care_of=COA3, flags="AHR"), mobile_network_prefixes=("2001:db8:77::/64",))
    bindings, tunnels, send = _route_feeder([router_bu, ba(0.6, 2, 1, care_of=COA3, lifetime=5)])
    assert bindings.mobile_network_prefixes.router_of(mnp) == HOA
    to_coa3, to_coa2 = Route(), Route()
    for i, ts in enumerate((1.0, 2.0, 6.0)):  # bound to COA3 until 5.6: then no binding at all
        send(data(ts, 10 + i, (HA, COA3), CN, mnp), to_coa3)
        send(data(ts + 0.1, 20 + i, (HA, COA2), CN, mnp), to_coa2)
    by_coa = {x.care_of: x for x in tunnels.results()}
    assert by_coa[COA3].home_address == HOA and by_coa[COA3].to_mn.packets == 3
    assert (by_coa[COA3].outside_binding.packets, by_coa[COA3].outside_binding.frames) == (1, (12,))
    assert by_coa[COA2].outside_binding.frames == (20, 21, 22)


def test_tunnels_sharing_a_care_of_address_keep_apart_and_in_order() -> None:
    """Two home addresses behind one care-of address, and a second home agent
    for one of them: three tunnels, counted apart, reported first seen first."""
    hoa2, ha2 = IPv6Address("2001:db8:1::200"), IPv6Address("2001:db8:1::2")
    t = TunnelAnalyzer(None)
    feed(t, [data(1.0, 1, (HA, COA2), CN, HOA), data(1.1, 2, (HA, COA2), CN, hoa2, length=300),
             data(1.2, 3, (ha2, COA2), CN, hoa2, length=400), data(1.3, 4, (COA2, HA), hoa2, CN, length=500),
             data(1.4, 5, (HA, COA2), CN, HOA), data(1.5, 6, (COA2, ha2), hoa2, CN, length=600)])
    got = [(x.home_agent, x.care_of, x.home_address, x.to_mn.packets, x.to_mn.bytes,
            x.from_mn.packets, x.from_mn.bytes) for x in t.results()]
    assert got == [(HA, COA2, HOA, 2, 520, 0, 0), (HA, COA2, hoa2, 1, 300, 1, 500),
                   (ha2, COA2, hoa2, 1, 400, 1, 600)]
    [first] = [x for x in t.results() if x.home_address == HOA]
    assert first.from_mn_series is None and sum(first.to_mn_series.counts) == 2

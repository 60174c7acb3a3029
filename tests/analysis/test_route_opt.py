"""RouteOptAnalyzer: hand-built event sequences for each rule, then the
route-optimization sample capture against its truth file."""

from __future__ import annotations

import json
from ipaddress import IPv6Address

import pytest
from test_tunnels import CN, COA2, COA3, HA, HOA, SAMPLES, data, feed, run_capture

from mipv6scope import events as ev
from mipv6scope.analysis.route_opt import RouteOptAnalyzer, RRState
from mipv6scope.report.builder import ReportBuilder


def mh_common(ts: float, frame: int, src: IPv6Address, dst: IPv6Address, wire: tuple | None = None,
              outer: tuple | None = None, hao: IPv6Address | None = None,
              rh2: IPv6Address | None = None) -> tuple:
    """The MobilityMessage fields in order."""
    wsrc, wdst = wire or (src, dst)
    osrc, odst = outer or (wsrc, wdst)
    return (ts, frame, 0, src, dst, wsrc, wdst, osrc, odst, outer is not None, False, hao, rh2)


def hoti(ts: float, frame: int, cookie: str = "h1") -> ev.TestInit:
    return ev.TestInit(*mh_common(ts, frame, HOA, CN, outer=(COA2, HA)), True, cookie)


def coti(ts: float, frame: int, cookie: str = "c1", coa: IPv6Address = COA2) -> ev.TestInit:
    return ev.TestInit(*mh_common(ts, frame, coa, CN), False, cookie)


def hot(ts: float, frame: int, cookie: str = "h1", index: int = 7, tunnelled: bool = True) -> ev.Test:
    outer = (HA, COA2) if tunnelled else None
    return ev.Test(*mh_common(ts, frame, CN, HOA, outer=outer), True, cookie, index, "k")


def cot(ts: float, frame: int, cookie: str = "c1", index: int = 8, coa: IPv6Address = COA2) -> ev.Test:
    return ev.Test(*mh_common(ts, frame, CN, coa), False, cookie, index, "k")


def home_bu(ts: float, frame: int, coa: IPv6Address) -> ev.BindingUpdate:
    return ev.BindingUpdate(*mh_common(ts, frame, HOA, HA, wire=(coa, HA), hao=HOA), 1,
                            frozenset("AH"), 600, HOA, coa, None, None, ())


def cn_bu(ts: float, frame: int, coa: IPv6Address = COA2, nonces: tuple = (7, 8)) -> ev.BindingUpdate:
    return ev.BindingUpdate(*mh_common(ts, frame, HOA, CN, wire=(coa, CN), hao=HOA), 5,
                            frozenset("A"), 420, HOA, coa, *nonces, ())


def cn_ba(ts: float, frame: int, status: int = 0, lifetime: int = 420,
          coa: IPv6Address = COA2) -> ev.BindingAck:
    return ev.BindingAck(*mh_common(ts, frame, CN, HOA, wire=(CN, coa), rh2=HOA), 5, status, "x",
                         frozenset(), lifetime, None, HOA)


def be(ts: float, frame: int, status: int = 1) -> ev.BindingError:
    return ev.BindingError(*mh_common(ts, frame, CN, COA2), status, "x", HOA)


def direct(ts: float, frame: int, up: bool = True) -> ev.DataPacket:
    if up:
        return ev.DataPacket(ts, frame, 0, COA2, CN, HOA, CN, False, HOA, None, 17, 1, 1, 200, 200)
    return ev.DataPacket(ts, frame, 0, CN, COA2, CN, HOA, False, None, HOA, 17, 1, 1, 200, 200)


def setup() -> list[ev.Event]:
    """Tunnelled data, a full RR (plain HoT copy, CoT, tunnelled HoT last), BU, BA."""
    return [home_bu(0.5, 1, COA2), data(1.0, 2, (HA, COA2), CN, HOA), hoti(2.0, 3), coti(2.001, 4),
            hot(2.01, 5, tunnelled=False), cot(2.02, 6), hot(2.03, 7), cn_bu(2.04, 8), cn_ba(2.05, 9)]


def states(a: RouteOptAnalyzer) -> list[tuple[int, str, str | None]]:
    return [(t.frame, t.state, t.reason) for t in a.pairs[(HOA, CN)].transitions]


def test_full_sequence_and_last_reply_completes_rr() -> None:
    a = RouteOptAnalyzer()
    feed(a, setup())
    assert states(a) == [(2, "tunnelled", None), (3, "rr_started", None), (7, "rr_done", None),
                         (8, "bu_sent", None), (9, "ro_active", None)]
    [ro] = a.results()[HOA]
    assert ro.rr_latency_ms == pytest.approx(30.0)
    assert ro.packets_tunnelled == 1 and ro.active_intervals[0].ended_by == "capture_end"


def test_cot_last_completes_rr() -> None:
    a = RouteOptAnalyzer()
    feed(a, [home_bu(0.5, 1, COA2), hoti(2.0, 3), coti(2.001, 4), hot(2.01, 5), cot(2.02, 6)])
    assert states(a)[-1] == (6, "rr_done", None)


def test_cookie_mismatch_does_not_complete() -> None:
    a = RouteOptAnalyzer()
    feed(a, [home_bu(0.5, 1, COA2), hoti(2.0, 3), coti(2.001, 4), hot(2.01, 5, cookie="bad"),
             cot(2.02, 6)])
    assert states(a)[-1] == (3, "rr_started", None)
    assert a.pairs[(HOA, CN)].cookie_mismatches == [5]


def test_nonce_indices_checked() -> None:
    a = RouteOptAnalyzer()
    feed(a, setup()[:-2] + [cn_bu(2.04, 8, nonces=(7, 9))])
    assert a.pairs[(HOA, CN)].nonce_mismatches == [8]
    a = RouteOptAnalyzer()
    feed(a, setup())
    assert a.pairs[(HOA, CN)].nonce_mismatches == []


def test_binding_error_fallback_and_direct_counts() -> None:
    a = RouteOptAnalyzer()
    feed(a, setup() + [direct(3.0, 10), direct(3.01, 11, up=False), be(4.0, 12), be(4.1, 13, status=2)])
    assert states(a)[-1] == (12, "fallback", "binding_error")
    [ro] = a.results()[HOA]
    assert ro.packets_direct == 2
    assert [(i.start_ts, i.end_ts, i.ended_by) for i in ro.active_intervals] == [(2.05, 4.0, "binding_error")]


def test_movement_fallback_then_careof_only_rr() -> None:
    a = RouteOptAnalyzer()
    feed(a, setup() + [home_bu(5.0, 10, COA2), home_bu(6.0, 11, COA3),
                       coti(6.5, 12, "c2", COA3), cot(6.51, 13, "c2", 9, COA3),
                       cn_bu(6.52, 14, COA3, (7, 9)), cn_ba(6.53, 15, coa=COA3)])
    assert states(a)[5:] == [(11, "fallback", "movement"), (12, "rr_started", None),
                             (13, "rr_done", None), (14, "bu_sent", None), (15, "ro_active", None)]
    assert a.pairs[(HOA, CN)].nonce_mismatches == []


def test_expiry_fallback_on_next_event_and_at_finish() -> None:
    a = RouteOptAnalyzer()
    feed(a, setup()[:-1] + [cn_ba(2.05, 9, lifetime=10), direct(13.0, 10)])
    assert states(a)[-1] == (10, "fallback", "expiry")
    assert a.pairs[(HOA, CN)].transitions[-1].ts == pytest.approx(12.05)
    a = RouteOptAnalyzer()
    feed(a, setup()[:-1] + [cn_ba(2.05, 9, lifetime=10)])
    a.finish(100.0)
    assert states(a)[-1] == (9, "fallback", "expiry")
    a = RouteOptAnalyzer()
    feed(a, setup()[:-1] + [cn_ba(2.05, 9, lifetime=10), cn_ba(10.0, 10, lifetime=10)])
    a.finish(15.0)  # refreshed: still active
    assert states(a)[-1] == (9, "ro_active", None)


def test_rr_state_snapshot_applies_an_expiry_no_event_has_applied_yet() -> None:
    a = RouteOptAnalyzer()
    feed(a, setup()[:-1] + [cn_ba(2.05, 9, lifetime=10)])
    assert a.rr_state(HOA, CN, 5.0) == RRState("ro_active", 7, 8)
    assert a.rr_state(HOA, CN, 12.1).state == "fallback"  # lifetime ran out at 12.05
    assert states(a)[-1] == (9, "ro_active", None)        # the analyzer itself is untouched
    assert a.rr_state(HOA, HA, 5.0) is None


def test_rejected_ba_and_ro_data_without_ba() -> None:
    a = RouteOptAnalyzer()
    feed(a, setup()[:-1] + [cn_ba(2.05, 9, status=136)])
    assert states(a)[-1] == (9, "fallback", "rejected")
    a = RouteOptAnalyzer()
    feed(a, setup()[:-1] + [direct(2.06, 10)])
    assert states(a)[-1] == (10, "ro_active", None)


def test_tunnel_only_pairs_and_home_agent_peers_are_not_reported() -> None:
    a = RouteOptAnalyzer()
    esp_to_ha = ev.DataPacket(0.4, 1, 0, COA2, HA, HOA, HA, False, HOA, None, 50, None, None, 100, 100)
    feed(a, [esp_to_ha, home_bu(0.5, 2, COA2), data(1.0, 3, (HA, COA2), CN, HOA)])
    assert a.results() == {}
    builder = ReportBuilder()
    feed(a, [hoti(2.0, 4)])
    a.contribute(builder)
    assert [r.correspondent for r in builder.node(HOA).route_optimization] == [CN]


def test_a_pair_seen_only_tunnelled_keeps_its_history_when_signalling_names_it() -> None:
    """The "tunnelled" transition is the pair's first tunnelled packet, either
    direction, and every tunnelled packet counts, before and after the round
    that first names the pair (the module docstring); until then the cache
    view shows the pair tunnelled, and a pair never seen shows nothing."""
    a = RouteOptAnalyzer()
    up = data(1.5, 4, (COA2, HA), HOA, CN)
    feed(a, [home_bu(0.5, 1, COA2), data(1.0, 2, (HA, COA2), CN, HOA), data(1.2, 3, (HA, COA2), CN, HOA), up])
    assert a.rr_state(HOA, CN, 1.6) == RRState("tunnelled", None, None)
    assert a.rr_state(HOA, COA3, 1.6) is None
    feed(a, [hoti(2.0, 5), data(2.1, 6, (HA, COA2), CN, HOA)])
    [record] = a.results()[HOA]
    assert [(t.frame, t.state) for t in record.transitions] == [(2, "tunnelled"), (5, "rr_started")]
    assert record.transitions[0].ts == 1.0
    assert record.packets_tunnelled == 4 and record.packets_direct == 0
    assert a.rr_state(HOA, CN, 2.2) == RRState("rr_started", None, None)


def test_route_optimization_truth() -> None:
    """Transitions, intervals and packet counts equal the truth; the first
    ``tunnelled`` transition is the reverse-tunnelled frame 7 (CoA -> HA, inner
    HoA -> CN), the first tunnelled data packet of the pair."""
    name = "scenario-route-optimization.pcap"
    truth = json.loads((SAMPLES / (name + ".truth.json")).read_text())
    want = truth["mobile_nodes"][0]["route_optimization"][0]
    bindings_mod = pytest.importorskip("mipv6scope.analysis.bindings")
    b = bindings_mod.BindingsAnalyzer()
    a = RouteOptAnalyzer(b)
    run_capture(SAMPLES / name, [b, a])
    [ro] = a.results()[IPv6Address(truth["mobile_nodes"][0]["home_address"])]
    assert str(ro.correspondent) == want["correspondent"]
    got = [{"ts": t.ts, "frame": t.frame, "state": t.state, "reason": t.reason} for t in ro.transitions]
    assert got[0] == {"ts": 1700000000.331222, "frame": 7, "state": "tunnelled", "reason": None}
    assert got == want["transitions"]
    assert [{"start_ts": i.start_ts, "end_ts": i.end_ts, "ended_by": i.ended_by, "open": i.open}
            for i in ro.active_intervals] == want["active_intervals"]
    assert ro.packets_direct == want["packets_direct"]
    assert ro.packets_tunnelled == want["packets_tunnelled"]
    hoa = IPv6Address(truth["mobile_nodes"][0]["home_address"])
    assert a.pairs[(hoa, ro.correspondent)].nonce_mismatches == []
    assert a.pairs[(hoa, ro.correspondent)].cookie_mismatches == []


@pytest.mark.parametrize("name", ["scenario-handoff.pcap", "scenario-handoff-esp.pcap",
                                  "scenario-recovery.pcap"])
def test_no_route_optimization_where_truth_has_none(name: str) -> None:
    a = RouteOptAnalyzer()
    run_capture(SAMPLES / name, [a])
    assert a.results() == {}

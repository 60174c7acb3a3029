"""``--from``/``--to`` keep what overlaps the window, cut to it and marked
``clipped``, on a capture written with Scapy. The expected values are worked
out by hand from the packets below.

The capture (T = 1 700 000 000): home registration BU at T+0 and its BA at
T+0.5 (the binding then lasts past the capture's end); tunnelled data at T+1
and T+1.5; return routability at T+10; the correspondent's BU at T+10.1 and
its BA at T+10.12 (route optimisation from then to the end, still in force);
route-optimised data every second from T+11 to T+60, the last frame.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from scapy.layers.inet import UDP
from scapy.layers.inet6 import (
    HAO,
    MIP6MH_BA,
    MIP6MH_BU,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrRouting,
    MIP6MH_CoT,
    MIP6MH_CoTI,
    MIP6MH_HoT,
    MIP6MH_HoTI,
    MIP6OptNonceIndices,
)
from scapy.layers.l2 import Ether
from scapy.utils import wrpcap

from mipv6scope.cli.main import cli

logging.getLogger("scapy").setLevel(logging.ERROR)

HA, HOA, CN, COA = "2001:db8:1::1", "2001:db8:1::100", "2001:db8:9::9", "2001:db8:2::100"
T = 1_700_000_000.0


def _eth():
    return Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")


def _packets() -> list[tuple[float, Any]]:
    hao = IPv6ExtHdrDestOpt(options=[HAO(hoa=HOA)])
    timed: list[tuple[float, Any]] = [
        (0.0, _eth() / IPv6(src=COA, dst=HA) / hao / MIP6MH_BU(seq=10, flags="AH", mhtime=105)),
        (0.5, _eth() / IPv6(src=HA, dst=COA) / IPv6ExtHdrRouting(type=2, addresses=[HOA], segleft=1)
         / MIP6MH_BA(seq=10, status=0, mhtime=105)),
        (1.0, _eth() / IPv6(src=HA, dst=COA) / IPv6(src=CN, dst=HOA) / UDP(sport=5, dport=5) / bytes(100)),
        (1.5, _eth() / IPv6(src=COA, dst=HA) / IPv6(src=HOA, dst=CN) / UDP(sport=5, dport=5) / bytes(100)),
        (10.0, _eth() / IPv6(src=COA, dst=HA) / IPv6(src=HOA, dst=CN) / MIP6MH_HoTI(cookie=b"H" * 8)),
        (10.01, _eth() / IPv6(src=COA, dst=CN) / MIP6MH_CoTI(cookie=b"C" * 8)),
        (10.05, _eth() / IPv6(src=HA, dst=COA) / IPv6(src=CN, dst=HOA)
         / MIP6MH_HoT(index=1, cookie=b"H" * 8, token=b"k" * 8)),
        (10.06, _eth() / IPv6(src=CN, dst=COA) / MIP6MH_CoT(index=2, cookie=b"C" * 8, token=b"q" * 8)),
        (10.1, _eth() / IPv6(src=COA, dst=CN) / hao
         / MIP6MH_BU(seq=20, flags="A", mhtime=105, options=[MIP6OptNonceIndices(olen=4, hni=1, coni=2)])),
        (10.12, _eth() / IPv6(src=CN, dst=COA) / IPv6ExtHdrRouting(type=2, addresses=[HOA], segleft=1)
         / MIP6MH_BA(seq=20, status=0, mhtime=105)),
    ]
    for second in range(11, 61):
        if second % 2:
            pkt = (_eth() / IPv6(src=CN, dst=COA) / IPv6ExtHdrRouting(type=2, addresses=[HOA], segleft=1)
                   / UDP(sport=9, dport=9) / bytes(20))
        else:
            pkt = _eth() / IPv6(src=COA, dst=CN) / hao / UDP(sport=9, dport=9) / bytes(20)
        timed.append((float(second), pkt))
    return timed


@pytest.fixture(scope="module")
def capture(tmp_path_factory: pytest.TempPathFactory) -> str:
    timed = _packets()
    for offset, pkt in timed:
        pkt.time = T + offset
    path = tmp_path_factory.mktemp("window") / "window.pcap"
    wrpcap(str(path), [pkt for _, pkt in timed])
    return str(path)


def _json(*args: str) -> Any:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _window(a: float, b: float) -> tuple[str, ...]:
    return ("--from", str(T + a), "--to", str(T + b))


def test_without_a_window_nothing_is_clipped(capture: str):
    bindings = _json("bindings", "--format", "json", capture)
    assert [(b["kind"], b["start_ts"], b["end_ts"], b["clipped"]) for b in bindings] == [
        ("home", T + 0.5, None, False), ("correspondent", T + 10.12, None, False)]
    [ro] = _json("ro", "--format", "json", capture)
    assert [(i["start_ts"], i["end_ts"], i["open"], i["clipped"]) for i in ro["active_intervals"]] == [
        (T + 10.12, T + 60.0, True, False)]


def test_a_window_cuts_a_binding_and_an_ro_interval(capture: str):
    window = _window(5, 30)
    bindings = _json("bindings", "--format", "json", *window, capture)
    # the home binding started before the window, both last past it
    assert [(b["kind"], b["start_ts"], b["end_ts"], b["ended_by"], b["clipped"]) for b in bindings] == [
        ("home", T + 5, T + 30, "capture_end", True),
        ("correspondent", T + 10.12, T + 30, "capture_end", True)]
    [ro] = _json("ro", "--format", "json", *window, capture)
    [interval] = ro["active_intervals"]
    assert (interval["start_ts"], interval["end_ts"]) == (T + 10.12, T + 30)
    assert (interval["ended_by"], interval["open"], interval["clipped"]) == ("capture_end", True, True)
    assert abs(ro["active_s"] - 19.88) < 1e-6  # 30 - 10.12
    # the transitions inside the window: not the first tunnelled packet at T+1
    assert [t["state"] for t in ro["transitions"]] == ["rr_started", "rr_done", "bu_sent", "ro_active"]
    # the home registration (T+0 to T+0.5) is outside it, the correspondent's inside
    report = _json("report", "--format", "json", *window, capture)
    [node] = report["mobile_nodes"]
    assert [(r["peer"], r["first_bu_ts"]) for r in node["registrations"]] == [(CN, T + 10.1)]
    assert [b["clipped"] for b in node["bindings"]] == [True, True]
    assert node["route_optimization"][0]["active_intervals"][0]["clipped"] is True


def test_a_window_inside_an_interval_keeps_it(capture: str):
    """Nothing starts between T+40 and T+50, yet the bindings and the route
    optimisation were in force all along: they are kept, cut to the window."""
    window = _window(40, 50)
    bindings = _json("bindings", "--format", "json", *window, capture)
    assert [(b["start_ts"], b["end_ts"], b["clipped"]) for b in bindings] == [
        (T + 40, T + 50, True), (T + 40, T + 50, True)]
    [ro] = _json("ro", "--format", "json", *window, capture)
    assert ro["transitions"] == []
    assert [(i["start_ts"], i["end_ts"], i["clipped"]) for i in ro["active_intervals"]] == [
        (T + 40, T + 50, True)]


def test_a_window_before_the_binding_keeps_only_the_registration(capture: str):
    """Between T+0 and T+0.2 the home BU was sent and not yet accepted: no
    binding was in force, the registration attempt overlaps."""
    window = ("--from", str(T), "--to", str(T + 0.2))
    assert _json("bindings", "--format", "json", *window, capture) == []
    [node] = _json("report", "--format", "json", *window, capture)["mobile_nodes"]
    assert [(r["peer"], r["first_bu_ts"], r["ba_ts"]) for r in node["registrations"]] == [(HA, T, T + 0.5)]
    assert node["route_optimization"] == []


def test_a_handoff_reaching_out_of_the_window_is_kept_whole_and_marked():
    """The bundled handoff sample's second handoff runs from its movement at
    1700000080.087633 to its first data at 1700000080.172025, the third from
    1700000142.822995 to 1700000142.953257 (its truth file). A window from
    1700000080.1 meets the second (kept with its own times, clipped) and
    holds the third (not clipped); the first (1700000006.76 to ..10.41) is
    out."""
    sample = Path(__file__).resolve().parents[2] / "sample_captures" / "scenario-handoff.pcap"
    handoffs = _json("handoffs", "--format", "json", "--from", "1700000080.1", str(sample))
    assert [(h["to_care_of"], h["movement_ts"], h["registration_ms"] is not None) for h in handoffs] == [
        ("2001:db8:3::100", 1700000080.087633, True), ("2001:db8:1::100", 1700000142.822995, True)]
    report = _json("report", "--format", "json", "--from", "1700000080.1", str(sample))
    assert [h["clipped"] for h in report["mobile_nodes"][0]["handoffs"]] == [True, False]

"""The data plane as RFC 6275 and RFC 3963 define it, on captures written with
Scapy (an encoder that is not ours). Every expected number below is worked
out by hand from the packets the test writes and the RFC rule it names.

Sizes used by hand (IPv6 headers are 40 bytes, the outer one's Payload
Length counts everything after it): UDP header 8; Mobility Header messages
BRR 8 (6.1.2), HoTI 16 (6.1.3), HoT 24 (6.1.5).
"""

from __future__ import annotations

import logging
from pathlib import Path

from scapy.layers.inet import UDP
from scapy.layers.inet6 import (
    HAO,
    MIP6MH_BA,
    MIP6MH_BRR,
    MIP6MH_BU,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrRouting,
    MIP6MH_CoT,
    MIP6MH_CoTI,
    MIP6MH_HoT,
    MIP6MH_HoTI,
    MIP6OptMobNetPrefix,
    MIP6OptNonceIndices,
)
from scapy.layers.l2 import Ether
from timed_pcap import write_timed

from mipv6scope.analysis.engine import analyze
from mipv6scope.render import views_text as vt
from mipv6scope.render.summary_text import render_summary, summary_records
from mipv6scope.report.model import Report

logging.getLogger("scapy").setLevel(logging.ERROR)

HA, HOA, CN = "2001:db8:1::1", "2001:db8:1::100", "2001:db8:9::9"
HOA2 = "2001:db8:1::200"
COA = "2001:db8:2::100"
T = 1_700_000_000.0
MAC = {"src": "02:00:00:00:00:01", "dst": "02:00:00:00:00:02"}


def eth():
    return Ether(**MAC)


def home_bu(seq: int, hoa: str = HOA, flags: str = "AH", options: list | None = None):
    """BU from the care-of address with a Home Address option (RFC 6275 11.7.1);
    lifetime 105 units (420 s)."""
    return (eth() / IPv6(src=COA, dst=HA) / IPv6ExtHdrDestOpt(options=[HAO(hoa=hoa)])
            / MIP6MH_BU(seq=seq, flags=flags, mhtime=105, options=options or []))


def home_ba(seq: int, hoa: str = HOA, flags: int = 0):
    """BA to the care-of address with a type 2 routing header (RFC 6275 6.4)."""
    return (eth() / IPv6(src=HA, dst=COA) / IPv6ExtHdrRouting(type=2, addresses=[hoa], segleft=1)
            / MIP6MH_BA(seq=seq, status=0, flags=flags, mhtime=105))


def down(src: str, dst: str, n: int):
    """Tunnelled by the home agent to the care-of address (RFC 6275 10.4.2)."""
    return eth() / IPv6(src=HA, dst=COA) / IPv6(src=src, dst=dst) / UDP(sport=5004, dport=5004) / bytes(n)


def up(src: str, dst: str, n: int):
    """Reverse-tunnelled from the care-of address (RFC 6275 11.3.1)."""
    return eth() / IPv6(src=COA, dst=HA) / IPv6(src=src, dst=dst) / UDP(sport=5004, dport=5004) / bytes(n)


def hoti(hoa: str = HOA, cookie: bytes = b"H" * 8):
    return eth() / IPv6(src=COA, dst=HA) / IPv6(src=hoa, dst=CN) / MIP6MH_HoTI(cookie=cookie)


def hot(hoa: str = HOA, cookie: bytes = b"H" * 8):
    return (eth() / IPv6(src=HA, dst=COA) / IPv6(src=CN, dst=hoa)
            / MIP6MH_HoT(index=1, cookie=cookie, token=b"k" * 8))


def coti(cookie: bytes = b"C" * 8):
    return eth() / IPv6(src=COA, dst=CN) / MIP6MH_CoTI(cookie=cookie)


def cot(cookie: bytes = b"C" * 8):
    return eth() / IPv6(src=CN, dst=COA) / MIP6MH_CoT(index=2, cookie=cookie, token=b"q" * 8)


def cn_bu(seq: int, hoa: str = HOA):
    """Correspondent registration (RFC 6275 11.7.2): HAO, Nonce Indices 1/2,
    lifetime 105 units (420 s: no expiry within these captures)."""
    return (eth() / IPv6(src=COA, dst=CN) / IPv6ExtHdrDestOpt(options=[HAO(hoa=hoa)])
            / MIP6MH_BU(seq=seq, flags="A", mhtime=105,
                        options=[MIP6OptNonceIndices(olen=4, hni=1, coni=2)]))


def cn_ba(seq: int, hoa: str = HOA):
    return (eth() / IPv6(src=CN, dst=COA) / IPv6ExtHdrRouting(type=2, addresses=[hoa], segleft=1)
            / MIP6MH_BA(seq=seq, status=0, mhtime=105))


def direct_from(hoa: str = HOA, n: int = 20):
    """Route-optimised data from the node: care-of source, HAO (RFC 6275 9.3.1)."""
    return (eth() / IPv6(src=COA, dst=CN) / IPv6ExtHdrDestOpt(options=[HAO(hoa=hoa)])
            / UDP(sport=9, dport=9) / bytes(n))


def direct_to(hoa: str = HOA, n: int = 20):
    """Route-optimised data to the node: care-of destination, RH2 (RFC 6275 9.3.2)."""
    return (eth() / IPv6(src=CN, dst=COA) / IPv6ExtHdrRouting(type=2, addresses=[hoa], segleft=1)
            / UDP(sport=9, dport=9) / bytes(n))


def write(tmp_path: Path, timed: list[tuple[float, object]], name: str = "capture.pcap") -> Path:
    """The packets at T + their offsets, in the order given."""
    return write_timed(tmp_path / name, timed, T)


# -- 1. everything the tunnel carries ---------------------------------------------------------

def brr_capture(tmp_path: Path) -> Path:
    """A home registration, data both ways, then the home agent's Binding
    Refresh Request to the home address: a Mobility Header message is never
    sent with a type 2 routing header nor by the binding cache (RFC 6275 6.1),
    so the home agent tunnels it like any packet for the home address
    (10.4.2). Then return routability, whose HoTI and HoT travel the tunnel
    (5.2.5), and the BU the BRR asked for (11.7.4), sent directly."""
    brr = eth() / IPv6(src=HA, dst=COA) / IPv6(src=HA, dst=HOA) / MIP6MH_BRR()
    return write(tmp_path, [
        (0.0, home_bu(10)), (0.5, home_ba(10)),
        (1.0, down(CN, HOA, 100)), (1.5, up(HOA, CN, 100)),
        (2.0, brr),
        (2.5, hoti()), (2.6, coti()), (2.7, hot()), (2.8, cot()),
        (3.0, home_bu(11)), (3.5, home_ba(11)),
    ])


def test_the_tunnel_counts_the_brr_and_the_return_routability_it_carries(tmp_path: Path):
    report = analyze([brr_capture(tmp_path)])
    [tunnel] = report.tunnels
    assert (str(tunnel.home_agent), str(tunnel.care_of), str(tunnel.home_address)) == (HA, COA, HOA)
    # to the node: data 40+40+8+100 = 188, BRR 40+40+8 = 88, HoT 40+40+24 = 104
    assert (tunnel.to_mn.packets, tunnel.to_mn.bytes) == (3, 188 + 88 + 104)
    # from the node: data 188, HoTI 40+40+16 = 96
    assert (tunnel.from_mn.packets, tunnel.from_mn.bytes) == (2, 188 + 96)
    # the BRR is its own inner flow: Mobility Header (135) from the home agent to the home address
    brr = [f for f in tunnel.inner_flows if (str(f.src), str(f.dst), f.proto) == (HA, HOA, 135)]
    assert [(f.packets, f.bytes) for f in brr] == [(1, 88)]
    # everything was tunnelled inside the binding (accepted at +0.5 s, refreshed at +3.5 s)
    assert tunnel.outside_binding.packets == 0
    assert (tunnel.start_ts, tunnel.end_ts) == (T + 1.0, T + 2.7)


# -- 2. route optimisation still in force at the capture's end -----------------------------------

def open_ro_packets() -> list[tuple[float, object]]:
    """Registration at +0 s, tunnelled data, return routability at +10 s, the
    correspondent's BA at +10.12 s, then route-optimised data each second up
    to the capture's last frame at +60 s. The correspondent's binding (420 s)
    is still in force at the end."""
    timed: list[tuple[float, object]] = [
        (0.0, home_bu(10)), (0.5, home_ba(10)),
        (1.0, down(CN, HOA, 100)), (1.5, up(HOA, CN, 100)),
        (10.0, hoti()), (10.01, coti()), (10.05, hot()), (10.06, cot()),
        (10.1, cn_bu(20)), (10.12, cn_ba(20)),
    ]
    for second in range(11, 61):
        timed.append((float(second), direct_to() if second % 2 else direct_from()))
    return timed


def test_route_optimisation_open_at_the_end_counts_up_to_the_end(tmp_path: Path):
    report = analyze([write(tmp_path, open_ro_packets())])
    assert (report.capture.first_ts, report.capture.last_ts) == (T, T + 60.0)
    [node] = report.mobile_nodes
    [ro] = node.route_optimization
    assert str(ro.correspondent) == CN and str(ro.home_address) == HOA
    [interval] = ro.active_intervals
    # active from the correspondent's accepting BA to the capture's end, still open
    assert (interval.start_ts, interval.end_ts) == (T + 10.12, T + 60.0)
    assert (interval.ended_by, interval.open, interval.clipped) == ("capture_end", True, False)
    assert ro.packets_direct == 50
    [row] = vt.ro_rows(report)
    assert abs(row["active_s"] - 49.88) < 1e-6          # 60 - 10.12
    [record] = summary_records(report)
    assert record["ro_correspondents"] == 1
    assert record["ro_active_share"] == round(49.88 / 60.0, 3)  # 0.831
    assert "RO with 1 CN active 83% of the time" in render_summary(report)
    assert "(open)" in vt.render_ro(report)


# -- 3. NEMO: a mobile router with two prefixes and one correspondent ------------------------------

MNN1, MNN2 = "2001:db8:a1::5", "2001:db8:a2::5"


def nemo_capture(tmp_path: Path) -> Path:
    """A mobile router registers (R flag, two Mobile Network Prefix options,
    RFC 3963 6.1, 6.2); the correspondent talks to a node in each prefix
    through the router's tunnel (RFC 3963 5.5, 6.3); the router also
    route-optimises its own home address with the correspondent."""
    prefixes = [MIP6OptMobNetPrefix(plen=64, prefix="2001:db8:a1::"),
                MIP6OptMobNetPrefix(plen=64, prefix="2001:db8:a2::")]
    return write(tmp_path, [
        (0.0, home_bu(10, flags="AHR", options=prefixes)), (0.5, home_ba(10, flags=0x40)),
        (1.0, down(CN, MNN1, 50)), (1.1, up(MNN1, CN, 50)),
        (1.2, down(CN, MNN2, 50)), (1.3, up(MNN2, CN, 50)),
        (2.0, hoti()), (2.01, coti()), (2.05, hot()), (2.06, cot()),
        (2.1, cn_bu(20)), (2.12, cn_ba(20)),
        (3.0, direct_from()), (3.1, direct_to()),
        (4.0, down(CN, MNN1, 50)), (4.1, up(MNN2, CN, 50)),
        (5.0, direct_from()),
    ])


def test_a_mobile_router_with_two_prefixes_and_one_correspondent(tmp_path: Path):
    report = analyze([nemo_capture(tmp_path)])
    [node] = report.mobile_nodes
    assert node.mobile_router and str(node.home_address) == HOA
    assert node.mobile_network_prefixes == ("2001:db8:a1::/64", "2001:db8:a2::/64")
    # one pair: the router's home address and the correspondent; the mobile
    # network nodes are no correspondents and have no route optimisation
    assert [(str(r.home_address), str(r.correspondent)) for r in node.route_optimization] == [(HOA, CN)]
    [ro] = node.route_optimization
    assert [t.state for t in ro.transitions] == ["rr_started", "rr_done", "bu_sent", "ro_active"]
    assert ro.packets_tunnelled == 0 and ro.packets_direct == 3
    assert [(i.start_ts, i.end_ts, i.open) for i in ro.active_intervals] == [(T + 2.12, T + 5.0, True)]
    [record] = summary_records(report)
    assert record["ro_correspondents"] == 1
    assert "RO with 1 CN" in render_summary(report)
    # the prefixes' traffic is the router's tunnel traffic: to it 3 x (40+40+8+50) + HoT 104
    [tunnel] = report.tunnels
    assert str(tunnel.home_address) == HOA
    assert (tunnel.to_mn.packets, tunnel.to_mn.bytes) == (4, 3 * 138 + 104)
    assert (tunnel.from_mn.packets, tunnel.from_mn.bytes) == (4, 3 * 138 + 96)


def _every_row_names_its_home_address(report: Report, want: set[str]) -> None:
    for view in ("bindings", "registrations", "ro", "handoffs", "tunnels"):
        rows_of, columns, render = vt.VIEWS[view]
        assert "home_address" in columns, view
        rows = list(rows_of(report))
        assert {r["home_address"] for r in rows} <= want, view
        if view in ("bindings", "ro"):
            assert rows, view
    assert "home address" in vt.render_bindings(report, registrations=True)
    assert "home address" in vt.render_ro(report)


def test_nemo_rows_name_their_home_address(tmp_path: Path):
    report = analyze([nemo_capture(tmp_path)])
    _every_row_names_its_home_address(report, {HOA})


def two_home_addresses_capture(tmp_path: Path) -> Path:
    """One node, two home addresses registered from one care-of address (RFC
    6275 11.5.1). Only HOA does return routability and registers with the
    correspondent; HOA2's traffic is tunnelled, including between HOA's HoTI
    and its CoTI. Then the node sends data with HOA2 in a HAO although the
    correspondent holds no binding for it (RFC 6275 9.3.1 would answer with a
    Binding Error): HOA2 has no BU of its own, so it is not route-optimised."""
    return write(tmp_path, [
        (0.0, home_bu(10)), (0.5, home_ba(10)),
        (1.0, home_bu(30, hoa=HOA2)), (1.5, home_ba(30, hoa=HOA2)),
        (2.0, down(CN, HOA, 60)), (2.1, down(CN, HOA2, 60)),
        (3.0, hoti()), (3.005, up(HOA2, CN, 60)), (3.01, coti()),
        (3.05, hot()), (3.06, cot()), (3.1, cn_bu(20)), (3.12, cn_ba(20)),
        (4.0, direct_from()), (4.5, direct_from(hoa=HOA2)), (5.0, direct_to()),
    ])


def test_a_second_home_address_is_not_route_optimised_without_its_own_bu(tmp_path: Path):
    report = analyze([two_home_addresses_capture(tmp_path)])
    [node] = report.mobile_nodes
    assert {str(a) for a in node.home_addresses} == {HOA, HOA2}
    pairs = {(str(r.home_address), str(r.correspondent)): r for r in node.route_optimization}
    assert set(pairs) == {(HOA, CN)}
    ro = pairs[(HOA, CN)]
    # the CoTI went with HOA's HoTI, not with HOA2's packet tunnelled between them
    assert [t.state for t in ro.transitions] == ["tunnelled", "rr_started", "rr_done", "bu_sent",
                                                 "ro_active"]
    assert ro.rr_latency_ms == 60.0  # HoTI at +3.0 s, its last reply (CoT) at +3.06 s
    assert [(i.start_ts, i.end_ts) for i in ro.active_intervals] == [(T + 3.12, T + 5.0)]
    [record] = summary_records(report)
    assert record["ro_correspondents"] == 1
    _every_row_names_its_home_address(report, {HOA, HOA2})
    assert {r["home_address"] for r in vt.binding_rows(report)} == {HOA, HOA2}

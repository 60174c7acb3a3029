"""Tunnel totals with a tunnelled Binding Refresh Request, route optimisation
still in force at capture end, and a NEMO mobile router with one correspondent,
expected by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from . import captures as cap
from .oracle import column, only_node, report, summary, ts, tshark

A = pytest.approx


# --- a BRR through the tunnel -----------------------------------------------------------------


@pytest.fixture(scope="module")
def brr(tmp_path_factory) -> Path:
    return cap.brr_tunnelled(tmp_path_factory.mktemp("brr") / "brr.pcap")


def test_brr_capture_is_what_was_built(brr: Path):
    rows = tshark(brr, "mip6.mhtype", "ipv6.src", "ipv6.dst", "ipv6.plen", "ipv6.nxt")
    assert column(rows, "mip6.mhtype") == ["5", "6", "", "", "", "0", "5", "6", ""]
    frame6 = rows[5]
    assert frame6["ipv6.src"] == f"{cap.HA},{cap.HA}"
    assert frame6["ipv6.dst"] == f"{cap.COA1},{cap.HOA}"
    assert frame6["ipv6.nxt"] == "41,135"
    assert frame6["ipv6.plen"] == "48,8"          # outer: 40 + 48 = 88 bytes of IPv6
    for n in (2, 3, 4, 8):
        assert rows[n]["ipv6.plen"] == "148,108"  # 40 + 148 = 188 bytes


def test_tunnel_counts_what_the_home_agent_sends_itself(brr: Path):
    rep = report(brr)
    # RFC 6275 10.4.1 / RFC 2473: everything encapsulated HA -> care-of travels the
    # tunnel; issue 10 section 5: "Everything the tunnel carries counts in its packet
    # and byte totals, including ... a Binding Refresh Request to the home address."
    [tunnel] = rep["tunnels"]
    assert (tunnel["home_agent"], tunnel["care_of"], tunnel["home_address"]) == (
        cap.HA, cap.COA1, cap.HOA)
    assert tunnel["to_mn"] == {"packets": 4, "bytes": 3 * 188 + 88}
    assert tunnel["from_mn"] == {"packets": 1, "bytes": 188}


# --- route optimisation open at capture end ---------------------------------------------------


@pytest.fixture(scope="module")
def ro_open(tmp_path_factory) -> Path:
    return cap.ro_open_at_end(tmp_path_factory.mktemp("ro") / "ro_open.pcap")


def test_ro_capture_is_what_was_built(ro_open: Path):
    rows = tshark(ro_open, "frame.time_epoch", "mip6.mhtype", "ipv6.src", "ipv6.dst",
                  "mip6.bu.a_flag", "mip6.bu.h_flag", "mip6.ni.hni", "mip6.ni.cni",
                  "ipv6.opt.mipv6.home_address", "ipv6.routing.mipv6.home_address", "udp.dstport")
    assert len(rows) == 9 + len(cap.RO_DIRECT_OFFSETS)
    assert column(rows, "mip6.mhtype")[:9] == ["5", "6", "", "1", "2", "3", "4", "5", "6"]
    cn_bu = rows[7]
    assert (cn_bu["ipv6.src"], cn_bu["ipv6.dst"]) == (cap.COA1, cap.CN)
    assert cn_bu["mip6.bu.h_flag"] in ("0", "False") and cn_bu["mip6.bu.a_flag"] in ("1", "True")
    assert (cn_bu["mip6.ni.hni"], cn_bu["mip6.ni.cni"]) == ("1", "2")
    assert rows[8]["ipv6.src"] == cap.CN and rows[8]["ipv6.routing.mipv6.home_address"] == cap.HOA
    direct = rows[9:]
    assert all(r["udp.dstport"] == "5004" for r in direct)
    assert [r["ipv6.opt.mipv6.home_address"] for r in direct[0::2]] == [cap.HOA] * 11
    assert [r["ipv6.routing.mipv6.home_address"] for r in direct[1::2]] == [cap.HOA] * 10
    assert float(rows[-1]["frame.time_epoch"]) - cap.T0 == A(11.2, abs=1e-6)
    assert float(rows[8]["frame.time_epoch"]) - cap.T0 == A(1.12, abs=1e-6)


def test_ro_in_force_at_capture_end_is_open_and_counted(ro_open: Path):
    rep = report(ro_open)
    node = only_node(rep)
    [ro] = node["route_optimization"]
    assert ro["correspondent"] == cap.CN
    # RFC 6275 11.7.2 / 9.5.1: the CN's BA (status 0) puts its binding in force, so RO is
    # active from 1.12 s; nothing ends it (the 420 s lifetime outlives the capture).
    [interval] = ro["active_intervals"]
    assert interval["start_ts"] == A(ts(1.12), abs=1e-6)
    # names.md: open = still active at capture end; end_ts = capture end, ended_by capture_end.
    assert interval["open"] is True
    assert interval["ended_by"] == "capture_end"
    assert interval["end_ts"] == A(ts(11.2), abs=1e-6)
    assert interval["clipped"] is False


def test_ro_active_share_counts_up_to_capture_end(ro_open: Path):
    [row] = summary(ro_open)
    assert row["ro_correspondents"] == 1
    # Issue 10 section 6: RO in force at the end counts up to the capture's end:
    # (11.2 - 1.12) / (11.2 - 0.0) = 0.9 of the capture.
    assert row["ro_active_share"] == A(0.9, abs=0.002)


# --- NEMO mobile router with one correspondent -------------------------------------------------


@pytest.fixture(scope="module")
def nemo(tmp_path_factory) -> Path:
    return cap.nemo_router(tmp_path_factory.mktemp("nemo") / "nemo.pcap")


def test_nemo_capture_is_what_was_built(nemo: Path):
    rows = tshark(nemo, "mip6.mhtype", "mip6.nemo.bu.r_flag", "mip6.nemo.ba.r_flag",
                  "mip6.nemo.mnp.mnp", "mip6.nemo.mnp.pfl", "mip6.bu.h_flag", "ipv6.dst")
    assert len(rows) == 17
    assert rows[0]["mip6.nemo.bu.r_flag"] in ("1", "True")
    assert rows[0]["mip6.nemo.mnp.mnp"] == f"{cap.MNP1},{cap.MNP2}"
    assert rows[0]["mip6.nemo.mnp.pfl"] == "64,64"
    assert rows[1]["mip6.nemo.ba.r_flag"] in ("1", "True")
    assert column(rows, "mip6.mhtype")[6:12] == ["1", "2", "3", "4", "5", "6"]
    # every address that is not HA/HOA/COA1/MNNs is the one correspondent
    addresses = {a for r in rows for a in r["ipv6.dst"].split(",") if a}
    assert addresses == {cap.HA, cap.HOA, cap.COA1, cap.CN, cap.MNN1, cap.MNN2}


def test_nemo_router_has_one_correspondent(nemo: Path):
    rep = report(nemo)
    node = only_node(rep)
    # RFC 3963 6.1 / 6.2: R flag and Mobile Network Prefix options make it a mobile router
    # serving 2001:db8:100::/64 and 2001:db8:101::/64.
    assert node["mobile_router"] is True
    assert sorted(node["mobile_network_prefixes"]) == [f"{cap.MNP1}/64", f"{cap.MNP2}/64"]
    # The hosts of the mobile networks are not home addresses (RFC 3963 3: they sit in
    # the Mobile Network Prefix, the router alone registers), so no second home address
    # can be route-optimised: only the router's own home address did RR + BU with CN.
    assert node["home_addresses"] == [cap.HOA]
    assert [ro["correspondent"] for ro in node["route_optimization"]] == [cap.CN]
    assert rep["correspondents"] == [cap.CN]
    [row] = summary(nemo)
    assert row["ro_correspondents"] == 1


def test_from_keeps_what_overlaps_the_window_clipped(ro_open: Path):
    # Issue 10 section 6: --from/--to keep the bindings and RO intervals that overlap the
    # window, clipped to it and marked clipped. Window: 5.0 s to the end.
    rep = report(ro_open, "--from", f"{ts(5.0):.6f}")
    node = only_node(rep)
    home = [b for b in node["bindings"] if b["kind"] == "home"]
    assert len(home) == 1 and home[0]["clipped"] is True
    assert home[0]["start_ts"] == A(ts(5.0), abs=1e-6)
    [ro] = node["route_optimization"]
    [interval] = ro["active_intervals"]
    assert interval["clipped"] is True and interval["open"] is True
    assert interval["start_ts"] == A(ts(5.0), abs=1e-6)

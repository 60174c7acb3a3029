"""Packets the home agent tunnelled to the old care-of address during a handoff,
seen by a tap on the home agent's foreign side and the access links (no
untunnelled ingress from the correspondent), counted by hand.

RFC 6275 10.4.1: the home agent tunnels each packet for the home address "to
the mobile node's primary care-of address" as its Binding Cache says; the cache
changes only when the home agent accepts the BU (10.3.1), which its BA reports.
Issue 10 section 2 (the definitions counted here):
- lost: tunnelled to the old care-of address after the node was seen sending
  from its new address (its BU or anything else) and before the accepting BA;
- possibly lost: tunnelled between the node's last packet from the old address
  and its first from the new one.

Frames (captures.lost_to_old_care_of): the node's last packet from COA1 is
frame 7 (1.25 s), its first from COA2 is the BU, frame 10 (1.50 s), the
accepting BA is frame 14 (1.90 s). Tunnelled to COA1: frames 3, 5, 6 (before
1.25: delivered), 8, 9 (1.30, 1.40: possibly lost), 11, 12, 13 (1.60 .. 1.80:
lost).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from . import captures as cap
from .oracle import column, only_node, report, ts, tshark

A = pytest.approx
LOST, POSSIBLY_LOST = 3, 2


@pytest.fixture(scope="module")
def capture(tmp_path_factory) -> Path:
    return cap.lost_to_old_care_of(tmp_path_factory.mktemp("lost") / "lost.pcap")


def test_capture_is_what_was_built(capture: Path):
    rows = tshark(capture, "frame.time_epoch", "ipv6.src", "ipv6.dst", "ipv6.nxt",
                  "mip6.mhtype", "mip6.bu.seqnr", "mip6.ba.status")
    assert len(rows) == 17
    offsets = [round(float(r["frame.time_epoch"]) - cap.T0, 6) for r in rows]
    assert offsets == [0.0, 0.02, 1.0, 1.05, 1.1, 1.2, 1.25, 1.3, 1.4, 1.5, 1.6, 1.7, 1.8,
                       1.9, 2.0, 2.05, 2.1]
    # outer headers of every tunnelled frame: HA -> COA1 (down) or COA1 -> HA (up)
    outer = [(r["ipv6.src"].split(",")[0], r["ipv6.dst"].split(",")[0]) for r in rows]
    down_to_coa1 = [n for n, o in enumerate(outer, 1) if o == (cap.HA, cap.COA1)
                    and rows[n - 1]["ipv6.nxt"].startswith("41")]
    assert down_to_coa1 == [3, 5, 6, 8, 9, 11, 12, 13]
    up_from_coa1 = [n for n, o in enumerate(outer, 1) if o == (cap.COA1, cap.HA)
                    and rows[n - 1]["ipv6.nxt"].startswith("41")]
    assert up_from_coa1 == [4, 7]
    assert column(rows, "mip6.mhtype")[9] == "5" and rows[9]["ipv6.src"] == cap.COA2
    assert column(rows, "mip6.mhtype")[13] == "6" and rows[13]["mip6.ba.status"] == "0"
    # the tap never sees the correspondent's packets before the home agent tunnels them
    assert not [r for r in rows if r["ipv6.src"].split(",")[0] == cap.CN]


def _check(rep: dict) -> None:
    node = only_node(rep)
    [handoff] = node["handoffs"]
    assert (handoff["from_care_of"], handoff["to_care_of"]) == (cap.COA1, cap.COA2)
    assert handoff["bu_ts"] == A(ts(1.5), abs=1e-6)
    assert handoff["ba_ts"] == A(ts(1.9), abs=1e-6)
    assert handoff["registration_ms"] == A(400.0, abs=0.01)
    assert handoff["outcome"] == "completed"
    assert handoff["lost_to_old_care_of"] == LOST
    assert handoff["possibly_lost_to_old_care_of"] == POSSIBLY_LOST


def test_lost_and_possibly_lost_with_vantage_inferred(capture: Path):
    rep = report(capture)
    _check(rep)
    # names.md: the report says what vantage it inferred, and why.
    assert isinstance(rep["capture"]["vantage"], str) and rep["capture"]["vantage"]
    assert isinstance(rep["capture"]["vantage_reason"], str) and rep["capture"]["vantage_reason"]


def test_lost_and_possibly_lost_with_vantage_tap(capture: Path):
    # Issue 10 section 2: "count it as lost at every vantage".
    rep = report(capture, "--vantage", "tap")
    _check(rep)
    assert rep["capture"]["vantage"] == "tap"


def test_tunnel_totals(capture: Path):
    rep = report(capture)
    tunnels = {t["care_of"]: t for t in rep["tunnels"]}
    # each tunnelled packet: 40 outer + 40 inner + 8 UDP + 100 payload = 188 bytes
    assert tunnels[cap.COA1]["to_mn"] == {"packets": 8, "bytes": 8 * 188}
    assert tunnels[cap.COA1]["from_mn"] == {"packets": 2, "bytes": 2 * 188}
    assert tunnels[cap.COA2]["to_mn"] == {"packets": 2, "bytes": 2 * 188}
    assert tunnels[cap.COA2]["from_mn"] == {"packets": 1, "bytes": 188}

"""Frame-level findings (checksum over the care-of address, unknown MH type,
snaplen cuts, an unreadable Home Address option), expected by hand."""

from __future__ import annotations

from ipaddress import IPv6Address
from pathlib import Path

import pytest

from . import captures as cap
from .oracle import (
    column,
    findings,
    findings_on,
    mh_checksum_ok,
    only_node,
    pcap_frames,
    report,
    tshark,
)

A = pytest.approx
MH_OFFSET = 14 + 40 + 24      # Ethernet, IPv6, Destination Options with the HAO


def _packed(address: str) -> bytes:
    return IPv6Address(address).packed


# --- MH checksum computed over the care-of address ---------------------------------------------


@pytest.fixture(scope="module")
def over_coa(tmp_path_factory) -> Path:
    return cap.bu_checksum_over_care_of(tmp_path_factory.mktemp("ck") / "over_coa.pcap")


def test_over_coa_capture_is_what_was_built(over_coa: Path):
    rows = tshark(over_coa, "mip6.mhtype", "mip6.bu.seqnr", "mip6.csum",
                  "ipv6.opt.mipv6.home_address")
    assert column(rows, "mip6.mhtype") == ["5", "5", "6"]
    assert rows[0]["ipv6.opt.mipv6.home_address"] == cap.HOA
    mh = pcap_frames(over_coa)[0][MH_OFFSET:]
    assert int(rows[0]["mip6.csum"], 16) == int.from_bytes(mh[4:6], "big")
    # verifies with the care-of address (the IPv6 source) in the pseudo-header, not with
    # the home address that RFC 6275 11.3.1 puts there when a HAO is present
    assert mh_checksum_ok(_packed(cap.COA1), _packed(cap.HA), mh)
    assert not mh_checksum_ok(_packed(cap.HOA), _packed(cap.HA), mh)


def test_checksum_over_care_of_is_its_own_finding(over_coa: Path):
    rep = report(over_coa)
    # RFC 6275 6.1.1: the pseudo-header uses the addresses as the upper layer sees them;
    # with a Home Address option that source is the home address (11.3.1, 6.3). names.md:
    # mh_checksum_over_care_of = verifies only with the care-of address there.
    hits = findings(rep, "mh_checksum_over_care_of")
    assert len(hits) == 1 and hits[0]["frames"] == [1]
    # One problem, one finding: not also a plain bad checksum on the same frame.
    assert "bad_mh_checksum" not in [f["code"] for f in findings_on(rep, 1)]


# --- unknown MH type answered with Binding Error status 2 --------------------------------------


@pytest.fixture(scope="module")
def unknown_type(tmp_path_factory) -> Path:
    return cap.mh_type_unknown(tmp_path_factory.mktemp("mh200") / "mh200.pcap")


def test_unknown_type_capture_is_what_was_built(unknown_type: Path):
    rows = tshark(unknown_type, "mip6.mhtype", "mip6.hlen", "mip6.be.status", "ipv6.src",
                  "ipv6.dst")
    assert column(rows, "mip6.mhtype") == [str(cap.UNKNOWN_MH_TYPE), "7"]
    assert rows[0]["mip6.hlen"] == "0"
    assert rows[1]["mip6.be.status"] == "2"
    assert (rows[1]["ipv6.src"], rows[1]["ipv6.dst"]) == (cap.CN, cap.COA1)


def test_unknown_mh_type_is_a_finding(unknown_type: Path):
    rep = report(unknown_type)
    # RFC 6275 9.2: an MH Type the receiver does not know gets a Binding Error with
    # status 2 (unrecognized MH Type value); names.md: mh_type_unknown on its frame.
    hits = findings(rep, "mh_type_unknown")
    assert len(hits) == 1 and 1 in hits[0]["frames"]
    assert "200" in hits[0]["message"]


# --- snaplen 96 ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def snap(tmp_path_factory) -> Path:
    return cap.snaplen_96(tmp_path_factory.mktemp("snap") / "snap96.pcap")


def test_snap_capture_is_what_was_built(snap: Path):
    rows = tshark(snap, "frame.len", "frame.cap_len", "mip6.mhtype", "ipv6.src", "ipv6.dst")
    assert len(rows) == 10
    assert [(r["frame.len"], r["frame.cap_len"]) for r in rows[:2]] == [("94", "94")] * 2
    assert [(r["frame.len"], r["frame.cap_len"]) for r in rows[2:]] == [("302", "96")] * 8
    assert column(rows, "mip6.mhtype")[:2] == ["5", "6"]
    # the cut keeps both IPv6 headers of the tunnelled frames: 6 down (HA -> COA1 to HOA),
    # 2 up (COA1 -> HA from HOA)
    pairs = [(r["ipv6.src"], r["ipv6.dst"]) for r in rows[2:]]
    assert pairs.count((f"{cap.HA},{cap.CN}", f"{cap.COA1},{cap.HOA}")) == 6
    assert pairs.count((f"{cap.COA1},{cap.HOA}", f"{cap.HA},{cap.CN}")) == 2


def test_snaplen_cut_is_a_finding_and_counts_stay_right(snap: Path):
    rep = report(snap)
    # names.md: truncated_by_snaplen becomes a finding where a count depends on the missing
    # bytes (here the inner UDP ports of every tunnelled frame, frames 3..10).
    hits = findings(rep, "truncated_by_snaplen")
    assert hits, [f["code"] for f in rep["findings"]]
    assert set().union(*(h["frames"] for h in hits)) <= set(range(3, 11))
    # What the kept bytes say is still counted: the registration (BU and BA whole) ...
    node = only_node(rep)
    [reg] = node["registrations"]
    assert (reg["bu_frames"], reg["ba_frame"], reg["status"]) == ([1], 2, 0)
    # ... and the tunnel's packets and bytes (from the outer IPv6 header's payload length
    # and the original length: 40 + 40 + 8 + 200 = 288 bytes of IPv6 each).
    [tunnel] = rep["tunnels"]
    assert tunnel["to_mn"] == {"packets": 6, "bytes": 6 * 288}
    assert tunnel["from_mn"] == {"packets": 2, "bytes": 2 * 288}


# --- a Home Address option that cannot be read ---------------------------------------------------


@pytest.fixture(scope="module")
def bad_hao(tmp_path_factory) -> Path:
    return cap.malformed_hao(tmp_path_factory.mktemp("hao") / "bad_hao.pcap")


def test_bad_hao_capture_is_what_was_built(bad_hao: Path):
    rows = tshark(bad_hao, "ipv6.src", "ipv6.opt.type", "ipv6.opt.length", "mip6.mhtype",
                  "mip6.bu.seqnr", "udp.dstport")
    assert column(rows, "mip6.mhtype") == ["5", "6", "", "", "5", ""]
    for frame in (rows[3], rows[4]):
        assert frame["ipv6.src"] == cap.STRANGER
        assert int(frame["ipv6.opt.type"].split(",")[-1], 0) == 201
        assert frame["ipv6.opt.length"].split(",")[-1] == "8"
    assert rows[3]["udp.dstport"] == "5004" and rows[4]["mip6.bu.seqnr"] == "7"
    # frame 5's MH verifies with its own source in the pseudo-header: its HAO is its one fault
    mh = pcap_frames(bad_hao)[4][14 + 40 + 16:]
    assert mh_checksum_ok(_packed(cap.STRANGER), _packed(cap.HA), mh)


def test_bad_hao_makes_no_phantom_node(bad_hao: Path):
    rep = report(bad_hao)
    # RFC 6275 6.3: the option's length is 16; an 8-byte one carries no home address.
    # Issue 10 section 6: a malformed frame "is a finding on its frame and nothing more".
    assert findings_on(rep, 4) and findings_on(rep, 5)
    node = only_node(rep)
    assert node["home_address"] == cap.HOA
    assert node["home_addresses"] == [cap.HOA]
    assert node["care_of_addresses"] == [cap.COA1]

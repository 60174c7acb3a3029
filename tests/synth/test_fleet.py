"""The fleet scenario: determinism, order, tshark agreement, decoder cleanliness, flat memory."""

from __future__ import annotations

import json
import shutil
import subprocess
import tracemalloc
from collections import Counter
from pathlib import Path

import pytest

from mipv6scope.decode.issues import ISSUE_KINDS
from mipv6scope.decode.stream import DecodeStream
from mipv6scope.synth.engine import CaptureOptions
from mipv6scope.synth.run import run_scenario
from mipv6scope.synth.scenarios import ScenarioParams, build_scenario


def _params(seed: int = 1, duration: float = 30.0, **kw: object) -> ScenarioParams:
    base = dict(seed=seed, mobile_nodes=20, home_agents=2, correspondents=3, duration=duration,
                handoff_rate=1 / 8, loss=0.0, ro_share=0.5, data_rate=10.0)
    base.update(kw)
    return ScenarioParams(**base)  # type: ignore[arg-type]


def _write(tmp_path: Path, name: str, params: ScenarioParams) -> tuple[bytes, dict]:
    out = tmp_path / name
    run_scenario("fleet", params, out)
    return out.read_bytes(), json.loads(Path(f"{out}.truth.json").read_text())


def test_same_seed_same_bytes_other_seed_differs(tmp_path: Path) -> None:
    a, ta = _write(tmp_path, "a.pcap", _params(1))
    b, tb = _write(tmp_path, "b.pcap", _params(1))
    c, _ = _write(tmp_path, "c.pcap", _params(2))
    assert a == b and ta == tb
    assert a != c


@pytest.mark.parametrize("vantage", ["all", "mn", "ha", "cn"])
def test_frames_in_timestamp_order(vantage: str) -> None:
    built = build_scenario("fleet", _params(loss=0.05))
    stamps = [seen.ts for seen, _p in built.sightings(vantage)]
    assert stamps and stamps == sorted(stamps)


def test_decoder_reports_no_errors(tmp_path: Path) -> None:
    out = tmp_path / "f.pcap"
    run_scenario("fleet", _params(loss=0.02, esp_share=0.3), out)
    issues = Counter(i.code for f in DecodeStream([out]) for i in f.issues)
    assert not [c for c in issues if ISSUE_KINDS[c].severity == "error"], issues


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
@pytest.mark.parametrize("vantage", ["all", "ha"])
def test_tshark_agrees_with_truth(tmp_path: Path, vantage: str) -> None:
    out = tmp_path / "f.pcap"
    run_scenario("fleet", _params(options=CaptureOptions(vantage=vantage)), out)
    truth = json.loads(Path(f"{out}.truth.json").read_text())
    expert = subprocess.run(["tshark", "-r", str(out), "-q", "-z", "expert,warn"],
                            capture_output=True, text=True, check=True).stdout
    assert "Malformed" not in expert and "Error" not in expert, expert
    fields = subprocess.run(["tshark", "-r", str(out), "-T", "fields", "-E", "occurrence=f",
                             "-e", "mip6.mhtype", "-e", "ipv6.src", "-e", "ipv6.dst", "-e", "ipv6.nxt"],
                            capture_output=True, text=True, check=True).stdout.splitlines()
    mh = Counter(line.split("\t")[0] for line in fields if line.split("\t")[0])
    pairs = Counter((p[1], p[2]) for p in (line.split("\t") for line in fields) if p[3] == "41")
    bindings = [b for n in truth["mobile_nodes"] for b in n["bindings"]]
    assert mh["5"] == sum(len(b["bu_frames"]) for b in bindings)
    assert mh["6"] == sum(1 for b in bindings if b["ba_frame"] is not None)
    for t in truth["tunnels"]:
        assert pairs[(t["home_agent"], t["care_of"])] == t["to_mn"]["packets"]
        assert pairs[(t["care_of"], t["home_agent"])] == t["from_mn"]["packets"]
    assert sum(pairs.values()) == sum(t["to_mn"]["packets"] + t["from_mn"]["packets"]
                                      for t in truth["tunnels"])
    handoffs = [h for n in truth["mobile_nodes"] for h in n["handoffs"]]
    assert handoffs and any(h["lost_to_old_care_of"] for h in handoffs)


def _peak(duration: float) -> int:
    built = build_scenario("fleet", _params(duration=duration, data_rate=50.0))
    tracemalloc.start()
    for _ in built.sightings("all"):
        pass
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def test_memory_flat_in_duration() -> None:
    short, long = _peak(20.0), _peak(40.0)
    assert long < short * 1.4, (short, long)


@pytest.mark.parametrize("vantage", ["mn", "ha"])
def test_lost_registrations_retransmit_with_new_numbers(tmp_path: Path, vantage: str) -> None:
    # RFC 6275 11.8: a retransmitted BU carries a greater sequence number; the BA answers the number
    # of one BU of the attempt. The truth groups the BUs the way the vantage sees them: the home
    # agent's link sees a BA the node never got, so there the node's next BU starts a new attempt.
    out = tmp_path / "f.pcap"
    run_scenario("fleet", _params(loss=0.2, duration=60.0, options=CaptureOptions(vantage=vantage)), out)
    truth = json.loads(Path(f"{out}.truth.json").read_text())
    frames = {f.number: f for f in DecodeStream([out]) if f.mh is not None}
    chains = 0
    for node in truth["mobile_nodes"]:
        homes = [b for b in node["bindings"] if b["kind"] == "home"] + node["unanswered_registrations"]
        for reg in homes:
            seqs = [frames[n].mh["seq"] for n in reg["bu_frames"]]
            assert all((b - a) % 65536 == 1 for a, b in zip(seqs, seqs[1:], strict=False)), seqs
            chains += len(seqs) > 1
            if reg.get("ba_frame") is not None:
                assert frames[reg["ba_frame"]].mh["seq"] == seqs[-1] == reg["seq"]
                assert all(frames[n].ts < frames[reg["ba_frame"]].ts for n in reg["bu_frames"])
    if vantage == "mn":
        assert chains  # some registration needed a retransmission
    else:
        assert chains == 0  # the home agent answers every BU it receives: one BU per attempt there


@pytest.mark.parametrize("vantage", ["all", "ha"])
def test_handoffs_are_chains_and_count_their_own_lost_packets(tmp_path: Path, vantage: str) -> None:
    # Four access routers for four nodes moving every ~6 s: nodes come back to care-of addresses
    # they left before. What the home agent tunnelled to an address after the node left it belongs
    # to that departure's handoff only (not to every handoff from the same address).
    out = tmp_path / "f.pcap"
    params = _params(mobile_nodes=4, home_agents=1, correspondents=1, duration=90.0, handoff_rate=1 / 6,
                     loss=0.1, ro_share=0.0, esp_share=0.0, data_rate=20.0,
                     options=CaptureOptions(vantage=vantage))
    run_scenario("fleet", params, out)
    truth = json.loads(Path(f"{out}.truth.json").read_text())
    frames = {f.number: f for f in DecodeStream([out])}
    outside = {t["care_of"]: t["outside_binding"]["frames"] for t in truth["tunnels"]}
    revisited_with_losses = 0
    for node in truth["mobile_nodes"]:
        handoffs = node["handoffs"]
        arrived = {h["to_care_of"]: [] for h in handoffs}
        for prev, h in zip([None, *handoffs], handoffs, strict=False):
            bus = [frames[n] for n in h["bu_frames"]]
            assert bus and all(f.mh["type"] == 5 and str(f.ip6[0].src) == h["to_care_of"] for f in bus)
            seqs = [f.mh["seq"] for f in bus]
            assert all((b - a) % 65536 == 1 for a, b in zip(seqs, seqs[1:], strict=False)), seqs
            assert h["bu_ts"] == bus[0].ts and h["bu_retransmissions"] == len(bus) - 1
            assert h["outcome"] in ("completed", "no_answer") and h["status"] is None
            if h["outcome"] == "completed":
                (ba,) = [f for f in frames.values() if f.ts == h["ba_ts"] and f.mh and f.mh["type"] == 6]
                assert ba.mh["seq"] == seqs[-1] and str(ba.ip6[0].dst) == h["to_care_of"]
                assert h["answered_ts"] == h["ba_ts"]
                assert h["registration_ms"] == round((h["ba_ts"] - h["bu_ts"]) * 1000, 3)
            else:
                assert h["ba_ts"] is None and h["registration_ms"] is None
            # lost: tunnelled to the address left, after the node had registered it and
            # no later than this handoff's BA
            since = prev["ba_ts"] if prev is not None else node["bindings"][0]["start_ts"]
            lost = [frames[n] for n in h["lost_frames"]]
            assert h["lost_to_old_care_of"] == len(lost)
            assert all(f.tunnel_depth and str(f.outer_dst) == h["from_care_of"] for f in lost)
            assert all(since < f.ts <= (h["ba_ts"] or float("inf")) for f in lost), h
            arrived.setdefault(h["from_care_of"], []).append(h["lost_frames"])
        for care_of, lists in arrived.items():
            flat = [n for frames_of in lists for n in frames_of]
            assert len(flat) == len(set(flat))  # no packet counted in two handoffs
            if care_of in outside:
                assert sorted(flat) == outside[care_of]
            revisited_with_losses += sum(1 for frames_of in lists if frames_of) > 1
    assert revisited_with_losses  # the case the per-address count got wrong is exercised

"""Binding caches and update lists at an instant (`analysis.cache`) and the
`mipv6scope cache` command, checked against the sample captures' truth files."""

from __future__ import annotations

import csv
import io
import json
from ipaddress import IPv6Address
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mipv6scope.analysis.cache import BINDING_CACHE, BINDING_UPDATE_LIST, cache_at, frame_ts
from mipv6scope.cli.main import cli
from mipv6scope.render.views_text import CACHE_COLUMNS

SAMPLES = Path(__file__).resolve().parents[2] / "sample_captures"
HANDOFF = str(SAMPLES / "scenario-handoff.pcap")
RO = str(SAMPLES / "scenario-route-optimization.pcap")
RECOVERY = str(SAMPLES / "scenario-recovery.pcap")
HOA = IPv6Address("2001:db8:1::100")
HA = IPv6Address("2001:db8:1::1")
CN = IPv6Address("2001:db8:9::9")


def bindings(path: str) -> list[dict[str, Any]]:
    doc = json.loads(Path(path + ".truth.json").read_text())
    return doc["mobile_nodes"][0]["bindings"]


def test_inside_the_first_binding_the_ha_holds_hoa_to_first_care_of():
    first = bindings(HANDOFF)[0]
    at = first["start_ts"] + 10.25
    snap = cache_at([HANDOFF], at_ts=at)
    (entry,) = snap.binding_cache(HA)
    assert (entry.home_address, entry.care_of) == (HOA, IPv6Address(first["care_of"]))
    assert entry.seq == first["seq"] and entry.kind == "home" and entry.state == "home_registration"
    assert entry.lifetime_granted_s == first["granted_lifetime_s"]
    assert entry.lifetime_remaining_s == pytest.approx(first["granted_lifetime_s"] - (at - first["start_ts"]))
    assert "H" in entry.flags and entry.since_frame == first["start_frame"]
    (bul,) = snap.update_list(HOA)
    assert (bul.peer, bul.state, bul.care_of, bul.seq) == (HA, "bound", entry.care_of, entry.seq)
    assert not snap.reached_end


def test_after_the_deregistration_everything_is_empty():
    last = bindings(HANDOFF)[-1]
    assert last["ended_by"] == "deregistration"
    snap = cache_at([HANDOFF], at_ts=last["end_ts"] + 0.01)
    assert snap.entries == ()


def test_refresh_keeps_the_care_of_and_takes_the_new_seq():
    second = bindings(HANDOFF)[1]
    (entry,) = cache_at([HANDOFF], at_ts=second["start_ts"] + 1).binding_cache(HA)
    assert entry.seq == second["seq"] and str(entry.care_of) == second["care_of"]
    assert entry.lifetime_remaining_s == pytest.approx(second["granted_lifetime_s"] - 1)


def test_at_frame_n_includes_frame_n():
    first = bindings(HANDOFF)[0]
    ba, bu = first["start_frame"], first["bu_frames"][0]
    at_ba = cache_at([HANDOFF], at_frame=ba)
    assert at_ba.at_ts == frame_ts(HANDOFF, ba) == pytest.approx(first["start_ts"])
    assert [e.seq for e in at_ba.binding_cache(HA)] == [first["seq"]]
    at_bu = cache_at([HANDOFF], at_frame=bu)
    assert at_bu.binding_cache(HA) == []
    (waiting,) = at_bu.update_list(HOA)
    assert waiting.state == "waiting_ack" and waiting.lifetime_granted_s is None
    assert waiting.seq == first["seq"] and waiting.resend_count == 0


def test_resend_count_grows_with_retransmissions():
    frames = bindings(RECOVERY)[0]["bu_frames"]  # 4, 6, 9, 13: three retransmissions
    for i, frame in enumerate(frames):
        (entry,) = cache_at([RECOVERY], at_frame=frame).update_list(HOA)
        assert entry.state == "waiting_ack" and entry.resend_count == i


def test_correspondent_cache_and_route_optimisation_state():
    cn_bindings = [b for b in bindings(RO) if b["kind"] == "correspondent"]
    b = cn_bindings[1]
    snap = cache_at([RO], at_ts=b["start_ts"] + 0.5)
    (entry,) = snap.binding_cache(CN)
    assert entry.kind == "correspondent" and entry.state == "cached" and entry.seq == b["seq"]
    assert "H" not in entry.flags
    assert entry.home_nonce_index is not None and entry.careof_nonce_index is not None
    to_cn = [e for e in snap.update_list(HOA) if e.peer == CN]
    assert to_cn[0].rr_state == "ro_active"
    assert to_cn[0].home_nonce_index == entry.home_nonce_index
    # After the Binding Error the CN has no entry.
    gone = cache_at([RO], at_ts=cn_bindings[0]["end_ts"] + 0.01)
    assert gone.binding_cache(CN) == []


def test_past_the_end_of_the_capture_lifetimes_keep_running():
    home = [b for b in bindings(RO) if b["kind"] == "home"][-1]  # open at capture end, 600 s
    snap = cache_at([RO], at_ts=home["start_ts"] + 100)
    assert snap.reached_end
    (entry,) = snap.binding_cache(HA)
    assert entry.lifetime_remaining_s == pytest.approx(500)
    assert cache_at([RO], at_ts=home["start_ts"] + 600).binding_cache(HA) == []


def test_a_frame_beyond_the_capture_is_a_value_error():
    with pytest.raises(ValueError):
        cache_at([HANDOFF], at_frame=10**6)


# -- the command ---------------------------------------------------------------------------------

def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_cache_command_formats():
    at = str(bindings(HANDOFF)[0]["start_ts"] + 5)
    text = run("cache", HANDOFF, "--at", at)
    assert text.exit_code == 0, text.output
    assert f"Binding cache of {HA}" in text.stdout and f"Binding update list of {HOA}" in text.stdout
    as_json = json.loads(run("cache", HANDOFF, "--at", at, "--format", "json").stdout)
    assert {r["table"] for r in as_json} == {BINDING_CACHE, BINDING_UPDATE_LIST}
    lines = run("cache", HANDOFF, "--at", at, "--format", "jsonl").stdout.splitlines()
    assert [json.loads(line) for line in lines] == as_json
    table = list(csv.reader(io.StringIO(run("cache", HANDOFF, "--at", at, "--format", "csv").stdout)))
    assert tuple(table[0]) == CACHE_COLUMNS and len(table) - 1 == len(as_json)


def test_cache_command_frame_node_and_iso_time():
    first_ba = f"#{bindings(HANDOFF)[0]['ba_frame']}"  # the truth's frame of the first accepting BA
    only_ha = json.loads(run("cache", HANDOFF, "--at", first_ba, "--node", str(HA), "--format", "json").stdout)
    assert [(r["table"], r["owner"], r["care_of"]) for r in only_ha] == \
        [(BINDING_CACHE, str(HA), "2001:db8:2::100")]
    iso = run("cache", HANDOFF, "--at", "2023-11-14T22:13:40Z", "--format", "json")
    assert iso.exit_code == 0 and len(json.loads(iso.stdout)) == 2
    assert json.loads(run("cache", HANDOFF, "--at", first_ba, "--mn", "2001:db8:ffff::1",
                          "--format", "json").stdout) == []


@pytest.mark.parametrize("args", [("--at", "yesterday"), ("--at", "#0"), ("--at", "#x"), (),
                                  ("--at", "#99999999"), ("--at", "#5", "--from", "1"),
                                  ("--at", "#5", "--node", "nope"), ("--at", "#5", "--format", "xml")])
def test_cache_command_usage_errors_exit_2(args: tuple[str, ...]):
    assert run("cache", HANDOFF, *args).exit_code == 2


def test_cache_command_missing_capture_exits_3():
    result = run("cache", "/nonexistent/capture.pcap", "--at", "#1")
    assert result.exit_code == 3 and "No such file" in result.stderr

"""The sequence chart (`charts.sequence`) on the scenario samples, checked
through ``fig.to_dict()`` against what the CLI prints independently
(`packets --mobility-only`, `handoffs --format json`), and on hand-built
reports for idle compression, thinning and bad input."""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
from collections import Counter
from functools import cache
from ipaddress import IPv6Address, IPv6Network
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mipv6scope.analysis.engine import analyze
from mipv6scope.charts.lanes import ROLE_ORDER
from mipv6scope.charts.options import ChartInputError, ChartOptions
from mipv6scope.charts.sequence import sequence_figure
from mipv6scope.charts.sequence_data import MAX_ARROWS, sequence_layout
from mipv6scope.charts.window import chart_window
from mipv6scope.cli.main import cli
from mipv6scope.report.model import (
    Binding,
    CaptureInfo,
    Handoff,
    MobileNode,
    Registration,
    Report,
    SignallingMessage,
)

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "sample_captures"
SCENARIOS = ("scenario-handoff", "scenario-route-optimization", "scenario-recovery",
             "scenario-handoff-vantage-ha")
HOA = IPv6Address("2001:db8:1::100")
HA = IPv6Address("2001:db8:1::1")
MH_KINDS = {0: "BRR", 1: "HoTI", 2: "CoTI", 3: "HoT", 4: "CoT", 5: "BU", 6: "BA", 7: "BE"}
ICMP_KINDS = {144: "DHAAD request", 145: "DHAAD reply", 146: "MPS", 147: "MPA"}
RED = "#d62728"


def capture(name: str) -> str:
    return str(SAMPLES / f"{name}.pcap")


@cache
def report_of(name: str) -> Report:
    return analyze([capture(name)])


@cache
def records(name: str) -> tuple[dict[str, Any], ...]:
    """`packets --mobility-only --format jsonl`, parsed."""
    result = CliRunner().invoke(cli, ["packets", "--mobility-only", "--format", "jsonl", capture(name)])
    assert result.exit_code == 0, result.output
    return tuple(json.loads(line) for line in result.stdout.splitlines() if line.strip())


def kind_of(record: dict[str, Any]) -> str | None:
    """The message kind of a jsonl record (MH type or ICMPv6 144-147, RA, NA)."""
    if record["mh"] is not None:
        return MH_KINDS.get(record["mh"]["type"], record["mh"]["name"])
    if record["icmp6"] is not None:
        return ICMP_KINDS.get(record["icmp6"]["type"], {134: "RA", 136: "NA"}.get(record["icmp6"]["type"]))
    return None


def expected_counts(name: str, window: tuple[float, float] | None = None) -> Counter[str]:
    """Mobility messages per kind, from `packets` (RAs and NAs left out: a subset is drawn)."""
    out: Counter[str] = Counter()
    for r in records(name):
        kind = kind_of(r)
        if kind in (None, "RA", "NA") or (window and not window[0] <= r["ts"] <= window[1]):
            continue
        out[kind] += 1
    return out


def handoffs_json(name: str, *extra: str) -> list[dict[str, Any]]:
    result = CliRunner().invoke(cli, ["handoffs", "--format", "json", *extra, capture(name)])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def arrows(fig_dict: dict[str, Any]) -> list[dict[str, Any]]:
    """One dict per arrow head: file, frame, ts, kind, style, colour, dash, symbol, hover."""
    out = []
    for trace in fig_dict["data"]:
        style = (trace.get("meta") or {}).get("style")
        if style is None:
            continue
        for i, custom in enumerate(trace["customdata"]):
            if custom is None:
                continue
            out.append({"file": custom[0], "frame": custom[1], "ts": custom[2], "kind": custom[3],
                        "style": style, "colour": trace["line"]["color"], "dash": trace["line"]["dash"],
                        "symbol": trace["marker"]["symbol"][i], "hover": trace["hovertext"][i],
                        "x": trace["x"][i], "y": trace["y"][i]})
    return out


def labels(fig_dict: dict[str, Any]) -> list[str]:
    return [html.unescape(t) for trace in fig_dict["data"] if trace.get("name") == "labels"
            for t in trace["text"]]


def annotation(fig_dict: dict[str, Any], name: str) -> list[str]:
    return [html.unescape(a["text"]) for a in fig_dict["layout"].get("annotations", ())
            if a.get("name") == name]


def figure(name: str, **options: Any) -> dict[str, Any]:
    return sequence_figure(report_of(name), ChartOptions(**options)).to_dict()


# -- lanes -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SCENARIOS)
def test_lanes_in_role_order(name: str) -> None:
    fig = figure(name)
    lanes = fig["layout"]["meta"]["lanes"]
    roles = [lane["role"] for lane in lanes]
    assert roles[0] == "MN" and roles.count("MN") == 1
    assert [ROLE_ORDER.index(r) for r in roles] == sorted(ROLE_ORDER.index(r) for r in roles)
    xaxis = fig["layout"]["xaxis"]
    assert list(xaxis["tickvals"]) == list(range(len(lanes)))
    titles = xaxis["ticktext"]
    assert titles[0].startswith("<b>MN") and str(HOA) in titles[0]
    for lane, title in zip(lanes, titles, strict=True):
        assert title.startswith(f"<b>{lane['role'] if lane['role'] != 'other' else ''}")
        if lane["role"] != "MN":
            assert lane["address"] in title
    report = report_of(name)
    assert [a for a in lanes if a["role"] == "HA"][0]["address"] == str(report.mobile_nodes[0].home_agent)
    if name == "scenario-route-optimization":
        assert "CN" in roles and {"AR", "HA"} <= set(roles)
    if name == "scenario-recovery":  # the home agent that said "not home agent" gets its lane
        assert [a["address"] for a in lanes if a["role"] == "HA"] == ["2001:db8:1::1", "2001:db8:1::2"]


def test_access_routers_are_the_node_links() -> None:
    lanes = figure("scenario-handoff")["layout"]["meta"]["lanes"]
    routers = [lane["address"] for lane in lanes if lane["role"] == "AR"]
    assert routers == ["fe80::a0:ff:fe00:2", "fe80::a0:ff:fe00:3", "fe80::a1:ff:fe00:1"]


# -- one arrow per message ---------------------------------------------------------------------


@pytest.mark.parametrize("name", SCENARIOS)
def test_one_arrow_per_signalling_message(name: str) -> None:
    drawn = arrows(figure(name))
    counted = Counter(a["kind"] for a in drawn if a["kind"] not in ("RA", "NA"))
    assert counted == expected_counts(name)
    assert len({(a["file"], a["frame"]) for a in drawn}) == len(drawn)
    by_frame = {r["frame"]: r for r in records(name)}
    for a in drawn:
        assert kind_of(by_frame[a["frame"]]) == a["kind"]


@pytest.mark.parametrize("name", SCENARIOS)
def test_router_advertisements_drawn_are_movement_hints(name: str) -> None:
    """RAs are periodic: only an RA whose prefix holds the care-of address of
    the next BU (the movement hint) is drawn; NAs only for the home address."""
    by_frame = {r["frame"]: r for r in records(name)}
    bus = [r for r in records(name) if kind_of(r) == "BU"]
    drawn = arrows(figure(name))
    ras = [a for a in drawn if a["kind"] == "RA"]
    assert ras or name == "scenario-handoff-vantage-ha"
    for a in ras:
        record = by_frame[a["frame"]]
        assert record["icmp6"]["type"] == 134
        nets = [IPv6Network(f"{p['prefix']}/{p['prefix_len']}", strict=False)
                for p in record["icmp6"]["prefixes"]]
        following = next(b for b in bus if b["ts"] >= record["ts"])
        assert any(IPv6Address(following["ip6"][-1]["src"]) in n for n in nets)
        assert round(a["x"]) == 0  # toward the node's lane
    for a in drawn:
        if a["kind"] == "NA":
            assert by_frame[a["frame"]]["icmp6"]["target"] == str(HOA)


@pytest.mark.parametrize("name", SCENARIOS)
def test_hover_names_frame_time_and_the_packets_info(name: str) -> None:
    result = CliRunner().invoke(cli, ["packets", "--mobility-only", capture(name)])
    info = {}
    for line in result.stdout.splitlines():
        m = re.match(r"\s*(\d+)\s+\S+\s+\S+ → \S+\s+\S+\s+(.*)$", line)
        if m:
            info[int(m.group(1))] = m.group(2).strip()
    for a in arrows(figure(name)):
        hover = html.unescape(a["hover"])
        assert f"frame {a['frame']}" in hover
        assert re.search(r"\d\d:\d\d:\d\d\.\d{3} UTC", hover)
        assert info[a["frame"]] in hover


# -- labels and styles -------------------------------------------------------------------------


def test_labels_carry_seq_lifetime_and_status_names() -> None:
    texts = labels(figure("scenario-recovery"))
    assert "BU seq=4659 A H 600s" in texts
    assert "BU seq=4660 A H 600s (retx 1, +1.5 s)" in texts  # retransmissions carry new numbers
    assert "BA seq=4663 Sequence number out of window 0s" in texts
    assert "BA seq=4665 Not home agent for this mobile node 0s" in texts
    assert any(t.startswith("BA seq=4662 accepted 120s") for t in texts)
    ro = labels(figure("scenario-route-optimization"))
    assert "BE Unknown binding for Home Address destination option" in ro
    assert "HoTI (via HA tunnel)" in ro


@pytest.mark.parametrize("name", ["scenario-recovery", "scenario-route-optimization"])
def test_failures_are_red(name: str) -> None:
    failing = {r["frame"] for r in records(name) if r["mh"] is not None and (
        r["mh"]["type"] == 7 or (r["mh"]["type"] == 6 and r["mh"]["status"] >= 128))}
    assert failing
    drawn = arrows(figure(name))
    red = {a["frame"] for a in drawn if a["colour"] == RED}
    assert red == failing
    if name == "scenario-recovery":
        assert {a["frame"] for a in drawn if a["kind"] == "BA" and a["colour"] == RED} == {1880, 2301}


def test_retransmissions_are_dashed() -> None:
    # RFC 6275 11.8: a retransmission is a BU repeating the previous one to that peer from that
    # address (same flags and lifetime, any sequence number) before a BA came back
    name = "scenario-recovery"
    waiting: dict[tuple[str, str], tuple] = {}
    retransmitted = set()
    for r in records(name):
        src, dst = r["ip6"][0]["src"], r["ip6"][-1]["dst"]
        if kind_of(r) == "BU":
            key = (sorted(r["mh"]["flags"]), r["mh"]["lifetime_s"])
            if waiting.get((src, dst)) == key:
                retransmitted.add(r["frame"])
            waiting[(src, dst)] = key
        elif kind_of(r) == "BA":
            waiting.pop((dst, src), None)
    assert retransmitted == {6, 9, 13}
    drawn = arrows(figure(name))
    assert {a["frame"] for a in drawn if a["dash"] == "dash"} == retransmitted
    assert all(a["dash"] == "solid" for a in drawn if a["frame"] not in retransmitted)


def test_tunnelled_messages_pass_the_home_agent() -> None:
    fig = figure("scenario-route-optimization")
    lanes = fig["layout"]["meta"]["lanes"]
    ha_x = next(i for i, lane in enumerate(lanes) if lane["role"] == "HA")
    for trace in fig["data"]:
        if (trace.get("meta") or {}).get("style") != "rr":
            continue
        xs = trace["x"]
        segments, current = [], []
        for x in xs:
            if x is None:
                segments.append(current)
                current = []
            else:
                current.append(x)
        three = [s for s in segments if len(s) == 3]
        assert len(three) == 4  # HoTI x2 and HoT x2 crossed the tunnel
        assert all(s[1] == ha_x for s in three)


# -- handoffs ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["scenario-handoff", "scenario-recovery", "scenario-handoff-vantage-ha",
                                  "scenario-route-optimization"])
def test_handoff_brackets_carry_the_handoffs_numbers(name: str) -> None:
    fig = figure(name)
    rows = [h for h in handoffs_json(name) if h["node"] == str(HOA)]
    assert rows
    shapes = {s.get("name") for s in fig["layout"]["shapes"]}
    for n, h in enumerate(rows, 1):
        (text,) = annotation(fig, f"handoff {n}")
        assert f"handoff {n}:" in text
        reg = "n/a" if h["registration_ms"] is None else f"{h['registration_ms']} ms"
        dis = "n/a" if h["disruption_ms"] is None else f"{h['disruption_ms']} ms"
        assert f"registration {reg}" in text
        assert f"disruption {dis}" in text
        assert f"{h['lost_to_old_care_of']} lost" in text
        assert f"{h['bu_retransmissions']} retransmissions" in text
        assert f"handoff {n}" in shapes


def test_handoff_window_restricts_the_messages() -> None:
    name = "scenario-handoff"
    h = handoffs_json(name)[1]
    start = min(t for t in (h["movement_ts"], h["bu_ts"]) if t is not None) - 3
    end = max(t for t in (h["ba_ts"], h["first_data_ts"]) if t is not None) + 3
    fig = figure(name, handoff=2, window_s=3)
    assert fig["layout"]["meta"]["window"] == pytest.approx([start, end])
    drawn = arrows(fig)
    assert drawn and all(start <= a["ts"] <= end for a in drawn)
    counted = Counter(a["kind"] for a in drawn if a["kind"] not in ("RA", "NA"))
    assert counted == expected_counts(name, (start, end))
    assert {a["kind"] for a in drawn} == {"RA", "BU", "BA"}
    assert "handoff 2" in fig["layout"]["title"]["text"]
    assert annotation(fig, "handoff 2") and not annotation(fig, "handoff 1")
    lost = [t for t in fig["data"] if (t.get("meta") or {}).get("strip") == "lost" and
            (t.get("meta") or {}).get("hover")]
    assert lost and all(f"{h['lost_to_old_care_of']} lost" in text for text in lost[0]["hovertext"])


def test_data_strips() -> None:
    fig = figure("scenario-route-optimization")
    strips = {(t.get("meta") or {}).get("strip") for t in fig["data"]}
    assert "direct" in strips and "tunnel 2001:db8:2::100" in strips
    report = report_of("scenario-handoff")
    fig = figure("scenario-handoff")
    for tunnel in report.tunnels:
        hover = [t for t in fig["data"] if (t.get("meta") or {}).get("strip") == f"tunnel {tunnel.care_of}"
                 and (t.get("meta") or {}).get("hover")]
        packets = [int(re.match(r"<b>(\d+) packets (to|from)", text).group(1))
                   for text in hover[0]["hovertext"]]
        assert sum(packets) == tunnel.to_mn.packets + tunnel.from_mn.packets


def test_care_of_epochs_are_bands_on_the_node_lane() -> None:
    fig = figure("scenario-handoff")
    names = [s["name"] for s in fig["layout"]["shapes"] if s.get("name", "").startswith("epoch")]
    assert names == ["epoch home", "epoch 2001:db8:2::100", "epoch 2001:db8:3::100", "epoch home"]
    labels_ = annotation(fig, "epoch")
    assert "CoA 2001:db8:2::100" in labels_ and "at home" in labels_


# -- the time axis -----------------------------------------------------------------------------


def test_idle_stretches_are_compressed_with_break_marks() -> None:
    fig = figure("scenario-handoff")
    breaks = annotation(fig, "idle break")
    assert len(breaks) == 3 and all("idle" in b for b in breaks)
    assert any(s.get("name") == "idle break" for s in fig["layout"]["shapes"])
    knots = fig["layout"]["meta"]["time_to_row"]
    ts = [k[0] for k in knots]
    ys = [k[1] for k in knots]
    assert ts == sorted(ts) and len(set(ts)) == len(ts)
    assert all(b > a for a, b in zip(ys, ys[1:], strict=False))
    # 148 s of capture, 3 idle stretches of 22-50 s each fit in far fewer rows than linear time
    layout = sequence_layout(report_of("scenario-handoff"), ChartOptions())
    for a, b in layout.breaks:
        assert layout.scale.y(b) - layout.scale.y(a) < 4
        assert layout.scale.t(layout.scale.y((a + b) / 2)) == pytest.approx((a + b) / 2)
    # tick labels show true times, increasing down the axis
    yaxis = fig["layout"]["yaxis"]
    assert list(yaxis["tickvals"]) == sorted(yaxis["tickvals"])
    assert list(yaxis["ticktext"]) == sorted(yaxis["ticktext"])
    assert yaxis["range"][0] > yaxis["range"][1]  # time runs down


def test_no_break_when_nothing_is_idle() -> None:
    fig = figure("scenario-handoff", handoff=2, window_s=3)
    assert not annotation(fig, "idle break")


# -- scale: thinning and notes -----------------------------------------------------------------


def _busy_report(pairs: int = 5_000, dropped: int = 0) -> Report:
    coa = IPv6Address("2001:db8:2::100")
    t0 = 1_700_000_000.0
    messages, regs = [], []
    for i in range(pairs):
        ts = t0 + i * 0.2
        messages.append(SignallingMessage(ts, 2 * i + 1, 0, "BU", coa, HA, HOA, f"BU seq={i} A H 60s",
                                          f"Binding Update seq={i}", seq=i))
        messages.append(SignallingMessage(ts + 0.01, 2 * i + 2, 0, "BA", HA, coa, HOA,
                                          f"BA seq={i} accepted 60s", f"Binding Acknowledgement seq={i}",
                                          seq=i, status=0))
        regs.append(Registration(HA, coa, (2 * i + 1,), 2 * i + 2, ts, ts + 0.01, 0, "accepted", 0, 10.0, i))
    node = MobileNode(HOA, HA, (coa,), bindings=(Binding(HA, "home", coa, t0, t0 + pairs * 0.2, 2, 0, 60, 60,
                                                          "capture_end", HOA),),
                      registrations=tuple(regs), home_addresses=(HOA,))
    last = t0 + pairs * 0.2
    return Report(CaptureInfo(("busy.pcap",), 2 * pairs, 2 * pairs, 0, 0, t0, last),
                  mobile_nodes=(node,), home_agents=(HA,), signalling=tuple(messages),
                  signalling_dropped=dropped)


def test_ten_thousand_messages_render_with_an_aggregation_note() -> None:
    fig = sequence_figure(_busy_report(), ChartOptions())
    as_dict = fig.to_dict()
    drawn = arrows(as_dict)
    aggregated = as_dict["layout"]["meta"]["aggregated"]
    assert len(drawn) <= MAX_ARROWS and len(drawn) + aggregated == 10_000
    (note,) = annotation(as_dict, "note")
    assert "10,000 signalling messages" in note and f"{aggregated:,} aggregated" in note
    hovers = [t for t in as_dict["data"] if t.get("name") == "aggregated (hover)"][0]["hovertext"]
    assert sum(int(re.match(r"<b>([\d,]+) messages", h).group(1).replace(",", "")) for h in hovers) == aggregated
    assert len(fig.to_json()) < 5_000_000


def test_dropped_messages_are_said() -> None:
    fig = sequence_figure(_busy_report(pairs=10, dropped=7), ChartOptions()).to_dict()
    (note,) = annotation(fig, "note")
    assert "7 more" in note and "not drawn" in note
    assert fig["layout"]["meta"]["aggregated"] == 0 and len(arrows(fig)) == 20


def test_unanswered_bu_ends_in_a_cross() -> None:
    report = _busy_report(pairs=3)
    node = report.mobile_nodes[0]
    last = node.registrations[-1]
    lone = Registration(last.peer, last.care_of, last.bu_frames, None, last.first_bu_ts, None, None, None,
                        0, None, last.seq)
    node = MobileNode(node.home_address, node.home_agent, node.care_of_addresses, node.bindings,
                      (*node.registrations[:-1], lone), home_addresses=node.home_addresses)
    messages = tuple(m for m in report.signalling if m.frame != 6)  # the last BA never came
    report = Report(report.capture, (node,), home_agents=report.home_agents, signalling=messages)
    drawn = {a["frame"]: a for a in arrows(sequence_figure(report, ChartOptions()).to_dict())}
    assert drawn[5]["symbol"] == "x-thin-open" and drawn[5]["style"] == "unanswered"
    assert drawn[1]["symbol"] == "arrow"


def test_several_nodes_draw_the_first_and_say_so() -> None:
    report = _busy_report(pairs=2)
    other = MobileNode(IPv6Address("2001:db8:1::200"), HA, (), home_addresses=(IPv6Address("2001:db8:1::200"),))
    report = Report(report.capture, (*report.mobile_nodes, other), home_agents=report.home_agents,
                    signalling=report.signalling)
    fig = sequence_figure(report, ChartOptions()).to_dict()
    assert fig["layout"]["meta"]["node"] == str(HOA)
    assert "2 mobile nodes selected" in annotation(fig, "note")[0]
    fig = sequence_figure(report, ChartOptions(mn=("2001:db8:1::200",))).to_dict()
    assert fig["layout"]["meta"]["node"] == "2001:db8:1::200" and not annotation(fig, "note")


# -- determinism -------------------------------------------------------------------------------


def test_same_input_same_json_even_in_a_fresh_process() -> None:
    options = ChartOptions(handoff=2)
    first = sequence_figure(report_of("scenario-handoff"), options).to_json()
    assert sequence_figure(report_of("scenario-handoff"), options).to_json() == first
    code = ("import sys; from mipv6scope.analysis.engine import analyze; "
            "from mipv6scope.charts.options import ChartOptions; "
            "from mipv6scope.charts.sequence import sequence_figure; "
            "sys.stdout.write(sequence_figure(analyze([sys.argv[1]]), ChartOptions(handoff=2)).to_json())")
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code, capture("scenario-handoff")], env=env,
                         capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout == first


# -- bad input ---------------------------------------------------------------------------------


def test_mn_matching_nothing() -> None:
    with pytest.raises(ChartInputError, match="--mn 2001:db8::dead: no mobile node"):
        sequence_figure(report_of("scenario-handoff"), ChartOptions(mn=("2001:db8::dead",)))


def test_handoff_the_node_does_not_have() -> None:
    with pytest.raises(ChartInputError) as err:
        sequence_figure(report_of("scenario-handoff"), ChartOptions(handoff=7))
    assert str(err.value) == "--handoff 7: 2001:db8:1::100 has 3 handoffs (1-3)"
    with pytest.raises(ChartInputError, match="numbered from 1"):
        sequence_figure(report_of("scenario-handoff"), ChartOptions(handoff=0))


def test_capture_without_mobility() -> None:
    with pytest.raises(ChartInputError, match="no mobile node"):
        sequence_figure(analyze([str(SAMPLES / "icmp6-nd.pcap")]), ChartOptions())


def test_window_from_to_is_clipped_to_the_capture() -> None:
    report = report_of("scenario-handoff")
    node = report.mobile_nodes[0]
    first, last = report.capture.first_ts, report.capture.last_ts
    assert chart_window(report, node, ChartOptions()) == (first, last)
    assert chart_window(report, node, ChartOptions(from_ts=first - 100, to_ts=first + 10)) == (first, first + 10)
    with pytest.raises(ChartInputError, match="outside the capture"):
        chart_window(report, node, ChartOptions(from_ts=last + 10))
    h = Handoff(HOA, HOA, None, None, None, None, None, None, 0, 0)
    with pytest.raises(ChartInputError, match="no time"):
        chart_window(report, MobileNode(HOA, HA, (), handoffs=(h,)), ChartOptions(handoff=1))

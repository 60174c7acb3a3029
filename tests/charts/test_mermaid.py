"""The Mermaid sequenceDiagram (`charts.mermaid`): one arrow line per
message (counted independently from `packets --mobility-only`), participants
in lane order, handoff notes with the numbers `handoffs` prints, and names
from ``--names`` that cannot inject Mermaid syntax."""

from __future__ import annotations

import json
import re
from collections import Counter
from functools import cache
from ipaddress import IPv6Address
from pathlib import Path

import pytest
from click.testing import CliRunner

from mipv6scope.analysis.engine import analyze
from mipv6scope.charts.mermaid import mermaid_text, sequence_mermaid
from mipv6scope.charts.options import ChartInputError, ChartOptions
from mipv6scope.charts.sequence import sequence_figure
from mipv6scope.cli.main import cli
from mipv6scope.report.model import (
    CaptureInfo,
    MobileNode,
    Registration,
    Report,
    SignallingMessage,
)

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "sample_captures"
SCENARIOS = ("scenario-handoff", "scenario-route-optimization", "scenario-recovery",
             "scenario-handoff-vantage-ha")
MH_KINDS = {0: "BRR", 1: "HoTI", 2: "CoTI", 3: "HoT", 4: "CoT", 5: "BU", 6: "BA", 7: "BE"}
ICMP_KINDS = {144: "DHAAD request", 145: "DHAAD reply", 146: "MPS", 147: "MPA", 134: "RA", 136: "NA"}
HOA = IPv6Address("2001:db8:1::100")
HA = IPv6Address("2001:db8:1::1")
ARROW = re.compile(r"^    (\w+)(--?)(>>|x)(\w+): (.*) · frame (\d+)$")
LINE = re.compile(r"^(sequenceDiagram|    title [^\n]+|    participant \w+ as [^\n]+|"
                  r"    \w+--?(>>|x)\w+: [^\n]+|    Note over \w+(,\w+)?: [^\n]+)$")


def capture(name: str) -> str:
    return str(SAMPLES / f"{name}.pcap")


@cache
def report_of(name: str):
    return analyze([capture(name)])


@cache
def kinds_by_frame(name: str) -> dict[int, str]:
    result = CliRunner().invoke(cli, ["packets", "--mobility-only", "--format", "jsonl", capture(name)])
    assert result.exit_code == 0
    out = {}
    for line in result.stdout.splitlines():
        r = json.loads(line)
        if r["mh"] is not None:
            out[r["frame"]] = MH_KINDS.get(r["mh"]["type"], r["mh"]["name"])
        elif r["icmp6"] is not None and r["icmp6"]["type"] in ICMP_KINDS:
            out[r["frame"]] = ICMP_KINDS[r["icmp6"]["type"]]
    return out


def arrow_lines(text: str) -> list[re.Match[str]]:
    return [m for m in (ARROW.match(line) for line in text.splitlines()) if m]


@pytest.mark.parametrize("name", SCENARIOS)
def test_one_arrow_line_per_message_in_time_order(name: str) -> None:
    text = sequence_mermaid(report_of(name), ChartOptions())
    assert text.startswith("sequenceDiagram\n") and text.endswith("\n")
    assert all(LINE.match(line) for line in text.splitlines()), text
    kinds = kinds_by_frame(name)
    found = arrow_lines(text)
    counted = Counter(kinds[int(m.group(6))] for m in found)
    expected = Counter(k for k in kinds.values() if k not in ("RA", "NA"))
    assert Counter({k: n for k, n in counted.items() if k not in ("RA", "NA")}) == expected
    frames = [int(m.group(6)) for m in found]
    assert frames == sorted(frames)  # one file: frame order is time order
    # the same messages as the figure's arrows
    fig = sequence_figure(report_of(name), ChartOptions()).to_dict()
    drawn = sorted(c[1] for t in fig["data"] if (t.get("meta") or {}).get("style")
                   for c in t["customdata"] if c is not None)
    assert frames == drawn


@pytest.mark.parametrize("name", SCENARIOS)
def test_participants_in_lane_order(name: str) -> None:
    text = sequence_mermaid(report_of(name), ChartOptions())
    participants = re.findall(r"^    participant (\w+) as (.*)$", text, re.M)
    lanes = sequence_figure(report_of(name), ChartOptions()).to_dict()["layout"]["meta"]["lanes"]
    assert [p[0] for p in participants] == [lane["alias"] for lane in lanes]
    for (_alias, description), lane in zip(participants, lanes, strict=True):
        assert (lane["address"] if lane["role"] != "MN" else f"HoA {HOA}") in description
    assert participants[0][0] == "MN"
    used = {m.group(1) for m in arrow_lines(text)} | {m.group(4) for m in arrow_lines(text)}
    assert used <= {p[0] for p in participants}


def test_retransmissions_dotted_failures_marked() -> None:
    text = sequence_mermaid(report_of("scenario-recovery"), ChartOptions())
    dotted = {int(m.group(6)) for m in arrow_lines(text) if m.group(2) == "--"}
    assert dotted == {6, 9, 13}
    failures = {int(m.group(6)) for m in arrow_lines(text) if m.group(5).startswith("⚠ ")}
    assert failures == {1880, 2301}
    assert "Sequence number out of window" in text and "Not home agent for this mobile node" in text


def test_tunnelled_messages_keep_one_line() -> None:
    text = sequence_mermaid(report_of("scenario-route-optimization"), ChartOptions())
    via = [m for m in arrow_lines(text) if "(via HA tunnel)" in m.group(5)]
    assert sorted(int(m.group(6)) for m in via) == [209, 214, 622, 627]
    assert all({m.group(1), m.group(4)} == {"MN", "CN1"} for m in via)


@pytest.mark.parametrize("name", ["scenario-handoff", "scenario-recovery"])
def test_handoff_notes_carry_the_handoffs_numbers(name: str) -> None:
    result = CliRunner().invoke(cli, ["handoffs", "--format", "json", capture(name)])
    rows = json.loads(result.stdout)
    text = sequence_mermaid(report_of(name), ChartOptions())
    notes = re.findall(r"^    Note over MN,\w+: (handoff \d+: .*)$", text, re.M)
    assert len(notes) == len(rows)
    for n, (note, h) in enumerate(zip(notes, rows, strict=True), 1):
        assert note.startswith(f"handoff {n}: ")
        reg = "n/a" if h["registration_ms"] is None else f"{h['registration_ms']} ms"
        assert f"registration {reg}" in note
        dis = "n/a" if h["disruption_ms"] is None else f"{h['disruption_ms']} ms"
        assert f"disruption {dis}" in note
        assert f"{h['lost_to_old_care_of']} lost · {h['bu_retransmissions']} retransmissions" in note
        if h["outcome"] != "completed":
            assert f" · {h['outcome']} {h['status']}" in note


def test_handoff_window() -> None:
    text = sequence_mermaid(report_of("scenario-handoff"), ChartOptions(handoff=2, window_s=3))
    assert [int(m.group(6)) for m in arrow_lines(text)] == [1776, 1784, 1787]  # the 50 frames of the home call come first
    assert "handoff 2:" in text and "handoff 1:" not in text
    assert "idle" not in text


def test_idle_notes() -> None:
    text = sequence_mermaid(report_of("scenario-handoff"), ChartOptions())
    assert len(re.findall(r"^    Note over MN,\w+: ≈ .* idle", text, re.M)) == 3


def test_hostile_names_cannot_add_lines_or_participants() -> None:
    names = {HA: "evil;\nparticipant X as pwned", HOA: "car#17\r\nNote over MN: hi %% <b>x</b>",
             IPv6Address("fe80::a0:ff:fe00:2"): "ar;;\u2028MN->>X: injected"}
    report = analyze([capture("scenario-handoff")], names=names)
    text = sequence_mermaid(report, ChartOptions())
    lines = text.splitlines()
    plain = sequence_mermaid(report_of("scenario-handoff"), ChartOptions()).splitlines()
    assert len(lines) == len(plain)
    assert all(LINE.match(line) for line in lines)
    assert ";" not in text and "#" not in text and "<b>" not in text
    assert [line.split(" as ")[0] for line in lines if "participant" in line.split(" as ")[0]] == \
        [line.split(" as ")[0] for line in plain if "participant" in line.split(" as ")[0]]
    assert not any(line.strip().startswith("participant X ") for line in lines)
    assert "evil, participant X as pwned" in text  # kept, as text


def test_mermaid_text_is_one_safe_line() -> None:
    assert mermaid_text("a;b#c\nd\re<f>") == "a,bno.c d e‹f>"
    assert mermaid_text("\n\n") == "-"


def test_same_input_same_text() -> None:
    options = ChartOptions(handoff=3)
    assert sequence_mermaid(report_of("scenario-handoff"), options) == \
        sequence_mermaid(report_of("scenario-handoff"), options)


def test_unanswered_bu_is_a_cross_and_aggregation_is_noted() -> None:
    coa = IPv6Address("2001:db8:2::100")
    t0 = 1_700_000_000.0
    messages, regs = [], []
    for i in range(3_000):
        ts = t0 + i
        messages.append(SignallingMessage(ts, 2 * i + 1, 0, "BU", coa, HA, HOA, f"BU seq={i}", "", seq=i))
        if i != 2_999:
            messages.append(SignallingMessage(ts + 0.01, 2 * i + 2, 0, "BA", HA, coa, HOA,
                                              f"BA seq={i} accepted", "", seq=i, status=0))
        regs.append(Registration(HA, coa, (2 * i + 1,), None if i == 2_999 else 2 * i + 2, ts,
                                 None if i == 2_999 else ts + 0.01, 0, None, 0, None, i))
    node = MobileNode(HOA, HA, (coa,), registrations=tuple(regs), home_addresses=(HOA,))
    report = Report(CaptureInfo(("x.pcap",), 1, 1, 0, 0, t0, t0 + 3_000), mobile_nodes=(node,),
                    home_agents=(HA,), signalling=tuple(messages))
    text = sequence_mermaid(report, ChartOptions())
    found = arrow_lines(text)
    assert found[-1].group(3) == "x" and found[-1].group(6) == "5999"
    assert sum(1 for m in found if m.group(3) == "x") == 1
    notes = re.findall(r"^    Note over MN,HA1: ([\d,]+) messages aggregated", text, re.M)
    assert notes and len(found) + sum(int(n.replace(",", "")) for n in notes) == len(messages)
    assert re.search(r"^    Note over MN,HA1: ⚠ 5,999 signalling messages in this window", text, re.M)


def test_bad_input_raises() -> None:
    with pytest.raises(ChartInputError):
        sequence_mermaid(report_of("scenario-handoff"), ChartOptions(mn=("nobody",)))
    with pytest.raises(ChartInputError, match="has 3 handoffs"):
        sequence_mermaid(report_of("scenario-handoff"), ChartOptions(handoff=7))


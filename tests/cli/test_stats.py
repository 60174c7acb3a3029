"""`mipv6scope stats`: MH type and BA status counts checked against `packets
--mobility-only --format jsonl` (and tshark when installed), per-minute
tunnelled totals against the `tunnels` view, and every format."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mipv6scope.cli.main import cli

SAMPLES = Path(__file__).resolve().parents[2] / "sample_captures"
# well-formed captures: every MH message there is a signalling message of the analysis
CAPTURES = ("home-registration", "mh-other-types", "mh-be", "scenario-fleet", "scenario-recovery",
            "scenario-route-optimization", "scenario-handoff-esp")


def capture(name: str) -> str:
    return str(SAMPLES / f"{name}.pcap")


def run(*args: str) -> Any:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result


def stats_json(name: str, *extra: str) -> dict[str, Any]:
    return json.loads(run("stats", capture(name), "--format", "json", *extra).stdout)


def jsonl_mh(name: str) -> list[dict[str, Any]]:
    out = run("packets", capture(name), "--mobility-only", "--format", "jsonl").stdout
    records = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return [r["mh"] for r in records if r.get("mh") and "type" in r["mh"]]


@pytest.mark.parametrize("name", CAPTURES)
def test_mh_types_match_packets(name: str) -> None:
    expected = Counter(mh["type"] for mh in jsonl_mh(name))
    got = {t["mh_type"]: t["count"] for t in stats_json(name)["mh_types"]}
    assert got == dict(expected)


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")
@pytest.mark.parametrize("name", [c for c in CAPTURES if "esp" not in c])  # tshark: no ESP key
def test_mh_types_match_tshark(name: str) -> None:
    done = subprocess.run(["tshark", "-r", capture(name), "-Y", "mipv6", "-T", "fields",
                           "-e", "mip6.mhtype"], capture_output=True, text=True, check=True)
    expected = Counter(int(v) for line in done.stdout.splitlines() for v in line.split(",") if v)
    got = {t["mh_type"]: t["count"] for t in stats_json(name)["mh_types"]}
    assert got == dict(expected)


def test_recovery_statuses_match_packets() -> None:
    expected = Counter(mh["status"] for mh in jsonl_mh("scenario-recovery") if mh["type"] == 6)
    statuses = stats_json("scenario-recovery")["statuses"]
    assert {s["status"]: s["count"] for s in statuses if s["kind"] == "BA"} == dict(expected)
    assert {133, 135} <= set(expected)
    assert all(s["name"] and not s["name"].startswith("Unknown") for s in statuses)


@pytest.mark.parametrize("name", ("scenario-recovery", "scenario-route-optimization", "scenario-fleet"))
def test_per_minute_tunnelled_equals_tunnels_view(name: str) -> None:
    rows = json.loads(run("tunnels", capture(name), "--format", "json").stdout)
    total = sum(r["to_mn_packets"] + r["from_mn_packets"] for r in rows)
    minutes = stats_json(name)["per_minute"]
    assert total > 0
    assert sum(m["tunnelled"] for m in minutes) == total
    assert sum(m["signalling"] for m in minutes) == sum(t["count"] for t in stats_json(name)["mh_types"])
    assert [m["minute"] for m in minutes] == sorted({m["minute"] for m in minutes})


def test_conversations_cover_every_message() -> None:
    document = stats_json("scenario-fleet")
    assert sum(c["frames"] for c in document["conversations"]) == \
        sum(t["count"] for t in document["mh_types"])
    for conv in document["conversations"]:
        assert conv["first_ts"] <= conv["last_ts"]
        assert conv["node"] != conv["peer"]


def test_mn_restricts_the_counts() -> None:
    hoa = stats_json("scenario-fleet")["conversations"][0]["node"]
    mine = stats_json("scenario-fleet", "--mn", hoa)
    assert mine["conversations"] and {c["node"] for c in mine["conversations"]} == {hoa}


def test_text_and_csv() -> None:
    text = run("stats", capture("scenario-recovery")).stdout
    for heading in ("Mobility Header messages by type", "BA/BE status", "Conversations", "Per minute"):
        assert heading in text
    assert "Sequence number out of window" in text
    rows = list(csv.DictReader(io.StringIO(run("stats", capture("scenario-recovery"),
                                               "--format", "csv").stdout)))
    assert {r["record"] for r in rows} == {"mh_type", "status", "conversation", "minute"}
    assert sum(int(r["count"]) for r in rows if r["record"] == "mh_type") == 17


def test_jsonl_is_refused() -> None:
    result = CliRunner().invoke(cli, ["stats", capture("scenario-recovery"), "--format", "jsonl"])
    assert result.exit_code == 2

"""The malformed scenario: every decode issue code, on exactly the frames the truth lists."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from mipv6scope.decode.issues import ISSUE_KINDS
from mipv6scope.decode.stream import DecodeStream
from mipv6scope.synth.run import run_scenario
from mipv6scope.synth.scenarios import ScenarioParams


def test_every_code_on_exactly_the_listed_frames(tmp_path: Path) -> None:
    out = tmp_path / "malformed.pcap"
    run_scenario("malformed", ScenarioParams(), out)
    truth = json.loads(Path(f"{out}.truth.json").read_text())
    listed = {f["code"]: f["frames"] for f in truth["findings"]}
    # the ESP key codes need --esp-sa keys (tests/decode/test_esp_decrypt.py makes them)
    assert set(listed) == set(ISSUE_KINDS) - {"decoder_error", "timestamp_out_of_range",
                                              "esp_icv_mismatch", "esp_decrypt_failed"}
    assert all(listed.values())
    seen: dict[str, set[int]] = defaultdict(set)
    for frame in DecodeStream([out]):
        for issue in frame.issues:
            seen[issue.code].add(frame.number)
    assert "decoder_error" not in seen
    for code, frames in listed.items():
        assert seen[code] == set(frames), code
    assert set(seen) == set(listed)


def test_same_bytes_every_run(tmp_path: Path) -> None:
    a, b = tmp_path / "a.pcap", tmp_path / "b.pcap"
    run_scenario("malformed", ScenarioParams(), a)
    run_scenario("malformed", ScenarioParams(), b)
    assert a.read_bytes() == b.read_bytes()

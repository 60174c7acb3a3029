"""The streamed report JSON (`report.json_text`) is the text
``json.dumps(report.to_dict(), indent=2)`` gives: on every sample capture, on
generated report structures, and as `report --format json` writes it."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import fields
from ipaddress import IPv6Address
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mipv6scope.analysis.engine import analyze
from mipv6scope.decode.addresses import Address, address
from mipv6scope.report.json_text import json_chunks
from mipv6scope.report.model import (
    Binding,
    CaptureInfo,
    Finding,
    Registration,
    Report,
    SignallingMessage,
)

REPO = Path(__file__).resolve().parents[2]
SAMPLES = sorted(p for p in (REPO / "sample_captures").iterdir() if p.suffix in (".pcap", ".pcapng"))


def _dumped(report: Report) -> str:
    return json.dumps(report.to_dict(), indent=2)


def test_there_are_samples() -> None:
    assert len(SAMPLES) >= 20


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_sample_report_streams_as_dumped(path: Path) -> None:
    report = analyze([path])
    assert "".join(json_chunks(report)) == _dumped(report)


def test_empty_report_streams_as_dumped() -> None:
    report = Report(CaptureInfo((), 0, 0, 0, 0, None, None))
    text = "".join(json_chunks(report))
    assert text == _dumped(report)
    assert json.loads(text)["mobile_nodes"] == []


addresses = st.builds(IPv6Address, st.integers(min_value=0, max_value=2**128 - 1))
st.register_type_strategy(IPv6Address, addresses)
# every field from its type hint: nested dataclasses, optional fields, tuples of any length,
# dicts keyed by addresses, text with newlines, quotes and non-ASCII, floats with NaN and inf
reports = st.from_type(Report)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(reports)
def test_generated_report_streams_as_dumped(report: Report) -> None:
    assert "".join(json_chunks(report)) == _dumped(report)


def test_report_command_writes_the_dumped_text(tmp_path: Path) -> None:
    capture = REPO / "sample_captures" / "scenario-route-optimization.pcap"
    out = tmp_path / "report.json"
    subprocess.run([sys.executable, "-m", "mipv6scope", "report", "--format", "json", "-o", str(out),
                    str(capture)], check=True, capture_output=True)
    stdout = subprocess.run([sys.executable, "-m", "mipv6scope", "report", "--format", "json",
                             str(capture)], check=True, capture_output=True, text=True).stdout
    expected = _dumped(analyze([capture])) + "\n"
    assert out.read_text(encoding="utf-8") == expected
    assert stdout == expected


def test_repeated_floats_and_addresses_stream_as_dumped() -> None:
    """The remembered float texts (one key for 0.0 and -0.0, none for NaN) and
    the decoder's addresses, which keep their own text, as json.dumps writes them."""
    hoa, plain = address(bytes(15) + b"\x01"), IPv6Address("2001:db8::1")
    scoped = Address('fe80::1%eth"0\\\u00e9')  # a scope's text is escaped
    values = (0.0, -0.0, 0.0, -0.0, 1.5, 1.5, float("nan"), float("nan"), float("inf"), -float("inf"),
              1e16, 1e16, 1700000000.00001, 1700000000.00001, 5e-324)
    findings = tuple(Finding("code", "info", (1,), ts, (hoa, plain, scoped)[i % 3], "m", "r")
                     for i, ts in enumerate(values))
    report = Report(CaptureInfo((), 0, 0, 0, 0, -0.0, 0.0), findings=findings,
                    home_agents=(hoa, plain, scoped))
    for _ in range(2):
        assert "".join(json_chunks(report)) == _dumped(report)


class _Text(str):
    """A str subclass: written as its text."""


# any value a record field may hold, whatever its annotation says: the encoders try the
# annotated type first (`json_text._field_expression`) and must fall back for the rest
any_value = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(), addresses,
              st.builds(address, st.binary(min_size=16, max_size=16)), st.builds(_Text, st.text())),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.lists(inner, max_size=3).map(tuple),
                            st.dictionaries(st.text(), inner, max_size=3)),
    max_leaves=6)


def _records_of_any_values(cls: type) -> st.SearchStrategy:
    return st.builds(cls, *[any_value for _ in fields(cls)])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_records_of_any_values(Binding), max_size=2).map(tuple),
       st.lists(_records_of_any_values(Registration), max_size=2).map(tuple),
       st.lists(_records_of_any_values(SignallingMessage), max_size=2).map(tuple))
def test_fields_holding_other_types_stream_as_dumped(bindings: tuple, registrations: tuple,
                                                     messages: tuple) -> None:
    report = Report(CaptureInfo((), 0, 0, 0, 0, None, None), findings=bindings + registrations,
                    signalling=messages)
    assert "".join(json_chunks(report)) == _dumped(report)

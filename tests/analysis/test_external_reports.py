"""Zeek's and tcpdump's own Mobile IPv6 test captures (written outside this
project, several of them malformed on purpose) give a report without error,
with every frame counted."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from mipv6scope.analysis.engine import analyze
from mipv6scope.cli.main import cli
from tests.conftest import external_captures


def _external_files():
    root = external_captures()
    return sorted(root.glob("*/*.pcap"))


def test_every_external_capture_gives_a_report():
    files = _external_files()
    assert len(files) >= 20
    for path in files:
        report = analyze([path])
        info = report.capture
        assert info.frames == info.decoded + info.malformed + info.skipped, path.name
        json.dumps(report.to_dict())


def test_decode_issues_become_findings_on_zeek_dst_opts():
    path = external_captures() / "zeek" / "ipv6-mobility-dst-opts.pcap"
    codes = {f.code for f in analyze([path]).findings}
    assert {"bad_ipv6_dest_opt_len", "multiple_home_addr_opts", "bad_home_addr_len"} <= codes


@pytest.mark.parametrize("command", ["summary", "report", "findings"])
def test_cli_views_on_tcpdump_mobility_capture(command):
    path = external_captures() / "tcpdump" / "ipv6_mobility_1.pcap"
    result = CliRunner().invoke(cli, [command, str(path)])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output

"""ConformanceAnalyzer on hand-built event sequences: each finding kind fires
where it should and stays quiet where it should not; the registry answers for
every code."""

from __future__ import annotations

import re
from dataclasses import replace
from ipaddress import IPv6Address
from pathlib import Path

import pytest
from builders import AR2, AR3, CN, COA2, COA3, HA, HOA, ba, be, bu, from_mn, ra, to_mn

from mipv6scope import events as ev
from mipv6scope.analysis.base import Analyzer, dispatch_table
from mipv6scope.analysis.bindings import BindingsAnalyzer
from mipv6scope.analysis.conformance import MAX_FRAMES, ConformanceAnalyzer, seq_greater
from mipv6scope.analysis.handoffs import HandoffAnalyzer
from mipv6scope.analysis.tunnels import TunnelAnalyzer
from mipv6scope.decode.issues import ISSUE_KINDS
from mipv6scope.report.builder import ReportBuilder
from mipv6scope.report.model import Finding
from mipv6scope.report.registry import ANALYSIS_KINDS, KINDS, SEVERITIES, kind

CODE_RE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


def run(events: list[ev.Event], end_ts: float | None = None, **kwargs: object) -> dict[str, Finding]:
    """Bindings, tunnels, handoffs and conformance over ``events``; findings by code."""
    bindings = BindingsAnalyzer()
    handoffs = HandoffAnalyzer(bindings)
    tunnels = TunnelAnalyzer(bindings, vantage=lambda: handoffs.capture_vantage()[0])
    conformance = ConformanceAnalyzer(bindings, bindings.settings, handoffs=handoffs, tunnels=tunnels,
                                      **kwargs)  # type: ignore[arg-type]
    analyzers: list[Analyzer] = [bindings, tunnels, handoffs, conformance]
    table = dispatch_table(analyzers)
    for e in events:
        for handler in table.get(type(e), ()):
            handler(e)
    end = end_ts if end_ts is not None else (max(e.ts for e in events) if events else None)
    for a in analyzers:
        a.finish(end)
    builder = ReportBuilder()
    conformance.contribute(builder)
    found: dict[str, Finding] = {}
    for f in builder.findings:
        assert f.code not in found or found[f.code].node != f.node
        found.setdefault(f.code, f)
    return found


# -- extra event builders -------------------------------------------------------------------

def mh_common(ts: float, frame: int, src: IPv6Address, dst: IPv6Address) -> tuple:
    return (ts, frame, 0, src, dst, src, dst, src, dst, False, False, None, None)


def brr(ts: float, frame: int) -> ev.BindingRefreshRequest:
    return ev.BindingRefreshRequest(ts, frame, 0, HA, HOA, HA, COA2, HA, COA2, False, False, None, HOA)


def init_msg(ts: float, frame: int, home: bool, cookie: str) -> ev.TestInit:
    return ev.TestInit(*mh_common(ts, frame, HOA if home else COA2, CN), home, cookie)


def rr_test(ts: float, frame: int, home: bool, cookie: str, index: int) -> ev.Test:
    return ev.Test(*mh_common(ts, frame, CN, HOA if home else COA2), home, cookie, index, "00" * 8)


def cn_bu(ts: float, frame: int, seq: int, flags: str = "A", lifetime: int = 400,
          home_index: int | None = None, careof_index: int | None = None) -> ev.BindingUpdate:
    return replace(bu(ts, frame, seq, peer=CN, flags=flags, lifetime=lifetime),
                   home_nonce_index=home_index, careof_nonce_index=careof_index)


def hao_data(ts: float, frame: int) -> ev.DataPacket:
    return ev.DataPacket(ts, frame, 0, COA2, CN, HOA, CN, False, HOA, None, 17, 1, 1, 100, 100)


def na(ts: float, frame: int, flags: str = "O") -> ev.NeighborAdvertisement:
    return ev.NeighborAdvertisement(ts, frame, 0, HOA, IPv6Address("ff02::1"), HOA, frozenset(flags))


def icmp(ts: float, frame: int, icmp_type: int, ident: int = 7) -> ev.IcmpMobility:
    return ev.IcmpMobility(ts, frame, 0, icmp_type, ident, COA2, HA, None, (), ())


def issues(ts: float, frame: int, *codes: str) -> ev.FrameIssues:
    return ev.FrameIssues(ts, frame, 0, tuple((c, "mh", "detail") for c in codes), COA2, HA)


# -- registry -----------------------------------------------------------------------------------

def test_registry_answers_for_decode_issues_and_findings() -> None:
    for code in ISSUE_KINDS:
        assert kind(code) is ISSUE_KINDS[code]
    assert kind("binding_error_received").severity == "warning"
    assert set(KINDS) == set(ISSUE_KINDS) | set(ANALYSIS_KINDS)
    for k in KINDS.values():
        assert CODE_RE.match(k.code), k.code
        assert k.severity in SEVERITIES
        assert k.explanation
    for k in ANALYSIS_KINDS.values():
        assert k.rfc.startswith("RFC 6275"), k.code
    with pytest.raises(KeyError):
        kind("no_such_code")


def test_every_code_the_analyzer_emits_is_registered() -> None:
    source = Path(__file__).resolve().parents[2] / "mipv6scope" / "analysis" / "conformance.py"
    text = source.read_text()
    emitted = set(re.findall(r'self\.add\(\s*"([a-z0-9_]+)"', text))
    emitted |= set(re.findall(r'"([a-z0-9_]+_without_reply)"', text))
    assert emitted <= set(ANALYSIS_KINDS)
    assert emitted == set(ANALYSIS_KINDS)  # every registered finding kind is produced


def test_seq_greater_mod_2_16() -> None:
    assert seq_greater(1, 0)
    assert seq_greater(0, 65535)
    assert not seq_greater(5, 5)
    assert not seq_greater(0, 1)
    assert not seq_greater(40000, 1000)


# -- decode issues ---------------------------------------------------------------------------

def test_decode_issues_become_findings_grouped() -> None:
    found = run([issues(1.0, 3, "bad_mh_checksum"), issues(2.0, 9, "bad_mh_checksum", "hao_misaligned")])
    f = found["bad_mh_checksum"]
    assert f.frames == (3, 9) and f.ts == 1.0 and f.severity == "error" and f.rfc == "RFC 6275 6.1.1"
    assert found["hao_misaligned"].frames == (9,)


def test_no_decode_issue_no_finding() -> None:
    found = run([bu(1.0, 1, 10), ba(1.1, 2, 10)])
    assert not set(found) & set(ISSUE_KINDS)


def test_frames_are_capped() -> None:
    found = run([issues(float(i), i, "hao_misaligned") for i in range(1, 1200)])
    f = found["hao_misaligned"]
    assert len(f.frames) == 1000 and "1199 occurrences" in f.message


# -- registrations ---------------------------------------------------------------------------

def test_a_flag_bu_unacknowledged() -> None:
    assert run([bu(1.0, 1, 10)], end_ts=10.0)["a_flag_bu_unacknowledged"].frames == (1,)
    assert "a_flag_bu_unacknowledged" not in run([bu(1.0, 1, 10), ba(1.1, 2, 10)], end_ts=10.0)
    assert "a_flag_bu_unacknowledged" not in run([bu(1.0, 1, 10, flags="H")], end_ts=10.0)
    # superseded by a later answered sequence number
    assert "a_flag_bu_unacknowledged" not in run([bu(1.0, 1, 10), bu(2.0, 2, 11), ba(2.1, 3, 11)], end_ts=10.0)


def test_ba_without_matching_bu() -> None:
    assert run([ba(1.0, 1, 10)])["ba_without_matching_bu"].frames == (1,)
    assert "ba_without_matching_bu" not in run([bu(1.0, 1, 10), ba(1.1, 2, 10)])


def test_ba_status_failure_names_the_status() -> None:
    f = run([bu(1.0, 1, 10), replace(ba(1.1, 2, 10, status=129), status_name="administratively prohibited")])
    assert f["ba_status_failure"].frames == (2,)
    assert "129 administratively prohibited" in f["ba_status_failure"].message
    assert "ba_status_failure" not in run([bu(1.0, 1, 10), ba(1.1, 2, 10)])


def test_bu_sequence_not_increasing() -> None:
    found = run([bu(1.0, 1, 10), ba(1.1, 2, 10), bu(5.0, 3, 9)], end_ts=5.5)
    assert found["bu_sequence_not_increasing"].frames == (3,)
    quiet = run([bu(1.0, 1, 65535), ba(1.1, 2, 65535), bu(5.0, 3, 0), ba(5.1, 4, 0)])
    assert "bu_sequence_not_increasing" not in quiet


def test_bu_sequence_out_of_window_is_one_finding() -> None:
    # A BU behind the window (40000 after 10), retransmitted with 40001, refused with 135 carrying
    # the last accepted number: one finding (RFC 6275 9.5.1, 6.1.8) with the BUs and the BA, not
    # also bu_sequence_not_increasing and ba_status_failure.
    found = run([bu(1.0, 1, 10), ba(1.1, 2, 10), bu(5.0, 3, 40000), bu(6.0, 4, 40001),
                 replace(ba(6.1, 5, 10, status=135), status_name="Sequence number out of window")])
    f = found["bu_sequence_out_of_window"]
    assert f.frames == (3, 4, 5) and f.ts == 5.0 and "135" in f.message and "last accepted 10" in f.message
    assert not {"bu_sequence_not_increasing", "ba_status_failure"} & set(found)
    assert "bu_sequence_out_of_window" not in run([bu(1.0, 1, 10), ba(1.1, 2, 10, status=133)])


def test_a_correct_back_off_chain_is_no_finding() -> None:
    # RFC 6275 11.8: a first home registration retransmitted after 1.5 s, then 3 s, each BU with a
    # greater number: no retransmission, sequence or rate finding
    found = run([bu(0.0, 1, 10), bu(1.5, 2, 11), bu(4.5, 3, 12), ba(4.6, 4, 12)])
    assert not {"bu_retransmission_reused_sequence", "bu_retransmission_schedule",
                "bu_sequence_not_increasing", "bu_rate_exceeded"} & set(found)


def test_bu_retransmission_reused_sequence() -> None:
    found = run([bu(0.0, 1, 10), bu(1.5, 2, 10), bu(4.5, 3, 11), ba(4.6, 4, 11)])
    assert found["bu_retransmission_reused_sequence"].frames == (2,)
    assert "bu_sequence_not_increasing" not in found


def test_bu_retransmission_schedule_not_doubling() -> None:
    # a binding in force: INITIAL_BINDACK_TIMEOUT 1 s, then 2 s expected; 1 s is too soon
    found = run([bu(0.0, 1, 9), ba(0.1, 2, 9), bu(10.0, 3, 10, COA3), bu(11.0, 4, 11, COA3),
                 bu(12.0, 5, 12, COA3), ba(12.1, 6, 12, COA3)])
    assert found["bu_retransmission_schedule"].frames == (5,)


def test_bu_retransmission_schedule_too_fast_first() -> None:
    found = run([bu(0.0, 1, 10), bu(0.2, 2, 11), ba(0.3, 3, 11)])
    assert found["bu_retransmission_schedule"].frames == (2,)


def test_first_home_registration_waits_initial_bindack_timeout_first_reg() -> None:
    # no binding in force at the home agent: InitialBindackTimeoutFirstReg 1.5 s (RFC 6275 11.8, 13)
    found = run([bu(0.0, 1, 10), bu(1.0, 2, 11), ba(1.1, 3, 11)])
    assert found["bu_retransmission_schedule"].frames == (2,)
    assert "InitialBindackTimeoutFirstReg" in found["bu_retransmission_schedule"].message


def test_bu_retransmission_schedule_beyond_max() -> None:
    found = run([bu(0.0, 1, 10), bu(1.5, 2, 11), bu(41.5, 3, 12), ba(41.6, 4, 12)])
    assert found["bu_retransmission_schedule"].frames == (3,)
    assert "MAX_BINDACK_TIMEOUT" in found["bu_retransmission_schedule"].message


def test_bu_retransmission_schedule_capped_at_max_is_fine() -> None:
    times = [0.0, 1.5, 4.5, 10.5, 22.5, 46.5, 78.5, 110.5]  # 1.5, 3, 6, 12, 24, then 32 s
    found = run([bu(t, i + 1, 10 + i) for i, t in enumerate(times)] + [ba(110.6, 99, 17)])
    assert not {"bu_retransmission_schedule", "bu_retransmission_reused_sequence",
                "bu_sequence_not_increasing", "bu_rate_exceeded"} & set(found)


def test_bu_rate_exceeded() -> None:
    fast = [bu(0.1 * i, i + 1, 10 + i) for i in range(4)]
    assert run(fast)["bu_rate_exceeded"].frames == (4,)
    slow = [bu(0.4 * i, i + 1, 10 + i) for i in range(4)]
    assert "bu_rate_exceeded" not in run(slow)


def test_bu_to_cn_with_home_flags() -> None:
    assert run([cn_bu(1.0, 1, 5, flags="AK")])["bu_to_cn_with_home_flags"].frames == (1,)
    found = run([cn_bu(1.0, 1, 5, home_index=1), cn_bu(2.0, 2, 6, flags="AH", home_index=1)])
    assert found["bu_to_cn_with_home_flags"].frames == (2,)
    assert "bu_to_cn_with_home_flags" not in run([cn_bu(1.0, 1, 5)])
    assert "bu_to_cn_with_home_flags" not in run([bu(1.0, 1, 5), ba(1.1, 2, 5)])  # home: fine


def test_cn_binding_too_long() -> None:
    found = run([cn_bu(1.0, 1, 5, lifetime=600), ba(1.1, 2, 5, peer=CN, lifetime=600)])
    assert found["cn_binding_too_long"].frames == (1, 2)
    assert "cn_binding_too_long" not in run([cn_bu(1.0, 1, 5, lifetime=420), ba(1.1, 2, 5, peer=CN, lifetime=420)])
    assert "cn_binding_too_long" not in run([bu(1.0, 1, 5, lifetime=600), ba(1.1, 2, 5, lifetime=600)])


def test_ba_grants_more_than_asked_and_reduced() -> None:
    more = run([bu(1.0, 1, 5, lifetime=60), ba(1.1, 2, 5, lifetime=120)])
    assert more["ba_grants_more_than_asked"].frames == (2,) and "ba_lifetime_reduced" not in more
    less = run([bu(1.0, 1, 5, lifetime=60), ba(1.1, 2, 5, lifetime=32)])
    assert less["ba_lifetime_reduced"].frames == (2,) and "ba_grants_more_than_asked" not in less
    same = run([bu(1.0, 1, 5, lifetime=60), ba(1.1, 2, 5, lifetime=60)])
    assert "ba_lifetime_reduced" not in same and "ba_grants_more_than_asked" not in same


def test_binding_expired_without_refresh() -> None:
    found = run([bu(1.0, 1, 5), ba(1.1, 2, 5), from_mn(30.0, 3, COA2)], end_ts=100.0)
    f = found["binding_expired_without_refresh"]
    assert f.frames == (2,) and f.ts == pytest.approx(61.1)  # when the 60 s granted ran out
    refreshed = run([bu(1.0, 1, 5), ba(1.1, 2, 5), bu(50.0, 3, 6), ba(50.1, 4, 6)], end_ts=100.0)
    assert "binding_expired_without_refresh" not in refreshed


def test_brr_unanswered() -> None:
    events = [bu(1.0, 1, 5), ba(1.1, 2, 5), brr(40.0, 3)]
    assert run(events, end_ts=50.0)["brr_unanswered"].frames == (3,)
    assert "brr_unanswered" not in run([*events, bu(40.1, 4, 6), ba(40.2, 5, 6)], end_ts=50.0)


def test_binding_error_received() -> None:
    found = run([cn_bu(1.0, 1, 5), ba(1.1, 2, 5, peer=CN), be(9.0, 3)])
    assert found["binding_error_received"].frames == (3,)
    assert found["binding_error_received"].node == HOA
    assert "binding_error_received" not in run([cn_bu(1.0, 1, 5), ba(1.1, 2, 5, peer=CN)])


# -- tunnels and handoffs ------------------------------------------------------------------------

def test_tunnel_without_binding() -> None:
    expired = [bu(0.5, 1, 5), ba(0.6, 2, 5), to_mn(1.0, 3, COA2), to_mn(70.0, 4, COA2), to_mn(70.02, 5, COA2)]
    assert run(expired)["tunnel_without_binding"].frames == (4, 5)
    assert "tunnel_without_binding" not in run([to_mn(1.0, 1, COA2)])  # nothing known of the node
    assert "tunnel_without_binding" not in run([bu(0.5, 1, 5), ba(0.6, 2, 5), to_mn(1.0, 3, COA2)])


def test_lost_to_old_care_of() -> None:
    # A capture that shows the home agent's ingress (untunnelled data to the home
    # address) but no RA from COA2's link: a probe at the home agent, where the node's
    # packets arrive d late and tunnelled ones need d more (2 x 25 ms allowed).
    # RFC 6275 11.5.1: after the node sent from COA3 (its BU at 2.2) a packet tunnelled
    # to COA2 cannot reach it (lost); between its last packet from COA2 (1.985) less
    # 50 ms and that BU it may or may not have (possibly lost).
    events: list[ev.Event] = [bu(0.5, 1, 5), ba(0.6, 2, 5), to_mn(0.9, 3, None)]
    frame = 10
    for i in range(50):  # data both ways at COA2 until t=1.985
        events += [to_mn(1.0 + i * 0.02, frame, COA2), from_mn(1.005 + i * 0.02, frame + 1, COA2)]
        frame += 2
    possibly = [104, 106, 108]  # tunnelled at 1.94, 1.96, 1.98: after 1.985 - 0.05
    for i in range(5):  # the node left: HA keeps tunnelling to COA2
        events.append(to_mn(2.1 + i * 0.02, frame, COA2))
        possibly.append(frame)
        frame += 1
    events += [ra(2.15, 200, AR3, "2001:db8:3::/64"), bu(2.2, 201, 6, care_of=COA3)]
    for i in range(3):  # after the BU from COA3: lost
        events.append(to_mn(2.21 + i * 0.02, 300 + i, COA2))
    events += [ba(2.3, 400, 6, care_of=COA3), to_mn(2.35, 401, COA3)]
    found = run(events)
    f = found["lost_to_old_care_of"]
    assert f.frames == (300, 301, 302)
    assert f.severity == "warning" and f.node == HOA
    maybe = found["possibly_lost_to_old_care_of"]
    assert maybe.frames == tuple(possibly) and maybe.node == HOA
    quiet = run(events[: 3 + 100] + [ra(2.15, 200, AR2, "2001:db8:2::/64")])
    assert "lost_to_old_care_of" not in quiet and "possibly_lost_to_old_care_of" not in quiet


# -- route optimization ---------------------------------------------------------------------------

def test_hao_without_binding() -> None:
    assert run([hao_data(1.0, 1)])["hao_without_binding"].frames == (1,)
    bound = run([cn_bu(1.0, 1, 5), ba(1.1, 2, 5, peer=CN), hao_data(1.2, 3)])
    assert "hao_without_binding" not in bound and "ro_data_before_ba" not in bound
    after_be = run([cn_bu(1.0, 1, 5), ba(1.1, 2, 5, peer=CN), be(2.0, 3), hao_data(2.5, 4)])
    assert after_be["hao_without_binding"].frames == (4,)


def test_ro_data_before_ba() -> None:
    found = run([cn_bu(1.0, 1, 5), hao_data(1.05, 2), ba(1.1, 3, 5, peer=CN)])
    assert found["ro_data_before_ba"].frames == (2,) and "hao_without_binding" not in found
    assert "ro_data_before_ba" not in run([cn_bu(1.0, 1, 5), ba(1.1, 3, 5, peer=CN), hao_data(1.2, 4)])


def test_rr_cookie_mismatch() -> None:
    found = run([init_msg(1.0, 1, True, "aa"), rr_test(1.1, 2, True, "bb", 3),
                 init_msg(1.0, 3, False, "cc"), rr_test(1.1, 4, False, "cc", 4)])
    assert found["rr_cookie_mismatch"].frames == (2,)
    quiet = run([init_msg(1.0, 1, True, "aa"), rr_test(1.1, 2, True, "aa", 3)])
    assert "rr_cookie_mismatch" not in quiet


def rr(ts: float = 1.0) -> list[ev.Event]:
    return [init_msg(ts, 1, True, "aa"), init_msg(ts, 2, False, "cc"),
            rr_test(ts + 0.1, 3, True, "aa", 5), rr_test(ts + 0.1, 4, False, "cc", 6)]


def test_nonce_index_mismatch() -> None:
    found = run([*rr(), cn_bu(2.0, 5, 1, home_index=7, careof_index=6)])
    assert found["nonce_index_mismatch"].frames == (5,)
    assert "nonce_index_mismatch" not in run([*rr(), cn_bu(2.0, 5, 1, home_index=5, careof_index=6)])


def test_keygen_token_too_old() -> None:
    found = run([*rr(), cn_bu(300.0, 5, 1, home_index=5, careof_index=6)])
    assert found["keygen_token_too_old"].frames == (5,)
    assert "keygen_token_too_old" not in run([*rr(), cn_bu(200.0, 5, 1, home_index=5, careof_index=6)])


# -- security, returning home, discovery -------------------------------------------------------

def test_home_registration_not_protected_is_configurable() -> None:
    events = [bu(1.0, 1, 5), ba(1.1, 2, 5)]
    assert run(events, require_ipsec=True)["home_registration_not_protected"].frames == (1,)
    assert "home_registration_not_protected" not in run(events)
    protected = [replace(bu(1.0, 1, 5), esp=True), ba(1.1, 2, 5)]
    assert "home_registration_not_protected" not in run(protected, require_ipsec=True)


def dereg() -> list[ev.Event]:
    return [bu(1.0, 1, 5), ba(1.1, 2, 5), bu(20.0, 3, 6, care_of=HOA, lifetime=0),
            ba(20.1, 4, 6, care_of=HOA, lifetime=0)]


def test_dereg_without_na_o() -> None:
    assert run(dereg(), end_ts=30.0)["dereg_without_na_o"].frames == (4,)
    assert run([*dereg(), na(20.2, 5, flags="S")], end_ts=30.0)["dereg_without_na_o"].frames == (4,)
    assert run([*dereg(), na(28.0, 5)], end_ts=30.0)["dereg_without_na_o"].frames == (4,)
    assert "dereg_without_na_o" not in run([*dereg(), na(20.2, 5)], end_ts=30.0)


def test_dhaad_without_reply() -> None:
    assert run([icmp(1.0, 1, 144)], end_ts=10.0)["dhaad_without_reply"].frames == (1,)
    assert "dhaad_without_reply" not in run([icmp(1.0, 1, 144), icmp(1.1, 2, 145)], end_ts=10.0)


def test_mps_without_reply() -> None:
    assert run([icmp(1.0, 1, 146)], end_ts=10.0)["mps_without_reply"].frames == (1,)
    assert "mps_without_reply" not in run([icmp(1.0, 1, 146), icmp(1.1, 2, 147)], end_ts=10.0)


def test_findings_carry_registry_fields() -> None:
    f = run([bu(1.0, 1, 10), ba(1.1, 2, 10, status=133)])["ba_status_failure"]
    assert (f.severity, f.rfc) == (kind("ba_status_failure").severity, kind("ba_status_failure").rfc)
    assert f.node == HOA and f.ts == 1.1
    assert COA2 != HA  # builders sanity


def test_a_finding_lists_its_first_frames_and_counts_every_occurrence():
    c = ConformanceAnalyzer(BindingsAnalyzer())
    for i in range(MAX_FRAMES + 5):
        c.add("binding_error_received", HOA, 10.0 + i, (100 + i,), "BE status 1")
    [finding] = c.findings()
    assert finding.frames == tuple(range(100, 100 + MAX_FRAMES)) and finding.ts == 10.0
    assert {type(f) for f in finding.frames} == {int}
    assert finding.message == f"BE status 1 ({MAX_FRAMES + 5} occurrences)"

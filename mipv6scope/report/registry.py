"""The one registry of finding kinds: stable snake_case code, severity
(error | warning | info), the RFC section that makes it a finding, and a
one-line explanation.

Decode issues (`mipv6scope.decode.issues`) share the naming scheme and are
part of the registry: ``kind(code)`` answers for both. Findings produced by
the analyzers (`mipv6scope.analysis.conformance`) are listed here.
"""

from __future__ import annotations

from ..decode.issues import ISSUE_KINDS, IssueKind

FindingKind = IssueKind
"""A finding kind has the same fields as a decode issue kind."""

SEVERITIES = ("error", "warning", "info")

_ANALYSIS_KINDS = [
    # registrations: BU / BA
    FindingKind("a_flag_bu_unacknowledged", "error", "RFC 6275 11.7.1",
                "a Binding Update with the A flag set was never answered by a Binding Acknowledgement"),
    FindingKind("ba_without_matching_bu", "warning", "RFC 6275 11.7.3",
                "a Binding Acknowledgement answers no Binding Update seen (peer, home address or sequence)"),
    FindingKind("ba_for_answered_registration", "info", "RFC 6275 9.5.4, 10.3.1",
                "a Binding Acknowledgement answers a Binding Update of a registration another BA answered "
                "already (the answer to a retransmission, or a duplicate)"),
    FindingKind("ba_status_failure", "warning", "RFC 6275 6.1.8",
                "a Binding Acknowledgement rejected the registration (status 128 or above)"),
    FindingKind("bu_sequence_not_increasing", "warning", "RFC 6275 9.5.1",
                "a new Binding Update's sequence number is not greater (mod 2^16) than the previous one"),
    FindingKind("bu_sequence_out_of_window", "warning", "RFC 6275 9.5.1",
                "the peer rejected the Binding Update's sequence number (status 135, out of window)"),
    FindingKind("bu_retransmission_reused_sequence", "warning", "RFC 6275 11.8",
                "a retransmitted Binding Update repeats the previous transmission's sequence number "
                "(it must use a greater one)"),
    FindingKind("bu_retransmission_schedule", "warning", "RFC 6275 11.8, 13",
                "BU retransmissions come sooner than the timer (InitialBindackTimeoutFirstReg 1.5 s for "
                "a first home registration, else INITIAL_BINDACK_TIMEOUT 1 s, doubling each time), "
                "or wait longer than MAX_BINDACK_TIMEOUT"),
    FindingKind("bu_rate_exceeded", "warning", "RFC 6275 11.8",
                "more than MAX_UPDATE_RATE Binding Updates a second to one destination"),
    FindingKind("bu_to_cn_with_home_flags", "error", "RFC 6275 11.7.2",
                "a Binding Update to a correspondent has the H, L or K flag set"),
    FindingKind("cn_binding_too_long", "warning", "RFC 6275 5.2.6",
                "a correspondent binding lifetime exceeds MAX_RR_BINDING_LIFETIME"),
    FindingKind("ba_grants_more_than_asked", "error", "RFC 6275 10.3.1",
                "a Binding Acknowledgement grants a longer lifetime than the Binding Update asked"),
    FindingKind("ba_lifetime_reduced", "info", "RFC 6275 10.3.1",
                "a Binding Acknowledgement grants a shorter lifetime than the Binding Update asked"),
    FindingKind("binding_expired_without_refresh", "warning", "RFC 6275 11.7.1",
                "a binding's lifetime ran out without a refreshing Binding Update"),
    FindingKind("binding_refreshed_at_expiry", "info", "RFC 6275 6.1.7, 10.3.1",
                "a refresh Binding Update sent before a binding's lifetime ran out was acknowledged only "
                "at or after that moment: whether the peer's entry lapsed in between cannot be seen"),
    FindingKind("refresh_advice_not_below_lifetime", "warning", "RFC 6275 6.2.4",
                "a Binding Acknowledgement's Binding Refresh Advice is not shorter than the lifetime it grants"),
    FindingKind("brr_unanswered", "warning", "RFC 6275 11.7.4",
                "a Binding Refresh Request was not followed by a Binding Update to its sender"),
    FindingKind("binding_error_received", "warning", "RFC 6275 9.3.3",
                "a Binding Error was sent to the mobile node (status names the reason)"),
    # tunnels and handoffs
    FindingKind("tunnel_without_binding", "error", "RFC 6275 10.4.1",
                "the home agent tunnelled packets to a care-of address with no valid binding, "
                "or packets were reverse-tunnelled to it from one (10.4.5)"),
    FindingKind("lost_to_old_care_of", "warning", "RFC 6275 11.5.1",
                "the home agent tunnelled packets to a care-of address the node had already left"),
    FindingKind("possibly_lost_to_old_care_of", "info", "RFC 6275 11.5.1",
                "the home agent tunnelled packets to the old care-of address between the node's last "
                "packet from it and its first from the new one: they may not have reached it"),
    # route optimization
    FindingKind("hao_without_binding", "warning", "RFC 6275 9.3.1",
                "data with a Home Address option went to a correspondent that has no binding for it"),
    FindingKind("ro_data_before_ba", "warning", "RFC 6275 11.7.2",
                "route-optimised data went to a correspondent before its Binding Acknowledgement"),
    FindingKind("rr_cookie_mismatch", "error", "RFC 6275 11.6.2",
                "a Home Test or Care-of Test carries a cookie no matching Test Init sent"),
    FindingKind("nonce_index_mismatch", "error", "RFC 6275 11.7.2",
                "a Binding Update to a correspondent carries nonce indices no Home/Care-of Test gave "
                "(a care-of index: to its care-of address)"),
    FindingKind("keygen_token_too_old", "warning", "RFC 6275 5.2.7",
                "a Binding Update used a keygen token received more than MAX_TOKEN_LIFETIME earlier"),
    # security, returning home, discovery
    FindingKind("home_registration_not_protected", "warning", "RFC 6275 5.1",
                "a home registration Binding Update was readable, not protected by IPsec ESP"),
    FindingKind("dereg_without_na_o", "warning", "RFC 6275 11.5.4",
                "a home deregistration was not followed by a Neighbor Advertisement with the O flag"),
    FindingKind("dhaad_without_reply", "warning", "RFC 6275 11.4.1",
                "a DHAAD request got no reply"),
    FindingKind("mps_without_reply", "warning", "RFC 6275 11.4.2",
                "a Mobile Prefix Solicitation got no advertisement"),
]

ANALYSIS_KINDS: dict[str, FindingKind] = {k.code: k for k in _ANALYSIS_KINDS}

_overlap = ANALYSIS_KINDS.keys() & ISSUE_KINDS.keys()
assert not _overlap, f"finding codes clash with decode issue codes: {_overlap}"

KINDS: dict[str, FindingKind] = {**ISSUE_KINDS, **ANALYSIS_KINDS}
"""Every code: decode issues first, then the analyzers' findings."""


def kind(code: str) -> FindingKind:
    """The kind of ``code`` (decode issue or finding); KeyError if unknown."""
    return KINDS[code]


def is_known(code: str) -> bool:
    """Whether ``code`` is in the registry."""
    return code in KINDS


def all_kinds() -> list[FindingKind]:
    """Every kind, decode issues first, in registry order."""
    return list(KINDS.values())

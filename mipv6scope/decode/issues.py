"""Per-frame decode issues: one registry of stable snake_case codes.

Every problem the decoder can see in a single frame has a code here, with a
severity, the RFC section that makes it a problem and a one-line explanation.
Analyzers that come later add their findings to the same naming scheme.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..frozen_init import fast_frozen_inits


@dataclass(frozen=True, slots=True)
class IssueKind:
    """What a decode issue code means."""

    code: str
    severity: str  # "error" | "warning" | "info"
    rfc: str
    explanation: str


@dataclass(frozen=True, slots=True)
class Issue:
    """One decode issue seen on one frame: code, header layer, byte detail."""

    code: str
    layer: str
    detail: str

    def to_dict(self) -> dict[str, str]:
        """The issue as the jsonl record holds it."""
        return {"code": self.code, "layer": self.layer, "detail": self.detail}


_KINDS = [
    # capture / link / network layer
    IssueKind("truncated_by_snaplen", "warning", "",
              "the capture snap length cut the frame inside a header the decoder needed: what "
              "the missing bytes held (inner header, ports, mobility options) is not counted"),
    IssueKind("truncated_header", "error", "RFC 8200 4",
              "the packet ends inside a header although the capture kept the whole frame"),
    IssueKind("ip6_payload_length_mismatch", "warning", "RFC 8200 3",
              "the IPv6 payload length disagrees with the bytes on the wire"),
    IssueKind("ext_header_beyond_payload", "error", "RFC 8200 4",
              "an extension header runs past the IPv6 payload length (Zeek: invalid_IP_header_size)"),
    IssueKind("bad_ip_version", "error", "RFC 8200 3",
              "a header announced as IPv6 does not start with version 6"),
    IssueKind("decoder_error", "error", "",
              "the decoder failed on this frame (a mipv6scope bug: please report it)"),
    IssueKind("too_many_headers", "error", "",
              "the header chain is longer than the decoder follows"),
    IssueKind("timestamp_out_of_range", "warning", "",
              "the frame's capture time is not a date between 1970-01-01 and 9999-12-31 "
              "(or not a finite number): shown as raw seconds"),
    # destination options and the Home Address option
    IssueKind("bad_ipv6_dest_opt_len", "error", "RFC 8200 4.2",
              "an option in a Destination Options header runs past the end of the header"),
    IssueKind("bad_home_addr_len", "error", "RFC 6275 6.3",
              "the Home Address option's length is not 16"),
    IssueKind("multiple_home_addr_opts", "error", "RFC 6275 6.3",
              "a packet carries more than one Home Address option"),
    IssueKind("hao_misaligned", "warning", "RFC 6275 6.3",
              "the Home Address option is not at an 8n+6 offset"),
    # type 2 routing header
    IssueKind("rh2_segs_left_not_one", "error", "RFC 6275 6.4",
              "a type 2 routing header has Segments Left other than 1"),
    IssueKind("bad_routing2_len", "error", "RFC 6275 6.4",
              "a type 2 routing header does not hold exactly one address (Hdr Ext Len must be 2)"),
    # Mobility Header
    IssueKind("bad_mh_checksum", "error", "RFC 6275 6.1.1",
              "the Mobility Header checksum matches neither the upper-layer nor the on-wire addresses"),
    IssueKind("mh_checksum_over_care_of", "error", "RFC 6275 6.1.1, 9.2",
              "the Mobility Header checksum verifies only with the care-of address in the "
              "pseudo-header where the home address belongs (HAO source or RH2 final destination): "
              "a conforming receiver discards the message"),
    IssueKind("mh_type_unknown", "warning", "RFC 6275 9.2",
              "the MH Type is not one IANA defines: a conforming receiver discards the message "
              "and answers with a Binding Error, status 2 (unrecognized MH Type value)"),
    IssueKind("mh_payload_proto_not_59", "warning", "RFC 6275 6.1.1",
              "the Mobility Header's Payload Proto is not 59 (piggybacking is not allowed)"),
    IssueKind("mh_len_below_minimum", "error", "RFC 6275 9.2",
              "the Mobility Header's Header Len is shorter than its message type needs"),
    IssueKind("mh_len_beyond_packet", "error", "RFC 6275 6.1.1",
              "the Mobility Header's Header Len runs past the end of the packet"),
    IssueKind("mh_draft_protocol_number", "info", "RFC 6275 6.1",
              "the Mobility Header is carried with next header 62, the pre-RFC draft number"),
    IssueKind("mh_option_overrun", "error", "RFC 6275 6.2",
              "a mobility option's length runs past the end of the Mobility Header"),
    IssueKind("mh_option_bad_length", "error", "RFC 6275 6.2",
              "a mobility option's length differs from its fixed length"),
    IssueKind("mh_prefix_length_invalid", "error", "RFC 3963 6.2",
              "a Mobile Network Prefix option's prefix length is greater than 128"),
    # TCP and UDP (outer or tunnelled)
    IssueKind("bad_tcp_checksum", "warning", "RFC 9293 3.1, RFC 8200 8.1",
              "the TCP checksum is wrong over the IPv6 pseudo-header (home address for a HAO, "
              "final destination for an RH2); a capture taken on the sending host with checksum "
              "offload shows this too"),
    IssueKind("bad_udp_checksum", "warning", "RFC 768, RFC 8200 8.1",
              "the UDP checksum is wrong or zero (not allowed over IPv6) over the IPv6 "
              "pseudo-header; a capture taken on the sending host with checksum offload shows this too"),
    # ICMPv6 and neighbour discovery
    IssueKind("icmp6_too_short", "error", "RFC 4443 2.1",
              "the ICMPv6 message is shorter than its type needs"),
    IssueKind("nd_option_zero_length", "error", "RFC 4861 4.6",
              "a neighbour discovery option has length 0"),
    IssueKind("nd_option_overrun", "error", "RFC 4861 4.6",
              "a neighbour discovery option runs past the end of the message"),
    IssueKind("nd_option_bad_length", "error", "RFC 6275 7.3",
              "a neighbour discovery option has the wrong length for its type"),
    IssueKind("nd_prefix_length_invalid", "error", "RFC 4861 4.6.2",
              "a Prefix Information option's prefix length is greater than 128"),
    # IPsec
    IssueKind("esp_too_short", "error", "RFC 4303 2",
              "the ESP header is shorter than SPI and sequence number"),
    IssueKind("ah_too_short", "error", "RFC 4302 2",
              "the AH header is shorter than it says"),
    IssueKind("esp_icv_mismatch", "error", "RFC 4303 3.4.4.1",
              "the ESP Integrity Check Value does not match the --esp-sa SA's keys: a receiver "
              "discards the packet (what it carries is still shown and analysed)"),
    IssueKind("esp_decrypt_failed", "warning", "RFC 4303 2.4",
              "the --esp-sa SA matching this ESP packet does not decrypt it (wrong key or "
              "algorithm: the trailer cannot be right); it stays opaque"),
]

ISSUE_KINDS: dict[str, IssueKind] = {k.code: k for k in _KINDS}


MAX_PREFIX_LENGTH = 128
"""The longest IPv6 prefix: a prefix length above it is a decode issue."""

# The capture times a date can show: 1970-01-01T00:00:00 to 9999-12-31T23:59:59.999999 UTC.
MIN_DATE_TS = 0.0
MAX_DATE_TS = 253_402_300_800.0


def timestamp_in_range(ts: float) -> bool:
    """Whether ``ts`` (seconds since the epoch) is finite and shows as a date
    from 1970-01-01 to 9999-12-31 (UTC); False for anything else, never raises."""
    try:
        return MIN_DATE_TS <= ts < MAX_DATE_TS  # NaN compares False
    except TypeError:
        return False


def issue_kind(code: str) -> IssueKind:
    """Look a code up; unknown codes are a programming error."""
    return ISSUE_KINDS[code]


fast_frozen_inits(globals())  # every record above: a faster __init__, the same objects

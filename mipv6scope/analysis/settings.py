"""The RFC 6275 protocol constants the analyzers use, as one overridable
settings object. Defaults are RFC 6275's; where the book (draft era) used a
different value it is noted beside the field."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    """Named RFC 6275 constants (section 12) plus the analyzers' own knobs.

    Override with ``dataclasses.replace(Settings(), MAX_BINDACK_TIMEOUT=256)``.
    """

    INITIAL_BINDACK_TIMEOUT: float = 1.0            # s, RFC 6275 12
    INITIAL_BINDACK_TIMEOUT_FIRST_REG: float = 1.5  # s, RFC 6275 12 (InitialBindackTimeoutFirstReg)
    MAX_BINDACK_TIMEOUT: float = 32.0               # s, RFC 6275 12 (the book: 256 s)
    MAX_UPDATE_RATE: int = 3                        # BUs per second to one destination
    MAX_RR_BINDING_LIFETIME: float = 420.0          # s
    MAX_NONCE_LIFETIME: float = 240.0               # s
    MAX_TOKEN_LIFETIME: float = 210.0               # s
    MIN_DELAY_BETWEEN_RAS: float = 0.03             # s, RFC 6275 7.5 (the book: 0.05 s)
    MAX_RA_DELAY_TIME: float = 0.5                  # s, RFC 4861 10: solicited RA delay

    RETRANSMISSION_TOLERANCE: float = 0.1
    """Relative slack on the BU back-off schedule (RFC 6275 11.8): a
    retransmission earlier than (1 - this) x its timer, or later than
    (1 + this) x MAX_BINDACK_TIMEOUT after the previous BU, is
    ``bu_retransmission_schedule``. Covers timer granularity and the capture's
    time stamping; later than the timer (but within MAX_BINDACK_TIMEOUT) is
    never a finding, since a vantage that misses a BU sees a longer gap."""

    # Handoff measurement (not RFC constants; see handoffs.py).
    HANDOFF_PATH_DELAY_S: float = 0.025
    """One-way home agent <-> care-of delay d, for when the capture cannot
    measure it. Where it shows both ends (the old access link and the home
    agent's ingress) the old address's BU -> BA time is used instead; at a
    probe by the home agent, or a tap of unknown place, a packet tunnelled up
    to 2 x this before the node's last packet from the old address (as seen)
    may still have arrived after it: it is possibly lost (see handoffs.py)."""
    DISRUPTION_IDLE_GAP_S: float = 1.0
    """A silence longer than this (no packet to or from the node on either
    path, signalling included) inside a handoff's disruption window means the
    application was idle there, not cut off: the window is then not the
    disruption, and the BU -> BA time from the new address stands for it
    (``disruption_bounded_by_idle``). One second is fifty voice packets (the
    seed's 20 ms) and several round trips of an interactive flow."""
    MOVEMENT_FROM_FIRST_PACKET: bool = False
    """Also take the first packet from the new care-of address as the movement
    hint when no RA with its prefix was seen (the issue's wording; the truth
    files leave movement_ts null then, so it is off by default)."""


DEFAULT_SETTINGS = Settings()

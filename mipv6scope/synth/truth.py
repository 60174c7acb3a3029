"""The truth file written beside every generated capture (FILE.truth.json).

It is computed from the scenario's own schedule: a scenario fills this
structure with values it decided (addresses, sequence numbers, lifetimes,
how a binding ended) and with placeholders from `engine` (FirstFrame, FirstTs,
Frames, Count, Bytes ...) for everything that depends on which frames the
chosen vantage holds; `engine.resolve` fills those in after writing. Anything
the vantage cannot see resolves to null (or 0 / [] for counts and frame lists).

Schema (keys always present):

    schema_version: 2
    scenario, seed, vantage, linktype, format, frames (int), parameters {...}
    mobile_nodes: [{
        name, home_address, home_agent,
        care_of_addresses: [addr, ...]                 in the order used
        bindings: [{peer, kind: "home"|"correspondent", care_of,
                    start_ts, end_ts, start_frame,     start = the accepting BA
                    seq, requested_lifetime_s, granted_lifetime_s,
                    ended_by: "refresh"|"new_care_of"|"deregistration"|"expiry"|
                              "binding_error"|"capture_end",
                    bu_frames: [..], ba_frame, status}]  in force only: a rejected
                                                     registration is not a binding;
                                                     bu_frames: every BU of the
                                                     registration (retransmissions
                                                     carry new numbers, RFC 6275 11.8)
        rejected_registrations: [{peer, care_of, seq, requested_lifetime_s,
                    bu_frames: [..], ba_frame, ba_ts, status}]   status >= 128
        unanswered_registrations: [{peer, care_of, seq, bu_frames: [..]}]
                                                     attempts no BA answered in the
                                                     capture (seq: the last BU's)
        handoffs: [{from_care_of, to_care_of, movement_ts, bu_ts, ba_ts,
                    first_data_ts, bu_retransmissions, lost_to_old_care_of,
                    lost_frames: [..], outcome, status, answered_ts,
                    bu_frames: [..], registration_ms}]
                    one entry per chain of home BUs for one new care-of
                    address (RFC 6275 11.8: retransmissions carry new
                    sequence numbers; 11.7.3: a rejection ends the chain, the
                    retry is a new chain), as the written vantage shows it:
                    outcome "completed" | "rejected" (status: the BA's,
                    >= 128) | "no_answer" | "superseded"; bu_frames the
                    chain's BUs, bu_ts its first, bu_retransmissions
                    len(bu_frames) - 1; ba_ts the accepting BA (null unless
                    completed); answered_ts the BA answering the chain,
                    accepting or rejecting; registration_ms = ba_ts - bu_ts
                    (ms, 3 decimals); first_data_ts only when completed.
                    lost_to_old_care_of / lost_frames: the packets the home
                    agent tunnelled to from_care_of after the node had left
                    it (the generator knows when it left), counted in the
                    chain in progress when the home agent sent them (up to
                    and including its answering BA; the first chain from the
                    departure on). An analyzer sees no departure: it counts
                    as lost what followed the node's first packet from the
                    new address and as possibly lost what came between its
                    last from the old one and that, so per handoff
                    analyzer lost <= truth lost <= analyzer lost + possibly lost.
        route_optimization: [{correspondent,
                    transitions: [{ts, frame, state, reason}],
                    state in tunnelled|rr_started|rr_done|bu_sent|ro_active|fallback,
                    active_intervals: [{start_ts, end_ts, ended_by, open}],
                                                     open: still active at the capture's
                                                     end (end_ts = its last frame's time)
                    packets_direct, packets_tunnelled}]
    }]
    tunnels: [{home_agent, care_of, home_address,
               to_mn {packets, bytes}, from_mn {packets, bytes},
               outside_binding {packets, frames}}]
    findings: [{code, frames: [..]}]                   what an analyzer must report
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .engine import CaptureOptions, Count, FirstTs, Frames, Ledger, resolve

SCHEMA_VERSION = 2


def truth_document(scenario: str, seed: int, options: CaptureOptions, parameters: dict[str, Any],
                   body: dict[str, Any], ledger: Ledger) -> dict[str, Any]:
    """The whole truth file: header fields plus the scenario's body, resolved."""
    for node in body.get("mobile_nodes", []):
        node.setdefault("rejected_registrations", [])
        node.setdefault("unanswered_registrations", [])
    doc = {
        "schema_version": SCHEMA_VERSION,
        "scenario": scenario,
        "seed": seed,
        "vantage": options.vantage,
        "linktype": options.linktype,
        "format": options.fmt,
        "frames": ledger.frames,
        "parameters": parameters,
        "mobile_nodes": body.get("mobile_nodes", []),
        "tunnels": body.get("tunnels", []),
        "findings": body.get("findings", []),
    }
    resolved = resolve(doc, ledger)
    for node in resolved["mobile_nodes"]:
        for handoff in node.get("handoffs", []):
            _derive_handoff(handoff)
    return resolved


def _derive_handoff(handoff: dict[str, Any]) -> None:
    """The handoff fields that follow from its resolved frames and times:
    retransmissions (what the vantage shows of the chain) and registration_ms."""
    frames = handoff.get("bu_frames")
    if frames is not None:
        handoff["bu_retransmissions"] = max(len(frames) - 1, 0)
    bu_ts, ba_ts = handoff.get("bu_ts"), handoff.get("ba_ts")
    completed = handoff.get("outcome", "completed") == "completed"
    handoff["registration_ms"] = (round((ba_ts - bu_ts) * 1000, 3)
                                  if completed and bu_ts is not None and ba_ts is not None else None)


def handoff_entry(from_care_of: str, to_care_of: str, *, movement_label: str, chain_label: str,
                  answer_label: str | None, first_data_label: str, lost_label: str,
                  outcome: str = "completed", status: int | None = None) -> dict[str, Any]:
    """One truth handoff (a chain of home BUs for ``to_care_of``) from the
    generator's labels: ``chain_label`` on every BU of the chain,
    ``answer_label`` on the BA answering it (None: no BA), ``lost_label`` on
    the packets tunnelled to ``from_care_of`` after the node left, counted in
    this chain. `truth_document` derives bu_retransmissions and registration_ms."""
    completed = outcome == "completed"
    return {
        "from_care_of": from_care_of, "to_care_of": to_care_of,
        "movement_ts": FirstTs(movement_label), "bu_ts": FirstTs(chain_label),
        "ba_ts": FirstTs(answer_label) if completed and answer_label else None,
        "first_data_ts": FirstTs(first_data_label) if completed else None,
        "bu_retransmissions": 0, "lost_to_old_care_of": Count(lost_label), "lost_frames": Frames(lost_label),
        "outcome": outcome, "status": status,
        "answered_ts": FirstTs(answer_label) if answer_label else None,
        "bu_frames": Frames(chain_label), "registration_ms": None,
    }


def write_truth(path: str | Path, document: dict[str, Any]) -> None:
    """Write the truth JSON with stable key order and formatting (byte-identical reruns)."""
    Path(path).write_text(json.dumps(document, indent=1, sort_keys=False) + "\n")

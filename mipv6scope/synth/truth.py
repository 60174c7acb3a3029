"""The truth file written beside every generated capture (FILE.truth.json).

It is computed from the scenario's own schedule: a scenario fills this
structure with values it decided (addresses, sequence numbers, lifetimes,
how a binding ended) and with placeholders from `engine` (FirstFrame, FirstTs,
Frames, Count, Bytes ...) for everything that depends on which frames the
chosen vantage holds; `engine.resolve` fills those in after writing. Anything
the vantage cannot see resolves to null (or 0 / [] for counts and frame lists).

Schema (keys always present):

    schema_version: 1
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
                    lost_frames: [..]}]              bu_ts: the first BU from the new
                                                     care-of (rejected or not), ba_ts:
                                                     the BA that accepted it
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

from .engine import CaptureOptions, Ledger, resolve

SCHEMA_VERSION = 1


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
    return resolve(doc, ledger)


def write_truth(path: str | Path, document: dict[str, Any]) -> None:
    """Write the truth JSON with stable key order and formatting (byte-identical reruns)."""
    Path(path).write_text(json.dumps(document, indent=1, sort_keys=False) + "\n")

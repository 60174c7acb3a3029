"""FilterContext: what the analysis fields (`mn`, `coa`, `ha`, `cn`, `lost`,
`retransmission`, `handoff`, `issue`) need from a Report, precomputed once.

Everything here is sized by nodes, registrations, handoffs and findings, never
by frames. Frame numbers are those of the report (per file; with several files
a number stands for that frame of every file).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from ipaddress import IPv6Address
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the report model is only needed for from_report
    from ..report.model import Handoff, Report

LOST_CODE = "lost_to_old_care_of"


@dataclass(frozen=True, slots=True)
class NodeRef:
    """One mobile node as `mn` compares it: its index in the report, its name
    (from --names) and its home addresses (first first)."""

    index: int
    name: str | None
    home_addresses: tuple[IPv6Address, ...]

    def __str__(self) -> str:
        return self.name or str(self.home_addresses[0])


@dataclass(frozen=True, slots=True)
class HandoffWindow:
    """The Nth handoff (1-based, per node) of a node: earliest to latest of its times."""

    node: int
    number: int
    start_ts: float
    end_ts: float


@dataclass
class FilterContext:
    """Sets and maps the analysis fields look frames and addresses up in."""

    nodes: tuple[NodeRef, ...] = ()
    node_of_address: dict[IPv6Address, tuple[int, ...]] = field(default_factory=dict)
    care_of_addresses: frozenset[IPv6Address] = frozenset()
    home_agents: frozenset[IPv6Address] = frozenset()
    correspondents: frozenset[IPv6Address] = frozenset()
    lost_frames: frozenset[int] = frozenset()
    retransmission_frames: frozenset[int] = frozenset()
    codes_by_frame: dict[int, frozenset[str]] = field(default_factory=dict)
    handoffs_by_node: dict[int, tuple[HandoffWindow, ...]] = field(default_factory=dict)
    all_handoffs: tuple[HandoffWindow, ...] = ()
    first_ts: float | None = None

    @classmethod
    def from_report(cls, report: Report) -> FilterContext:
        """Precompute everything the analysis fields need from ``report``."""
        nodes: list[NodeRef] = []
        owners: dict[IPv6Address, list[int]] = {}
        care_of: set[IPv6Address] = set()
        home_agents: set[IPv6Address] = set(report.home_agents)
        retrans: set[int] = set()
        windows: dict[int, tuple[HandoffWindow, ...]] = {}
        for index, node in enumerate(report.mobile_nodes):
            hoas = tuple(node.home_addresses or (node.home_address,))
            nodes.append(NodeRef(index, node.name, hoas))
            for address in (*hoas, *node.care_of_addresses):
                owners.setdefault(address, [])
                if index not in owners[address]:
                    owners[address].append(index)
            care_of.update(node.care_of_addresses)
            care_of.update(b.care_of for b in node.bindings)
            if node.home_agent is not None:
                home_agents.add(node.home_agent)
            for registration in node.registrations:
                retrans.update(registration.bu_frames[1:])
            windows[index] = tuple(_windows(index, node.handoffs))
        care_of.difference_update(a for n in nodes for a in n.home_addresses)
        codes: dict[int, set[str]] = {}
        lost: set[int] = set()
        for finding in report.findings:
            for frame in finding.frames:
                codes.setdefault(frame, set()).add(finding.code)
            if finding.code == LOST_CODE:
                lost.update(finding.frames)
        return cls(
            nodes=tuple(nodes),
            node_of_address={a: tuple(i) for a, i in owners.items()},
            care_of_addresses=frozenset(care_of),
            home_agents=frozenset(home_agents),
            correspondents=frozenset(report.correspondents),
            lost_frames=frozenset(lost),
            retransmission_frames=frozenset(retrans),
            codes_by_frame={f: frozenset(c) for f, c in codes.items()},
            handoffs_by_node=windows,
            all_handoffs=tuple(sorted((w for ws in windows.values() for w in ws),
                                      key=lambda w: w.start_ts)),
            first_ts=report.capture.first_ts,
        )

    def nodes_of(self, addresses: Iterable[IPv6Address]) -> tuple[NodeRef, ...]:
        """The mobile nodes owning any of ``addresses`` (home or care-of), each once."""
        found: list[int] = []
        lookup = self.node_of_address
        for address in addresses:
            for index in lookup.get(address, ()):
                if index not in found:
                    found.append(index)
        return tuple(self.nodes[i] for i in found)

    def known_nodes(self) -> list[str]:
        """Every name and home address `mn ==` accepts, as text."""
        out: list[str] = []
        for node in self.nodes:
            if node.name:
                out.append(node.name)
            out.extend(str(a) for a in node.home_addresses)
        return out


def _windows(node: int, handoffs: Iterable[Handoff]) -> list[HandoffWindow]:
    out = []
    for number, handoff in enumerate(handoffs, start=1):
        times = [t for t in (handoff.movement_ts, handoff.bu_ts, handoff.ba_ts,
                             handoff.first_data_ts) if t is not None]
        if times:
            out.append(HandoffWindow(node, number, min(times), max(times)))
    return out

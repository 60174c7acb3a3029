"""`fleet`: many mobile nodes moving independently, for scale and benchmarks.

Every node (params.mobile_nodes) belongs to one of params.home_agents home
agents and talks to one of params.correspondents correspondents. It arrives
on a foreign link (RA), registers with its home agent (BU with HAO, BA with
RH2; in ESP with NULL encryption for a share params.esp_share of the nodes,
or all with --esp null), carries voice (RTP over UDP, params.data_rate
packets/s each way) through the bidirectional tunnel, refreshes its binding
before it expires, and hands off at params.handoff_rate per second to another
access router: new RA, new care-of address, BU/BA; the home agent tunnels to
the old care-of address until the new BU reaches it (packets only the home
agent's probe sees). A share params.ro_share of the nodes run return
routability and route optimisation with their correspondent after each
registration on a new link (direct voice with HAO and RH2). Every packet is
lost with probability params.loss; lost BUs and BAs are retransmitted with
exponential back-off (RFC 6275 11.8).

The schedule is planned per node up front (`fleet_plan`); packets stream from
it in timestamp order (`fleet_stream`, `fleet_signal`), so memory grows with
the nodes, not with the frames.

Truth: per node its bindings, handoffs and route-optimisation episodes, with
engine placeholders for the few signalling frames. Packets lost to an old
care-of address are labelled per visit left ({mn}/lost/visit/{pos}), so a
node that leaves the same care-of address twice has each handoff's own count. The bulk counts (per
tunnel packets and bytes each way, direct and tunnelled voice per node) are
tallied by the stream itself while it yields packets, instead of labelling
every voice packet: a label per packet would make the ledger keep up to
10,000 frame numbers per tunnel, i.e. memory growing with the frames. They
are exact for the written vantage because every yielded packet is written.
"""

from __future__ import annotations

from collections.abc import Iterator
from ipaddress import IPv6Address
from typing import Any

from ..engine import Count, FirstFrame, FirstTs, Frames, Packet, Sighting
from ..truth import handoff_entry
from . import Built, ScenarioParams
from .fleet_plan import RO_LIFETIME_UNITS, T0, MNPlan, attempts, plan_mobile_node
from .fleet_plan import answered as answered_by
from .fleet_signal import signalling_flow
from .fleet_stream import World, merge, voice_flow


def _mac(role: int, index: int) -> str:
    return f"02:{role:02x}:00:{(index >> 16) & 0xFF:02x}:{(index >> 8) & 0xFF:02x}:{index & 0xFF:02x}"


def _nodes(params: ScenarioParams) -> tuple[list, list, list]:
    """(home agents, correspondents, access routers) as tuples of address/prefix and MACs."""
    has = [(f"2001:db8:a{j:03x}::1", _mac(0x20, j), _mac(0x21, j)) for j in range(params.home_agents)]
    cns = [(f"2001:db8:c{k:03x}::9", _mac(0x30, k), _mac(0x31, k)) for k in range(params.correspondents)]
    count = max(4, min(4096, params.mobile_nodes // 4))
    ars = [(int(IPv6Address(f"2001:db8:f{r:03x}::")), _mac(0x40, r), f"fe80::40:{r:x}") for r in range(count)]
    return has, cns, ars


def build(params: ScenarioParams) -> Built:
    """Plan every node, describe the truth, and return a streaming Built."""
    if params.mobile_nodes < 1 or params.home_agents < 1 or params.correspondents < 1:
        raise ValueError("fleet needs at least one mobile node, home agent and correspondent")
    has, cns, ars = _nodes(params)
    end = T0 + params.duration
    esp_all = params.options.esp_null
    plans = []
    for i in range(params.mobile_nodes):
        plan = plan_mobile_node(params.seed, i, params, len(ars), end)
        plan.esp = plan.esp or esp_all
        plans.append(plan)
    world_args = (has, cns, ars, end, params.data_rate, params.loss, params.seed)
    tallies = [_new_tally(World("all", *world_args), p) for p in plans]
    truth = _truth(World("all", *world_args), plans, tallies, end, params.options.vantage)

    def sightings(vantage: str) -> Iterator[tuple[Sighting, Packet]]:
        world = World(vantage, *world_args)
        for tally in tallies:
            _reset(tally)
        flows = []
        for plan, tally in zip(plans, tallies, strict=True):
            flows.append(signalling_flow(world, plan, tally))
            flows.append(voice_flow(world, plan, tally, True))
            flows.append(voice_flow(world, plan, tally, False))
        return merge(world, flows)

    parameters = {"mobile_nodes": params.mobile_nodes, "home_agents": params.home_agents,
                  "correspondents": params.correspondents, "duration": params.duration,
                  "handoff_rate": params.handoff_rate, "loss": params.loss,
                  "ro_share": params.ro_share, "esp_share": params.esp_share,
                  "data_rate": params.data_rate}
    return Built(sightings, truth, parameters)


def _new_tally(world: World, plan: MNPlan) -> dict[str, Any]:
    tunnels = {}
    for pos in range(len(plan.visits)):
        coa = world.coa(plan, pos)
        tunnels[coa] = {"to_mn": {"packets": 0, "bytes": 0}, "from_mn": {"packets": 0, "bytes": 0}}
    return {"tunnels": tunnels, "ro": {"packets_direct": 0, "packets_tunnelled": 0}}


def _reset(tally: dict[str, Any]) -> None:
    for entry in tally["tunnels"].values():
        for side in entry.values():
            side["packets"] = side["bytes"] = 0
    tally["ro"]["packets_direct"] = tally["ro"]["packets_tunnelled"] = 0


def _truth(world: World, plans: list[MNPlan], tallies: list[dict[str, Any]], end: float,
           vantage: str) -> dict[str, Any]:
    nodes, tunnels = [], []
    end_ts = round(end, 6)
    for plan, tally in zip(plans, tallies, strict=True):
        name = plan.name
        ha = world.ha_nodes[plan.ha][0]
        coas = [world.coa(plan, pos) for pos in range(len(plan.visits))]
        bindings, handoffs, unanswered = _home_truth(name, ha, coas, plan, vantage, end_ts)
        ro = []
        if plan.ro:
            cn = world.cn_nodes[plan.cn][0]
            transitions, intervals = [], []
            for n, ep in enumerate(plan.episodes):
                base = f"{name}/ro/{ep.seq}"
                for state, label, reason in (("rr_started", "hoti", "HoTI sent"), ("rr_done", "hot", "HoT received"),
                                             ("bu_sent", "bu", "BU to correspondent"),
                                             ("ro_active", "ba", "BA from correspondent")):
                    transitions.append({"ts": FirstTs(f"{base}/{label}"), "frame": FirstFrame(f"{base}/{label}"),
                                        "state": state, "reason": reason})
                nxt = plan.episodes[n + 1] if n + 1 < len(plan.episodes) else None
                moved = nxt is not None and nxt.pos != ep.pos
                bindings.append({
                    "peer": cn, "kind": "correspondent", "care_of": coas[ep.pos],
                    "start_ts": FirstTs(f"{base}/ba"), "start_frame": FirstFrame(f"{base}/ba"),
                    "end_ts": FirstTs(f"{name}/ro/{nxt.seq}/ba") if nxt else end_ts,
                    "seq": ep.seq, "requested_lifetime_s": RO_LIFETIME_UNITS * 4,
                    "granted_lifetime_s": RO_LIFETIME_UNITS * 4,
                    "ended_by": ("new_care_of" if moved else "refresh") if nxt else "capture_end",
                    "bu_frames": Frames(f"{base}/bu"), "ba_frame": FirstFrame(f"{base}/ba"), "status": 0,
                })
                intervals.append({"start_ts": FirstTs(f"{base}/ba"),
                                  "end_ts": FirstTs(f"{name}/ro/{nxt.seq}/ba") if nxt else end_ts,
                                  "ended_by": ("movement" if moved else "refresh") if nxt else "capture_end"})
            entry = tally["ro"]  # the stream fills packets_direct / packets_tunnelled in
            entry.update({"correspondent": cn, "transitions": transitions, "active_intervals": intervals})
            ro.append(entry)
        nodes.append({"name": name, "home_address": plan.home_address, "home_agent": ha,
                      "care_of_addresses": coas, "bindings": bindings,
                      "unanswered_registrations": unanswered, "handoffs": handoffs,
                      "route_optimization": ro, "esp": plan.esp})
        for pos, coa in enumerate(coas):
            counts = tally["tunnels"][coa]
            if coa in coas[:pos]:
                continue
            tunnels.append({"home_agent": ha, "care_of": coa, "home_address": plan.home_address,
                            "to_mn": counts["to_mn"], "from_mn": counts["from_mn"],
                            "outside_binding": {"packets": Count(f"{name}/lost/{coa}"),
                                                "frames": Frames(f"{name}/lost/{coa}")}})
    return {"mobile_nodes": nodes, "tunnels": tunnels, "findings": []}


def _home_truth(name: str, ha: str, coas: list[str], plan: MNPlan, vantage: str,
                end_ts: float) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """(home bindings, handoffs, unanswered registrations) of one node as the
    written vantage shows them: every BA it sees answers one registration
    attempt and opens (or refreshes) a binding (`fleet_plan.attempts`); the
    home agent's link sees a BA that the node never got, and the node's
    retransmission then refreshes that binding."""
    answered: list[tuple[Any, list]] = []     # (registration, attempt), in time order
    unanswered = []
    for reg in plan.registrations:
        for chain in attempts(reg, vantage):
            if answered_by(chain[-1], vantage):
                answered.append((reg, chain))
            else:
                unanswered.append({"peer": ha, "care_of": coas[reg.pos], "seq": chain[-1].seq,
                                   "bu_frames": Frames(f"{name}/attempt/{chain[0].seq}")})
    bindings = []
    for i, (reg, chain) in enumerate(answered):
        ba_label = f"{name}/ba/{chain[-1].seq}"
        nxt = answered[i + 1] if i + 1 < len(answered) else None
        bindings.append({
            "peer": ha, "kind": "home", "care_of": coas[reg.pos],
            "start_ts": FirstTs(ba_label),
            "end_ts": FirstTs(f"{name}/ba/{nxt[1][-1].seq}") if nxt else end_ts,
            "start_frame": FirstFrame(ba_label), "seq": chain[-1].seq,
            "requested_lifetime_s": reg.requested_units * 4, "granted_lifetime_s": reg.granted_units * 4,
            "ended_by": ("new_care_of" if nxt[0].pos != reg.pos else "refresh") if nxt else "capture_end",
            "bu_frames": Frames(f"{name}/attempt/{chain[0].seq}"), "ba_frame": FirstFrame(ba_label),
            "status": 0,
        })
    handoffs = []
    for reg in plan.registrations:
        if reg.kind != "handoff":
            continue
        # The node stays until it is registered: a handoff is the registration's first
        # chain as the vantage shows it (a later one re-registers the same address), and
        # every packet lost to the old address belongs to it (RFC 6275 11.8).
        chain = attempts(reg, vantage)[0]
        done = answered_by(chain[-1], vantage)
        handoffs.append(handoff_entry(
            coas[reg.pos - 1], coas[reg.pos], movement_label=f"{name}/movement/visit/{reg.pos}",
            chain_label=f"{name}/attempt/{chain[0].seq}",
            answer_label=f"{name}/ba/{chain[-1].seq}" if done else None,
            first_data_label=f"{name}/first_data/{reg.pos}", lost_label=f"{name}/lost/visit/{reg.pos - 1}",
            outcome="completed" if done else "no_answer"))
    return bindings, handoffs, unanswered

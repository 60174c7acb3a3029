"""The `handoff` scenario: one mobile node, its home agent, one correspondent,
and three links (home, foreign links 2 and 3), about two and a half minutes.

The story: the node starts at home, where it talks plainly to the
correspondent for a second (a short voice call of its own, uplink only: what
shows it at home to a probe at the home agent, whose RAs it sends whether the
node is there or not). It moves to link 2 (RS, RA with
the new prefix = movement hint), runs DHAAD, registers (BU A H + HAO, BA + RH2,
lifetime 60 s), asks for the home prefix (MPS/MPA), and talks to the
correspondent through the bidirectional tunnel: voice in talk spurts (20 ms,
one direction at a time, both directions around each move) and TCP downloads.
It refreshes the binding before expiry, moves to link 3 (the home agent keeps
tunnelling to the old care-of address until the new BU reaches it: those
packets are seen only by the ha probe, counted as lost and listed as the
``lost_to_old_care_of`` finding), refreshes again,
and returns home: NS/NA, deregistration BU (lifetime 0 from the home address),
BA, NA with O; the call goes on plainly on the home link for a few seconds.

Handoffs in the truth: home address -> care-of 2, care-of 2 -> care-of 3, and
care-of 3 -> home address (the home address stands for "at home").
"""

from __future__ import annotations

import bisect
from typing import Any

from ..engine import Bytes, Count, FirstFrame, FirstTs, Frames, for_vantage
from ..exchanges import (
    Registration,
    TcpFlow,
    VoiceFlow,
    attach,
    deregister_at_home,
    dhaad,
    make_correspondent,
    make_mobile_node,
    make_router,
    prefix_discovery,
    register,
    router_advertisement,
    tunnel_label,
)
from ..truth import handoff_entry
from ..world import MobileNode, Node, World
from . import Built, ScenarioParams

T0 = 1_700_000_000.0
LIFETIME_UNITS = 15  # 60 s: short enough that every stay needs a refresh
HA_CN_S = 0.010      # nominal CN -> HA delay used to decide where a packet goes


class Timeline:
    """Step functions of time: where the node is, what the home agent's binding
    holds, and whether the node can send (its current registration is done)."""

    def __init__(self) -> None:
        self.where: list[tuple[float, Node | None | str]] = [(0.0, None)]   # "gone" while detached
        self.binding: list[tuple[float, str | None]] = [(0.0, None)]
        self.ready: list[tuple[float, bool]] = [(0.0, False)]
        self.quiet: list[tuple[Node, float, float]] = []  # arrival .. solicited RA

    @staticmethod
    def at(steps: list[tuple[float, Any]], t: float) -> Any:
        """The value of a step function at ``t``."""
        return steps[bisect.bisect_right([s[0] for s in steps], t) - 1][1]


def _stay(world: World, mn: MobileNode, router: Node | None, arrive: float, first: bool,
          esp: bool, line: Timeline, regs: list[Registration]) -> float:
    """Arrive on a link and register there (home: deregister). Returns the BA's arrival."""
    line.where.append((arrive, router))
    ra_ts = attach(world, mn, router, arrive)
    line.quiet.append((router or mn.home_agent, arrive - 0.5, ra_ts + 0.5))
    if router is None:
        reg = deregister_at_home(world, mn, round(ra_ts + world.rng.uniform(0.05, 0.2), 6), esp)
        line.binding.append((reg.bu_at_ha, None))
    else:
        t = ra_ts + world.rng.uniform(0.05, 0.3)
        if first:
            t = dhaad(world, mn, round(t, 6))[1] + 0.01
        reg = register(world, mn, round(t, 6), LIFETIME_UNITS, esp=esp)
        line.binding.append((reg.bu_at_ha, reg.care_of))
    line.ready.append((reg.ba_at_mn, True))
    regs.append(reg)
    return reg.ba_at_mn


def _refreshes(world: World, mn: MobileNode, after: float, leave: float, esp: bool,
               line: Timeline, regs: list[Registration]) -> None:
    """Refresh the binding at 80-90 % of its lifetime while the node stays."""
    t = after
    while True:
        t += LIFETIME_UNITS * 4 * world.rng.uniform(0.8, 0.9)
        if t > leave - 2:
            return
        reg = register(world, mn, round(t, 6), LIFETIME_UNITS, esp=esp)
        line.binding.append((reg.bu_at_ha, reg.care_of))
        regs.append(reg)
        t = reg.ba_at_mn


def _spurts(world: World, start: float, end: float, on: tuple[float, float],
            off: tuple[float, float]) -> list[tuple[float, float]]:
    """Alternating talk spurts in [start, end)."""
    spans, t = [], start + world.rng.uniform(*off) / 2
    while t < end:
        length = world.rng.uniform(*on)
        spans.append((t, min(end, t + length)))
        t += length + world.rng.uniform(*off)
    return spans


def _ticks(spans: list[tuple[float, float]], origin: float, step: float = 0.020) -> list[float]:
    """The ticks of one 20 ms clock started at ``origin`` that fall inside any span."""
    out: set[int] = set()
    for a, b in spans:
        k = max(0, int((a - origin) / step))
        while origin + k * step < b:
            if origin + k * step >= a:
                out.add(k)
            k += 1
    return [round(origin + k * step, 6) for k in sorted(out)]


def build(params: ScenarioParams) -> Built:
    """Build the handoff story (see the module docstring)."""
    world = World(params.seed)
    rng, esp = world.rng, params.options.esp_null
    ha = make_router("ha1", 1, "2001:db8:1::", "ha")
    ar2, ar3 = make_router("ar2", 2, "2001:db8:2::"), make_router("ar3", 3, "2001:db8:3::")
    cn = make_correspondent("cn1", 1, "2001:db8:9::9")
    mn = make_mobile_node("mn1", 1, ha, "::100")
    line, regs = Timeline(), []

    # -- signalling, in time order -------------------------------------------------------
    leave1 = T0 + rng.uniform(6, 9)
    leave2 = leave1 + rng.uniform(65, 75)
    leave3 = leave2 + rng.uniform(55, 65)
    end = leave3 + rng.uniform(6, 8)
    stays = [(ar2, leave1, leave2), (ar3, leave2, leave3), (None, leave3, end)]
    handoff_regs: list[Registration] = []
    for i, (router, leave, until) in enumerate(stays):
        line.where.append((leave, "gone"))
        line.ready.append((leave, False))
        arrive = leave + rng.uniform(0.05, 0.2)
        ba_at = _stay(world, mn, router, arrive, i == 0, esp, line, regs)
        handoff_regs.append(regs[-1])
        if i == 0:
            prefix_discovery(world, mn, round(ba_at + rng.uniform(0.5, 1.5), 6))
        if router is not None:
            _refreshes(world, mn, ba_at, until, esp, line, regs)

    # -- router advertisements on every link, whoever hears them --------------------------
    for router in (ha, ar2, ar3):
        t = T0 + rng.uniform(0, 1)
        while t < end:
            if not any(r is router and a <= t <= b for r, a, b in line.quiet):
                where = Timeline.at(line.where, t)
                _place(mn, where)  # a detached node hears no RA
                router_advertisement(world, router, round(t, 6), None if where == "gone" else mn, 2000)
            t += rng.uniform(1.0, 3.0)

    # -- data: voice in talk spurts, TCP downloads ----------------------------------------
    start = regs[0].ba_at_mn + 0.5
    voice, tcp = VoiceFlow(mn, cn), TcpFlow(mn, cn)
    down = _spurts(world, start, end, (0.6, 1.5), (5.0, 12.0))
    up = _spurts(world, start + 3.0, end, (0.6, 1.5), (5.0, 12.0))
    for reg in handoff_regs[1:]:  # both ways around each move
        left = max(t for t, w in line.where if w == "gone" and t < reg.bu_ts)
        down.append((left - 1.0, reg.ba_at_mn + 1.0))
        up.append((left - 1.0, reg.ba_at_mn + 1.0))
    for t in _ticks(down, start):
        _to_mn(world, mn, line, t + rng.uniform(0, 0.002), voice.to_mn)
    for t in _ticks(up, start + 0.007):
        _from_mn(world, mn, line, t + rng.uniform(0, 0.002), voice.from_mn)
    t = start + rng.uniform(2, 6)
    while t < end - 1:
        _tcp_burst(world, mn, line, t, tcp)
        t += rng.uniform(8, 20)
    _home_call(world, mn, cn, line)

    return Built(lambda vantage: for_vantage(world.packets, vantage),
                 _truth(mn, [ar2, ar3], regs, handoff_regs),
                 {"mobile_nodes": 1, "home_agents": 1, "correspondents": 1,
                  "binding_lifetime_s": LIFETIME_UNITS * 4, "esp_null": esp})


HOME_CALL = (2.0, 3.0)  # seconds after T0; the node leaves home 6-9 s after T0


def _home_call(world: World, mn: MobileNode, cn: Node, line: Timeline) -> None:
    """The node's talk spurt at home, plainly on the home link (a call of its
    own, port 5006). Made after every other packet so the random draws of the
    rest of the story stay as they were."""
    call = VoiceFlow(mn, cn, port=5006)
    _place(mn, None)
    for t in _ticks([(T0 + HOME_CALL[0], T0 + HOME_CALL[1])], T0 + HOME_CALL[0]):
        assert Timeline.at(line.where, t) is None  # still at home
        call.from_mn(world, round(t + world.rng.uniform(0, 0.002), 6))


def _place(mn: MobileNode, where: Node | None | str) -> None:
    """Set the node's link for emitting packets (detached: leave it as it was)."""
    if where == "gone":
        return
    if where is None:
        mn.access_router, mn.care_of = None, None
    else:
        assert isinstance(where, Node)
        mn.access_router, mn.care_of = where, mn.care_of_on(where)


def _to_mn(world: World, mn: MobileNode, line: Timeline, ts: float, send: Any,
           **kw: Any) -> float | None:
    """Send one packet towards the node by the home agent's binding at that time;
    returns its arrival time at the node, or None when it does not get there."""
    at_ha = ts + HA_CN_S
    via = Timeline.at(line.binding, at_ha)
    where = Timeline.at(line.where, at_ha + 0.025)
    at_home = where is None
    if via is None and not at_home:
        return None  # before the first registration: no call
    reaches = (via is None and at_home) or (
        isinstance(where, Node) and via == mn.care_of_on(where))
    _place(mn, where)
    arrive = send(world, ts, via, reaches_mn=reaches, **kw)
    return arrive if reaches else None


def _from_mn(world: World, mn: MobileNode, line: Timeline, ts: float, send: Any, **kw: Any) -> bool:
    """Send one packet from the node if it is registered where it is."""
    if not Timeline.at(line.ready, ts):
        return False
    _place(mn, Timeline.at(line.where, ts))
    send(world, ts, **kw)
    return True


def _tcp_burst(world: World, mn: MobileNode, line: Timeline, t: float, tcp: TcpFlow) -> None:
    """A request, then 3-6 data segments with an ACK for every second one sent
    when it arrives, if the node stays registered where it is for the burst."""
    if not (Timeline.at(line.ready, t) and Timeline.at(line.ready, t + 0.8)):
        return
    if Timeline.at(line.where, t) != Timeline.at(line.where, t + 0.8):
        return
    _from_mn(world, mn, line, round(t, 6), tcp.from_mn, size=120)
    t += 0.06
    count, arrivals = world.rng.randint(3, 6), []
    for _ in range(count):
        arrive = _to_mn(world, mn, line, round(t, 6), tcp.to_mn, size=1200)
        arrivals.append((arrive, tcp.cn_seq))
        t += 0.025  # more than the CN-HA delay: an "all" capture keeps both legs in order
    for k, (arrive, acked) in enumerate(arrivals):
        if arrive is not None and (k % 2 == 1 or k == count - 1):
            _from_mn(world, mn, line, round(arrive + 0.0005, 6), tcp.from_mn, ack=acked)


def _truth(mn: MobileNode, routers: list[Node], regs: list[Registration],
           handoff_regs: list[Registration]) -> dict[str, Any]:
    """The truth body, with placeholders resolved per vantage after writing."""
    ha, hoa = mn.home_agent.address, mn.home_address
    bindings = []
    for i, reg in enumerate(regs):
        if reg.care_of == hoa:
            continue  # the deregistration ends a binding; it is not one
        nxt = regs[i + 1] if i + 1 < len(regs) else None
        ended_by = ("capture_end" if nxt is None else "deregistration" if nxt.care_of == hoa
                    else "refresh" if nxt.care_of == reg.care_of else "new_care_of")
        bindings.append({
            "peer": ha, "kind": "home", "care_of": reg.care_of,
            "start_ts": FirstTs(reg.ba_label), "end_ts": FirstTs(nxt.ba_label) if nxt else None,
            "start_frame": FirstFrame(reg.ba_label), "seq": reg.seq,
            "requested_lifetime_s": reg.requested_units * 4,
            "granted_lifetime_s": reg.granted_units * 4, "ended_by": ended_by,
            "bu_frames": Frames(reg.bu_label), "ba_frame": FirstFrame(reg.ba_label),
            "status": reg.status})
    handoffs, previous = [], hoa
    for reg in handoff_regs:  # one BU each, accepted; every address is left once
        handoffs.append(handoff_entry(
            previous, reg.care_of, movement_label=f"{mn.name}/movement/{reg.care_of}",
            chain_label=reg.bu_label, answer_label=reg.ba_label,
            first_data_label=f"{mn.name}/data_to_mn/{reg.care_of}", lost_label=f"{mn.name}/lost/{previous}"))
        previous = reg.care_of
    coas = [mn.care_of_on(r) for r in routers]
    tunnels = [{
        "home_agent": ha, "care_of": coa, "home_address": hoa,
        "to_mn": {"packets": Count(tunnel_label(mn, coa, "to_mn")),
                  "bytes": Bytes(tunnel_label(mn, coa, "to_mn"))},
        "from_mn": {"packets": Count(tunnel_label(mn, coa, "from_mn")),
                    "bytes": Bytes(tunnel_label(mn, coa, "from_mn"))},
        "outside_binding": {"packets": Count(tunnel_label(mn, coa, "outside_binding")),
                            "frames": Frames(tunnel_label(mn, coa, "outside_binding"))},
    } for coa in coas]
    node = {"name": mn.name, "home_address": hoa, "home_agent": ha,
            "care_of_addresses": coas, "bindings": bindings, "handoffs": handoffs,
            "route_optimization": []}
    # What the HA tunnelled to an address the node had left: the analyzer's
    # lost_to_old_care_of finding, on the frames the handoffs list as lost.
    findings = [{"code": "lost_to_old_care_of", "frames": Frames(f"{mn.name}/lost")}]
    return {"mobile_nodes": [node], "tunnels": tunnels, "findings": findings}

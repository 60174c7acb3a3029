"""The `recovery` scenario: a home registration that goes wrong in every way
RFC 6275 plans for, and recovers each time. One mobile node, home agents ha1
(its own) and ha2 (on the same home link, not serving this node), one
correspondent talking voice through the tunnel in one-second bursts.

Story:
1. First home registration after boot from foreign link ar2: the first three
   BUs are lost on the way (emitted by the node, seen only by the mn probe),
   retransmitted after InitialBindackTimeoutFirstReg 1.5 s and then 3 s and
   6 s (RFC 6275 11.8, doubling up to MAX_BINDACK_TIMEOUT 32 s), each with a
   sequence number one greater than the previous transmission's ("Retransmitted
   Binding Updates MUST use a Sequence Number value greater than that used for
   the previous transmission", 11.8); the fourth reaches ha1, which answers
   its number and grants 120 s of the 600 s asked (BA lifetime < BU lifetime).
2. About 80 s later ha1 sends a Binding Refresh Request; the node refreshes
   (new BU, same care-of address): the first binding ends by refresh.
3. The node reboots and forgets its sequence number: its BU carries one behind
   the last accepted, ha1 answers status 135 (sequence number out of window)
   with the last accepted sequence number; the node retries with that + 1 and
   is accepted (ending the previous binding by refresh).
4. The node moves to link ar3 and, with a stale home-agent setting, registers
   with ha2, which answers status 133 (not home agent for this mobile node);
   it retries with ha1 and is accepted (the ar2 binding ends by new care-of).
   Until then ha1 still tunnels voice to the old care-of address (lost).
5. The node goes silent: it neither refreshes nor answers ha1's last Binding
   Refresh Request. ha1 tunnels the correspondent's voice to the care-of
   address until the binding's lifetime runs out, then stops (the voice still
   reaches the home link, not tunnelled).

Truth: the bindings in force (a rejected registration is not a binding) and,
per node, ``rejected_registrations`` (the status 135 and 133 attempts). The
move of step 4 is two handoffs (two chains of BUs for the new address, RFC
6275 11.7.3): the one to ha2, rejected with 133, and the retry at ha1,
completed; each counts the voice lost to the old care-of address while it was
in progress (the rejected one up to its BA, the retry after it).

Finding codes (snake_case, for the analyzer's code registry; the correct
back-off chain of step 1 is no finding):
- ba_status_failure              BAs with status >= 128 other than 135 (here 133)
- bu_sequence_out_of_window      the BU the home agent rejected with status 135,
                                 and that BA (one finding for the one problem)
- ba_lifetime_reduced            accepting BAs granting less than the BU asked
- lost_to_old_care_of            data the home agent tunnelled to a care-of
                                 address the node had left
- brr_unanswered                 a Binding Refresh Request no BU followed
- binding_expired_without_refresh  the accepting BA of the binding that expired

Labels: `exchanges`' ({mn}/bu/{seq}, {mn}/ba/{seq}, tunnel/..., {mn}/lost/{coa},
flow/...), plus {mn}/lost/{coa}/{seq} (the lost packets of the handoff whose
BU has that number), {mn}/brr/{n}, {mn}/bu_retx (retransmissions), {mn}/chain/{seq}
(every BU of the registration attempt whose first BU has that number),
{mn}/lifetime_reduced, {mn}/after_expiry (voice the HA no longer tunnels).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ...decode import mh
from .. import exchanges as ex
from ..build import mh_packet, tunnel, udp_packet
from ..engine import Bytes, Count, FirstFrame, FirstTs, Frames, for_vantage
from ..samples import voice_payload
from ..truth import handoff_entry
from ..world import MobileNode, Node, World, mac_for
from . import Built, ScenarioParams

T0 = 1_700_000_000.0
REQUESTED_UNITS = 150  # 600 s asked
GRANTED_UNITS = 30     # 120 s granted
BURST = 50             # voice packets each way per one-second burst
BACKOFF_FIRST_REG = 1.5  # InitialBindackTimeoutFirstReg
MAX_BINDACK_TIMEOUT = 32.0


class _Story:
    """The world, the cast and the truth being collected."""

    def __init__(self, params: ScenarioParams) -> None:
        self.world = World(params.seed)
        self.esp = params.options.esp_null
        self.ha1 = ex.make_router("ha1", 1, "2001:db8:1::", "ha")
        ha2_mac = mac_for(2, 0xA1)
        self.ha2 = replace(self.ha1, name="ha2", address="2001:db8:1::2", mac=ha2_mac,
                           link_local=ex.link_local_for(ha2_mac))
        self.ar2 = ex.make_router("ar2", 2, "2001:db8:2::")
        self.ar3 = ex.make_router("ar3", 3, "2001:db8:3::")
        self.cn = ex.make_correspondent("cn1", 1, "2001:db8:9::9")
        self.mn: MobileNode = ex.make_mobile_node("mn1", 1, self.ha1, "::100")
        self.voice = ex.VoiceFlow(self.mn, self.cn)
        self.bindings: list[dict[str, Any]] = []
        self.rejected: list[dict[str, Any]] = []
        self.brr_count = 0

    # -- signalling ---------------------------------------------------------------------

    def bu(self, ts: float, seq: int, lost: bool = False, extra: tuple[str, ...] = ()) -> float:
        """One BU from the current care-of address to the node's current home agent;
        a lost one is seen only by the mn probe. Returns the arrival at the HA."""
        world = self.world
        at_ha = ex.binding_update(world, self.mn, ts, seq, REQUESTED_UNITS, self.esp, extra)
        if lost:
            packet = world.packets[-1]
            world.packets[-1] = replace(packet, seen_at={"mn": packet.seen_at["mn"]})
        return at_ha

    def ba(self, at_ha: float, seq: int, status: int = 0, granted: int = GRANTED_UNITS,
           reaches_mn: bool = True, labels: tuple[str, ...] = ()) -> float:
        """The home agent's BA (rejections carry lifetime 0); returns its arrival."""
        name = self.mn.name
        if status >= 128:
            extra: tuple[str, ...] = (f"{name}/ba_failure", f"{name}/ba/{seq}/{status}", *labels)
        else:
            extra = (f"{name}/lifetime_reduced",) if granted < REQUESTED_UNITS else ()
        return ex.binding_ack(self.world, self.mn, round(at_ha + ex.HA_PROCESSING_S, 6), seq,
                              granted if status < 128 else 0, status, self.esp, extra,
                              reaches_mn=reaches_mn)

    def brr(self, ts: float, reaches_mn: bool = True) -> tuple[float, str]:
        """A Binding Refresh Request from the home agent to the home address;
        (arrival, label). A Mobility Header message is never sent with a type 2
        routing header nor by the binding cache (RFC 6275 6.1), so the home
        agent tunnels it to the care-of address like any packet for the home
        address (10.4.2): it counts in the tunnel."""
        self.brr_count += 1
        label = f"{self.mn.name}/brr/{self.brr_count}"
        mn = self.mn
        assert mn.care_of is not None
        ha = mn.home_agent.address
        packet = tunnel(ha, mn.care_of, mh_packet(ha, mn.home_address, mh.BRR()))
        labels = (label, ex.tunnel_label(mn, mn.care_of, "to_mn"))
        return self.world.ha_to_mn(ts, mn, packet, labels, reaches_mn), label

    def binding(self, seq: int, ha: Node, care_of: str, ended_by: str, end: Any,
                bu_label: str | None = None) -> None:
        """Record a binding opened by the BA answering ``seq`` for the truth file
        (``bu_label``: the label of all the registration's BUs, default its one BU)."""
        mn = self.mn
        self.bindings.append({
            "peer": ha.address, "kind": "home", "care_of": care_of,
            "start_ts": FirstTs(f"{mn.name}/ba/{seq}"), "end_ts": end,
            "start_frame": FirstFrame(f"{mn.name}/ba/{seq}"), "seq": seq,
            "requested_lifetime_s": REQUESTED_UNITS * 4, "granted_lifetime_s": GRANTED_UNITS * 4,
            "ended_by": ended_by, "bu_frames": Frames(bu_label or f"{mn.name}/bu/{seq}"),
            "ba_frame": FirstFrame(f"{mn.name}/ba/{seq}"), "status": 0})

    def rejection(self, seq: int, ha: Node, care_of: str, status: int, ba_label: str) -> None:
        """Record a rejected registration (not a binding) for the truth file."""
        mn = self.mn
        self.rejected.append({
            "peer": ha.address, "care_of": care_of, "seq": seq, "requested_lifetime_s": REQUESTED_UNITS * 4,
            "bu_frames": Frames(f"{mn.name}/bu/{seq}"), "ba_frame": FirstFrame(ba_label),
            "ba_ts": FirstTs(ba_label), "status": status})

    # -- data -----------------------------------------------------------------------------

    def burst(self, ts: float, via: str | None, reaches_mn: bool = True, mn_sends: bool = True) -> float:
        """One second of voice each way (the node's side only if ``mn_sends``)."""
        for i in range(BURST):
            t = round(ts + i * 0.020, 6)
            self.voice.to_mn(self.world, t, via, reaches_mn)
            if mn_sends:
                self.voice.from_mn(self.world, round(t + 0.008, 6))
        return ts + BURST * 0.020

    def plain_to_home(self, ts: float, count: int) -> float:
        """Voice the correspondent still sends once the binding is gone: it reaches
        the home agent's link and is not tunnelled."""
        mn, cn = self.mn, self.cn
        for i in range(count):
            self.voice.seq_to_mn += 1
            inner = udp_packet(cn.address, mn.home_address, self.voice.port, self.voice.port,
                               voice_payload(self.voice.seq_to_mn))
            self.world.cn_to_ha(round(ts + i * 0.020, 6), mn.home_agent, cn, inner,
                                (self.voice.label, f"{mn.name}/after_expiry"))
        return ts + count * 0.020


def build(params: ScenarioParams) -> Built:
    """Build the recovery story (deterministic from params.seed)."""
    st = _Story(params)
    world, mn, ha1, ha2 = st.world, st.mn, st.ha1, st.ha2
    rng = world.rng
    name = mn.name
    mn.seq = rng.randrange(0x100, 0x8000)

    # 1. boot on ar2, DHAAD, first registration: three lost BUs, back-off 1.5 / 3 / 6 s,
    #    each retransmission with the next sequence number; the BA answers the last
    coa2 = ex.move(mn, st.ar2)
    t = T0 + round(rng.uniform(0.05, 0.3), 6)
    ex.router_advertisement(world, st.ar2, t, mn, labels=(f"{name}/movement/{coa2}",))
    _, t = ex.dhaad(world, mn, t + 0.05)
    chain1 = f"{name}/chain/{(mn.seq + 1) & 0xFFFF}"
    t = round(t + 0.01, 6)
    timeout = BACKOFF_FIRST_REG
    for attempt in range(4):
        seq1 = mn.next_seq()
        extra = (chain1, f"{name}/bu_retx") if attempt else (chain1,)
        at_ha = st.bu(t, seq1, lost=attempt < 3, extra=extra)
        if attempt < 3:
            t = round(t + timeout + rng.uniform(0.0, 0.02), 6)
            timeout = min(2 * timeout, MAX_BINDACK_TIMEOUT)
    ba1_at_ha = at_ha
    t = st.ba(at_ha, seq1)
    for k in range(8):  # voice bursts every ~10 s
        t = st.burst(round(t + (0.02 if k == 0 else rng.uniform(8.0, 11.0)), 6), coa2)

    # 2. BRR from ha1 about 80 s into the binding; the node refreshes
    t_brr = round(ba1_at_ha + 80.0 + rng.uniform(0.0, 2.0), 6)
    at_mn, _ = st.brr(t_brr)
    seq2 = mn.next_seq()
    at_ha = st.bu(round(at_mn + 0.003, 6), seq2)
    st.binding(seq1, ha1, coa2, "refresh", FirstTs(f"{name}/ba/{seq2}"), chain1)
    t = st.ba(at_ha, seq2)
    t = st.burst(round(t + 1.0, 6), coa2)

    # 3. reboot: sequence number behind the last accepted -> 135; retry last + 1
    t = round(t + 20.0 + rng.uniform(0.0, 3.0), 6)
    stale = (seq2 - rng.randrange(100, 20000)) & 0xFFFF
    at_ha = st.bu(t, stale, extra=(f"{name}/out_of_window",))
    # carries the last accepted sequence number
    t = st.ba(at_ha, seq2, status=135, granted=0, labels=(f"{name}/out_of_window",))
    st.rejection(stale, ha1, coa2, 135, f"{name}/ba/{seq2}/135")
    mn.seq = seq2
    seq3 = mn.next_seq()
    at_ha = st.bu(round(t + 0.005, 6), seq3)
    st.binding(seq2, ha1, coa2, "refresh", FirstTs(f"{name}/ba/{seq3}"))
    t = st.ba(at_ha, seq3)
    t = st.burst(round(t + 0.5, 6), coa2)
    t = st.burst(round(t + 9.0, 6), coa2)

    # 4. move to ar3; registration with ha2 -> 133; retry with ha1; voice lost meanwhile
    ex.periodic_ras(world, st.ar2, T0 + 2.0, t + 1.0, mn, 2.0, 5.0)
    t_move = round(t + 1.0, 6)
    coa3 = ex.move(mn, st.ar3)
    ex.router_advertisement(world, st.ar3, t_move, mn, labels=(f"{name}/movement/{coa3}",))
    mn.home_agent = ha2
    seq4 = mn.next_seq()
    at_ha = st.bu(round(t_move + 0.05, 6), seq4)
    rejected_at = round(at_ha + ex.HA_PROCESSING_S, 6)  # ha2 sends its 133 BA
    t = st.ba(at_ha, seq4, status=133, granted=0)
    st.rejection(seq4, ha2, coa3, 133, f"{name}/ba/{seq4}")
    mn.home_agent = ha1
    seq5 = mn.next_seq()
    at_ha = st.bu(round(t + 0.01, 6), seq5)
    st.binding(seq3, ha1, coa2, "new_care_of", FirstTs(f"{name}/ba/{seq5}"))
    t = st.ba(at_ha, seq5)
    ba5_at_ha = at_ha
    lost_ts = t_move  # ha1 still tunnels to coa2 until the new binding: lost
    while lost_ts + 0.012 < ba5_at_ha:
        st.voice.to_mn(world, round(lost_ts, 6), coa2, reaches_mn=False)
        lost_ts += 0.020
    # each lost packet counts in the chain in progress when ha1 sent it: the
    # rejected one up to its BA, the retry after it
    lost = f"{name}/lost/{coa2}"
    world.packets = [replace(p, labels=(*p.labels, f"{lost}/{seq4 if p.sent.ts <= rejected_at else seq5}"))
                     if lost in p.labels else p for p in world.packets]
    movement = f"{name}/movement/{coa3}"
    handoffs = [
        handoff_entry(coa2, coa3, movement_label=movement, chain_label=f"{name}/bu/{seq4}",
                      answer_label=f"{name}/ba/{seq4}", first_data_label=f"{name}/data_to_mn/{coa3}",
                      lost_label=f"{lost}/{seq4}", outcome="rejected", status=133),
        handoff_entry(coa2, coa3, movement_label=movement, chain_label=f"{name}/bu/{seq5}",
                      answer_label=f"{name}/ba/{seq5}", first_data_label=f"{name}/data_to_mn/{coa3}",
                      lost_label=f"{lost}/{seq5}"),
    ]
    t = st.burst(round(t + 0.02, 6), coa3)
    t = st.burst(round(t + 8.0, 6), coa3)

    # 5. silence: no refresh; the unanswered BRR; tunnel until expiry, then plain
    expiry = round(ba5_at_ha + ex.HA_PROCESSING_S + GRANTED_UNITS * 4, 6)
    t = round(t + 5.0, 6)
    while t < expiry - 1.5:
        t = st.burst(t, coa3, reaches_mn=False, mn_sends=False)
        t = round(t + rng.uniform(9.0, 12.0), 6)
    _, brr2 = st.brr(round(expiry - 10.0, 6), reaches_mn=False)
    st.binding(seq5, ha1, coa3, "expiry", expiry)
    end = st.plain_to_home(round(expiry + 0.5, 6), BURST)
    ex.periodic_ras(world, st.ar3, t_move + 2.0, end, mn, 2.0, 5.0)
    ex.periodic_ras(world, ha1, T0 + 0.5, end, mn, 2.0, 5.0)
    order = [seq1, seq2, seq3, seq5]
    st.bindings.sort(key=lambda b: order.index(b["seq"]))

    findings = [
        {"code": "ba_status_failure", "frames": Frames(f"{name}/ba/{seq4}")},
        {"code": "bu_sequence_out_of_window", "frames": Frames(f"{name}/out_of_window")},
        {"code": "ba_lifetime_reduced", "frames": Frames(f"{name}/lifetime_reduced")},
        {"code": "lost_to_old_care_of", "frames": Frames(f"{name}/lost/{coa2}")},
        {"code": "brr_unanswered", "frames": Frames(brr2)},
        {"code": "binding_expired_without_refresh", "frames": Frames(f"{name}/ba/{seq5}")},
    ]
    truth = {
        "mobile_nodes": [{
            "name": name, "home_address": mn.home_address, "home_agent": ha1.address,
            "care_of_addresses": [coa2, coa3], "bindings": st.bindings,
            "rejected_registrations": st.rejected, "handoffs": handoffs,
            "route_optimization": []}],
        "tunnels": [_tunnel_truth(mn, coa2), _tunnel_truth(mn, coa3)],
        "findings": findings,
    }
    packets = world.packets
    return Built(lambda vantage: for_vantage(packets, vantage), truth,
                 {"esp_null": st.esp, "requested_lifetime_s": REQUESTED_UNITS * 4,
                  "granted_lifetime_s": GRANTED_UNITS * 4})


def _tunnel_truth(mn: MobileNode, care_of: str) -> dict[str, Any]:
    labels = {d: ex.tunnel_label(mn, care_of, d) for d in ("to_mn", "from_mn", "outside_binding")}
    return {"home_agent": mn.home_agent.address, "care_of": care_of, "home_address": mn.home_address,
            "to_mn": {"packets": Count(labels["to_mn"]), "bytes": Bytes(labels["to_mn"])},
            "from_mn": {"packets": Count(labels["from_mn"]), "bytes": Bytes(labels["from_mn"])},
            "outside_binding": {"packets": Count(labels["outside_binding"]),
                                "frames": Frames(labels["outside_binding"])}}

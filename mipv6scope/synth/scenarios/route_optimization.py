"""The `route-optimization` scenario: one mobile node, its home agent and one
correspondent, through every route-optimisation state of RFC 6275 5.2 / 11.6.

Story (times after the start, roughly):
 0 s   the node is on foreign link ar2 (RA with a new prefix), DHAAD, home
       registration (BU A H + HAO, BA + RH2), voice through the tunnel.
 1.5 s return routability 1 (HoTI/HoT through the tunnel, CoTI/CoT direct),
       BU to the CN (Nonce Indices, Binding Authorization Data), BA from the
       CN, route-optimised voice (HAO one way, RH2 the other).
 4 s   the CN has lost its binding cache (it rebooted): the node's next HAO
       packet is answered by a Binding Error status 1; back to the tunnel.
 5.5 s return routability 2, BU/BA, route-optimised voice again.
8 s    the node moves to link ar3 (RA with a new prefix, new care-of address,
       home BU/BA): route optimisation falls back (movement), voice goes through
       the tunnel to the new care-of address for 0.2 s. The home keygen
       token is still fresh, so only CoTI/CoT run (RR 3), then a new BU to the
       CN from the new care-of address, and route-optimised voice to the end.

Truth: the home bindings (ended_by new_care_of / capture_end), the correspondent
bindings (binding_error, new_care_of, capture_end), the handoff, and per
correspondent the transitions
    tunnelled -> rr_started -> rr_done -> bu_sent -> ro_active
    -> fallback(binding_error) -> rr_started ... -> ro_active
    -> fallback(movement) -> rr_started ... -> ro_active
each with the timestamp and frame of the packet that caused it (first tunnelled
data, HoTI or CoTI, the HoT/CoT completing the RR, BU, BA, BE, the home BU from
the new care-of address), active intervals, and packets_direct /
packets_tunnelled (route-optimised packets; packets on the HA-CoA tunnel).

Findings: binding_error_received (the BE frames).
Labels: see `ro_steps` and `exchanges`; P/tunnelled_start/k marks the first
tunnelled data packet of the story.
"""

from __future__ import annotations

from typing import Any

from .. import exchanges as ex
from .. import ro_steps as ro
from ..engine import Bytes, CaptureEnd, Count, FirstFrame, FirstTs, Frames, for_vantage
from ..truth import handoff_entry
from ..world import World
from . import Built, ScenarioParams

T0 = 1_700_000_000.0
HOME_LIFETIME_UNITS = 150  # 600 s


def _transition(label: str, state: str, reason: str | None = None) -> dict[str, Any]:
    return {"ts": FirstTs(label), "frame": FirstFrame(label), "state": state, "reason": reason}


def _cn_binding(state: ro.RoState, reg: ro.CnRegistration, care_of: str, end: str | None,
                ended_by: str) -> dict[str, Any]:
    return {"peer": state.cn.address, "kind": "correspondent", "care_of": care_of,
            "start_ts": FirstTs(reg.ba_label), "end_ts": FirstTs(end) if end else None,
            "start_frame": FirstFrame(reg.ba_label), "seq": reg.seq,
            "requested_lifetime_s": reg.requested_lifetime_s,
            "granted_lifetime_s": reg.granted_lifetime_s, "ended_by": ended_by,
            "bu_frames": Frames(reg.bu_label), "ba_frame": FirstFrame(reg.ba_label), "status": 0}


def _home_binding(mn_ha: str, reg: ex.Registration, end: str | None, ended_by: str) -> dict[str, Any]:
    return {"peer": mn_ha, "kind": "home", "care_of": reg.care_of,
            "start_ts": FirstTs(reg.ba_label), "end_ts": FirstTs(end) if end else None,
            "start_frame": FirstFrame(reg.ba_label), "seq": reg.seq,
            "requested_lifetime_s": reg.requested_units * 4,
            "granted_lifetime_s": reg.granted_units * 4, "ended_by": ended_by,
            "bu_frames": Frames(reg.bu_label), "ba_frame": FirstFrame(reg.ba_label),
            "status": reg.status}


def _tunnel_truth(mn: Any, care_of: str) -> dict[str, Any]:
    return {"home_agent": mn.home_agent.address, "care_of": care_of, "home_address": mn.home_address,
            "to_mn": {"packets": Count(ex.tunnel_label(mn, care_of, "to_mn")),
                      "bytes": Bytes(ex.tunnel_label(mn, care_of, "to_mn"))},
            "from_mn": {"packets": Count(ex.tunnel_label(mn, care_of, "from_mn")),
                        "bytes": Bytes(ex.tunnel_label(mn, care_of, "from_mn"))},
            "outside_binding": {"packets": Count(ex.tunnel_label(mn, care_of, "outside_binding")),
                                "frames": Frames(ex.tunnel_label(mn, care_of, "outside_binding"))}}


def build(params: ScenarioParams) -> Built:
    """Build the route-optimization story (deterministic from params.seed)."""
    world = World(params.seed)
    esp = params.options.esp_null
    ha = ex.make_router("ha1", 1, "2001:db8:1::", "ha")
    ar2 = ex.make_router("ar2", 2, "2001:db8:2::")
    ar3 = ex.make_router("ar3", 3, "2001:db8:3::")
    cn = ex.make_correspondent("cn1", 1, "2001:db8:9::9")
    mn = ex.make_mobile_node("mn1", 1, ha, "::100")
    mn.seq = world.rng.randrange(0, 0x8000)
    state = ro.new_ro_state(world, mn, cn)
    p = state.prefix

    # -- on ar2: movement, DHAAD, home registration, tunnelled voice ---------------------
    coa2 = ex.move(mn, ar2)
    t = T0 + round(world.rng.uniform(0.05, 0.3), 6)
    move_label2 = f"{mn.name}/movement/{coa2}"
    ex.router_advertisement(world, ar2, t, mn, labels=(move_label2,))
    _, t = ex.dhaad(world, mn, t + 0.05)
    home1 = ex.register(world, mn, t + 0.01, HOME_LIFETIME_UNITS, esp=esp)
    t = ro.tunnelled_voice(world, home1.ba_at_mn + 0.02, state, 50,
                           first_extra=(f"{p}/tunnelled_start/1",))
    transitions = [_transition(f"{p}/tunnelled_start/1", "tunnelled")]

    def optimise(t: float, home_test: bool) -> tuple[float, ro.CnRegistration]:
        rr = ro.return_routability(world, t, state, home=home_test)
        transitions.append(_transition(rr.first_label, "rr_started"))
        transitions.append(_transition(rr.done_label, "rr_done"))
        reg = ro.correspondent_registration(world, rr.done_ts + 0.001, state)
        transitions.append(_transition(reg.bu_label, "bu_sent"))
        transitions.append(_transition(reg.ba_label, "ro_active"))
        return reg.ba_ts, reg

    # -- RR 1, RO, the CN loses its cache: BE, fallback ------------------------------------
    t, cn_reg1 = optimise(t + 0.3, True)
    t = ro.direct_voice(world, t + 0.01, state, 100)
    t, _, be_label = ro.binding_error(world, t + 0.5, state)
    transitions.append(_transition(be_label, "fallback", "binding_error"))
    t = ro.tunnelled_voice(world, t + 0.01, state, 50)

    # -- RR 2, RO again ---------------------------------------------------------------------
    t, cn_reg2 = optimise(t + 0.5, True)
    t = ro.direct_voice(world, t + 0.01, state, 100)

    # -- movement to ar3: home BU/BA from the new CoA, fallback, care-of test only, RO -------
    ex.periodic_ras(world, ar2, T0 + 1.5, t + 0.3, mn)
    coa3 = ex.move(mn, ar3)
    t = round(t + 0.4, 6)
    move_label3 = f"{mn.name}/movement/{coa3}"
    ex.router_advertisement(world, ar3, t, mn, labels=(move_label3,))
    home2 = ex.register(world, mn, t + 0.02, HOME_LIFETIME_UNITS, esp=esp)
    transitions.append(_transition(home2.bu_label, "fallback", "movement"))
    t = ro.tunnelled_voice(world, home2.ba_at_mn + 0.005, state, 10)
    t, cn_reg3 = optimise(t + 0.01, False)
    end = ro.direct_voice(world, t + 0.01, state, 150)
    ex.periodic_ras(world, ar3, t + 1.0, end, mn)
    ex.periodic_ras(world, ha, T0 + 0.5, end, mn)

    bindings = [
        _home_binding(ha.address, home1, home2.ba_label, "new_care_of"),
        _cn_binding(state, cn_reg1, coa2, be_label, "binding_error"),
        _cn_binding(state, cn_reg2, coa2, cn_reg3.ba_label, "new_care_of"),
        _home_binding(ha.address, home2, None, "capture_end"),
        _cn_binding(state, cn_reg3, coa3, None, "capture_end"),
    ]
    handoff = handoff_entry(coa2, coa3, movement_label=move_label3, chain_label=home2.bu_label,
                            answer_label=home2.ba_label, first_data_label=f"{mn.name}/data_to_mn/{coa3}",
                            lost_label=f"{mn.name}/lost/{coa2}")
    route_opt = {
        "correspondent": cn.address,
        "transitions": transitions,
        "active_intervals": [
            {"start_ts": FirstTs(cn_reg1.ba_label), "end_ts": FirstTs(be_label),
             "ended_by": "binding_error", "open": False},
            {"start_ts": FirstTs(cn_reg2.ba_label), "end_ts": FirstTs(home2.bu_label),
             "ended_by": "movement", "open": False},
            {"start_ts": FirstTs(cn_reg3.ba_label), "end_ts": CaptureEnd(), "ended_by": "capture_end",
             "open": True},
        ],
        "packets_direct": Count(f"{p}/direct"),
        "packets_tunnelled": Count(f"{p}/tunnelled"),
    }
    truth = {
        "mobile_nodes": [{
            "name": mn.name, "home_address": mn.home_address, "home_agent": ha.address,
            "care_of_addresses": [coa2, coa3], "bindings": bindings, "handoffs": [handoff],
            "route_optimization": [route_opt]}],
        "tunnels": [_tunnel_truth(mn, coa2), _tunnel_truth(mn, coa3)],
        "findings": [{"code": "binding_error_received", "frames": Frames(be_label)}],
    }
    packets = world.packets
    return Built(lambda vantage: for_vantage(packets, vantage), truth,
                 {"correspondent": cn.address, "esp_null": esp})

"""The schedule of the `fleet` scenario: for every mobile node, decided up front
from its own seeded random generator, where it is when, every home
registration (with BU/BA losses and back-off retransmissions), and every
route-optimisation episode with its correspondent.

The plan is small (a few dozen records per node, never per data packet); the
packets themselves are streamed by `fleet_stream` from it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from ipaddress import IPv6Address

T0 = 1_700_000_000.0
HA_PROCESSING_S = 0.0008
INITIAL_BINDACK_TIMEOUT_FIRST_REG = 1.5  # RFC 6275 13: first home registration (DAD)
INITIAL_BINDACK_TIMEOUT = 1.0
MAX_BINDACK_TIMEOUT = 32.0
LIFETIME_CHOICES_UNITS = (15, 30, 60)  # requested: 60, 120, 240 s
MAX_GRANT_UNITS = 45                    # the home agents grant at most 180 s
RO_LIFETIME_UNITS = 105                 # MAX_RR_BINDING_LIFETIME 420 s
REFRESH_AT = 0.8                        # refresh at this share of the granted lifetime
BASE_DELAY = {"mn-ha": 0.020, "mn-cn": 0.015, "ha-cn": 0.010}


def delay(rng: random.Random, path: str) -> float:
    """A one-way delay on a path with +-10% jitter."""
    base = BASE_DELAY[path]
    return base * (0.9 + 0.2 * rng.random())


@dataclass(slots=True)
class Send:
    """One Binding Update transmission and what became of it."""

    bu_ts: float
    seq: int
    bu_lost: bool
    ha_ts: float        # BU arrival at the HA (meaningless when bu_lost)
    ba_ts: float        # BA sent by the HA
    ba_arrival: float   # BA arrival at the MN
    ba_lost: bool


@dataclass(slots=True)
class Registration:
    """A home registration: its transmissions until one BA arrives."""

    kind: str           # "initial" | "handoff" | "refresh"
    pos: int            # which visit (index into MNPlan.visits)
    requested_units: int
    granted_units: int
    sends: list[Send] = field(default_factory=list)
    complete: bool = False

    @property
    def accept_ha_ts(self) -> float:
        """When the HA first accepted a BU of this registration (inf if never)."""
        return next((s.ha_ts for s in self.sends if not s.bu_lost), float("inf"))

    @property
    def ba_arrival(self) -> float:
        """When the accepting BA reached the MN (inf if never)."""
        last = self.sends[-1] if self.sends else None
        return last.ba_arrival if last and self.complete else float("inf")


@dataclass(slots=True)
class ROEpisode:
    """Return routability, BU to the CN and its BA, for one care-of address."""

    pos: int
    seq: int
    hoti_ts: float
    hoti_ha_ts: float   # the HA forwards the HoTI to the CN
    hoti_cn_ts: float
    coti_ts: float
    coti_cn_ts: float
    hot_ts: float       # CN sends HoT to the home address
    hot_ha_ts: float    # the HA tunnels it to the CoA
    hot_mn_ts: float
    cot_ts: float
    cot_mn_ts: float
    bu_ts: float
    bu_cn_ts: float     # the CN's binding starts
    ba_ts: float
    ba_mn_ts: float     # route optimisation active at the MN
    cookies: tuple[int, int, int, int]   # home/care-of init cookies, nonce indices


@dataclass
class MNPlan:
    """Everything decided about one mobile node."""

    index: int
    name: str
    ha: int
    cn: int
    home_address: str
    mac: str
    iid: int
    esp: bool
    ro: bool
    visits: list[tuple[float, int]] = field(default_factory=list)  # (arrival ts, access router)
    registrations: list[Registration] = field(default_factory=list)
    episodes: list[ROEpisode] = field(default_factory=list)
    data_start: float = float("inf")

    def care_of(self, pos: int, ar_prefix: int) -> str:
        """The care-of address formed on visit ``pos`` (``ar_prefix`` is the
        access router's /64 prefix as an int)."""
        return str(IPv6Address(ar_prefix | self.iid))


def answered(send: Send, vantage: str) -> bool:
    """Whether a capture at ``vantage`` shows a BA answering ``send``: the home
    agent answers every BU that reaches it; its link ("ha", and "all", which
    records each packet where it is sent) sees that BA, the node's link only
    if it was not lost on the way."""
    return not send.bu_lost and (vantage in ("ha", "all") or not send.ba_lost)


def attempts(reg: Registration, vantage: str) -> list[list[Send]]:
    """The registration's BUs grouped into registration attempts as a capture at
    ``vantage`` shows them (RFC 6275 11.8: the BUs sent until a BA answers one
    of them): each BA the vantage sees ends one; a last one nobody answered
    stays unanswered."""
    out: list[list[Send]] = []
    current: list[Send] = []
    for send in reg.sends:
        current.append(send)
        if answered(send, vantage):
            out.append(current)
            current = []
    if current:
        out.append(current)
    return out


def _register(rng: random.Random, plan: MNPlan, kind: str, pos: int, ts: float, end: float,
              loss: float) -> Registration:
    """Send BUs from ``ts`` until one BA gets through (or the capture ends)."""
    requested = rng.choice(LIFETIME_CHOICES_UNITS)
    reg = Registration(kind, pos, requested, min(requested, MAX_GRANT_UNITS))
    timeout = INITIAL_BINDACK_TIMEOUT_FIRST_REG if kind == "initial" else INITIAL_BINDACK_TIMEOUT
    seq = plan.registrations[-1].sends[-1].seq if plan.registrations else rng.randrange(1, 60000)
    while ts < end:
        seq = (seq + 1) & 0xFFFF
        bu_lost = rng.random() < loss
        ha_ts = ts + delay(rng, "mn-ha")
        ba_ts = ha_ts + HA_PROCESSING_S
        ba_arrival = ba_ts + delay(rng, "mn-ha")
        ba_lost = (not bu_lost) and rng.random() < loss
        reg.sends.append(Send(ts, seq, bu_lost, ha_ts, ba_ts, ba_arrival, ba_lost))
        if not bu_lost and not ba_lost:
            reg.complete = ba_arrival < end
            break
        ts += timeout
        timeout = min(timeout * 2, MAX_BINDACK_TIMEOUT)
    return reg


def _episode(rng: random.Random, pos: int, ts: float, seq: int) -> ROEpisode:
    """Times of one return-routability run and correspondent registration."""
    hoti_ha = ts + delay(rng, "mn-ha")
    hoti_ha_out = hoti_ha + HA_PROCESSING_S
    hoti_cn = hoti_ha_out + delay(rng, "ha-cn")
    coti_ts = ts + 0.001
    coti_cn = coti_ts + delay(rng, "mn-cn")
    hot_ts = hoti_cn + 0.001
    hot_ha = hot_ts + delay(rng, "ha-cn") + HA_PROCESSING_S
    hot_mn = hot_ha + delay(rng, "mn-ha")
    cot_ts = coti_cn + 0.001
    cot_mn = cot_ts + delay(rng, "mn-cn")
    bu_ts = max(hot_mn, cot_mn) + 0.002
    bu_cn = bu_ts + delay(rng, "mn-cn")
    ba_ts = bu_cn + 0.001
    ba_mn = ba_ts + delay(rng, "mn-cn")
    cookies = (rng.getrandbits(64), rng.getrandbits(64), rng.randrange(1, 0xFFFF), rng.randrange(1, 0xFFFF))
    return ROEpisode(pos, seq, ts, hoti_ha_out, hoti_cn, coti_ts, coti_cn, hot_ts, hot_ha, hot_mn,
                     cot_ts, cot_mn, bu_ts, bu_cn, ba_ts, ba_mn, cookies)


def plan_mobile_node(seed: int, index: int, params: object, access_routers: int,
                     end: float) -> MNPlan:
    """Decide one mobile node's story. ``params`` is the ScenarioParams."""
    rng = random.Random(f"fleet/{seed}/{index}")
    p = params
    ha = index % p.home_agents  # type: ignore[attr-defined]
    cn = rng.randrange(p.correspondents)  # type: ignore[attr-defined]
    iid = (1 << 48) | index + 1
    home_prefix = int(IPv6Address(f"2001:db8:a{ha:03x}::"))
    plan = MNPlan(index, f"mn{index + 1}", ha, cn, str(IPv6Address(home_prefix | iid)),
                  f"02:10:00:{(index >> 16) & 0xFF:02x}:{(index >> 8) & 0xFF:02x}:{index & 0xFF:02x}",
                  iid, rng.random() < p.esp_share, rng.random() < p.ro_share)  # type: ignore[attr-defined]
    loss, rate = p.loss, p.handoff_rate  # type: ignore[attr-defined]
    ts = T0 + rng.uniform(0.0, 2.0)
    plan.visits.append((ts, rng.randrange(access_routers)))
    kind, bu_ts = "initial", ts + rng.uniform(0.05, 0.15)
    ro_seq = rng.randrange(1, 60000)
    next_move = float("inf")
    while bu_ts < end:
        pos = len(plan.visits) - 1
        reg = _register(rng, plan, kind, pos, bu_ts, end, loss)
        plan.registrations.append(reg)
        if not reg.complete:
            break
        arrived = reg.ba_arrival
        plan.data_start = min(plan.data_start, arrived)
        if kind != "refresh":
            next_move = arrived + (rng.expovariate(rate) if rate > 0 else float("inf"))
        next_move = max(next_move, arrived + 0.5)
        refresh = arrived + reg.granted_units * 4 * REFRESH_AT
        if plan.ro and kind != "refresh":
            ep_ts = arrived + 0.02
            while ep_ts < min(next_move, end):
                ro_seq = (ro_seq + 1) & 0xFFFF
                ep = _episode(rng, pos, ep_ts, ro_seq)
                if ep.ba_mn_ts >= min(next_move, end):
                    break
                plan.episodes.append(ep)
                ep_ts = ep.ba_mn_ts + RO_LIFETIME_UNITS * 4 * REFRESH_AT
        if min(next_move, refresh) >= end:
            break
        if refresh < next_move:
            kind, bu_ts = "refresh", refresh
            continue
        current = plan.visits[-1][1]
        router = rng.randrange(access_routers - 1) if access_routers > 1 else 0
        router += router >= current and access_routers > 1
        plan.visits.append((next_move, router))
        kind, bu_ts = "handoff", next_move + rng.uniform(0.05, 0.15)
    return plan

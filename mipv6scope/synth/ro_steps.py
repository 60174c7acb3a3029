"""Return routability and correspondent registration steps (RFC 6275 5.2, 9.4-9.5, 11.6).

Each step emits packets into a `World` and returns the time the answer is
back at the mobile node, so a scenario can chain them. Cryptographic values
are computed as RFC 6275 5.2 says, from a per-correspondent secret ``Kcn``
and nonces drawn from ``world.rng``:

- home keygen token    = First(64, HMAC_SHA1(Kcn, HoA | nonce | 0))
- care-of keygen token = First(64, HMAC_SHA1(Kcn, CoA | nonce | 1))
- Kbm                  = SHA1(home token | care-of token)
- authenticator        = First(96, HMAC_SHA1(Kbm, CoA | CN | MH data)), the MH
  data with the Checksum field zero and without the authenticator itself.

Paths (see `world` for which probe sees what):
- HoTI: MN -> HA reverse tunnel (outer CoA -> HA, inner HoA -> CN), then HA -> CN plain.
- CoTI: MN -> CN direct, source CoA.
- HoT:  CN -> HoA plain (to the home link), then HA -> CoA tunnel.
- CoT:  CN -> CoA direct.
- BU to the CN: CoA -> CN with HAO, A set (H, L, K clear), Nonce Indices and
  Binding Authorization Data, lifetime <= MAX_RR_BINDING_LIFETIME (420 s).
- BA from the CN: CN -> CoA with RH2 and Binding Authorization Data.
- Route-optimised voice: CoA -> CN with HAO, CN -> CoA with RH2, every 20 ms.
- Tunnelled voice: CN -> HoA plain, HA -> CoA tunnel; CoA -> HA tunnel, HA -> CN plain.
- Binding Error status 1: CN -> CoA (the offending packet's source), home
  address = the HAO's, in answer to HAO data the CN has no binding for.

Labels (P = f"{mn.name}/ro/{cn.name}", n counts per MN-CN pair from 1):
- P/hoti/n, P/coti/n, P/hot/n, P/cot/n     every leg of that message
  (the HoTI and HoT legs through the tunnel also carry the tunnel label)
- P/rr_done/n                               the HoT or CoT leg that reaches the
                                            MN last (completes the RR)
- P/bu/n, P/ba/n                            correspondent BU and its BA
- P/direct                                  every route-optimised data packet
- P/tunnelled                               every data packet on the HA-CoA tunnel
                                            (the plain HA-CN leg is not counted)
- P/plain                                   the plain HA-CN legs of tunnelled data
- P/be_trigger/n, P/be/n                    HAO data the CN had no binding for, its BE
- tunnel/{ha}/{coa}/{hoa}/to_mn, .../from_mn  every packet on the HA-CoA tunnel
                                            (`exchanges.tunnel_label`)
- flow/{mn}/{cn}/voice                      every voice packet, direct or tunnelled
- {mn}/data_to_mn/{coa}, {mn}/data_from_mn/{coa}  data legs at the node, as in `exchanges`

Home registration, RAs and DHAAD come from `exchanges`.

Callers may add labels of their own to any step (``extra``) to mark the
packet that caused a route-optimisation transition.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from dataclasses import dataclass, field, replace

from ..decode import mh
from ..decode import mh_options as opt
from .build import addr, mh_packet, tunnel, udp_packet
from .exchanges import tunnel_label
from .world import MobileNode, Node, World

MAX_RR_BINDING_LIFETIME = 420  # seconds, RFC 6275 12
NONCE_EPOCH_S = 30.0           # the CN regenerates its nonce this often
VOICE_PORT = 5004
VOICE_INTERVAL = 0.020


def first_hmac(key: bytes, data: bytes, bits: int) -> bytes:
    """First(bits, HMAC_SHA1(key, data))."""
    return hmac.new(key, data, hashlib.sha1).digest()[: bits // 8]


def voice_payload(seq: int, ssrc: int) -> bytes:
    """An RTP-like 20 ms G.711 voice payload (12-byte header + 160 bytes)."""
    return struct.pack("!BBHII", 0x80, 0, seq & 0xFFFF, (seq * 160) & 0xFFFFFFFF, ssrc) + bytes(160)


@dataclass
class RoState:
    """What the MN and one CN know of each other: secrets, tokens, counters."""

    mn: MobileNode
    cn: Node
    kcn: bytes
    nonces: dict[int, bytes] = field(default_factory=dict)
    nonce_base: int = 0
    home_token: bytes | None = None
    careof_token: bytes | None = None
    home_nonce_index: int = 0
    careof_nonce_index: int = 0
    bu_seq: int = 0
    counters: dict[str, int] = field(default_factory=dict)
    voice_seq: dict[str, int] = field(default_factory=dict)
    ssrc_mn: int = 0
    ssrc_cn: int = 0

    @property
    def prefix(self) -> str:
        """The label prefix of this MN-CN pair."""
        return f"{self.mn.name}/ro/{self.cn.name}"

    @property
    def flow(self) -> str:
        """The voice flow's label (as `exchanges.VoiceFlow` names it)."""
        return f"flow/{self.mn.name}/{self.cn.name}/voice"

    def next(self, kind: str) -> int:
        """Count one more ``kind`` (hoti, bu, be ...) and return its number."""
        self.counters[kind] = self.counters.get(kind, 0) + 1
        return self.counters[kind]

    def label(self, kind: str, n: int | None = None) -> str:
        """P/kind or P/kind/n."""
        return f"{self.prefix}/{kind}" if n is None else f"{self.prefix}/{kind}/{n}"

    def nonce_index(self, ts: float) -> int:
        """The CN's current nonce index (a new nonce every NONCE_EPOCH_S)."""
        return (self.nonce_base + int(ts // NONCE_EPOCH_S)) & 0xFFFF

    def nonce(self, index: int, rng_bytes: bytes) -> bytes:
        """The nonce behind an index (drawn once)."""
        return self.nonces.setdefault(index, rng_bytes)

    def kbm(self) -> bytes:
        """Kbm = SHA1(home keygen token | care-of keygen token)."""
        assert self.home_token is not None and self.careof_token is not None
        return hashlib.sha1(self.home_token + self.careof_token).digest()


def new_ro_state(world: World, mn: MobileNode, cn: Node) -> RoState:
    """Fresh return-routability state for an MN-CN pair, secrets from world.rng."""
    rng = world.rng
    return RoState(mn, cn, kcn=rng.randbytes(20), nonce_base=rng.randrange(1, 0x8000),
                   bu_seq=rng.randrange(1, 0x8000), ssrc_mn=rng.getrandbits(32),
                   ssrc_cn=rng.getrandbits(32))


def _tunnel_up(world: World, ts: float, mn: MobileNode, inner: bytes, labels: tuple[str, ...]) -> float:
    """MN -> HA through the reverse tunnel; returns arrival at the HA."""
    assert mn.care_of is not None
    outer = tunnel(mn.care_of, mn.home_agent.address, inner)
    return world.mn_to_ha(ts, mn, outer, labels + (tunnel_label(mn, mn.care_of, "from_mn"),))


def _tunnel_down(world: World, ts: float, mn: MobileNode, inner: bytes, labels: tuple[str, ...],
                 reaches_mn: bool = True) -> float:
    """HA -> CoA through the tunnel; returns arrival at the MN."""
    assert mn.care_of is not None
    outer = tunnel(mn.home_agent.address, mn.care_of, inner)
    return world.ha_to_mn(ts, mn, outer, labels + (tunnel_label(mn, mn.care_of, "to_mn"),),
                          reaches_mn)


# -- return routability -------------------------------------------------------------------

@dataclass(frozen=True)
class RRResult:
    """When the RR finished and what it exchanged."""

    done_ts: float            # both tests back at the MN
    done_label: str           # P/rr_done/n
    first_label: str          # the first message sent (HoTI, or CoTI if care-of only)
    home_cookie: bytes | None
    careof_cookie: bytes


def return_routability(world: World, ts: float, ro: RoState, home: bool = True,
                       extra: tuple[str, ...] = ()) -> RRResult:
    """HoTI/HoT (unless ``home`` is False: after a movement the home keygen token
    is still valid and only the care-of test is needed, RFC 6275 11.6.1) and
    CoTI/CoT. ``extra`` labels go on the first message sent."""
    mn, cn, rng = ro.mn, ro.cn, world.rng
    assert mn.care_of is not None
    n = ro.next("rr")
    home_cookie = None
    first = ro.label("hoti" if home else "coti", n)
    if home:
        home_cookie = rng.randbytes(8)
        hoti = mh_packet(mn.home_address, cn.address, mh.HoTI(home_init_cookie=home_cookie))
        at_ha = _tunnel_up(world, ts, mn, hoti, (ro.label("hoti", n),) + extra)
        at_cn = world.ha_to_cn(at_ha + 0.0002, mn.home_agent, cn, hoti, (ro.label("hoti", n),))
        idx = ro.nonce_index(at_cn)
        nonce = ro.nonce(idx, rng.randbytes(8))
        ro.home_nonce_index = idx
        ro.home_token = first_hmac(ro.kcn, addr(mn.home_address) + nonce + b"\x00", 64)
        hot = mh_packet(cn.address, mn.home_address,
                        mh.HoT(home_nonce_index=idx, home_init_cookie=home_cookie,
                               home_keygen_token=ro.home_token))
        at_ha = world.cn_to_ha(at_cn + 0.0005, mn.home_agent, cn, hot, (ro.label("hot", n),))
        extra = ()
    careof_cookie = rng.randbytes(8)
    coti = mh_packet(mn.care_of, cn.address, mh.CoTI(careof_init_cookie=careof_cookie))
    at_cn = world.mn_to_cn(ts + 0.0003, mn, cn, coti, (ro.label("coti", n),) + extra)
    idx = ro.nonce_index(at_cn)
    nonce = ro.nonce(idx, rng.randbytes(8))
    ro.careof_nonce_index = idx
    ro.careof_token = first_hmac(ro.kcn, addr(mn.care_of) + nonce + b"\x01", 64)
    cot = mh_packet(cn.address, mn.care_of,
                    mh.CoT(careof_nonce_index=idx, careof_init_cookie=careof_cookie,
                           careof_keygen_token=ro.careof_token))
    # Emit the answers; the one reaching the MN last also carries rr_done.
    done = ro.label("rr_done", n)
    legs: list[tuple[float, int]] = []
    if home:
        legs.append((_tunnel_down(world, at_ha + 0.0002, mn, hot, (ro.label("hot", n),)),
                     len(world.packets) - 1))
    legs.append((world.cn_to_mn(at_cn + 0.0005, mn, cn, cot, (ro.label("cot", n),)),
                 len(world.packets) - 1))
    done_ts, index = max(legs)
    packet = world.packets[index]
    world.packets[index] = replace(packet, labels=packet.labels + (done,))
    return RRResult(done_ts, done, first, home_cookie, careof_cookie)


# -- correspondent registration ----------------------------------------------------------

def _authenticated(message: mh.BU | mh.BA, options: list[opt.MobilityOption], kbm: bytes,
                   coa: str, cn: str, src16: bytes, dst16: bytes) -> list[opt.MobilityOption]:
    """``options`` plus a Binding Authorization Data option whose authenticator
    covers CoA | CN | the MH with Checksum zero (RFC 6275 5.2.6)."""
    placeholder = options + [opt.BindingAuthData(data=bytes(12))]
    body = mh.build_mh(message, placeholder, src16, dst16)
    covered = body[:4] + b"\x00\x00" + body[6:-12]
    auth = first_hmac(kbm, addr(coa) + addr(cn) + covered, 96)
    return options + [opt.BindingAuthData(data=auth)]


@dataclass(frozen=True)
class CnRegistration:
    """A correspondent BU and its BA."""

    seq: int
    requested_lifetime_s: int
    granted_lifetime_s: int
    bu_label: str
    ba_label: str
    ba_ts: float   # BA back at the MN


def correspondent_registration(world: World, ts: float, ro: RoState,
                               lifetime_s: int = MAX_RR_BINDING_LIFETIME,
                               extra_bu: tuple[str, ...] = (),
                               extra_ba: tuple[str, ...] = ()) -> CnRegistration:
    """BU (A set, H/L/K clear, HAO, Nonce Indices, Binding Authorization Data)
    from the CoA to the CN, and the CN's BA (RH2, Binding Authorization Data).
    The CN grants at most MAX_RR_BINDING_LIFETIME."""
    mn, cn = ro.mn, ro.cn
    assert mn.care_of is not None
    n = ro.next("bu")
    ro.bu_seq = (ro.bu_seq + 1) & 0xFFFF
    units = min(lifetime_s, MAX_RR_BINDING_LIFETIME) // 4
    kbm = ro.kbm()
    bu = mh.BU(seq=ro.bu_seq, lifetime=units)
    bu.a = 1
    bu_opts = _authenticated(bu, [opt.NonceIndices(home_nonce_index=ro.home_nonce_index,
                                                   careof_nonce_index=ro.careof_nonce_index)],
                             kbm, mn.care_of, cn.address, addr(mn.home_address), addr(cn.address))
    bu = mh.BU(seq=ro.bu_seq, lifetime=units)
    bu.a = 1
    packet = mh_packet(mn.care_of, cn.address, bu, bu_opts, hao=mn.home_address)
    at_cn = world.mn_to_cn(ts, mn, cn, packet, (ro.label("bu", n),) + extra_bu)
    granted = min(units, MAX_RR_BINDING_LIFETIME // 4)
    ba = mh.BA(status=0, seq=ro.bu_seq, lifetime=granted)
    ba_opts = _authenticated(ba, [], kbm, mn.care_of, cn.address, addr(cn.address),
                             addr(mn.home_address))
    ba = mh.BA(status=0, seq=ro.bu_seq, lifetime=granted)
    reply = mh_packet(cn.address, mn.care_of, ba, ba_opts, rh2=mn.home_address)
    ba_ts = world.cn_to_mn(at_cn + 0.0004, mn, cn, reply, (ro.label("ba", n),) + extra_ba)
    return CnRegistration(ro.bu_seq, units * 4, granted * 4, ro.label("bu", n), ro.label("ba", n), ba_ts)


# -- data -----------------------------------------------------------------------------------

def _voice(ro: RoState, direction: str) -> bytes:
    seq = ro.voice_seq.get(direction, 0)
    ro.voice_seq[direction] = seq + 1
    return voice_payload(seq, ro.ssrc_mn if direction == "up" else ro.ssrc_cn)


def direct_voice(world: World, ts: float, ro: RoState, count: int,
                 first_extra: tuple[str, ...] = ()) -> float:
    """``count`` route-optimised voice packets each way, every 20 ms: CoA -> CN
    with HAO, CN -> CoA with RH2. Returns the time after the last one."""
    mn, cn = ro.mn, ro.cn
    assert mn.care_of is not None
    for i in range(count):
        t = ts + i * VOICE_INTERVAL
        extra = first_extra if i == 0 else ()
        up = udp_packet(mn.care_of, cn.address, VOICE_PORT, VOICE_PORT, _voice(ro, "up"),
                        hao=mn.home_address)
        world.mn_to_cn(t, mn, cn, up, (ro.label("direct"), ro.flow,
                                       f"{mn.name}/data_from_mn/{mn.care_of}") + extra)
        down = udp_packet(cn.address, mn.care_of, VOICE_PORT, VOICE_PORT, _voice(ro, "down"),
                          rh2=mn.home_address)
        world.cn_to_mn(t + 0.007, mn, cn, down, (ro.label("direct"), ro.flow,
                                                 f"{mn.name}/data_to_mn/{mn.care_of}"))
    return ts + count * VOICE_INTERVAL


def tunnelled_voice(world: World, ts: float, ro: RoState, count: int,
                    first_extra: tuple[str, ...] = ()) -> float:
    """``count`` voice packets each way through the home agent: CN -> HoA plain,
    HA -> CoA tunnel; CoA -> HA tunnel, HA -> CN plain. ``first_extra`` labels
    both tunnel legs of the first pair, so its first frame is the first
    tunnelled data packet whichever leg a probe sees first. Returns the time
    after the last one."""
    mn, cn, ha = ro.mn, ro.cn, ro.mn.home_agent
    for i in range(count):
        t = ts + i * VOICE_INTERVAL
        extra = first_extra if i == 0 else ()
        down = udp_packet(cn.address, mn.home_address, VOICE_PORT, VOICE_PORT, _voice(ro, "down"))
        at_ha = world.cn_to_ha(t, ha, cn, down, (ro.label("plain"), ro.flow))
        _tunnel_down(world, at_ha + 0.0002, mn, down, (ro.label("tunnelled"), ro.flow,
                                                      f"{mn.name}/data_to_mn/{mn.care_of}") + extra)
        up = udp_packet(mn.home_address, cn.address, VOICE_PORT, VOICE_PORT, _voice(ro, "up"))
        at_ha = _tunnel_up(world, t + 0.009, mn, up, (ro.label("tunnelled"), ro.flow,
                                                     f"{mn.name}/data_from_mn/{mn.care_of}") + extra)
        world.ha_to_cn(at_ha + 0.0002, ha, cn, up, (ro.label("plain"), ro.flow))
    return ts + count * VOICE_INTERVAL


def binding_error(world: World, ts: float, ro: RoState) -> tuple[float, str, str]:
    """The MN sends route-optimised data (HAO) to a CN that has lost its binding;
    the CN answers with a Binding Error status 1 to the packet's source (the
    CoA) naming the home address. Returns (BE arrival at the MN, trigger label, BE label)."""
    mn, cn = ro.mn, ro.cn
    assert mn.care_of is not None
    n = ro.next("be")
    trigger, be_label = ro.label("be_trigger", n), ro.label("be", n)
    up = udp_packet(mn.care_of, cn.address, VOICE_PORT, VOICE_PORT, _voice(ro, "up"),
                    hao=mn.home_address)
    at_cn = world.mn_to_cn(ts, mn, cn, up, (ro.label("direct"), trigger))
    be = mh_packet(cn.address, mn.care_of, mh.BE(status=1, home_address=addr(mn.home_address)))
    return world.cn_to_mn(at_cn + 0.0003, mn, cn, be, (be_label,)), trigger, be_label

"""Mobile IPv6 captures written with Scapy, one builder per scenario of issue 10.

Each builder writes one pcap to ``path`` and returns it. Its docstring lists
every frame (number: time after T0, what), so the tests can write their
expected answers by hand against that list. Nothing here imports mipv6scope:
the captures must not depend on the code they test.

Addresses (2001:db8::/32): home agent HA 2001:db8:1::1, home address HOA
2001:db8:1::100, correspondent CN 2001:db8:9::9, care-of addresses COA1
2001:db8:2::100, COA2 2001:db8:3::100. Binding lifetimes are 105 units of 4 s
(420 s), longer than every capture, so no binding expires inside one.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from pathlib import Path

from scapy.layers.inet import TCP, UDP
from scapy.layers.inet6 import (
    HAO,
    MIP6MH_BA,
    MIP6MH_BE,
    MIP6MH_BRR,
    MIP6MH_BU,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrRouting,
    MIP6MH_CoT,
    MIP6MH_CoTI,
    MIP6MH_Generic,
    MIP6MH_HoT,
    MIP6MH_HoTI,
    MIP6OptBindingAuthData,
    MIP6OptMobNetPrefix,
    MIP6OptNonceIndices,
)
from scapy.layers.l2 import Ether
from scapy.packet import Packet, Raw
from scapy.utils import wrpcap

T0 = 1_700_000_000.0
HA, HOA, CN = "2001:db8:1::1", "2001:db8:1::100", "2001:db8:9::9"
COA1, COA2 = "2001:db8:2::100", "2001:db8:3::100"
HA_B, HOA_B = "2001:db8:5::1", "2001:db8:5::100"          # a second home agent and home address
MNP1, MNP2 = "2001:db8:100::", "2001:db8:101::"            # NEMO mobile network prefixes (/64)
MNN1, MNN2 = "2001:db8:100::5", "2001:db8:101::7"          # hosts in those prefixes
STRANGER = "2001:db8:7::77"                                # sender of the broken-HAO frame
LIFETIME_UNITS = 105                                       # 420 s
SNAPLEN = 96

Timeline = Sequence[tuple[float, Packet]]


def _eth() -> Ether:
    return Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")


def home_bu(coa: str, seq: int, *, ha: str = HA, hoa: str = HOA, flags: str = "AH",
            options: Iterable[Packet] = (), cksum: int | None = None,
            lifetime_units: int = LIFETIME_UNITS) -> Packet:
    """A home registration BU: src=CoA, Home Address option, MH BU (RFC 6275 6.1.7, 11.7.1)."""
    return (_eth() / IPv6(src=coa, dst=ha) / IPv6ExtHdrDestOpt(options=[HAO(hoa=hoa)])
            / MIP6MH_BU(seq=seq, flags=flags, mhtime=lifetime_units, options=list(options),
                        cksum=cksum))


def home_ba(coa: str, seq: int, *, status: int = 0, ha: str = HA, hoa: str = HOA,
            flags: int | str = 0, lifetime_units: int = LIFETIME_UNITS) -> Packet:
    """A BA to the care-of address with a type 2 routing header (RFC 6275 6.1.8, 6.4)."""
    lifetime = lifetime_units if status < 128 else 0
    return (_eth() / IPv6(src=ha, dst=coa) / IPv6ExtHdrRouting(type=2, addresses=[hoa], segleft=1)
            / MIP6MH_BA(status=status, flags=flags, seq=seq, mhtime=lifetime))


def down(coa: str, n: int = 100, *, ha: str = HA, hoa: str = HOA, src: str = CN) -> Packet:
    """``src`` -> ``hoa`` UDP with ``n`` payload bytes, tunnelled by ``ha`` to ``coa``
    (40 outer + 40 inner + 8 UDP + n bytes of IPv6)."""
    return (_eth() / IPv6(src=ha, dst=coa) / IPv6(src=src, dst=hoa) / UDP(sport=5004, dport=5004)
            / bytes(n))


def up(coa: str, n: int = 100, *, ha: str = HA, hoa: str = HOA, dst: str = CN) -> Packet:
    """``hoa`` -> ``dst`` UDP reverse-tunnelled from ``coa`` to ``ha``."""
    return (_eth() / IPv6(src=coa, dst=ha) / IPv6(src=hoa, dst=dst) / UDP(sport=5004, dport=5004)
            / bytes(n))


def write(path: Path, timeline: Timeline, snaplen: int | None = None) -> Path:
    """Write ``timeline`` (offsets after T0, in order) to ``path``; with ``snaplen``,
    every record is cut to that many bytes, its original length kept (a capture
    taken with ``tcpdump -s snaplen``)."""
    offsets = [off for off, _ in timeline]
    assert offsets == sorted(offsets), "timeline out of order"
    if snaplen is None:
        packets = []
        for off, pkt in timeline:
            pkt.time = T0 + off
            packets.append(pkt)
        wrpcap(str(path), packets)
        return path
    # Written by hand: the pcap header and records of the libpcap format, so the
    # cut is certain (link type 1, Ethernet; microsecond timestamps).
    out = bytearray(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, 1))
    for off, pkt in timeline:
        data = bytes(pkt)
        usec_total = round((T0 + off) * 1_000_000)
        out += struct.pack("<IIII", usec_total // 1_000_000, usec_total % 1_000_000,
                           min(len(data), snaplen), len(data))
        out += data[:snaplen]
    path.write_bytes(bytes(out))
    return path


def first_registration_backoff(path: Path) -> Path:
    """First home registration answered after 4 retransmissions, each with a new
    sequence number, at InitialBindackTimeoutFirstReg (1.5 s) doubling.

    1: 0.0 BU COA1 seq 100 | 2: 1.5 BU seq 101 | 3: 4.5 BU seq 102 | 4: 10.5 BU seq 103 |
    5: 22.5 BU seq 104 | 6: 22.6 BA seq 104 status 0 | 7: 23.0 down | 8: 23.2 up | 9: 23.5 down
    """
    tl: list[tuple[float, Packet]] = [
        (off, home_bu(COA1, 100 + i)) for i, off in enumerate((0.0, 1.5, 4.5, 10.5, 22.5))]
    tl += [(22.6, home_ba(COA1, 104)), (23.0, down(COA1)), (23.2, up(COA1)), (23.5, down(COA1))]
    return write(path, tl)


def handoff_backoff(path: Path) -> Path:
    """A handoff whose BU is retransmitted 3 times at INITIAL_BINDACK_TIMEOUT (1 s) doubling.

    1: 0.0 BU COA1 seq 10 | 2: 0.02 BA seq 10 | 3: 0.5 down COA1 | 4: 0.6 up COA1 |
    5: 1.0 down COA1 | 6: 5.0 BU COA2 seq 11 | 7: 6.0 BU COA2 seq 12 | 8: 8.0 BU COA2 seq 13 |
    9: 12.0 BU COA2 seq 14 | 10: 12.05 BA COA2 seq 14 | 11: 12.1 down COA2 | 12: 12.2 up COA2
    """
    tl: list[tuple[float, Packet]] = [
        (0.0, home_bu(COA1, 10)), (0.02, home_ba(COA1, 10)), (0.5, down(COA1)),
        (0.6, up(COA1)), (1.0, down(COA1))]
    tl += [(off, home_bu(COA2, 11 + i)) for i, off in enumerate((5.0, 6.0, 8.0, 12.0))]
    tl += [(12.05, home_ba(COA2, 14)), (12.1, down(COA2)), (12.2, up(COA2))]
    return write(path, tl)


UNANSWERED_FIRST_REG_OFFSETS = (0.0, 1.5, 4.5, 10.5, 22.5, 46.5, 78.5, 110.5)


def first_registration_unanswered(path: Path) -> Path:
    """A first home registration never answered: 8 BUs (seq 200..207) at 1.5 s
    doubling, capped at MAX_BINDACK_TIMEOUT (32 s). Nothing else; the capture ends
    with the last BU.

    1..8: BU COA1 seq 200..207 at 0.0, 1.5, 4.5, 10.5, 22.5, 46.5, 78.5, 110.5
    """
    return write(path, [(off, home_bu(COA1, 200 + i))
                        for i, off in enumerate(UNANSWERED_FIRST_REG_OFFSETS)])


UNANSWERED_HANDOFF_OFFSETS = (5.0, 6.0, 8.0, 12.0, 20.0, 36.0, 68.0, 100.0)


def handoff_unanswered(path: Path) -> Path:
    """A registered node moves; its BUs from the new address are never answered
    (1 s doubling, capped at 32 s); the capture ends with the last one.

    1: 0.0 BU COA1 seq 20 | 2: 0.02 BA seq 20 | 3: 0.5 down COA1 |
    4..11: BU COA2 seq 21..28 at 5, 6, 8, 12, 20, 36, 68, 100
    """
    tl: list[tuple[float, Packet]] = [
        (0.0, home_bu(COA1, 20)), (0.02, home_ba(COA1, 20)), (0.5, down(COA1))]
    tl += [(off, home_bu(COA2, 21 + i)) for i, off in enumerate(UNANSWERED_HANDOFF_OFFSETS)]
    return write(path, tl)


def reused_sequence(path: Path) -> Path:
    """A BU retransmitted with the same sequence number (against RFC 6275 11.8).

    1: 0.0 BU COA1 seq 300 | 2: 1.5 BU COA1 seq 300 | 3: 1.6 BA seq 300 | 4: 2.0 down COA1
    """
    return write(path, [(0.0, home_bu(COA1, 300)), (1.5, home_bu(COA1, 300)),
                        (1.6, home_ba(COA1, 300)), (2.0, down(COA1))])


def fast_schedule(path: Path) -> Path:
    """A first registration retransmitted every 0.2 s (RFC 6275 11.8 asks 1.5 s doubling).

    1..4: BU COA1 seq 400..403 at 0.0, 0.2, 0.4, 0.6 | 5: 0.62 BA seq 403
    """
    tl: list[tuple[float, Packet]] = [
        (off, home_bu(COA1, 400 + i)) for i, off in enumerate((0.0, 0.2, 0.4, 0.6))]
    return write(path, [*tl, (0.62, home_ba(COA1, 403))])


BAD_CHECKSUM = 0xDEAD


def bad_checksum_bu(path: Path) -> Path:
    """A BU whose MH checksum is wrong in every form, then a good BU and its BA.

    1: 0.0 BU COA1 seq 10 checksum 0xdead | 2: 1.5 BU COA1 seq 11 | 3: 1.52 BA seq 11
    """
    return write(path, [(0.0, home_bu(COA1, 10, cksum=BAD_CHECKSUM)), (1.5, home_bu(COA1, 11)),
                        (1.52, home_ba(COA1, 11))])


def lost_to_old_care_of(path: Path) -> Path:
    """A handoff seen by a tap on the home agent's foreign side and the access links:
    tunnelled packets only, never the home agent's untunnelled ingress from CN.

    1: 0.00 BU COA1 seq 10 | 2: 0.02 BA COA1 | 3: 1.00 down COA1 | 4: 1.05 up COA1 |
    5: 1.10 down COA1 | 6: 1.20 down COA1 | 7: 1.25 up COA1 (node's last from COA1) |
    8: 1.30 down COA1 | 9: 1.40 down COA1 | 10: 1.50 BU COA2 seq 11 (node's first from COA2) |
    11: 1.60 down COA1 | 12: 1.70 down COA1 | 13: 1.80 down COA1 | 14: 1.90 BA COA2 seq 11 |
    15: 2.00 down COA2 | 16: 2.05 up COA2 | 17: 2.10 down COA2
    """
    return write(path, [
        (0.00, home_bu(COA1, 10)), (0.02, home_ba(COA1, 10)), (1.00, down(COA1)),
        (1.05, up(COA1)), (1.10, down(COA1)), (1.20, down(COA1)), (1.25, up(COA1)),
        (1.30, down(COA1)), (1.40, down(COA1)), (1.50, home_bu(COA2, 11)),
        (1.60, down(COA1)), (1.70, down(COA1)), (1.80, down(COA1)), (1.90, home_ba(COA2, 11)),
        (2.00, down(COA2)), (2.05, up(COA2)), (2.10, down(COA2))])


def two_home_agents(path: Path) -> Path:
    """One node at COA1 with two home addresses, each registered at its own home agent
    (seed 3.2.9: "a binding update for each home address to the corresponding home agent").

    1: 0.00 BU COA1->HA HAO HOA seq 1 | 2: 0.02 BA HA->COA1 RH2 HOA |
    3: 0.10 BU COA1->HA_B HAO HOA_B seq 1 | 4: 0.12 BA HA_B->COA1 RH2 HOA_B |
    5: 0.5 down HA->COA1 (CN->HOA) | 6: 0.6 down HA_B->COA1 (CN->HOA_B) |
    7: 0.7 up COA1->HA (HOA->CN) | 8: 0.8 up COA1->HA_B (HOA_B->CN)
    """
    return write(path, [
        (0.00, home_bu(COA1, 1)), (0.02, home_ba(COA1, 1)),
        (0.10, home_bu(COA1, 1, ha=HA_B, hoa=HOA_B)), (0.12, home_ba(COA1, 1, ha=HA_B, hoa=HOA_B)),
        (0.5, down(COA1)), (0.6, down(COA1, ha=HA_B, hoa=HOA_B)),
        (0.7, up(COA1)), (0.8, up(COA1, ha=HA_B, hoa=HOA_B))])


REJECT_STATUS = 129
NOT_HOME_AGENT = 133


def never_accepted(path: Path) -> Path:
    """Two nodes never accepted: HOA tries HA and is never answered; HOA_B tries HA_B,
    which answers 133 (not home agent for this mobile node).

    1: 0.0 BU COA1->HA HAO HOA seq 1 | 2: 0.1 BU COA2->HA_B HAO HOA_B seq 1 |
    3: 0.12 BA HA_B->COA2 RH2 HOA_B status 133 | 4: 1.5 BU COA1->HA HAO HOA seq 2
    """
    return write(path, [
        (0.0, home_bu(COA1, 1)), (0.1, home_bu(COA2, 1, ha=HA_B, hoa=HOA_B)),
        (0.12, home_ba(COA2, 1, ha=HA_B, hoa=HOA_B, status=NOT_HOME_AGENT)),
        (1.5, home_bu(COA1, 2))])


def rejected_then_completed(path: Path) -> Path:
    """A handoff rejected with status 129 (administratively prohibited), then a new
    attempt from the same care-of address that is accepted.

    1: 0.00 BU COA1 seq 1 | 2: 0.02 BA COA1 seq 1 status 0 | 3: 1.0 down COA1 | 4: 1.1 up COA1 |
    5: 10.00 BU COA2 seq 2 | 6: 10.02 BA COA2 seq 2 status 129 |
    7: 12.00 BU COA2 seq 3 | 8: 12.02 BA COA2 seq 3 status 0 | 9: 12.5 down COA2 | 10: 12.6 up COA2
    """
    return write(path, [
        (0.00, home_bu(COA1, 1)), (0.02, home_ba(COA1, 1)), (1.0, down(COA1)), (1.1, up(COA1)),
        (10.00, home_bu(COA2, 2)), (10.02, home_ba(COA2, 2, status=REJECT_STATUS)),
        (12.00, home_bu(COA2, 3)), (12.02, home_ba(COA2, 3)),
        (12.5, down(COA2)), (12.6, up(COA2))])


def brr_tunnelled(path: Path) -> Path:
    """The home agent sends a Binding Refresh Request to the home address through
    the tunnel (outer HA->COA1, inner HA->HOA, MH type 0: 40 + 40 + 8 = 88 bytes).

    1: 0.00 BU COA1 seq 1 | 2: 0.02 BA | 3: 0.5 down (188 B) | 4: 0.6 up (188 B) |
    5: 1.0 down (188 B) | 6: 2.0 BRR tunnelled (88 B) | 7: 2.1 BU COA1 seq 2 | 8: 2.12 BA seq 2 |
    9: 2.5 down (188 B)
    """
    brr = _eth() / IPv6(src=HA, dst=COA1) / IPv6(src=HA, dst=HOA) / MIP6MH_BRR()
    return write(path, [
        (0.00, home_bu(COA1, 1)), (0.02, home_ba(COA1, 1)), (0.5, down(COA1)), (0.6, up(COA1)),
        (1.0, down(COA1)), (2.0, brr), (2.1, home_bu(COA1, 2)), (2.12, home_ba(COA1, 2)),
        (2.5, down(COA1))])


HOME_COOKIE, CAREOF_COOKIE = b"\x11" * 8, b"\x22" * 8


def _return_routability(coa: str, hoa: str, start: float) -> list[tuple[float, Packet]]:
    """HoTI (reverse-tunnelled), CoTI (direct), HoT (tunnelled), CoT (direct),
    BU to CN (A only, Nonce Indices, Binding Authorization Data), BA from CN (RH2)."""
    hoti = _eth() / IPv6(src=coa, dst=HA) / IPv6(src=hoa, dst=CN) / MIP6MH_HoTI(cookie=HOME_COOKIE)
    coti = _eth() / IPv6(src=coa, dst=CN) / MIP6MH_CoTI(cookie=CAREOF_COOKIE)
    hot = (_eth() / IPv6(src=HA, dst=coa) / IPv6(src=CN, dst=hoa)
           / MIP6MH_HoT(index=1, cookie=HOME_COOKIE, token=b"\x33" * 8))
    cot = _eth() / IPv6(src=CN, dst=coa) / MIP6MH_CoT(index=2, cookie=CAREOF_COOKIE,
                                                      token=b"\x44" * 8)
    cn_bu = (_eth() / IPv6(src=coa, dst=CN) / IPv6ExtHdrDestOpt(options=[HAO(hoa=hoa)])
             / MIP6MH_BU(seq=50, flags="A", mhtime=LIFETIME_UNITS, options=[
                 MIP6OptNonceIndices(olen=4, hni=1, coni=2),
                 MIP6OptBindingAuthData(olen=12, authenticator=0x55)]))
    cn_ba = (_eth() / IPv6(src=CN, dst=coa) / IPv6ExtHdrRouting(type=2, addresses=[hoa], segleft=1)
             / MIP6MH_BA(status=0, flags=0, seq=50, mhtime=LIFETIME_UNITS))
    return [(start, hoti), (start + 0.001, coti), (start + 0.05, hot), (start + 0.06, cot),
            (start + 0.10, cn_bu), (start + 0.12, cn_ba)]


def direct_to_cn(coa: str, hoa: str = HOA, n: int = 100) -> Packet:
    """Route-optimised MN -> CN: src=CoA with a Home Address option (RFC 6275 9.3.1)."""
    return (_eth() / IPv6(src=coa, dst=CN) / IPv6ExtHdrDestOpt(options=[HAO(hoa=hoa)])
            / UDP(sport=5004, dport=5004) / bytes(n))


def direct_from_cn(coa: str, hoa: str = HOA, n: int = 100) -> Packet:
    """Route-optimised CN -> MN: dst=CoA with a type 2 routing header (RFC 6275 9.3.2)."""
    return (_eth() / IPv6(src=CN, dst=coa) / IPv6ExtHdrRouting(type=2, addresses=[hoa], segleft=1)
            / UDP(sport=5004, dport=5004) / bytes(n))


RO_DIRECT_OFFSETS = tuple(round(1.2 + 0.5 * k, 3) for k in range(21))   # 1.2 .. 11.2


def ro_open_at_end(path: Path) -> Path:
    """Route optimisation that starts at 1.12 and is still in force when the capture
    ends at 11.2.

    1: 0.00 BU COA1->HA seq 1 | 2: 0.02 BA | 3: 0.5 down (tunnel) |
    4: 1.000 HoTI | 5: 1.001 CoTI | 6: 1.05 HoT | 7: 1.06 CoT | 8: 1.10 BU COA1->CN seq 50 (A) |
    9: 1.12 BA CN->COA1 status 0 | 10..30: direct data at 1.2, 1.7, ..., 11.2, alternating
    MN->CN (HAO) and CN->MN (RH2), the last at 11.2 (capture end)
    """
    tl: list[tuple[float, Packet]] = [
        (0.00, home_bu(COA1, 1)), (0.02, home_ba(COA1, 1)), (0.5, down(COA1))]
    tl += _return_routability(COA1, HOA, 1.0)
    tl += [(off, direct_to_cn(COA1) if k % 2 == 0 else direct_from_cn(COA1))
           for k, off in enumerate(RO_DIRECT_OFFSETS)]
    return write(path, tl)


def nemo_router(path: Path) -> Path:
    """A NEMO mobile router (RFC 3963): BU with R and two Mobile Network Prefix
    options, BA with R; hosts of both prefixes talk to the one correspondent
    through the tunnel; the router itself route-optimises its home address with
    the same correspondent.

    1: 0.00 BU COA1->HA seq 1 A H R, MNP 2001:db8:100::/64, MNP 2001:db8:101::/64 |
    2: 0.02 BA R seq 1 | 3: 0.5 down CN->MNN1 | 4: 0.6 up MNN1->CN | 5: 0.7 down CN->MNN2 |
    6: 0.8 up MNN2->CN | 7..12: 1.0 return routability for HOA, BU to CN, BA from CN (1.12) |
    13: 1.5 direct HOA->CN (HAO) | 14: 1.6 direct CN->HOA (RH2) | 15: 1.7 down CN->MNN1 |
    16: 1.8 up MNN2->CN | 17: 2.0 direct HOA->CN (HAO)
    """
    mnps = [MIP6OptMobNetPrefix(plen=64, prefix=MNP1), MIP6OptMobNetPrefix(plen=64, prefix=MNP2)]
    tl: list[tuple[float, Packet]] = [
        (0.00, home_bu(COA1, 1, flags="AHR", options=mnps)), (0.02, home_ba(COA1, 1, flags="R")),
        (0.5, down(COA1, hoa=MNN1)), (0.6, up(COA1, hoa=MNN1)),
        (0.7, down(COA1, hoa=MNN2)), (0.8, up(COA1, hoa=MNN2))]
    tl += _return_routability(COA1, HOA, 1.0)
    tl += [(1.5, direct_to_cn(COA1)), (1.6, direct_from_cn(COA1)), (1.7, down(COA1, hoa=MNN1)),
           (1.8, up(COA1, hoa=MNN2)), (2.0, direct_to_cn(COA1))]
    return write(path, tl)


SHORT_LIFETIME_UNITS = 5        # 20 s


def binding_expires(path: Path) -> Path:
    """A home binding granted for 20 s and never refreshed; the node's traffic goes on.

    1: 0.00 BU COA1 seq 1 lifetime 5 units (20 s) | 2: 0.02 BA seq 1 lifetime 5 units |
    3: 5.0 down COA1 | 4: 10.0 up COA1 | 5: 30.0 up COA1 | 6: 40.0 up COA1
    """
    return write(path, [
        (0.00, home_bu(COA1, 1, lifetime_units=SHORT_LIFETIME_UNITS)),
        (0.02, home_ba(COA1, 1, lifetime_units=SHORT_LIFETIME_UNITS)),
        (5.0, down(COA1)), (10.0, up(COA1)), (30.0, up(COA1)), (40.0, up(COA1))])


def checksum_over_care_of(coa: str = COA1, seq: int = 1) -> int:
    """The MH checksum of ``home_bu(coa, seq)`` computed with the care-of address
    (the IPv6 source) in the pseudo-header instead of the home address."""
    plain = IPv6(src=coa, dst=HA) / MIP6MH_BU(seq=seq, flags="AH", mhtime=LIFETIME_UNITS)
    return int.from_bytes(bytes(plain)[44:46], "big")


def bu_checksum_over_care_of(path: Path) -> Path:
    """A BU whose MH checksum is computed over the care-of address (where RFC 6275
    6.1.1 / 11.3.1 put the home address), then a correct BU and its BA.

    1: 0.0 BU COA1 seq 1, checksum over COA1 | 2: 1.5 BU COA1 seq 2 | 3: 1.52 BA seq 2
    """
    return write(path, [(0.0, home_bu(COA1, 1, cksum=checksum_over_care_of(COA1, 1))),
                        (1.5, home_bu(COA1, 2)), (1.52, home_ba(COA1, 2))])


UNKNOWN_MH_TYPE = 200


def mh_type_unknown(path: Path) -> Path:
    """An MH of type 200 (not defined) from COA1 to CN, answered by a Binding Error
    status 2 (RFC 6275 9.2).

    1: 0.0 COA1->CN MH type 200 (8 bytes) | 2: 0.01 CN->COA1 BE status 2
    """
    unknown = (_eth() / IPv6(src=COA1, dst=CN)
               / MIP6MH_Generic(mhtype=UNKNOWN_MH_TYPE, msg=b"\x00\x00"))
    be = _eth() / IPv6(src=CN, dst=COA1) / MIP6MH_BE(status=2, ha="::")
    return write(path, [(0.0, unknown), (0.01, be)])


SNAP_PAYLOAD = 200
SNAP_DOWN_OFFSETS = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
SNAP_UP_OFFSETS = (0.65, 0.95)


def snaplen_96(path: Path) -> Path:
    """A registration and tunnelled traffic captured with snaplen 96: BU and BA
    (94 bytes) are whole; each tunnelled packet (14 + 40 + 40 + 8 + 200 = 302 bytes)
    keeps its Ethernet, outer and inner IPv6 headers (94 bytes) and 2 bytes of UDP.

    1: 0.00 BU COA1 seq 1 | 2: 0.02 BA | then down at 0.5, 0.6, 0.7, 0.8, 0.9, 1.0 and up at
    0.65, 0.95, in time order (frames 3..10)
    """
    tl: list[tuple[float, Packet]] = [(0.00, home_bu(COA1, 1)), (0.02, home_ba(COA1, 1))]
    data = [(off, down(COA1, SNAP_PAYLOAD)) for off in SNAP_DOWN_OFFSETS]
    data += [(off, up(COA1, SNAP_PAYLOAD)) for off in SNAP_UP_OFFSETS]
    return write(path, tl + sorted(data, key=lambda item: item[0]), snaplen=SNAPLEN)


BOGUS_HOA_HALF = bytes.fromhex("20010db800060000")    # 2001:db8:6::/64, only 8 bytes


def _broken_hao_destopt(next_header: int) -> bytes:
    """Destination Options [PadN(2), option 201 of length 8] (16 bytes)."""
    return bytes([next_header, 1, 0x01, 0x02, 0x00, 0x00, 0xC9, 0x08]) + BOGUS_HOA_HALF


def malformed_hao(path: Path) -> Path:
    """Frames whose Home Address option has length 8 (RFC 6275 6.3 says 16), from
    an address no other frame uses, between a normal registration's frames. The
    BU of frame 5 has its MH checksum computed over its IPv6 source (the only home
    address it could be taken for), so the HAO is its one fault.

    1: 0.00 BU COA1 seq 1 | 2: 0.02 BA | 3: 0.5 down COA1 |
    4: 1.0 STRANGER->CN, Destination Options [PadN(2), option 201 len 8], UDP 5004 |
    5: 1.2 STRANGER->HA, same broken option, MH BU seq 7 A H | 6: 1.5 up COA1
    """
    udp = bytes(IPv6(src=STRANGER, dst=CN) / UDP(sport=5004, dport=5004) / bytes(20))[40:]
    broken = _eth() / IPv6(src=STRANGER, dst=CN, nh=60) / Raw(_broken_hao_destopt(17) + udp)
    mh = bytes(IPv6(src=STRANGER, dst=HA)
               / MIP6MH_BU(seq=7, flags="AH", mhtime=LIFETIME_UNITS))[40:]
    broken_bu = _eth() / IPv6(src=STRANGER, dst=HA, nh=60) / Raw(_broken_hao_destopt(135) + mh)
    return write(path, [(0.00, home_bu(COA1, 1)), (0.02, home_ba(COA1, 1)), (0.5, down(COA1)),
                        (1.0, broken), (1.2, broken_bu), (1.5, up(COA1))])


def disruption_busy(path: Path) -> Path:
    """A handoff in the middle of two-way traffic every 0.1 s: the node's last packet
    on the old path is at 1.0 (nothing is tunnelled to COA1 after it), its BU from
    COA2 at 1.3, the BA at 1.3005 and data on the new path from 1.301.

    1: 0.00 BU COA1 seq 1 | 2: 0.02 BA | then down COA1 at 0.05, 0.15, ..., 0.95 and up COA1
    at 0.1, 0.2, ..., 1.0 (frames 3..22, in time order) | 23: 1.3 BU COA2 seq 2 |
    24: 1.3005 BA COA2 | 25: 1.301 down COA2 | 26: 1.35 up COA2 | 27: 1.4 down COA2 |
    28: 1.45 up COA2
    """
    tl: list[tuple[float, Packet]] = [(0.00, home_bu(COA1, 1)), (0.02, home_ba(COA1, 1))]
    data = [(round(0.05 + 0.1 * k, 3), down(COA1)) for k in range(10)]
    data += [(round(0.1 * k, 3), up(COA1)) for k in range(1, 11)]
    tl += sorted(data, key=lambda item: item[0])
    tl += [(1.3, home_bu(COA2, 2)), (1.3005, home_ba(COA2, 2)), (1.301, down(COA2)),
           (1.35, up(COA2)), (1.4, down(COA2)), (1.45, up(COA2))]
    return write(path, tl)


def disruption_idle(path: Path) -> Path:
    """A handoff while the application is silent in both directions, long before and
    long after the move.

    1: 0.00 BU COA1 seq 1 | 2: 0.02 BA | 3: 0.5 down COA1 | 4: 0.6 up COA1 | 5: 1.0 down COA1 |
    6: 10.0 BU COA2 seq 2 | 7: 10.02 BA COA2 | 8: 20.0 down COA2 | 9: 20.1 up COA2
    """
    return write(path, [
        (0.00, home_bu(COA1, 1)), (0.02, home_ba(COA1, 1)), (0.5, down(COA1)), (0.6, up(COA1)),
        (1.0, down(COA1)), (10.0, home_bu(COA2, 2)), (10.02, home_ba(COA2, 2)),
        (20.0, down(COA2)), (20.1, up(COA2))])


WRONG_L4_CHECKSUM = 0x1234


def bad_inner_checksums(path: Path) -> Path:
    """Tunnelled packets whose inner UDP or TCP checksum is wrong, beside correct ones.

    1: 0.00 BU COA1 seq 1 | 2: 0.02 BA | 3: 0.5 down UDP (good) | 4: 0.6 down UDP checksum
    0x1234 | 5: 0.7 up TCP checksum 0x1234 | 6: 0.8 up TCP (good)
    """
    def tcp_up(chksum: int | None) -> Packet:
        return (_eth() / IPv6(src=COA1, dst=HA) / IPv6(src=HOA, dst=CN)
                / TCP(sport=40000, dport=80, flags="PA", seq=1, ack=1, chksum=chksum) / bytes(50))

    bad_udp = (_eth() / IPv6(src=HA, dst=COA1) / IPv6(src=CN, dst=HOA)
               / UDP(sport=5004, dport=5004, chksum=WRONG_L4_CHECKSUM) / bytes(100))
    return write(path, [(0.00, home_bu(COA1, 1)), (0.02, home_ba(COA1, 1)), (0.5, down(COA1)),
                        (0.6, bad_udp), (0.7, tcp_up(WRONG_L4_CHECKSUM)), (0.8, tcp_up(None))])

"""Hand-built mobility events for the analyzer unit tests."""

from __future__ import annotations

from ipaddress import IPv6Address

from mipv6scope import events as ev

A = IPv6Address
HOA, HA, CN = A("2001:db8:1::100"), A("2001:db8:1::1"), A("2001:db8:9::9")
COA2, COA3 = A("2001:db8:2::100"), A("2001:db8:3::100")
AR2, AR3, HA_LL = A("fe80::2"), A("fe80::3"), A("fe80::1")


def bu(ts: float, frame: int, seq: int, care_of: IPv6Address = COA2, lifetime: int = 60,
       peer: IPv6Address = HA, flags: str = "AH", hoa: IPv6Address = HOA) -> ev.BindingUpdate:
    """A BU from ``care_of`` (HAO = ``hoa`` unless sent from the home address)."""
    hao = None if care_of == hoa else hoa
    return ev.BindingUpdate(ts, frame, 0, hoa, peer, care_of, peer, care_of, peer, False, False, hao,
                            None, seq, frozenset(flags), lifetime, hoa, care_of, None, None, ())


def ba(ts: float, frame: int, seq: int, care_of: IPv6Address = COA2, lifetime: int = 60,
       status: int = 0, peer: IPv6Address = HA, hoa: IPv6Address = HOA) -> ev.BindingAck:
    """A BA from ``peer`` to ``care_of`` (RH2 = ``hoa`` unless sent to the home address)."""
    rh2 = None if care_of == hoa else hoa
    return ev.BindingAck(ts, frame, 0, peer, hoa, peer, care_of, peer, care_of, False, False, None, rh2,
                         seq, status, f"status {status}", frozenset(), lifetime if status < 128 else 0,
                         None, hoa)


def be(ts: float, frame: int, peer: IPv6Address = CN, care_of: IPv6Address = COA2,
       hoa: IPv6Address = HOA) -> ev.BindingError:
    """A Binding Error (status 1) from ``peer`` about ``hoa``."""
    return ev.BindingError(ts, frame, 0, peer, care_of, peer, care_of, peer, care_of, False, False,
                           None, None, 1, "no binding", hoa)


def ra(ts: float, frame: int, router: IPv6Address, prefix: str, home_agent: bool = False,
       router_address: IPv6Address | None = None) -> ev.RouterAdvertisement:
    """An RA from ``router`` advertising ``prefix``."""
    return ev.RouterAdvertisement(ts, frame, 0, router, home_agent, (prefix,),
                                  (router_address,) if router_address else (), None)


def to_mn(ts: float, frame: int, care_of: IPv6Address | None, ha: IPv6Address = HA,
          hoa: IPv6Address = HOA) -> ev.DataPacket:
    """CN -> home address data, tunnelled by ``ha`` to ``care_of`` (None: plain)."""
    if care_of is None:
        return ev.DataPacket(ts, frame, 0, CN, hoa, CN, hoa, False, None, None, 17, 5004, 5004, 220, 220)
    return ev.DataPacket(ts, frame, 0, ha, care_of, CN, hoa, True, None, None, 17, 5004, 5004, 260, 220)


def from_mn(ts: float, frame: int, care_of: IPv6Address | None, ha: IPv6Address = HA,
            hoa: IPv6Address = HOA) -> ev.DataPacket:
    """Home address -> CN data, reverse-tunnelled from ``care_of`` (None: plain from home)."""
    if care_of is None:
        return ev.DataPacket(ts, frame, 0, hoa, CN, hoa, CN, False, None, None, 17, 5004, 5004, 220, 220)
    return ev.DataPacket(ts, frame, 0, care_of, ha, hoa, CN, True, None, None, 17, 5004, 5004, 260, 220)

"""`decode.addresses.Address` writes, hashes and compares as `ipaddress.IPv6Address` does."""

from __future__ import annotations

from ipaddress import IPv6Address

from hypothesis import given, settings
from hypothesis import strategies as st

from mipv6scope.decode.addresses import Address, address

# words that make runs of zeros, IPv4-mapped and -compatible forms, and the rest
words = st.one_of(st.just(0), st.just(1), st.just(0xFFFF), st.integers(0, 0xFFFF))
addresses = st.lists(words, min_size=8, max_size=8).map(
    lambda ws: b"".join(w.to_bytes(2, "big") for w in ws))


@settings(max_examples=3000, deadline=None)
@given(addresses)
def test_text_hash_and_equality_are_ipaddress(packed: bytes) -> None:
    plain = IPv6Address(packed)
    ours = Address(packed)
    assert str(ours) == str(plain)
    assert str(ours) == str(ours)  # the remembered text
    assert hash(ours) == hash(plain) and ours == plain
    assert address(packed) == plain


def test_forms_inet_ntop_writes_differently() -> None:
    # inet_ntop writes these with a dotted IPv4 tail; ipaddress does not
    for text in ("::ffff:1.2.3.4", "::1.2.3.4", "::ffff:0:0", "::1:0", "64:ff9b::1.2.3.4"):
        assert str(Address(text)) == str(IPv6Address(text))
    assert str(Address("fe80::1%eth0")) == "fe80::1%eth0"


def test_network_is_ipaddress_strict_false_and_shared() -> None:
    from ipaddress import IPv6Network

    import pytest

    from mipv6scope.decode.addresses import network
    for text in ("2001:db8:1::/64", "2001:db8:1::1/64", "::/0", "fe80::1/128", "2001:db8:5::/48"):
        assert network(text) == IPv6Network(text, strict=False)
        assert network(text) is network(text)
    for bad in ("2001:db8::/129", "not a prefix", "10.0.0.0/8"):
        with pytest.raises(ValueError):
            network(bad)


def test_not_equal_to_what_is_not_an_address() -> None:
    ours = Address(bytes(range(16)))
    for other in (None, str(ours), int(ours), object()):
        assert (ours == other) is False and (ours != other) is True
        assert (other == ours) is False and (other != ours) is True
    assert ours != Address(bytes(16))
    assert (ours == Address(bytes(16))) is False


def test_an_address_held_elsewhere_stays_one_object_and_the_rest_are_bounded(monkeypatch) -> None:
    """However many addresses come between two of its frames, an address the
    analyzers hold is given again (its text made once); the cache keeps at
    most UNHELD_MAX addresses nothing else holds."""
    from mipv6scope.decode import addresses as module

    monkeypatch.setattr(module, "UNHELD_MAX", 64)
    monkeypatch.setattr(module, "_prune_at", 64)
    monkeypatch.setattr(module, "_made", {})

    def packed(n: int) -> bytes:
        return (0x20010DB8 << 96 | n).to_bytes(16, "big")

    held = [address(packed(n)) for n in range(0, 1000, 10)]  # an analyzer's state
    for n in range(1000):
        address(packed(n))
        assert len(module._made) <= len(held) + 64
    assert all(address(packed(n)) is a for n, a in zip(range(0, 1000, 10), held, strict=True))
    assert address(packed(1)) is not None and address(packed(1)) == IPv6Address(packed(1))

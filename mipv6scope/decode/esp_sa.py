"""Security associations for ESP decryption, read from Wireshark's ``esp_sa`` file.

The file is the one Wireshark writes for Preferences > Protocols > ESP > ESP SAs
(``esp_sa`` in the profile directory, a UAT table) and accepts on the command
line as ``-o 'uat:esp_sa:...'``. One SA a line, eight comma-separated fields,
each in double quotes (``\\\\``, ``\\"`` and ``\\xHH`` escapes as Wireshark writes
them); blank lines and lines starting with ``#`` are skipped::

    # protocol, source, destination, SPI, encryption, key, authentication, key
    "IPv6","2001:db8:1::100","2001:db8:1::1","0x00001001","AES-CBC [RFC3602]","0x00112233445566778899aabbccddeeff","HMAC-SHA-1-96 [RFC2404]","0x00112233445566778899aabbccddeeff00112233"

* protocol: ``IPv6`` or ``IPv4`` (IPv4 SAs are read, and never match: the
  decoder reads ESP in IPv6 only);
* source, destination: an address, ``*`` for any, an address with a prefix
  length (``2001:db8:1::/48``), or ``*`` in place of hex digits
  (``2001:db8:1::1**``), as Wireshark matches them;
* SPI: decimal, ``0x`` hex, or ``*``; ``0x000010**`` matches the hex digits given;
* keys: ``0x`` and hex digits, or the key's characters as they are (Wireshark's
  reading); ``""`` or ``0x`` for none.

A frame's ESP header is matched against the SAs in file order, the first match
wins, the way Wireshark's ESP dissector looks them up: protocol, source,
destination and SPI. The addresses are those the upper layer sees, so that for
Mobile IPv6 the home address in a Home Address option (source) or a type 2
routing header (destination) selects the SA (RFC 3776 3.1, 4.2: the MN-HA
transport-mode SAs are keyed by the home address), which is also what Wireshark
compares.

Keys never leave this module in text: `SecurityAssociation` leaves them out of
its repr, and no error message quotes a key field.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from ipaddress import AddressValueError, IPv4Address, IPv6Address
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


class SAFileError(ValueError):
    """The SA file cannot be used: the message names the line (never a key)."""


@dataclass(frozen=True, slots=True)
class Encryption:
    """An ESP encryption algorithm as Wireshark names it, and how to run it.

    ``mode``: null, cbc, ctr or gcm; ``key_lengths``: the key field's allowed
    lengths in bytes (CTR and GCM: the AES key followed by a 4-byte nonce or
    salt, RFC 3686 5.1, RFC 4106 8.1); ``icv_len``: the AEAD tag length (None:
    the authentication algorithm gives the ICV)."""

    name: str
    mode: str
    iv_len: int
    block: int
    key_lengths: tuple[int, ...]
    cipher: str = "aes"  # aes | 3des
    icv_len: int | None = None


@dataclass(frozen=True, slots=True)
class Authentication:
    """An ESP integrity algorithm as Wireshark names it: HMAC ``digest``
    truncated to ``icv_len`` bytes (RFC 2404, RFC 4868), or no check (None)."""

    name: str
    icv_len: int
    digest: str | None


_AES = (16, 24, 32)
_AES_SALTED = (20, 28, 36)

ENCRYPTIONS: dict[str, Encryption] = {e.name: e for e in (
    Encryption("NULL", "null", 0, 1, (0,)),
    Encryption("TripleDES-CBC [RFC2451]", "cbc", 8, 8, (24,), cipher="3des"),
    Encryption("AES-CBC [RFC3602]", "cbc", 16, 16, _AES),
    Encryption("AES-CTR [RFC3686]", "ctr", 8, 1, _AES_SALTED),
    # the tag length comes from the authentication column (Wireshark's deprecated entry)
    Encryption("AES-GCM [RFC4106]", "gcm", 8, 1, _AES_SALTED),
    Encryption("AES-GCM with 8 octet ICV [RFC4106]", "gcm", 8, 1, _AES_SALTED, icv_len=8),
    Encryption("AES-GCM with 12 octet ICV [RFC4106]", "gcm", 8, 1, _AES_SALTED, icv_len=12),
    Encryption("AES-GCM with 16 octet ICV [RFC4106]", "gcm", 8, 1, _AES_SALTED, icv_len=16),
)}

AUTHENTICATIONS: dict[str, Authentication] = {a.name: a for a in (
    Authentication("NULL", 0, None),
    Authentication("HMAC-SHA-1-96 [RFC2404]", 12, "sha1"),
    Authentication("HMAC-SHA-256-96 [draft-ietf-ipsec-ciph-sha-256-00]", 12, "sha256"),
    Authentication("HMAC-SHA-256-128 [RFC4868]", 16, "sha256"),
    Authentication("HMAC-SHA-384-192 [RFC4868]", 24, "sha384"),
    Authentication("HMAC-SHA-512-256 [RFC4868]", 32, "sha512"),
    Authentication("HMAC-MD5-96 [RFC2403]", 12, "md5"),
    Authentication("ANY 64 bit authentication [no checking]", 8, None),
    Authentication("ANY 96 bit authentication [no checking]", 12, None),
    Authentication("ANY 128 bit authentication [no checking]", 16, None),
    Authentication("ANY 192 bit authentication [no checking]", 24, None),
    Authentication("ANY 256 bit authentication [no checking]", 32, None),
)}

# Names Wireshark knows that this reader cannot run: such an SA is left out, with a warning.
UNSUPPORTED = frozenset((
    "DES-CBC [RFC2405]", "CAST5-CBC [RFC2144]", "BLOWFISH-CBC [RFC2451]", "TWOFISH-CBC",
    "AES-GCM with IIV and 16 octet ICV [RFC4106 & RFC8750]", "ChaCha20 with Poly1305 [RFC7634]",
    "ChaCha20 with Poly1305 and IIV [RFC7634 & RFC8750]", "MAC-RIPEMD-160-96 [RFC2857]",
))

FIELDS = 8


@dataclass(frozen=True, slots=True)
class AddressPattern:
    """A source or destination column: the address bits that must match
    (``mask``) and their ``value``; ``width`` is 128 (IPv6) or 32 (IPv4)."""

    text: str
    value: int
    mask: int
    width: int

    def matches(self, packed: bytes) -> bool:
        """Whether the address (its packed bytes) fits the pattern."""
        if len(packed) * 8 != self.width:
            return False
        return int.from_bytes(packed, "big") & self.mask == self.value


@dataclass(frozen=True, slots=True)
class SpiPattern:
    """The SPI column: one value, or hex digits with ``*`` (``0x000010**``), or ``*``."""

    text: str
    value: int | None
    nibbles: str | None = None

    def matches(self, spi: int) -> bool:
        """Whether ``spi`` fits the pattern."""
        if self.value is not None:
            return spi == self.value
        if self.nibbles is None:
            return True
        return all(p in ("*", d) for p, d in zip(self.nibbles, f"{spi:08x}", strict=True))


@dataclass(frozen=True, slots=True)
class SecurityAssociation:
    """One SA of the file. The keys are left out of repr (and of every message)."""

    line: int
    protocol: str
    src: AddressPattern
    dst: AddressPattern
    spi: SpiPattern
    encryption: Encryption
    authentication: Authentication
    encryption_key: bytes = field(repr=False)
    authentication_key: bytes = field(repr=False)

    @property
    def icv_len(self) -> int:
        """The ICV's length: the AEAD tag's, else the integrity algorithm's."""
        own = self.encryption.icv_len
        return self.authentication.icv_len if own is None else own


@dataclass(frozen=True)
class SADatabase:
    """The SAs of one file, in file order, and the warnings reading it gave."""

    sas: tuple[SecurityAssociation, ...] = ()
    warnings: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.sas)

    def find(self, src: IPv6Address, dst: IPv6Address, spi: int) -> SecurityAssociation | None:
        """The first IPv6 SA matching (source, destination, SPI), or None."""
        s, d = src.packed, dst.packed
        for sa in self.sas:
            if sa.protocol == "IPv6" and sa.spi.matches(spi) and sa.src.matches(s) \
                    and sa.dst.matches(d):
                return sa
        return None


EMPTY = SADatabase()
_active: list[SADatabase] = [EMPTY]


def active_sas() -> SADatabase:
    """The SAs the decoder uses now (`using_sas`); empty unless a command set them."""
    return _active[-1]


@contextlib.contextmanager
def using_sas(database: SADatabase) -> Iterator[SADatabase]:
    """Make ``database`` the decoder's SAs inside the ``with`` block (every
    thread sees it: the terminal UI decodes in worker threads)."""
    _active.append(database)
    try:
        yield database
    finally:
        for i in range(len(_active) - 1, 0, -1):  # this one (the same object), never the default
            if _active[i] is database:
                del _active[i]
                break


# ---------------------------------------------------------------------------------- reading

_ESCAPE = re.compile(r"\\(x[0-9A-Fa-f]{2}|.)", re.S)


def _unescape(text: str) -> str:
    def one(m: re.Match[str]) -> str:
        code = m.group(1)
        if code[0] == "x" and len(code) == 3:
            return chr(int(code[1:], 16))
        return {"n": "\n", "r": "\r", "t": "\t"}.get(code, code)
    return _ESCAPE.sub(one, text)


def split_fields(text: str) -> list[str]:
    """The fields of one UAT line: quoted strings (or bare words) between commas.
    Raises ValueError (no field text in it) when the line is not that."""
    fields: list[str] = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i] in " \t":
            i += 1
        if i < n and text[i] == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            if j >= n:
                raise ValueError(f"field {len(fields) + 1}: no closing quote")
            fields.append(_unescape(text[i + 1:j]))
            i = j + 1
        else:
            j = i
            while j < n and text[j] != ",":
                j += 1
            fields.append(text[i:j].strip())
            i = j
        while i < n and text[i] in " \t":
            i += 1
        if i >= n:
            return fields
        if text[i] != ",":
            raise ValueError(f"field {len(fields)}: text after the closing quote")
        i += 1


def _pattern_bits(text: str, version: int) -> tuple[int, int]:
    """(value, mask) of an address in which ``*`` stands for any hex digit
    (IPv6) or any octet (IPv4, Wireshark's ``10.*.*.1``)."""
    if version == 4:
        octets = text.split(".")
        if len(octets) != 4:
            raise ValueError
        value = mask = 0
        for octet in octets:
            wild = octet == "*"
            byte = 0 if wild else IPv4Address("0.0.0." + octet).packed[3]
            value, mask = value << 8 | byte, mask << 8 | (0 if wild else 0xFF)
        return value, mask
    low = int.from_bytes(IPv6Address(text.replace("*", "0")).packed, "big")
    high = int.from_bytes(IPv6Address(text.replace("*", "f")).packed, "big")
    mask = ~(low ^ high) & ((1 << 128) - 1)
    return low & mask, mask


def parse_address(text: str, protocol: str) -> AddressPattern:
    """A source or destination column; ValueError when it is not an address pattern."""
    version = 6 if protocol == "IPv6" else 4
    width = 128 if version == 6 else 32
    if text.strip() == "*":
        return AddressPattern(text, 0, 0, width)
    address, slash, prefix = text.strip().partition("/")
    try:
        value, mask = _pattern_bits(address, version)
    except (AddressValueError, ValueError):
        raise ValueError(f"not an {protocol} address, '*' or address/prefix") from None
    if slash:
        if not prefix.isdigit() or int(prefix) > width:
            raise ValueError(f"bad prefix length (0 to {width})")
        full = (1 << width) - 1
        mask &= full ^ (full >> int(prefix))
    return AddressPattern(text, value & mask, mask, width)


def parse_spi(text: str) -> SpiPattern:
    """The SPI column: ``*``, ``0x`` hex (``*`` allowed in its 8 digits), decimal or octal."""
    value = text.strip()
    if value == "*":
        return SpiPattern(text, None)
    if "*" in value:
        if not re.fullmatch(r"0[xX][0-9a-fA-F*]{8}", value):
            raise ValueError("SPI with '*' must be 0x and 8 hex digits, or '*' alone")
        return SpiPattern(text, None, value[2:].lower())
    try:
        if value[:2].lower() == "0x":
            spi = int(value[2:], 16)
        elif len(value) > 1 and value.startswith("0"):
            spi = int(value[1:], 8)
        else:
            spi = int(value, 10)
    except ValueError:
        raise ValueError("SPI is not a number (decimal or 0x hex) or '*'") from None
    if not 0 <= spi <= 0xFFFFFFFF:
        raise ValueError("SPI out of range (32 bits)")
    return SpiPattern(text, spi)


def parse_key(text: str, which: str) -> bytes:
    """A key column as Wireshark reads it: ``0x`` + hex digits (an odd count
    gets a leading 0), else the characters themselves. The message of the
    ValueError never quotes the key."""
    if len(text) >= 2 and text[0] == "0" and text[1] in "xX":
        digits = text[2:]
        if len(digits) % 2:
            digits = "0" + digits
        try:
            return bytes.fromhex(digits)
        except ValueError:
            raise ValueError(f"{which} key: not hex digits after 0x") from None
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        raise ValueError(f"{which} key: characters that are not bytes (use 0x and hex)") from None


def _column(parse: Callable[..., T], column: int, *args: str) -> T:
    """``parse(*args)``, its ValueError prefixed with the column's name and number."""
    try:
        return parse(*args)
    except ValueError as exc:
        name = {2: "source", 3: "destination", 4: "SPI"}[column]
        raise ValueError(f"{name} (column {column}): {exc}") from None


def parse_sa(fields: Sequence[str], line: int) -> SecurityAssociation | str:
    """One SA from its eight fields; a warning text when Wireshark knows its
    algorithm but this reader cannot run it. Raises ValueError (never quoting a key)."""
    if len(fields) != FIELDS:
        raise ValueError(f"{len(fields)} fields, expected {FIELDS} (protocol, source, destination, "
                         "SPI, encryption, encryption key, authentication, authentication key)")
    protocol, src, dst, spi, enc_name, enc_key, auth_name, auth_key = fields
    if protocol not in ("IPv6", "IPv4"):
        raise ValueError("protocol (column 1) must be IPv6 or IPv4")
    for name in (enc_name, auth_name):
        if name in UNSUPPORTED:
            return f"{name} is not supported: the SA is ignored"
    encryption = ENCRYPTIONS.get(enc_name)
    if encryption is None:
        raise ValueError("unknown encryption algorithm in column 5 (one of: "
                         + ", ".join(ENCRYPTIONS) + ")")
    authentication = AUTHENTICATIONS.get(auth_name)
    if authentication is None:
        raise ValueError("unknown authentication algorithm in column 7 (one of: "
                         + ", ".join(AUTHENTICATIONS) + ")")
    ekey = parse_key(enc_key, "encryption")
    akey = parse_key(auth_key, "authentication")
    if len(ekey) not in encryption.key_lengths:
        sizes = [str(n) for n in encryption.key_lengths]
        wanted = sizes[0] if len(sizes) == 1 else ", ".join(sizes[:-1]) + " or " + sizes[-1]
        raise ValueError(f"{enc_name} needs a key of {wanted} bytes; the encryption key has {len(ekey)}")
    if authentication.digest is not None and not akey:
        raise ValueError(f"{auth_name} needs an authentication key")
    sa = SecurityAssociation(line, protocol, _column(parse_address, 2, src, protocol),
                             _column(parse_address, 3, dst, protocol), _column(parse_spi, 4, spi),
                             encryption, authentication, ekey, akey)
    if encryption.mode == "gcm" and sa.icv_len not in (8, 12, 16):
        return (f"{enc_name} with {auth_name} gives no 8, 12 or 16 octet ICV to check: the SA is "
                "ignored (use AES-GCM with N octet ICV)")
    return sa


def read_sa_lines(lines: Sequence[str], source: str = "--esp-sa") -> SADatabase:
    """The SAs of an esp_sa file's lines. Raises `SAFileError` naming the line."""
    sas: list[SecurityAssociation] = []
    warnings: list[str] = []
    for number, raw in enumerate(lines, start=1):
        text = raw.strip().lstrip("\ufeff")
        if not text or text.startswith("#"):
            continue
        try:
            found = parse_sa(split_fields(text), number)
        except ValueError as exc:
            raise SAFileError(f"{source} line {number}: {exc}") from None
        if isinstance(found, str):
            warnings.append(f"{source} line {number}: {found}")
        else:
            sas.append(found)
    return SADatabase(tuple(sas), tuple(warnings))


def read_sa_file(path: str | Path) -> SADatabase:
    """The SAs of the esp_sa file at ``path``. Raises `SAFileError` (unreadable
    file, or a bad line: its number and what is wrong, never a key)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SAFileError(f"{path}: not a text file (UTF-8)") from None
    except OSError as exc:
        raise SAFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    return read_sa_lines(text.splitlines(), str(path))

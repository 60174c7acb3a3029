"""Open an ESP packet with its security association: check the ICV, decrypt,
read the trailer (RFC 4303 2, 3.4.4).

     0                   1                   2                   3
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    |       Security Parameters Index (SPI) | Sequence Number       |  8 octets
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    |  IV (CBC: one block; CTR, GCM: 8 octets)                      |
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+  ^
    .  Payload Data | Padding | Pad Length | Next Header            .  | encrypted
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+  v
    .  ICV (the SA's integrity algorithm, or the AEAD tag)          .
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

* HMAC (RFC 2404, RFC 4868): the ICV is the HMAC of everything from the SPI to
  the end of the ciphertext, truncated to the ICV length.
* AES-CBC (RFC 3602), 3DES-CBC (RFC 2451): the IV is one cipher block.
* AES-CTR (RFC 3686 4): counter block = nonce (the key's last 4 octets) | IV | 1.
* AES-GCM (RFC 4106): nonce = salt (the key's last 4 octets) | IV, the
  additional data SPI | sequence number (no extended sequence numbers), the
  ICV is the GCM tag. When the tag is wrong the payload is still read, as
  Wireshark does: GCM's ciphertext is AES-CTR from counter 2.

A mismatching ICV does not stop the reading (the frame gets a finding, and
shows what it carries); a trailer that cannot be right (a pad length past the
payload, or, without a good ICV, padding other than RFC 4303's default 1, 2,
3, ...) means the keys do not open this packet.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from .esp_sa import SecurityAssociation

ESP_HEADER_LEN = 8
SALT_LEN = 4
_DEFAULT_PADDING = bytes(range(1, 256))


@dataclass(frozen=True, slots=True)
class OpenedEsp:
    """What an SA made of an ESP packet. ``icv_ok`` is None when the SA has no
    integrity check (NULL or Wireshark's "ANY n bit ... [no checking]")."""

    icv_ok: bool | None
    icv_len: int
    iv_len: int
    pad_len: int
    next_header: int
    payload: bytes
    plaintext: bytes  # the payload, its padding, Pad Length and Next Header


def _hmac_ok(esp: bytes, sa: SecurityAssociation, icv_len: int) -> bool | None:
    digest = sa.authentication.digest
    if digest is None:
        return None
    mac = hmac.new(sa.authentication_key, esp[:len(esp) - icv_len], digest).digest()
    return hmac.compare_digest(mac[:icv_len], esp[len(esp) - icv_len:])


def _decrypt(esp: bytes, sa: SecurityAssociation, icv_len: int) -> tuple[bytes, bool | None] | None:
    """(plaintext from Payload Data to Next Header, ICV verdict), or None when
    the ciphertext cannot be the algorithm's (a CBC length off the block)."""
    enc = sa.encryption
    iv = esp[ESP_HEADER_LEN:ESP_HEADER_LEN + enc.iv_len]
    body = esp[ESP_HEADER_LEN + enc.iv_len:len(esp) - icv_len]
    key = sa.encryption_key
    if enc.mode == "null":
        return body, _hmac_ok(esp, sa, icv_len)
    if enc.mode == "cbc":
        if len(body) % enc.block:
            return None
        algorithm = TripleDES(key) if enc.cipher == "3des" else algorithms.AES(key)
        plain = Cipher(algorithm, modes.CBC(iv)).decryptor()
        return plain.update(body) + plain.finalize(), _hmac_ok(esp, sa, icv_len)
    aes_key, salt = key[:-SALT_LEN], key[-SALT_LEN:]
    if enc.mode == "ctr":
        ctr = Cipher(algorithms.AES(aes_key), modes.CTR(salt + iv + b"\x00\x00\x00\x01")).decryptor()
        return ctr.update(body) + ctr.finalize(), _hmac_ok(esp, sa, icv_len)
    tag = esp[len(esp) - icv_len:]
    gcm = Cipher(algorithms.AES(aes_key), modes.GCM(salt + iv, tag, min_tag_length=icv_len)).decryptor()
    gcm.authenticate_additional_data(esp[:ESP_HEADER_LEN])
    plain = gcm.update(body)
    try:
        return plain + gcm.finalize(), True
    except InvalidTag:
        return plain, False


def open_esp(esp: bytes, sa: SecurityAssociation) -> OpenedEsp | None:
    """``esp`` (from the SPI to the end of the IPv6 payload) opened with
    ``sa``, or None when the SA's keys cannot have made it (too short, a
    block length off, or a trailer that cannot be right). Never raises."""
    icv_len = sa.icv_len
    iv_len = sa.encryption.iv_len
    if len(esp) < ESP_HEADER_LEN + iv_len + 2 + icv_len:
        return None
    try:
        opened = _decrypt(esp, sa, icv_len)
    except ValueError:  # a key or length the cipher refuses
        return None
    if opened is None:
        return None
    plain, icv_ok = opened
    pad_len, next_header = plain[-2], plain[-1]
    start = len(plain) - 2 - pad_len
    if start < 0:
        return None
    if icv_ok is not True and plain[start:-2] != _DEFAULT_PADDING[:pad_len]:
        return None
    return OpenedEsp(icv_ok, icv_len, iv_len, pad_len, next_header, plain[:start], plain)

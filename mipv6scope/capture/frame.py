"""The unit the capture layer hands to the decoder, and its error type."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import NamedTuple

# Link types (LINKTYPE_* values as written in pcap/pcapng files).
LINKTYPE_NULL = 0
LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_LOOP = 108
LINKTYPE_LINUX_SLL = 113
LINKTYPE_IPV4 = 228
LINKTYPE_IPV6 = 229
LINKTYPE_LINUX_SLL2 = 276

LINKTYPE_NAMES = {
    LINKTYPE_NULL: "null",
    LINKTYPE_ETHERNET: "ethernet",
    LINKTYPE_RAW: "raw",
    LINKTYPE_LOOP: "loop",
    LINKTYPE_LINUX_SLL: "sll",
    LINKTYPE_IPV4: "ipv4",
    LINKTYPE_IPV6: "ipv6",
    LINKTYPE_LINUX_SLL2: "sll2",
}
SUPPORTED_LINKTYPES = frozenset(LINKTYPE_NAMES)

# Largest record the readers accept; anything bigger is treated as corruption.
MAX_CAPLEN = 262144 * 4

# CaptureIssue codes.
ISSUE_TRUNCATED_RECORD = "truncated_record"  # file/stream ends inside a record
ISSUE_CORRUPT_RECORD = "corrupt_record"  # pcap record header with impossible values
ISSUE_CORRUPT_BLOCK = "corrupt_block"  # pcapng block with impossible length/contents
ISSUE_CORRUPT_STREAM = "corrupt_stream"  # bad gzip data or a read error


class CaptureError(Exception):
    """The file cannot be read as a capture at all (missing, not a capture,
    unsupported link type in a pcap header). The message is one line meant for
    the user."""


class Frame(NamedTuple):
    """One captured record, as read from the file.

    ``number`` is 1-based across the whole file. ``ts`` is epoch seconds.
    ``data`` holds the ``caplen`` captured bytes starting at the link header.
    A named tuple: the readers make one per record, and `new_frame` makes it
    without a Python-level call.
    """

    number: int
    ts: float
    caplen: int
    wirelen: int
    linktype: int
    data: bytes
    interface: int = 0


# new_frame((number, ts, caplen, wirelen, linktype, data, interface)): all seven fields
new_frame = partial(tuple.__new__, Frame)


@dataclass(frozen=True, slots=True)
class CaptureIssue:
    """A problem with the capture file itself (not with one packet's contents),
    e.g. a truncated last record. ``frame`` is the number the damaged record
    would have had, or None."""

    code: str
    detail: str
    frame: int | None = None

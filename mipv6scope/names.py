"""``--names FILE``: a hosts-style file naming nodes, read with limits.

The file may come from anywhere, so reading it is bounded: at most
`MAX_FILE_BYTES` are read (a larger file, or one that never ends such as
``/dev/zero``, stops there and fails), and a name longer than
`MAX_NAME_CHARS` fails. Both raise `NamesFileError`, which is an `OSError`
(and a `ValueError`), so a caller that turns an unreadable file into a usage
error (exit 2) turns these into one too. Names are kept as written (JSON
shows them whole); text views show them `safe_text.visible` and shortened.
"""

from __future__ import annotations

import os
from ipaddress import IPv6Address

MAX_FILE_BYTES = 16 * 1024 * 1024  # 16 MiB
MAX_NAME_CHARS = 1024


class NamesFileError(OSError, ValueError):
    """A names file past a limit (size, name length): one line, a usage error."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "bad names file"


def _read_capped(path: str | os.PathLike[str], limit: int) -> bytes:
    """At most ``limit`` bytes of ``path``; `NamesFileError` when there are more."""
    chunks: list[bytes] = []
    size = 0
    with open(path, "rb") as fh:
        while size <= limit:
            chunk = fh.read(min(1 << 20, limit + 1 - size))
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
            size += len(chunk)
    raise NamesFileError(f"names file is larger than {limit:,} bytes "
                         f"({limit // (1024 * 1024)} MiB): stopped reading there")


def read_names(path: str | os.PathLike[str], max_bytes: int = MAX_FILE_BYTES,
               max_name: int = MAX_NAME_CHARS) -> dict[IPv6Address, str]:
    """A hosts-style file (``ADDRESS NAME [ALIASES]``, ``#`` comments) as a
    mapping from IPv6 address to its first name. Other lines are ignored.

    `NamesFileError` when the file holds more than ``max_bytes`` bytes or a
    name longer than ``max_name`` characters; `UnicodeDecodeError` when it
    is not UTF-8; `OSError` when it cannot be read."""
    text = _read_capped(path, max_bytes).decode("utf-8")
    names: dict[IPv6Address, str] = {}
    # lines as a text-mode file gives them (universal newlines), not str.splitlines
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for number, line in enumerate(lines, 1):
        words = line.split("#", 1)[0].split()
        if len(words) < 2:
            continue
        try:
            address = IPv6Address(words[0].split("%", 1)[0])
        except ValueError:
            continue
        if len(words[1]) > max_name:
            raise NamesFileError(f"line {number}: a name of {len(words[1]):,} characters "
                                 f"(at most {max_name:,})")
        names.setdefault(address, words[1])
    return names

"""The hex pane: 16 bytes a line with offset, hex and ASCII, like ``tshark -x``."""

from __future__ import annotations

from typing import NamedTuple

BYTES_PER_LINE = 16


class HexLine(NamedTuple):
    """One line of a hex dump.

    ``highlighted`` holds the byte columns (0-15) of this line that lie in
    the highlighted range; ``text`` is the line as ``tshark -x`` prints it.
    """

    offset: int
    hex: str
    ascii: str
    highlighted: tuple[int, ...]
    text: str


def _printable(b: int) -> str:
    return chr(b) if 0x20 <= b < 0x7F else "."


def hex_lines(data: bytes, highlight: tuple[int, int] | None = None) -> list[HexLine]:
    """``data`` as hex dump lines; ``highlight`` is a (start, length) byte range."""
    lo, hi = (highlight[0], highlight[0] + highlight[1]) if highlight else (0, 0)
    out: list[HexLine] = []
    for offset in range(0, len(data), BYTES_PER_LINE):
        chunk = data[offset:offset + BYTES_PER_LINE]
        hex_text = " ".join(f"{b:02x}" for b in chunk)
        ascii_text = "".join(_printable(b) for b in chunk)
        marked = tuple(i for i in range(len(chunk)) if lo <= offset + i < hi)
        text = f"{offset:04x}  {hex_text:<47}   {ascii_text}"
        out.append(HexLine(offset, hex_text, ascii_text, marked, text))
    return out


def hex_dump(data: bytes, highlight: tuple[int, int] | None = None) -> list[str]:
    """``data`` as the lines ``tshark -x`` prints for it (without the blank line
    after); ``highlight`` is accepted for symmetry with `hex_lines`, which
    says which columns it covers."""
    return [line.text for line in hex_lines(data, highlight)]

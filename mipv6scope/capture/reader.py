"""Open a capture file (pcap, pcapng, optionally gzip-compressed) as a stream of Frames."""

from __future__ import annotations

import gzip
import os
import stat
import zlib
from collections.abc import Iterator
from types import TracebackType

from .frame import (
    ISSUE_CORRUPT_STREAM,
    ISSUE_TRUNCATED_RECORD,
    CaptureError,
    CaptureIssue,
    Frame,
)
from .pcap import PCAP_MAGICS, PcapParser, RecordVisitor
from .pcapng import PCAPNG_MAGIC, PcapngParser

CHUNK_SIZE = 1 << 20
_GZIP_MAGIC = b"\x1f\x8b"


class ByteSource:
    """Chunked reads from a plain or gzip stream that never raise.

    A read or decompression error ends the stream: ``read`` returns b"" from
    then on and ``error`` says what went wrong, so the format parsers can turn
    it into a CaptureIssue instead of an exception.
    """

    __slots__ = ("_f", "_files", "compressed", "error", "cut_short", "live")

    def __init__(self, files: list, compressed: bool) -> None:
        self._files = files  # outermost first; the last one is read
        self._f = files[-1]
        self.compressed = compressed
        self.error: str | None = None
        self.cut_short = False
        # a pipe or terminal: hand out what has arrived instead of waiting for n bytes,
        # so `tcpdump -w - | mipv6scope packets -` shows frames as they come
        self.live = not is_regular_file(files[0])

    def close(self) -> None:
        """Close the underlying files; safe to call more than once."""
        files, self._files = self._files, []
        for f in reversed(files):
            f.close()

    def read(self, n: int = CHUNK_SIZE) -> bytes:
        """Up to ``n`` bytes; b"" at end of stream or after an error.

        Bytes decoded before an error are still returned; the error shows on
        the next call as end of stream.
        """
        if self.error is not None:
            return b""
        # gzip's read() drops what it decoded when it then hits an error; read1() does not
        read_some = self._f.read1 if self.compressed else self._f.read
        parts: list[bytes] = []
        got = 0
        try:
            while got < n:
                piece = read_some(n - got)
                if not piece:
                    break
                parts.append(piece)
                got += len(piece)
                if self.live:
                    break
        except EOFError as exc:
            self.error = f"compressed data ends early: {exc}"
            self.cut_short = True
        except (OSError, zlib.error) as exc:
            what = "bad compressed data" if self.compressed else "read error"
            self.error = f"{what}: {exc}"
        except ValueError:  # read after close()
            self.error = "the capture was closed"
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def where(self, offset: int) -> str:
        """Human wording for a stream offset."""
        if self.compressed:
            return f"decompressed byte offset {offset}"
        return f"byte offset {offset}"

    def cut_issue(self, detail: str, frame: int | None) -> CaptureIssue:
        """The issue for a record the stream ended inside of."""
        if self.error is None:
            return CaptureIssue(ISSUE_TRUNCATED_RECORD, detail, frame)
        code = ISSUE_TRUNCATED_RECORD if self.cut_short else ISSUE_CORRUPT_STREAM
        return CaptureIssue(code, f"{detail} ({self.error})", frame)

    def eof_issue(self, offset: int, next_number: int) -> CaptureIssue | None:
        """The issue to report when the stream ended between records, if any."""
        if self.error is None:
            return None
        detail = f"stream stops at {self.where(offset)}: {self.error}"
        if self.cut_short:  # records after this point are lost
            return CaptureIssue(ISSUE_TRUNCATED_RECORD, detail, next_number)
        return CaptureIssue(ISSUE_CORRUPT_STREAM, detail, None)


class _Replay:
    """A file whose first bytes were already read: hands them out again first.

    Lets gzip decompress a stream that cannot seek back (a pipe).
    """

    def __init__(self, head: bytes, f) -> None:
        self._head = head
        self._f = f

    def read(self, n: int = -1) -> bytes:
        if not self._head:
            return self._f.read(n)
        if n < 0 or n >= len(self._head):
            out, self._head = self._head, b""
        else:
            out, self._head = self._head[:n], self._head[n:]
        return out


class CaptureReader:
    """An open capture: iterate it for Frames (once; it is a stream).

    ``issues`` collects problems with the file itself as iteration meets them.
    Use as a context manager, or call ``close()``, which also ends iteration;
    the file is closed as soon as iteration reaches the end.
    """

    def __init__(self, path: str, fmt: str, src: ByteSource,
                 parser: PcapParser | PcapngParser) -> None:
        self.path = path
        self.format = fmt
        self.compressed = src.compressed
        self.issues: list[CaptureIssue] = []
        self._src = src
        self._parser = parser
        self._frames: Iterator[Frame] | None = None

    def __iter__(self) -> Iterator[Frame]:
        if self._frames is None:
            # the parser closes the source when it reaches the end
            self._frames = self._parser.frames(self.issues)
        return self._frames

    @property
    def linktype(self) -> int | None:
        """The link type of every record of a pcap file; None for pcapng, whose
        interfaces each have their own."""
        return self._parser.linktype if isinstance(self._parser, PcapParser) else None

    @property
    def can_visit(self) -> bool:
        """Whether `visit` is available (classic pcap files)."""
        return self._frames is None and isinstance(self._parser, PcapParser)

    def visit(self, visitor: RecordVisitor) -> None:
        """Call ``visitor(number, ts, caplen, wirelen, linktype, buf, start)``
        for every record, in order, instead of iterating Frames (the record's
        captured bytes are ``buf[start:start + caplen]``): the same records
        without a Frame or a copy per record. Only before iterating, and only
        where `can_visit`; ``issues`` fill as with iteration."""
        if not self.can_visit:
            raise TypeError(f"{self!r} cannot be visited (not a pcap file, or already iterated)")
        self._frames = iter(())
        self._parser.visit(self.issues, visitor)

    def take_stream(self) -> tuple[PcapParser | PcapngParser, ByteSource]:
        """(parser, byte source) for a reader of its own (`columns.chunks`),
        which then owns the records: only before iterating; iteration and
        `visit` end here. ``issues`` are still this reader's to fill."""
        if self._frames is not None:
            raise TypeError(f"{self!r} was already read")
        self._frames = iter(())
        return self._parser, self._src

    def close(self) -> None:
        """Release the file and end iteration; safe to call more than once."""
        frames, self._frames = self._frames, iter(())
        close = getattr(frames, "close", None)  # a parser's generator; not the empty iterator
        if close is not None:
            close()
        self._src.close()

    def __enter__(self) -> CaptureReader:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        kind = f"{self.format}.gz" if self.compressed else self.format
        return f"<CaptureReader {self.path!r} {kind}>"


def _display(path: str) -> str:
    """The path as it can appear inside a one-line message."""
    return path if path.isprintable() else ascii(path)[1:-1]


def is_regular_file(f) -> bool:
    """Whether ``f`` reads a regular file (not a pipe, socket or terminal)."""
    try:
        return stat.S_ISREG(os.fstat(f.fileno()).st_mode)
    except (AttributeError, OSError, ValueError):
        return True  # no descriptor (an in-memory file): it is all there already


def _open_raw(path: str, shown: str):
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise CaptureError(f"No such file: {shown}") from None
    except PermissionError:
        raise CaptureError(f"Permission denied: {shown}") from None
    except (OSError, ValueError) as exc:
        raise CaptureError(f"Cannot open {shown}: {getattr(exc, 'strerror', None) or exc}") from None
    if stat.S_ISDIR(st.st_mode):
        raise CaptureError(f"{shown} is a directory, not a capture file")
    try:
        return open(path, "rb", buffering=0)  # noqa: SIM115 - closed by CaptureReader
    except PermissionError:
        raise CaptureError(f"Permission denied: {shown}") from None
    except OSError as exc:
        raise CaptureError(f"Cannot open {shown}: {exc.strerror or exc}") from None


def open_capture(path: str | os.PathLike[str]) -> CaptureReader:
    """Open a pcap or pcapng file, gzip-compressed or not, for streaming.

    Raises CaptureError (one-line message) when the file cannot be read as a
    capture at all; damage met while reading is reported in ``issues``.
    """
    path = os.fsdecode(path)
    shown = _display(path)
    raw = _open_raw(path, shown)
    src = ByteSource([raw], compressed=False)
    try:
        head = src.read(CHUNK_SIZE)
        if not head:
            if src.error is not None:
                raise CaptureError(f"Cannot read {shown}: {src.error}")
            raise CaptureError(f"{shown} is empty")
        compressed = head.startswith(_GZIP_MAGIC)
        if compressed:
            gz = gzip.GzipFile(fileobj=_Replay(head, raw), mode="rb")
            src = ByteSource([raw, gz], compressed=True)
            head = src.read(CHUNK_SIZE)
            if not head:
                if src.error is not None:
                    raise CaptureError(f"{shown}: cannot decompress: {src.error}")
                raise CaptureError(f"{shown} is an empty gzip file")
        magic = head[:4]
        if magic in PCAP_MAGICS:
            fmt, parser = "pcap", PcapParser(src, head, shown)
        elif magic == PCAPNG_MAGIC:
            fmt, parser = "pcapng", PcapngParser(src, head, shown)
        else:
            start = " ".join(f"{b:02x}" for b in magic)
            how = "gzip-compressed, decompressed data starts with" if compressed else "starts with"
            raise CaptureError(f"{shown} is not a pcap or pcapng capture ({how} {start})")
    except BaseException:
        src.close()
        raise
    return CaptureReader(path, fmt, src, parser)

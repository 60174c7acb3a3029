"""`mipv6scope index`: store captures' frame indexes, so the TUI opens them at once."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass

import click

from ..capture.frame import CaptureError
from ..capture.reader import _display
from .output import EXIT_CAPTURE
from .stdin_capture import STDIN

EXIT_NOT_STORED = 1


@dataclass(frozen=True)
class IndexResult:
    """What `index` did with one capture (one line of text, one JSON object)."""

    capture: str
    status: str               # reused, built, rebuilt
    frames: int
    entry: str | None         # the entry file (None: it could not be written)
    entry_bytes: int
    seconds: float
    reason: str | None        # why an existing entry was not used
    store_error: str | None   # why none could be written
    capture_issues: tuple[str, ...]

    def to_json(self) -> dict:
        return {"capture": self.capture, "status": self.status, "frames": self.frames,
                "entry": self.entry, "bytes": self.entry_bytes,
                "bytes_per_frame": round(self.entry_bytes / self.frames, 2) if self.frames else None,
                "seconds": round(self.seconds, 3), "reason": self.reason,
                "store_error": self.store_error, "capture_issues": list(self.capture_issues)}

    def text(self) -> str:
        why = f" ({self.reason})" if self.reason else ""
        line = f"{_display(self.capture)}: {self.frames:,} frames, {self.status}{why}"
        if self.entry is None:
            return f"{line}, not stored: {self.store_error}"
        per_frame = f", {self.entry_bytes / self.frames:.1f} B/frame" if self.frames else ""
        return (f"{line}, in {_display(self.entry)}: {self.entry_bytes:,} bytes{per_frame}, "
                f"{self.seconds:.2f} s")


@click.command("index")
@click.argument("captures", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Rebuild and store even when a valid entry exists.")
@click.option("--index-dir", type=click.Path(file_okay=False), default=None, metavar="DIR",
              help="Keep the entries in DIR (default: $MIPV6SCOPE_INDEX_DIR, else next to "
                   "the capture when its directory is writable, else ~/.cache/mipv6scope/index "
                   "or $XDG_CACHE_HOME/mipv6scope/index).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="One line per capture, or a JSON array of objects.")
def index(captures: tuple[str, ...], force: bool, index_dir: str | None, fmt: str) -> None:
    """Index CAPTURE files (pcap, pcapng) and store each index, so `mipv6scope
    tui` (and the next `index`) opens them without reading them again.

    The index holds each frame's offset, lengths, time and interface (26 bytes
    a frame on disk), the interfaces and the capture issues. It is stored
    next to the capture as CAPTURE.mipv6scope-index when that directory is
    writable, else in the cache directory; --index-dir DIR or
    MIPV6SCOPE_INDEX_DIR choose another one. An entry is used only while the
    capture's size, modification time and the hash of its first and last
    64 KiB are those it was built from, and its own digest and columns check
    out; otherwise it is rebuilt, never trusted. Each capture gets one line:
    frames, reused / built / rebuilt (and why), where the entry went, its
    size and bytes per frame. gzip-compressed captures cannot be indexed
    (decompress them first: gunzip -k).

    \b
    Examples:
      mipv6scope index home-agent.pcap
      mipv6scope index --index-dir /var/cache/mip6 day1/*.pcapng
      mipv6scope index --force --format json big.pcap

    \b
    Exit codes: 0 ok; 1 an index could not be stored anywhere; 2 usage
    error (e.g. '-' or a fifo: no file to index); 3 a capture could not be
    read, or only in part (its index is still stored); 4 internal error;
    130 interrupted (Ctrl-C).
    """
    from ..capture.index_store import IndexStore

    if STDIN in captures:
        raise click.UsageError("index: '-' (stdin) has no file to keep an index for; "
                               "save the capture to a file first")
    for capture in captures:
        if os.path.exists(capture) and not os.path.isfile(capture):  # a fifo, a device
            raise click.UsageError(f"index: {_display(capture)} is not a regular file; "
                                   "an index is kept for a file that can be read again")
    store = IndexStore.from_env(index_dir)
    results: list[IndexResult] = []
    code = 0
    for capture in captures:
        try:
            opened = store.open(capture, force=force)
        except CaptureError as exc:
            click.echo(f"mipv6scope: {exc}", err=True)
            code = EXIT_CAPTURE
            continue
        with opened.index as built:
            issues = tuple(f"{i.code}: {i.detail}" for i in built.issues)
            result = IndexResult(capture, opened.status, len(built),
                                 None if opened.entry is None else str(opened.entry),
                                 opened.entry_bytes, opened.seconds, opened.reason,
                                 opened.store_error, issues)
        results.append(result)
        if fmt == "text":
            click.echo(result.text())
        for issue in issues:
            click.echo(f"mipv6scope: {_display(capture)}: {issue}", err=True)
        if issues:
            code = EXIT_CAPTURE
        elif result.entry is None and code != EXIT_CAPTURE:
            code = EXIT_NOT_STORED
    if fmt == "json":
        sys.stdout.write(json.dumps([r.to_json() for r in results], indent=2) + "\n")
    sys.exit(code)

"""A FrameIndex kept on disk, so the next command or the TUI opens a capture at once.

An entry holds one capture's `FrameIndex`: its per-frame columns (offset,
caplen, wirelen, timestamp, interface slot), interfaces, capture issues,
format and frame count. It is trusted only when everything checks out:

* the **key** it was stored under matches the capture now: the file's size,
  modification time and a blake2b hash of its first and last 64 KiB, and the
  entry format `VERSION`;
* a blake2b **digest** over everything after the entry's header matches (a
  flipped byte anywhere, a truncated entry);
* the columns are **self-consistent**: equal lengths, frames in file order and
  not overlapping, every frame inside the capture, caplens within MAX_CAPLEN,
  interface slots defined, finite timestamps.

Anything else (no entry, stale, corrupt, unreadable, another version, a
symlink at the entry's path) means "not used": `IndexStore.open` rebuilds the
index from the capture, logging why at debug level.

Layout of an entry file (all integers little-endian)::

    8 bytes  magic b"MIP6IDX\\0"
    4 bytes  VERSION (u32)
    4 bytes  manifest length M (u32)
   32 bytes  blake2b digest of every byte after this header
    M bytes  manifest: UTF-8 JSON (key, format, frames, interfaces, issues,
             columns: [[name, numpy dtype string, values], ...])
    then each column in the manifest's order, ``frames`` values of its dtype
    (every column lists ``frames`` as its count), starting at the next
    multiple of 64 bytes (zero padding)

Today's five columns take 26 bytes a frame plus a few hundred bytes. More
columns (address ids, ports, a "needs full decode" mask) are added under new
names in the manifest's column list: a reader takes the columns it knows by
name and ignores the others, and one that needs a column an entry lacks treats
the entry as missing (rebuilds it). Changing what an existing column means or
its dtype bumps `VERSION`, which retires every older entry.

Where entries go (`IndexStore.locations`): with a directory chosen
(``--index-dir`` or ``$MIPV6SCOPE_INDEX_DIR``) only there; else next to the
capture (``CAPTURE.mipv6scope-index``) when its directory is writable, else
in the cache directory (``$XDG_CACHE_HOME/mipv6scope/index``, by default
``~/.cache/mipv6scope/index``). Entries outside the capture's directory are
named by a hash of the capture's resolved path plus its file name. Writes go
to a temporary file renamed into place (`outfile.atomic_path`), never through
a symlink; a write that fails (read-only directory, full disk) is logged and
the next location tried.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import re
import stat
import struct
import sys
import time
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..outfile import atomic_path
from .frame import MAX_CAPLEN, CaptureIssue
from .index import COLUMNS, Cancel, FrameIndex, ProgressCallback

log = logging.getLogger(__name__)

VERSION = 1
MAGIC = b"MIP6IDX\0"
HEADER = struct.Struct("<8sII32s")  # magic, version, manifest length, digest
DIGEST_SIZE = 32
ALIGN = 64
EDGE_BYTES = 64 << 10  # the key hashes this much of the capture's head and of its tail
MAX_MANIFEST = 16 << 20
SUFFIX = ".mipv6scope-index"
INDEX_DIR_ENV = "MIPV6SCOPE_INDEX_DIR"
READ_CHUNK = 16 << 20
# numpy dtype (little-endian) of each FrameIndex column
DTYPES = {"offsets": "<i8", "caplens": "<u4", "wirelens": "<u4", "ts": "<f8", "slots": "<u2"}
# array typecodes for the dtypes an entry may hold
TYPECODES = {"<i1": "b", "|i1": "b", "<u1": "B", "|u1": "B", "<i2": "h", "<u2": "H",
             "<i4": "i", "<u4": "I", "<i8": "q", "<u8": "Q", "<f4": "f", "<f8": "d"}
# the implicit store (the TUI) skips captures smaller than this: they index in a blink
IMPLICIT_MIN_BYTES = 16 << 20

REUSED = "reused"    # a valid entry was loaded
BUILT = "built"      # there was no entry: indexed from the capture
REBUILT = "rebuilt"  # an entry was there but not used (stale, corrupt, --force)


class EntryRejected(Exception):
    """A stored entry is not used; the message says why (one line)."""


@dataclass(frozen=True)
class CaptureKey:
    """What an entry must match: the capture's size, mtime and a hash of its ends."""

    size: int
    mtime_ns: int
    edges: str  # blake2b of the size, the first and the last EDGE_BYTES, hex

    def to_json(self) -> dict[str, int | str]:
        return {"size": self.size, "mtime_ns": self.mtime_ns, "blake2b_head_tail": self.edges}


def capture_key(path: str | os.PathLike[str]) -> CaptureKey:
    """The key of the capture at ``path`` as it is now (reads at most 128 KiB).
    Raises OSError when it cannot be read or is not a regular file (a fifo
    has nothing to key an entry by)."""
    if not stat.S_ISREG(os.stat(path).st_mode):
        raise OSError(errno.EINVAL, "not a regular file", os.fspath(path))
    with open(path, "rb", buffering=0) as f:
        st = os.fstat(f.fileno())
        size = st.st_size
        digest = hashlib.blake2b(size.to_bytes(8, "little"), digest_size=16)
        digest.update(os.pread(f.fileno(), min(EDGE_BYTES, size), 0))
        digest.update(os.pread(f.fileno(), min(EDGE_BYTES, size), max(0, size - EDGE_BYTES)))
    return CaptureKey(size, st.st_mtime_ns, digest.hexdigest())


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/mipv6scope/index`` (``~/.cache/mipv6scope/index`` by default)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "mipv6scope" / "index"


def hashed_name(capture: str | os.PathLike[str]) -> str:
    """The entry's file name outside the capture's directory: a hash of the
    capture's resolved path (so two ``a.pcap`` never share one), then its name."""
    resolved = os.path.realpath(capture)
    tag = hashlib.blake2b(os.fsencode(resolved), digest_size=10).hexdigest()
    name = re.sub(r"[^A-Za-z0-9._-]", "_", os.path.basename(resolved))[:80]
    return f"{tag}-{name}{SUFFIX}"


@dataclass(frozen=True)
class Saved:
    """Where an entry was written and its size in bytes."""

    path: Path
    nbytes: int


@dataclass
class Opened:
    """A FrameIndex and how it was had: ``status`` is REUSED, BUILT or REBUILT;
    ``entry`` the entry read or written (None when none could be written,
    ``store_error`` then says why, or when storing was not asked for);
    ``reason`` why an existing entry was not used."""

    index: FrameIndex
    status: str
    key: CaptureKey | None
    entry: Path | None = None
    entry_bytes: int = 0
    reason: str | None = None
    store_error: str | None = None
    seconds: float = 0.0


class IndexStore:
    """Where entries are looked for and written, and reading/writing them.

    ``directory``: keep every entry there (named by `hashed_name`); None:
    next to the capture when its directory is writable, else ``cache_dir``.
    """

    def __init__(self, directory: str | os.PathLike[str] | None = None,
                 cache_dir: str | os.PathLike[str] | None = None) -> None:
        self.directory = Path(directory) if directory is not None else None
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()

    @classmethod
    def from_env(cls, directory: str | os.PathLike[str] | None = None) -> IndexStore:
        """The store for ``directory`` (an ``--index-dir``), else ``$MIPV6SCOPE_INDEX_DIR``
        when set, else the default places."""
        return cls(directory if directory is not None else os.environ.get(INDEX_DIR_ENV) or None)

    def locations(self, capture: str | os.PathLike[str]) -> list[Path]:
        """The entry paths for ``capture``, in the order they are read and written."""
        if self.directory is not None:
            return [self.directory / hashed_name(capture)]
        beside = Path(os.fspath(capture) + SUFFIX)
        return [beside, self.cache_dir / hashed_name(capture)]

    # -- reading ----------------------------------------------------------------------------------

    def load(self, capture: str | os.PathLike[str], key: CaptureKey) -> tuple[Opened | None, str | None]:
        """The index of ``capture`` from the first valid entry (``key``: the
        capture's now), or (None, why the entries there were not used; None
        when there were none)."""
        reasons = []
        for entry in self.locations(capture):
            try:
                index, nbytes = read_entry(entry, os.fspath(capture), key)
            except FileNotFoundError:
                continue
            except (EntryRejected, OSError, ValueError) as exc:
                reason = str(exc) if isinstance(exc, EntryRejected) else f"unreadable ({exc})"
                log.debug("index entry %s not used: %s", entry, reason)
                reasons.append(reason)
                continue
            log.debug("index entry %s used (%d frames)", entry, len(index))
            return Opened(index, REUSED, key, entry, nbytes), None
        return None, "; ".join(reasons) or None

    # -- writing ----------------------------------------------------------------------------------

    def save(self, index: FrameIndex, key: CaptureKey) -> tuple[Saved | None, str | None]:
        """Write ``index`` (built when the capture had ``key``) to the first
        location that takes it; (Saved, None), or (None, why not: every
        failure, logged). Nothing is written when the capture changed since."""
        try:
            now = capture_key(index.path)
        except OSError as exc:
            return None, self._fail(f"capture unreadable ({exc})")
        if now != key:
            return None, self._fail("the capture changed while it was indexed")
        errors = []
        for n, entry in enumerate(self.locations(index.path)):
            beside = self.directory is None and n == 0
            if beside and not os.access(entry.parent, os.W_OK):
                errors.append(f"{entry.parent}: not writable")
                continue
            try:
                if not beside:
                    entry.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                nbytes = write_entry(entry, index, key)
            except OSError as exc:
                errors.append(f"{entry}: {exc.strerror or exc}")
                log.debug("index entry %s not written: %s", entry, exc)
                continue
            log.debug("index entry %s written (%d bytes)", entry, nbytes)
            return Saved(entry, nbytes), None
        return None, self._fail("; ".join(errors))

    @staticmethod
    def _fail(why: str) -> str:
        log.debug("index not stored: %s", why)
        return why

    # -- both ---------------------------------------------------------------------------------------

    def open(self, capture: str | os.PathLike[str], progress: ProgressCallback | None = None,
             cancel: Cancel | None = None, force: bool = False, save: bool = True) -> Opened:
        """The index of ``capture``: a valid stored entry's (unless ``force``),
        else built from the file (`FrameIndex.build`: its errors) and, with
        ``save``, stored (see `store`)."""
        started = time.perf_counter()
        capture = os.fsdecode(capture)
        try:
            key: CaptureKey | None = capture_key(capture)
        except OSError:
            key = None  # FrameIndex.build says what is wrong with the file
        reason = "--force" if force else None
        if key is not None and not force:
            opened, reason = self.load(capture, key)
            if opened is not None:
                if progress is not None:
                    progress(len(opened.index), key.size, key.size)
                opened.seconds = time.perf_counter() - started
                return opened
        index = FrameIndex.build(capture, progress, cancel)
        opened = Opened(index, BUILT if reason is None else REBUILT, key, reason=reason)
        if save:
            self.store(opened)
        opened.seconds = time.perf_counter() - started
        return opened

    def store(self, opened: Opened) -> None:
        """Write a built ``opened`` index (filling in its entry or store_error)."""
        if opened.status == REUSED or opened.key is None:
            return
        saved, error = self.save(opened.index, opened.key)
        if saved is not None:
            opened.entry, opened.entry_bytes = saved.path, saved.nbytes
        opened.store_error = error


# -- the entry file ------------------------------------------------------------------------------

def _padding(position: int) -> int:
    return -position % ALIGN


def _little_endian(column: array) -> bytes | array:
    """The column's bytes in little-endian order (a copy only on a big-endian machine)."""
    if sys.byteorder == "little":
        return column
    swapped = array(column.typecode, column)
    swapped.byteswap()
    return swapped


def write_entry(entry: Path, index: FrameIndex, key: CaptureKey) -> int:
    """Write ``index`` to ``entry`` (atomically, never through a symlink);
    its size in bytes. OSError when it cannot be written."""
    columns = index.columns()
    manifest = json.dumps({
        "key": key.to_json(),
        "capture": os.path.realpath(index.path),
        "format": index.format,
        "frames": len(index),
        "interfaces": [list(i) for i in index.interfaces],
        "issues": [[i.code, i.detail, i.frame] for i in index.issues],
        "columns": [[name, DTYPES[name], len(column)] for name, column in columns.items()],
    }, separators=(",", ":")).encode("utf-8")
    digest = hashlib.blake2b(manifest, digest_size=DIGEST_SIZE)
    parts: list[bytes | array] = [manifest]
    position = HEADER.size + len(manifest)
    for column in columns.values():
        pad = b"\0" * _padding(position)
        data = _little_endian(column)
        parts += [pad, data]
        digest.update(pad)
        digest.update(data)
        position += len(pad) + len(column) * column.itemsize
    with atomic_path(entry) as tmp, open(tmp, "wb") as out:
        out.write(HEADER.pack(MAGIC, VERSION, len(manifest), digest.digest()))
        for part in parts:
            out.write(part)
    return position


def _read_into(f, view: memoryview, digest) -> None:
    """Fill ``view`` from ``f`` and hash it; EntryRejected when the file ends first."""
    done = 0
    while done < len(view):
        got = f.readinto(view[done:done + READ_CHUNK])
        if not got:
            raise EntryRejected("truncated")
        digest.update(view[done:done + got])
        done += got


def _manifest(raw: bytes) -> dict:
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise EntryRejected("corrupt manifest") from None
    if not isinstance(manifest, dict):
        raise EntryRejected("corrupt manifest")
    return manifest


def _want(condition: bool, what: str) -> None:
    if not condition:
        raise EntryRejected(what)


def read_entry(entry: Path, capture: str, key: CaptureKey,
               wanted: Sequence[str] = tuple(COLUMNS)) -> tuple[FrameIndex, int]:
    """The FrameIndex stored at ``entry`` for ``capture`` (whose key is now
    ``key``) and the entry's size. Raises EntryRejected (stale, corrupt, other
    version, a column of ``wanted`` missing), FileNotFoundError (no entry) or
    OSError; a symlink at ``entry`` is refused, not followed."""
    try:
        fd = os.open(entry, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        if os.path.islink(entry):
            raise EntryRejected("a symlink; not followed") from None
        raise exc
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise EntryRejected("not a regular file")
    with open(fd, "rb", buffering=0) as f:
        head = f.read(HEADER.size)
        _want(len(head) == HEADER.size, "truncated")
        magic, version, manifest_len, stored_digest = HEADER.unpack(head)
        _want(magic == MAGIC, "not an index entry")
        _want(version == VERSION, f"entry format version {version}, this build reads {VERSION}")
        _want(manifest_len <= min(MAX_MANIFEST, st.st_size - HEADER.size), "truncated")
        raw = f.read(manifest_len)
        _want(len(raw) == manifest_len, "truncated")
        manifest = _manifest(raw)
        _want(manifest.get("key") == key.to_json(), "stale: the capture changed since it was indexed")
        frames, columns_listed = manifest.get("frames"), manifest.get("columns")
        _want(type(frames) is int and frames >= 0 and isinstance(columns_listed, list),
              "corrupt manifest")
        digest = hashlib.blake2b(raw, digest_size=DIGEST_SIZE)
        position = HEADER.size + manifest_len
        columns: dict[str, array] = {}
        for listed in columns_listed:
            _want(isinstance(listed, list) and len(listed) == 3 and isinstance(listed[0], str)
                  and listed[1] in TYPECODES and type(listed[2]) is int, "corrupt manifest")
            name, dtype, length = listed
            _want(length == frames, "columns of unequal length")
            typecode = TYPECODES[dtype]
            pad = _padding(position)
            size = frames * array(typecode).itemsize
            # allocate only what the entry really holds (a corrupt count cannot ask for more)
            _want(position + pad + size <= st.st_size, "truncated")
            _read_into(f, memoryview(bytearray(pad)), digest)
            column = array(typecode, bytes(0))
            if frames:
                column = array(typecode, [0]) * frames
                _read_into(f, memoryview(column).cast("B"), digest)
            if sys.byteorder == "big":
                column.byteswap()
            if name in wanted:
                columns[name] = column
            position += pad + size
        _want(not f.read(1), "trailing bytes")
        _want(digest.digest() == stored_digest, "corrupt: digest mismatch")
    missing = [name for name in wanted if name not in columns]
    _want(not missing, f"no column {', '.join(missing)}")
    for name in COLUMNS:
        _want(columns[name].typecode == COLUMNS[name], f"column {name}: unexpected type")
    interfaces, issues = _interfaces(manifest), _issues(manifest)
    fmt = manifest.get("format")
    _want(fmt in ("pcap", "pcapng"), "corrupt manifest: format")
    check_columns(columns, len(interfaces), key.size)
    return FrameIndex(capture, fmt, columns, interfaces, issues, key.size), position


def _interfaces(manifest: dict) -> list[tuple[int, int]]:
    raw = manifest.get("interfaces")
    _want(isinstance(raw, list), "corrupt manifest: interfaces")
    out = []
    for item in raw:
        _want(isinstance(item, list) and len(item) == 2
              and all(type(x) is int and 0 <= x < 1 << 32 for x in item),
              "corrupt manifest: interfaces")
        out.append((item[0], item[1]))
    return out


def _issues(manifest: dict) -> list[CaptureIssue]:
    raw = manifest.get("issues")
    _want(isinstance(raw, list), "corrupt manifest: issues")
    out = []
    for item in raw:
        _want(isinstance(item, list) and len(item) == 3 and isinstance(item[0], str)
              and isinstance(item[1], str) and (item[2] is None or type(item[2]) is int),
              "corrupt manifest: issues")
        out.append(CaptureIssue(*item))
    return out


def check_columns(columns: dict[str, array], interfaces: int, file_size: int) -> None:
    """EntryRejected unless the FrameIndex columns agree with each other and
    the capture: equal lengths, frames in file order without overlap and
    inside the file, caplen at most MAX_CAPLEN, slots naming an interface,
    finite timestamps."""
    import numpy as np  # here: every command imports this module, few load an entry

    lengths = {len(columns[name]) for name in COLUMNS}
    _want(len(lengths) == 1, "columns of unequal length")
    if not lengths.pop():
        return
    offsets = np.frombuffer(columns["offsets"], dtype=np.int64)
    caplens = np.frombuffer(columns["caplens"], dtype=np.uint32)
    _want(int(caplens.max()) <= MAX_CAPLEN, "a caplen above the maximum")
    _want(int(offsets.min()) > 0, "an offset before the file's start")
    _want(int(offsets.max()) <= file_size, "a frame past the end of the capture")
    ends = caplens.astype(np.int64)  # no overflow: offsets and caplens are bounded now
    ends += offsets
    _want(int(ends.max()) <= file_size, "a frame past the end of the capture")
    _want(bool((offsets[1:] >= ends[:-1]).all()), "frames out of order or overlapping")
    _want(int(np.frombuffer(columns["slots"], dtype=np.uint16).max()) < interfaces,
          "a frame on an undefined interface")
    _want(bool(np.isfinite(np.frombuffer(columns["ts"], dtype=np.float64)).all()),
          "a timestamp that is not finite")


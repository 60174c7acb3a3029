"""The analysis engine: one streaming pass over one or more captures.

``analyze(paths)`` reads every frame once. Plain data frames go as field
tuples to the analyzers' data handlers for their kind; the rest are decoded
(`decode_frame`) and turned into events (`events_from_decoded`). Each event
goes to the handlers of the analyzers that want it (`base.dispatch_table`).
At the end every analyzer finishes and contributes to a `ReportBuilder`,
which freezes into the Report.

Two engines find the data frames and give the same report
(tests/analysis/test_engine_equivalence.py), chosen with ``engine=`` or
`using_engine` (``--engine``):

* ``columnar`` (the default, `columnar`): the capture is read in chunks of
  numpy columns (`capture.columns`), whose mask says which frames need the
  decoder;
* ``reference``: frame by frame, each frame classified from raw bytes
  (`classify`). One pcap file is visited record by record
  (`CaptureReader.visit`): a record whose header bytes the fast path
  already knows goes to its handlers straight from the file's buffer,
  without a Frame or a copy; any other record becomes a Frame. Several
  files, and pcapng, go through the Frame loop; both paths give the same
  report (tests/analysis/test_engine.py).

The columnar engine can gather each capture in a producer process
(``jobs=``, ``--jobs``: `parallel`) or on a Dask cluster
(``cluster_address=``, ``--cluster``: `cluster`) while this process runs the
analyzers; the report is the same.

Several files are merged by timestamp (frame numbers stay per file; events
carry the file's index). A packet seen at two vantage points (identical IPv6
bytes apart from the hop limit, in different files, within ``DEDUPE_WINDOW_S``)
is analysed once; the copies are counted as skipped. Ctrl-C stops the reading,
the analyzers still finish, and the report is marked partial.

Memory: nothing here keeps frames; the dedupe window is bounded by time and by
``DEDUPE_MAX_ENTRIES``.

Garbage collection: the pass makes no reference cycles, but the cyclic
collector's full collections walk every object the analyzers hold, again and
again as their state grows (on a capture of 10,000 new nodes, 4 s of a 12 s
pass, collecting nothing). Every ``FREEZE_EVERY`` frames the pass moves what
exists into the collector's permanent generation (`gc.freeze`), so collections
look only at what is newer; `analyze` gives it all back (`gc.unfreeze`) when
the report is built. Objects freed by their reference counts are freed as
always. The young generation is collected every ``YOUNG_THRESHOLD``
allocations during `analyze` instead of CPython's 700: a frame of signalling
makes dozens of objects, all alive until the frame is done or kept for the
report, so the frequent young collections found nothing to free (on 20,000
nodes' BU/BA, about 15 % of the pass's CPU). ``gc.freeze`` also starts the
young generation's count again, and ``YOUNG_THRESHOLD`` is above what the
objects a pass keeps for ``FREEZE_EVERY`` frames of signalling count (about
25 a frame), so such a pass is hardly ever collected: what it keeps is frozen
before a collection walks it (on 100,000 nodes' BU/BA, 235 collections and
1.6 s with 20,000; 85 and 0.5 s, most of them after the pass, with 200,000).
The final report's build only makes what the report keeps (a record or more
a node, no cycles): it runs with the collector off and is frozen with the
rest (`_collection_paused`), which on that capture was most of the 0.5 s left.
"""

from __future__ import annotations

import contextlib
import gc
import heapq
import logging
import math
import os
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from ipaddress import IPv6Address
from itertools import repeat
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..capture.frame import Frame, new_frame
from ..capture.reader import CaptureReader, open_capture
from ..decode.frame_decoder import decode_frame
from ..decode.stream import FrameCounts
from ..events import DataPacket
from ..names import read_names  # noqa: F401  (here for its former importers)
from ..report.builder import ReportBuilder
from ..report.model import CaptureInfo, Report
from .base import Analyzer, DataAnalyzer, DataHandler, data_handler, dispatch_table
from .bindings import BindingsAnalyzer
from .classify import (
    DATA_PACKET_FIELDS,
    READ_LENGTH,
    FastPath,
    kind_of,
    link_offset,
    make_data_packet,
)
from .conformance import ConformanceAnalyzer
from .events_from_frames import events_from_decoded
from .handoffs import HandoffAnalyzer
from .identity import IdentityAnalyzer
from .route_opt import RouteOptAnalyzer
from .settings import Settings
from .signalling import SignallingAnalyzer
from .tunnels import TunnelAnalyzer

if TYPE_CHECKING:
    from . import columnar

log = logging.getLogger(__name__)

DEDUPE_WINDOW_S = 0.05
DEDUPE_MAX_ENTRIES = 1 << 16
DUPLICATE_REASON = "duplicate of a frame in another capture"
PROGRESS_EVERY = 1 << 15  # frames between progress callbacks
FREEZE_EVERY = 1 << 12    # frames between gc.freeze() calls
YOUNG_THRESHOLD = 200_000  # allocations between young-generation collections during analyze


def _tick_every() -> int:
    """Frames between the pass's ticks: a divisor of FREEZE_EVERY and PROGRESS_EVERY."""
    return math.gcd(FREEZE_EVERY, PROGRESS_EVERY)

ProgressCallback = Callable[[int, int], None]


def default_analyzers(settings: Settings | None = None, require_ipsec: bool = False,
                      vantage: str = "auto") -> list[Analyzer]:
    """The analyzers `analyze` runs by default, in order: bindings first, since
    the others read its state (which care-of address was bound when),
    identity after the ones that contribute nodes (it completes and merges
    them), the signalling messages (`signalling`), and conformance last,
    since it reads all of theirs.
    ``require_ipsec`` turns on the ``home_registration_not_protected`` finding;
    ``vantage`` (auto|mn|ha|cn|tap) says where the capture was taken (`handoffs`)."""
    settings = settings or Settings()
    bindings = BindingsAnalyzer(settings)
    handoffs = HandoffAnalyzer(bindings, settings, vantage)
    # the tunnel analyzer judges packets in flight by the capture's vantage, known at the end
    tunnels = TunnelAnalyzer(bindings, vantage=lambda: handoffs.capture_vantage()[0])
    conformance = ConformanceAnalyzer(bindings, settings, handoffs=handoffs, tunnels=tunnels,
                                      require_ipsec=require_ipsec)
    return [bindings, tunnels, RouteOptAnalyzer(bindings, legs=tunnels.legs), handoffs,
            IdentityAnalyzer(bindings), SignallingAnalyzer(bindings), conformance]


@dataclass
class _Dedupe:
    """Recently seen network-layer packets: hash -> (ts, file), expiring by time."""

    window: float = DEDUPE_WINDOW_S
    max_entries: int = DEDUPE_MAX_ENTRIES
    seen: dict[int, tuple[float, int]] = field(default_factory=dict)
    order: deque[tuple[float, int]] = field(default_factory=deque)

    def duplicate(self, frame: Frame, file: int) -> bool:
        """Whether ``frame`` repeats a packet another file showed within the window."""
        off = link_offset(frame)
        if off is None:
            return False
        data = frame.data
        key = hash((data[off:off + 7], data[off + 8:]))  # all but the hop limit
        ts = frame.ts
        order, seen = self.order, self.seen
        while order and (ts - order[0][0] > self.window or len(order) >= self.max_entries):
            old_ts, old_key = order.popleft()
            entry = seen.get(old_key)
            if entry is not None and entry[0] == old_ts:
                del seen[old_key]
        entry = seen.get(key)
        if entry is not None and entry[1] != file and abs(ts - entry[0]) <= self.window:
            return True
        seen[key] = (ts, file)
        order.append((ts, key))
        return False


def _position(reader: CaptureReader) -> int:
    """Bytes of the file read so far (the raw file's position, compressed or not)."""
    try:
        return reader._src._files[0].tell()  # noqa: SLF001 - no public position yet
    except (AttributeError, IndexError, OSError, ValueError):
        return 0


def _file_size(path: str | os.PathLike[str]) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def _keyed(reader: CaptureReader, file: int) -> Iterator[tuple[float, int, int, Frame]]:
    """(ts, file, number, frame): sorts by time, then file, then frame number."""
    for frame in reader:
        yield frame.ts, file, frame.number, frame


def _frames(readers: Sequence[CaptureReader]) -> Iterator[tuple[int, Frame]]:
    """(file index, frame): one file as is, several merged by timestamp."""
    if len(readers) == 1:
        for frame in readers[0]:
            yield 0, frame
        return
    streams = [_keyed(reader, i) for i, reader in enumerate(readers)]
    for _ts, i, _n, frame in heapq.merge(*streams):
        yield i, frame


@dataclass
class _Pass:
    """The counters of one pass."""

    counts: FrameCounts = field(default_factory=FrameCounts)
    fast: int = 0
    handled: int = 0  # frames given to the engine's frame handler
    first_ts: float | None = None
    last_ts: float | None = None
    partial: bool = False

    def saw(self, first: float, last: float) -> None:
        """Add the time range from ``first`` to ``last`` (none when first > last: no frames)."""
        if first <= last:
            self.first_ts = first if self.first_ts is None else min(self.first_ts, first)
            self.last_ts = last if self.last_ts is None else max(self.last_ts, last)


def _data_dispatch(analyzers: Sequence[Analyzer], table: Mapping[type, Sequence[Callable]]
                   ) -> tuple[tuple[DataHandler, ...], tuple[DataHandler, ...], tuple[DataHandler, ...]]:
    """The handlers of fast-path data packets, given as field tuples (see
    `classify.FastPath.fields`), indexed by `classify.kind_of`: (for
    tunnelled packets, for route-optimised ones, for plain ones), in analyzer
    order. A `DataAnalyzer` that keeps the base ``on_data_packet`` gets the
    tuples directly (`base.data_handler`); any other ``on_data_packet`` gets
    the DataPacket built from the tuple."""
    handlers = set(table.get(DataPacket, ()))
    kinds: tuple[list[DataHandler], list[DataHandler], list[DataHandler]] = ([], [], [])
    for analyzer in analyzers:
        on_data = getattr(analyzer, "on_data_packet", None)
        if on_data is None or on_data not in handlers:
            continue
        if (isinstance(analyzer, DataAnalyzer)
                and type(analyzer).on_data_packet is DataAnalyzer.on_data_packet):
            for found, (tunnelled, route_optimised) in zip(
                    kinds, ((True, False), (False, True), (False, False)), strict=True):
                handler = data_handler(analyzer, tunnelled, route_optimised)
                if handler is not None:
                    found.append(handler)
        else:
            def event_handler(fields: tuple, handler: Callable = on_data) -> None:
                handler(make_data_packet(*fields[:DATA_PACKET_FIELDS]))
            for found in kinds:
                found.append(event_handler)
    return tuple(kinds[0]), tuple(kinds[1]), tuple(kinds[2])


FrameHandler = Callable[[Frame, int], None]


def _decoded_handler(table: Mapping[type, Sequence[Callable]], state: _Pass,
                     analyzers: Sequence[Analyzer]) -> FrameHandler:
    """``handle(frame, file)``: the frame through the decoder, to the
    analyzers that take decoded frames (``on_decoded_frame(decoded, file)``),
    and its events to their handlers."""
    counts = state.counts
    frame_hooks = tuple(a.on_decoded_frame for a in analyzers  # defined by the class, not __getattr__
                        if hasattr(type(a), "on_decoded_frame"))

    def handle(frame: Frame, file: int) -> None:
        decoded = decode_frame(frame)
        counts.add(decoded)
        for hook in frame_hooks:
            hook(decoded, file)
        for ev in events_from_decoded(decoded, file):
            for handler in table.get(type(ev), ()):
                handler(ev)
    return handle


def _frame_handler(fast_path: FastPath, by_kind: Sequence[Sequence[DataHandler]],
                   table: Mapping[type, Sequence[Callable]], state: _Pass,
                   analyzers: Sequence[Analyzer]) -> FrameHandler:
    """``handle(frame, file)``: a data frame's field tuple to its kind's
    handlers, anything else to `_decoded_handler`."""
    fields_of = fast_path.fields
    decoded = _decoded_handler(table, state, analyzers)

    def handle(frame: Frame, file: int) -> None:
        state.handled += 1
        fields = fields_of(frame, file)
        if fields is not None:
            state.fast += 1
            for handler in by_kind[kind_of(fields)]:
                handler(fields)
            return
        decoded(frame, file)
    return handle


def _visit_records(reader: CaptureReader, fast_path: FastPath, by_kind: Sequence[Sequence[DataHandler]],
                   handle: FrameHandler, state: _Pass, progress: Callable[[int], None] | None) -> None:
    """One pcap file, record by record (`CaptureReader.visit`): a record whose
    header bytes the fast path has remembered goes to its handlers straight
    from the file's buffer, any other becomes a Frame for ``handle``. A pcap
    file has one link type, so its memory is looked up once."""
    base, templates = fast_path.templates.get(reader.linktype, (0, {}))
    read_length = READ_LENGTH.get
    nh_at = base + 6
    last_number = 0
    first, last = math.inf, -math.inf
    every = _tick_every()

    def visit(number: int, ts: float, caplen: int, wirelen: int, linktype: int, buf: bytes,
              start: int) -> None:
        nonlocal last_number, first, last
        last_number = number
        if ts > last:
            last = ts
        if ts < first:
            first = ts
        if progress is not None and not number % every:
            state.saw(first, last)  # the time span so far, for an interim report
            progress(number)
        # `FastPath.fields` for a remembered header, inlined: the same checks, the same key
        if caplen > nh_at and caplen >= wirelen:
            read = read_length(buf[start + nh_at])
            if read is not None and caplen >= base + read:
                found = templates.get(buf[start:start + base + read])
                if found is not None and caplen >= found[0]:
                    spec = found[3]
                    if spec is not None:  # `segment_verifies`, inlined
                        lo, hi, pseudo, shift, udp_length = spec
                        lo += start
                        if ((int.from_bytes(buf[lo:start + hi], "big") << shift) + pseudo) % 0xFFFF or (
                                udp_length is not None and (buf[lo + 4:lo + 6] != udp_length
                                                            or buf[lo + 6:lo + 8] == b"\x00\x00")):
                            found = None
                    if found is not None:
                        fields = (ts, number, 0) + found[1]
                        for handler in by_kind[found[2]]:
                            handler(fields)
                        return
        handle(new_frame((number, ts, caplen, wirelen, linktype, buf[start:start + caplen], 0)), 0)

    handled = state.handled
    try:
        reader.visit(visit)
    finally:
        # every record either took the remembered header's fields or went to `handle`
        state.fast += last_number - (state.handled - handled)
        state.saw(first, last)


def _iterate_frames(readers: Sequence[CaptureReader], handle: FrameHandler, state: _Pass,
                    progress: Callable[[int], None] | None) -> None:
    """Frames of one or several files (merged by time, copies skipped) to ``handle``."""
    counts = state.counts
    dedupe = _Dedupe() if len(readers) > 1 else None
    frames = zip(repeat(0), readers[0]) if len(readers) == 1 else _frames(readers)
    n = 0
    first, last = math.inf, -math.inf
    every = _tick_every()
    try:
        for file, frame in frames:
            n += 1
            ts = frame.ts
            if ts > last:
                last = ts
            if ts < first:
                first = ts
            if progress is not None and not n % every:
                state.saw(first, last)
                progress(n)
            if dedupe is not None and dedupe.duplicate(frame, file):
                counts.frames += 1
                counts.skipped += 1
                counts.skip_reasons[DUPLICATE_REASON] += 1
                continue
            handle(frame, file)
    finally:
        state.saw(first, last)


ENGINES = ("columnar", "reference")
_engines: list[str] = ["columnar"]


def active_engine() -> str:
    """The engine `analyze` uses when not told (`using_engine`); columnar by default."""
    return _engines[-1]


@contextlib.contextmanager
def using_engine(engine: str) -> Iterator[str]:
    """Make ``engine`` (columnar|reference) the one `analyze` uses inside the
    ``with`` block (the command line's ``--engine``)."""
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r} (known: {', '.join(ENGINES)})")
    _engines.append(engine)
    try:
        yield engine
    finally:
        _engines.pop()


_jobs: list[int | None] = [None]
_clusters: list[str | None] = [None]


@contextlib.contextmanager
def using_cluster(address: str | None) -> Iterator[str | None]:
    """Make the Dask scheduler at ``address`` (None: none) the one `analyze`
    gathers the captures on inside the ``with`` block (``--cluster``)."""
    _clusters.append(address)
    try:
        yield address
    finally:
        _clusters.pop()


def active_jobs() -> int:
    """The processes `analyze` uses when not told (`using_jobs`): all cores by default."""
    from . import parallel  # numpy: not at start-up (the TUI's first screen)

    return _jobs[-1] or parallel.default_jobs()


@contextlib.contextmanager
def using_jobs(jobs: int | None) -> Iterator[int]:
    """Make ``jobs`` (None: all cores) the processes `analyze` uses inside the
    ``with`` block (the command line's ``--jobs``)."""
    if jobs is not None and jobs < 1:
        raise ValueError(f"jobs must be at least 1, not {jobs}")
    _jobs.append(jobs)
    try:
        yield active_jobs()
    finally:
        _jobs.pop()


def _run(readers: Sequence[CaptureReader], analyzers: Sequence[Analyzer],
         progress: Callable[[int], None] | None, visit: bool = True,
         state: _Pass | None = None, engine: str = "reference", jobs: int = 1,
         client: Any = None) -> _Pass:
    """The streaming pass; returns the counters (``state``, or new ones;
    partial on Ctrl-C). The reference engine visits one pcap file record by
    record (unless ``visit`` is False) and iterates the rest as Frames; the
    columnar engine reads chunks (`columnar`). All give the same report."""
    table = dispatch_table(analyzers)
    by_kind = _data_dispatch(analyzers, table)
    state = _Pass() if state is None else state

    def tick(frames_read: int) -> None:
        """Every FREEZE_EVERY frames: freeze (see the module docstring), and
        every PROGRESS_EVERY the caller's ``progress``."""
        if not frames_read % FREEZE_EVERY:
            gc.freeze()
        if progress is not None and not frames_read % PROGRESS_EVERY:
            progress(frames_read)

    try:
        if engine == "columnar":
            _run_columnar(readers, by_kind, _decoded_handler(table, state, analyzers), state,
                          tick, jobs, client)
        else:
            fast_path = FastPath()
            handle = _frame_handler(fast_path, by_kind, table, state, analyzers)
            if visit and len(readers) == 1 and readers[0].can_visit:
                _visit_records(readers[0], fast_path, by_kind, handle, state, tick)
            else:
                _iterate_frames(readers, handle, state, tick)
    except KeyboardInterrupt:
        state.partial = True
    state.counts.frames += state.fast
    state.counts.decoded += state.fast
    return state


def _run_columnar(readers: Sequence[CaptureReader], by_kind: Sequence[Sequence[DataHandler]],
                  decoded: FrameHandler, state: _Pass, progress: Callable[[int], None] | None,
                  jobs: int = 1, client: Any = None) -> None:
    """The columnar pass (`columnar`): one capture chunk by chunk; several
    merged by time, copies skipped, as `_iterate_frames` does. With ``jobs``
    > 1 each capture is gathered in a producer process (`parallel`); with a
    Dask ``client``, by a task on its cluster (`cluster`)."""
    from . import cluster, columnar, parallel  # numpy: not at start-up (the TUI's first screen)

    one = len(readers) == 1
    if client is not None:
        sources = [cluster.produced_on(client, reader, keep_frames=not one) for reader in readers]
    elif jobs > 1:
        sources = [parallel.produced(reader, keep_frames=not one) for reader in readers]
    else:
        sources = [columnar.gathered_here(reader) for reader in readers]
    try:
        _feed_columnar(sources, by_kind, decoded, state, progress)
    finally:
        for source in sources:
            source.close()


def _feed_columnar(sources: Sequence[Iterator[columnar.Gathered]],
                   by_kind: Sequence[Sequence[DataHandler]], decoded: FrameHandler, state: _Pass,
                   progress: Callable[[int], None] | None) -> None:
    """The gathered chunks of every capture to the analyzers, in frame order."""
    from . import columnar

    if len(sources) == 1:
        def counted(fast: int) -> None:
            state.fast += fast
        columnar.run_one(sources[0], columnar.RouteTable(), by_kind, decoded, state.saw, counted,
                         progress, _tick_every())
        return
    counts = state.counts
    dedupe = _Dedupe()
    n = 0
    first, last = math.inf, -math.inf
    every = _tick_every()
    try:
        for item in columnar.merged(sources):
            n += 1
            ts = item[0]
            if ts > last:
                last = ts
            if ts < first:
                first = ts
            if progress is not None and not n % every:
                state.saw(first, last)
                progress(n)
            if dedupe.duplicate(item[3], item[1]):
                counts.frames += 1
                counts.skipped += 1
                counts.skip_reasons[DUPLICATE_REASON] += 1
                continue
            if columnar.dispatch(item, by_kind, decoded):
                state.fast += 1
    finally:
        state.saw(first, last)


def _build_report(analyzers: Sequence[Analyzer], names: Mapping[IPv6Address, str] | None,
                  info: CaptureInfo) -> Report:
    """The report of what the analyzers hold (reading their state only)."""
    builder = ReportBuilder()
    for analyzer in analyzers:
        analyzer.contribute(builder)
    if names:
        builder.name_nodes(names)
    return builder.build(info)


def _issues(readers: Sequence[CaptureReader]) -> tuple[str, ...]:
    return tuple(f"{reader.path}: {issue.code}: {issue.detail}"
                 for reader in readers for issue in reader.issues)


def _vantage(analyzers: Sequence[Analyzer], vantage: str) -> tuple[str, str]:
    """(vantage, why): what an analyzer inferred or was told (``capture_vantage``),
    else what ``--vantage`` gave."""
    told = (a.capture_vantage() for a in analyzers)
    return next((where for where in told if where is not None),
                (vantage, "given with --vantage") if vantage != "auto" else ("unknown", "not inferred"))


def _capture_info(paths: Sequence[str], state: _Pass, readers: Sequence[CaptureReader],
                  where: tuple[str, str], frames_read: int | None = None) -> CaptureInfo:
    """What the pass read: all of it, or (``frames_read`` given, for an
    interim report) the frames read so far, marked partial."""
    c = state.counts
    frames, decoded, partial = ((c.frames, c.decoded, state.partial) if frames_read is None else
                                (frames_read, frames_read - c.malformed - c.skipped, True))
    return CaptureInfo(tuple(paths), frames, decoded, c.malformed, c.skipped, state.first_ts,
                       state.last_ts, partial, dict(c.skip_reasons), _issues(readers),
                       esp_no_key=c.esp_no_key, vantage=where[0], vantage_reason=where[1])


class _CollectorSettings:
    """What the passes running in this process (the TUI may run more than one,
    in threads) changed in the cyclic collector, which is the process's: the
    first to start raises the young threshold, the last to end gives the
    thresholds and what was frozen back."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running = 0
        self.thresholds: tuple[int, ...] = gc.get_threshold()

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """Collect the young generation every ``YOUNG_THRESHOLD`` allocations
        (unless collection is off) while any pass runs; on the way out of the
        last, whatever way, give back what the passes froze (`gc.unfreeze`) and
        the thresholds (see the module docstring)."""
        with self.lock:
            if not self.running:
                self.thresholds = gc.get_threshold()
                if 0 < self.thresholds[0] < YOUNG_THRESHOLD:
                    gc.set_threshold(YOUNG_THRESHOLD, *self.thresholds[1:])
            self.running += 1
        try:
            yield
        finally:
            with self.lock:
                self.running -= 1
                if not self.running:
                    gc.unfreeze()
                    gc.set_threshold(*self.thresholds)


@contextlib.contextmanager
def _collection_paused() -> Iterator[None]:
    """No cyclic collection inside (see the module docstring: the final
    report's build), collection as it was (on or off) after. What was made
    inside is frozen with the pass's state, not walked by the first young
    collection after (the count grows with the collector off)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


_collector = _CollectorSettings()
_collector_given_back = _collector.held


# interim(build): ``build()`` gives the report as it stands (see `analyze`)
InterimCallback = Callable[[Callable[[], Report]], None]


def analyze(paths: Iterable[str | os.PathLike[str]], analyzers: Sequence[Analyzer] | None = None,
            progress: ProgressCallback | None = None,
            names: Mapping[IPv6Address, str] | None = None,
            interim: InterimCallback | None = None, vantage: str = "auto",
            engine: str | None = None, jobs: int | None = None,
            cluster_address: str | None = None) -> Report:
    """Analyse the captures at ``paths`` in one pass and return the Report.

    ``engine`` is ``columnar`` (`columnar`: the captures read in chunks of
    numpy columns) or ``reference`` (frame by frame, with the fast path's
    header memo); both give the same report. None: `active_engine`.
    ``jobs`` (columnar engine): 1 reads and analyses in this process; more
    gathers each capture's columns in a producer process (`parallel`) while
    this one analyses; the same report. None: `active_jobs` (all cores).
    ``cluster_address`` (columnar engine; None: `using_cluster`'s):
    each capture is gathered by a task on that Dask scheduler's workers
    (`cluster`), which must see the capture at the same path; raises
    `cluster.ClusterError` when it cannot be used.

    ``analyzers`` default to the project's analyzers that are installed (see
    `default_analyzers`). ``progress(bytes_read, bytes_total)`` is called every
    few thousand frames and once at the end. ``names`` maps addresses to names
    for the mobile nodes. Raises `CaptureError` when a file cannot be opened
    as a capture; damage met while reading ends up in ``capture.capture_issues``.

    ``interim(build)`` is called at the same points, in the analysing thread,
    with a function that builds the report of the frames read so far (for a
    browser that shows results as they come). ``build()`` only reads the
    analyzers' state (their ``contribute``, not ``finish``), so calling it, or
    not, leaves the final report as it is; what only the end of the capture
    decides (expiries at the end, unanswered messages) is not in it yet, and
    it is marked partial.
    """
    path_list = [os.fsdecode(p) if not isinstance(p, Path) else str(p) for p in paths]
    if analyzers is None:
        analyzers = default_analyzers(vantage=vantage)
    readers: list[CaptureReader] = []
    state = _Pass()
    engine = engine or active_engine()
    cluster_address = cluster_address or _clusters[-1]
    client = None
    if cluster_address and engine == "columnar":
        from . import cluster

        client = cluster.connect(cluster_address)

    def interim_report(frames_read: int) -> Report:
        info = _capture_info(path_list, state, readers, _vantage(analyzers, vantage), frames_read)
        return _build_report(analyzers, names, info)

    with _collector_given_back():
        try:
            for path in path_list:
                readers.append(open_capture(path))
            total = sum(_file_size(p) for p in path_list)

            def tick(frames_read: int) -> None:
                if progress is not None:
                    progress(min(total, sum(_position(r) for r in readers)), total)
                if interim is not None:
                    interim(lambda: interim_report(frames_read))

            _run(readers, analyzers, tick if progress is not None or interim is not None else None,
                 state=state, engine=engine, jobs=jobs or active_jobs(), client=client)
        finally:
            for reader in readers:
                reader.close()
            if client is not None:
                client.close()
        if progress is not None:
            progress(total, total)
        for analyzer in analyzers:
            analyzer.finish(state.last_ts)
        info = _capture_info(path_list, state, readers, _vantage(analyzers, vantage))
        gc.freeze()  # the report build makes one object or more a node: no need to walk the rest
        with _collection_paused():
            return _build_report(analyzers, names, info)

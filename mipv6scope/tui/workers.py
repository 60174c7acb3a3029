"""The background work of the terminal UI, as plain functions.

Each function runs in a Textual thread worker (the app and the main screen
start them with ``@work(thread=True)``), reports through ``post`` (a
``post_message``, which is thread-safe) with the typed messages of
`messages`, and stops when ``cancelled()`` turns true. Nothing here touches
a widget.

Library calls that cannot be cancelled from outside (``cache_at``) run in a
daemon thread the worker waits on, so quitting never waits for them.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from textual.message import Message

from ..analysis.cache import cache_at
from ..analysis.engine import analyze, default_analyzers, using_jobs
from ..capture.index_store import IndexStore
from ..cli.output import AnalysisOptions, OutputOptions, filter_report
from ..report.model import MobileNode, Report
from ..safe_text import safe_report
from .messages import (
    AnalysisProgress,
    AnalysisReady,
    AnalysisSnapshot,
    CacheReady,
    ExportDone,
    FilterProgress,
    IndexProgress,
    IndexReady,
    PacketView,
    PositionsReady,
)

Post = Callable[[Message], object]
Cancelled = Callable[[], bool]
T = TypeVar("T")
PROGRESS_EVERY_S = 0.1   # at most this often a progress message
SNAPSHOT_EVERY_S = 1.0   # at most this often an interim report while the analysis runs
SNAPSHOT_SHARE = 0.1     # and less often when they cost more than this share of the analysis thread
# and never sooner than this share of the time the analysis has run: the UI's redraw of a
# report with a thousand nodes costs it more than building it, so interim reports thin
# out as the capture proves large (at 1, 2, 4, 8 ... s: a handful, whatever its length)
SNAPSHOT_SPACING = 1.0
ROWS_BATCH_S = 0.05      # decoded packet-list rows are posted at least this often


class WorkCancelled(Exception):
    """The work was cancelled (the user quit or asked for something newer)."""


def run_daemon(fn: Callable[[], T], cancelled: Cancelled, poll_s: float = 0.05) -> T:
    """``fn()`` in a daemon thread; its result, or WorkCancelled as soon as
    ``cancelled()`` (the daemon thread is then left to die with the process)."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting worker
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True, name="mipv6scope-daemon")
    thread.start()
    while thread.is_alive():
        thread.join(poll_s)
        if cancelled():
            raise WorkCancelled
    if "error" in box:
        raise box["error"]
    return box["result"]


class _Throttle:
    """True at most every ``PROGRESS_EVERY_S`` seconds (and the first time)."""

    def __init__(self) -> None:
        self.start = time.monotonic()
        self.last = 0.0

    def due(self) -> bool:
        now = time.monotonic()
        if now - self.last >= PROGRESS_EVERY_S:
            self.last = now
            return True
        return False

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.start


def build_source(paths: Sequence[str], post: Post, cancel: threading.Event,
                 store: IndexStore | None = None, save: bool = True) -> Any:
    """Index the captures at ``paths`` (in turn) into one FrameSource, posting
    IndexProgress and then IndexReady; the index build stops (IndexCancelled)
    when ``cancel`` is set. With ``store``, a capture's valid stored index is
    used instead of reading it; with ``save`` too, the indexes built are
    stored after IndexReady (captures of ``IMPLICIT_MIN_BYTES`` or more:
    smaller ones index in a blink), unless cancelled meanwhile."""
    from ..browse import FrameSource
    from ..capture.index_store import IMPLICIT_MIN_BYTES, REUSED

    throttle = _Throttle()

    def progress(frames: int, bytes_done: int, bytes_total: int) -> None:
        if throttle.due() or bytes_done >= bytes_total:
            post(IndexProgress(frames, bytes_done, bytes_total, throttle.elapsed))

    source = FrameSource.open(list(paths), progress=progress, cancel=cancel, store=store)
    loaded = bool(source.opened) and all(o.status == REUSED for o in source.opened)
    post(IndexReady(source, throttle.elapsed, loaded))
    if store is not None and save:
        for opened in source.opened:
            if cancel.is_set():
                break
            if opened.key is not None and opened.key.size >= IMPLICIT_MIN_BYTES:
                store.store(opened)
    return source


def run_analysis(paths: Sequence[str], options: AnalysisOptions, post: Post,
                 cancel: threading.Event) -> Report:
    """The analysis of ``paths`` (restricted to ``--from``/``--to``), posting
    AnalysisProgress, an AnalysisSnapshot (the report so far) about every
    ``SNAPSHOT_EVERY_S`` seconds, and then AnalysisReady; WorkCancelled once
    ``cancel`` is set. An interim report is built in the analysis thread
    (the analyzers' state is not thread-safe), so the next one waits until
    the one before has cost no more than ``SNAPSHOT_SHARE`` of the time, and
    at least ``SNAPSHOT_SPACING`` times the time the analysis has run."""
    throttle = _Throttle()
    next_snapshot = time.monotonic() + SNAPSHOT_EVERY_S

    def progress(done: int, total: int) -> None:
        if cancel.is_set():
            raise WorkCancelled
        if throttle.due() or done >= total:
            post(AnalysisProgress(done, total, throttle.elapsed))

    def interim(build: Callable[[], Report]) -> None:
        nonlocal next_snapshot
        if time.monotonic() < next_snapshot:
            return
        started = time.perf_counter()
        report = shown_report(build(), options)
        cost = time.perf_counter() - started
        post(AnalysisSnapshot(report, throttle.elapsed, cost))
        next_snapshot = time.monotonic() + max(SNAPSHOT_EVERY_S, cost / SNAPSHOT_SHARE,
                                               throttle.elapsed * SNAPSHOT_SPACING)

    with using_jobs(1):  # no producer processes forked from the UI's threads
        report = analyze(list(paths), default_analyzers(require_ipsec=options.require_ipsec,
                                                        vantage=options.vantage),
                         progress=progress, names=options.names, interim=interim,
                         vantage=options.vantage)
    if cancel.is_set():
        raise WorkCancelled
    report = shown_report(report, options)
    post(AnalysisReady(report, throttle.elapsed))
    return report


def shown_report(report: Report, options: AnalysisOptions) -> Report:
    """``report`` as the UI shows it: restricted to ``--from``/``--to``, with
    names and messages' control characters escaped."""
    report = filter_report(report, OutputOptions("text", None, options.from_ts, options.to_ts,
                                                 options.names, None, options.require_ipsec))
    return safe_report(report)


def fetch_rows(positions: Sequence[int], cells: Callable[[int], T],
               post: Callable[[dict[int, T]], object], cancelled: Cancelled,
               batch_s: float = ROWS_BATCH_S) -> None:
    """``cells(p)`` for each position in turn (each reads and decodes a frame),
    posted in batches (whatever is done every ``batch_s`` seconds, and the
    rest at the end); stops between two rows once ``cancelled()``."""
    got: dict[int, T] = {}
    last = time.monotonic()
    for position in positions:
        if cancelled():
            break
        got[position] = cells(position)
        if time.monotonic() - last >= batch_s:
            post(got)
            got, last = {}, time.monotonic()
    if got:
        post(got)


def fetch_frame(source: Any, position: int, post: Callable[[list, bytes], object],
                cancelled: Cancelled) -> None:
    """The details tree and the bytes of the frame at ``position``, posted as
    ``post(detail, raw)`` unless ``cancelled()`` (another frame was selected)."""
    detail = source.detail(position)
    raw = source.raw(position)
    if not cancelled():
        post(detail, raw)


def cache_snapshot(paths: Sequence[str], at_ts: float, post: Post, cancelled: Cancelled) -> None:
    """The binding caches at ``at_ts``, posted as CacheReady (nothing when cancelled)."""
    snapshot = run_daemon(lambda: cache_at(list(paths), at_ts=at_ts), cancelled)
    if not cancelled():
        post(CacheReady(snapshot))


def frame_positions(source: Any, view: PacketView, report: Report | None, post: Post,
                    cancelled: Cancelled) -> None:
    """The 0-based positions of the frames ``view`` selects, posted as
    PositionsReady (None: every frame), with FilterProgress on the way.
    The expression was checked by the caller; FilterError can still come
    from a value that only evaluation rejects."""
    from ..browse import FilterCancelled, node_address_bytes
    from ..filter import FilterContext, compile_filter

    total = len(source)
    expression = view.expression()
    if not expression:
        post(PositionsReady(view, None, total))
        return
    compiled = compile_filter(expression)
    context = FilterContext.from_report(report) if report is not None else None
    throttle = _Throttle()

    def progress(done: int, total: int) -> None:
        if throttle.due():
            post(FilterProgress(view, done, total))

    # a node's frames carry one of its addresses: search the raw bytes for them
    # first and decode only the frames that hold one
    candidates = (node_address_bytes(context, view.node)
                  if view.node is not None and context is not None else None)
    try:
        found = source.positions_matching(compiled, context, candidates_with=candidates,
                                          progress=progress, cancel=cancelled)
    except FilterCancelled:
        return
    if not cancelled():
        post(PositionsReady(view, found.tolist(), total))


def chart_path(capture: str, node: MobileNode, handoff: int | None = None,
               folder: str | Path = ".") -> Path:
    """Where `export_chart` writes: ``<capture>-<node>[-handoff<N>].html`` in ``folder``."""
    label = node.name or str(node.home_address)
    stem = f"{Path(capture).stem}-{label}" + (f"-handoff{handoff}" if handoff else "")
    return Path(folder) / (re.sub(r"[^A-Za-z0-9._-]", "_", stem) + ".html")


def export_chart(report: Report, capture: str, node: MobileNode, handoff: int | None,
                 post: Post, folder: str | Path = ".") -> Path:
    """Write ``node``'s sequence chart (around its ``handoff``-th handoff, 1-based,
    when given) as html; posts ExportDone. ChartInputError/OSError go to the caller."""
    from ..charts.build import build_figure
    from ..charts.export import write_figure
    from ..charts.options import ChartOptions

    path = chart_path(capture, node, handoff, folder)
    figure = build_figure(report, ChartOptions(kind="sequence", mn=(str(node.home_address),),
                                               handoff=handoff))
    write_figure(figure, str(path), "html")
    post(ExportDone(str(path)))
    return path

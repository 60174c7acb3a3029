"""Options every analysis view shares, and the report filtering they imply.

``output_options`` adds ``--format text|json|jsonl|csv``, ``--mn HOA|NAME`` (repeatable),
``--from TS``, ``--to TS``, ``--names FILE``, ``--fail-on SEVERITY`` and
``--require-ipsec`` and hands the command one `OutputOptions`. ``run_analysis`` runs the engine with a
progress line on stderr (TTY only) and turns an unreadable capture into exit 3.
"""

from __future__ import annotations

import csv
import difflib
import functools
import io
import json
import math
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from ipaddress import IPv6Address
from pathlib import Path
from typing import Any, TypeVar

import click

from ..analysis.cluster import ClusterError
from ..analysis.engine import (
    ENGINES,
    analyze,
    default_analyzers,
    read_names,
    using_cluster,
    using_engine,
    using_jobs,
)
from ..capture.frame import CaptureError
from ..decode.esp_sa import EMPTY as EMPTY_SAS
from ..decode.esp_sa import SADatabase, SAFileError, read_sa_file, using_sas
from ..outfile import atomic_path, write_atomic
from ..render.tabular import csv_record
from ..report.json_text import json_chunks
from ..report.model import MobileNode, Report
from ..report.window import node_in_window
from .progress import progress_line
from .stdin_capture import captures_from, shown_as_given

EXIT_FINDINGS = 1
EXIT_WRITE = 1
EXIT_CAPTURE = 3
EXIT_USAGE = 2  # also: --cluster cannot be used
EXIT_INTERRUPTED = 130
FORMATS = ("text", "json", "jsonl", "csv")
SEVERITIES = ("error", "warning", "info")  # worst first
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class OutputOptions:
    """What the shared options asked for."""

    fmt: str
    mn: tuple[str, ...]  # --mn values as given: home addresses or --names names
    from_ts: float | None
    to_ts: float | None
    names: dict[IPv6Address, str]
    fail_on: str | None
    require_ipsec: bool = False
    display_filter: str | None = None  # -Y EXPR: the nodes/rows whose frames match
    pager: bool = True  # text on a terminal goes through the pager (--no-pager: not)
    vantage: str = "auto"  # --vantage: where the capture was taken


def address_option(_ctx: click.Context, param: click.Parameter, value: str | None) -> IPv6Address | None:
    """click callback: an optional IPv6 address option, or a usage error (exit 2)."""
    if value is None:
        return None
    try:
        return IPv6Address(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an IPv6 address", param=param) from None


# Times on the command line must be dates: 1970-01-01 up to the end of year 9999.
MIN_TS = 0.0
MAX_TS = 253402300800.0  # 10000-01-01T00:00:00Z


class TimeRangeError(ValueError):
    """A time that parses but is not a date we can show (nan, inf, before 1970, after 9999)."""


def parse_ts(value: str) -> float:
    """Epoch seconds, or an ISO 8601 date-time (UTC unless it says otherwise).

    Raises ValueError when ``value`` is neither, and `TimeRangeError` (a
    ValueError) when it is not finite or falls outside 1970..9999."""
    try:
        ts = float(value)
    except ValueError:
        ts = _iso_ts(value)
    if not math.isfinite(ts) or not MIN_TS <= ts < MAX_TS:
        raise TimeRangeError(f"{value!r} is not a time between 1970-01-01 and 9999-12-31")
    return ts


def _iso_ts(value: str) -> float:
    """Epoch seconds of an ISO 8601 date-time (UTC unless it says otherwise)."""
    stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=timezone.utc)
    try:
        return stamp.timestamp()
    except (OverflowError, OSError):
        raise TimeRangeError(f"{value!r} is not a time between 1970-01-01 and 9999-12-31") from None


def _ts(_ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return parse_ts(value)
    except TimeRangeError as exc:
        raise click.BadParameter(str(exc), param=param) from None
    except ValueError:
        raise click.BadParameter(f"{value!r} is neither epoch seconds nor an ISO date-time",
                                 param=param) from None


def names_option(_ctx: click.Context, param: click.Parameter,
                 value: str | None) -> dict[IPv6Address, str]:
    """click callback: ``--names FILE`` read as a hosts file, or a usage error (exit 2)."""
    if value is None:
        return {}
    try:
        return read_names(value)
    except (OSError, UnicodeDecodeError) as exc:
        raise click.BadParameter(f"cannot read {value}: {exc}", param=param) from None


@dataclass(frozen=True)
class AnalysisOptions:
    """What the options every analysing command shares asked for."""

    from_ts: float | None
    to_ts: float | None
    names: dict[IPv6Address, str]
    require_ipsec: bool = False
    vantage: str = "auto"


VANTAGE_CHOICES = ("auto", "mn", "ha", "cn", "tap")
vantage_option = click.option(
    "--vantage", type=click.Choice(VANTAGE_CHOICES), default="auto", show_default=True,
    help="Where the capture was taken: the mobile node's link (mn), the home agent (ha), "
         "a correspondent (cn), a tap elsewhere (tap); auto infers it from the wire.")


ESP_SA_HELP = ("ESP security associations to decrypt with, in the format of Wireshark's "
               "esp_sa file (its ESP SAs preference); the file may be Wireshark's own.")


def esp_sa_callback(_ctx: click.Context, param: click.Parameter, value: str | None) -> SADatabase:
    """click callback: ``--esp-sa FILE`` read (`decode.esp_sa`), or one line
    naming the bad line (never a key) and exit 2. Warnings (SAs whose
    algorithm is not supported) go to stderr."""
    if value is None:
        return EMPTY_SAS
    try:
        database = read_sa_file(value)
    except SAFileError as exc:
        raise click.BadParameter(str(exc), param=param) from None
    for warning in database.warnings:
        click.echo(f"mipv6scope: {warning}", err=True)
    return database


def esp_sa_option(command: F) -> F:
    """Decorator: ``--esp-sa FILE``; the command runs with the file's SAs as
    the decoder's (`decode.esp_sa.using_sas`) and does not see the option."""
    @click.option("--esp-sa", "esp_sa", callback=esp_sa_callback, metavar="FILE", help=ESP_SA_HELP)
    @functools.wraps(command)
    def wrapper(*args: Any, esp_sa: SADatabase, **kwargs: Any) -> Any:
        with using_sas(esp_sa):
            return command(*args, **kwargs)
    return wrapper  # type: ignore[return-value]


def engine_option(command: F) -> F:
    """Decorator: ``--engine columnar|reference``; the command runs with it
    as the analysis engine (`analysis.engine.using_engine`) and does not see
    the option."""
    @click.option("--engine", type=click.Choice(ENGINES), default=ENGINES[0], show_default=True,
                  help="Analysis engine: columnar (the capture read in numpy chunks) or reference "
                       "(frame by frame); both give the same report.")
    @functools.wraps(command)
    def wrapper(*args: Any, engine: str, **kwargs: Any) -> Any:
        with using_engine(engine):
            return command(*args, **kwargs)
    return wrapper  # type: ignore[return-value]


def jobs_option(command: F) -> F:
    """Decorator: ``--jobs N`` and ``--cluster tcp://HOST:PORT``; the command
    runs with N processes for the analysis (`analysis.engine.using_jobs`), or
    the cluster (`using_cluster`; unusable: one line, exit 2), and does not
    see the options."""
    @click.option("--jobs", type=click.IntRange(min=1), default=None, metavar="N",
                  help="Processes for the columnar engine: 1 reads and analyses in one; more read "
                       "each capture in its own process while one analyses (same report). "
                       "Default: all cores.")
    @click.option("--cluster", "cluster_address", metavar="tcp://HOST:PORT",
                  help="Gather each capture on this Dask scheduler's workers (pip install "
                       "'mipv6scope[cluster]'); they must see the captures at the same paths.")
    @functools.wraps(command)
    def wrapper(*args: Any, jobs: int | None, cluster_address: str | None, **kwargs: Any) -> Any:
        with using_jobs(jobs), using_cluster(cluster_address):
            try:
                return command(*args, **kwargs)
            except ClusterError as exc:
                click.echo(f"mipv6scope: {exc}", err=True)
                sys.exit(EXIT_USAGE)
    return wrapper  # type: ignore[return-value]


def analysis_options(command: F) -> F:
    """Decorator: ``--from``, ``--to``, ``--names``, ``--require-ipsec``,
    ``--vantage``, ``--engine`` and ``--jobs``; the command receives
    ``analysis: AnalysisOptions``."""
    @click.option("--from", "from_ts", callback=_ts, metavar="TS",
                  help="Only what happened at or after TS (epoch seconds or ISO date-time).")
    @click.option("--to", "to_ts", callback=_ts, metavar="TS", help="Only what happened up to TS.")
    @click.option("--names", callback=names_option, metavar="FILE",
                  help="Hosts-style file (ADDRESS NAME) naming nodes.")
    @click.option("--require-ipsec", is_flag=True,
                  help="Report home registration BUs not carried in ESP "
                       "(home_registration_not_protected, RFC 6275 5.1).")
    @esp_sa_option
    @vantage_option
    @engine_option
    @jobs_option
    @functools.wraps(command)
    def wrapper(*args: Any, from_ts: float | None, to_ts: float | None,
                names: dict[IPv6Address, str], require_ipsec: bool, vantage: str = "auto",
                **kwargs: Any) -> Any:
        return command(*args, analysis=AnalysisOptions(from_ts, to_ts, names, require_ipsec, vantage),
                       **kwargs)
    return wrapper  # type: ignore[return-value]


no_pager_option = click.option(
    "--no-pager", is_flag=True,
    help="On a terminal, write text straight to it, not through $PAGER (less -R).")


def output_options(command: F, formats: tuple[str, ...] = FORMATS) -> F:
    """Decorator: the analysis options plus ``--format`` (one of ``formats``),
    ``--mn`` and ``--fail-on``; the command receives ``out: OutputOptions``."""
    @click.option("--format", "fmt", type=click.Choice(formats), default="text", show_default=True,
                  help="Output format.")
    @click.option("--mn", multiple=True, metavar="HOA|NAME",
                  help="Only this mobile node, by home address or --names name (repeatable).")
    @analysis_options
    @click.option("--fail-on", type=click.Choice(SEVERITIES), metavar="SEVERITY",
                  help="Exit 1 when a finding of SEVERITY (error|warning|info) or worse is reported.")
    @click.option("-Y", "--filter", "display_filter", metavar="EXPR",
                  help="Display filter (as packets -Y): only the nodes and rows whose frames match.")
    @no_pager_option
    @functools.wraps(command)
    def wrapper(*args: Any, fmt: str, mn: tuple[str, ...], analysis: AnalysisOptions,
                fail_on: str | None, display_filter: str | None = None, no_pager: bool = False,
                **kwargs: Any) -> Any:
        out = OutputOptions(fmt, mn, analysis.from_ts, analysis.to_ts, analysis.names, fail_on,
                            analysis.require_ipsec, display_filter=display_filter,
                            pager=not no_pager, vantage=analysis.vantage)
        return command(*args, out=out, **kwargs)
    return wrapper  # type: ignore[return-value]


def analyse_captures(captures: Iterable[str], names: dict[IPv6Address, str],
                     require_ipsec: bool = False, given: Sequence[str] | None = None,
                     vantage: str = "auto") -> Report:
    """The whole report of ``captures`` (``-`` streams stdin; ``given``: the
    names the user gave, when ``captures`` already has stdin replaced);
    ``vantage`` is where they were taken (``--vantage``). CaptureError -> one
    line on stderr and exit 3. Capture damage (truncation) is reported on
    stderr but not fatal. A progress line shows on stderr when it is a
    terminal (`progress.ProgressLine`)."""
    captures = list(captures)
    with captures_from(captures) as paths:
        progress = progress_line()
        try:
            report = analyze(paths, default_analyzers(require_ipsec=require_ipsec, vantage=vantage),
                             progress=progress, names=names, vantage=vantage)
        except CaptureError as exc:
            click.echo(f"mipv6scope: {exc}", err=True)
            sys.exit(EXIT_CAPTURE)
        finally:
            if progress is not None:
                progress.close()
    report = shown_as_given(report, list(given) if given is not None else captures, paths)
    for issue in report.capture.capture_issues:
        click.echo(f"mipv6scope: {issue}", err=True)
    if report.capture.partial:
        click.echo("mipv6scope: interrupted: the report is partial", err=True)
    return report


def run_analysis(captures: Iterable[str], out: OutputOptions) -> Report:
    """`analyse_captures`, restricted to ``--mn`` and ``--from``/``--to``."""
    return filter_report(analyse_captures(captures, out.names, out.require_ipsec,
                                          vantage=out.vantage), out)


def _in_range(ts: float | None, out: OutputOptions) -> bool:
    if ts is None:
        return True
    return (out.from_ts is None or ts >= out.from_ts) and (out.to_ts is None or ts <= out.to_ts)


def _mn_address(value: str) -> IPv6Address | None:
    """``value`` as an IPv6 address (a ``%zone`` suffix dropped), or None."""
    try:
        return IPv6Address(value.split("%", 1)[0])
    except ValueError:
        return None


def _node_matches(node: MobileNode, value: str) -> bool:
    """Whether ``--mn value`` names ``node``: its name, or one of its home addresses."""
    if node.name is not None and node.name == value:
        return True
    address = _mn_address(value)
    return address is not None and (address == node.home_address or address in node.home_addresses
                                    or address in node.other_home_addresses)


def closest(value: str, known: Iterable[str], n: int = 3) -> list[str]:
    """Up to ``n`` of ``known`` most like ``value`` (difflib string similarity), best first."""
    candidates = list(dict.fromkeys(known))
    return sorted(candidates, key=lambda k: -difflib.SequenceMatcher(None, value, k).ratio())[:n]


def unknown_mn_message(value: str, known: Iterable[str],
                       none_known: str = "the capture has no mobile node") -> str:
    """The one-line error for a ``--mn`` that names no node, with the closest known ones."""
    near = closest(value, known)
    hint = f"closest: {', '.join(near)}" if near else none_known
    return f"--mn {value}: no mobile node has this home address or name ({hint})"


def select_mn(report: Report, wanted: tuple[str, ...]) -> tuple[MobileNode, ...]:
    """The report's mobile nodes the ``--mn`` values name (report order); every
    node when there is none. A value naming no node raises click.UsageError
    (exit 2) listing the closest names and home addresses."""
    if not wanted:
        return report.mobile_nodes
    for value in wanted:
        if not any(_node_matches(n, value) for n in report.mobile_nodes):
            known = [t for n in report.mobile_nodes
                     for t in ((n.name,) if n.name else ()) + tuple(
                         str(a) for a in (n.home_addresses or (n.home_address,)))]
            raise click.UsageError(unknown_mn_message(value, known))
    return tuple(n for n in report.mobile_nodes if any(_node_matches(n, v) for v in wanted))


def filter_report(report: Report, out: OutputOptions) -> Report:
    """The report restricted to ``--mn`` and to ``--from``/``--to``: bindings,
    handoffs, registrations and RO intervals that overlap the window, clipped
    to it and marked ``clipped`` (`report.window`); findings by their time;
    tunnels by overlap. A ``--mn`` naming no node is a usage error (exit 2),
    see `select_mn`."""
    if not out.mn and out.from_ts is None and out.to_ts is None:
        return report
    nodes = select_mn(report, out.mn)
    if out.from_ts is not None or out.to_ts is not None:
        nodes = tuple(node_in_window(n, out.from_ts, out.to_ts) for n in nodes)
    keep = {hoa for n in nodes for hoa in (*(n.home_addresses or (n.home_address,)),
                                           *n.other_home_addresses)}
    tunnels = tuple(t for t in report.tunnels if (not out.mn or t.home_address in keep)
                    and (out.to_ts is None or t.start_ts <= out.to_ts)
                    and (out.from_ts is None or t.end_ts >= out.from_ts))
    findings = tuple(f for f in report.findings if _in_range(f.ts, out)
                     and (not out.mn or f.node in keep))
    return replace(report, mobile_nodes=nodes, tunnels=tunnels, findings=findings)


def mn_addresses(out: OutputOptions) -> frozenset[IPv6Address] | None:
    """The home addresses ``--mn`` names without an analysis (addresses as given,
    names through ``--names``); None when there is no ``--mn``. A value that is
    neither raises click.UsageError (exit 2) with the closest ``--names`` names."""
    if not out.mn:
        return None
    by_name: dict[str, list[IPv6Address]] = {}
    for address, name in out.names.items():
        by_name.setdefault(name, []).append(address)
    found: set[IPv6Address] = set()
    for value in out.mn:
        address = _mn_address(value)
        if address is not None:
            found.add(address)
        elif value in by_name:
            found.update(by_name[value])
        else:
            raise click.UsageError(unknown_mn_message(
                value, by_name, "not an address, and no --names file names a node so"))
    return frozenset(found)


def fail_on_hit(report: Report, fail_on: str | None) -> bool:
    """Whether a finding of ``fail_on`` severity or worse is in the report."""
    if fail_on is None:
        return False
    worst = SEVERITIES.index(fail_on)
    return any(f.severity in SEVERITIES[:worst + 1] for f in report.findings)


@dataclass(frozen=True)
class CaptureState:
    """Whether a pass was whole: ``partial`` (interrupted by Ctrl-C) and the
    capture issues met (truncated or corrupt input), as one-line texts."""

    partial: bool = False
    issues: tuple[str, ...] = ()

    @classmethod
    def of(cls, report: Report) -> CaptureState:
        """The state of the pass that made ``report``."""
        return cls(report.capture.partial, tuple(report.capture.capture_issues))

    @property
    def whole(self) -> bool:
        """Neither interrupted nor damaged."""
        return not self.partial and not self.issues

    def meta(self) -> dict[str, Any] | None:
        """The trailing record json/jsonl outputs end with when the pass was
        not whole: ``{"_meta": {"partial": ..., "capture_issues": [...]}}``;
        None (no record at all) when it was."""
        if self.whole:
            return None
        return {"_meta": {"partial": self.partial, "capture_issues": list(self.issues)}}

    def exit_code(self) -> int | None:
        """130 when interrupted, 3 when the capture was damaged, else None."""
        if self.partial:
            return EXIT_INTERRUPTED
        return EXIT_CAPTURE if self.issues else None


def with_meta(rows: Iterable[dict[str, Any]], fmt: str, state: CaptureState) -> Iterator[dict[str, Any]]:
    """``rows``, then (json/jsonl only) the `CaptureState.meta` record when the
    pass was not whole: a script detects a partial or damaged result by a last
    element whose only key is ``_meta``."""
    yield from rows
    meta = state.meta()
    if meta is not None and fmt in ("json", "jsonl"):
        yield meta


def write_csv_meta(fmt: str, state: CaptureState, stream: Any = None) -> None:
    """For csv, after the rows: ``# partial: true`` and one
    ``# capture_issue: ...`` line per issue when the pass was not whole."""
    if fmt != "csv" or state.whole:
        return
    stream = stream or sys.stdout
    if state.partial:
        stream.write("# partial: true (interrupted: only what was read before Ctrl-C)\n")
    for issue in state.issues:
        stream.write(f"# capture_issue: {_one_line(issue)}\n")


def _one_line(text: str) -> str:
    """``text`` with line breaks and other control characters escaped."""
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)


def finish(state: CaptureState, failed: bool = False) -> None:
    """Flush stdout, then exit 130 (interrupted), 3 (damaged capture) or
    1 (``failed``: a --fail-on hit), in that order; return when none applies."""
    sys.stdout.flush()
    code = state.exit_code()
    if code is None and failed:
        code = EXIT_FINDINGS
    if code is not None:
        sys.exit(code)


def write_records(records: list[dict[str, Any]], fmt: str, stream: Any = None) -> None:
    """Records as json (one array), jsonl (one object a line) or csv (header + rows)."""
    stream = stream or sys.stdout
    if fmt == "json":
        stream.write(json.dumps(records, indent=2) + "\n")
    elif fmt == "jsonl":
        for record in records:
            stream.write(json.dumps(record, separators=(",", ":")) + "\n")
    elif fmt == "csv":
        buf = io.StringIO()
        if records:
            writer = csv.DictWriter(buf, fieldnames=list(records[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(csv_record(r) for r in records)  # escaped, injection-guarded
        stream.write(buf.getvalue())
    else:
        raise ValueError(f"not a record format: {fmt}")


def write_json(document: Any, out_path: str) -> None:
    """``document`` as ``json.dumps(document, indent=2)`` and a newline, to
    stdout ('-') or, all or nothing, to the file ``out_path``, written as it
    is encoded: the text is never whole in memory. A `Report` is written as
    its ``to_dict()`` would be, one top-level key and one node, tunnel,
    finding or message at a time (`report.json_text`), so its dict copy is
    never whole either (for a report of 100,000 nodes that was most of the
    peak). One line and exit 1 when the file cannot be written."""
    if out_path == "-":
        _dump(document, sys.stdout)
        sys.stdout.write("\n")
        return
    try:
        with atomic_path(Path(out_path)) as target, open(target, "w", encoding="utf-8") as out:
            _dump(document, out)
            out.write("\n")
    except OSError as exc:
        click.echo(f"mipv6scope: cannot write {out_path}: {exc.strerror or exc}", err=True)
        sys.exit(EXIT_WRITE)


def _dump(document: Any, out: Any) -> None:
    """``document`` (a Report, or JSON-ready) as indent=2 JSON text to the stream ``out``."""
    if isinstance(document, Report):
        out.writelines(json_chunks(document))
    else:
        json.dump(document, out, indent=2)


def write_output(text: str, out_path: str, plotlyjs_beside: bool = False) -> None:
    """``text`` to stdout ('-') or, all or nothing, to the file ``out_path``
    (with plotly.min.js beside it when asked); one line and exit 1 when the
    file cannot be written."""
    if out_path == "-":
        sys.stdout.write(text)
        return
    path = Path(out_path)
    try:
        write_atomic(path, text.encode("utf-8"))
        if plotlyjs_beside:
            from ..charts.export import write_plotlyjs_file

            write_plotlyjs_file(path.parent)
    except OSError as exc:
        click.echo(f"mipv6scope: cannot write {out_path}: {exc.strerror or exc}", err=True)
        sys.exit(EXIT_WRITE)

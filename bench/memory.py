#!/usr/bin/env python3
"""Memory per mobile node of `mipv6scope report` (issue 11, section 4).

For each node count N it writes a capture (raw IPv6, pcap) in which N mobile
nodes each make a home registration from a care-of address (BU with a Home
Address option, BA with a type 2 routing header) and send and receive a few
tunnelled UDP packets of varied sizes; every ``--handoff-every``-th node then
moves to a second care-of address (a second BU/BA and more tunnelled data).
It runs `mipv6scope report --format json` on it as a child process and prints
peak RSS (GNU time's %M, `bench/peak_rss.py`), the peak RSS of a one-node capture as the
baseline, (RSS - baseline) / N as bytes per node, wall time and frames/s.
The smallest capture's report is checked (if it has at most CHECK_MAX_NODES
nodes: the check loads the whole report, several times the child's memory):
N mobile nodes, N + handoffs accepted registrations, and the handoffs as built.

Packets are built once per size with `mipv6scope.synth.build` around a marker
interface identifier and copied per node with the node's identifier in its
place. An identifier is the four 16-bit words (h, ~h, l, ~l) of the node
index (h, l its high and low halves), so every identifier adds the same to a
one's-complement sum and the MH and UDP checksums stay right.

    python bench/memory.py [--nodes 1000,10000,100000] [--handoff-every 4]
                           [--workdir DIR] [--keep] [--profile]

--nodes 1000000 is allowed: about 9.5M frames and 3.7 GB of capture. On the
project's 2-core machine (2026-12-07, shared) 100,000 nodes took 152 s and
1.1 GiB, a million 23 minutes and 9.6 GiB (10.3 KB a node): run it only where
that fits.

--profile (about a minute) also analyses 10,000 nodes in-process under
tracemalloc: Python memory held at the end of the pass, after the Report, the
peak of writing its JSON as `report` does (`report.json_text`, streamed), and
the ten files and allocation sites (with their callers) holding the most at
the end of the pass. tracemalloc counts Python allocations, not RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import struct
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from mipv6scope.capture.frame import LINKTYPE_RAW  # noqa: E402
from mipv6scope.synth.build import mh_packet, tunnel, udp_packet  # noqa: E402
from mipv6scope.synth.samples import ba_message, bu_message  # noqa: E402

sys.path.insert(0, str(REPO / "bench"))
from peak_rss import measured  # noqa: E402

HOME, COA1, COA2 = "2001:db8:1", "2001:db8:a", "2001:db8:b"
HA, CN = "2001:db8:1::1", "2001:db8:ff::10"
MARKER_INDEX = 0x7A3C_5B1E  # never a real node index (those are < 2**32 only in theory)
LIFETIME_UNITS = 1000        # 4,000 s: every binding outlives the capture
SIZES = (24, 60, 172, 332, 700, 1200)  # UDP payload bytes, varied per node and packet
DATA_EACH_WAY = 3            # after the first registration
HANDOFF_DATA_EACH_WAY = 2    # after the handoff
STEP_S = 0.0001              # between a node's frames
_RECORD = struct.Struct("<IIII")
CHECK_MAX_NODES = 100_000    # larger reports are not loaded to be checked


def iid(n: int) -> bytes:
    """The 8-byte interface identifier of node ``n``; its one's-complement sum is constant."""
    hi, lo = n >> 16 & 0xFFFF, n & 0xFFFF
    return struct.pack("!HHHH", hi, hi ^ 0xFFFF, lo, lo ^ 0xFFFF)


def _marker_text(prefix: str) -> str:
    words = struct.unpack("!HHHH", iid(MARKER_INDEX))
    return f"{prefix}:0:" + ":".join(f"{w:x}" for w in words)


def _template(packet: bytes) -> list[bytes]:
    """``packet`` split at every copy of the marker identifier."""
    return packet.split(iid(MARKER_INDEX))


def templates() -> dict[str, list[list[bytes]]]:
    """Packet templates: the registration, the handoff and the data packets of each size."""
    hoa, coa1, coa2 = (_marker_text(p) for p in (HOME, COA1, COA2))

    def data(coa: str) -> tuple[list[list[bytes]], list[list[bytes]]]:
        to_mn = [_template(tunnel(HA, coa, udp_packet(CN, hoa, 5004, 5004, bytes(size))))
                 for size in SIZES]
        from_mn = [_template(tunnel(coa, HA, udp_packet(hoa, CN, 5004, 5004, bytes(size))))
                   for size in SIZES]
        return to_mn, from_mn

    to1, from1 = data(coa1)
    to2, from2 = data(coa2)
    return {
        "register": [_template(mh_packet(coa1, HA, bu_message(1, LIFETIME_UNITS), hao=hoa)),
                     _template(mh_packet(HA, coa1, ba_message(1, LIFETIME_UNITS), rh2=hoa))],
        "handoff": [_template(mh_packet(coa2, HA, bu_message(2, LIFETIME_UNITS), hao=hoa)),
                    _template(mh_packet(HA, coa2, ba_message(2, LIFETIME_UNITS), rh2=hoa))],
        "to1": to1, "from1": from1, "to2": to2, "from2": from2,
    }


def write_capture(path: Path, nodes: int, handoff_every: int) -> tuple[int, int]:
    """Write the capture; returns (frames, handoffs)."""
    tpl = templates()
    frames = handoffs = 0
    ts = 1_700_000_000.0
    buf: list[bytes] = []

    def emit(parts: list[bytes], ident: bytes) -> None:
        nonlocal frames, ts
        packet = ident.join(parts)
        usec = round(ts * 1_000_000)
        buf.append(_RECORD.pack(usec // 1_000_000, usec % 1_000_000, len(packet), len(packet)))
        buf.append(packet)
        frames += 1
        ts += STEP_S

    def data(ident: bytes, n: int, to_mn: list[list[bytes]], from_mn: list[list[bytes]], count: int) -> None:
        for k in range(count):
            emit(to_mn[(n * 5 + k * 3) % len(SIZES)], ident)
            emit(from_mn[(n * 7 + k) % len(SIZES)], ident)

    with open(path, "wb") as fh:
        fh.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, LINKTYPE_RAW))
        for n in range(nodes):
            ident = iid(n)
            for parts in tpl["register"]:
                emit(parts, ident)
            data(ident, n, tpl["to1"], tpl["from1"], DATA_EACH_WAY)
            if len(buf) > 20_000:
                fh.write(b"".join(buf))
                buf.clear()
        ts += 1.0
        for n in range(0, nodes, handoff_every):
            ident = iid(n)
            for parts in tpl["handoff"]:
                emit(parts, ident)
            data(ident, n, tpl["to2"], tpl["from2"], HANDOFF_DATA_EACH_WAY)
            handoffs += 1
            if len(buf) > 20_000:
                fh.write(b"".join(buf))
                buf.clear()
        fh.write(b"".join(buf))
    return frames, handoffs


def run_report(capture: Path, out: Path) -> dict:
    """`mipv6scope report` as a child process; its peak RSS, wall and CPU time."""
    cmd = [sys.executable, "-m", "mipv6scope", "report", "--format", "json", "-o", str(out), str(capture)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    m = measured(cmd, cwd=REPO, env=env)
    if m.returncode != 0:
        raise SystemExit(f"report exited {m.returncode} on {capture}: {m.stderr[-800:]}")
    return {"rss": m.peak_rss_bytes, "wall_s": m.wall_s, "cpu_s": m.cpu_s}


def check_report(report: dict, nodes: int, frames: int, handoffs: int) -> None:
    """The report must see what was built; exits with the difference if not."""
    mns, cap = report["mobile_nodes"], report["capture"]
    regs = sum(1 for mn in mns for reg in mn["registrations"] if reg["status"] is not None and reg["status"] < 128)
    got_handoffs = [h for mn in mns for h in mn["handoffs"]]
    problems = []
    if cap["frames"] != frames or cap["decoded"] != frames or cap["malformed"]:
        problems.append(f"{cap['decoded']} of {cap['frames']} frames decoded, {cap['malformed']} malformed; "
                        f"wrote {frames}")
    if len(mns) != nodes:
        problems.append(f"{len(mns)} mobile nodes, built {nodes}")
    if regs != nodes + handoffs:
        problems.append(f"{regs} accepted registrations, built {nodes + handoffs}")
    if len(got_handoffs) != handoffs or any(h["outcome"] != "completed" for h in got_handoffs):
        problems.append(f"{len(got_handoffs)} handoffs, built {handoffs} (all completed)")
    if len(report["tunnels"]) != nodes + handoffs:
        problems.append(f"{len(report['tunnels'])} tunnels, built {nodes + handoffs}")
    if problems:
        raise SystemExit("report disagrees with the capture: " + "; ".join(problems))
    print(f"checked the {nodes}-node report: {nodes} nodes, {regs} registrations, "
          f"{handoffs} handoffs, {len(report['tunnels'])} tunnels, {frames} frames decoded")


def _where(frame: object) -> str:
    """``file:line`` of a tracemalloc frame, relative to the repository."""
    return f"{os.path.relpath(frame.filename, REPO)}:{frame.lineno}"  # type: ignore[attr-defined]


def _print_top(snapshot: object, top: int) -> None:
    """The ``top`` files and allocation sites (line, and its caller when the
    line is generated code such as a dataclass ``__init__``) in ``snapshot``."""
    import tracemalloc

    assert isinstance(snapshot, tracemalloc.Snapshot)
    snapshot = snapshot.filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)])
    print("  by file:")
    for stat in snapshot.statistics("filename")[:top]:
        print(f"    {stat.size / 2**20:8.1f} MiB {stat.count:9d} blocks  "
              f"{os.path.relpath(stat.traceback[0].filename, REPO)}")
    print("  by line (<- its caller):")
    for stat in snapshot.statistics("traceback")[:top]:
        frames = list(stat.traceback)[::-1]  # the allocating line first
        where = " <- ".join(_where(f) for f in frames[:2]) if len(frames) > 1 else _where(frames[0])
        print(f"    {stat.size / 2**20:8.1f} MiB {stat.count:9d} blocks  {where}")


def profile(capture: Path, nodes: int, top: int = 10) -> None:
    """Analyse ``capture`` in-process under tracemalloc: memory held at the end of
    the pass (the analyzers' state), after the report is built, and the peak of
    writing its JSON text (what `report --format json` does next)."""
    import tracemalloc

    from mipv6scope.analysis.base import Analyzer
    from mipv6scope.analysis.engine import analyze, default_analyzers
    from mipv6scope.report.json_text import json_chunks

    at_end: list[object] = []
    held: list[int] = []

    class EndOfPass(Analyzer):
        """First to be finished: every frame has been analysed, nothing closed yet."""

        def finish(self, end_ts: float | None) -> None:
            held.append(tracemalloc.get_traced_memory()[0])
            at_end.append(tracemalloc.take_snapshot())

    def line(what: str, size: int) -> None:
        print(f"  {what:<52} {size / 2**20:8.1f} MiB {size / nodes:9.0f} B/node")

    tracemalloc.start(2)  # two frames: the caller of a dataclass __init__
    report = analyze([str(capture)], analyzers=[EndOfPass(), *default_analyzers()])
    after_report, peak_analysis = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    written = 0
    with open(os.devnull, "w", encoding="utf-8") as out:
        for chunk in json_chunks(report):
            written += len(chunk)
            out.write(chunk)
    peak_write = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"\ntracemalloc, {nodes} nodes, in-process analyze() (Python allocations, not RSS):")
    if held:
        line("held at the end of the pass (analyzer state)", held[0])
    line("peak during analyze() (pass + report build)", peak_analysis)
    line("held after analyze() (the Report)", after_report)
    line("peak of writing the JSON (streamed, as `report` does)", peak_write)
    line("JSON text, indent=2 (characters)", written)
    if at_end:
        print(f"top {top} at the end of the pass:")
        _print_top(at_end[0], top)
    del report


def main() -> None:
    """Build the captures, run the reports and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", default="1000,10000,100000",
                    help="comma-separated node counts (default 1000,10000,100000)")
    ap.add_argument("--handoff-every", type=int, default=4, help="every k-th node hands off (default 4)")
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--keep", action="store_true", help="keep the captures and reports")
    ap.add_argument("--profile", action="store_true", help="tracemalloc breakdown for N = 10,000 (about 1 min)")
    args = ap.parse_args()
    counts = sorted(int(x.replace("_", "")) for x in args.nodes.split(","))
    print(f"machine: {platform.machine()}, {os.cpu_count()} cpus, {platform.system()} {platform.release()}, "
          f"Python {platform.python_version()}")
    tmp = Path(tempfile.mkdtemp(dir=args.workdir, prefix="mipv6scope-memory-"))
    try:
        base_cap = tmp / "nodes-1.pcap"
        write_capture(base_cap, 1, args.handoff_every)
        baseline = run_report(base_cap, tmp / "nodes-1.json")["rss"]
        print(f"baseline (1 node): peak RSS {baseline / 2**20:.1f} MiB")
        print(f"{'nodes':>9} {'handoffs':>9} {'frames':>10} {'capture MiB':>12} {'write s':>8} "
              f"{'report s':>9} {'frames/s':>9} {'peak RSS MiB':>13} {'bytes/node':>11}")
        for i, n in enumerate(counts):
            cap, out = tmp / f"nodes-{n}.pcap", tmp / f"nodes-{n}.json"
            start = time.perf_counter()
            frames, handoffs = write_capture(cap, n, args.handoff_every)
            write_s = time.perf_counter() - start
            res = run_report(cap, out)
            if i == 0 and n <= CHECK_MAX_NODES:
                check_report(json.loads(out.read_text()), n, frames, handoffs)
            elif i == 0:
                print(f"the {n}-node report is not checked (more than {CHECK_MAX_NODES} nodes)")
            per_node = (res["rss"] - baseline) / n
            print(f"{n:>9} {handoffs:>9} {frames:>10} {cap.stat().st_size / 2**20:>12.1f} {write_s:>8.1f} "
                  f"{res['wall_s']:>9.1f} {frames / res['wall_s']:>9.0f} {res['rss'] / 2**20:>13.1f} "
                  f"{per_node:>11.0f}", flush=True)
            if not args.keep:
                cap.unlink()
                out.unlink()
        if args.profile:
            cap = tmp / "profile-10000.pcap"
            write_capture(cap, 10_000, args.handoff_every)
            profile(cap, 10_000)
    finally:
        if not args.keep:
            for path in tmp.iterdir():
                path.unlink()
            tmp.rmdir()
        else:
            print(f"kept in {tmp}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""TUI benchmark: how soon `mipv6scope tui` shows something, finishes loading,
and reaches the last frame, on the bundled samples and a ~2M-frame fleet capture.

    python bench/tui.py [--frames N] [--workdir DIR] [--reuse] [--no-large]
                        [--varied] [--stored-index] [--repeat N] [CAPTURE ...]
    python bench/tui.py --snapshot-cost [--every N] [CAPTURE ...]

Each capture is opened in a fresh child process that runs the app headless
(``App.run_test``) and drives it like a user: it records the time (from the
moment the parent started the child, so Python start-up and imports count) to
the first screen (the app mounted and the capture header drawn), to the index
done (the packet list is up), to the analysis done (the node list filled), and
then the time to go from the first to the last frame of the packet list
showing every frame (End pressed, until the last frame is selected, the
rows on screen decoded by the row worker and its details shown by the frame
worker). The peak RSS is the child's, as GNU time's %M reports it (`bench/peak_rss.py`). While the
analysis runs the app shows interim reports about once a second: the table
gives how many and the longest one took in the analysis thread.
The result is a markdown table with the machine line.

``--varied`` adds a capture of varied frames (`generate_varied`: pcapng, two
interfaces, sizes 80-1400 bytes at random). ``--stored-index`` opens every
capture a second time with its frame index stored beforehand by `mipv6scope
index` (a row "... (stored index)"), and prints a second table: the time of
`FrameIndex.build` in this process, of `mipv6scope index` (a fresh process
that builds and stores the entry; then again, reusing it) and the entry's
bytes on disk per frame.

``--snapshot-cost`` measures the interim reports alone, without the UI: the
analysis of each capture (default: the bundled samples) is run with an interim
report built every ``--every`` frames (far more often than the UI's one a
second) and without; the table gives what one interim report costs as the
UI's worker makes it (built, restricted to --from/--to, text escaped; median,
max) and the time the whole analysis took each way.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from peak_rss import measured  # noqa: E402

SAMPLES = ("scenario-handoff.pcap", "scenario-route-optimization.pcap",
           "scenario-recovery.pcap", "scenario-fleet.pcap")
SIZE = (160, 50)
TIMEOUT_S = 1800.0


# -- the child: one capture, one app ---------------------------------------------------------

async def _until(pilot, condition: Callable[[], bool], timeout: float = TIMEOUT_S) -> float:
    """Run the app until ``condition()`` holds; the wall-clock time it did."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    print(f"waiting: {condition.__name__}", file=sys.stderr, flush=True)
    while not condition():
        if loop.time() > deadline:
            raise SystemExit(f"timed out waiting for {condition.__name__}")
        await pilot.pause(0.01)
    return time.time()


async def _drive(path: str, started: float, index_dir: str | None) -> dict[str, float | int]:
    """Open ``path`` in the app and time what the module docstring lists
    (with ``index_dir``: reading a stored index from there, writing none)."""
    from mipv6scope.capture.index_store import IndexStore
    from mipv6scope.tui.app import MobilityApp
    from mipv6scope.tui.widgets.capture_header import CaptureHeader
    from mipv6scope.tui.widgets.node_list import NodeList
    from mipv6scope.tui.widgets.packet_panes import PacketPanes

    store = IndexStore(index_dir) if index_dir else None
    app = MobilityApp([path], index_store=store, save_index=False)
    out: dict[str, float | int] = {}
    async with app.run_test(size=SIZE) as pilot:
        main = app.main

        def header_drawn() -> bool:
            return bool(str(main.query_one(CaptureHeader).render()).strip())

        def indexed() -> bool:
            return main.source is not None and bool(main.query(PacketPanes))

        def analysed() -> bool:
            report = main.report
            return (report is not None and
                    main.query_one(NodeList).table.row_count == len(report.mobile_nodes))

        out["first_screen_s"] = await _until(pilot, header_drawn) - started
        out["indexed_s"] = await _until(pilot, indexed) - started
        out["analysed_s"] = await _until(pilot, analysed) - started
        source = main.source
        assert source is not None
        out["frames"] = len(source)  # type: ignore[arg-type]

        def settled() -> bool:  # the first node chosen (when any) and its frames shown
            report = main.report
            chosen = report is not None and (main.node is not None or not report.mobile_nodes)
            return chosen and main.view is not None and main.shown == main.view

        await _until(pilot, settled)
        panes = main.query_one(PacketPanes)
        panes.packet_list.focus()
        await pilot.pause()
        if main.view is not None and main.view.node is not None:
            await pilot.press("a")  # every frame
            await _until(pilot, settled)
        last = len(source)  # type: ignore[arg-type]

        def at_last() -> bool:
            return (main.selected is not None and main.selected[0] == last
                    and panes.packet_list.current_frame == last and panes.packet_list.pending == 0
                    and panes.shown == last - 1 and bool(panes.detail.detail))

        start = time.time()
        await pilot.press("end")
        out["scroll_s"] = await _until(pilot, at_last) - start
        out["snapshots"] = len(main.snapshots)
        out["snapshot_max_ms"] = 1000 * max(main.snapshots, default=0.0)
        await pilot.press("q")
    return out


def child(path: str, started: float, index_dir: str) -> None:
    """The child process: print the timings of one capture as a JSON line."""
    print(json.dumps(asyncio.run(_drive(path, started, index_dir or None))))


# -- the parent ------------------------------------------------------------------------------

def measure(path: Path, index_dir: Path | None = None) -> dict[str, float | int]:
    """One fresh child process on ``path`` (reading its stored index from
    ``index_dir`` when given): its timings and peak RSS (MiB)."""
    started = time.time()
    m = measured([sys.executable, __file__, "--child", str(path), str(started), str(index_dir or "")],
                 capture_stdout=True)
    if m.returncode != 0:
        raise SystemExit(f"failed ({m.returncode}) on {path}: {m.stderr[-2000:]}")
    result = json.loads(m.stdout.strip().splitlines()[-1])
    result["rss_mib"] = int(m.peak_rss_mib)
    return result


def machine() -> str:
    """The machine line, as bench/charts.py prints it."""
    load = ""
    if hasattr(os, "getloadavg"):
        one, five, fifteen = os.getloadavg()
        load = f", load {one:.2f} {five:.2f} {fifteen:.2f}"
    return (f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"{platform.platform()}{load}")


def generate_varied(path: Path, frames: int, seed: int = 7) -> None:
    """A pcapng of ``frames`` varied frames: two interfaces (Ethernet at
    microseconds, raw IPv6 at nanoseconds), captured lengths 80-1400 bytes
    uniformly at random (tunnelled ones from 96 IP bytes), ~98 % IPv6-in-IPv6 UDP between 4 home agents and
    1,000 care-of addresses, the rest plain UDP, bytes after the headers random."""
    import random
    import struct

    rng = random.Random(seed)
    pool = rng.randbytes(1 << 20)
    ha = [bytes.fromhex(f"20010db8000{h}00000000000000000001") for h in range(4)]
    coa = [bytes.fromhex(f"20010db8{0x100 + n // 256:04x}{n % 256:04x}0000000000000100")
           for n in range(1000)]
    cn = bytes.fromhex("20010db8ffff00000000000000000009")
    eth = bytes.fromhex("020000000002" "020000000001" "86dd")

    def block(btype: int, body: bytes) -> bytes:
        body += b"\0" * (-len(body) % 4)
        return struct.pack("<II", btype, len(body) + 12) + body + struct.pack("<I", len(body) + 12)

    def ipv6(nh: int, src: bytes, dst: bytes, payload_len: int) -> bytes:
        return struct.pack("!IHBB", 0x60000000, payload_len, nh, 64) + src + dst

    with open(path, "wb") as out:
        out.write(block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)))
        out.write(block(1, struct.pack("<HHI", 1, 0, 0)))  # Ethernet, microseconds
        out.write(block(1, struct.pack("<HHI", 101, 0, 0) + struct.pack("<HHB3x", 9, 1, 9)
                        + struct.pack("<HH", 0, 0)))  # raw IP, nanoseconds
        ts = 1_700_000_000.0
        chunk = []
        for n in range(frames):
            iface = n & 1
            link = eth if iface == 0 else b""
            node = rng.randrange(1000)
            tunnelled = rng.random() < 0.98
            size = rng.randint(len(link) + 96 if tunnelled else 80, 1400)
            start = rng.randrange(len(pool) - 1500)
            body = pool[start:start + size - len(link) - (80 if tunnelled else 40) - 8]
            hoa = ha[node % 4][:14] + node.to_bytes(2, "big")
            src, dst = (cn, hoa) if rng.random() < 0.5 else (hoa, cn)
            udp = struct.pack("!HHHH", 5004, 5004, len(body) + 8, 0) + body
            words = struct.unpack(f"!{(len(udp) + 1) // 2}H", udp + b"\0" * (len(udp) & 1))
            total = sum(struct.unpack("!16H", src + dst)) + len(udp) + 17 + sum(words)
            while total >> 16:
                total = (total & 0xFFFF) + (total >> 16)
            udp = udp[:6] + struct.pack("!H", (~total & 0xFFFF) or 0xFFFF) + udp[8:]
            head = ipv6(17, src, dst, len(udp))
            if tunnelled:
                outer = (ha[node % 4], coa[node]) if dst == hoa else (coa[node], ha[node % 4])
                head = ipv6(41, *outer, len(head) + len(udp)) + head
            data = link + head + udp
            ts += rng.expovariate(2000.0)
            units = int(ts * (1_000_000 if iface == 0 else 1_000_000_000))
            chunk.append(block(6, struct.pack("<IIIII", iface, units >> 32, units & 0xFFFFFFFF,
                                              len(data), len(data)) + data))
            if len(chunk) >= 4096:
                out.write(b"".join(chunk))
                chunk = []
        out.write(b"".join(chunk))


def index_times(path: Path, index_dir: Path) -> dict[str, float | int]:
    """FrameIndex.build in this process; `mipv6scope index` building and
    storing the entry in ``index_dir`` (a fresh process), then reusing it."""
    from mipv6scope.capture.index import FrameIndex

    started = time.perf_counter()
    with FrameIndex.build(path) as index:
        build_s = time.perf_counter() - started
        frames = len(index)
    out: dict[str, float | int] = {"frames": frames, "build_s": build_s}
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for label, extra in (("index_s", ["--force"]), ("reused_s", [])):
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "mipv6scope", "index", "--format", "json",
                               "--index-dir", str(index_dir), *extra, str(path)],
                              capture_output=True, text=True, env=env)
        out[label] = time.perf_counter() - started
        if proc.returncode not in (0, 3):
            raise SystemExit(f"mipv6scope index failed ({proc.returncode}): {proc.stderr}")
        (record,) = json.loads(proc.stdout)
        out["entry_bytes"] = record["bytes"]
    return out


def snapshot_cost(path: Path, every: int) -> dict[str, float | int]:
    """The analysis of ``path`` with an interim report every ``every`` frames, and without."""
    from mipv6scope.analysis import engine
    from mipv6scope.cli.output import AnalysisOptions
    from mipv6scope.report.model import Report
    from mipv6scope.tui.workers import shown_report

    costs: list[float] = []
    options = AnalysisOptions(None, None, {})

    def interim(build: Callable[[], Report]) -> None:  # what the UI's analysis worker does
        started = time.perf_counter()
        shown_report(build(), options)
        costs.append(time.perf_counter() - started)

    saved = engine.PROGRESS_EVERY
    engine.PROGRESS_EVERY = every
    try:
        started = time.perf_counter()
        report = engine.analyze([str(path)])
        plain_s = time.perf_counter() - started
        started = time.perf_counter()
        engine.analyze([str(path)], interim=interim)
        with_s = time.perf_counter() - started
    finally:
        engine.PROGRESS_EVERY = saved
    return {"frames": report.capture.frames, "nodes": len(report.mobile_nodes),
            "snapshots": len(costs), "median_ms": 1000 * statistics.median(costs) if costs else 0.0,
            "max_ms": 1000 * max(costs, default=0.0), "plain_s": plain_s, "with_s": with_s}


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        child(sys.argv[2], float(sys.argv[3]), sys.argv[4])
        return
    if "--snapshot-cost" in sys.argv:
        parser = argparse.ArgumentParser(description="the cost of the interim reports")
        parser.add_argument("--snapshot-cost", action="store_true")
        parser.add_argument("--every", type=int, default=500, help="frames between interim reports")
        parser.add_argument("captures", nargs="*", type=Path)
        args = parser.parse_args()
        print(f"machine: {machine()}")
        print()
        print(f"| capture | frames | nodes | interim reports (every {args.every:,} frames) | "
              "median | max | analysis alone | with them |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for path in args.captures or [REPO / "sample_captures" / name for name in SAMPLES]:
            r = snapshot_cost(path, args.every)
            print(f"| {path.name} | {int(r['frames']):,} | {int(r['nodes'])} | {int(r['snapshots'])} | "
                  f"{r['median_ms']:.1f} ms | {r['max_ms']:.1f} ms | {r['plain_s']:.2f} s | "
                  f"{r['with_s']:.2f} s |", flush=True)
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("captures", nargs="*", type=Path,
                        help="captures to open (default: the bundled scenario samples "
                             "and the large fleet capture)")
    parser.add_argument("--frames", type=int, default=2_000_000,
                        help="about this many frames in the `synth fleet` capture")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/mipv6scope-bench"))
    parser.add_argument("--reuse", action="store_true",
                        help="keep the fleet capture in WORKDIR when it exists")
    parser.add_argument("--no-large", action="store_true", help="the samples only")
    parser.add_argument("--repeat", type=int, default=1, metavar="N",
                        help="open each capture N times; the table gives the medians "
                             "(the peak RSS: the largest)")
    parser.add_argument("--varied", action="store_true",
                        help="add a pcapng of --frames varied frames (sizes 80-1400 bytes)")
    parser.add_argument("--stored-index", action="store_true",
                        help="open each capture again with its index stored first by "
                             "`mipv6scope index`; time the index command")
    args = parser.parse_args()
    captures = list(args.captures) or [REPO / "sample_captures" / name for name in SAMPLES]
    args.workdir.mkdir(parents=True, exist_ok=True)
    if not args.captures and not args.no_large:
        from benchmark import generate_fleet  # bench/benchmark.py

        large = args.workdir / f"tui-fleet-{args.frames}.pcap"
        if not (args.reuse and large.exists()):
            generate_fleet(large, args.frames)
        captures.append(large)
    if args.varied:
        varied = args.workdir / f"tui-varied-{args.frames}.pcapng"
        if not (args.reuse and varied.exists()):
            generate_varied(varied, args.frames)
        captures.append(varied)
    index_dir = args.workdir / "index"
    print(f"machine: {machine()}")
    print()
    print("| capture | frames | MB | first screen | index done | analysis done | "
          "peak RSS | first -> last frame | interim reports (longest) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    indexing: list[tuple[Path, dict[str, float | int]]] = []
    for path in captures:
        variants = [(path.name, None)]
        if args.stored_index:
            indexing.append((path, index_times(path, index_dir)))
            variants.append((f"{path.name} (stored index)", index_dir))
        for label, directory in variants:
            runs = [measure(path, directory) for _ in range(max(1, args.repeat))]

            def med(key: str, runs: list[dict[str, float | int]] = runs) -> float:
                return statistics.median(float(r[key]) for r in runs)
            print(f"| {label} | {int(runs[0]['frames']):,} | {path.stat().st_size / 1e6:.1f} | "
                  f"{med('first_screen_s'):.2f} s | {med('indexed_s'):.2f} s | "
                  f"{med('analysed_s'):.2f} s | {max(int(r['rss_mib']) for r in runs)} MiB | "
                  f"{med('scroll_s'):.2f} s | {int(runs[0]['snapshots'])} "
                  f"({max(float(r['snapshot_max_ms']) for r in runs):.0f} ms) |", flush=True)
    if indexing:
        print()
        print("| capture | frames | FrameIndex.build | `index` (build + store) | "
              "`index` again (reused) | entry | bytes/frame |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for path, r in indexing:
            print(f"| {path.name} | {int(r['frames']):,} | {r['build_s']:.2f} s | "
                  f"{r['index_s']:.2f} s | {r['reused_s']:.2f} s | "
                  f"{int(r['entry_bytes']) / 1e6:.1f} MB | "
                  f"{int(r['entry_bytes']) / max(1, int(r['frames'])):.1f} |", flush=True)


if __name__ == "__main__":
    main()

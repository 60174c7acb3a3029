#!/usr/bin/env python3
"""Pass-through benchmark: mipv6scope vs tshark vs a bare dpkt read loop.

Generates a large capture (mostly tunnelled data with signalling mixed in, from
the home-registration sample's frames), then runs each tool once as a child
process on the same file and reports frames/s and peak RSS (GNU time's
%M, `bench/peak_rss.py`). mipv6scope also runs on a capture twice as large, to show that its
memory does not grow with the number of frames.

    python bench/benchmark.py [--frames N] [--workdir DIR] [--no-tshark] [--reuse]
                              [--source story|fleet] [--report-only] [--repeat N]

With ``--repeat N`` every tool runs N times, round by round, and the summary
gives each tool's median and best frames/s: on a machine whose speed drifts,
every tool samples the same spells. The last block compares ``mipv6scope report`` (frames/s and peak RSS, on the
capture and on the one twice as large) with tshark and the bare dpkt loop,
against the issue 4 targets.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from mipv6scope.synth.story import write_story_capture  # noqa: E402

sys.path.insert(0, str(REPO / "bench"))
from peak_rss import measured  # noqa: E402

generate = write_story_capture  # the story's frames repeated (mipv6scope/synth/story.py)


def run(cmd: list[str]) -> tuple[float, int]:
    """Run ``cmd`` with output discarded; return (seconds, peak RSS in MiB as
    ``/usr/bin/time -f %M`` reports it: `peak_rss`)."""
    m = measured(cmd)
    if m.returncode != 0:
        raise SystemExit(f"failed ({m.returncode}): {' '.join(cmd)}: {m.stderr[-500:]}")
    return m.wall_s, int(m.peak_rss_mib)


def generate_fleet(path: Path, frames: int, mobile_nodes: int = 1000) -> None:
    """A `synth fleet` capture of about ``frames`` frames (1,000 nodes by default)."""
    duration = frames / (mobile_nodes * 150.0) + 1.0  # ~150 frames per node-second
    subprocess.run([sys.executable, "-m", "mipv6scope", "synth", "fleet", "-o", str(path),
                    "--seed", "1", "--mobile-nodes", str(mobile_nodes),
                    "--duration", f"{duration:.3f}"], check=True, stdout=subprocess.DEVNULL)


def count_frames(path: Path) -> int:
    """Frames in a classic pcap, from its record headers."""
    count = 0
    with open(path, "rb") as fh:
        fh.seek(24)
        while header := fh.read(16):
            fh.seek(int.from_bytes(header[8:12], "little"), 1)
            count += 1
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=500_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/mipv6scope-bench"))
    parser.add_argument("--no-tshark", action="store_true")
    parser.add_argument("--reuse", action="store_true",
                        help="keep bench.pcap / bench-2x.pcap in WORKDIR when they exist")
    parser.add_argument("--source", choices=("story", "fleet"), default="story",
                        help="story: the home-registration story's frames repeated (98%% data); "
                             "fleet: `mipv6scope synth fleet` with 1,000 mobile nodes "
                             "(the issue's target capture)")
    parser.add_argument("--report-only", action="store_true",
                        help="leave out the packets runs")
    parser.add_argument("--repeat", type=int, default=1, metavar="N",
                        help="run every tool N times, round by round (so each samples the same "
                             "spells of a machine whose speed drifts); the tables give the median "
                             "and the best frames/s, the targets are judged on the median")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    small = args.workdir / f"bench-{args.source}.pcap"
    large = args.workdir / f"bench-{args.source}-2x.pcap"
    for path, frames in ((small, args.frames), (large, 2 * args.frames)):
        if not (args.reuse and path.exists()):
            if args.source == "fleet":
                generate_fleet(path, frames)
            else:
                generate(path, frames)
    args.frames = count_frames(small)
    large_frames = count_frames(large)
    py = sys.executable
    dpkt_loop = "import dpkt,sys\nfor ts, buf in dpkt.pcap.Reader(open(sys.argv[1],'rb')): pass"
    runs: list[tuple[str, list[str], Path, int]] = [
        ("bare dpkt read loop", [py, "-c", dpkt_loop, str(small)], small, args.frames),
        ("mipv6scope packets (text)", [py, "-m", "mipv6scope", "packets", str(small)], small, args.frames),
        ("mipv6scope packets --format jsonl",
         [py, "-m", "mipv6scope", "packets", "--format", "jsonl", str(small)], small, args.frames),
        ("mipv6scope packets (text), 2x frames",
         [py, "-m", "mipv6scope", "packets", str(large)], large, large_frames),
        ("mipv6scope report", [py, "-m", "mipv6scope", "report", str(small)], small, args.frames),
        ("mipv6scope report, 2x frames",
         [py, "-m", "mipv6scope", "report", str(large)], large, large_frames),
    ]
    if args.report_only:
        runs = [r for r in runs if not r[0].startswith("mipv6scope packets")]
    if not args.no_tshark and shutil.which("tshark"):
        runs += [
            ("tshark packet list", ["tshark", "-n", "-r", str(small)], small, args.frames),
            ("tshark -2 -R mipv6 -T fields",
             ["tshark", "-n", "-2", "-r", str(small), "-R", "mipv6", "-T", "fields",
              "-e", "frame.number", "-e", "mip6.mhtype", "-e", "mip6.bu.seqnr"], small, args.frames),
        ]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.platform()}")
    print(f"capture ({args.source}): {args.frames:,} frames ({small.stat().st_size / 1e6:.0f} MB), "
          f"2x: {large_frames:,} frames")
    timings: dict[str, list[float]] = {name: [] for name, *_ in runs}
    rss_of: dict[str, int] = {}
    print(f"{'tool':40} {'frames/s':>12} {'seconds':>9} {'peak RSS':>10}")
    for round_number in range(1, max(1, args.repeat) + 1):
        if args.repeat > 1:
            print(f"round {round_number} of {args.repeat}")
        for name, cmd, _path, frames in runs:
            seconds, rss = run(cmd)
            timings[name].append(seconds)
            rss_of[name] = max(rss, rss_of.get(name, 0))
            print(f"{name:40} {frames / seconds:>12,.0f} {seconds:>9.2f} {rss:>7} MiB")
    frames_of = {name: frames for name, _cmd, _path, frames in runs}
    results = {name: frames_of[name] / statistics.median(times) for name, times in timings.items()}
    if args.repeat > 1:
        print()
        print(f"over {args.repeat} rounds:")
        print(f"  {'tool':40} {'median f/s':>12} {'best f/s':>12} {'peak RSS':>10}")
        for name, times in timings.items():
            print(f"  {name:40} {results[name]:>12,.0f} {frames_of[name] / min(times):>12,.0f} "
                  f"{rss_of[name]:>7} MiB")
    ours = results.get("mipv6scope packets (text)")
    for name, rate in results.items():
        if ours and name != "mipv6scope packets (text)" and not name.startswith("mipv6scope report"):
            print(f"mipv6scope packets / {name}: {ours / rate:.2f}x")
    print()
    print("mipv6scope report (issue 4 targets: >= 100,000 frames/s, peak RSS < 300 MiB, "
          "RSS at 2x within 10%):")
    for name in ("mipv6scope report", "mipv6scope report, 2x frames"):
        print(f"  {name:38} {results[name]:>10,.0f} frames/s {rss_of[name]:>6} MiB peak RSS")
    report = results["mipv6scope report"]
    for name in ("bare dpkt read loop", "tshark packet list", "tshark -2 -R mipv6 -T fields"):
        if name in results:
            print(f"  report / {name}: {report / results[name]:.2f}x the frames/s, "
                  f"{rss_of['mipv6scope report'] / max(1, rss_of[name]):.2f}x the RSS")
    growth = rss_of["mipv6scope report, 2x frames"] / max(1, rss_of["mipv6scope report"])
    print(f"  peak RSS, 2x frames / 1x: {growth:.2f} (target <= 1.10)")
    verdict = report >= 100_000 and rss_of["mipv6scope report"] < 300 and growth <= 1.10
    print(f"  targets {'met' if verdict else 'NOT met'} on this machine")

if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Benchmark of `synth fleet`: 1,000 mobile nodes, ~2,000,000 and ~4,000,000 frames.

Each run is the `mipv6scope synth fleet` command as a child process; reports
frames, wall time, frames/s and peak RSS (GNU time's %M, `bench/peak_rss.py`). Memory should
be the same for both sizes.

    python bench/synth_fleet.py [--mobile-nodes 1000] [--frames 2000000] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
from peak_rss import measured  # noqa: E402

FRAMES_PER_MN_S = 150.0  # 50 voice packets/s each way: 4 frames through the tunnel, 2 direct (ro_share 0.5)


def run(mobile_nodes: int, frames: int, out: Path) -> dict:
    """One child run; returns its measurements."""
    duration = frames / (mobile_nodes * FRAMES_PER_MN_S) + 1.0
    cmd = [sys.executable, "-m", "mipv6scope", "synth", "fleet", "-o", str(out), "--seed", "1",
           "--mobile-nodes", str(mobile_nodes), "--duration", f"{duration:.3f}"]
    m = measured(cmd, cwd=REPO)
    if m.returncode != 0:
        raise SystemExit(m.stderr[-800:] or "failed")
    written = json.loads(Path(f"{out}.truth.json").read_text())["frames"]
    return {"frames": written, "wall_s": round(m.wall_s, 2), "frames_per_s": round(written / m.wall_s),
            "peak_rss_mib": round(m.peak_rss_mib, 1), "cpu_s": round(m.cpu_s, 2),
            "capture_mib": round(out.stat().st_size / 2**20, 1)}


def main() -> None:
    """Run the benchmark and print the machine and the numbers."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mobile-nodes", type=int, default=1000)
    ap.add_argument("--frames", type=int, default=2_000_000)
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args()
    print(f"machine: {platform.machine()} {platform.processor() or ''} {os.cpu_count()} cpus, "
          f"{platform.system()} {platform.release()}, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        for frames in (args.frames, 2 * args.frames):
            out = Path(tmp) / f"fleet-{frames}.pcap"
            result = run(args.mobile_nodes, frames, out)
            print(f"fleet {args.mobile_nodes} MNs, target {frames}: {json.dumps(result)}")
            out.unlink()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The columnar frame pass (`mipv6scope.capture.columns`) against a bare dpkt
read loop and tshark, on a capture with realistic variety.

    python bench/columns.py [--frames N] [--workdir DIR] [--reuse] [--no-tshark]
                            [--report] [--report-only] [--fleet] [--jobs] [--linearity]

The capture (Ethernet, written here, not by `synth`): frame sizes uniform
80-1400 bytes from a seeded RNG; ~98 % UDP/TCP in IPv6-in-IPv6 between 4 home
agents and 1,000 care-of addresses (both directions; each node talks to 2 of
50 correspondents, one UDP and one TCP flow each way); ~1 % signalling frames copied from the sample
captures (BU, BA, HoTI, ..., with their bytes as captured); ~1 % route-
optimised UDP with a Home Address option or a type 2 routing header, in the
layouts Scapy builds. Checksums of the generated segments are set so they
verify.

Timed in one process, one after the other on the same file (warm page
cache): the dpkt loop (``for ts, buf in dpkt.pcap.Reader(f)``), walking the
records into chunks, walking + gathering + masking, and as a child process
tshark printing the same columns with ``-T fields``. ``--report`` also runs
``mipv6scope report --format json`` with each engine (child processes), and
``--fleet`` repeats everything on a ``synth fleet`` capture. ``--jobs`` times
``report --jobs 1`` and ``--jobs 2`` on the capture, and on two captures of
half as many frames (other seeds) merged by time. ``--linearity`` only times
``report --jobs 1`` (beside the dpkt loop) on 0.2M, 2M and 20M frames, the
20M capture being the 2M one ten times over with its timestamps moved on.
``--floor`` times, in this process, `analyze` as `report --jobs 1` runs it
and `analyze` with no data handler at all (every fast frame dropped after
the gather; masked frames decoded and analysed as usual): the most that
replacing the per-frame data handlers could give, whatever replaces them.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from peak_rss import measured  # noqa: E402

from mipv6scope.capture import open_capture  # noqa: E402
from mipv6scope.capture.columns import REASONS, AddressTable, chunks, gather  # noqa: E402

SAMPLES = REPO / "sample_captures"
SIGNALLING_SOURCES = ("scenario-handoff.pcap", "scenario-route-optimization.pcap",
                      "home-registration.pcap")
HOME_AGENTS = 4
CARE_OF = 1000
PEERS_PER_NODE = 2
PCAP_HEADER = (b"\xd4\xc3\xb2\xa1" + (2).to_bytes(2, "little") + (4).to_bytes(2, "little")
               + bytes(8) + (65535).to_bytes(4, "little") + (1).to_bytes(4, "little"))


def _signalling_frames() -> list[bytes]:
    """Ethernet frames of the samples that are not plain data (what the mask should take)."""
    from mipv6scope.analysis.classify import data_fields
    found = []
    for name in SIGNALLING_SOURCES:
        with open_capture(SAMPLES / name) as reader:
            found += [f.data for f in reader if f.linktype == 1 and data_fields(f) is None]
    return found


def _route_optimised_templates() -> list[tuple[bytes, int, int]]:
    """(Ethernet frame header through the UDP header, where the UDP segment
    starts, where the pseudo-header addresses are) of a HAO packet and an RH2
    packet, built by Scapy; the payload is appended and the checksum fixed."""
    from scapy.layers.inet import UDP
    from scapy.layers.inet6 import HAO, IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrRouting
    from scapy.layers.l2 import Ether
    eth = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
    hao = bytes(eth / IPv6(src="2001:db8:7::100", dst="2001:db8:9::9")
                / IPv6ExtHdrDestOpt(options=[HAO(hoa="2001:db8:1::100")]) / UDP(sport=7000, dport=7000))
    rh2 = bytes(eth / IPv6(src="2001:db8:9::9", dst="2001:db8:7::100")
                / IPv6ExtHdrRouting(type=2, segleft=1, addresses=["2001:db8:1::100"])
                / UDP(sport=7000, dport=7000))
    return [(hao, 14 + 64, 1), (rh2, 14 + 64, 2)]


def _checksummed(src: bytes, dst: bytes, proto: int, segment: bytearray, at: int) -> None:
    """Write the checksum at ``segment[at:at + 2]`` so that it verifies."""
    segment[at:at + 2] = b"\x00\x00"
    pseudo = src + dst + len(segment).to_bytes(4, "big") + bytes(3) + bytes((proto,))
    value = int.from_bytes(pseudo + segment + (b"\x00" if len(segment) & 1 else b""), "big") % 0xFFFF
    segment[at:at + 2] = (0xFFFF - value).to_bytes(2, "big")


def write_realistic(path: Path, frames: int, seed: int = 1) -> None:
    """The benchmark capture (see the module docstring)."""
    rng = np.random.default_rng(seed)
    signalling = _signalling_frames()
    ro = _route_optimised_templates()
    has = [bytes.fromhex(f"20010db8000{i + 1}") + bytes(9) + b"\x01" for i in range(HOME_AGENTS)]
    coas = [bytes.fromhex("20010db8") + rng.bytes(4) + bytes(6) + i.to_bytes(2, "big")
            for i in range(CARE_OF)]
    hoas = [bytes.fromhex(f"20010db8000{i % HOME_AGENTS + 1}0000") + bytes(6) + i.to_bytes(2, "big")
            for i in range(CARE_OF)]  # the same interface ids as the care-of addresses
    cns = [bytes.fromhex("20010db8ffff0000") + rng.bytes(8) for _ in range(50)]
    sizes = rng.integers(80, 1401, frames)
    kinds = rng.random(frames)
    nodes = rng.integers(0, CARE_OF, frames)
    peers_of = rng.integers(0, len(cns), (CARE_OF, PEERS_PER_NODE))  # each node's correspondents
    peers = rng.integers(0, PEERS_PER_NODE, frames)
    eth = bytes.fromhex("020000000002020000000001") + b"\x86\xdd"
    ts = 1_700_000_000.0
    with open(path, "wb") as out:
        out.write(PCAP_HEADER)
        batch = []
        for i in range(frames):
            ts += float(rng.exponential(0.0002))
            size = int(sizes[i])
            kind = kinds[i]
            if kind < 0.01:
                frame = signalling[i % len(signalling)]
            elif kind < 0.02:
                head, seg_at, which = ro[i % 2]
                frame = bytearray(head + rng.bytes(max(0, size - len(head))))
                plen = len(frame) - 14 - 40
                frame[18:20] = plen.to_bytes(2, "big")
                frame[seg_at + 4:seg_at + 6] = (len(frame) - seg_at).to_bytes(2, "big")
                segment = bytearray(frame[seg_at:])
                src = frame[14 + 48:14 + 64] if which == 1 else frame[22:38]
                dst = frame[14 + 48:14 + 64] if which == 2 else frame[38:54]
                _checksummed(bytes(src), bytes(dst), 17, segment, 6)
                frame[seg_at:] = segment
                frame = bytes(frame)
            else:
                node = int(nodes[i])
                peer = cns[int(peers_of[node, peers[i]])]
                ha, coa, hoa = has[node % HOME_AGENTS], coas[node], hoas[node]
                to_mn = kind < 0.5
                outer = (ha, coa) if to_mn else (coa, ha)
                inner = (peer, hoa) if to_mn else (hoa, peer)
                proto = 17 if kind < 0.8 else 6
                header = 8 if proto == 17 else 20
                payload = rng.bytes(max(0, size - 14 - 80 - header))
                if proto == 17:
                    segment = bytearray((5004).to_bytes(2, "big") * 2
                                        + (header + len(payload)).to_bytes(2, "big") + bytes(2) + payload)
                    _checksummed(inner[0], inner[1], 17, segment, 6)
                else:
                    segment = bytearray((443).to_bytes(2, "big") + (40000 + node).to_bytes(2, "big")
                                        + bytes(8) + b"\x50\x10\xff\xff" + bytes(4) + payload)
                    _checksummed(inner[0], inner[1], 6, segment, 16)
                inner_ip = ((6 << 28).to_bytes(4, "big") + len(segment).to_bytes(2, "big")
                            + bytes((proto, 64)) + inner[0] + inner[1])
                outer_ip = ((6 << 28).to_bytes(4, "big") + (40 + len(segment)).to_bytes(2, "big")
                            + bytes((41, 64)) + outer[0] + outer[1])
                frame = eth + outer_ip + inner_ip + bytes(segment)
            sec = int(ts)
            batch.append(sec.to_bytes(4, "little") + int((ts - sec) * 1e6).to_bytes(4, "little")
                         + len(frame).to_bytes(4, "little") * 2 + frame)
            if len(batch) >= 65536:
                out.write(b"".join(batch))
                batch.clear()
        out.write(b"".join(batch))


def write_repeated(source: Path, path: Path, times: int) -> None:
    """``source`` (a little-endian microsecond pcap) ``times`` over, each copy's
    timestamps moved past the one before: the same population of nodes and
    flows for ``times`` as long, to see whether the cost per frame stays."""
    data = np.fromfile(source, np.uint8)
    heads = []
    at = 24
    while at + 16 <= len(data):
        heads.append(at)
        at += 16 + int(data[at + 8:at + 12].view("<u4")[0])
    sec_at = np.array(heads, np.int64)
    secs = np.stack([data[sec_at + k] for k in range(4)], axis=1).copy().view("<u4").ravel()
    span = int(secs.max()) - int(secs.min()) + 1
    with open(path, "wb") as out:
        out.write(data[:24].tobytes())
        copy = data[24:].copy()
        for k in range(times):
            shifted = (secs + k * span).astype("<u4").view(np.uint8).reshape(-1, 4)
            for j in range(4):
                copy[sec_at - 24 + j] = shifted[:, j]
            out.write(copy.tobytes())


def linearity(workdir: Path, reuse: bool) -> None:
    """`report --jobs 1` and the dpkt loop on 0.2M, 2M and 20M frames (20M: the
    2M capture ten times over, see `write_repeated`): frames/s of each, and
    each size's rate against the 2M one (issue 15: within 15 %)."""
    small, mid, large = (workdir / f"realistic-{n}.pcap" for n in (200_000, 2_000_000, "20000000-repeated"))
    for path, frames in ((small, 200_000), (mid, 2_000_000)):
        if not (reuse and path.exists()):
            write_realistic(path, frames)
    if not (reuse and large.exists()):
        write_repeated(mid, large, 10)
    rates = {}
    for path in (small, mid, large):
        frames = dpkt_loop(path)
        print(f"{path.name}: {frames:,} frames, {path.stat().st_size / 1e9:,.2f} GB")
        base = timed("dpkt read loop", frames, None, lambda p=path: dpkt_loop(p))
        rates[path] = timed("report --jobs 1", frames, base, lambda p=path: report([p], "--jobs", "1"))
    for path in (small, large):
        print(f"  {path.name}: report at {rates[path] / rates[mid]:.2f} x the 2M rate")


def dpkt_loop(path: Path) -> int:
    """Frames read by a bare dpkt loop."""
    import dpkt
    n = 0
    with open(path, "rb") as f:
        for _ts, _buf in dpkt.pcap.Reader(f):
            n += 1
    return n


def walk_only(path: Path) -> int:
    """Frames in the chunks."""
    with open_capture(path) as reader:
        return sum(len(chunk) for chunk in chunks(reader))


def walk_gather(path: Path) -> tuple[int, Counter]:
    """Frames walked and gathered, and how many were masked, by reason."""
    table = AddressTable()
    reasons: Counter = Counter()
    n = 0
    with open_capture(path) as reader:
        for chunk in chunks(reader):
            cols = gather(chunk, table)
            n += len(chunk)
            codes, counts = np.unique(cols.reason, return_counts=True)
            for code, count in zip(codes.tolist(), counts.tolist(), strict=True):
                reasons[REASONS[code]] += count
    return n, reasons


TSHARK_FIELDS = ("frame.time_epoch", "frame.len", "frame.cap_len", "ipv6.src", "ipv6.dst",
                 "ipv6.nxt", "udp.srcport", "udp.dstport", "tcp.srcport", "tcp.dstport")


def tshark_fields(path: Path) -> int:
    """Lines tshark -T fields prints for the same columns."""
    cmd = ["tshark", "-n", "-r", str(path), "-T", "fields"]
    for name in TSHARK_FIELDS:
        cmd += ["-e", name]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True)
    return proc.stdout.count(b"\n")


def report(paths: list[Path], *options: str) -> str:
    """Run ``mipv6scope report --format json OPTIONS PATHS`` as a child
    process; its peak RSS as ``/usr/bin/time -f %M`` reports it
    (`peak_rss.measured`; with ``--jobs``, the peak of the largest of its processes)."""
    cmd = [sys.executable, "-m", "mipv6scope", "report", "--format", "json", *options,
           *map(str, paths)]
    m = measured(cmd, env={**os.environ, "PYTHONPATH": str(REPO)})
    if m.returncode not in (0, 1):
        raise SystemExit(f"report {' '.join(options)} failed: {m.stderr[-500:]}")
    return f"peak RSS {int(m.peak_rss_mib)} MiB"


def timed(label: str, frames: int, base: float | None, run) -> float:
    start = time.perf_counter()
    result = run()
    seconds = time.perf_counter() - start
    rate = frames / seconds
    rel = f"  {rate / base:5.2f} x dpkt" if base else ""
    print(f"  {label:<28} {seconds:7.2f} s  {rate:>11,.0f} frames/s{rel}", flush=True)
    if isinstance(result, str):
        print(f"  {'':<28} {result}")
    if isinstance(result, tuple):
        n, reasons = result
        masked = n - reasons["fast"]
        print(f"  {'':<28} masked {masked:,} of {n:,} ({100 * masked / n:.2f} %): "
              + ", ".join(f"{r} {c:,}" for r, c in reasons.most_common() if r != "fast"))
    return rate


def bench(path: Path, tshark: bool, with_report: bool, columns: bool = True,
          jobs: bool = False) -> None:
    size = path.stat().st_size
    frames = dpkt_loop(path)  # also warms the page cache
    print(f"{path.name}: {frames:,} frames, {size / 1e6:,.0f} MB")
    base = timed("dpkt read loop", frames, None, lambda: dpkt_loop(path))
    if columns:
        timed("walk (columns.chunks)", frames, base, lambda: walk_only(path))
        timed("walk + gather + mask", frames, base, lambda: walk_gather(path))
    if tshark and shutil.which("tshark"):
        timed("tshark -T fields", frames, base, lambda: tshark_fields(path))
    if with_report:
        for engine in ("reference", "columnar"):
            timed(f"report --engine {engine}", frames, base,
                  lambda e=engine: report([path], "--engine", e, "--jobs", "1"))
    if jobs:
        for n in ("1", "2"):
            timed(f"report --jobs {n}", frames, base, lambda n=n: report([path], "--jobs", n))


def floor(path: Path) -> None:
    """`analyze` (``jobs=1``) with and without the data handlers, beside the dpkt loop."""
    from mipv6scope.analysis import engine
    frames = dpkt_loop(path)
    print(f"{path.name}: {frames:,} frames")
    base = timed("dpkt read loop", frames, None, lambda: dpkt_loop(path))
    timed("analyze(), as report runs it", frames, base, lambda: engine.analyze([path], jobs=1) and None)
    handlers = engine._data_dispatch
    engine._data_dispatch = lambda analyzers, table: ((), (), ())
    try:
        timed("analyze(), no data handler", frames, base, lambda: engine.analyze([path], jobs=1) and None)
    finally:
        engine._data_dispatch = handlers


def bench_several(paths: list[Path]) -> None:
    """``report --jobs 1`` and ``--jobs 2`` on several captures merged by time,
    against the dpkt loop over all of them."""
    frames = sum(dpkt_loop(p) for p in paths)
    print(f"{len(paths)} captures merged: {frames:,} frames, "
          f"{sum(p.stat().st_size for p in paths) / 1e6:,.0f} MB")
    base = timed("dpkt read loop (each)", frames, None, lambda: sum(dpkt_loop(p) for p in paths))
    for n in ("1", "2"):
        timed(f"report --jobs {n}", frames, base, lambda n=n: report(paths, "--jobs", n))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=2_000_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/mipv6scope-bench"))
    parser.add_argument("--reuse", action="store_true", help="reuse the captures if present")
    parser.add_argument("--no-tshark", action="store_true")
    parser.add_argument("--report", action="store_true", help="also time report with each engine")
    parser.add_argument("--fleet", action="store_true", help="also on a synth fleet capture")
    parser.add_argument("--jobs", action="store_true",
                        help="time report --jobs 1 and 2, on the capture and on two captures "
                             "of half as many frames each merged by time")
    parser.add_argument("--linearity", action="store_true",
                        help="only time report --jobs 1 on 0.2M, 2M and 20M frames (20M: the 2M "
                             "capture ten times over, about 15 GB in WORKDIR)")
    parser.add_argument("--floor", action="store_true",
                        help="only time analyze() with and without the data handlers (in-process)")
    parser.add_argument("--report-only", action="store_true",
                        help="time only the dpkt loop and report with each engine")
    args = parser.parse_args()
    if args.report_only:
        args.report, args.no_tshark = True, True
    args.workdir.mkdir(parents=True, exist_ok=True)
    if args.linearity:
        linearity(args.workdir, args.reuse)
        return
    if args.floor:
        path = args.workdir / f"realistic-{args.frames}.pcap"
        if not (args.reuse and path.exists()):
            write_realistic(path, args.frames)
        floor(path)
        return
    path = args.workdir / f"realistic-{args.frames}.pcap"
    if not (args.reuse and path.exists()):
        start = time.perf_counter()
        write_realistic(path, args.frames)
        print(f"wrote {path} in {time.perf_counter() - start:.0f} s")
    bench(path, not args.no_tshark, args.report, not args.report_only, args.jobs)
    if args.jobs:
        halves = [args.workdir / f"realistic-{args.frames // 2}-seed{seed}.pcap" for seed in (2, 3)]
        for seed, half in zip((2, 3), halves, strict=True):
            if not (args.reuse and half.exists()):
                write_realistic(half, args.frames // 2, seed)
        bench_several(halves)
    if args.fleet:
        from bench.benchmark import generate_fleet
        fleet = args.workdir / f"fleet-{args.frames}.pcap"
        if not (args.reuse and fleet.exists()):
            generate_fleet(fleet, args.frames)
        bench(fleet, not args.no_tshark, args.report, not args.report_only)


if __name__ == "__main__":
    main()

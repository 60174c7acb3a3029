#!/usr/bin/env python3
"""Speed of `mipv6scope report` on pure signalling (issue 15: "signalling is fast too").

It writes a capture (raw IPv6, pcap) in which every frame is a Binding Update
or a Binding Acknowledgement: N mobile nodes each register with one home
agent from a care-of address of their own (BU with A and H set and a Home
Address option in a Destination Options header, from the care-of address;
BA status 0 with a type 2 routing header and a Binding Refresh Advice
option, to it), two frames a node, and with ``--rounds R`` each node
re-registers R - 1 more times (the same care-of address, the sequence number
one higher), 2 x N x R frames in all. The frames are built here with struct
from the RFC 6275 layouts (6.1.7, 6.1.8, 6.3, 6.4, 6.2.4), not with
`mipv6scope.synth`; every Mobility Header checksum is computed over the
pseudo-header with the home address (RFC 6275 6.1.1).

It then times, on the same (warm) file, a bare dpkt read loop and
`mipv6scope report --format json -o FILE` as a child process (frames/s; peak
RSS as `/usr/bin/time -f %M` reports it: `bench/peak_rss.py`), and
checks the report against what was written: every frame decoded, none
malformed, N mobile nodes each with its home address and care-of address, and
N x R accepted registrations.

    python bench/signalling.py [--nodes 100000] [--rounds 1] [--engine columnar]
                               [--runs 1] [--vs TREE] [--workdir DIR] [--keep CAPTURE]

``--vs TREE`` runs another source tree's report (a git worktree of an older
commit) alternately with this one's, on the same file: a paired comparison on
a machine whose load changes. CPU seconds (user + system) are printed beside
the wall time: on a shared machine they move less.

Profile the same command with py-spy:

    python bench/signalling.py --keep /tmp/sig.pcap --runs 0
    py-spy record -o sig.svg -- python -m mipv6scope report --format json -o /tmp/r.json /tmp/sig.pcap
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
sys.path.insert(0, str(REPO / "bench"))
from columns import dpkt_loop  # noqa: E402
from peak_rss import measured  # noqa: E402

LINKTYPE_RAW = 101
HOME_PREFIX = bytes.fromhex("20010db8000100000000000000000000")[:8]     # 2001:db8:1::/64
CARE_OF_PREFIX = bytes.fromhex("20010db8000a00000000000000000000")[:8]  # 2001:db8:a::/64
HOME_AGENT = HOME_PREFIX + bytes.fromhex("0000000000000001")             # 2001:db8:1::1
LIFETIME_UNITS = 1000       # 4,000 s: every binding outlives the capture
REFRESH_UNITS = 750         # Binding Refresh Advice: 3,000 s
STEP_S = 0.00001            # between two frames
ROUND_GAP_S = 300.0         # between re-registration rounds
NH_DSTOPTS, NH_ROUTING, NH_NONE, NH_MH = 60, 43, 59, 135
MH_BU, MH_BA = 5, 6
_PCAP_HEADER = struct.Struct("<IHHiIII")
_RECORD = struct.Struct("<IIII")
_IP6 = struct.Struct("!IHBB16s16s")


def interface_id(n: int) -> bytes:
    """Node ``n``'s 64-bit interface identifier (never 0 or 1: those are the home agent's)."""
    return struct.pack("!Q", 0x0200_0000_0000_0000 | n)


def checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071) of ``data`` (even length)."""
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def mh_with_checksum(src: bytes, dst: bytes, mh: bytearray) -> bytes:
    """``mh`` with its Checksum field (octets 4-5) set over the RFC 8200 8.1
    pseudo-header: source, destination, upper-layer length, next header 135."""
    pseudo = src + dst + struct.pack("!IxxxB", len(mh), NH_MH)
    mh[4:6] = b"\0\0"
    mh[4:6] = struct.pack("!H", checksum(pseudo + bytes(mh)))
    return bytes(mh)


def binding_update(home: bytes, care_of: bytes, seq: int) -> bytes:
    """IPv6 (care-of -> home agent), Destination Options with the HAO at 8n+6,
    and a BU (A, H; lifetime LIFETIME_UNITS) padded to 16 octets by PadN."""
    mh = bytearray(struct.pack("!BBBBHHBxH", NH_NONE, 1, MH_BU, 0, 0, seq, 0xC0, LIFETIME_UNITS))
    mh += b"\x01\x02\x00\x00"  # PadN: the message to a multiple of 8 octets
    mh = mh_with_checksum(home, HOME_AGENT, mh)
    dstopts = struct.pack("!BB", NH_MH, 2) + b"\x01\x02\x00\x00" + struct.pack("!BB", 0xC9, 16) + home
    payload = dstopts + mh
    return _IP6.pack(6 << 28, len(payload), NH_DSTOPTS, 64, care_of, HOME_AGENT) + payload


def binding_ack(home: bytes, care_of: bytes, seq: int) -> bytes:
    """IPv6 (home agent -> care-of), a type 2 routing header with the home
    address, and a BA (status 0, lifetime LIFETIME_UNITS) with a Binding
    Refresh Advice option (RFC 6275 6.2.4: alignment 2n, here octet 12)."""
    mh = bytearray(struct.pack("!BBBBHBBHH", NH_NONE, 1, MH_BA, 0, 0, 0, 0, seq, LIFETIME_UNITS))
    mh += struct.pack("!BBH", 2, 2, REFRESH_UNITS)
    mh = mh_with_checksum(HOME_AGENT, home, mh)
    rh2 = struct.pack("!BBBBI", NH_MH, 2, 2, 1, 0) + home
    payload = rh2 + mh
    return _IP6.pack(6 << 28, len(payload), NH_ROUTING, 64, HOME_AGENT, care_of) + payload


def write_capture(path: Path, nodes: int, rounds: int) -> int:
    """Write the capture; returns its frame count."""
    frames = 0
    ts = 1_700_000_000.0
    batch: list[bytes] = []
    with open(path, "wb") as out:
        out.write(_PCAP_HEADER.pack(0xA1B2C3D4, 2, 4, 0, 0, 65535, LINKTYPE_RAW))
        for r in range(rounds):
            for n in range(nodes):
                iid = interface_id(n)
                home, care_of = HOME_PREFIX + iid, CARE_OF_PREFIX + iid
                seq = (n + r) & 0xFFFF
                for packet in (binding_update(home, care_of, seq), binding_ack(home, care_of, seq)):
                    usec = round(ts * 1_000_000)
                    batch.append(_RECORD.pack(usec // 1_000_000, usec % 1_000_000, len(packet), len(packet)))
                    batch.append(packet)
                    frames += 1
                    ts += STEP_S
                if len(batch) >= 65536:
                    out.write(b"".join(batch))
                    batch.clear()
            ts += ROUND_GAP_S
        out.write(b"".join(batch))
    return frames


def run_report(capture: Path, out: Path, engine: str, tree: Path = REPO) -> tuple[float, float, int]:
    """`mipv6scope report --format json -o OUT` of the source tree ``tree`` as
    a child process: (wall seconds, CPU seconds, peak RSS in bytes)."""
    cmd = [sys.executable, "-m", "mipv6scope", "report", "--format", "json", "--engine", engine,
           "-o", str(out), str(capture)]
    m = measured(cmd, cwd=tree, env={**os.environ, "PYTHONPATH": str(tree)})
    if m.returncode != 0:
        raise SystemExit(f"report exited {m.returncode}: {m.stderr[-800:]}")
    return m.wall_s, m.cpu_s, m.peak_rss_bytes


def _text(address: bytes) -> str:
    import ipaddress

    return str(ipaddress.IPv6Address(address))


def check_report(report: dict, nodes: int, rounds: int, frames: int) -> None:
    """The report must see what was written; exits with the differences if not."""
    cap, mns = report["capture"], report["mobile_nodes"]
    problems = []
    if cap["frames"] != frames or cap["decoded"] != frames or cap["malformed"]:
        problems.append(f"{cap['decoded']} of {cap['frames']} frames decoded, {cap['malformed']} "
                        f"malformed; wrote {frames}")
    if len(mns) != nodes:
        problems.append(f"{len(mns)} mobile nodes, wrote {nodes}")
    accepted = sum(1 for mn in mns for reg in mn["registrations"]
                   if reg["status"] is not None and reg["status"] < 128)
    if accepted != nodes * rounds:
        problems.append(f"{accepted} accepted registrations, wrote {nodes * rounds}")
    wanted = {_text(HOME_PREFIX + interface_id(n)): _text(CARE_OF_PREFIX + interface_id(n))
              for n in range(nodes)}
    got = {mn["home_address"]: mn["care_of_addresses"] for mn in mns}
    wrong = [hoa for hoa, coa in wanted.items() if got.get(hoa) != [coa]]
    if wrong:
        problems.append(f"{len(wrong)} nodes without their home and care-of address, e.g. {wrong[0]}")
    if problems:
        raise SystemExit("the report disagrees with the capture: " + "; ".join(problems))
    print(f"checked: {frames:,} frames decoded, none malformed, {nodes:,} mobile nodes with their "
          f"home and care-of addresses, {accepted:,} accepted registrations")


def main() -> None:
    """Write the capture, time the dpkt loop and the report, check the report."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=100_000, help="mobile nodes (default 100,000)")
    ap.add_argument("--rounds", type=int, default=1,
                    help="registrations a node makes; after the first, re-registrations (default 1)")
    ap.add_argument("--engine", default="columnar", choices=("columnar", "reference"))
    ap.add_argument("--runs", type=int, default=1, help="report runs, one after the other (default 1)")
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--keep", type=Path, default=None, help="write the capture here and keep it")
    ap.add_argument("--vs", type=Path, default=None, metavar="TREE",
                    help="also run the report of another source tree (e.g. a worktree of main), "
                         "alternating with this one's, for a paired comparison")
    args = ap.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cpus, {platform.system()} {platform.release()}, "
          f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.2f}")
    tmp = Path(tempfile.mkdtemp(dir=args.workdir, prefix="mipv6scope-signalling-"))
    capture = args.keep or tmp / "signalling.pcap"
    try:
        start = time.perf_counter()
        frames = write_capture(capture, args.nodes, args.rounds)
        print(f"wrote {frames:,} frames ({args.nodes:,} nodes x {args.rounds} round(s), "
              f"{capture.stat().st_size / 2**20:.1f} MiB) in {time.perf_counter() - start:.1f} s")
        dpkt_loop(capture)  # warms the page cache
        start = time.perf_counter()
        dpkt_loop(capture)
        base = frames / (time.perf_counter() - start)
        print(f"  {'bare dpkt read loop':<34} {base:>11,.0f} frames/s")
        trees = [("this tree", REPO)] + ([(str(args.vs), args.vs.resolve())] if args.vs else [])
        for run in range(args.runs):
            for label, tree in trees:
                out = tmp / "report.json"
                wall, cpu, rss = run_report(capture, out, args.engine, tree)
                print(f"  report --engine {args.engine} ({label}): {frames / wall:>9,.0f} frames/s  "
                      f"wall {wall:6.2f} s  CPU {cpu:6.2f} s ({frames / cpu:,.0f} frames/CPU-s)  "
                      f"{frames / wall / base:5.2f} x dpkt  peak RSS {rss / 2**20:.0f} MiB", flush=True)
                if run == 0:
                    check_report(json.loads(out.read_text()), args.nodes, args.rounds, frames)
    finally:
        for path in tmp.iterdir():
            path.unlink()
        tmp.rmdir()
        if args.keep:
            print(f"kept {capture}")


if __name__ == "__main__":
    main()

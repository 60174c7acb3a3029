"""Fuzz every command in-process over mutants of the sample captures (issue 11).

Each mutant is a window of one sample's records (at most ``WINDOW`` of them,
so a run tries many mutants) with one to three mutations: bit flips in random
records, truncation at a random offset, record-header corruption (pcap:
ts/caplen/len; pcapng: block length, interface, time, captured/original
length, IDB timestamp options) and reordering of records. A mutant is made
from its seed alone (``random.Random(seed)``), so a failure is reproduced
with ``--mutant SEED``.

Every command of ``COMMANDS`` runs on every mutant through click's CliRunner
over ``mipv6scope.cli.main.cli``; a traceback (an exception other than
SystemExit, or "Traceback" in the output) or an exit code outside
``ALLOWED_EXIT_CODES`` is a failure, reported with the mutant's seed and the
command.

    python bench/fuzz_commands.py --minutes 5          # random base seed, printed
    python bench/fuzz_commands.py --seed 7 --minutes 1
    python bench/fuzz_commands.py --mutant 123456789   # one mutant, every command

tests/test_fuzz_commands.py runs the same with a fixed seed and a time budget.
"""

from __future__ import annotations

import argparse
import random
import struct
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLES = REPO_ROOT / "sample_captures"
ALLOWED_EXIT_CODES = frozenset((0, 1, 2, 3))
WINDOW = 120  # records per mutant at most

PCAP_MAGICS = {b"\xd4\xc3\xb2\xa1": "<", b"\xa1\xb2\xc3\xd4": ">",
               b"\x4d\x3c\xb2\xa1": "<", b"\xa1\xb2\x3c\x4d": ">"}
PCAPNG_SHB = b"\x0a\x0d\x0d\x0a"
INTERESTING_U32 = (0, 1, 7, 0x7F, 0x80, 0xFF, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF)


def commands(capture: str, out_dir: str, at: str) -> list[list[str]]:
    """Every command the fuzz runs on ``capture`` (outputs under ``out_dir``)."""
    return [
        ["packets", capture],
        ["packets", capture, "--format", "jsonl"],
        ["packets", capture, "-V"],
        ["packets", capture, "-x"],
        ["packets", capture, "-Y", "mip6"],
        ["summary", capture],
        ["report", capture, "--format", "json"],
        ["bindings", capture, "--registrations"],
        ["tunnels", capture],
        ["ro", capture],
        ["handoffs", capture],
        ["findings", capture],
        ["cache", capture, "--at", at],
        ["chart", capture, "-o", str(Path(out_dir) / "chart.json")],
    ]


@dataclass(frozen=True)
class Sample:
    """A sample capture split into its file header and its records (blocks)."""

    name: str
    kind: str  # "pcap" | "pcapng"
    order: str  # struct byte order of the records
    header: bytes  # pcap: the 24-byte file header; pcapng: SHB and IDBs
    records: tuple[bytes, ...]  # pcap: 16-byte header + data; pcapng: whole blocks


def _split_pcap(name: str, data: bytes) -> Sample | None:
    order = PCAP_MAGICS.get(data[:4])
    if order is None or len(data) < 24:
        return None
    records, pos = [], 24
    while pos + 16 <= len(data):
        caplen = struct.unpack_from(order + "I", data, pos + 8)[0]
        end = pos + 16 + caplen
        if end > len(data):
            break
        records.append(data[pos:end])
        pos = end
    return Sample(name, "pcap", order, data[:24], tuple(records))


def _split_pcapng(name: str, data: bytes) -> Sample | None:
    if data[:4] != PCAPNG_SHB or len(data) < 12:
        return None
    order = "<" if data[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
    head, records, pos = [], [], 0
    while pos + 12 <= len(data):
        btype, blen = struct.unpack_from(order + "II", data, pos)
        if blen < 12 or pos + blen > len(data):
            break
        block = data[pos:pos + blen]
        # blocks before the first packet are the header; any later block is a record
        (records if records or btype in (3, 6) else head).append(block)
        pos += blen
    return Sample(name, "pcapng", order, b"".join(head), tuple(records))


def load_samples(directory: Path = SAMPLES) -> list[Sample]:
    """Every pcap/pcapng sample in ``directory``, split into records (sorted by name)."""
    out = []
    for path in sorted(directory.iterdir()):
        if path.suffix not in (".pcap", ".pcapng"):
            continue
        data = path.read_bytes()
        sample = _split_pcapng(path.name, data) if data[:4] == PCAPNG_SHB else _split_pcap(path.name, data)
        if sample is not None and sample.records:
            out.append(sample)
    return out


def _flip_bits(rng: random.Random, rec: bytearray, start: int) -> None:
    if len(rec) <= start:
        return
    for _ in range(rng.randint(1, 8)):
        i = rng.randrange(start, len(rec))
        rec[i] ^= 1 << rng.randrange(8)


def _u32(rng: random.Random, old: int) -> int:
    choice = rng.random()
    if choice < 0.5:
        return rng.choice(INTERESTING_U32)
    if choice < 0.8:
        return (old + rng.choice((-2, -1, 1, 2, 8, 1000))) & 0xFFFFFFFF
    return rng.getrandbits(32)


def _corrupt_header(rng: random.Random, sample: Sample, rec: bytearray) -> None:
    """Overwrite one 32-bit field of a record (block) header."""
    o = sample.order
    if sample.kind == "pcap":
        fields = (0, 4, 8, 12)  # ts_sec, ts_frac, caplen, len
    elif rec[:4] == struct.pack(o + "I", 6):
        fields = (4, 8, 12, 16, 20, 24)  # block length, interface, ts hi/lo, caplen, len
    else:
        fields = (4,)
    at = rng.choice(fields)
    if at + 4 > len(rec):
        return
    old = struct.unpack_from(o + "I", rec, at)[0]
    struct.pack_into(o + "I", rec, at, _u32(rng, old))


def _corrupt_idb(rng: random.Random, sample: Sample, header: bytearray) -> bytearray:
    """Append an IDB with odd timestamp options or flip a byte of the header blocks."""
    o = sample.order
    if sample.kind != "pcapng" or rng.random() < 0.5:
        if len(header) > 8:
            i = rng.randrange(8, len(header))
            header[i] ^= 1 << rng.randrange(8)
        return header
    opts = b""
    if rng.random() < 0.7:
        opts += struct.pack(o + "HH", 9, 1) + bytes([rng.choice((0, 6, 9, 19, 127, 0x80, 0xBF, 0xFF))]) + b"\0\0\0"
    if rng.random() < 0.7:
        offset = rng.choice((-(1 << 63), -10**10, 0, 3 * 10**11, (1 << 63) - 1))
        opts += struct.pack(o + "HHq", 14, 8, offset)
    opts += struct.pack(o + "HH", 0, 0)
    body = struct.pack(o + "HHI", 1, 0, 65535) + opts
    # replace the first interface with the odd one (interface 0 is what packets use)
    pos = 0
    while pos + 12 <= len(header):
        btype, blen = struct.unpack_from(o + "II", header, pos)
        if blen < 12:
            break
        if btype == 1:
            linktype = struct.unpack_from(o + "H", header, pos + 8)[0]
            body = struct.pack(o + "HHI", linktype, 0, 65535) + opts
            size = len(body) + 12
            block = struct.pack(o + "II", 1, size) + body + struct.pack(o + "I", size)
            return header[:pos] + bytearray(block) + header[pos + blen:]
        pos += blen
    return header


def mutant(samples: Sequence[Sample], seed: int) -> tuple[str, bytes, str]:
    """(sample name, mutant bytes, what was done) for ``seed``: deterministic."""
    rng = random.Random(seed)
    sample = samples[rng.randrange(len(samples))]
    start = rng.randrange(max(1, len(sample.records) - WINDOW + 1))
    records = [bytearray(r) for r in sample.records[start:start + rng.randint(1, WINDOW)]]
    header = bytearray(sample.header)
    done = [f"{sample.name}[{start}:{start + len(records)}]"]
    data_at = 16 if sample.kind == "pcap" else 28
    truncate = False
    for _ in range(rng.randint(1, 3)):
        how = rng.choice(("flip", "flip", "header", "reorder", "truncate", "idb"))
        if how == "flip":
            for rec in rng.sample(records, min(len(records), rng.randint(1, 4))):
                _flip_bits(rng, rec, data_at)
        elif how == "header":
            for rec in rng.sample(records, min(len(records), rng.randint(1, 2))):
                _corrupt_header(rng, sample, rec)
        elif how == "reorder":
            if rng.random() < 0.5:
                rng.shuffle(records)
            elif len(records) > 1:
                i, j = rng.randrange(len(records)), rng.randrange(len(records))
                records[i], records[j] = records[j], records[i]
        elif how == "idb":
            header = _corrupt_idb(rng, sample, header)
        else:
            truncate = True
        done.append(how)
    data = bytes(header) + b"".join(bytes(r) for r in records)
    if truncate:
        data = data[:rng.randrange(len(data) + 1)]
    return sample.name, data, " ".join(done)


@dataclass(frozen=True)
class Failure:
    """One command that crashed or exited with a code outside ALLOWED_EXIT_CODES."""

    seed: int
    what: str
    args: tuple[str, ...]
    exit_code: int | None
    detail: str

    def __str__(self) -> str:
        return (f"mutant seed {self.seed} ({self.what}): mipv6scope {' '.join(self.args)}"
                f" -> exit {self.exit_code}\n{self.detail}")


def _first_ts(path: str) -> str:
    """The first frame's time as --at takes it, or '#1' when none can be read."""
    from mipv6scope.capture.reader import open_capture

    try:
        for frame in open_capture(path):
            return repr(frame.ts)
    except Exception:  # noqa: BLE001 - a capture error is the commands' business
        pass
    return "#1"


def run_mutant(samples: Sequence[Sample], seed: int, work: Path,
               deadline: float | None = None) -> Iterator[Failure]:
    """Run every command on mutant ``seed``; yield what failed. Stops between
    commands once ``deadline`` (time.monotonic) has passed."""
    from click.testing import CliRunner

    from mipv6scope.cli.main import cli

    name, data, what = mutant(samples, seed)
    suffix = ".pcapng" if name.endswith(".pcapng") else ".pcap"
    capture = work / f"mutant{suffix}"
    capture.write_bytes(data)
    runner = CliRunner()
    for args in commands(str(capture), str(work), _first_ts(str(capture))):
        if deadline is not None and time.monotonic() > deadline:
            return
        result = runner.invoke(cli, args, catch_exceptions=True)
        exc = result.exception
        crashed = exc is not None and not isinstance(exc, SystemExit)
        output = result.output or ""
        if crashed or result.exit_code not in ALLOWED_EXIT_CODES or "Traceback (most recent" in output:
            detail = "".join(traceback.format_exception(exc)) if crashed and exc else output[-2000:]
            yield Failure(seed, what, tuple(a.replace(str(work), "$TMP") for a in args),
                          result.exit_code, detail)


def mutant_seeds(base: int) -> Iterator[int]:
    """The mutants' seeds of a run with seed ``base``, in order."""
    rng = random.Random(base)
    while True:
        yield rng.getrandbits(48)


def fuzz(base_seed: int, budget_s: float, samples: Sequence[Sample] | None = None,
         max_failures: int = 20, log=None) -> tuple[int, list[Failure]]:
    """Run mutants of ``base_seed`` for ``budget_s`` seconds; (mutants run, failures)."""
    samples = load_samples() if samples is None else samples
    deadline = time.monotonic() + budget_s
    failures: list[Failure] = []
    seen: set[tuple[str, str]] = set()
    n = 0
    with tempfile.TemporaryDirectory(prefix="mipv6scope-fuzz-") as tmp:
        for seed in mutant_seeds(base_seed):
            if time.monotonic() > deadline or len(failures) >= max_failures:
                break
            n += 1
            for failure in run_mutant(samples, seed, Path(tmp), deadline):
                key = (failure.args[0], failure.detail.strip().splitlines()[-1] if failure.detail.strip() else "")
                if key in seen:
                    continue
                seen.add(key)
                failures.append(failure)
                if log is not None:
                    log(str(failure))
    return n, failures


def main(argv: Sequence[str] | None = None) -> int:
    """The longer fuzz run; exit 1 when anything failed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=None, help="base seed (default: random, printed)")
    parser.add_argument("--minutes", type=float, default=5.0, help="time budget (default 5)")
    parser.add_argument("--mutant", type=int, default=None, help="run one mutant seed and stop")
    parser.add_argument("--write", type=Path, default=None, help="with --mutant: write the mutant here")
    args = parser.parse_args(argv)
    samples = load_samples()
    if args.mutant is not None:
        name, data, what = mutant(samples, args.mutant)
        if args.write is not None:
            args.write.write_bytes(data)
            print(f"wrote {args.write} ({what})")
        with tempfile.TemporaryDirectory(prefix="mipv6scope-fuzz-") as tmp:
            failures = list(run_mutant(samples, args.mutant, Path(tmp)))
        for f in failures:
            print(f, "\n")
        print(f"mutant {args.mutant} ({what}): {len(failures)} failure(s)")
        return 1 if failures else 0
    seed = args.seed if args.seed is not None else random.SystemRandom().getrandbits(32)
    print(f"fuzz_commands: base seed {seed}, {args.minutes:g} min, {len(samples)} samples", flush=True)
    started = time.monotonic()
    n, failures = fuzz(seed, args.minutes * 60, samples,
                       log=lambda text: print(text, "\n", flush=True))
    took = time.monotonic() - started
    print(f"{n} mutants x {len(commands('x', 'x', 'x'))} commands in {took:.0f} s "
          f"(base seed {seed}): {len(failures)} distinct failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO_ROOT))
    sys.exit(main())

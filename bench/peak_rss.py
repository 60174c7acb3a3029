"""Run a command as a child process and measure it as `/usr/bin/time -f %M` does.

A child forked straight from a benchmark process starts with that process's
resident pages counted in its peak (Linux keeps ``maxrss`` across fork and
exec), so wait4's ``ru_maxrss`` of a child of a large parent reports at least
the parent's size. `measured` runs the command under GNU time, whose own
process is small, and reads the peak RSS, user and system time it writes to
a file of its own (the command's stdout and stderr stay the command's).

The command runs as an installed package does: with its bytecode cached.
This machine's environment sets PYTHONDONTWRITEBYTECODE, which would make
every child compile every module it imports again (about 0.3 s a process
here); `measured` drops it from the child's environment and compiles the
source trees the child is given on PYTHONPATH (and this repository) once.
"""

from __future__ import annotations

import compileall
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

TIMER = shutil.which("time", path="/usr/bin:/bin") or "/usr/bin/time"
REPO = Path(__file__).resolve().parents[1]
_compiled: set[Path] = set()


def _with_bytecode(env: dict[str, str]) -> dict[str, str]:
    """``env`` without PYTHONDONTWRITEBYTECODE, the package's source trees compiled."""
    env = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    trees = [Path(p) for p in env.get("PYTHONPATH", "").split(os.pathsep) if p] + [REPO]
    for tree in trees:
        package = tree / "mipv6scope"
        if package.is_dir() and package not in _compiled:
            compileall.compile_dir(package, quiet=1)
            _compiled.add(package)
    return env


@dataclass
class Measured:
    """What one run of a command cost, and what it printed."""

    returncode: int
    wall_s: float
    peak_rss_bytes: int
    cpu_s: float
    stdout: str
    stderr: str

    @property
    def peak_rss_mib(self) -> float:
        """The peak RSS in MiB."""
        return self.peak_rss_bytes / (1 << 20)


def measured(cmd: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None,
             capture_stdout: bool = False) -> Measured:
    """Run ``cmd`` under GNU time; raise SystemExit when time itself is missing."""
    if not Path(TIMER).exists():
        raise SystemExit(f"{TIMER} not found: install GNU time (apt install time) to measure peak RSS")
    with tempfile.NamedTemporaryFile("r", suffix=".time") as out:
        start = time.perf_counter()
        proc = subprocess.run([TIMER, "-q", "-o", out.name, "-f", "%M %U %S", *cmd], cwd=cwd,
                              env=_with_bytecode(env if env is not None else dict(os.environ)), text=True,
                              stdout=subprocess.PIPE if capture_stdout else subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
        wall = time.perf_counter() - start
        fields = out.read().split()
    rss_kib, user, system = int(fields[-3]), float(fields[-2]), float(fields[-1])
    return Measured(proc.returncode, wall, rss_kib * 1024, user + system, proc.stdout or "", proc.stderr)

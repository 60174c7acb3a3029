"""Every command, in-process, over mutants of the sample captures (issue 11, Tests).

Mutants come from `bench/fuzz_commands.py` (bit flips, truncation,
record-header corruption, reordering, odd pcapng timestamp options), made
deterministically from a fixed base seed; the test runs as many as fit in its
time budget (``MIPV6SCOPE_FUZZ_SECONDS``, default 60). Any traceback, or an
exit code outside {0, 1, 2, 3}, fails it with the mutant's seed and command:
reproduce with ``python bench/fuzz_commands.py --mutant SEED``.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
BASE_SEED = 20261206
BUDGET_S = float(os.environ.get("MIPV6SCOPE_FUZZ_SECONDS", "60"))


def _fuzz_module() -> ModuleType:
    """bench/fuzz_commands.py as a module (bench/ is not a package)."""
    path = REPO_ROOT / "bench" / "fuzz_commands.py"
    spec = importlib.util.spec_from_file_location("fuzz_commands", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("fuzz_commands", module)
    spec.loader.exec_module(module)
    return module


fuzz_commands = _fuzz_module()


def test_mutants_are_deterministic() -> None:
    samples = fuzz_commands.load_samples()
    assert samples, "no sample captures"
    seeds = fuzz_commands.mutant_seeds(BASE_SEED)
    first = [next(seeds) for _ in range(5)]
    seeds = fuzz_commands.mutant_seeds(BASE_SEED)
    assert [next(seeds) for _ in range(5)] == first
    for seed in first:
        assert fuzz_commands.mutant(samples, seed) == fuzz_commands.mutant(samples, seed)


def test_every_command_survives_mutants_of_the_samples() -> None:
    if BUDGET_S <= 0:
        pytest.skip("MIPV6SCOPE_FUZZ_SECONDS is 0")
    n, failures = fuzz_commands.fuzz(BASE_SEED, BUDGET_S)
    assert n > 0
    assert not failures, (f"{len(failures)} failure(s) in {n} mutants (base seed {BASE_SEED}); "
                          "reproduce with python bench/fuzz_commands.py --mutant SEED\n\n"
                          + "\n\n".join(str(f) for f in failures))

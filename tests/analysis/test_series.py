"""`Series.advance` against the module docstring's rules worked out packet by
packet in plain lists: sparse counters (a packet every few bins, the path most
tunnel packets take), times that go back, times that are no number, and jumps
that coarsen many times at once."""

from __future__ import annotations

import math
import random
from collections import Counter

import pytest

from mipv6scope.analysis.series import FIRST_WIDTH_S, MAX_BINS, Series
from mipv6scope.report.model import TrafficSeries


def by_the_rules(times: list[float]) -> TrafficSeries:
    """Each packet past the open bin opens its own bin (bins merged in pairs and
    the width doubled until it fits; a time that is no positive finite offset:
    the first bin); every packet counts in the bin open when it comes."""
    start, width, counts, current, end = times[0], FIRST_WIDTH_S, [], 0, times[0]
    for ts in times:
        if ts >= end:
            at = (ts - start) / width
            if not at > 0 or at == math.inf:
                current = 0
            else:
                current = int(at)
                while current >= MAX_BINS:
                    counts = [sum(counts[j:j + 2]) for j in range(0, len(counts), 2)]
                    width *= 2
                    current = int((ts - start) / width)
            end = start + (current + 1) * width
        counts.extend([0] * (current + 1 - len(counts)))
        counts[current] += 1
    return TrafficSeries(start, width, tuple(counts))


def along_a_counter(times: list[float]) -> TrafficSeries:
    """What an analyzer does: `advance` only when a packet passes the open bin."""
    series, total = Series(times[0]), 0
    for ts in times:
        if ts >= series.end:
            series.advance(ts, total)
        total += 1
    frozen = series.freeze(total)
    assert series.freeze(total) == frozen  # freezing changes nothing
    return frozen


def sparse(seed: int, packets: int, mean_gap: float) -> list[float]:
    rng = random.Random(seed)
    times, ts = [], 1_700_000_000.0
    for _ in range(packets):
        times.append(ts)
        ts += rng.expovariate(1 / mean_gap)
    return times


@pytest.mark.parametrize(("seed", "packets", "mean_gap"),
                         [(1, 300, 0.4), (2, 2000, 0.12), (3, 50, 30.0), (4, 5000, 0.01)])
def test_sparse_and_dense_counters_bin_by_the_rules(seed: int, packets: int, mean_gap: float) -> None:
    times = sparse(seed, packets, mean_gap)
    got = along_a_counter(times)
    assert got == by_the_rules(times)
    assert sum(got.counts) == packets and len(got.counts) <= MAX_BINS and got.counts[-1] > 0


def test_times_that_go_back_count_in_the_open_bin() -> None:
    times = sparse(5, 3000, 0.07)
    rng = random.Random(6)
    for i in range(1, len(times) - 1):  # merged probes: neighbours swapped now and then
        if rng.random() < 0.2:
            times[i], times[i + 1] = times[i + 1], times[i]
    times[1000] -= 5.0  # one far back
    assert along_a_counter(times) == by_the_rules(times)


def test_times_that_are_no_number_and_jumps_far_ahead() -> None:
    start = 1_700_000_000.0
    times = [start, start + 0.01, math.nan, start + 0.2, start - 3.0, start + 0.05 * 7,
             start + 0.05 * 8, math.inf, start + 1.0, -math.inf, start + 1e6, start + 1e6 + 0.5,
             start + 3e6, math.nan, start + 3e6 + 1.0]
    got = along_a_counter(times)
    assert got == by_the_rules(times)
    assert sum(got.counts) == len(times) and got.width_s > 1e4


def test_a_bin_boundary_opens_the_next_bin() -> None:
    start = 100.0
    times = [start + k * FIRST_WIDTH_S for k in range(0, 600, 3)]  # exactly on boundaries, coarsened twice
    assert along_a_counter(times) == by_the_rules(times)


@pytest.mark.parametrize("past", [0.0, 0.5])
def test_a_packet_at_or_past_the_end_of_the_last_bin_coarsens(past: float) -> None:
    start = 1.0  # (start + 256 x 0.05 - start) / 0.05 is 256.0 exactly
    times = [start, start + 3.0, start + (MAX_BINS + past) * FIRST_WIDTH_S]
    got = along_a_counter(times)
    assert got == by_the_rules(times)
    assert got.width_s == 2 * FIRST_WIDTH_S and len(got.counts) == MAX_BINS // 2 + 1


def test_series_counts_every_packet_in_its_bin():
    rng = random.Random(7)
    start = 1_700_000_000.0
    times = sorted(start + rng.random() * 3600 for _ in range(20_000))
    frozen = along_a_counter(times)
    assert len(frozen.counts) <= MAX_BINS
    assert sum(frozen.counts) == len(times)
    expected = Counter(int((ts - times[0]) // frozen.width_s) for ts in times)
    assert {i: n for i, n in enumerate(frozen.counts) if n} == dict(expected)


def test_series_of_a_short_burst_keeps_fine_bins():
    frozen = along_a_counter([10.0 + i * 0.02 for i in range(100)])
    assert frozen.width_s == pytest.approx(0.05)
    assert sum(frozen.counts) == 100

"""`activity.Runs` and `silent` against the plain reading: every packet's time
kept as a point, sorted, and the largest gap between neighbours within the
window compared with the gap (what the handoff analyzer did before it kept
runs)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from mipv6scope.analysis.activity import MAX_RUNS, Runs, silent

GAP = 1.0
# quarter seconds over 12 s: gaps of exactly GAP and just past it are common
moments = st.integers(0, 48).map(lambda k: k * 0.25)
times = st.lists(moments, max_size=30)


def silent_by_points(points: list[float], packets: list[float], start: float, end: float) -> bool:
    seen = sorted({start, end, *points, *packets})
    seen = [ts for ts in seen if start <= ts <= end]
    return max((b - a for a, b in zip(seen, seen[1:], strict=False)), default=0.0) > GAP


@settings(max_examples=500, deadline=None)
@given(packets=times, other=times, points=st.lists(moments, max_size=4), start=moments, length=moments)
def test_silent_gives_the_answer_of_every_time_kept(packets, other, points, start, length):
    end = start + length
    runs, more = Runs(GAP), Runs(GAP)
    runs.add_all(packets)  # in any order: times may step back
    more.add_all(other)
    assert silent(points, (runs, None, more), start, end, GAP) == silent_by_points(
        points, packets + other, start, end)
    assert runs.first == (packets[0] if packets else None)


def test_a_stream_is_one_run_and_a_pause_opens_another():
    runs = Runs(GAP)
    runs.add_all([0.0, 0.5, 1.5, 2.4, 4.0, 4.2])
    assert runs.spans == [[0.0, 2.4], [4.0, 4.2]]
    assert silent([], [runs], 0.0, 4.2, GAP)            # 2.4 -> 4.0
    assert not silent([3.2], [runs], 0.0, 4.2, GAP)     # a BU at 3.2 fills the pause


def test_runs_stay_bounded_and_join_the_oldest():
    runs = Runs(GAP)
    runs.add_all(float(5 * i) for i in range(MAX_RUNS + 10))  # every packet alone
    assert len(runs.spans) == MAX_RUNS
    assert runs.spans[0] == [0.0, 5.0 * 10] and runs.spans[-1] == [5.0 * (MAX_RUNS + 9)] * 2

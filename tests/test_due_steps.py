"""due_steps: the one function that decides when each step fires."""

from __future__ import annotations

import pytest

from agent_memory import ConfigurationError
from agent_memory.core.due import HIGH_VOLUME, Counts, Thresholds, due_steps

DEFAULTS = Thresholds()


def due(
    tb: int,
    ta: int,
    ub: int | None = None,
    ua: int | None = None,
    ext: int = 0,
    t: Thresholds = DEFAULTS,
) -> tuple[bool, bool, bool, bool, int]:
    before = Counts(thread_turns=tb, user_turns=tb if ub is None else ub, extractions=ext)
    after = Counts(thread_turns=ta, user_turns=ta if ua is None else ua, extractions=ext)
    d = due_steps(before, after, t)
    return d.extract, d.reconcile, d.thread_summary, d.user_summary, d.extractions


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((0, 1), (True, False, False, False, 1)),  # every turn is extracted by default
        ((4, 5, 4, 5, 4), (True, True, False, False, 5)),  # the 5th extraction reconciles
        ((9, 10, 9, 10, 10), (True, False, True, False, 11)),  # 10 turns: thread summary
        (
            (9, 10, 19, 20, 19),
            (True, True, True, True, 20),
        ),  # 20 user turns: profile, 20th extraction
        ((3, 3), (False, False, False, False, 0)),  # nothing new, nothing due
        ((0, 25, 0, 25, 0), (True, False, True, True, 1)),  # a batch crossing 2 multiples: once
    ],
)
def test_defaults(args: tuple[int, ...], expected: tuple[object, ...]) -> None:
    assert due(*args) == expected


def test_zero_disables_a_step() -> None:
    off = Thresholds(fact_extraction_every_n=0, thread_summary_every_n=0, user_summary_every_n=0)
    assert due(0, 100, t=off) == (False, False, False, False, 0)
    no_dedup = Thresholds(dedup_every_n=0)
    assert due(4, 5, ext=4, t=no_dedup) == (True, False, False, False, 5)


def test_high_volume_profile() -> None:
    assert due(8, 9, t=HIGH_VOLUME)[0] is False
    assert due(9, 10, t=HIGH_VOLUME)[0] is True
    assert due(5, 17, t=HIGH_VOLUME)[:1] == (True,)
    assert due(40, 50, ext=4, t=HIGH_VOLUME) == (True, True, True, True, 5)


def test_thresholds_from_env() -> None:
    t = Thresholds.from_env({"FACT_EXTRACTION_EVERY_N": "3", "DEDUP_POOL_SIZE": "500"})
    assert (t.fact_extraction_every_n, t.dedup_pool_size, t.dedup_every_n) == (3, 500, 5)
    for bad in ({"DEDUP_POOL_SIZE": "501"}, {"DEDUP_EVERY_N": "-1"}, {"USER_SUMMARY_EVERY_N": "x"}):
        with pytest.raises(ConfigurationError, match=next(iter(bad))):
            Thresholds.from_env(bad)

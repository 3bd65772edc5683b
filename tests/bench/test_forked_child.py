"""bench.forked_child times training steps alone, beside a forked copy and after it, and a fork."""

import sys

import pytest

from bench.forked_child import STATES, forked_child, markdown


@pytest.mark.skipif(sys.platform != "linux", reason="forks")
def test_steps_are_timed_in_every_state_and_the_fork_itself_is_timed():
    report = forked_child(repeats=1, steps=1)
    assert list(report["step_ms"]) == list(STATES) and all(ms > 0 for ms in report["step_ms"].values())
    assert report["fork_ms"] > 0 and report["alive_over_alone"] > 0
    table = markdown(report, repeats=1, steps=1)
    assert "| a forked copy alive |" in table and "x** the step time alone" in table

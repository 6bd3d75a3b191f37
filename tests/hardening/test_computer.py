"""The computation process's supervisor (service.compute.Computer), on its own.

Each web worker sends its computations to one forked child over a pipe and waits with a
time budget. These tests drive it directly: answers and errors come back as they are, a
child that overruns or dies is replaced, and threads sharing a child each get their own
answer.
"""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from service import compute
from service.compute import ComputationFailed, Computer
from service.config import Limits
from service.errors import InvalidInput, TimeBudgetExceeded


def pid() -> int:
    return os.getpid()


def echo(value):
    return value


def sleep_then(seconds: float, value):
    time.sleep(seconds)
    return value


def refuse(message: str):
    raise InvalidInput("expression", message)


def unpicklable():
    return threading.Lock()


def die():
    os.kill(os.getpid(), signal.SIGKILL)


@pytest.fixture
def computer() -> Computer:
    # A memory cap of its own gives this test module its own child process.
    return Computer(Limits(time_budget_seconds=1, max_memory_mb=4000 + os.getpid() % 97))


def test_answers_and_errors_come_back_as_they_are(computer):
    assert computer.run(echo, {"a": [1, 2.5, "x"]}) == {"a": [1, 2.5, "x"]}
    assert computer.run(pid) != os.getpid()
    with pytest.raises(InvalidInput, match="fix this") as raised:
        computer.run(refuse, "fix this")
    assert raised.value.errors[0].field == "expression"


def test_an_overrun_is_stopped_at_the_budget_and_the_next_call_gets_a_new_process(computer):
    first = computer.run(pid)
    started = time.perf_counter()
    with pytest.raises(TimeBudgetExceeded, match="longer than 1 s"):
        computer.run(sleep_then, 30, "never")
    assert time.perf_counter() - started < 3
    assert computer.run(echo, 7) == 7
    assert computer.run(pid) != first


def test_a_child_killed_between_calls_is_replaced_without_an_error(computer):
    victim = computer.run(pid)
    os.kill(victim, signal.SIGKILL)
    time.sleep(0.1)
    assert computer.run(echo, "alive") == "alive"
    assert computer.run(pid) != victim


def test_a_child_that_dies_during_a_call_is_a_computation_failure_then_replaced(computer):
    with pytest.raises(ComputationFailed, match="ended abnormally"):
        computer.run(die)
    assert computer.run(echo, 1) == 1


def test_an_answer_that_cannot_be_sent_is_a_computation_failure(computer):
    with pytest.raises(ComputationFailed):
        computer.run(unpicklable)
    assert computer.run(echo, 2) == 2


def test_threads_sharing_the_child_each_get_their_own_answer(computer):
    answers: dict[int, object] = {}

    def call(i: int) -> None:
        answers[i] = computer.run(sleep_then, 0.01, i)

    threads = [threading.Thread(target=call, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == {i: i for i in range(8)}


def test_inline_computers_run_in_this_process():
    assert Computer(Limits(), isolated=False).run(pid) == os.getpid()


def teardown_module():
    for child in list(compute._CHILDREN.values()):
        child.stop()
    compute._CHILDREN.clear()


def doubled_and_column(array):
    """Arrays back: a new one and a view across rows (not contiguous), as batches return."""
    return {"doubled": array * 2, "column": array[:, 1], "small": array[:2, :2].copy()}


@pytest.mark.parametrize("rows", [
    10,                # small: every buffer through the pipe
    100_000,           # 1.6 MB: through the shared regions
    1_200_000,         # 19 MB: past a region, through the pipe again
])
def test_arrays_of_every_size_cross_both_ways_intact_and_writable(computer, rows):
    import numpy as np

    array = np.random.default_rng(rows).uniform(-1, 1, size=(rows, 2))
    for _ in range(2):  # the second call reuses the regions the first one wrote
        answer = computer.run(doubled_and_column, array)
        np.testing.assert_array_equal(answer["doubled"], array * 2)
        np.testing.assert_array_equal(answer["column"], array[:, 1])
        np.testing.assert_array_equal(answer["small"], array[:2, :2])
        assert answer["column"].flags.writeable and answer["doubled"].flags.writeable
        answer["doubled"][0, 0] = 7.0  # a copy of ours: the next call is not disturbed
        array = array + 1

"""The computation process's supervisor (service.compute.Computer), on its own.

Each web worker sends its computations to one forked child over a pipe and waits with a
time budget. These tests drive it directly: answers and errors come back as they are, a
child that overruns or dies is replaced, and threads sharing a child each get their own
answer.
"""

from __future__ import annotations

import gc
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


# -- small requests answered in the web worker (Computer.run_small) ---------------------------

def nothing():
    return None


def spin_then(seconds: float, value):
    """Python work (not one C call) for ``seconds``: what a signal can interrupt."""
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        pass
    return value


def refuse_here():
    raise InvalidInput("expression", "worded by the computation process")


def pid_of_any(*args) -> int:
    return os.getpid()


@pytest.fixture(params=["no alarm", "an alarm set"])
def alarm_untouched(request):
    """run_small leaves SIGALRM as it found it: the same handler, and the same alarm
    (none, or one set before, less the time spent: pytest-timeout's, say)."""
    def elsewhere(signum, frame):
        raise AssertionError("the alarm set before went off during the test")

    runner_alarm = signal.getitimer(signal.ITIMER_REAL)  # pytest-timeout's, if any
    before = signal.signal(signal.SIGALRM, elsewhere)
    signal.setitimer(signal.ITIMER_REAL, 100 if request.param == "an alarm set" else 0)
    try:
        yield
        assert signal.getsignal(signal.SIGALRM) is elsewhere
        left = signal.getitimer(signal.ITIMER_REAL)[0]
        assert 0 < left < 100 if request.param == "an alarm set" else left == 0
    finally:
        signal.signal(signal.SIGALRM, before)
        signal.setitimer(signal.ITIMER_REAL, *runner_alarm)


def test_a_small_answer_is_given_in_this_process(computer, alarm_untouched):
    assert computer.run_small(pid, pid) == os.getpid()
    assert computer.run_small(echo, pid, "small") == "small"


def test_without_a_small_answer_the_computation_process_answers(computer, alarm_untouched):
    assert computer.run_small(nothing, pid) != os.getpid()
    assert computer.run_small(None, pid) != os.getpid()


def test_a_failing_small_answer_leaves_the_error_to_the_computation_process(
        computer, alarm_untouched):
    assert computer.run_small(refuse_here, pid) != os.getpid()
    with pytest.raises(InvalidInput, match="fix this"):
        computer.run_small(refuse, refuse, "fix this")


def test_a_small_answer_past_its_time_is_stopped_and_handed_over(computer, alarm_untouched):
    # Unstopped, the spin would answer "finished here" after 30 s.
    answer = computer.run_small(spin_then, pid_of_any, 30, "finished here")
    assert answer != "finished here" and answer != os.getpid()  # the child's pid


def spin_with_gc_callbacks_then(seconds: float, value):
    """Python work with a gc callback that does Python work too (as hypothesis's does):
    where the timer's signal lands in the callback, an exception would be printed, not
    raised."""
    def callback(phase, info):  # most of the time: where a signal most likely lands
        if phase == "start":
            spin_then(0.01, None)

    gc.callbacks.append(callback)
    try:
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            spin_then(0.001, None)
            gc.collect(0)
    finally:
        gc.callbacks.remove(callback)
    return value


def test_a_small_answer_is_stopped_outside_gc_callbacks(computer, alarm_untouched):
    # Unstopped, the work would answer "finished here" after 5 s; an exception raised in
    # the callback would fail the test (pytest reports unraisable exceptions).
    answer = computer.run_small(spin_with_gc_callbacks_then, pid_of_any, 5, "finished here")
    assert answer != "finished here" and answer != os.getpid()  # the child's pid


def test_an_alarm_due_before_the_small_time_is_left_alone(computer):
    rang = []
    runner_alarm = signal.getitimer(signal.ITIMER_REAL)
    before = signal.signal(signal.SIGALRM, lambda signum, frame: rang.append(signum))
    try:
        signal.setitimer(signal.ITIMER_REAL, compute.SMALL_SECONDS)
        assert computer.run_small(pid, pid) != os.getpid()  # handed over
        assert rang or signal.getitimer(signal.ITIMER_REAL)[0] > 0  # the alarm kept
    finally:
        signal.signal(signal.SIGALRM, before)
        signal.setitimer(signal.ITIMER_REAL, *runner_alarm)


def alarm_left() -> float:
    return signal.getitimer(signal.ITIMER_REAL)[0]


def test_a_time_budget_below_the_small_time_bounds_the_attempt_too(alarm_untouched):
    tight = Computer(Limits(time_budget_seconds=0.02, max_memory_mb=4000 + os.getpid() % 97))
    assert 0 < tight.run_small(alarm_left, pid) <= 0.02 < compute.SMALL_SECONDS


def test_other_threads_hand_small_requests_over(computer):
    answers = []
    thread = threading.Thread(target=lambda: answers.append(computer.run_small(pid, pid)))
    thread.start()
    thread.join()
    assert answers and answers[0] != os.getpid()  # only the main thread may set a timer


def test_strict_computers_hand_every_request_over(alarm_untouched):
    strict = Computer(Limits(max_memory_mb=4000 + os.getpid() % 97), small_here=False)
    assert strict.run_small(pid, pid) != os.getpid()
    assert Computer(Limits(), isolated=False).run_small(nothing, pid) == os.getpid()


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

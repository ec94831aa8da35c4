"""RecognitionWorkers: a file that crashes, hangs or exhausts its worker costs that file
only. The targets in tests/crash_targets.py really crash their worker process
(SIGSEGV, a read of address 0, abort, _exit), loop, or allocate past the limit."""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fixtures.generate import invoice_ofd, invoice_pdf, qr_photo, vat_spec
from pytest_socket import socket_allow_hosts

import fapiao.recognize
from fapiao.catalogue.errors import HubError, Problem
from fapiao.recognize import RecognizedInvoice, recognize, recognize_here, use_workers
from fapiao.recognize.workers import RecognitionWorkers
from support import PROJECT_ROOT

pytestmark = pytest.mark.slow

TIMEOUT = 1.5
MEMORY_MB = 3072  # OCR reserves ~1.2 GiB of address space
TARGET = "crash_targets:misbehave"
PDF = invoice_pdf(vat_spec(11))
OFD = invoice_ofd(vat_spec(12))
PNG = qr_photo([vat_spec(13).qr_payload()], size=(600, 400), fmt="PNG")


def allow_unix_sockets(config: pytest.Config) -> None:
    """Workers come from multiprocessing's forkserver, asked over a Unix socket: local
    IPC, not a network. The loopback-only rule for IP stays as configured."""
    socket_allow_hosts(config.getoption("--allow-hosts"), allow_unix_socket=True)


@pytest.fixture(autouse=True)
def _unix_sockets(request: pytest.FixtureRequest) -> None:
    allow_unix_sockets(request.config)


@pytest.fixture(scope="module")
def pool(request: pytest.FixtureRequest) -> Iterator[RecognitionWorkers]:
    allow_unix_sockets(request.config)  # set up before the function-scoped fixtures
    workers = RecognitionWorkers(
        processes=2, timeout_seconds=TIMEOUT, memory_mb=MEMORY_MB, target=TARGET
    )
    try:
        yield workers
    finally:
        workers.close()


def refusal(call: Callable[[], object]) -> HubError:
    with pytest.raises(HubError) as caught:
        call()
    return caught.value


def gone(pid: int) -> bool:
    """No such process, or only its exit status is left."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in ("Z", "X")


def assert_serves(pool: RecognitionWorkers) -> None:
    """Both workers alive, and the pool reads a real invoice as the engine does here."""
    assert len(pool.pids) == 2
    for data in (PDF, OFD):
        assert pool.recognize(data) == recognize_here(data)


# --- a file that kills its worker ---------------------------------------------------


@pytest.mark.parametrize(
    ("order", "reason"),
    [
        (b"segfault", "the recognition worker crashed (signal 11, SIGSEGV)"),
        (b"null", "the recognition worker crashed (signal 11, SIGSEGV)"),
        (b"abort", "the recognition worker crashed (signal 6, SIGABRT)"),
        (b"exit 7", "the recognition worker exited with status 7"),
    ],
)
def test_a_worker_dying_on_a_file_costs_that_file_only(
    pool: RecognitionWorkers, order: bytes, reason: str
) -> None:
    before = set(pool.pids)
    error = refusal(lambda: pool.recognize(order))
    assert error.problem is Problem.UNRECOGNISABLE
    assert error.detail == f"the file could not be read: {reason}"
    after = set(pool.pids)
    assert len(before - after) == 1  # the dead worker was replaced by a fresh one
    assert not any(gone(pid) for pid in after)
    assert_serves(pool)


def test_calls_from_other_threads_go_on_while_workers_crash(pool: RecognitionWorkers) -> None:
    files = [PDF, OFD, PNG]
    expected = [recognize_here(data) for data in files]
    wrong: list[int] = []
    crashes: list[HubError] = []

    def read(first: int) -> None:
        for call in range(first, first + 9):
            if pool.recognize(files[call % 3]) != expected[call % 3]:
                wrong.append(call)

    def crash() -> None:
        for order in (b"segfault", b"abort", b"null", b"exit 1"):
            crashes.append(refusal(lambda order=order: pool.recognize(order)))

    threads = [threading.Thread(target=read, args=(n,)) for n in range(4)]
    threads.append(threading.Thread(target=crash))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads)
    assert wrong == []
    assert [c.problem for c in crashes] == [Problem.UNRECOGNISABLE] * 4
    assert len(pool.pids) == 2


# --- a file that hangs or eats memory ---------------------------------------------


def test_a_file_that_hangs_is_stopped_at_the_timeout(pool: RecognitionWorkers) -> None:
    started = time.monotonic()
    error = refusal(lambda: pool.recognize(b"loop"))
    took = time.monotonic() - started
    assert error.problem is Problem.UNRECOGNISABLE
    assert error.detail == "the file could not be read: recognition took longer than 1.5 seconds"
    assert TIMEOUT <= took < TIMEOUT + 3
    assert_serves(pool)


def test_a_file_that_needs_more_memory_than_a_worker_has_is_refused(
    pool: RecognitionWorkers,
) -> None:
    error = refusal(lambda: pool.recognize(b"hog 4096"))  # 4 GiB, the limit is 3 GiB
    assert error.problem is Problem.UNRECOGNISABLE
    assert error.detail == (
        "the file could not be read: it needs more than the 3072 MB of memory a recognition "
        "worker may use"
    )
    assert pool.recognize(b"hog 16") != []  # within the limit: read
    assert_serves(pool)


def test_the_engine_running_out_of_memory_in_a_worker_is_the_same_refusal(
    pool: RecognitionWorkers,
) -> None:
    before = set(pool.pids)
    error = refusal(lambda: pool.recognize(b"starve " + PNG))
    assert error.detail is not None and "3072 MB" in error.detail
    assert len(before - set(pool.pids)) == 1  # retired: a fresh worker took its place
    assert_serves(pool)


def test_the_engine_running_out_of_memory_in_process_is_unrecognisable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def out_of_memory(*_: object) -> list[RecognizedInvoice]:
        raise MemoryError

    monkeypatch.setattr("fapiao.recognize.image.recognize_image", out_of_memory)
    error = refusal(lambda: recognize_here(PNG))
    assert error.problem is Problem.UNRECOGNISABLE
    assert error.detail == "the png file could not be read: it needs more memory than is available"
    assert isinstance(error.__cause__, MemoryError)


# --- what the worker answers ------------------------------------------------------


def test_a_hub_error_raised_in_the_worker_comes_back_as_it_was(pool: RecognitionWorkers) -> None:
    error = refusal(lambda: pool.recognize(b"refuse the file has 99 pages"))
    assert (error.problem, error.detail) == (Problem.FILE_TOO_LARGE, "the file has 99 pages")
    damaged = b"%PDF-1.4\n" + os.urandom(2000)
    here = refusal(lambda: recognize_here(damaged))
    there = refusal(lambda: pool.recognize(damaged))
    assert (there.problem, there.detail) == (here.problem, here.detail)
    assert there.problem is Problem.UNRECOGNISABLE


def test_an_unexpected_error_in_the_worker_is_unrecognisable_and_logged_here(
    pool: RecognitionWorkers, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        error = refusal(lambda: pool.recognize(b"fail boom"))
    assert error.problem is Problem.UNRECOGNISABLE
    assert error.detail == "the file could not be read (ValueError: boom)"
    [record] = [r for r in caplog.records if r.name == "fapiao.recognize.workers"]
    assert record.levelno == logging.ERROR and record.process in pool.pids
    assert record.exc_text is not None and "ValueError: boom" in record.exc_text


# --- the pool ---------------------------------------------------------------------


def test_workers_ignore_sigint(pool: RecognitionWorkers) -> None:
    pids = pool.pids
    for pid in pids:
        os.kill(pid, signal.SIGINT)
    time.sleep(0.2)
    assert pool.pids == pids
    assert_serves(pool)


def test_callers_wait_for_a_free_worker(pool: RecognitionWorkers) -> None:
    answers: list[list[RecognizedInvoice]] = []
    threads = [
        threading.Thread(target=lambda: answers.append(pool.recognize(b"sleep 0.4")))
        for _ in range(4)
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert answers == [[]] * 4
    assert time.monotonic() - started >= 0.8  # two at a time


def test_recognize_hands_files_to_the_installed_pool(pool: RecognitionWorkers) -> None:
    asks_pid = b"%PDF-1.7 pid"  # a PDF to recognize's checks, an order to the target
    use_workers(pool)
    try:
        [pid] = recognize(asks_pid)
        assert pid in pool.pids and pid != os.getpid()
        assert recognize(PDF) == recognize_here(PDF)
        for refused in (b"", b"plain text"):  # refused at sight, in this process
            assert refusal(lambda r=refused: recognize(r)).detail == (
                refusal(lambda r=refused: recognize_here(r)).detail
            )
    finally:
        use_workers(None)
    assert fapiao.recognize._workers is None
    assert recognize(PDF) == recognize_here(PDF)
    assert refusal(lambda: recognize(asks_pid)).problem is Problem.UNRECOGNISABLE  # here


def test_the_default_target_reads_every_kind_of_file_as_in_process() -> None:
    files = [PDF, invoice_pdf(vat_spec(14), vector_qr=True), OFD, PNG]
    expected = [recognize_here(data) for data in files]
    wrong: list[int] = []
    with RecognitionWorkers(processes=2) as workers:

        def read(first: int) -> None:
            for call in range(first, first + 12):
                if workers.recognize(files[call % len(files)]) != expected[call % len(files)]:
                    wrong.append(call)

        threads = [threading.Thread(target=read, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert not any(thread.is_alive() for thread in threads)
    assert wrong == []
    assert all(e and e[0].invoice is not None for e in expected)


def test_close_stops_every_worker_and_the_calls_in_flight() -> None:
    workers = RecognitionWorkers(processes=2, target=TARGET)
    pids = workers.pids
    assert len(pids) == 2
    outcome: list[HubError] = []

    def stuck() -> None:
        outcome.append(refusal(lambda: workers.recognize(b"sleep 30")))

    caller = threading.Thread(target=stuck)
    caller.start()
    time.sleep(0.3)
    started = time.monotonic()
    workers.close()
    caller.join(10)
    assert time.monotonic() - started < 5
    assert [(e.problem, e.detail) for e in outcome] == [
        (Problem.INTERNAL, "the recognition workers are stopped")
    ]
    assert all(gone(pid) for pid in pids)
    assert workers.pids == []
    assert [c for c in multiprocessing.active_children() if c.pid in pids] == []
    assert refusal(lambda: workers.recognize(PDF)).problem is Problem.INTERNAL
    workers.close()  # twice: nothing happens


def test_a_target_that_does_not_load_fails_at_start() -> None:
    before = set(multiprocessing.active_children())
    with pytest.raises(RuntimeError, match="crash_targets:nowhere cannot be loaded"):
        RecognitionWorkers(processes=2, target="crash_targets:nowhere")
    assert set(multiprocessing.active_children()) <= before
    with pytest.raises(ValueError, match="module:function"):
        RecognitionWorkers(target="crash_targets")


# --- Ctrl-C and exit, in a process of its own ----------------------------------------

_CHILD = """
import sys
from fapiao.recognize.workers import RecognitionWorkers

if __name__ == "__main__":
    workers = RecognitionWorkers(processes=2, target="crash_targets:misbehave")
    print("ready", flush=True)
    if sys.argv[1] == "interrupt":
        try:
            workers.recognize(b"sleep 30")
        except KeyboardInterrupt:
            workers.close()
            print("closed", flush=True)
    else:
        [invoice] = workers.recognize(open(sys.argv[2], "rb").read())
        print(invoice.invoice.invoice_number, *workers.pids, flush=True)
        # and no close(): multiprocessing stops the workers at exit
"""


def child(*argv: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT / "tests")}
    return subprocess.Popen(
        [sys.executable, "-c", _CHILD, *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,  # a process group of its own, as a terminal's job
    )


def test_ctrl_c_in_a_terminal_prints_no_traceback_from_the_workers() -> None:
    process = child("interrupt")
    assert process.stdout is not None
    assert process.stdout.readline() == "ready\n"
    time.sleep(0.3)  # the call is in a worker now
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C does: the whole group
    out, err = process.communicate(timeout=20)
    assert (process.returncode, out, err) == (0, "closed\n", "")


def test_exiting_without_close_prints_nothing_and_leaves_no_worker(tmp_path: Path) -> None:
    (tmp_path / "invoice.pdf").write_bytes(PDF)
    process = child("exit", str(tmp_path / "invoice.pdf"))
    out, err = process.communicate(timeout=20)
    assert (process.returncode, err) == (0, "")
    ready, answer = out.splitlines()
    number, *pids = answer.split()
    assert (ready, number, len(pids)) == ("ready", vat_spec(11).invoice_number, 2)
    deadline = time.monotonic() + 5
    while not all(gone(int(pid)) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert all(gone(int(pid)) for pid in pids)

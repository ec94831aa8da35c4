"""Recognition in worker processes: a native library that crashes, hangs or eats memory on
one file costs that file, not the process that asked.

``RecognitionWorkers(processes, timeout_seconds, memory_mb, target)`` starts
``processes`` workers at once; each reads one file at a time with ``target`` (a
"module:function" taking the file's bytes and answering a list of
``RecognizedInvoice``; by default ``recognize_here``). ``recognize(data)`` waits for a
free worker, hands it the file and answers what the worker answered; ``HubError``
raised in the worker comes back as the same ``HubError``. When the worker dies on the
file (a signal, an exit), passes ``timeout_seconds`` (it is killed) or runs out of its
``memory_mb`` of address space, the call raises ``HubError(UNRECOGNISABLE)`` saying
so, the worker is replaced by a fresh one and every other call goes on. ``close()``
stops every worker.

Workers come from multiprocessing's forkserver (spawn where there is none): a clean
single-threaded server forks them, never the caller, whose threads may hold locks.
Workers ignore SIGINT (Ctrl-C in a terminal reaches the whole process group: the
caller handles it and closes the pool). What a worker logs is logged again by the
caller, under the same logger names.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import multiprocessing
import signal
import threading
from collections import deque
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection, wait
from multiprocessing.context import ForkServerContext, SpawnContext
from multiprocessing.process import BaseProcess
from typing import Any, cast

from fapiao.catalogue.errors import HubError, Problem
from fapiao.recognize.result import RecognizedInvoice

__all__ = ["RecognitionWorkers"]

logger = logging.getLogger(__name__)

DEFAULT_TARGET = "fapiao.recognize:recognize_here"
_START_SECONDS = 60.0  # a worker not ready by then is taken for broken
_STOP_SECONDS = 2.0  # a stopped worker's grace before it is killed
_CLOSE_SECONDS = 10.0  # close() waits this long for the calls in flight to end
_MIN_MEMORY_MB = 256  # below this a worker cannot even start Python and the engine

Recognize = Callable[[bytes], list[RecognizedInvoice]]


class RecognitionWorkers:
    """A pool of worker processes reading invoice files (see the module's docstring)."""

    def __init__(
        self,
        processes: int = 2,
        timeout_seconds: float = 60.0,
        memory_mb: int = 3072,
        target: str = DEFAULT_TARGET,
    ) -> None:
        if processes < 1:
            raise ValueError(f"processes must be at least 1, not {processes}")
        if not timeout_seconds > 0:
            raise ValueError(f"timeout_seconds must be positive, not {timeout_seconds}")
        if memory_mb < _MIN_MEMORY_MB:
            raise ValueError(f"memory_mb must be at least {_MIN_MEMORY_MB}, not {memory_mb}")
        module, _, function = target.partition(":")
        if not module or not function:
            raise ValueError(f"target must be 'module:function', not {target!r}")
        self._timeout = timeout_seconds
        self._memory_mb = memory_mb
        self._target = target
        self._log_level = logging.getLogger().getEffectiveLevel()
        self._context = _context()
        self._changed = threading.Condition()
        self._idle: deque[_Worker | None] = deque()  # None: a worker to start when taken
        self._busy: set[_Worker] = set()  # reading a file now
        self._calls = 0  # in recognize() past waiting for a worker
        self._closed = False
        started: list[_Worker] = []
        try:
            for _ in range(processes):  # all start at once, then each is awaited
                started.append(self._start())
            for worker in started:
                self._await_ready(worker)
        except BaseException:
            for worker in started:
                worker.stop()
            raise
        self._idle.extend(started)

    def __repr__(self) -> str:
        return (
            f"RecognitionWorkers(target={self._target!r}, timeout_seconds={self._timeout:g}, "
            f"memory_mb={self._memory_mb}, pids={self.pids})"
        )

    @property
    def pids(self) -> list[int]:
        """The process ids of the workers: idle ones alive now, and busy ones (whose
        state only the thread using them may look at)."""
        with self._changed:
            idle = [w.pid for w in self._idle if w is not None and w.alive()]
            return idle + [w.pid for w in self._busy]

    def recognize(self, data: bytes) -> list[RecognizedInvoice]:
        """What the target answers for the file ``data``, read by a free worker (waits for
        one). ``HubError`` as the target raised it, or UNRECOGNISABLE when the worker
        crashed, hung or ran out of memory on the file; INTERNAL when the pool is closed
        or no worker can start."""
        taken = self._take()
        worker: _Worker | None = None
        try:
            worker = taken if taken is not None and taken.alive() else self._fresh(taken)
            return self._ask(worker, data)
        finally:
            self._give_back(worker)

    def close(self) -> None:
        """Stop every worker: idle ones at once, busy ones killed (their callers hear the
        pool was closed). Waits for the calls in flight to end. Idempotent."""
        with self._changed:
            self._closed = True
            idle = [w for w in self._idle if w is not None]
            self._idle.clear()
            busy = list(self._busy)
            self._changed.notify_all()
        for worker in busy:
            worker.kill()
        for worker in idle:
            worker.stop()
        with self._changed:
            self._changed.wait_for(lambda: self._calls == 0, timeout=_CLOSE_SECONDS)

    def __enter__(self) -> RecognitionWorkers:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- the pool ---------------------------------------------------------------------

    def _take(self) -> _Worker | None:
        with self._changed:
            self._changed.wait_for(lambda: self._closed or bool(self._idle))
            if self._closed:
                raise _stopped()
            self._calls += 1
            return self._idle.popleft()

    def _give_back(self, worker: _Worker | None) -> None:
        if worker is not None and not worker.alive():
            worker.stop()
            worker = self._replacement()
        with self._changed:
            self._calls -= 1
            if not self._closed:
                self._idle.append(worker)
                self._changed.notify_all()
                return
            self._changed.notify_all()
        if worker is not None:
            worker.stop()

    def _fresh(self, old: _Worker | None) -> _Worker:
        """A new worker in place of ``old`` (dead, or never started); INTERNAL if none
        can start."""
        if old is not None:
            old.stop()
        try:
            worker = self._start()
        except (OSError, ValueError) as error:
            raise _cannot_start(str(error)) from error
        try:
            self._await_ready(worker)
        except _StartFailed as error:
            worker.stop()
            raise _cannot_start(str(error)) from error
        except BaseException:
            worker.stop()
            raise
        return worker

    def _replacement(self) -> _Worker | None:
        with self._changed:
            if self._closed:
                return None
        try:
            return self._fresh(None)
        except HubError as error:
            logger.error("a recognition worker could not be replaced: %s", error.detail)
            return None  # the next call that takes this slot tries again

    def _start(self) -> _Worker:
        mine, theirs = self._context.Pipe(duplex=True)
        process = self._context.Process(
            target=_serve,
            args=(theirs, self._target, self._memory_mb, self._log_level),
            name="fapiao-recognition",
            daemon=True,
        )
        try:
            with _sigint_ignored():
                process.start()
        except BaseException:
            mine.close()
            raise
        finally:
            theirs.close()  # the worker holds its own copy: its death is our EOF
        return _Worker(process, mine)

    def _await_ready(self, worker: _Worker) -> None:
        message = worker.receive(_START_SECONDS)
        if message is None:
            reason = (
                f"not ready after {_START_SECONDS:g} seconds"
                if worker.timed_out
                else worker.lost_reason()
            )
            raise _StartFailed(f"the recognition worker did not start ({reason})")
        kind, payload, _ = message
        if kind != "ready":
            raise _StartFailed(f"the recognition worker did not start: {payload}")

    def _ask(self, worker: _Worker, data: bytes) -> list[RecognizedInvoice]:
        with self._changed:
            if self._closed:
                raise _stopped()
            self._busy.add(worker)
        try:
            message = worker.exchange(data, self._timeout)
        except BaseException:  # KeyboardInterrupt: its answer would reach the next caller
            worker.retire()
            worker.kill()
            raise
        finally:
            with self._changed:
                self._busy.discard(worker)
                closed = self._closed
        if message is None:
            if closed:
                raise _stopped()
            if worker.timed_out:
                reason = f"recognition took longer than {self._timeout:g} seconds"
            else:
                reason = worker.lost_reason()
            logger.warning("recognition worker %s lost on a file: %s", worker.pid, reason)
            raise HubError(Problem.UNRECOGNISABLE, f"the file could not be read: {reason}")
        kind, payload, records = message
        _log_again(records)
        if kind == "ok" and isinstance(payload, list):
            return cast(list[RecognizedInvoice], payload)
        if kind == "hub_error":
            problem, detail = payload
            raise HubError(Problem(problem), detail)
        if kind == "memory":
            worker.retire()  # replaced: a native library may not survive its failed malloc
            raise HubError(
                Problem.UNRECOGNISABLE,
                f"the file could not be read: it needs more than the {self._memory_mb} MB "
                "of memory a recognition worker may use",
            )
        raise HubError(Problem.UNRECOGNISABLE, f"the file could not be read ({payload})")


class _Worker:
    """One worker process and the parent's end of its pipe. Used by one thread at a time
    (the one that took it from the pool); ``kill`` may come from ``close``."""

    def __init__(self, process: BaseProcess, connection: Connection) -> None:
        self.process = process
        self.pid = process.pid or 0
        self.connection = connection
        self.timed_out = False
        self._retired = False

    def alive(self) -> bool:
        return not self._retired and not self.timed_out and self.process.is_alive()

    def retire(self) -> None:
        self._retired = True

    def exchange(self, data: bytes, timeout: float) -> tuple[str, Any, list[Any]] | None:
        """The worker's answer for ``data``, or None when it died or timed out."""
        try:
            self.connection.send_bytes(data)
        except OSError:  # it died before reading the file
            return None
        return self.receive(timeout)

    def receive(self, timeout: float) -> tuple[str, Any, list[Any]] | None:
        ready = wait([self.connection, self.process.sentinel], timeout)
        if not ready:
            self.timed_out = True
            self.kill()
            return None
        if self.connection not in ready and not self.connection.poll():
            return None  # died with nothing to say
        try:
            message = self.connection.recv()
        except (EOFError, OSError):
            return None
        return cast(tuple[str, Any, list[Any]], message)

    def lost_reason(self) -> str:
        """Why the worker is gone, from its exit code."""
        self.process.join(_STOP_SECONDS)
        code = self.process.exitcode
        if code is None:
            return "the recognition worker stopped answering"
        if code >= 0:
            return f"the recognition worker exited with status {code}"
        number = -code
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = "unknown signal"
        if number == signal.SIGKILL:
            return (
                f"the recognition worker was killed (signal {number}, {name}; "
                "the system may have run out of memory)"
            )
        return f"the recognition worker crashed (signal {number}, {name})"

    def kill(self) -> None:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            self.process.kill()

    def stop(self) -> None:
        """Ask the worker to end (EOF on its pipe), kill it after a grace; reap it and
        let go of its file descriptors. Nothing may use the worker afterwards."""
        self._retired = True
        with contextlib.suppress(OSError):
            self.connection.close()
        self.process.join(_STOP_SECONDS)
        if self.process.exitcode is None:
            self.kill()
            self.process.join(_STOP_SECONDS)
        with contextlib.suppress(ValueError):  # still running after a kill: left to exit
            self.process.close()


class _StartFailed(RuntimeError):
    """A worker that did not start (a target that does not load, no resources)."""


def _stopped() -> HubError:
    return HubError(Problem.INTERNAL, "the recognition workers are stopped")


def _cannot_start(reason: str) -> HubError:
    return HubError(Problem.INTERNAL, f"no recognition worker could be started: {reason}")


def _context() -> ForkServerContext | SpawnContext:
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" not in methods:
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    # The server imports these once; every worker it forks has them already. Only the
    # first server start in a process reads this list.
    context.set_forkserver_preload(["__main__", __name__])
    return context


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """SIGINT ignored while a process starts, when this is the main thread: the new
    interpreter (the forkserver, or a spawned worker) is born ignoring it, so a Ctrl-C
    while it imports prints no traceback. Elsewhere the worker ignores it once running."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)
    if previous is None:  # set outside Python: leave it alone
        yield
        return
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _log_again(records: list[Any]) -> None:
    for record in records:
        if isinstance(record, logging.LogRecord):
            named = logging.getLogger(record.name)
            if named.isEnabledFor(record.levelno):
                named.handle(record)


# --- in the worker ----------------------------------------------------------------------


def _serve(connection: Connection, target: str, memory_mb: int, log_level: int) -> None:
    """A worker's life: answer one file after another until the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _limit_memory(memory_mb)
    records = _Collector(log_level)
    try:
        function = _load(target)
    except Exception as error:
        connection.send(("failed", f"{target} cannot be loaded ({error})", []))
        return
    connection.send(("ready", None, []))
    while True:
        try:
            data = connection.recv_bytes()
        except (EOFError, OSError):
            return  # closed by the pool, or the caller is gone
        kind, payload = _answer(function, data)
        message = (kind, payload, records.take())
        try:
            connection.send(message)
        except Exception as error:  # an answer that does not pickle
            connection.send(("error", f"the answer could not be sent: {error}", []))
        if kind == "memory":
            return  # replaced by a fresh worker


def _answer(function: Recognize, data: bytes) -> tuple[str, object]:
    try:
        return "ok", function(data)
    except HubError as error:
        if isinstance(error.__cause__, MemoryError):
            return "memory", None
        return "hub_error", (error.problem.value, error.detail)
    except MemoryError:
        return "memory", None
    except Exception as error:
        logger.exception("recognition failed in a worker")
        return "error", f"{type(error).__name__}: {error}"


def _load(target: str) -> Recognize:
    module_name, _, name = target.partition(":")
    function = getattr(importlib.import_module(module_name), name)
    if not callable(function):
        raise TypeError(f"{target} is not a function")
    return cast(Recognize, function)


def _limit_memory(memory_mb: int) -> None:
    try:
        import resource
    except ImportError:  # not on this platform: the worker runs without a limit
        return
    limit = memory_mb * 1024 * 1024
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


class _Collector(logging.Handler):
    """The worker's log records, made picklable, until the next answer takes them."""

    def __init__(self, level: int) -> None:
        super().__init__(level)
        self._records: list[logging.LogRecord] = []
        root = logging.getLogger()
        root.handlers = [self]
        root.setLevel(level)

    def emit(self, record: logging.LogRecord) -> None:
        record.msg = record.getMessage()
        record.args = None
        if record.exc_info:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        self._records.append(record)

    def take(self) -> list[logging.LogRecord]:
        taken, self._records = self._records, []
        return taken

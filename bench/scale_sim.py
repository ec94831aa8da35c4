"""Month-end at scale, on paper: a discrete-event model of the ingest pipeline.

    .venv/bin/python bench/scale_sim.py [--rate 100] [--max-concurrency N] [--per-day 1000000]
        [--days 30] [--after 1] [--verify-concurrency N] [--recognise-concurrency N]
        [--sized] [--mix pdf=0.7,ocr_photo=0.15,...] [--cost bench/results/cost.json]
        [--plot docs/month-end.png] [--step 10]

Drops arrive in the S3 drop queue, the drop function (the SQS event source, at most
``--max-concurrency`` instances taking batches of ``--batch-size``) starts one execution
per file, the file is recognised (the recognise task's reserved concurrency bounds how
many at once), waits for its turn at the verification provider (a global limit of
``--rate`` calls per second), is verified, created and published. The script prints,
for an ordinary day, each month-end day and the days after, the invoices dropped, the
peak queue depths, p50 / p95 / max time from drop to outcome, the provider's
utilisation, the peak Lambda concurrency and the AWS cost of the day, and the
concurrency settings sized for the provider's limit (``--sized`` runs with them); it
draws queue depth and latency through the month-end (docs/month-end.png, shown in the
README). It asserts nothing.

Inputs. bench/cost.py writes ``bench/results/cost.json``; when present, this script takes
from it, per kind (pdf, duplicate, ocr_photo, async_provider, unreadable; other names
matched loosely): the AWS cost per 1,000 files (``kinds.<kind>.cost.us-east-1.total``,
or a number under a key naming "1000"), the Lambda seconds per function
(``kinds.<kind>.lambda_by_function.<Function>.seconds``: recognise, verify, create, the
rest after the turn counted as publishing; the drop function is ``--drop-batch-s``) and
the mix (``mix``). The local hub's provider answers at once, so a paid call adds
``--provider-latency`` to the verify step. Whatever is missing comes from the defaults
below (``default_kinds``), measured on this machine (2-core x86) with
bench/recognize_pdf.py, bench/create_invoice.py and bench/verify_cache.py plus the AWS
round trips each step makes. The concurrency settings default to template.yaml's (the
drop queue event source's ``ScalingConfig.MaximumConcurrency`` and ``BatchSize``, the
recognise and verify tasks' ``ReservedConcurrentExecutions``); the flags override them.

Assumptions of the model:
- A month of ``--month-days`` days (30) carries ``--per-day`` x that many invoices; 30 %
  of them (``--month-end-share``) arrive in its last two days, the rest spread evenly
  over the other days. Every day has the same working-hours profile (Asia/Shanghai,
  HOURLY below: office hours, a lunch dip, a quiet night); weekends are not modelled.
- The simulation covers the last ``--days`` days of the month and ``--after`` days of
  the next one (normal load), and more days (30 at most) until no file waits at a
  day's end, so the month-end backlog can drain; it starts empty.
- Aggregated time steps, not per-invoice events: 30 million invoices as SimPy events
  would take far too long, so SimPy advances the clock in steps of ``--step`` seconds and
  each step moves counts between queues (a fluid model). Within a step arrivals are
  spread evenly; arrivals are the profile's expected counts (no random noise), so there
  is no queueing below capacity: the waits shown are those of capacity, not of chance.
- Every queue is first in, first out. Time from drop to outcome = the waits in front of
  each stage (from the cumulative curves, interpolated within a step) + the file's own
  step times (by kind, in the mix's proportions). Between stages a file takes the
  mix's mean step time.
- The recognise task with reserved concurrency C takes at most C / (mean recognise
  time) files a second; the throttled rest waits for a retry (the state machine's).
- The drop function handles a batch of ``--batch-size`` messages in ``--drop-batch-s``
  seconds (one StartExecution per file), so the event source drains at most
  max-concurrency x batch / drop-batch-s files a second; the rest waits in SQS.
- Waiting for a provider turn happens outside running code (an SQS delay or a Step
  Functions wait on a reserved slot), costs no Lambda time, and its cost does not
  depend on its length (one slot reservation and one wait, inside cost.json's figure).
  Files wait for their turn in order, including those that will make no paid call (a
  cached verification, a duplicate): their turn costs no provider call.
- The provider serves at most ``--rate`` calls a second (the sliding-window limit held
  globally; the AIMD back-off is not modelled: the provider is assumed never to
  answer busy below the configured rate). A paid call also holds a verify Lambda for
  its duration, so with ``--verify-concurrency`` V the rate is at most V / verify time.
- Lambda concurrency = the rate each function starts x its duration (Little's law),
  averaged over a step; cold starts, retries and the account's burst limits are not
  modelled. The peak is compared with ``--account-concurrency`` (1,000 by default).
- Cost of a day = the outcomes of the day x the cost per invoice of their kind.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import simpy

ROOT = Path(__file__).resolve().parents[1]
COST_JSON = ROOT / "bench" / "results" / "cost.json"
PLOT = ROOT / "docs" / "month-end.png"
DAY = 86_400.0
HOUR = 3_600.0

# Share of a day's drops in each hour, Asia/Shanghai (0:00-1:00 first): an office day.
HOURLY = (
    0.4, 0.2, 0.1, 0.1, 0.1, 0.2, 0.5, 1.5, 4.0, 8.5, 10.0, 9.0,
    5.0, 6.5, 9.5, 10.0, 9.5, 8.0, 4.0, 2.5, 2.2, 1.8, 1.4, 1.0,
)  # fmt: skip

# AWS round trips a step makes, in seconds (same region, warm connections): assumed.
DYNAMODB_S = 0.006
S3_GET_S = 0.030
EVENTS_S = 0.020


@dataclass(frozen=True)
class Kind:
    """One kind of dropped file: its step times (Lambda durations, s), its paid provider
    calls and its AWS cost per invoice (USD, paid verification excluded)."""

    name: str
    share: float
    recognise_s: float
    verify_s: float  # 0: no verify task; includes the provider's answer when calls > 0
    create_s: float
    publish_s: float
    calls: float  # paid provider calls per file
    wait_s: float = 0.0  # waits outside code (the asynchronous provider's polls)
    usd: float = 0.0

    def service_s(self, drop_batch_s: float) -> float:
        return drop_batch_s + self.recognise_s + self.after_turn_s

    @property
    def after_turn_s(self) -> float:
        return self.wait_s + self.verify_s + self.create_s + self.publish_s


def default_kinds(provider_s: float) -> dict[str, Kind]:
    """Step times measured on this machine (CPU in one process, warm) plus round trips:
    recognising a one-page PDF 2.7 ms (bench/recognize_pdf.py, median of 14 files); a
    taxi photo by OCR 1.3-3.1 s on one core (template.yaml's RecognizeFunction); verifying
    6.4 ms uncached with 6 DynamoDB requests, 1.3-2.4 ms cached with 1-2 (verify_cache.py);
    creating 4.3 ms with 3 DynamoDB requests (create_invoice.py); publishing the outcome:
    2 DynamoDB writes and one EventBridge event (assumed). Costs: a rough estimate from
    list prices (Express workflow, Lambda at the template's memory sizes, DynamoDB
    on demand); bench/cost.py measures them."""
    read = 0.0027 + S3_GET_S
    verify_paid = 0.0064 + 6 * DYNAMODB_S + provider_s
    verify_cached = 0.0024 + 2 * DYNAMODB_S
    create = 0.0043 + 3 * DYNAMODB_S
    publish = 2 * DYNAMODB_S + EVENTS_S
    return {
        "pdf": Kind("pdf", 0.70, read, verify_paid, create, publish, 1, usd=0.000030),
        "duplicate": Kind("duplicate", 0.05, read, verify_cached, create, publish, 0, usd=0.000025),
        "ocr_photo": Kind(
            "ocr_photo", 0.15, 2.0 + S3_GET_S, verify_paid, create, publish, 1, usd=0.000095
        ),
        # identify, then polls after 2 s and 4 s (the settings' first waits), then verify
        "async_provider": Kind(
            "async_provider", 0.08, read + provider_s, verify_paid + provider_s, create,
            publish, 1, wait_s=6.0, usd=0.000060,
        ),
        "unreadable": Kind("unreadable", 0.02, read, 0.0, 0.0, publish, 0, usd=0.000012),
    }  # fmt: skip


# Names a kind may carry in cost.json (bench/cost.py's names first).
ALIASES = {
    "pdf": ("pdf",),
    "ocr_photo": ("ocr_photo", "photo", "ocr", "picture"),
    "duplicate": ("duplicate",),
    "unreadable": ("unreadable", "unrecognis", "unrecogniz"),
    "async_provider": ("async_provider", "async", "identify"),
}
# Which step a function's Lambda seconds belong to (cost.json's lambda_by_function).
STEP_OF_FUNCTION = (
    ("drop", "recognise_s"),  # replaced below by --drop-batch-s: not counted twice
    ("poll", "recognise_s"),
    ("identify", "recognise_s"),
    ("recogni", "recognise_s"),
    ("verify", "verify_s"),
    ("create", "create_s"),
)
REGIONS = ("us-east-1", "global", "usd")


def _entry(table: Mapping[str, Any], name: str) -> Any:
    if name in table:
        return table[name]
    for alias in ALIASES[name]:
        for key, value in table.items():
            if alias in str(key).lower():
                return value
    return None


def _usd_per_1000(entry: Mapping[str, Any]) -> float | None:
    """cost.py's {"cost": {"us-east-1": {"total": ...}}}, or a number under a key naming
    "1000" (a mapping by region: its global / us-east-1 figure)."""
    cost = entry.get("cost")
    if isinstance(cost, Mapping):
        for region in REGIONS:
            figure = cost.get(region)
            if isinstance(figure, Mapping) and isinstance(figure.get("total"), int | float):
                return float(figure["total"])
            if isinstance(figure, int | float):
                return float(figure)
    for key, value in entry.items():
        if "1000" not in str(key):
            continue
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, Mapping):
            for region in REGIONS:
                if isinstance(value.get(region), int | float):
                    return float(value[region])
    return None


def _steps(entry: Mapping[str, Any]) -> dict[str, float]:
    """Seconds per step from cost.py's lambda_by_function ({"RecognizeFunction":
    {"seconds": ...}, ...}: a file's mean handler seconds per function); the functions
    after the turn that are not verify or create count as publishing."""
    functions = entry.get("lambda_by_function")
    if not isinstance(functions, Mapping):
        return {}
    steps: dict[str, float] = {}
    for function, figures in functions.items():
        seconds = figures.get("seconds") if isinstance(figures, Mapping) else None
        if not isinstance(seconds, int | float):
            continue
        lowered = str(function).lower()
        step = next((s for part, s in STEP_OF_FUNCTION if part in lowered), "publish_s")
        if "drop" not in lowered:
            steps[step] = steps.get(step, 0.0) + float(seconds)
    return steps


def kinds_from_cost(
    data: Any, kinds: dict[str, Kind], provider_s: float
) -> tuple[dict[str, Kind], list[str]]:
    """Kinds updated from cost.json's figures, and what was taken (for the report). The
    local hub's provider answers at once: a paid call's verify step gets the provider's
    latency added."""
    if not isinstance(data, Mapping):
        return kinds, []
    table = data.get("kinds")
    if not isinstance(table, Mapping):
        table = data
    taken, result = [], dict(kinds)
    for name, kind in kinds.items():
        entry = _entry(table, name)
        if not isinstance(entry, Mapping):
            continue
        changes = _steps(entry)
        if "verify_s" in changes and kind.calls:
            changes["verify_s"] += provider_s * kind.calls
        per_1000 = _usd_per_1000(entry)
        if per_1000 is not None:
            changes["usd"] = per_1000 / 1000
        if changes:
            result[name] = replace(kind, **changes)  # type: ignore[arg-type]
            taken.append(f"{name}: {', '.join(k.removesuffix('_s') for k in sorted(changes))}")
    return result, taken


def mix_of(data: Any) -> str | None:
    """cost.json's mix ({"pdf": 0.7, ...}) as a --mix text, if it has one."""
    mix = data.get("mix") if isinstance(data, Mapping) else None
    if not isinstance(mix, Mapping):
        return None
    table = {str(k): v for k, v in mix.items() if isinstance(v, int | float)}
    shares = {name: _entry(table, name) for name in ALIASES}
    return ",".join(f"{n}={v}" for n, v in shares.items() if v) or None


def with_mix(kinds: dict[str, Kind], mix: str | None) -> dict[str, Kind]:
    shares = {k.name: k.share for k in kinds.values()}
    if mix:
        shares = {name: 0.0 for name in kinds}
        for part in mix.split(","):
            name, _, share = part.partition("=")
            if name.strip() not in kinds:
                raise SystemExit(f"unknown kind {name!r}: one of {', '.join(kinds)}")
            shares[name.strip()] = float(share)
    total = sum(shares.values())
    if total <= 0:
        raise SystemExit("the mix has no share")
    return {n: replace(k, share=shares[n] / total) for n, k in kinds.items() if shares[n] > 0}


@dataclass(frozen=True)
class Config:
    per_day: float = 1_000_000  # average over the month
    month_days: int = 30
    month_end_days: int = 2
    month_end_share: float = 0.30
    days: int = 30  # the month's last days simulated
    after: int = 1  # days of the next month simulated after it
    rate: float = 100.0  # provider calls per second, all containers together
    max_concurrency: int = 10  # drop queue event source's ScalingConfig.MaximumConcurrency
    batch_size: int = 10
    drop_batch_s: float = 0.35  # one drop function run: 10 StartExecution calls
    verify_concurrency: int = 0  # verify task's reserved concurrency; 0: unbounded
    recognise_concurrency: int = 0  # recognise task's reserved concurrency; 0: unbounded
    account_concurrency: int = 1000
    step: float = 10.0  # seconds a simulation step aggregates

    def day_volume(self, day: int) -> float:
        """Invoices dropped on simulated day ``day`` (0-based)."""
        month_day = self.month_days - self.days + day  # 0-based day of the month
        if month_day >= self.month_days:  # the next month, before its own month-end
            month_day = 0
        month = self.per_day * self.month_days
        if month_day >= self.month_days - self.month_end_days:
            return month * self.month_end_share / self.month_end_days
        return month * (1 - self.month_end_share) / (self.month_days - self.month_end_days)

    def rate_at(self, t: float) -> float:
        """Drops per second at ``t`` seconds from the start."""
        day, into = divmod(t, DAY)
        return self.day_volume(int(day)) * HOURLY[int(into // HOUR)] / sum(HOURLY) / HOUR


@dataclass(frozen=True)
class Stage:
    """A step with a capacity: files wait in front of it (``queue``), then take its
    ``delay`` seconds (mean over the kinds) before the next stage."""

    name: str
    queue: str  # where files wait for it
    per_second: float  # files it takes a second at most
    delay: float  # seconds from taking a file to the next stage's queue (or the outcome)
    lambdas: float  # Lambda seconds per file it takes (concurrency = rate x this)


def stages(config: Config, kinds: dict[str, Kind]) -> list[Stage]:
    def mean(attribute: str) -> float:
        return sum(k.share * float(getattr(k, attribute)) for k in kinds.values())

    c = config
    recognise, verify = mean("recognise_s"), mean("verify_s")
    calls = mean("calls")
    recognising = c.recognise_concurrency / recognise if c.recognise_concurrency else math.inf
    turns = c.rate / calls if calls else math.inf
    verifying = c.verify_concurrency / verify if c.verify_concurrency and verify else math.inf
    return [
        Stage(
            "drop function", "drop queue (SQS)",
            c.max_concurrency * c.batch_size / c.drop_batch_s, c.drop_batch_s,
            c.drop_batch_s / c.batch_size,
        ),
        Stage("recognise", "throttled recognise tasks", recognising, recognise, recognise),
        Stage(
            "provider turn", "waiting for a provider turn (outside code)", min(turns, verifying),
            mean("after_turn_s"), verify + mean("create_s") + mean("publish_s"),
        ),
    ]  # fmt: skip


@dataclass
class Run:
    """Cumulative counts at every step boundary (index k: time k x step): ``arrived``,
    then for each stage (rows) the files that reached its queue and those it took."""

    config: Config
    kinds: dict[str, Kind]
    stages: list[Stage]
    arrived: np.ndarray
    ready: np.ndarray
    taken: np.ndarray
    concurrency: np.ndarray  # per stage, during each step (one fewer column)
    seconds: float = 0.0  # wall time of the simulation

    @property
    def times(self) -> np.ndarray:
        return np.arange(len(self.arrived)) * self.config.step

    @property
    def calls_per_file(self) -> float:
        return sum(k.share * k.calls for k in self.kinds.values())

    def calls(self) -> np.ndarray:
        calls: np.ndarray = self.taken[-1] * self.calls_per_file
        return calls

    def waiting(self, stage: int) -> np.ndarray:
        waiting: np.ndarray = self.ready[stage] - self.taken[stage]
        return waiting

    def done(self) -> np.ndarray:
        """Cumulative outcomes at each step boundary."""
        t = self.times
        done: np.ndarray = np.interp(t - self.stages[-1].delay, t, self.taken[-1])
        return done

    def total_concurrency(self) -> np.ndarray:
        total: np.ndarray = self.concurrency.sum(axis=0)
        return total

    @property
    def backlog(self) -> float:
        return float(self.arrived[-1] - self.done()[-1])


class Pipeline:
    """The SimPy model: one process adds each step's drops, one per stage moves files
    from its queue through it. SimPy runs the events of one instant in the order they
    were scheduled, so every step runs the arrivals, then the stages in order."""

    def __init__(self, env: simpy.Environment, config: Config, kinds: dict[str, Kind]) -> None:
        self.env, self.config = env, config
        self.stages = stages(config, kinds)
        self.arrived = [0.0]
        self.ready: list[list[float]] = [[0.0] for _ in self.stages]
        self.taken: list[list[float]] = [[0.0] for _ in self.stages]
        self.concurrency: list[list[float]] = [[] for _ in self.stages]
        env.process(self.arrivals())
        for index in range(len(self.stages)):
            env.process(self.stage(index))

    def arrivals(self) -> Generator[simpy.Event, None, None]:
        step = self.config.step
        while True:
            self.arrived.append(self.arrived[-1] + self.config.rate_at(self.env.now) * step)
            yield self.env.timeout(step)

    def stage(self, index: int) -> Generator[simpy.Event, None, None]:
        step, stage = self.config.step, self.stages[index]
        before = self.arrived if index == 0 else self.taken[index - 1]
        delay = 0.0 if index == 0 else self.stages[index - 1].delay
        ready, taken = self.ready[index], self.taken[index]
        most = stage.per_second * step
        while True:
            # in the queue by the end of the step: left the stage before by (end - delay)
            ready.append(self._at(before, self.env.now + step - delay))
            took = min(ready[-1] - taken[-1], most)
            taken.append(taken[-1] + took)
            self.concurrency[index].append(took * stage.lambdas / step)
            yield self.env.timeout(step)

    def waiting(self) -> float:
        """Files waiting in front of a stage now."""
        return sum(r[-1] - t[-1] for r, t in zip(self.ready, self.taken, strict=True))

    def _at(self, curve: list[float], t: float) -> float:
        """A cumulative curve at time ``t``, linear within a step."""
        if t <= 0:
            return 0.0
        index, fraction = divmod(t / self.config.step, 1.0)
        k = int(index)
        if k + 1 >= len(curve):
            return curve[-1]
        return curve[k] + fraction * (curve[k + 1] - curve[k])


def simulate(config: Config, kinds: dict[str, Kind], most_days_after: int = 30) -> Run:
    """The month's last days and ``config.after`` days after it, then more days (at
    most ``most_days_after`` after the month) until no file waits at a day's end."""
    started = time.perf_counter()
    env = simpy.Environment()
    p = Pipeline(env, config, kinds)
    days = config.days + config.after
    env.run(until=days * DAY)
    while days < config.days + most_days_after and p.waiting() >= 1:
        days += 1
        env.run(until=days * DAY)
    steps = round(days * DAY / config.step)
    return Run(
        replace(config, after=days - config.days), kinds, p.stages,
        np.asarray(p.arrived[: steps + 1]), np.asarray([r[: steps + 1] for r in p.ready]),
        np.asarray([t[: steps + 1] for t in p.taken]),
        np.asarray([c[:steps] for c in p.concurrency]), seconds=time.perf_counter() - started,
    )  # fmt: skip


@dataclass(frozen=True)
class Latency:
    p50: float
    p95: float
    max: float
    mean: float
    unfinished: float  # dropped in the span, no outcome by the end of the simulation


def latency(run: Run, start: float, end: float, samples: int = 4000) -> Latency:
    """Time from drop to outcome of the files dropped in [start, end) seconds: each
    sample is one file's place in the first-in-first-out order; its waits come from the
    cumulative curves, its own step times from its kind (kinds interleaved by share)."""
    t = run.times
    arrived, turned = run.arrived, run.taken[-1]
    first, last = np.interp([start, end], t, arrived)
    if last - first <= 0:
        return Latency(0.0, 0.0, 0.0, 0.0, 0.0)
    x = first + (np.arange(samples) + 0.5) / samples * (last - first)
    served = x <= turned[-1]
    dropped_at = np.interp(x[served], arrived, t)
    turn_at = np.interp(x[served], turned, t)
    before_turn = sum(stage.delay for stage in run.stages[:-1])
    waits = np.maximum(turn_at - dropped_at - before_turn, 0.0)
    kinds = list(run.kinds.values())
    bounds = np.cumsum([k.share for k in kinds])
    # a low-discrepancy sequence assigns kinds in their proportions along the order
    which = np.searchsorted(bounds, (np.arange(samples)[served] * 0.6180339887) % 1.0, "right")
    own = np.array([k.service_s(run.config.drop_batch_s) for k in kinds])
    total = waits + own[np.minimum(which, len(kinds) - 1)]
    if total.size == 0:
        return Latency(math.inf, math.inf, math.inf, math.inf, last - first)
    p50, p95 = np.percentile(total, [50, 95])
    unfinished = float((~served).mean()) * (last - first)
    return Latency(float(p50), float(p95), float(total.max()), float(total.mean()), unfinished)


@dataclass(frozen=True)
class Span:
    """Figures of a span of the simulation."""

    label: str
    dropped: float
    outcomes: float
    peak_queues: list[float]  # the most files waiting in front of each stage
    latency: Latency
    utilisation: float  # paid calls / (rate x seconds)
    peak_hour_utilisation: float
    peak_concurrency: float
    usd: float
    days: float


def span(run: Run, label: str, start: float, end: float) -> Span:
    c, t = run.config, run.times
    k0, k1 = round(start / c.step), round(end / c.step)
    arrived, calls, done = run.arrived, run.calls(), run.done()
    window = slice(k0, k1 + 1)
    per_hour = round(HOUR / c.step)
    hourly = [
        (calls[min(k + per_hour, k1)] - calls[k]) / (c.rate * (min(k + per_hour, k1) - k) * c.step)
        for k in range(k0, k1, per_hour)
    ]
    usd_per_file = sum(k.share * k.usd for k in run.kinds.values())
    return Span(
        label,
        dropped=float(arrived[k1] - arrived[k0]),
        outcomes=float(done[k1] - done[k0]),
        peak_queues=[float(run.waiting(i)[window].max()) for i in range(len(run.stages))],
        latency=latency(run, start, end),
        utilisation=float(calls[k1] - calls[k0]) / (c.rate * (t[k1] - t[k0])),
        peak_hour_utilisation=max(hourly),
        peak_concurrency=float(run.total_concurrency()[k0:k1].max()),
        usd=float(done[k1] - done[k0]) * usd_per_file,
        days=(end - start) / DAY,
    )


def spans(run: Run) -> list[Span]:
    """The ordinary days (the worst of them, each alike), each month-end day, each day
    after, and the whole month."""
    c = run.config
    ordinary = c.days - c.month_end_days
    rows = []
    if ordinary > 0:
        days = [span(run, "", d * DAY, (d + 1) * DAY) for d in range(ordinary)]
        worst = max(days, key=lambda s: (s.latency.p95, s.peak_concurrency))
        rows.append(replace(worst, label=f"ordinary day (worst of {ordinary})"))
    for d in range(max(ordinary, 0), c.days):
        rows.append(
            span(run, f"month-end day {c.month_days - c.days + d + 1}", d * DAY, (d + 1) * DAY)
        )
    after = [
        span(run, f"next month, day {d - c.days + 1}", d * DAY, (d + 1) * DAY)
        for d in range(c.days, c.days + c.after)
    ]
    if len(after) > 3:  # the first day, the worst of the days between, the last
        worst = max(after[1:-1], key=lambda s: (s.latency.p95, s.peak_concurrency))
        between = f"next month, days 2-{len(after) - 1}"
        after = [after[0], replace(worst, label=f"{between} (worst)"), after[-1]]
    rows += after
    whole = "the month" if c.days == c.month_days else f"the month's last {c.days} days"
    rows.append(span(run, f"{whole} (a day's $)", 0, c.days * DAY))
    return rows


def _duration(seconds: float) -> str:
    if math.isinf(seconds):
        return "never"
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < HOUR:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / HOUR:.1f} h"


def report(run: Run, sources: list[str]) -> str:
    c = run.config
    lines = [
        f"{c.per_day:,.0f} invoices a day on average: {c.per_day * c.month_days:,.0f} in a "
        f"{c.month_days}-day month, {c.month_end_share:.0%} of them in its last "
        f"{c.month_end_days} days ({c.day_volume(c.days - 1):,.0f} a day, "
        f"{c.day_volume(0):,.0f} on the others)",
        f"provider limit {c.rate:g} calls/s; drop queue MaximumConcurrency {c.max_concurrency} "
        f"x batch {c.batch_size} ({c.drop_batch_s:g} s a batch); reserved concurrency: "
        f"recognise {c.recognise_concurrency or 'unbounded'}, verify "
        f"{c.verify_concurrency or 'unbounded'}",
        "stages (files a second at most): "
        + ", ".join(f"{st.name} {st.per_second:,.0f}" for st in run.stages),
        f"simulated {c.days} + {c.after} days in steps of {c.step:g} s "
        f"({len(run.arrived) - 1:,} steps) in {run.seconds:.1f} s",
        "inputs: " + "; ".join(sources),
        "",
        f"{'kind':<15}{'share':>6}{'recognise':>11}{'verify':>9}{'create':>9}{'publish':>9}"
        f"{'wait':>7}{'calls':>6}{'$/1000':>9}",
    ]
    for k in run.kinds.values():
        lines.append(
            f"{k.name:<15}{k.share:>6.0%}{k.recognise_s * 1000:>9.0f}ms{k.verify_s * 1000:>7.0f}ms"
            f"{k.create_s * 1000:>7.0f}ms{k.publish_s * 1000:>7.0f}ms{k.wait_s:>6.0f}s"
            f"{k.calls:>6g}{k.usd * 1000:>9.4f}"
        )
    lines += [
        "",
        f"{'span':<30}{'dropped':>11}{'outcomes':>11}{'SQS':>11}{'throttled':>11}{'turn':>11}"
        f"{'p50':>9}{'p95':>9}{'max':>9}{'provider':>9}{'peak h':>7}{'Lambdas':>8}{'$/day':>9}",
    ]
    for s in spans(run):
        queues = "".join(f"{q:>11,.0f}" for q in s.peak_queues)
        lines.append(
            f"{s.label:<30}{s.dropped:>11,.0f}{s.outcomes:>11,.0f}{queues}"
            f"{_duration(s.latency.p50):>9}{_duration(s.latency.p95):>9}"
            f"{_duration(s.latency.max):>9}{s.utilisation:>9.0%}{s.peak_hour_utilisation:>7.0%}"
            f"{s.peak_concurrency:>8,.0f}{s.usd / s.days:>9,.2f}"
        )
    peaks = run.concurrency.max(axis=1)
    sized = sizing(c, run.kinds)
    lines += [
        "",
        "SQS, throttled, turn: the most files waiting in the drop queue, as throttled recognise",
        "tasks, for a provider turn; p50, p95, max: time from drop to outcome of the files",
        "dropped in the span; provider: paid calls / (limit x time), over the span and its",
        "busiest hour; Lambdas: peak concurrency of all functions (averaged over a step);",
        "$/day: AWS cost of the span's outcomes a day (paid verification excluded)",
        "peak Lambda concurrency by stage: "
        + ", ".join(f"{st.name} {p:,.0f}" for st, p in zip(run.stages, peaks, strict=True))
        + f" (account limit {c.account_concurrency:,})",
        f"sized for {c.rate:g} calls/s (+{HEADROOM:.0%}; --sized): drop queue MaximumConcurrency "
        f"{sized['max_concurrency']}, recognise {sized['recognise_concurrency']}, verify "
        f"{sized['verify_concurrency']} (more only moves the wait from SQS into the pipeline)",
    ]
    queued = sum(float(run.waiting(i)[-1]) for i in range(len(run.stages)))
    if queued >= 1:
        lines.append(f"{queued:,.0f} files still waiting at the end of the simulation")
    return "\n".join(lines)


def plot(run: Run, path: Path, days_before: int = 1) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, MultipleLocator

    c = run.config
    start = max(c.days - c.month_end_days - days_before, 0) * DAY
    end = (c.days + min(c.after, 2)) * DAY  # a backlog that lasts longer is in the table
    t = run.times
    window = (t >= start) & (t <= end)
    hours = (t - c.days * DAY) / HOUR  # 0: midnight at the month's end
    fig, (depth, late) = plt.subplots(2, 1, figsize=(10, 6.5), sharex=True, dpi=110)
    for index, stage in enumerate(run.stages):
        waiting = run.waiting(index)
        if waiting[window].max() >= 1:
            depth.plot(hours[window], waiting[window], label=stage.queue)
    depth.set_ylabel("files waiting")
    depth.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    rate = depth.twinx()
    drops = np.diff(run.arrived) / c.step
    rate.plot(hours[:-1][window[:-1]], drops[window[:-1]], color="grey", linewidth=0.6,
              alpha=0.7, label="drops per second")  # fmt: skip
    rate.axhline(
        c.rate, color="red", linewidth=0.8, linestyle="--", label="provider limit (calls/s)"
    )
    rate.set_ylabel("per second")
    rate.set_ylim(bottom=0)
    handles = depth.get_legend_handles_labels()
    extra = rate.get_legend_handles_labels()
    depth.legend(handles[0] + extra[0], handles[1] + extra[1], loc="upper left", fontsize=8)
    bins = np.arange(start, end, HOUR)
    figures = [latency(run, b, b + HOUR, samples=400) for b in bins]
    middle = (bins + HOUR / 2 - c.days * DAY) / HOUR
    unit, name = (HOUR, "hours") if max(f.p95 for f in figures) > 3 * HOUR else (60, "minutes")
    late.plot(middle, [f.p50 / unit for f in figures], label="p50")
    late.plot(middle, [f.p95 / unit for f in figures], label="p95")
    late.set_ylabel(f"drop to outcome ({name})")
    late.set_xlabel("hours from the end of the month (Asia/Shanghai), by the hour of the drop")
    late.legend(loc="upper left", fontsize=8)
    late.xaxis.set_major_locator(MultipleLocator(12))
    for axis in (depth, late):
        axis.axvline(-c.month_end_days * 24, color="black", linewidth=0.6, linestyle=":")
        axis.axvline(0, color="black", linewidth=0.6, linestyle=":")
        axis.grid(alpha=0.3)
    fig.suptitle(
        f"Month-end: {c.per_day:,.0f} invoices/day on average, {c.month_end_share:.0%} in the "
        f"last {c.month_end_days} days; provider limit {c.rate:g}/s, drop queue concurrency "
        f"{c.max_concurrency}",
        fontsize=10,
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


HEADROOM = 0.25


def sizing(config: Config, kinds: dict[str, Kind]) -> dict[str, int]:
    """Concurrency settings that let the provider's limit, not a Lambda's, set the pace:
    each stage takes the files the provider's rate lets through, plus HEADROOM."""
    calls = sum(k.share * k.calls for k in kinds.values())
    files = config.rate / calls if calls else config.rate
    rounds = {
        "max_concurrency": files * config.drop_batch_s / config.batch_size,
        "recognise_concurrency": files * sum(k.share * k.recognise_s for k in kinds.values()),
        "verify_concurrency": files * sum(k.share * k.verify_s for k in kinds.values()),
    }
    least = {"max_concurrency": 2}  # SQS event sources take 2 to 1,000
    return {k: max(least.get(k, 1), math.ceil(v * (1 + HEADROOM))) for k, v in rounds.items()}


def template_settings(path: Path) -> dict[str, int]:
    """The drop queue event source's maximum concurrency and batch size, and the verify
    task's reserved concurrency, where template.yaml sets them."""
    sys.path.insert(0, str(ROOT / "layers" / "fapiao"))
    from fapiao.local.template import load_template

    data = load_template(path)
    parameters = data.get("Parameters") or {}

    def value(v: Any) -> int | None:
        if isinstance(v, dict) and "Ref" in v:
            v = (parameters.get(v["Ref"]) or {}).get("Default")
        return int(v) if isinstance(v, int | str) and str(v).isdigit() else None

    found: dict[str, int] = {}
    for logical_id, resource in data["Resources"].items():
        props = resource.get("Properties") or {}
        for event in (props.get("Events") or {}).values():
            queue = (event.get("Properties") or {}).get("Queue")
            if event.get("Type") == "SQS" and "DropQueue" in json.dumps(queue):
                scaling = event["Properties"].get("ScalingConfig") or {}
                for key, name in (
                    ("MaximumConcurrency", "max_concurrency"),
                    ("BatchSize", "batch_size"),
                ):
                    number = value(scaling.get(key, event["Properties"].get(key)))
                    if number:
                        found[name] = number
        for function, name in (
            ("VerifyTaskFunction", "verify_concurrency"),
            ("RecognizeFunction", "recognise_concurrency"),
        ):
            number = value(props.get("ReservedConcurrentExecutions"))
            if logical_id == function and number:
                found[name] = number
    return found


def arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--per-day", type=float, default=Config.per_day, help="invoices a day, month's average")
    add("--days", type=int, default=None, help="the month's last days simulated (all of it)")
    add("--after", type=int, default=Config.after, help="days of the next month simulated")
    add("--month-days", type=int, default=Config.month_days)
    add("--month-end-share", type=float, default=Config.month_end_share)
    add("--rate", type=float, default=Config.rate, help="provider calls per second (MAX_RPS)")
    add("--max-concurrency", type=int, help="drop queue event source (template.yaml's)")
    add("--batch-size", type=int, help="drop queue batch size (template.yaml's)")
    add("--drop-batch-s", type=float, default=Config.drop_batch_s)
    add("--verify-concurrency", type=int, help="verify task's reserved concurrency; 0 unbounded")
    add("--recognise-concurrency", type=int, help="recognise task's reserved concurrency")
    add("--sized", action="store_true", help="concurrency settings sized for --rate (printed)")
    add("--account-concurrency", type=int, default=Config.account_concurrency)
    add("--provider-latency", type=float, default=0.4, help="seconds a provider takes to answer")
    add("--mix", help="shares of the kinds, e.g. pdf=0.8,photo=0.12,duplicate=0.05,...")
    add("--cost", type=Path, default=COST_JSON, help="bench/cost.py's figures (JSON)")
    add("--step", type=float, default=Config.step, help="seconds a simulation step aggregates")
    add("--plot", type=Path, default=PLOT, help="where to write the PNG ('' for none)")
    add("--template", type=Path, default=ROOT / "template.yaml")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = arguments(argv)
    sources: list[str] = []
    kinds = default_kinds(args.provider_latency)
    mix = args.mix
    if args.cost.is_file():
        data = json.loads(args.cost.read_text(encoding="utf-8"))
        kinds, taken = kinds_from_cost(data, kinds, args.provider_latency)
        name = args.cost.relative_to(ROOT) if args.cost.is_relative_to(ROOT) else args.cost
        mix = mix or mix_of(data)
        taken += ["its mix"] if mix and not args.mix else []
        sources.append(f"{name} ({'; '.join(taken) or 'nothing recognised'})")
    else:
        sources.append(f"no {args.cost.name}: step times and costs are this script's defaults")
    kinds = with_mix(kinds, mix)
    settings = template_settings(args.template) if args.template.is_file() else {}
    if settings:
        sources.append("template.yaml (" + ", ".join(f"{k} {v}" for k, v in settings.items()) + ")")
    if args.sized:
        settings.update(sizing(Config(rate=args.rate, **settings), kinds))
        sources.append("concurrency sized for the provider's limit (--sized)")
    for name in ("max_concurrency", "batch_size", "verify_concurrency", "recognise_concurrency"):
        if getattr(args, name) is not None:
            settings[name] = getattr(args, name)
    config = Config(
        per_day=args.per_day,
        month_days=args.month_days,
        month_end_share=args.month_end_share,
        days=args.days or args.month_days,
        after=args.after,
        rate=args.rate,
        drop_batch_s=args.drop_batch_s,
        account_concurrency=args.account_concurrency,
        step=args.step,
        **settings,
    )
    if HOUR % config.step:
        raise SystemExit("--step must divide an hour")
    run = simulate(config, kinds)
    print(report(run, sources))
    if str(args.plot) not in ("", "."):
        plot(run, args.plot)
        shown = args.plot.relative_to(ROOT) if args.plot.is_relative_to(ROOT) else args.plot
        print(f"plot: {shown}")


if __name__ == "__main__":
    main()

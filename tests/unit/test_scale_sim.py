"""bench/scale_sim.py's model, run for a few days of tiny numbers: files are neither lost
nor made up, the provider is held to its rate, and the latencies agree with the queues."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "scale_sim.py"


@pytest.fixture(scope="module")
def sim() -> ModuleType:
    spec = importlib.util.spec_from_file_location("scale_sim", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["scale_sim"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def small(sim: ModuleType, **changes: object) -> object:
    """The last three days of a ten-day month (875 files, then 1,500 a day) and the
    days after it, past the provider's rate (72 calls an hour) at the busiest hours."""
    config = sim.Config(
        per_day=1_000, month_days=10, days=3, after=1, rate=0.02, max_concurrency=2,
        batch_size=10, drop_batch_s=0.5, step=60.0, **changes,
    )  # fmt: skip
    kinds = sim.with_mix(sim.default_kinds(provider_s=0.4), None)
    return sim.simulate(config, kinds)


def test_every_file_dropped_has_its_outcome_or_waits_somewhere(sim: ModuleType) -> None:
    run = small(sim, recognise_concurrency=1)
    done = run.done()
    in_steps = run.taken[:-1] - run.ready[1:]  # taken by a stage, not yet in the next queue
    after_last = run.taken[-1] - done
    queued = sum(run.waiting(i) for i in range(len(run.stages)))
    assert np.allclose(run.arrived, done + queued + in_steps.sum(axis=0) + after_last)
    waits = [run.waiting(i) for i in range(len(run.stages))]
    for counts in (in_steps, after_last, *waits):
        assert counts.min() >= -1e-9
    assert np.all(np.diff(done) >= -1e-9)
    assert max(w.max() for w in waits) > 100  # files did wait
    assert run.arrived[-1] == pytest.approx(875 + 2 * 1_500 + 875 * run.config.after)


def test_the_provider_never_exceeds_its_rate_and_reaches_it_when_files_wait(
    sim: ModuleType,
) -> None:
    run = small(sim)
    per_second = np.diff(run.calls()) / run.config.step
    assert per_second.max() <= run.config.rate * (1 + 1e-9)
    turn = run.waiting(len(run.stages) - 1)[1:]
    busy = per_second[turn > 1]
    assert busy.size and busy.min() == pytest.approx(run.config.rate)


def test_little_s_law_holds_between_the_queues_and_the_latencies(sim: ModuleType) -> None:
    run = small(sim)
    assert run.backlog < 1, "the run drains its backlog before it ends"
    end = len(run.arrived) * run.config.step
    in_system = (run.arrived - run.done()).sum() * run.config.step  # file-seconds
    mean = sim.latency(run, 0.0, end, samples=20_000).mean
    assert mean * run.arrived[-1] == pytest.approx(in_system, rel=0.03)
    assert mean > 600  # past the rate for hours: the law is tested on real waits


def test_thirty_percent_of_a_month_arrive_in_its_last_two_days(sim: ModuleType) -> None:
    config = sim.Config(per_day=1_000, days=30, after=0)
    volumes = [config.day_volume(day) for day in range(30)]
    assert sum(volumes) == pytest.approx(30_000)
    assert sum(volumes[-2:]) / sum(volumes) == pytest.approx(0.30)
    day = [config.rate_at(hour * 3600.0) * 3600 for hour in range(24)]
    assert sum(day) == pytest.approx(volumes[0])

"""The providers' turns in DynamoDB (fapiao.store.provider_turns) on the local AWS, with the
ProviderTurnsTable template.yaml declares: the port's contract (a write wins only over
the version it read), and many threads in separate "containers" taking turns at once:
no sliding second holds more than the limit + 1 calls, no slot is given twice, and the
limit is reached."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from unit.providers.test_turns import MemoryTurns

from fakes.exocr_server import most_in_one_second
from fapiao.local.resources import LocalNames
from fapiao.ports import ProviderTurnStore, TurnState
from fapiao.providers.turns import ProviderTurns
from fapiao.store.provider_turns import DynamoProviderTurns
from support import Session


@pytest.fixture(params=["memory", "dynamo"])
def store(request: pytest.FixtureRequest, names: LocalNames) -> ProviderTurnStore:
    if request.param == "memory":
        return MemoryTurns()
    session = request.getfixturevalue("tables")
    return DynamoProviderTurns(names.ref("ProviderTurnsTable"), client=session.client("dynamodb"))


def test_a_write_wins_only_over_the_version_it_read(store: ProviderTurnStore) -> None:
    assert store.read("exocr") is None
    first = TurnState(next_at=1_700_000_000.123456, version=1)
    assert store.write("exocr", first, None)
    assert not store.write("exocr", TurnState(next_at=5, version=1), None)  # another came first
    assert store.read("exocr") == first
    second = TurnState(
        next_at=1_700_000_000.248456, lowered_to=4.0, lowered_at=1_700_000_000.2, version=2
    )
    assert store.write("exocr", second, first)
    assert not store.write("exocr", TurnState(next_at=9, version=2), first)  # stale read
    assert store.read("exocr") == second
    assert store.read("yipiaoyun") is None  # one item per provider


@pytest.mark.alone  # it reads wall-clock times: measured with nothing beside it
def test_many_containers_never_exceed_the_limit_in_any_sliding_second(
    tables: Session, names: LocalNames
) -> None:
    limit, threads, turns_each = 10, 8, 6
    table = names.ref("ProviderTurnsTable")
    called: list[float] = []
    refused: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(threads)

    class Counted(DynamoProviderTurns):
        def write(self, provider: str, state: TurnState, expected: TurnState | None) -> bool:
            won = super().write(provider, state, expected)
            if not won:
                with lock:
                    refused.append(1)
            return won

    def container() -> None:  # its own client and limiter, as a separate Lambda would
        turns = ProviderTurns("exocr", limit, Counted(table, client=tables.client("dynamodb")))
        start.wait()
        for _ in range(turns_each):
            assert turns.take(within=30)
            with lock:
                called.append(time.time())

    workers = [threading.Thread(target=container) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert len(called) == threads * turns_each
    assert most_in_one_second(called) <= limit + 1
    elapsed = max(called) - min(called)
    # 48 turns at 10 a second: ~4.7 s; the limit is reached, not merely respected
    assert (len(called) - 1) / elapsed >= 0.8 * limit
    print(f"\n{len(called)} turns in {elapsed:.2f} s, {len(refused)} lost races")


def test_the_table_keeps_the_state_every_container_reads(
    tables: Session, names: LocalNames
) -> None:
    table = names.ref("ProviderTurnsTable")
    one = ProviderTurns("exocr", 8, DynamoProviderTurns(table, client=tables.client("dynamodb")))
    other = ProviderTurns("exocr", 8, DynamoProviderTurns(table, client=tables.client("dynamodb")))
    one.busy()  # a busy answer in one container lowers the rate in the other
    assert other.rate() == 4
    item: Any = tables.client("dynamodb").get_item(TableName=table, Key={"pk": {"S": "exocr"}})
    assert float(item["Item"]["lowered_to"]["N"]) == 4
    assert int(item["Item"]["expires_at"]["N"]) > time.time()  # DynamoDB's TTL removes it

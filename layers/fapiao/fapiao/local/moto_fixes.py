"""moto made to answer as AWS does, at a cost that does not grow with the local AWS's
state or the hours it has run: DynamoDB, SQS and Step Functions, each below.

**DynamoDB transactions.** moto's ``transact_write_items`` deep-copies every table a
transaction names before it runs, to roll back on a failed condition: each transaction
costs the size of its tables. The ERP feed numbers each event in a transaction
(``fapiao.store.events``), so with 10,000 events kept every new one copied them all
(measured: 44% of the local AWS's time while 1,000 webhooks were delivered, and
growing). Here the tables are not copied; the items the transaction names are, and those
are put back if it fails. The local AWS's gateway runs one request at a time, so nothing
else sees the items between.

**DynamoDB queries.** moto answers a Query of one partition by looking at every item of
the table (and comparing its key): a look-up of the webhook subscriptions, one partition,
cost the size of the table of deliveries beside them. Here a Query of a table's own key
looks at its partition only (a Query of an index is left as moto does it).

**SQS receives and sends.** For each message it receives, moto asks for the queue's
retention period through ``get_queue_attributes``, and each send asks the queue's
attributes whether it deduplicates by content: both count every message of the queue
(visible, delayed, in flight) on the way, so a queue of n messages cost n² (measured:
half of the local AWS's time with 1,000 webhook deliveries waiting, and most of an event
rule's delivery). Here the receive reads the retention period from the queue itself, and a
send sees the queue's attributes without the counts.

**Express executions.** moto runs an Express state machine's executions as Standard ones:
a second start of the same name finds the first (or is refused). AWS does not
deduplicate Express names: each start is a new execution (at least once), which is why
every task an Express workflow calls must be idempotent. Here a start of an Express
machine always starts an execution; the first of a name keeps the ARN a Standard one
would have (``DescribeExecution`` by name finds it, as the local hub's tools do), a
repeat gets the ARN with a random suffix, as AWS gives each Express execution.

**Step Functions' own integration** (``arn:aws:states:::states:startExecution``, and its
``.sync:2``): moto passes the state's parameters to botocore as written
(``StateMachineArn``, ``Name``, ``Input``) where botocore's names are ``stateMachineArn``,
``name``, ``input``, so every such task failed with States.Runtime; and it answers in
botocore's names where a state sees AWS's (``ExecutionArn``; ``Output``, ``Status`` of
the ``.sync:2`` result), which its own ``.sync`` resolver reads too. Here both are named
as AWS names them.

**Step Functions' parsing.** moto parses a state machine's definition (ANTLR) at the start
of every execution, and builds a new JSONPath parser (its LR tables) for every path a
state reads: together a seventh of the local hub's CPU while 200 inbox files ran. Here
a definition is parsed once (the parsed program holds no execution's state: an inline
Map already runs one program for its items at once; a Parallel state does keep counts
in it, so a definition with one is parsed each time) and a path once.

**Threads kept forever.** moto's interpreter appends every thread it starts (one per
execution, Task state and Map item) to a module-level list that nothing empties: a
local hub that ran 100,000 files would hold a million finished threads. Here the list
keeps nothing.
"""

from __future__ import annotations

import copy
import datetime as dt
import threading
import uuid
from typing import Any

__all__ = ["install"]

_installed = False
_lock = threading.Lock()


class _TablesNotCopied:
    """moto's ``copy`` module as its transactions see it: a table is not copied (the
    items it will touch are, by ``install``'s wrapper); anything else is."""

    def __init__(self) -> None:
        from moto.dynamodb.models.table import Table

        self._table = Table

    def deepcopy(self, value: Any, memo: Any = None) -> Any:
        if isinstance(value, self._table):
            return value
        return copy.deepcopy(value, memo)

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)


def _key_of(table: Any, op: dict[str, Any]) -> tuple[Any, Any] | None:
    """The (hash, range) DynamoTypes of the item an operation names; None if it names
    none this wrapper can tell (moto then refuses the request itself)."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    key = op.get("Key") or op.get("Item") or {}
    hash_value = key.get(table.hash_key_attr)
    if not isinstance(hash_value, dict):
        return None
    range_value = key.get(table.range_key_attr) if table.range_key_attr else None
    if table.range_key_attr and not isinstance(range_value, dict):
        return None
    return DynamoType(hash_value), (DynamoType(range_value) if range_value else None)


def _restore(table: Any, hash_key: Any, range_key: Any, old: Any) -> None:
    if range_key is not None:
        if old is None:
            table.items[hash_key].pop(range_key, None)
        else:
            table.items[hash_key][range_key] = old
    elif old is None:
        table.items.pop(hash_key, None)
    else:
        table.items[hash_key] = old


def install() -> None:
    """Patch moto's DynamoDB, SQS and Step Functions, once per process."""
    global _installed
    with _lock:
        if _installed:
            return
        _install_transactions()
        _install_retention_check()
        _install_uncounted_sends()
        _install_partition_queries()
        _install_express_executions()
        _install_sfn_service_names()
        _install_parse_once()
        _install_one_client_per_service()
        _install_no_thread_hoard()
        _installed = True


def _install_retention_check() -> None:
    from moto.core.utils import unix_time
    from moto.sqs.models import SQSBackend

    def retained(backend: Any, queue_name: str, message: Any) -> bool:
        period = int(backend.get_queue(queue_name).message_retention_period)
        return bool(period + message.sent_timestamp / 1000 > unix_time())

    SQSBackend.is_message_valid_based_on_retention_period = retained  # type: ignore[method-assign,assignment]


def is_express(machine: Any) -> bool:
    """moto keeps a state machine's type in ``type`` (its ``sm_type`` is always STANDARD)."""
    return str(getattr(machine, "type", "STANDARD")) == "EXPRESS"


def _install_express_executions() -> None:
    from moto.stepfunctions import models
    from moto.stepfunctions.parser import models as parser_models
    from moto.stepfunctions.parser.backend.execution import Execution

    deduplicate = models.StateMachine._handle_name_input_idempotency

    def by_name(machine: Any, name: str, execution_input: str) -> Any:
        if is_express(machine):
            return None  # every start of an Express machine is a new execution
        return deduplicate(machine, name, execution_input)

    class RepeatableExecution(Execution):
        """An execution whose ARN is its own when an Express name repeats."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            clone = kwargs["state_machine"]  # start_execution's copy, without executions
            if is_express(clone):
                machine = clone.backend.describe_state_machine(clone.arn)
                if any(e.exec_arn == kwargs["exec_arn"] for e in machine.executions):
                    kwargs["exec_arn"] = f"{kwargs['exec_arn']}:{uuid.uuid4()}"
            super().__init__(*args, **kwargs)

    models.StateMachine._handle_name_input_idempotency = by_name  # type: ignore[method-assign,assignment]
    parser_models.Execution = RepeatableExecution  # type: ignore[attr-defined]


def _install_parse_once() -> None:
    import functools

    import jsonpath_ng.ext
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
    from moto.stepfunctions.parser.asl.utils import json_path
    from moto.stepfunctions.parser.backend import execution_worker

    # A JSONPath parsed once: Step Functions' paths, and EventBridge's input transformers
    # (moto.events imports it from jsonpath_ng.ext at each call)
    parse_once = functools.lru_cache(maxsize=4096)(jsonpath_ng.ext.parse)  # type: ignore[attr-defined]
    jsonpath_ng.ext.parse = parse_once  # type: ignore[attr-defined]
    json_path.parse = parse_once  # type: ignore[attr-defined]

    @functools.lru_cache(maxsize=64)
    def program_of(definition: str) -> Any:
        return AmazonStateLanguageParser.parse(definition)[0]

    def entrypoint(worker: Any) -> Any:
        definition = worker._evaluation_details.state_machine_details.definition
        if '"Parallel"' in definition:  # its branches count their workers in the program
            return AmazonStateLanguageParser.parse(definition)[0]
        return program_of(definition)

    execution_worker.ExecutionWorker._get_evaluation_entrypoint = entrypoint  # type: ignore[method-assign,assignment]


def _rebind(module: Any, name: str, new: Any) -> None:
    """``module.name`` replaced by ``new``, and so in every module of moto's interpreter
    that imported the old one by name (``from ... import name``); a module imported
    later takes the new one from ``module``."""
    import sys

    old = getattr(module, name)
    setattr(module, name, new)
    for module_name, other in list(sys.modules.items()):
        if module_name.startswith("moto.stepfunctions.parser") and (
            getattr(other, name, None) is old
        ):
            setattr(other, name, new)


def _install_one_client_per_service() -> None:
    """moto's interpreter makes a new boto3 client for every Task state it runs (a Lambda
    invoke, an SQS send): loading a service model and an SSL context each time, a
    seventh of the local hub's CPU. Here one client per service, region and port is
    made and shared (boto3's clients are thread-safe)."""
    from moto.core.models import botocore_stubber
    from moto.settings import moto_server_port
    from moto.stepfunctions.parser.asl.utils import boto_client

    from fapiao import aws

    make = boto_client.boto_client_for
    made: dict[tuple[str, str, bool, str], Any] = {}
    lock = threading.Lock()

    def shared_client(region: str, service: str, state_credentials: Any = None) -> Any:
        # moto's own ignores the state's credentials (its clients sign with fixed keys)
        key = (region, service, bool(botocore_stubber.enabled), str(moto_server_port()))
        with lock:
            client = made.get(key)
            if client is None:
                # the local hub's route when it runs one: its tasks' calls without HTTP
                client = made[key] = aws.routed(make(region, service, state_credentials))
        return client

    _rebind(boto_client, "boto_client_for", shared_client)


class _KeepsNothing(list):  # type: ignore[type-arg]
    """A list whose appends are forgotten (moto's TMP_THREADS: read by nobody)."""

    def append(self, _: Any) -> None:
        pass


def _install_no_thread_hoard() -> None:
    from moto.stepfunctions.parser import utils

    hoard = utils.TMP_THREADS
    _rebind(utils, "TMP_THREADS", _KeepsNothing())
    hoard.clear()


def _install_sfn_service_names() -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_sfn as sfn_service,
    )

    service = sfn_service.StateTaskServiceSfn
    parameters_as_written = service._normalise_parameters

    def botocore_names(self: Any, parameters: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        parameters_as_written(self, parameters, *args, **kwargs)
        for key in list(parameters):  # StateMachineArn -> stateMachineArn
            parameters[key[:1].lower() + key[1:]] = parameters.pop(key)

    def aws_names(self: Any, response: Any, *args: Any, **kwargs: Any) -> None:
        if isinstance(response, dict):
            for key in list(response):  # executionArn -> ExecutionArn
                value = response.pop(key)
                if isinstance(value, dt.datetime):  # AWS: epoch milliseconds
                    value = int(value.timestamp() * 1000)
                response[key[:1].upper() + key[1:]] = value

    service._normalise_parameters = botocore_names  # type: ignore[method-assign]
    service._normalise_response = aws_names  # type: ignore[method-assign]


_partition = threading.local()


def _install_partition_queries() -> None:
    from moto.dynamodb.models.table import Table

    query, all_items = Table.query, Table.all_items

    def items_of_the_partition(table: Table) -> list[Any]:
        if getattr(_partition, "table", None) is not table:
            return all_items(table)
        items: dict[Any, Any] = table.items
        found = items.get(_partition.key)  # .get: the defaultdict grows no entry
        if found is None:
            return []
        return list(found.values()) if table.range_key_attr else [found]

    def partition_query(table: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        if index_name or hash_key is None:
            return query(table, hash_key, *args, **kwargs)
        _partition.table, _partition.key = table, hash_key
        try:
            return query(table, hash_key, *args, **kwargs)
        finally:
            _partition.table = _partition.key = None

    Table.query = partition_query  # type: ignore[method-assign,assignment]
    Table.all_items = items_of_the_partition  # type: ignore[method-assign,assignment]


_sending = threading.local()


def _install_uncounted_sends() -> None:
    from moto.sqs.models import Queue, SQSBackend

    counted = Queue.attributes
    send_message = SQSBackend.send_message

    def attributes(queue: Any) -> dict[str, Any]:
        if getattr(_sending, "on", False):  # send_message reads only this one
            if not queue.fifo_queue:
                return {}
            return {"ContentBasedDeduplication": str(queue.content_based_deduplication).lower()}
        return counted.fget(queue)  # type: ignore[no-any-return,attr-defined]

    def send_uncounted(backend: Any, *args: Any, **kwargs: Any) -> Any:
        _sending.on = True
        try:
            return send_message(backend, *args, **kwargs)
        finally:
            _sending.on = False

    Queue.attributes = property(attributes)  # type: ignore[assignment,method-assign]
    SQSBackend.send_message = send_uncounted  # type: ignore[method-assign,assignment]


def _install_transactions() -> None:
    import moto.dynamodb.models as models
    from moto.dynamodb.models import DynamoDBBackend

    original = DynamoDBBackend.transact_write_items
    models.copy = _TablesNotCopied()  # type: ignore[attr-defined,assignment]

    def transact_write_items(backend: Any, transact_items: list[dict[str, Any]]) -> None:
        before: list[tuple[Any, Any, Any, Any]] = []
        for entry in transact_items[:100]:  # more: moto refuses it before any change
            (op,) = entry.values() if len(entry) == 1 else (None,)
            if not isinstance(op, dict):
                continue
            table = backend.tables.get(op.get("TableName"))
            key = None if table is None else _key_of(table, op)
            if key is None:
                continue
            item = table.get_item(*key)
            before.append((table, *key, None if item is None else copy.deepcopy(item)))
        try:
            original(backend, transact_items)
        except Exception:
            for table, hash_key, range_key, old in reversed(before):
                _restore(table, hash_key, range_key, old)
            raise

    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign,assignment]

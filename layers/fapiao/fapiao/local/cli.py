"""The `fapiao` command: `fapiao serve` starts the local hub; the other commands talk to it
(found through fapiao.local.locate) or read files. A user's mistake is one line on stderr
and exit code 2, never a traceback."""

from __future__ import annotations

import argparse
import faulthandler
import logging
import os
import signal
import sys
import threading
import warnings
from pathlib import Path
from types import FrameType
from typing import NoReturn

from fapiao.local import (
    erp_cli,
    ingest_cli,
    keys_cli,
    ocr_cli,
    outcomes_cli,
    recognize_cli,
    review_cli,
)
from fapiao.local.locate import CommandError
from fapiao.settings import LocalHubSettings, SettingsError

STOP_SECONDS = 20.0  # a Ctrl-C ends the hub within this, whatever still runs


class _UsageError(Exception):
    """A command line argparse refuses, said in one line."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a refused command line is one line (the usage is in --help)."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


def _parser(defaults: LocalHubSettings) -> argparse.ArgumentParser:
    parser = _Parser(prog="fapiao", description="fapiao invoice hub")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="start the local hub (API, local AWS)")
    serve.add_argument("--host", default=defaults.host, help="address to listen on")
    serve.add_argument("--port", type=int, default=defaults.port, help="HTTP API port")
    serve.add_argument(
        "--aws-port", type=int, default=defaults.aws_port, help="local AWS endpoint port"
    )
    serve.add_argument("--data", type=Path, default=defaults.data_dir, help="state folder")
    serve.add_argument("--inbox", type=Path, default=defaults.inbox, help="folder to watch")
    serve.add_argument("--template", type=Path, default=defaults.template, help="SAM template")
    recognize_cli.add_parser(commands)
    ingest_cli.add_parser(commands)
    outcomes_cli.add_parser(commands)
    keys_cli.add_parser(commands)
    review_cli.add_parser(commands)
    ocr_cli.add_parser(commands)
    erp_cli.add_parser(commands)  # webhooks, events
    return parser


def serve(args: argparse.Namespace, settings: LocalHubSettings) -> int:
    from fapiao.local.hub import HubConfig, LocalHub
    from fapiao.local.template import TemplateError

    config = HubConfig(
        host=args.host,
        port=args.port,
        aws_port=args.aws_port,
        data_dir=args.data,
        inbox=args.inbox,
        template=args.template,
        region=settings.region,
        dev_api_key=settings.dev_api_key,
        employees_file=settings.employees_file,
        inbox_owner=settings.inbox_owner,
        concurrency=settings.concurrency,
        queue_depth=settings.queue_depth,
        recognition_workers=settings.recognition_workers,
        recognition_timeout=settings.recognition_timeout,
        recognition_memory_mb=settings.recognition_memory_mb,
        snapshot_every=settings.snapshot_every,
    )
    stopping = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()  # a second Ctrl-C changes nothing: the stop keeps the state

    # Before the start: a Ctrl-C while the state is restored stops cleanly after it.
    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        hub = LocalHub(config)
        hub.start()
    except (TemplateError, OSError) as error:
        print(f"fapiao serve: cannot start: {error}", file=sys.stderr)
        return 1
    except Exception as error:  # the local AWS refused the template's resources
        logging.getLogger("fapiao-local").debug("start failed", exc_info=True)
        print(f"fapiao serve: cannot start: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    print(hub.banner(), flush=True)
    stopping.wait()
    print("stopping fapiao hub", flush=True)
    # The state is kept first (the local AWS's snapshot; the write-ahead log holds it all
    # anyway), then what runs ends. A stop never hangs on the latter: past the deadline
    # the process ends as a kill would, and the next start resumes what was in flight.
    stopper = threading.Thread(target=hub.stop, name="fapiao-stop", daemon=True)
    stopper.start()
    stopper.join(STOP_SECONDS)
    if stopper.is_alive():
        print(
            f"stopped after {STOP_SECONDS:g} s; work still in flight resumes at the next start",
            flush=True,
        )
        faulthandler.dump_traceback(file=sys.stderr)  # what held the stop up, for a report
    else:
        print("stopped", flush=True)
    # Threads of work that was cut short (resumed at the next start) may still be
    # inside native code: end the process now rather than finalise under them.
    logging.disable(logging.CRITICAL)
    sys.stderr.flush()
    os._exit(0)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("botocore").setLevel(logging.WARNING)
    # Functions log their own metrics; an empty flush on a laptop is not news.
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    try:
        settings = LocalHubSettings.from_env()
    except SettingsError as error:
        print(f"fapiao: {error}", file=sys.stderr)
        return 2
    try:
        args = _parser(settings).parse_args(argv)
    except _UsageError as error:
        print(error, file=sys.stderr)
        return 2
    if args.command == "serve":
        return serve(args, settings)
    commands = {
        "recognize": recognize_cli.run,
        "ingest": ingest_cli.run,
        "outcomes": outcomes_cli.run,
        "keys": keys_cli.run,
        "review": review_cli.run,
        "ocr": ocr_cli.run,
        "webhooks": erp_cli.run,
        "events": erp_cli.run,
    }
    try:
        return commands[args.command](args, settings)
    except CommandError as error:
        print(f"fapiao {args.command}: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"fapiao {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

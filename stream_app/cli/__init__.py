"""``python -m stream_app``: the engine's command line.

Every command reads :class:`Settings` from ``HS_*`` variables. Errors the user can fix print one
line to stderr and exit 2; nothing prints a traceback for bad input.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from stream_app.clock import SystemClock
from stream_app.errors import HealthstreamError
from stream_app.settings import Settings

__all__ = ["main"]

log = logging.getLogger("stream_app")


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _probability(text: str) -> float:
    value = float(text)
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m stream_app", description=__doc__.splitlines()[0]
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    commands.add_parser("worker", help="run a stream worker (consumes inputs, serves HTTP)")

    topics = commands.add_parser("topics", help="manage Kafka topics")
    topic_commands = topics.add_subparsers(dest="topics_command", required=True, metavar="ACTION")
    create = topic_commands.add_parser("create", help="create all input, output and DLQ topics")
    create.add_argument("--partitions", type=_positive_int, help="default: HS_PARTITIONS")

    demo = commands.add_parser("produce-demo", help="send realistic synthetic traffic")
    demo.add_argument("--accounts", type=_positive_int, default=200)
    demo.add_argument("--rate", type=_positive_float, default=50.0, help="events per second")
    demo.add_argument(
        "--count", type=_positive_int, help="stop after N events (default: run until Ctrl-C)"
    )
    demo.add_argument("--seed", type=int, default=7)

    replay = commands.add_parser(
        "replay", help='send a JSONL file of {"topic","key","value"} lines'
    )
    replay.add_argument("file", type=Path)

    backtest = commands.add_parser(
        "backtest", help="run an event log through the engine offline (event time only)"
    )
    backtest.add_argument("file", type=Path, help='JSONL of {"topic","key","value"}')
    backtest.add_argument("--output", type=Path, required=True, help="JSONL of published records")
    backtest.add_argument(
        "--tick-seconds",
        type=_positive_float,
        default=60.0,
        help="re-score changed accounts every N seconds of event time (default 60)",
    )
    backtest.add_argument(
        "--processes",
        type=_positive_int,
        default=os.cpu_count() or 1,
        help="split accounts over N processes; output is identical (default: CPU count)",
    )

    cohort = commands.add_parser("cohort", help="write a seeded synthetic multi-day event log")
    cohort.add_argument("file", type=Path)
    cohort.add_argument("--accounts", type=_positive_int, default=200)
    cohort.add_argument("--days", type=_positive_int, default=70)
    cohort.add_argument("--seed", type=int, default=42)
    cohort.add_argument("--truth", type=Path, help="also write each account's scenario (JSON)")
    cohort.add_argument(
        "--holidays",
        type=_probability,
        default=0.0,
        help="chance per user and day of starting a 5-10-day holiday (default 0: none; "
        "1/70 = 0.0143 keeps users away on about a tenth of the days)",
    )

    quality = commands.add_parser(
        "alert-quality", help="recall, false alerts and delay of a backtest's NSM alerts"
    )
    quality.add_argument("output", type=Path, help="the backtest's output (JSONL)")
    quality.add_argument("--truth", type=Path, required=True, help="from cohort --truth")

    watch = commands.add_parser("watch", help="live view of a running worker")
    watch.add_argument("--url", default="http://127.0.0.1:6066", help="the worker's HTTP address")
    watch.add_argument("--interval", type=_positive_float, default=5.0)
    watch.add_argument("--iterations", type=_positive_int, help="stop after N views")

    schemas = commands.add_parser("schemas", help="JSON Schemas of the contracts")
    schema_commands = schemas.add_subparsers(
        dest="schemas_command", required=True, metavar="ACTION"
    )
    export = schema_commands.add_parser("export", help="write schemas/<name>.schema.json")
    export.add_argument("--dir", type=Path, default=Path("schemas"))
    return parser


def _run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "worker":
        from stream_app.cli.worker import run_worker

        return run_worker(settings)
    if args.command == "topics":
        from stream_app.cli.topics import create_topics

        for line in create_topics(settings, args.partitions):
            print(line)
        return 0
    if args.command == "produce-demo":
        from stream_app.cli.produce import produce_demo

        sent = produce_demo(
            settings,
            SystemClock(),
            accounts=args.accounts,
            rate=args.rate,
            count=args.count,
            seed=args.seed,
        )
        print(f"sent {sent} records")
        return 0
    if args.command == "replay":
        from stream_app.cli.produce import replay

        if not args.file.is_file():
            raise HealthstreamError(f"{args.file}: no such file")
        for topic, count in sorted(replay(settings, args.file).items()):
            print(f"{topic}: {count} records")
        return 0
    if args.command == "backtest":
        from stream_app.cli.offline import backtest

        return backtest(settings, args.file, args.output, args.tick_seconds, args.processes)
    if args.command == "cohort":
        from stream_app.cli.offline import write_cohort

        return write_cohort(
            settings, args.file, args.accounts, args.days, args.seed, args.truth, args.holidays
        )
    if args.command == "alert-quality":
        from stream_app.cli.offline import alert_quality

        return alert_quality(settings, args.output, args.truth)
    if args.command == "watch":
        from stream_app.cli.watch import watch

        watch(args.url, args.interval, args.iterations)
        return 0
    if args.command == "schemas":
        from stream_app.contracts.export import write_schemas

        for path in write_schemas(args.dir):
            print(path)
        return 0
    raise AssertionError(f"unhandled command {args.command}")  # argparse rejects unknown ones


def _explain(error: ValidationError) -> str:
    """One line per problem, naming the variable and never echoing a value: pydantic's own
    message quotes the input, which for a model-level check is every setting, secrets too."""
    lines = []
    for problem in error.errors(include_input=False, include_url=False, include_context=False):
        where = "__".join(str(part) for part in problem["loc"]).upper()
        lines.append(f"  {'HS_' + where if where else 'settings'}: {problem['msg']}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        settings = Settings()
    except ValidationError as exc:
        print(f"error: invalid configuration (HS_* environment):\n{_explain(exc)}", file=sys.stderr)
        return 2
    try:
        return _run(args, settings)
    except HealthstreamError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130

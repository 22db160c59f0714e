"""Checkpoint benchmark (part of `make bench`): LangGraph checkpoints through devskyy's API next to
langgraph-checkpoint-postgres writing to the same PostgreSQL directly.

    .venv/bin/python bench/checkpoints.py [--seconds 10] [--threads 4] [--warmup 2]
                                          [--server-workers 2] [--server-threads 8]

In one run, on one PostgreSQL server (the embedded one in .devskyy, or DATABASE_URL's), with
``--threads`` threads of this process, each on its own LangGraph thread (``thread_id``), calling
one saver shared by all of them (a saver is meant to be shared), each call timed:

1. direct: ``langgraph.checkpoint.postgres.PostgresSaver`` over a psycopg ``ConnectionPool``
   (one connection per thread; autocommit, ``prepare_threshold=0``, as its documentation sets
   them), after ``setup()``, on database ``<devskyy's>_direct``, so
   ``devskyy_bench_checkpoints_direct`` (its tables have the names of devskyy's). That saver
   holds a lock around every call, pool or not, so its threads take turns; for reference the
   same again with one saver per thread over the same pool (no lock shared): what direct
   access can do unserialized;
2. the API: ``devskyy_langgraph.DevskyyCheckpointSaver`` (sync, this tree's clients/langgraph)
   with an agent's API key, against devskyy's production server (``python -m devskyy.serve``:
   granian, WSGI) with production settings on database ``devskyy_bench_checkpoints``
   (``--server-workers`` processes of ``--server-threads`` blocking threads, default 2 x 8:
   production's default on two cores). The client keeps its connections alive and each stays
   with the worker that accepted it;
3. in process: ``agents_audit.checkpoint_saver.DatabaseCheckpointSaver`` as the same agent, in
   this process (Django's ORM, a connection per thread), on devskyy's database: the storage
   without the HTTP hop, as code inside devskyy (commands, workers) uses it.

For each, after ``--warmup`` seconds of the same calls unrecorded, ``--seconds`` each of:

- ``put``: the thread's next checkpoint, chained to the previous one (``parent`` config).
  A checkpoint as a chat graph makes it: ``messages`` (the last 10 messages, small dicts),
  ``counter`` (an int) and ``summary`` (a str, changed every 5th step); ``new_versions`` names
  the channels that changed (messages and counter, summary every 5th step); ``versions_seen``
  for two nodes; metadata with source, step, run_id and parents. The direct saver keeps the
  int and the str inline in its checkpoint row and writes one blob (messages) a step; devskyy's
  client sends every changed value as a blob (2 or 3 a step).
- ``put_writes``: a task's 2 writes (a message and the counter) for a new checkpoint id of
  the thread (as a step's writes before its checkpoint is put), 2 rows a call.
- ``get_tuple``: the thread's latest checkpoint with its values and its 3 pending writes (of
  2 tasks, written before this leg). Every answer is checked: the right thread and id, the
  values of its last put, 3 writes (a saver that mixed up threads' answers would fail here).

Reported per leg: calls per second (all threads), p50/p99 latency of one call, and the CPU
time per call of this process (the client), of the server's workers and of the PostgreSQL
client backends serving the leg (read from /proc; the backends only on the embedded server),
which on a small machine says where the time goes. The verdict: the API within 3x of direct access
(the shared saver) for put and for get_tuple; exit status 1 otherwise, 2 when a saver answered
a call wrongly. Results are printed and written to .devskyy/bench/checkpoints-<UTC stamp>.json.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "clients" / "langgraph"))  # this tree's client, whatever is installed
os.environ.setdefault("DEVSKYY_DB_NAME", "devskyy_bench_checkpoints")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "devskyy.settings.local")
os.environ.setdefault("DJANGO_DEBUG", "0")  # DEBUG would record every query
os.environ.setdefault("DB_STATEMENT_TIMEOUT_MS", "0")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from langchain_core.runnables import RunnableConfig  # noqa: E402
from langgraph.checkpoint.base import (  # noqa: E402
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
)
from langgraph.checkpoint.base.id import uuid6  # noqa: E402
from langgraph.checkpoint.postgres import PostgresSaver  # noqa: E402
from psycopg import sql  # noqa: E402
from psycopg.rows import dict_row  # noqa: E402
from psycopg_pool import ConnectionPool  # noqa: E402
from servers import database_url, start_server  # noqa: E402

from agents_audit.checkpoint_saver import DatabaseCheckpointSaver  # noqa: E402
from commerce.models import User  # noqa: E402
from commerce.services import api_key_create, user_create  # noqa: E402
from devskyy_langgraph import DevskyyCheckpointSaver  # noqa: E402

logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per request

RESULTS = ROOT / ".devskyy" / "bench"
AGENT = "bench-checkpoints-agent"
TARGET_RATIO = 3.0  # the API within 3x of direct access
MESSAGES = 10  # the messages a checkpoint holds
PENDING_WRITES = 3  # of the latest checkpoint, read by get_tuple
TABLES = ("checkpoints", "checkpoint_blobs", "checkpoint_writes")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# --- the workload: one LangGraph thread's steps ----------------------------------------------


def message(step: int, n: int) -> dict[str, Any]:
    """Message ``n`` of a step: the human's and the AI's (with a tool call) in turn."""
    kind = "human" if (step + n) % 2 == 0 else "ai"
    return {
        "type": kind,
        "id": f"msg-{step}-{n}",
        "content": f"Message {n} of step {step}: the order ships on Tuesday, tracking to follow.",
        "tool_calls": [] if kind == "human" else [{"name": "lookup_order", "args": {"n": step}}],
    }


@dataclass
class Conversation:
    """One LangGraph thread of a bench thread: its steps as a chat graph checkpoints them."""

    saver: BaseCheckpointSaver[Any]
    thread_id: str
    run_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    step: int = -1
    checkpoint_id: str | None = None  # the latest stored
    versions: dict[str, Any] = field(default_factory=dict)
    messages: list[dict[str, Any]] = field(default_factory=list)

    @property
    def config(self) -> RunnableConfig:
        configurable: dict[str, Any] = {"thread_id": self.thread_id, "checkpoint_ns": ""}
        if self.checkpoint_id is not None:
            configurable["checkpoint_id"] = self.checkpoint_id
        return {"configurable": configurable}

    def next_put(self) -> tuple[RunnableConfig, Checkpoint, CheckpointMetadata, ChannelVersions]:
        """The arguments of the next step's ``put``: its parent is the latest checkpoint."""
        step = self.step + 1
        self.messages = [*self.messages, message(step, 0)][-MESSAGES:]
        changed = ["messages", "counter"] + (["summary"] if step % 5 == 0 else [])
        new_versions = {
            channel: self.saver.get_next_version(self.versions.get(channel), None)
            for channel in changed
        }
        versions = {**self.versions, **new_versions}
        checkpoint: Checkpoint = {
            "v": 4,
            "id": str(uuid6(clock_seq=step)),
            "ts": datetime.now(UTC).isoformat(),
            "channel_values": {
                "messages": self.messages,
                "counter": step,
                "summary": f"The customer asked about order {step // 5}; we answered.",
            },
            "channel_versions": versions,
            "versions_seen": {
                "__input__": {},
                "agent": {"messages": self.versions.get("messages", "")},
                "tools": {"messages": self.versions.get("messages", ""), "counter": step},
            },
            "updated_channels": changed,
        }
        metadata: CheckpointMetadata = {
            "source": "loop",
            "step": step,
            "run_id": self.run_id,
            "parents": {},
        }
        return self.config, checkpoint, metadata, new_versions

    def stored(self, checkpoint: Checkpoint, returned: RunnableConfig) -> None:
        """Record a put (its answer checked): the next one chains to it."""
        expected = {
            "thread_id": self.thread_id,
            "checkpoint_ns": "",
            "checkpoint_id": checkpoint["id"],
        }
        if dict(returned["configurable"]) != expected:
            raise Mismatch(f"{self.thread_id}: put answered {returned}, not {expected}")
        self.step += 1
        self.checkpoint_id = checkpoint["id"]
        self.versions = dict(checkpoint["channel_versions"])

    def step_writes(self, n: int) -> list[tuple[str, Any]]:
        return [("messages", [message(self.step + 1, n + 1)]), ("counter", self.step + 1)]


class Mismatch(Exception):
    """A saver answered a call with something else than what was stored."""


# --- operations: each thread prepares, runs (timed) and checks its calls ---------------------


class Operation(Protocol):
    def prepare(self) -> Any: ...
    def run(self, prepared: Any) -> Any: ...
    def check(self, prepared: Any, result: Any) -> None: ...


class Put:
    def __init__(self, conversation: Conversation) -> None:
        self.conversation = conversation

    def prepare(self) -> Any:
        return self.conversation.next_put()

    def run(self, prepared: Any) -> Any:
        return self.conversation.saver.put(*prepared)

    def check(self, prepared: Any, result: Any) -> None:
        self.conversation.stored(prepared[1], result)


class PutWrites:
    """A task's writes for a new checkpoint id (not the latest: get_tuple reads that one)."""

    def __init__(self, conversation: Conversation) -> None:
        self.conversation = conversation
        self.calls = 0

    def prepare(self) -> Any:
        self.calls += 1
        config: RunnableConfig = {
            "configurable": {
                "thread_id": self.conversation.thread_id,
                "checkpoint_ns": "",
                "checkpoint_id": str(uuid6(clock_seq=self.calls)),
            }
        }
        return config, self.conversation.step_writes(self.calls), str(uuid.uuid4())

    def run(self, prepared: Any) -> Any:
        config, writes, task_id = prepared
        return self.conversation.saver.put_writes(config, writes, task_id, "~agent")

    def check(self, prepared: Any, result: Any) -> None:
        pass


class GetTuple:
    """The latest checkpoint of the thread, checked against what its last put stored."""

    def __init__(self, conversation: Conversation) -> None:
        self.conversation = conversation
        self.config: RunnableConfig = {
            "configurable": {"thread_id": conversation.thread_id, "checkpoint_ns": ""}
        }

    def prepare(self) -> Any:
        return None

    def run(self, prepared: Any) -> Any:
        return self.conversation.saver.get_tuple(self.config)

    def check(self, prepared: Any, result: Any) -> None:
        conversation = self.conversation
        found = None if result is None else result.config["configurable"]
        if (
            found is None
            or found["thread_id"] != conversation.thread_id
            or found["checkpoint_id"] != conversation.checkpoint_id
            or result.checkpoint["channel_values"].get("counter") != conversation.step
            or result.checkpoint["channel_values"].get("messages") != conversation.messages
            or len(result.pending_writes) != PENDING_WRITES
        ):
            raise Mismatch(f"{conversation.thread_id}: get_tuple answered {result}")


def add_pending_writes(conversation: Conversation) -> None:
    """3 writes of 2 tasks for the thread's latest checkpoint (what get_tuple reads)."""
    saver, config = conversation.saver, conversation.config
    saver.put_writes(config, conversation.step_writes(0), str(uuid.uuid4()), "~agent")
    saver.put_writes(
        config, [("summary", "Waiting for the customer.")], str(uuid.uuid4()), "~tools"
    )


# --- CPU time of the processes involved (Linux /proc) ----------------------------------------


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (0 when it is gone or unreadable)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def _children(pid: int) -> list[int]:
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return children


def backend_pids(databases: Sequence[str]) -> list[int]:
    """The PostgreSQL backends connected to ``databases`` (ours alone: their names are ours),
    when the server runs on this machine (the embedded one)."""
    if os.environ.get("DATABASE_URL"):
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = ANY(%s) AND pid <> pg_backend_pid() "
            "AND backend_type = 'client backend'",  # not autovacuum's
            [list(databases)],
        )
        return [row[0] for row in cursor.fetchall()]


@dataclass
class CpuMeter:
    """CPU seconds of this process, of the server's workers and of the database backends,
    between ``start()`` and ``stop()``."""

    databases: Sequence[str]
    server_pid: int | None = None
    _start: dict[str, Any] = field(default_factory=dict)

    def _sample(self) -> dict[str, Any]:
        workers = _children(self.server_pid) if self.server_pid else []
        return {
            "client": time.process_time(),
            "server": {pid: _cpu_seconds(pid) for pid in workers},
            "db": {pid: _cpu_seconds(pid) for pid in backend_pids(self.databases)},
        }

    def start(self) -> None:
        self._start = self._sample()

    def stop(self) -> dict[str, Any]:
        end = self._sample()

        def spent(kind: str) -> dict[int, float]:
            return {pid: cpu - self._start[kind].get(pid, 0.0) for pid, cpu in end[kind].items()}

        server, db = spent("server"), spent("db")
        return {
            "client": end["client"] - self._start["client"],
            "server": sum(server.values()),
            "server_per_worker": sorted((round(cpu, 2) for cpu in server.values()), reverse=True),
            "db": sum(db.values()) if db else None,
        }


# --- a leg: threads calling one operation ----------------------------------------------------


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * fraction))]


def run_leg(
    operations: Sequence[Operation], warmup: float, seconds: float, meter: CpuMeter
) -> dict[str, Any]:
    """Each operation in its own thread, over and over: ``warmup`` seconds unrecorded, then all
    together ``seconds`` recorded. Calls per second of all threads, latency of one call (ms),
    CPU ms per call."""
    barrier = threading.Barrier(len(operations) + 1)
    latencies: list[list[float]] = [[] for _ in operations]
    errors: list[BaseException] = []

    def call(operation: Operation) -> float:
        prepared = operation.prepare()
        began = time.perf_counter()
        result = operation.run(prepared)
        took = time.perf_counter() - began
        operation.check(prepared, result)
        return took

    def work(n: int, operation: Operation) -> None:
        try:
            deadline = time.monotonic() + warmup
            while time.monotonic() < deadline:
                call(operation)
            barrier.wait()
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                latencies[n].append(call(operation))
        except threading.BrokenBarrierError:
            pass
        except BaseException as error:
            errors.append(error)
            barrier.abort()

    threads = [
        threading.Thread(target=work, args=(n, operation), daemon=True)
        for n, operation in enumerate(operations)
    ]
    for thread in threads:
        thread.start()
    with suppress(threading.BrokenBarrierError):  # a thread failed: raised below
        barrier.wait()
    meter.start()
    began = time.monotonic()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    cpu = meter.stop()
    if errors:
        raise errors[0]
    every = sorted(latency * 1000 for thread_latencies in latencies for latency in thread_latencies)
    calls = len(every)
    if not calls:
        raise SystemExit("bench: no call finished within the leg")
    return {
        "ops_per_s": round(calls / elapsed, 1),
        "calls": calls,
        "p50_ms": round(statistics.median(every), 2),
        "p99_ms": round(percentile(every, 0.99), 2),
        "cpu_ms_per_op": {
            "client": round(cpu["client"] * 1000 / calls, 3),
            "server": round(cpu["server"] * 1000 / calls, 3) if cpu["server"] else None,
            "db": None if cpu["db"] is None else round(cpu["db"] * 1000 / calls, 3),
        },
        "server_cpu_s_per_worker": cpu["server_per_worker"],
    }


# --- the targets -----------------------------------------------------------------------------


def ensure_database(name: str) -> None:
    """Create database ``name`` on Django's server unless it exists."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)).as_string())


def direct_database() -> str:
    """The direct saver's database, beside devskyy's on the same server."""
    return f"{connection.settings_dict['NAME']}_direct"


def direct_pool(size: int) -> ConnectionPool[Any]:
    """A pool on the direct saver's database, its tables set up and emptied."""
    ensure_database(direct_database())
    pool: ConnectionPool[Any] = ConnectionPool(
        database_url(direct_database()),
        min_size=size,
        max_size=size,
        kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
        open=True,
    )
    PostgresSaver(pool).setup()
    with pool.connection() as conn:
        conn.execute("TRUNCATE " + ", ".join(TABLES))
    return pool


def agent_key() -> tuple[User, str]:
    """The bench agent (its threads of earlier runs deleted) and a new API key of it."""
    agent = User.objects.filter(username=AGENT).first() or user_create(
        username=AGENT, email=f"{AGENT}@devskyy.local", role=User.Role.AGENT, password=None
    )
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM checkpoint_threads WHERE owner_id = %s", [agent.pk])
    _, key = api_key_create(user=agent, name="checkpoint bench")
    return agent, key


def analyze(pool: ConnectionPool[Any] | None) -> None:
    """Fresh statistics of the tables the puts filled (on both databases alike)."""
    statement = "ANALYZE " + ", ".join(TABLES)
    if pool is None:
        with connection.cursor() as cursor:
            cursor.execute(statement)
    else:
        with pool.connection() as conn:
            conn.execute(statement)


@contextmanager
def api_server(workers: int, threads: int) -> Iterator[tuple[str, int]]:
    process, url = start_server(workers, threads=threads)
    try:
        yield url, process.pid
    finally:
        process.terminate()
        process.wait(timeout=60)


# --- main ------------------------------------------------------------------------------------

LEGS: tuple[tuple[str, Callable[[Conversation], Operation]], ...] = (
    ("put", Put),
    ("put_writes", PutWrites),
    ("get_tuple", GetTuple),
)
# The results' keys and the names printed.
TARGETS = {
    "direct": "direct",
    "direct_saver_per_thread": "direct, a saver per thread",
    "api": "API",
    "in_process": "in process",  # DatabaseCheckpointSaver: devskyy's storage without HTTP
}
VERDICT_LEGS = ("put", "get_tuple")  # the target; put_writes is reported beside them


@dataclass
class Target:
    """One way to store checkpoints, with the LangGraph threads its bench threads write."""

    name: str
    conversations: list[Conversation]
    meter: CpuMeter
    pool: ConnectionPool[Any] | None  # the direct database's; None: devskyy's

    @classmethod
    def of(
        cls,
        name: str,
        savers: Sequence[BaseCheckpointSaver[Any]],
        meter: CpuMeter,
        pool: ConnectionPool[Any] | None = None,
    ) -> Target:
        """``savers``: one per bench thread (the same one when shared)."""
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        conversations = [
            Conversation(saver, f"bench-{name}-{stamp}-{n}") for n, saver in enumerate(savers)
        ]
        return cls(name, conversations, meter, pool)

    def run(
        self, leg: str, operation: Callable[[Conversation], Operation], args: argparse.Namespace
    ) -> dict[str, Any]:
        if leg == "get_tuple":
            for conversation in self.conversations:
                add_pending_writes(conversation)
            analyze(self.pool)
        result = run_leg(
            [operation(conversation) for conversation in self.conversations],
            args.warmup,
            args.seconds,
            self.meter,
        )
        print(f"  {TARGETS[self.name]} {leg}: {result['ops_per_s']:.1f}/s", flush=True)
        return result


def run_legs(targets: Sequence[Target], args: argparse.Namespace) -> dict[str, Any]:
    """Each leg for every target in turn (direct and API measured minutes apart would compare
    two different loads of a busy machine), put first: get_tuple reads what the puts wrote."""
    results: dict[str, Any] = {target.name: {} for target in targets}
    for leg, operation in LEGS:
        for target in targets:
            results[target.name][leg] = target.run(leg, operation, args)
    for target in targets:
        results[target.name]["checkpoints_per_thread"] = [
            conversation.step + 1 for conversation in target.conversations
        ]
    return results


def table(results: dict[str, Any]) -> None:
    header = ("", "calls/s", "p50 ms", "p99 ms", "client", "server", "db")
    rows: list[Sequence[str]] = [header]
    for target, name in TARGETS.items():
        for leg, _ in LEGS:
            found = results[target][leg]
            cpu = found["cpu_ms_per_op"]
            rows.append(
                (
                    f"{name} {leg}",
                    f"{found['ops_per_s']:.1f}",
                    f"{found['p50_ms']:.2f}",
                    f"{found['p99_ms']:.2f}",
                    *("-" if cpu[kind] is None else f"{cpu[kind]:.2f}" for kind in cpu),
                )
            )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    print(f"\n  {'':<{sum(widths[:4]) + 6}}  CPU ms per call")
    for number, row in enumerate(rows):
        print(
            "  "
            + "  ".join(
                cell.ljust(width) if i == 0 else cell.rjust(width)
                for i, (cell, width) in enumerate(zip(row, widths, strict=True))
            )
        )
        if number == 0:
            print("  " + "  ".join("-" * width for width in widths))
    sys.stdout.flush()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="recorded, per leg")
    parser.add_argument("--warmup", type=float, default=2.0, help="unrecorded, before each leg")
    parser.add_argument("--threads", type=int, default=4, help="concurrent callers")
    parser.add_argument("--server-workers", type=int, default=2, help="the API's processes")
    parser.add_argument("--server-threads", type=int, default=8, help="threads per process")
    parser.add_argument("--output", type=Path, help="the JSON file (default .devskyy/bench/...)")
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.warmup < 0 or args.threads < 1:
        parser.error("--seconds must be positive, --warmup not negative, --threads at least 1")

    call_command("migrate", verbosity=0)
    agent, key = agent_key()
    print(
        f"checkpoint bench: {args.threads} threads x {args.seconds:g} s per leg "
        f"({args.warmup:g} s warm-up), server {args.server_workers} workers x "
        f"{args.server_threads} threads, {os.cpu_count()} CPUs",
        flush=True,
    )
    results: dict[str, Any] = {
        "threads": args.threads,
        "seconds": args.seconds,
        "warmup": args.warmup,
        "server": "granian",
        "server_workers": args.server_workers,
        "server_threads": args.server_threads,
        "cpus": os.cpu_count(),
        "load_average_before": os.getloadavg(),
    }
    api_database = connection.settings_dict["NAME"]
    with api_server(args.server_workers, args.server_threads) as (url, server_pid):
        pool = direct_pool(args.threads)
        saver = DevskyyCheckpointSaver(base_url=url, api_key=key)
        try:
            direct_meter = CpuMeter([direct_database()])
            shared = PostgresSaver(pool)
            own = [PostgresSaver(pool) for _ in range(args.threads)]
            targets = [
                Target.of("direct", [shared] * args.threads, direct_meter, pool),
                Target.of("direct_saver_per_thread", own, direct_meter, pool),
                Target.of("api", [saver] * args.threads, CpuMeter([api_database], server_pid)),
                Target.of(
                    "in_process",
                    [DatabaseCheckpointSaver(agent)] * args.threads,
                    CpuMeter([api_database]),
                ),
            ]
            results.update(run_legs(targets, args))
        except Mismatch as error:
            print(f"bench: {error}", file=sys.stderr)
            return 2
        finally:
            saver.close()
            pool.close()
    results["load_average_after"] = os.getloadavg()

    table(results)
    api = results["api"]
    ratios = {
        leg: round(results["direct"][leg]["ops_per_s"] / api[leg]["ops_per_s"], 2)
        for leg, _ in LEGS
    }
    unlocked = {
        leg: round(results["direct_saver_per_thread"][leg]["ops_per_s"] / api[leg]["ops_per_s"], 2)
        for leg, _ in LEGS
    }
    failures = [leg for leg in VERDICT_LEGS if ratios[leg] > TARGET_RATIO]
    results["direct_over_api"] = ratios
    results["direct_saver_per_thread_over_api"] = unlocked
    results["direct_over_in_process"] = {
        leg: round(results["direct"][leg]["ops_per_s"] / results["in_process"][leg]["ops_per_s"], 2)
        for leg, _ in LEGS
    }
    results["failures"] = failures
    print(f"\n  direct / API (target: at most {TARGET_RATIO:g} for put and get_tuple)")
    for leg, _ in LEGS:
        verdict = ("BELOW TARGET" if leg in failures else "ok") if leg in VERDICT_LEGS else "-"
        print(
            f"  {leg:<11} {ratios[leg]:5.2f}  {verdict:<12}"
            f"  (a direct saver per thread: {unlocked[leg]:.2f};"
            f" direct / in process: {results['direct_over_in_process'][leg]:.2f})"
        )
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    output = args.output or RESULTS / f"checkpoints-{stamp}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2))
    print(f"  results: {output}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

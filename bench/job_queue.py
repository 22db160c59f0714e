"""Queue benchmark (part of `make bench`): how fast jobs are claimed and completed.

    .venv/bin/python bench/job_queue.py [--seconds 10] [--workers 4] [--finished 1000000]

In one run, on one database (the embedded PostgreSQL in .devskyy, database `devskyy_bench_queue`,
or DATABASE_URL's server), each with ``--workers`` concurrent worker processes that claim one job
and complete it, over and over, for ``--seconds``:

1. raw SQL: the plain ``UPDATE ... WHERE id = (SELECT ... FOR UPDATE SKIP LOCKED LIMIT 1)``
   claim and a fenced ``UPDATE`` complete, on the jobs table itself, with psycopg and nothing
   else: the ceiling for this table on this machine. Twice: with psycopg's defaults (server-side
   binding, each statement prepared after five executions) and bound on the client with nothing
   prepared, which is how Django sends every statement (its default, kept for poolers); no
   events, no pause check, no lease recovery;
2. the services: ``job_claim`` + ``job_complete`` (lease recovery, validation, events);
3. the API: ``POST /api/v1/jobs/claim/`` + ``.../complete/`` against devskyy served as in
   production (``python -m devskyy.serve``) with production settings (httpx clients with
   keep-alive);
4. the services again with ``--finished`` finished jobs in the table (claims read only the
   partial index over runnable jobs, so the depth of the history must not matter);
5. latency from an enqueue's commit to a waiting worker's claim (``wait_seconds``, woken by
   LISTEN/NOTIFY), one job every 50 ms, p50 and p99.

The services must reach half of the raw SQL rate sent the way Django sends SQL (exit status 1
otherwise); the ratio to psycopg's prepared statements is reported beside it. Results are printed
and written to .devskyy/bench/queue-<UTC stamp>.json.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DEVSKYY_DB_NAME", "devskyy_bench_queue")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "devskyy.settings.local")
os.environ.setdefault("DJANGO_DEBUG", "0")  # DEBUG would record every query of the workers
os.environ.setdefault("DB_STATEMENT_TIMEOUT_MS", "0")  # setting up a million rows is not a request

import django  # noqa: E402

django.setup()

import httpx  # noqa: E402
import psycopg  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, connections, transaction  # noqa: E402
from servers import start_server  # noqa: E402

from agents_audit.models import Task  # noqa: E402
from agents_audit.services import jobs as queue  # noqa: E402
from agents_audit.services.tasks import task_approve, task_create  # noqa: E402
from commerce.models import User  # noqa: E402
from commerce.services import api_key_create, user_create  # noqa: E402

logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per request

JOB_TYPE = "bench.work"
RESULTS = ROOT / ".devskyy" / "bench"

RAW_CLAIM = """
UPDATE jobs SET status = 'running', worker_id = %(worker)s, lease_token = gen_random_uuid(),
       lease_expires_at = now() + interval '60 seconds', attempts = attempts + 1
 WHERE id = (SELECT id FROM jobs
              WHERE status IN ('queued', 'failed') AND job_type = ANY(%(types)s)
                AND run_after <= now()
              ORDER BY job_type, priority DESC, run_after, id
              LIMIT 1 FOR UPDATE SKIP LOCKED)
RETURNING id, lease_token
"""
RAW_COMPLETE = """
UPDATE jobs SET status = 'succeeded', finished_at = now(), lease_token = NULL,
       lease_expires_at = NULL
 WHERE id = %s AND status = 'running' AND lease_token = %s
"""


# --- setup -----------------------------------------------------------------------------------


def _user(username: str, role: str) -> User:
    user = User.objects.filter(username=username).first()
    return user or user_create(
        username=username, email=f"{username}@devskyy.local", role=role, password=None
    )


def bench_task() -> tuple[Task, str]:
    """An approved task of the bench agent, and an API key of that agent."""
    agent = _user("bench-queue-agent", User.Role.AGENT)
    operator = _user("bench-queue-operator", User.Role.OPERATOR)
    task = task_approve(
        task=task_create(request_text="Queue benchmark", created_by=agent), by=operator
    )
    _, key = api_key_create(user=agent, name="queue bench")
    return task, key


def fill(task: Task, count: int, *, status: str = "queued") -> None:
    """``count`` jobs of the bench type (finished ones: succeeded an hour ago), in one
    statement."""
    finished = "now() - interval '1 hour'" if status != "queued" else "NULL"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO jobs (task_id, job_type, status, payload, finished_at)
            SELECT %s, %s, %s, jsonb_build_object('n', g), {finished}
              FROM generate_series(1, %s) AS g
            """,  # noqa: S608 (two fixed SQL fragments)
            [task.pk, JOB_TYPE if status == "queued" else "bench.history", status, count],
        )


def clear_runnable() -> None:
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM jobs WHERE job_type = %s", [JOB_TYPE])
        cursor.execute("VACUUM ANALYZE jobs")


# --- workers (each in its own process) -------------------------------------------------------


def _raw_worker(n: int, seconds: float, start: Any, out: Any, client_binding: bool = False) -> None:
    """psycopg's defaults: server-side binding, statements prepared after 5 executions. With
    ``client_binding``: parameters bound on the client and nothing prepared, as Django sends
    every statement (its PostgreSQL backend's default, kept for connection poolers)."""
    params = connections["default"].get_connection_params()
    keep = {"dbname", "user", "password", "host", "port"}
    with psycopg.connect(**{k: v for k, v in params.items() if k in keep}, autocommit=True) as conn:
        cursor = psycopg.ClientCursor(conn) if client_binding else conn.cursor()
        start.wait()
        done, deadline = 0, time.monotonic() + seconds
        while time.monotonic() < deadline:
            cursor.execute(RAW_CLAIM, {"worker": f"raw-{n}", "types": [JOB_TYPE]})
            row = cursor.fetchone()
            if row is None:
                break
            cursor.execute(RAW_COMPLETE, row)
            done += 1
    out.put(done)


def _raw_client_bound_worker(n: int, seconds: float, start: Any, out: Any) -> None:
    _raw_worker(n, seconds, start, out, client_binding=True)


def _service_worker(n: int, seconds: float, start: Any, out: Any) -> None:
    connections.close_all()
    start.wait()
    done, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        job = queue.job_claim(worker_id=f"service-{n}", job_types=[JOB_TYPE], lease_seconds=60)
        if job is None:
            break
        queue.job_complete(job_id=job.pk, lease_token=job.lease_token)
        done += 1
    connections.close_all()
    out.put(done)


def _api_worker(n: int, seconds: float, start: Any, out: Any, url: str, key: str) -> None:
    with httpx.Client(base_url=url, headers={"Authorization": f"Api-Key {key}"}) as client:
        start.wait()
        done, deadline = 0, time.monotonic() + seconds
        while time.monotonic() < deadline:
            claimed = client.post(
                "/api/v1/jobs/claim/",
                json={"worker_id": f"api-{n}", "job_types": [JOB_TYPE]},
                timeout=30,
            )
            if claimed.status_code == 204:
                break
            job = claimed.json()
            client.post(
                f"/api/v1/jobs/{job['id']}/complete/",
                json={"lease_token": job["lease_token"]},
                timeout=30,
            ).raise_for_status()
            done += 1
    out.put(done)


def run_workers(target: Callable[..., None], workers: int, seconds: float, *extra: Any) -> float:
    """Jobs claimed and completed per second by ``workers`` processes running ``target``."""
    connections.close_all()
    context = multiprocessing.get_context("fork")
    start, out = context.Barrier(workers + 1), context.Queue()
    processes = [
        context.Process(target=target, args=(n, seconds, start, out, *extra))
        for n in range(workers)
    ]
    for process in processes:
        process.start()
    start.wait()
    began = time.monotonic()
    total = sum(out.get(timeout=seconds + 120) for _ in processes)
    elapsed = time.monotonic() - began
    for process in processes:
        process.join()
    return total / elapsed


# --- latency ---------------------------------------------------------------------------------


def _waiting_worker(url: str, key: str, count: int, out: Any, ready: Any) -> None:
    received: dict[int, float] = {}
    with httpx.Client(base_url=url, headers={"Authorization": f"Api-Key {key}"}) as client:
        ready.set()
        while len(received) < count:
            claimed = client.post(
                "/api/v1/jobs/claim/",
                json={"worker_id": "waiting", "job_types": [JOB_TYPE], "wait_seconds": 30},
                timeout=60,
            )
            if claimed.status_code == 204:
                continue
            job = claimed.json()
            received[job["id"]] = time.time()
            client.post(
                f"/api/v1/jobs/{job['id']}/complete/", json={"lease_token": job["lease_token"]}
            ).raise_for_status()
    out.put(received)


def enqueue_to_claim_latency(task: Task, url: str, key: str, count: int) -> dict[str, float]:
    context = multiprocessing.get_context("fork")
    out, ready = context.Queue(), context.Event()
    connections.close_all()
    worker = context.Process(target=_waiting_worker, args=(url, key, count, out, ready))
    worker.start()
    ready.wait()
    time.sleep(0.5)  # let the first claim find nothing and start waiting
    committed: dict[int, float] = {}
    for n in range(count):
        with transaction.atomic():
            job, _ = queue.job_enqueue(task=task, job_type=JOB_TYPE, payload={"n": n}, by=None)
        committed[job.pk] = time.time()
        time.sleep(0.05)
    received = out.get(timeout=120)
    worker.join()
    latencies = sorted((received[job_id] - at) * 1000 for job_id, at in committed.items())
    return {
        "p50_ms": statistics.median(latencies),
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        "max_ms": latencies[-1],
        "samples": len(latencies),
    }


# --- main ------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--finished", type=int, default=1_000_000)
    parser.add_argument("--latency-samples", type=int, default=200)
    parser.add_argument("--server-workers", type=int, default=2)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    task, key = bench_task()
    enough = int(args.seconds * 20_000)  # more than any phase can take
    results: dict[str, Any] = {"workers": args.workers, "seconds": args.seconds}

    def phase(name: str, target: Callable[..., None], *extra: Any) -> None:
        clear_runnable()
        fill(task, enough)
        rate = run_workers(target, args.workers, args.seconds, *extra)
        results[name] = round(rate, 1)
        print(f"  {name:<34} {rate:10.1f} jobs/s", flush=True)

    print(f"queue bench: {args.workers} workers x {args.seconds:g} s per phase", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM jobs WHERE job_type = 'bench.history'")
    phase("raw SQL (claim + complete)", _raw_worker)
    phase("raw SQL, bound like Django", _raw_client_bound_worker)
    phase("services", _service_worker)
    server, url = start_server(args.server_workers)
    try:
        phase("API (keep-alive)", _api_worker, url, key)
        fill(task, args.finished, status="succeeded")
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE jobs")
        phase(f"services, {args.finished:,} finished jobs", _service_worker)
        clear_runnable()
        latency = enqueue_to_claim_latency(task, url, key, args.latency_samples)
    finally:
        server.terminate()
        server.wait(timeout=60)
    results["enqueue_to_claim"] = latency
    print(
        f"  enqueue -> waiting claim: p50 {latency['p50_ms']:.1f} ms, "
        f"p99 {latency['p99_ms']:.1f} ms ({latency['samples']} jobs)"
    )
    prepared = results["services"] / results["raw SQL (claim + complete)"]
    ratio = results["services"] / results["raw SQL, bound like Django"]
    results["services_over_raw"] = round(prepared, 3)
    results["services_over_raw_bound_like_django"] = round(ratio, 3)
    verdict = "ok" if ratio >= 0.5 else "BELOW TARGET"
    print(f"  services / raw SQL (prepared by psycopg): {prepared:.2f}")
    print(f"  services / raw SQL bound like Django: {ratio:.2f} (target >= 0.50: {verdict})")
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (RESULTS / f"queue-{stamp}.json").write_text(json.dumps(results, indent=2))
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM jobs WHERE job_type IN (%s, 'bench.history')", [JOB_TYPE])
    return 0 if ratio >= 0.5 else 1


if __name__ == "__main__":
    sys.exit(main())

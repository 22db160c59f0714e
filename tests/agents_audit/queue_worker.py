"""A job queue worker for the tests, run as a process of its own on the test database
(``tests.processes.child_env``). It works through the services, one claim per job.

    python -m tests.agents_audit.queue_worker drain <worker_id> <job_type> [--wait]
        Claims jobs one at a time until none is left. For each: inserts (job id, worker id)
        into the test's effect table ``queue_test_effects`` (its primary key is the job id: a
        job processed twice fails the insert, and the worker exits non-zero), then completes
        the job. With ``--wait``, prints "ready" and waits for a line on stdin first, so that
        several workers start claiming together. Prints "processed <n>" at the end.

    python -m tests.agents_audit.queue_worker hang <worker_id> <job_type> <n>
        Claims n jobs, prints "claimed <id>:<lease token> ..." and then does nothing until it
        is killed: a worker that dies mid-job.
"""

from __future__ import annotations

import sys
import time

import django


def drain(worker_id: str, job_type: str, wait: bool) -> int:
    from django.db import connection

    from agents_audit.services.jobs import job_claim, job_complete

    if wait:
        print("ready", flush=True)
        sys.stdin.readline()
    processed = 0
    while (job := job_claim(worker_id=worker_id, job_types=[job_type])) is not None:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO queue_test_effects (job_id, worker_id) VALUES (%s, %s)",
                [job.pk, worker_id],
            )
        job_complete(job_id=job.pk, lease_token=job.lease_token, result={"by": worker_id})
        processed += 1
    print(f"processed {processed}", flush=True)
    return 0


def hang(worker_id: str, job_type: str, count: int) -> int:
    from agents_audit.services.jobs import job_claim

    claimed = []
    for _ in range(count):
        job = job_claim(worker_id=worker_id, job_types=[job_type])
        if job is None:
            break
        claimed.append(f"{job.pk}:{job.lease_token}")
    print("claimed " + " ".join(claimed), flush=True)
    time.sleep(600)  # the test kills this process long before
    return 1


def main(argv: list[str]) -> int:
    django.setup()
    mode, worker_id, job_type, *rest = argv
    if mode == "drain":
        return drain(worker_id, job_type, wait="--wait" in rest)
    return hang(worker_id, job_type, int(rest[0]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""bench/checkpoints.py (part of `make bench`) runs end to end at tiny sizes, in a child process
on the test database as `make bench` runs it on its own: every leg of every target is measured,
every answer of the savers was checked (a wrong one exits 2), and the verdict follows from the
ratios it reports. The target itself is not asserted: it depends on the machine."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from django.db import connection
from psycopg import sql

from agents_audit.models import CheckpointThread
from tests.processes import PYTHON, ROOT, child_env

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

TINY = ["--seconds", "0.3", "--warmup", "0.1", "--threads", "2", "--server-workers", "1"]


@pytest.fixture
def direct_database():
    """The database the bench gives the direct saver, beside the test database: dropped after."""
    name = f"{connection.settings_dict['NAME']}_direct"
    yield name
    with connection.cursor() as cursor:
        # A DROP DATABASE waits for a checkpoint of the whole server: longer than the
        # statement timeout of the test settings when the server is busy.
        cursor.execute("SET statement_timeout = 0")
        cursor.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        cursor.execute("RESET statement_timeout")


def test_the_checkpoint_benchmark_measures_every_leg_and_reports_its_verdict(
    tmp_path: Path, direct_database: str
):
    output = tmp_path / "checkpoints.json"

    run = subprocess.run(  # noqa: S603 (our interpreter, fixed arguments)
        [PYTHON, "bench/checkpoints.py", *TINY, "--output", str(output)],
        cwd=ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )

    assert run.returncode in (0, 1), run.stdout + run.stderr
    assert output.exists(), run.stdout + run.stderr  # 1 with no results: it crashed
    results = json.loads(output.read_text())
    assert results["threads"] == 2
    assert (results["server"], results["server_workers"]) == ("granian", 1)
    for target in ("direct", "direct_saver_per_thread", "api", "in_process"):
        for leg in ("put", "put_writes", "get_tuple"):
            found = results[target][leg]
            assert found["calls"] > 0, (target, leg)
            assert found["ops_per_s"] > 0, (target, leg)
            assert 0 < found["p50_ms"] <= found["p99_ms"], (target, leg)
            assert found["cpu_ms_per_op"]["client"] > 0, (target, leg)
        # each bench thread chained its own LangGraph thread's checkpoints
        assert len(results[target]["checkpoints_per_thread"]) == 2
        assert min(results[target]["checkpoints_per_thread"]) > 0
    ratios = results["direct_over_api"]
    assert set(ratios) == {"put", "put_writes", "get_tuple"}
    assert results["failures"] == [leg for leg in ("put", "get_tuple") if ratios[leg] > 3]
    assert run.returncode == (1 if results["failures"] else 0)
    assert "direct / API" in run.stdout
    assert set(results["direct_over_in_process"]) == {"put", "put_writes", "get_tuple"}
    # the API's and the in-process saver's threads are the bench agent's, in devskyy's database;
    # the direct saver's are not
    agents_threads = CheckpointThread.objects.filter(owner__username="bench-checkpoints-agent")
    assert sorted(thread.thread_id.split("-")[1] for thread in agents_threads) == [
        "api",
        "api",
        "in_process",
        "in_process",
    ]
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [direct_database])
        assert cursor.fetchone() is not None

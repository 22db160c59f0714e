"""Prepare devskyy's database for `make bench` (called by bench/target.sh).

setup_target.py prefill --harness DIR --rows N   # the harness's prefill, owned by the bench agent
setup_target.py key                              # print "Api-Key <key>" for the bench agent
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "devskyy.settings.production")

import django

django.setup()

from django.db import connection  # noqa: E402

from commerce.models import User  # noqa: E402
from commerce.services import api_key_create, user_create  # noqa: E402

AGENT = "bench-agent"


def bench_agent() -> User:
    user = User.objects.filter(username=AGENT).first()
    return user or user_create(
        username=AGENT, email="bench-agent@devskyy.local", role="agent", password=None
    )


def prefill(harness: Path, rows: int) -> None:
    agent = bench_agent()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM tool_executions WHERE user_id = %s", [agent.pk])
        if cursor.fetchone()[0] >= rows:
            return
    settings = connection.settings_dict
    uri = (
        f"postgresql://{settings['USER']}@/{settings['NAME']}"
        f"?host={settings['HOST'] or settings['OPTIONS'].get('host')}"
    )
    subprocess.run(  # noqa: S603 (the harness's own script, by path)
        [
            str(harness / ".venv/bin/python"),
            str(harness / "prefill.py"),
            "--uri",
            uri,
            "--rows",
            str(rows),
        ],
        check=True,
    )
    # The harness writes rows without an owner; the bench calls the API as this agent, and an
    # agent sees the tool executions it recorded.
    with connection.cursor() as cursor:
        cursor.execute("UPDATE tool_executions SET user_id = %s WHERE user_id IS NULL", [agent.pk])
        cursor.execute("VACUUM (ANALYZE) tool_executions")


def key() -> None:
    _, plaintext = api_key_create(user=bench_agent(), name="bench")
    print(f"Api-Key {plaintext}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["prefill", "key"])
    parser.add_argument("--harness", type=Path)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    if args.what == "prefill":
        prefill(args.harness, args.rows)
    else:
        key()

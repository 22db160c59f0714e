#!/usr/bin/env bash
# `make bench`: devskyy beside the seed's own stack (FastAPI + SQLAlchemy async, in
# ../shared/bench), on one embedded PostgreSQL 18, in one run, bounded in time (~6 minutes).
#
# The harness is copied to .devskyy/bench/harness (its folder in shared/ is read-only) and set
# up there once (its own .venv, and wrk from Debian's packages). devskyy runs under its
# production server (python -m devskyy.serve: granian) with production settings, 3 processes of
# one thread each (wrk's 16 busy connections: no Python threads contending for one process's
# GIL); both targets get PREFILL_ROWS (default 1,000,000) tool executions.
# Results: .devskyy/bench/harness/results/<stamp>/ and the tables on stdout.
#
# Knobs: PREFILL_ROWS, WEB_WORKERS (3) and WEB_THREADS (1) for this run, BENCH_HARNESS (path of
# the harness), and the harness's own (DURATION, REPS, SCENARIOS, ...: see its run_peer.sh);
# QUEUE_BENCH_ARGS, KNOWLEDGE_BENCH_ARGS and CHECKPOINT_BENCH_ARGS for the three benchmarks that
# follow it.
#
# Not part of this run: `make bench-admin` (bench/admin_pages.py), the server time of every admin
# page against the current database, once it is filled (`manage.py seed_sample_data --scale 1`).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SRC="${BENCH_HARNESS:-$ROOT/../shared/bench}"
HARNESS="$ROOT/.devskyy/bench/harness"

if [ ! -d "$SRC" ]; then
  echo "bench: no harness at $SRC (set BENCH_HARNESS)" >&2
  exit 2
fi
mkdir -p "$HARNESS"
# Refresh the harness's code, keep its .venv, data and results.
(cd "$SRC" && tar cf - --exclude=.venv --exclude=data --exclude=results .) | (cd "$HARNESS" && tar xf -)
chmod -R u+w "$HARNESS"
# The harness's prefill computes (g * 7919) in int4, which overflows past 271,185 rows; widen it
# to bigint in our copy so that 1,000,000 rows can be written (same values below that).
sed -i 's/(g \* 7919) %% 30000/(g::bigint * 7919) %% 30000/' "$HARNESS/prefill.py"
if [ ! -x "$HARNESS/.venv/bin/python" ] || ! command -v wrk >/dev/null 2>&1; then
  (cd "$HARNESS" && ./setup.sh)
fi

export PREFILL_ROWS="${PREFILL_ROWS:-1000000}"
export DEVSKYY_ROOT="$ROOT"
export TARGET2_NAME=devskyy
export TARGET2_CMD="bash '$ROOT/bench/target.sh'"
export TARGET2_READY_TIMEOUT="${TARGET2_READY_TIMEOUT:-600}"
(cd "$HARNESS" && WEB_WORKERS="${WEB_WORKERS:-3}" WEB_THREADS="${WEB_THREADS:-1}" ./run_peer.sh "$@")

# The job queue: raw SKIP LOCKED SQL vs the services vs the API, depth, wake-up latency (~2 min;
# its own database on devskyy's embedded PostgreSQL; knobs: see bench/job_queue.py --help).
# The benchmarks below run even if one misses its target; the exit status says if any did.
status=0
"$ROOT/.venv/bin/python" "$ROOT/bench/job_queue.py" ${QUEUE_BENCH_ARGS:-} || status=$?

# The knowledge base: ingestion with and without the embedder, search latency per mode and
# HNSW recall at 100,000 chunks (~5 min; loading the corpus, the first time, adds ~1; its own
# database; knobs in KNOWLEDGE_BENCH_ARGS: see bench/knowledge_base.py --help).
"$ROOT/.venv/bin/python" "$ROOT/bench/knowledge_base.py" ${KNOWLEDGE_BENCH_ARGS:-} || status=$?

# LangGraph checkpoints: put, put_writes and get_tuple per second through devskyy's API
# (DevskyyCheckpointSaver, 4 threads) next to langgraph-checkpoint-postgres on the same server
# (~2 min; two databases of its own; knobs in CHECKPOINT_BENCH_ARGS: see
# bench/checkpoints.py --help).
"$ROOT/.venv/bin/python" "$ROOT/bench/checkpoints.py" ${CHECKPOINT_BENCH_ARGS:-} || status=$?
exit "$status"

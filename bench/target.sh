#!/usr/bin/env bash
# The devskyy side of `make bench`, started by the harness's run_peer.sh (TARGET2_CMD) with
# BENCH_PORT, BENCH_DIR, BENCH_DATA, BENCH_PG_SOCKET_DIR and BENCH_AUTH_FILE set.
set -euo pipefail
cd "$DEVSKYY_ROOT"
PY="$DEVSKYY_ROOT/.venv/bin/python"

"$BENCH_DIR/.venv/bin/python" "$BENCH_DIR/pgctl.py" createdb "$BENCH_DATA" devskyy_bench >/dev/null
SOCKET="$("$PY" -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' \
  "$BENCH_PG_SOCKET_DIR")"
export DATABASE_URL="postgres://postgres@$SOCKET/devskyy_bench"
export DJANGO_SETTINGS_MODULE=devskyy.settings.production
export DJANGO_SECRET_KEY="bench-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost
export DJANGO_SECURE_SSL_REDIRECT=0     # plain HTTP on loopback
export API_THROTTLE_RATE=""             # the peer has no rate limit either
export DJANGO_LOG_LEVEL=WARNING

"$PY" manage.py migrate --no-input -v0
# Setting up a million rows is maintenance, not a request: no statement timeout for it.
DB_STATEMENT_TIMEOUT_MS=0 "$PY" bench/setup_target.py prefill --harness "$BENCH_DIR" \
  --rows "$PREFILL_ROWS"
"$PY" bench/setup_target.py key > "$BENCH_AUTH_FILE"

# The production server; WEB_WORKERS and WEB_THREADS come from run.sh.
WEB_BIND="127.0.0.1:$BENCH_PORT" WEB_LOG_LEVEL=warning exec "$PY" -m devskyy.serve

"""gunicorn's configuration for devskyy (`gunicorn devskyy.wsgi` reads it from the working
directory).

Threaded workers (``gthread``): each process serves up to ``GUNICORN_THREADS`` requests at once.
A job claim that waits for work (``wait_seconds``, up to 30 s) holds one thread while it waits;
with sync workers it would hold a whole process and every waiting worker would take one away
from the agents' other calls. A process lets at most ``JOB_CLAIM_MAX_WAITERS`` (24 by default)
claims wait, so at least 8 of its 32 threads stay for everything else. Each thread that served a
request keeps one database connection (``DB_CONN_MAX_AGE``), plus one per process for the
wake-up listener: size PostgreSQL's ``max_connections`` for workers x (threads + 1).
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", min(multiprocessing.cpu_count(), 4)))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", 32))
# Waiting claims may take all but 8 threads of a process (unless set explicitly).
os.environ.setdefault("JOB_CLAIM_MAX_WAITERS", str(max(threads - 8, 0)))
# Idle keep-alive connections do not hold a thread in gthread workers.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", 5))
# gthread's timeout is the worker's heartbeat to the arbiter, not a per-request limit.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 60))
graceful_timeout = 35  # a waiting claim (30 s at most) finishes before a restart kills it
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 0))
accesslog = os.environ.get("GUNICORN_ACCESSLOG") or None
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
control_socket_disable = True

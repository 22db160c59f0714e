"""Data at scale for measuring the operator console: ``manage.py seed_sample_data --scale F``.

At ``--scale 1`` it writes the sizes of issue 11: 1,000,000 tool executions, 1,000,000 agent
executions, 100,000 users, 100,000 orders with 250,000 lines (their order events and stock
movements, over 2,000 products with their opening stock), 100,000 knowledge chunks (over 5,000
sources, each chunk with its vector), 100,000 tasks in every state (with execution logs, over
200 projects), 1,000,000 jobs, 1,000,000 events, 100,000 round-table results and 10,000
checkpoint threads linked to tasks (their checkpoints and blobs). ``F`` scales every count
(``SIZES``; a few floors keep every kind and every state present at tiny scales).

Unlike ``agents_audit.sample_data`` (the services, a handful of rows, the time of the run), this
writes straight to the tables with PostgreSQL ``COPY`` (psycopg 3 ``cursor.copy()``), in one
transaction, then ``ANALYZE``\\s them. The rows still obey every rule of the schema (checks,
foreign keys, job-state rules, content hashes, vector dimensions) and the invariants the
services keep: order totals are ``commerce.money.order_totals`` of their lines, line totals are
price times quantity, every product's stock is the sum of its stock movements (opening stock,
minus what orders took, plus what cancellations gave back), tasks and jobs are in states their
state machines reach, with the timestamps and events those moves record.

What it looks like, for an operator console:

- ``created_at`` spread over the last 30 days, denser towards now (about 2.5 % of the rows in
  the last hour, 15 % in the last day, 45 % in the last week); rows are written in time order.
- 50 tools and 20 agents with their own typical durations (log-normal, long-tailed) and failure
  rates; statuses mostly success, some failures with an error message, some timeouts.
- Correlation ids shared by small groups: an agent execution (``metadata.correlation_id``) and
  the tool executions it made (``correlation_id``), within its time span; a third of the tasks
  share such a group's id too (their events' ``correlation_id``, their jobs'
  ``payload.correlation_id``).
- Every scale row carries the marker ``scale-`` (``SCALE-`` in SKUs and order numbers,
  ``Scale:`` in project names) in a key column: that is how a second run sees the data is there
  (and refuses) and how ``scale_data_reset`` finds what to delete.

The same ``seed`` gives the same data (timestamps are relative to the time of the run).
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from agents_audit.models import TaskCategory
from agents_audit.models.tasks import AgentType
from commerce.models import User
from commerce.money import order_totals
from knowledge.embedding_models import EMBEDDING_MODELS


def _words(text: str) -> list[str]:
    return text.split()


MARKER = "scale-"
UPPER_MARKER = "SCALE-"
PROJECT_PREFIX = "Scale: "
DEFAULT_SEED = 2024
MAX_SCALE = 10.0

# The sizes at --scale 1 (issue 11).
SIZES: dict[str, int] = {
    "users": 100_000,
    "products": 2_000,
    "orders": 100_000,
    "order_lines": 250_000,
    "projects": 200,
    "tasks": 100_000,
    "jobs": 1_000_000,
    "events": 1_000_000,
    "agent_executions": 1_000_000,
    "tool_executions": 1_000_000,
    "round_table_results": 100_000,
    "checkpoint_threads": 10_000,
    "sources": 5_000,
    "chunks": 100_000,
}
SPAN_SECONDS = 30 * 24 * 3600
# ages are SPAN * u ** RECENCY (u uniform): P(age < x) = (x / SPAN) ** (1 / RECENCY)
RECENCY = 1.8

AGENTS = (
    "support-agent",
    "sales-agent",
    "research-agent",
    "code-agent",
    "infra-agent",
    "billing-agent",
    "catalog-agent",
    "inventory-agent",
    "qa-agent",
    "docs-agent",
    "triage-agent",
    "security-agent",
    "data-agent",
    "marketing-agent",
    "ops-agent",
    "desktop-agent",
    "scheduler-agent",
    "review-agent",
    "translation-agent",
    "analytics-agent",
)
OPERATORS = 5
# (tool, median duration in ms, failure rate)
TOOLS = (
    ("web_search", 650, 0.03),
    ("fetch_url", 420, 0.05),
    ("sql_query", 35, 0.02),
    ("vector_search", 22, 0.01),
    ("send_email", 300, 0.02),
    ("create_ticket", 240, 0.02),
    ("read_file", 6, 0.01),
    ("write_file", 9, 0.01),
    ("run_python", 1_800, 0.08),
    ("shell_exec", 900, 0.09),
    ("git_diff", 40, 0.01),
    ("git_commit", 120, 0.02),
    ("http_request", 380, 0.06),
    ("calendar_lookup", 210, 0.02),
    ("slack_post", 260, 0.03),
    ("jira_search", 520, 0.03),
    ("github_search", 700, 0.04),
    ("pdf_extract", 2_400, 0.05),
    ("image_caption", 3_100, 0.04),
    ("translate_text", 1_200, 0.02),
    ("summarize", 2_800, 0.03),
    ("classify", 600, 0.02),
    ("embed_text", 45, 0.01),
    ("kb_search", 30, 0.01),
    ("order_lookup", 12, 0.01),
    ("inventory_check", 15, 0.01),
    ("refund_issue", 450, 0.04),
    ("price_quote", 80, 0.02),
    ("weather", 310, 0.03),
    ("geocode", 190, 0.02),
    ("currency_convert", 140, 0.02),
    ("stock_quote", 260, 0.03),
    ("s3_upload", 850, 0.03),
    ("s3_download", 600, 0.03),
    ("kubectl_get", 480, 0.05),
    ("terraform_plan", 9_500, 0.12),
    ("dns_lookup", 25, 0.02),
    ("ssl_check", 160, 0.02),
    ("ping", 18, 0.04),
    ("log_search", 1_400, 0.04),
    ("metrics_query", 330, 0.03),
    ("pagerduty_ack", 270, 0.02),
    ("screenshot", 1_600, 0.05),
    ("ocr", 2_200, 0.04),
    ("speech_to_text", 4_800, 0.05),
    ("text_to_speech", 3_600, 0.03),
    ("spreadsheet_read", 240, 0.02),
    ("spreadsheet_write", 330, 0.03),
    ("crm_update", 410, 0.03),
    ("notion_search", 560, 0.03),
)
TOOL_ERRORS = (
    "ConnectionError: upstream answered 503 Service Unavailable",
    "HTTPError: 429 Too Many Requests (rate limited, retry after 30 s)",
    "PermissionError: the agent's API key lacks the required scope",
    "ValueError: the input did not match the tool's schema ('limit' must be <= 100)",
    "KeyError: 'results' missing from the upstream response",
    "RuntimeError: the sandbox process exited with status 137 (out of memory)",
    "FileNotFoundError: no such object in the bucket",
    "AuthenticationError: token expired",
    "psycopg.errors.QueryCanceled: canceling statement due to statement timeout",
    "SSLError: certificate verify failed: unable to get local issuer certificate",
)
AGENT_ERRORS = (
    "MaxIterationsExceeded: the agent stopped after 25 steps without an answer",
    "ToolError: a required tool failed three times",
    "ContextLengthExceeded: the prompt and history exceed 128,000 tokens",
    "RateLimitError: the model provider answered 429 three times",
    "OutputParserException: could not parse the model's answer as JSON",
)
TOPICS = (
    "checkout",
    "catalogue",
    "search",
    "billing",
    "inventory",
    "newsletter",
    "analytics",
    "refunds",
    "shipping",
    "onboarding",
    "pricing",
    "the data warehouse",
    "the API gateway",
)
PROMPTS = (
    "Answer the customer's question about {}",
    "Find out why {} is slow since yesterday's deploy",
    "Summarise last week's incidents affecting {}",
    "Draft a reply to the ticket about {}",
    "Compare our {} with the competitors'",
    "Check the error logs of {} and open a ticket if needed",
    "Write the weekly report on {}",
    "Plan the migration of {} to the new cluster",
)
PROVIDERS = (
    ("openai", "gpt-4o", 1.15),
    ("anthropic", "claude-3-5-sonnet", 1.2),
    ("google", "gemini-1.5-pro", 1.0),
    ("mistral", "mistral-large", 0.8),
    ("meta", "llama-3.1-70b", 0.75),
    ("cohere", "command-r-plus", 0.6),
)
AI_MODELS = (("gpt-4o", 5.0), ("claude-3-5-sonnet", 3.0), ("gemini-1.5-pro", 3.5))
JOB_TYPES = (
    ("task.execute", 0.6),
    ("tool.call", 0.05),
    ("llm.complete", 0.04),
    ("embed.document", 0.02),
    ("report.render", 0.03),
    ("notify.webhook", 0.06),
    ("index.refresh", 0.02),
    ("artifact.upload", 0.03),
)
JOB_ERRORS = (
    "ConnectionError: hooks.example.com answered 503 Service Unavailable",
    "TimeoutError: the worker got no answer within 120 s",
    "ClientError: the artifact bucket refused the upload (AccessDenied)",
    "RateLimitError: the model provider answered 429",
)
STEPS = (
    (AgentType.ORCHESTRATOR, "plan", 900),
    (AgentType.RESEARCH, "gather_context", 4_500),
    (AgentType.CODE, "write_patch", 12_000),
    (AgentType.INFRA, "apply_change", 25_000),
    (AgentType.DESKTOP, "capture_screen", 2_000),
    (AgentType.CODE, "run_tests", 40_000),
    (AgentType.ORCHESTRATOR, "summarise", 1_200),
)
TASK_ERRORS = (
    "TimeoutError: the infra agent got no answer from the cluster API after 30 s",
    "Tests failed: 3 of 214 (test_checkout_totals, test_refund, test_vat_rounding)",
    "PermissionError: the desktop agent may not open /etc/shadow",
    "RateLimitError: the external model answered 429 three times",
)
# The first tasks take every state, in this order; then the weights.
TASK_STATES = ("completed", "failed", "executing", "approved", "pending", "rejected")
TASK_WEIGHTS = (55, 10, 5, 5, 15, 10)
ORDER_STATES = ("completed", "processing", "pending", "cancelled")
ORDER_WEIGHTS = (60, 10, 15, 15)
PRODUCT_NAMES = ("Mug", "Hoodie", "Notebook", "Sticker pack", "Cap", "Tote bag", "Poster", "Pen")
PRODUCT_COLOURS = ("black", "sky blue", "white", "forest green", "sand", "red", "grey")
CITIES = (
    ("Lisbon", "PT"),
    ("Berlin", "DE"),
    ("Austin", "US"),
    ("Lyon", "FR"),
    ("Leeds", "GB"),
    ("Osaka", "JP"),
    ("Toronto", "CA"),
    ("Utrecht", "NL"),
)
WORDS = _words(
    """
    agent orders refund policy shipping invoice customer product catalogue stock warehouse
    search index vector query latency cache database replica backup retention privacy
    account password login session token scope key rotation certificate cluster deploy
    release rollback incident alert metric dashboard budget forecast revenue margin tax
    discount coupon subscription renewal cancellation support ticket escalation priority
    workflow approval review operator audit trail event job queue worker retry timeout
    the a of to and in for with on is are be this that each every when after before
    """
)
LEASE_SECONDS = 3600


class ScaleDataPresent(Exception):
    def __init__(self) -> None:
        super().__init__("Scale data is already in this database; run with --reset to replace it.")


def counts_for(scale: float) -> dict[str, int]:
    """Every count of ``SIZES`` times ``scale``, with floors that keep each kind and state."""
    counts = {name: max(1, round(size * scale)) for name, size in SIZES.items()}
    counts["users"] = max(counts["users"], len(AGENTS) + OPERATORS + 5)
    counts["products"] = max(counts["products"], 20)
    counts["tasks"] = max(counts["tasks"], len(TASK_STATES))
    counts["order_lines"] = max(counts["order_lines"], counts["orders"])
    counts["chunks"] = max(counts["chunks"], counts["sources"])
    counts["checkpoint_threads"] = min(counts["checkpoint_threads"], counts["tasks"])
    return counts


@dataclass
class TableReport:
    rows: int = 0
    seconds: float = 0.0


@dataclass
class Report:
    tables: dict[str, TableReport] = field(default_factory=dict)

    def add(self, table: str, rows: int, seconds: float) -> None:
        entry = self.tables.setdefault(table, TableReport())
        entry.rows += rows
        entry.seconds += seconds

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables.values())


# Progress: called with (table, rows written so far, rows in all); the command draws a bar.
Progress = Callable[[str, int, int], None]


def _no_progress(table: str, done: int, total: int) -> None:
    return None


class _Writer:
    """COPY rows into tables, in one transaction, timing each table.

    A bulk load is faster without the secondary indexes: the first COPY into a table drops
    them (the indexes that back no constraint: primary keys and unique constraints stay, and
    so do the foreign keys that need them) and ``rebuild_indexes`` creates them again, from
    their own definitions (``pg_get_indexdef``), once the rows are in: one sorted build instead
    of millions of insertions (for the HNSW index of the vectors, minutes fewer). All of it
    inside the seeding's transaction: a failure rolls the indexes back with the rows, and
    other sessions wait for the commit rather than see a table without its indexes. A partial
    unique index (``jobs_live_task_dedupe_key_uniq``) is checked when it is built again.
    """

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.report = Report()
        self.dropped: dict[str, list[str]] = {}

    def copy(
        self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], total: int
    ) -> None:
        started = time.perf_counter()
        done = 0
        self.progress(table, 0, total)
        pg = connection.connection
        with pg.cursor() as cursor:
            if table not in self.dropped:
                self.dropped[table] = self._drop_indexes(cursor, table)
            statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
            with cursor.copy(statement) as copy:
                write_row = copy.write_row
                for row in rows:
                    write_row(row)
                    done += 1
                    if done % 20_000 == 0:
                        self.progress(table, done, total)
        self.progress(table, done, total)
        self.report.add(table, done, time.perf_counter() - started)

    @staticmethod
    def _drop_indexes(cursor: Any, table: str) -> list[str]:
        cursor.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) "
            "FROM pg_index i WHERE i.indrelid = %s::regclass "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
            [table],
        )
        found = cursor.fetchall()
        for name, _ in found:
            cursor.execute(f"DROP INDEX {name}")
        return [definition for _, definition in found]

    def rebuild_indexes(self) -> None:
        total = sum(len(definitions) for definitions in self.dropped.values())
        done = 0
        self.progress("indexes", 0, total)
        with connection.cursor() as cursor:
            # the HNSW build keeps its graph in memory when it fits: much faster
            cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
            for table, definitions in self.dropped.items():
                started = time.perf_counter()
                for definition in definitions:
                    cursor.execute(definition)
                    done += 1
                    self.progress("indexes", done, total)
                self.report.add(table, 0, time.perf_counter() - started)
        self.dropped.clear()


def _uuid(rng: random.Random) -> str:
    h = f"{(rng.getrandbits(128) & ~(0xF << 76) & ~(0x3 << 62)) | (0x4 << 76) | (0x2 << 62):032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _hex(rng: random.Random, length: int) -> str:
    return f"{rng.getrandbits(length * 4):0{length}x}"


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _cents(value: int) -> str:
    return f"{value // 100}.{value % 100:02d}"


class _Clock:
    """Timestamps over the last 30 days, denser towards ``now``."""

    def __init__(self, rng: random.Random, now: datetime) -> None:
        self.rng = rng
        self.now = now
        self.now_ts = now.timestamp()

    def recent(self) -> float:
        """A time (epoch seconds) in the span, at least a minute before now."""
        return self.now_ts - 60 - (SPAN_SECONDS - 60) * self.rng.random() ** RECENCY

    def sorted_times(self, count: int) -> list[float]:
        return sorted(self.recent() for _ in range(count))

    @staticmethod
    def at(ts: float) -> datetime:
        return datetime.fromtimestamp(ts, UTC)


def _duration(rng: random.Random, median_ms: float, sigma: float = 0.9) -> int:
    return max(1, int(rng.lognormvariate(math.log(median_ms), sigma)))


def _spread(rng: random.Random, total: int, parts: int, big: int = 0, cap: int = 0) -> list[int]:
    """``total`` split into ``parts`` counts of at least 1 each (the first gets ``big`` extra,
    when there is enough), the rest drawn at random with a long tail; none above ``cap`` (when
    given) as long as the total allows it."""
    cap = cap or total
    counts = [1] * parts
    extra = total - parts
    if big and extra > 0:
        counts[0] += min(big, extra, cap - 1)
        extra = total - sum(counts)
    if extra > 0:
        # a few parts get many more than the others
        weights = [rng.paretovariate(1.5) for _ in range(parts)]
        for index in rng.choices(range(parts), weights=weights, k=extra):
            if counts[index] < cap:
                counts[index] += 1
                extra -= 1
        for index in range(parts):  # what the cap turned away goes where there is room
            if extra <= 0:
                break
            room = min(extra, cap - counts[index])
            if room > 0:
                counts[index] += room
                extra -= room
        counts[-1] += max(0, extra)  # only when parts * cap < total
    return counts


# ---------------------------------------------------------------------------------------------
# The generator


class _Seeder:
    def __init__(self, *, seed: int, scale: float, progress: Progress) -> None:
        self.seed = seed
        self.counts = counts_for(scale)
        self.writer = _Writer(progress)
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.rngs: dict[str, random.Random] = {}
        self.clock = _Clock(self.rng("clock"), self.now)

    def rng(self, kind: str) -> random.Random:
        if kind not in self.rngs:
            self.rngs[kind] = random.Random(f"{self.seed}:{kind}")  # noqa: S311 (sample values)
        return self.rngs[kind]

    def run(self) -> Report:
        self.users()
        self.orders()
        self.tasks()
        self.executions()
        self.round_table()
        self.knowledge()
        self.writer.rebuild_indexes()
        return self.writer.report

    # -- users ---------------------------------------------------------------------------------

    def users(self) -> None:
        rng = self.rng("users")
        total = self.counts["users"]
        self.agent_users = {agent: _uuid(rng) for agent in AGENTS}
        self.operator_ids = [_uuid(rng) for _ in range(OPERATORS)]
        customers = total - len(AGENTS) - OPERATORS
        self.customer_ids = [_uuid(rng) for _ in range(customers)]
        first = ("Ana", "Ben", "Chloé", "Dev", "Eli", "Fatima", "Goran", "Hana", "Ivo", "Jun")
        last = ("Silva", "Meyer", "Okafor", "Novak", "Tanaka", "Dubois", "Smith", "Haddad")

        def rows() -> Iterator[tuple[Any, ...]]:
            clock = self.clock
            for agent, user_id in self.agent_users.items():
                yield self._user_row(rng, user_id, f"{MARKER}{agent}", User.Role.AGENT, agent)
            for n, user_id in enumerate(self.operator_ids, 1):
                name = f"Operator {n}"
                yield self._user_row(
                    rng, user_id, f"{MARKER}operator-{n}", User.Role.OPERATOR, name
                )
            for n, user_id in enumerate(self.customer_ids, 1):
                name = f"{rng.choice(first)} {rng.choice(last)}"
                row = self._user_row(rng, user_id, f"{MARKER}customer-{n:06d}", "", name)
                # customers sign up over the whole span, evenly
                created = clock.at(clock.now_ts - SPAN_SECONDS * 1.5 * rng.random())
                yield (*row[:5], User.Role.CUSTOMER, *row[6:8], created, created)

        self.writer.copy(
            "users",
            (
                "id",
                "username",
                "email",
                "password_hash",
                "full_name",
                "role",
                "is_active",
                "is_verified",
                "created_at",
                "updated_at",
            ),
            rows(),
            total,
        )

    def _user_row(
        self, rng: random.Random, user_id: str, username: str, role: str, full_name: str
    ) -> tuple[Any, ...]:
        created = self.clock.at(self.clock.now_ts - SPAN_SECONDS - 86_400 * rng.random())
        # "!" + 40 characters is Django's unusable password: scale accounts are not a way in.
        password = "!" + _hex(rng, 40)
        return (
            user_id,
            username,
            f"{username}@example.invalid",
            password,
            full_name,
            role,
            True,
            rng.random() < 0.7,
            created,
            created,
        )

    # -- commerce ------------------------------------------------------------------------------

    def orders(self) -> None:
        rng = self.rng("orders")
        clock = self.clock
        n_products, n_orders = self.counts["products"], self.counts["orders"]
        products = []
        for n in range(n_products):
            price = int(rng.lognormvariate(math.log(2500), 0.8)) + 99  # cents
            name = f"{rng.choice(PRODUCT_NAMES)} {rng.choice(PRODUCT_COLOURS)} #{n + 1}"
            products.append((_uuid(rng), f"{UPPER_MARKER}{n + 1:06d}", name, price))
        popularity = [rng.paretovariate(1.2) for _ in products]
        line_counts = _spread(rng, self.counts["order_lines"], n_orders, big=60, cap=n_products)
        rng.shuffle(line_counts)
        # the order with the most lines is the newest: easy to find for a "big order" page
        biggest = max(range(n_orders), key=line_counts.__getitem__)
        line_counts[biggest], line_counts[-1] = line_counts[-1], line_counts[biggest]
        times = clock.sorted_times(n_orders)
        sold = [0] * n_products
        plans = []
        for index in range(n_orders):
            picks = rng.choices(range(n_products), weights=popularity, k=line_counts[index])
            wanted: dict[int, int] = {}
            for pick in picks:  # a product once per order, as order_place merges them
                wanted[pick] = wanted.get(pick, 0) + (
                    1 if rng.random() < 0.8 else rng.randint(2, 4)
                )
            while len(wanted) < line_counts[index]:  # refill merged picks, keep the line count
                wanted.setdefault(rng.randrange(n_products), 1)
            state = (
                ORDER_STATES[index]
                if index < len(ORDER_STATES)
                else rng.choices(ORDER_STATES, weights=ORDER_WEIGHTS)[0]
            )
            for pick, quantity in wanted.items():
                if state != "cancelled":
                    sold[pick] += quantity
            plans.append((times[index], state, wanted))

        low = max(1, n_products // 20)  # 5 % of the products run low (the dashboard's list)
        opening = [
            sold[i] + (rng.randint(0, 5) if i < low else rng.randint(20, 400)) or 1
            for i in range(n_products)
        ]
        # opening stock must be positive: a product that sold nothing and drew 0 gets 1
        product_created = [
            clock.at(clock.now_ts - SPAN_SECONDS - 86_400 * (2 + rng.random())) for _ in products
        ]

        def product_rows() -> Iterator[tuple[Any, ...]]:
            for i, (pid, sku, name, price) in enumerate(products):
                status = "published" if i % 25 else rng.choice(("draft", "archived"))
                stock = opening[i] - sold[i]
                category = name.split(" #")[0].split(" ")[0].lower()
                meta = _dumps({"supplier": f"supplier-{i % 17}"})
                yield (
                    pid,
                    sku,
                    name,
                    f"{name}: a sample product for scale tests.",
                    category,
                    _cents(price),
                    stock,
                    status,
                    "{}",
                    meta,
                    1,
                    product_created[i],
                    product_created[i],
                )

        self.writer.copy(
            "products",
            (
                "id",
                "sku",
                "name",
                "description",
                "category",
                "price",
                "inventory_quantity",
                "status",
                "tags",
                "metadata",
                "version",
                "created_at",
                "updated_at",
            ),
            product_rows(),
            n_products,
        )
        self.writer.copy(
            "stock_movements",
            ("product_id", "delta", "kind", "reason", "created_at"),
            (
                (products[i][0], opening[i], "opening", "opening stock", product_created[i])
                for i in range(n_products)
            ),
            n_products,
        )

        customers = self.customer_ids
        operators = self.operator_ids
        order_rows: list[tuple[Any, ...]] = []
        line_rows: list[tuple[Any, ...]] = []
        events: list[tuple[Any, ...]] = []
        movements: list[tuple[Any, ...]] = []
        for index, (ts, state, wanted) in enumerate(plans):
            order_id = _uuid(rng)
            number = f"{UPPER_MARKER}ORD-{index + 1:07d}"
            user = None if rng.random() < 0.05 else rng.choice(customers)
            created = clock.at(ts)
            items = []
            line_totals = []
            for pick, quantity in wanted.items():
                pid, sku, name, price = products[pick]
                line_total = price * quantity
                line_totals.append(Decimal(line_total) / 100)
                line_rows.append(
                    (
                        _uuid(rng),
                        order_id,
                        pid,
                        sku,
                        name,
                        _cents(price),
                        quantity,
                        _cents(line_total),
                        created,
                    )
                )
                items.append(
                    {
                        "sku": sku,
                        "name": name,
                        "unit_price": _cents(price),
                        "quantity": quantity,
                        "line_total": _cents(line_total),
                    }
                )
                movements.append((pid, -quantity, "order_placed", number, order_id, user, ts))
            totals = order_totals(line_totals)
            city, country = rng.choice(CITIES)
            meta = {
                "items": items,
                "shipping_address": {
                    "name": f"Customer {index + 1}",
                    "line1": f"{rng.randint(1, 250)} Market Street",
                    "city": city,
                    "postal_code": f"{rng.randint(10000, 99999)}",
                    "country": country,
                },
                "payment_method": rng.choice(("card", "card", "paypal", "bank_transfer")),
                "tax": str(totals.tax),
                "shipping": str(totals.shipping),
            }
            events.append((order_id, user, None, "pending", "placed", ts))
            moved = ts
            if state in ("processing", "completed") or (
                state == "cancelled" and rng.random() < 0.4
            ):
                moved += rng.uniform(60, 6 * 3600)
                events.append((order_id, rng.choice(operators), "pending", "processing", "", moved))
            if state == "completed":
                moved += rng.uniform(3600, 3 * 86_400)
                events.append(
                    (order_id, rng.choice(operators), "processing", "completed", "", moved)
                )
            if state == "cancelled":
                source = events[-1][3]
                moved += rng.uniform(60, 86_400)
                reason = rng.choice(
                    ("customer asked", "payment failed", "out of stock", "fraud check")
                )
                events.append((order_id, rng.choice(operators), source, "cancelled", reason, moved))
                for pick, quantity in wanted.items():
                    movements.append(
                        (
                            products[pick][0],
                            quantity,
                            "order_cancelled",
                            number,
                            order_id,
                            None,
                            moved,
                        )
                    )
            moved = min(moved, clock.now_ts - 1)
            order_rows.append(
                (
                    order_id,
                    number,
                    user,
                    state,
                    str(totals.total),
                    str(totals.subtotal),
                    _dumps(meta),
                    created,
                    clock.at(moved),
                )
            )

        self.writer.copy(
            "orders",
            (
                "id",
                "order_number",
                "user_id",
                "status",
                "total_price",
                "subtotal",
                "metadata",
                "created_at",
                "updated_at",
            ),
            order_rows,
            len(order_rows),
        )
        self.writer.copy(
            "order_lines",
            (
                "id",
                "order_id",
                "product_id",
                "sku",
                "name",
                "unit_price",
                "quantity",
                "line_total",
                "created_at",
            ),
            line_rows,
            len(line_rows),
        )
        events.sort(key=lambda e: e[5])
        self.writer.copy(
            "order_events",
            ("order_id", "actor_id", "from_status", "to_status", "reason", "created_at"),
            ((*e[:5], clock.at(min(e[5], clock.now_ts - 1))) for e in events),
            len(events),
        )
        movements.sort(key=lambda m: m[6])
        self.writer.copy(
            "stock_movements",
            ("product_id", "delta", "kind", "reason", "order_id", "actor_id", "created_at"),
            ((*m[:6], clock.at(min(m[6], clock.now_ts - 1))) for m in movements),
            len(movements),
        )

    # -- agent operations ----------------------------------------------------------------------

    def tasks(self) -> None:
        rng = self.rng("tasks")
        clock = self.clock
        now_ts = clock.now_ts
        n_tasks = self.counts["tasks"]
        projects = [_uuid(rng) for _ in range(self.counts["projects"])]
        project_created = clock.at(now_ts - SPAN_SECONDS - 3 * 86_400)
        self.writer.copy(
            "projects",
            ("id", "name", "description", "version", "created_at", "updated_at"),
            (
                (
                    pid,
                    f"{PROJECT_PREFIX}{TOPICS[n % len(TOPICS)]} {n + 1}",
                    f"Work on {TOPICS[n % len(TOPICS)]}.",
                    1,
                    project_created,
                    project_created,
                )
                for n, pid in enumerate(projects)
            ),
            len(projects),
        )

        agents = list(self.agent_users.items())
        operators = self.operator_ids
        tasks: list[dict[str, Any]] = []
        task_rows: list[tuple[Any, ...]] = []
        log_rows: list[tuple[Any, ...]] = []
        events: list[
            tuple[Any, ...]
        ] = []  # (ts, subject_type, subject_id, type, actor, prefix, cid, payload)
        self.task_groups: list[tuple[float, str, int]] = []  # (start, correlation id, agent)
        prefixes = {agent: _hex(rng, 8) for agent, _ in agents}
        for index, created in enumerate(clock.sorted_times(n_tasks)):
            state = (
                TASK_STATES[index]
                if index < len(TASK_STATES)
                else rng.choices(TASK_STATES, weights=TASK_WEIGHTS)[0]
            )
            task_id = _uuid(rng)
            agent_index = rng.randrange(len(agents))
            agent, agent_user = agents[agent_index]
            cid = f"{MARKER}{_hex(rng, 20)}"
            # (ts, event, actor, payload)
            moves: list[tuple[float, str, str | None, dict[str, Any]]] = []
            approved = started = finished = None
            ts = created
            moves.append((ts, "task_created", agent_user, {"new": {"status": "pending"}}))
            steps: list[tuple[Any, ...]] = []
            if state == "rejected":
                ts += rng.uniform(60, 8 * 3600)
                moves.append(
                    (
                        ts,
                        "task_rejected",
                        rng.choice(operators),
                        {
                            "old": {"status": "pending"},
                            "new": {"status": "rejected"},
                            "reason": "Out of scope for the agents",
                        },
                    )
                )
            elif state != "pending":
                ts += rng.uniform(60, 4 * 3600)
                approved = ts
                moves.append(
                    (
                        ts,
                        "task_approved",
                        rng.choice(operators),
                        {"old": {"status": "pending"}, "new": {"status": "approved"}},
                    )
                )
                if state != "approved":
                    ts += rng.uniform(2, 600)
                    started = ts
                    moves.append(
                        (
                            ts,
                            "task_started",
                            agent_user,
                            {"old": {"status": "approved"}, "new": {"status": "executing"}},
                        )
                    )
                    plan = sorted(rng.sample(range(len(STEPS)), rng.randint(2, 5)))
                    for number, step in enumerate(plan, 1):
                        agent_type, action, typical = STEPS[step]
                        last = number == len(plan)
                        duration = _duration(rng, typical, 0.6)
                        status = "completed"
                        if last and state == "failed":
                            status = "failed"
                        elif last and state == "executing":
                            status, duration = "running", 0
                        steps.append((number, agent_type, action, status, ts, duration))
                        ts += duration / 1000 + rng.uniform(0.05, 2)
                    if state in ("completed", "failed"):
                        finished = ts
                        moves.append(
                            (
                                ts,
                                f"task_{state}",
                                agent_user,
                                {"old": {"status": "executing"}, "new": {"status": state}},
                            )
                        )
            latest = max(moves[-1][0], steps[-1][4] if steps else 0.0)
            shift = max(0.0, latest - (now_ts - 1))
            if shift:
                moves = [(m[0] - shift, *m[1:]) for m in moves]
                steps = [(*s[:4], s[4] - shift, s[5]) for s in steps]
                created -= shift
                approved = approved - shift if approved else None
                started = started - shift if started else None
                finished = finished - shift if finished else None
            if started is not None and rng.random() < 1 / 3:
                # this task's run is a trace: its agent execution and tool calls share its id
                self.task_groups.append((started, cid, agent_index))
            model, cost_per_k = rng.choice(AI_MODELS) if rng.random() < 0.6 else ("", 0.0)
            tokens = rng.randint(500, 60_000) if model and started is not None else 0
            cost = f"{tokens * cost_per_k / 1000:.6f}" if tokens else "0"
            if not tokens:
                model = ""
            error = rng.choice(TASK_ERRORS) if state == "failed" else ""
            if state == "failed":
                moves[-1][3]["error"] = error
            topic = rng.choice(TOPICS)
            task_rows.append(
                (
                    task_id,
                    rng.choice(projects) if rng.random() < 0.9 else None,
                    rng.choice(PROMPTS).format(topic),
                    agent_user,
                    f"{MARKER}thread-{index + 1:07d}",
                    state,
                    clock.at(approved) if approved else None,
                    moves[1][2] if approved else None,
                    clock.at(finished) if finished else None,
                    "Out of scope for the agents" if state == "rejected" else "",
                    _dumps({"minutes": rng.randint(1, 120), "steps": rng.randint(2, 6)}),
                    _dumps({"minutes": round((finished - started) / 60, 1)})
                    if finished and started
                    else None,
                    model,
                    tokens,
                    cost,
                    error,
                    len(moves),
                    clock.at(created),
                    clock.at(moves[-1][0]),
                )
            )
            for number, agent_type, action, status, step_ts, duration in steps:
                log_rows.append(
                    (
                        _uuid(rng),
                        task_id,
                        number,
                        agent_type,
                        action,
                        status,
                        _dumps({"topic": topic}),
                        f"{action} {'failed: ' + error if status == 'failed' else 'done'}"
                        if status != "running"
                        else "",
                        _dumps({"ok": status == "completed"}) if status != "running" else None,
                        clock.at(step_ts),
                        duration if status != "running" else None,
                    )
                )
            for ts, event_type, actor, payload in moves:
                prefix = prefixes[agent] if actor == agent_user else ""
                events.append(
                    (ts, "task", task_id, event_type, actor, prefix, cid, _dumps(payload))
                )
            tasks.append(
                {
                    "id": task_id,
                    "state": state,
                    "approved": approved,
                    "started": started,
                    "finished": finished,
                    "cid": cid,
                    "agent_name": agent,
                    "agent_user": agent_user,
                    "prefix": prefixes[agent],
                    "thread": f"{MARKER}thread-{index + 1:07d}",
                }
            )

        self.writer.copy(
            "tasks",
            (
                "id",
                "project_id",
                "request_text",
                "created_by_id",
                "thread_id",
                "status",
                "approved_at",
                "approved_by_id",
                "completed_at",
                "rejection_reason",
                "estimated_resources",
                "actual_resources",
                "external_ai_model",
                "external_ai_tokens",
                "external_ai_cost",
                "error_message",
                "version",
                "created_at",
                "updated_at",
            ),
            task_rows,
            len(task_rows),
        )
        del task_rows
        self.writer.copy(
            "execution_logs",
            (
                "id",
                "task_id",
                "step_number",
                "agent_type",
                "action",
                "status",
                "input",
                "output_summary",
                "output_full",
                "timestamp",
                "duration_ms",
            ),
            log_rows,
            len(log_rows),
        )
        del log_rows
        self.jobs(tasks, events)
        self.checkpoints(tasks)

    def jobs(self, tasks: list[dict[str, Any]], events: list[tuple[Any, ...]]) -> None:
        rng = self.rng("jobs")
        clock = self.clock
        now_ts = clock.now_ts
        total = self.counts["jobs"]
        ran = [t for t in tasks if t["approved"] is not None]
        waiting = [t for t in ran if t["started"] is None]
        busy = [t for t in ran if t["started"] is not None]
        # an approved task has its first job queued; the rest of the jobs belong to tasks that ran
        per_task = {id(t): 1 for t in waiting}
        if busy:
            for t, n in zip(
                busy, _spread(rng, max(len(busy), total - len(waiting)), len(busy)), strict=True
            ):
                per_task[id(t)] = n
        types = [name for name, _ in JOB_TYPES]
        type_failure = dict(JOB_TYPES)
        jobs: list[list[Any]] = []
        for task in ran:
            start = task["approved"]
            end = task["finished"] or now_ts - 1
            for n in range(per_task[id(task)]):
                job_type = "task.execute" if n == 0 else rng.choice(types)
                created = start if n == 0 else rng.uniform(start, end)
                if task["started"] is None:
                    status = "queued"
                elif task["state"] == "executing" and n == 0:
                    status = "running"
                elif task["state"] == "failed" and n == 0:
                    status = "dead"
                elif task["state"] == "executing" and created > now_ts - 900:
                    status = rng.choice(("queued", "running", "failed", "succeeded"))
                else:
                    draw = rng.random()
                    fail = type_failure[job_type]
                    status = (
                        "dead" if draw < fail / 2 else "cancelled" if draw < fail else "succeeded"
                    )
                jobs.append([created, task, job_type, status, n])
        jobs.sort(key=lambda j: j[0])
        first_id = self._reserve_ids("jobs", len(jobs))
        job_events: list[tuple[Any, ...]] = []
        rows: list[tuple[Any, ...]] = []
        for offset, (created, task, job_type, status, n) in enumerate(jobs):
            job_id = first_id + offset
            max_retries = 3
            attempts = {
                "queued": 0,
                "running": 1,
                "succeeded": 1,
                "failed": rng.randint(1, 3),
                "dead": max_retries + 1,
                "cancelled": 0,
            }[status]
            if status == "succeeded" and rng.random() < 0.05:
                attempts = 2
            duration = _duration(rng, 1500, 1.2) / 1000
            claimed = created + rng.uniform(0.01, 5)
            worker = (
                f"worker-{rng.randint(1, 8)}/pid-{rng.randint(1000, 60000)}" if attempts else ""
            )
            finished = None
            lease_token = lease_expires = None
            error = ""
            result = None
            run_after = created
            if status in ("succeeded", "dead", "cancelled"):
                finished = min(claimed + duration, now_ts - 1)
            if status == "succeeded":
                result = _dumps({"ok": True, "items": rng.randint(0, 500)})
            if status in ("dead", "failed"):
                error = rng.choice(JOB_ERRORS)
            if status == "failed":
                run_after = now_ts + 10 * 2**attempts
            if status == "queued" and rng.random() < 0.2:
                run_after = now_ts + rng.uniform(60, 3600)  # scheduled for later
            if status == "running":
                lease_token = _uuid(rng)
                lease_expires = clock.at(now_ts + LEASE_SECONDS)
            updated = finished or (claimed if attempts else created)
            cid = task["cid"]
            dedupe = f"{job_type}:{job_id}" if rng.random() < 0.1 else ""
            rows.append(
                (
                    job_id,
                    clock.at(created),
                    clock.at(min(updated, now_ts - 1)),
                    task["id"],
                    job_type,
                    10 if n == 0 else rng.choice((0, 0, 0, 5)),
                    status,
                    _dumps({"correlation_id": cid, "step": n}),
                    result,
                    worker,
                    lease_token,
                    lease_expires,
                    attempts,
                    max_retries,
                    clock.at(run_after),
                    error,
                    dedupe,
                    clock.at(finished) if finished else None,
                    10,
                )
            )
            trail: list[tuple[float, str, dict[str, Any]]] = [
                (created, "job_enqueued", {"new": {"status": "queued"}, "job_type": job_type})
            ]
            if attempts:
                trail.append((claimed, "job_claimed", {"worker_id": worker, "attempt": attempts}))
            if status in ("succeeded", "dead", "cancelled"):
                kind = {
                    "succeeded": "job_succeeded",
                    "dead": "job_dead",
                    "cancelled": "job_cancelled",
                }
                detail: dict[str, Any] = {"new": {"status": status}}
                if error:
                    detail["error"] = error
                trail.append((finished or claimed, kind[status], detail))
            elif status == "failed":
                trail.append(
                    (
                        min(claimed + duration, now_ts - 1),
                        "job_failed",
                        {"new": {"status": "failed"}, "error": error},
                    )
                )
            for ts, event_type, payload in trail:
                actor = (
                    task["agent_user"] if event_type != "job_cancelled" else self.operator_ids[0]
                )
                prefix = task["prefix"] if event_type != "job_cancelled" else ""
                job_events.append(
                    (ts, "job", str(job_id), event_type, actor, prefix, cid, _dumps(payload))
                )
        del jobs
        self.writer.copy(
            "jobs",
            (
                "id",
                "created_at",
                "updated_at",
                "task_id",
                "job_type",
                "priority",
                "status",
                "payload",
                "result",
                "worker_id",
                "lease_token",
                "lease_expires_at",
                "attempts",
                "max_retries",
                "run_after",
                "last_error",
                "dedupe_key",
                "finished_at",
                "retry_backoff_seconds",
            ),
            rows,
            len(rows),
        )
        del rows
        # The events: every task's, and the newest jobs' trails up to the size (older job trails
        # are left out, as if pruned), in time order (ids follow time).
        events = events[: self.counts["events"]]
        budget = self.counts["events"] - len(events)
        job_events.sort(key=lambda e: e[0])
        events.extend(job_events[max(0, len(job_events) - budget) :] if budget else ())
        del job_events
        events.sort(key=lambda e: e[0])
        self.writer.copy(
            "events",
            (
                "created_at",
                "subject_type",
                "subject_id",
                "event_type",
                "actor_id",
                "api_key_prefix",
                "correlation_id",
                "payload",
            ),
            ((clock.at(min(e[0], now_ts - 1)), *e[1:]) for e in events),
            len(events),
        )

    def _reserve_ids(self, table: str, count: int) -> int:
        """The first of ``count`` ids taken from ``table``'s sequence (the sequence moves past
        them in one statement, so concurrent inserts get others)."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), "
                "nextval(pg_get_serial_sequence(%s, 'id')) + %s - 1) - %s + 1",
                [table, table, count, count],
            )
            return int(cursor.fetchone()[0])

    def checkpoints(self, tasks: list[dict[str, Any]]) -> None:
        rng = self.rng("checkpoints")
        clock = self.clock
        ran = [t for t in tasks if t["started"] is not None]
        chosen = rng.sample(ran, min(len(ran), self.counts["checkpoint_threads"]))
        chosen.sort(key=lambda t: t["started"])
        threads: list[tuple[Any, ...]] = []
        checkpoints: list[tuple[Any, ...]] = []
        blobs: list[tuple[Any, ...]] = []
        for task in chosen:
            started, end = task["started"], task["finished"] or clock.now_ts - 1
            thread = task["thread"]
            threads.append((thread, task["agent_user"], clock.at(started)))
            run_id = _uuid(rng)
            parent = None
            steps = rng.randint(2, 6)
            for step in range(steps):
                ts = started + (end - started) * step / steps
                h = f"{int(ts * 1000):012x}{_hex(rng, 20)}"
                checkpoint_id = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
                version = f"{step + 1:032d}.0.{rng.random():.16f}"
                body = {
                    "v": 1,
                    "id": checkpoint_id,
                    "ts": clock.at(ts).isoformat(),
                    "channel_versions": {"messages": version},
                    "versions_seen": {},
                    "pending_sends": [],
                }
                meta: dict[str, Any] = {
                    "source": "loop" if step else "input",
                    "step": step - 1,
                    "parents": {},
                    "run_id": run_id,
                }
                checkpoints.append(
                    (thread, "", checkpoint_id, parent, _dumps(body), _dumps(meta), clock.at(ts))
                )
                message = {"role": "assistant", "content": f"Step {step} of {task['agent_name']}"}
                blobs.append((thread, "", "messages", version, "json", _dumps([message]).encode()))
                parent = checkpoint_id
        self.writer.copy(
            "checkpoint_threads", ("thread_id", "owner_id", "created_at"), threads, len(threads)
        )
        self.writer.copy(
            "checkpoints",
            (
                "thread_id",
                "checkpoint_ns",
                "checkpoint_id",
                "parent_checkpoint_id",
                "checkpoint",
                "metadata",
                "created_at",
            ),
            checkpoints,
            len(checkpoints),
        )
        self.writer.copy(
            "checkpoint_blobs",
            ("thread_id", "checkpoint_ns", "channel", "version", "type", "blob"),
            blobs,
            len(blobs),
        )

    # -- what agents did -----------------------------------------------------------------------

    def executions(self) -> None:
        rng = self.rng("executions")
        clock = self.clock
        now_ts = clock.now_ts
        n_agent, n_tool = self.counts["agent_executions"], self.counts["tool_executions"]
        agents = list(self.agent_users.items())
        # Each agent has its favourite tools: a trace reads like one agent's work.
        favourites = [rng.sample(range(len(TOOLS)), 8) for _ in agents]
        tool_weights = [1 / (rank + 1) for rank in range(len(TOOLS))]
        n_groups = max(1, min(n_agent, n_tool // 4))
        task_groups = self.task_groups[:n_groups]
        # (start, correlation id or None, agent index or -1, in a group)
        lone = n_agent - len(task_groups)
        flags = [True] * (n_groups - len(task_groups)) + [False] * (
            lone - n_groups + len(task_groups)
        )
        rng.shuffle(flags)
        starts: list[tuple[float, str | None, int, bool]] = [(*g, True) for g in task_groups]
        starts += [(clock.recent(), None, -1, flag) for flag in flags]
        starts.sort(key=lambda s: s[0])
        sizes = iter(_spread(rng, n_tool, n_groups))
        prefixes = ("scale-exec-",)
        plan: list[tuple[Any, ...]] = []
        for start, cid, agent_index, grouped in starts:
            if agent_index < 0:
                agent_index = rng.randrange(len(agents))
            cid = cid or f"{MARKER}{_hex(rng, 20)}"
            calls: list[tuple[int, float, int, int]] = []  # (tool, start, duration, status)
            ts = start + rng.uniform(0.2, 3)
            if grouped:
                for _ in range(next(sizes)):
                    if rng.random() < 0.7:
                        tool = rng.choice(favourites[agent_index])
                    else:
                        tool = rng.choices(range(len(TOOLS)), weights=tool_weights)[0]
                    _, median, failure = TOOLS[tool]
                    draw = rng.random()
                    if draw < failure * 0.35:
                        outcome, duration = 2, 30_000 + rng.randint(0, 250)  # timeout
                    elif draw < failure:
                        outcome, duration = 1, _duration(rng, median / 2, 1.0)
                    else:
                        outcome, duration = 0, _duration(rng, median, 0.9)
                    calls.append((tool, ts, duration, outcome))
                    ts += duration / 1000 + rng.uniform(0.05, 4)
            end = ts + _duration(rng, 2500, 0.8) / 1000
            if end > now_ts - 1:  # shift the whole run back to end before now
                back = end - (now_ts - 1)
                start, end = start - back, end - back
                calls = [(t, s - back, d, st) for t, s, d, st in calls]
            failed_calls = sum(1 for c in calls if c[3])
            draw = rng.random()
            if start > now_ts - 300 and draw < 0.3:
                status = "running"
            elif draw < 0.05 + 0.25 * failed_calls:
                status = "failed"
            else:
                status = "completed"
            plan.append((start, end, cid, agent_index, status, calls))

        def agent_rows() -> Iterator[tuple[Any, ...]]:
            for start, end, cid, agent_index, status, calls in plan:
                agent, user = agents[agent_index]
                topic = rng.choice(TOPICS)
                tokens = int(rng.lognormvariate(math.log(1800), 0.9))
                if status == "completed":
                    result = _dumps({"answer": f"Done: {topic} handled.", "tool_calls": len(calls)})
                elif status == "failed":
                    result = _dumps({"error": rng.choice(AGENT_ERRORS), "tool_calls": len(calls)})
                else:
                    result = None
                meta = _dumps({"correlation_id": cid, "model": rng.choice(AI_MODELS)[0]})
                yield (
                    _uuid(rng),
                    f"{prefixes[0]}{_hex(rng, 20)}",
                    agent,
                    rng.choice(PROMPTS).format(topic),
                    status,
                    result,
                    None if status == "running" else tokens,
                    None if status == "running" else int((end - start) * 1000),
                    meta,
                    user,
                    clock.at(start),
                )

        self.writer.copy(
            "agent_executions",
            (
                "id",
                "execution_id",
                "agent_name",
                "prompt",
                "status",
                "result",
                "tokens_used",
                "duration_ms",
                "metadata",
                "user_id",
                "created_at",
            ),
            agent_rows(),
            len(plan),
        )

        def tool_rows() -> Iterator[tuple[Any, ...]]:
            statuses = ("success", "failed", "timeout")
            for _, _, cid, agent_index, _, calls in plan:
                agent, user = agents[agent_index]
                anonymous = rng.random() < 0.1  # called outside an agent's API key
                for tool, ts, duration, status in calls:
                    name = TOOLS[tool][0]
                    inputs = (
                        f'{{"query":"{rng.choice(TOPICS)}","limit":{rng.choice((5, 10, 20, 50))}}}'
                    )
                    cached = "true" if rng.random() < 0.2 else "false"
                    items = rng.randint(0, 50)
                    output = f'{{"items":{items},"cached":{cached}}}' if status == 0 else None
                    error = (
                        None
                        if status == 0
                        else f"Timed out after {duration // 1000} s"
                        if status == 2
                        else rng.choice(TOOL_ERRORS)
                    )
                    yield (
                        _uuid(rng),
                        cid,
                        name,
                        None if anonymous else agent,
                        None if anonymous else user,
                        inputs,
                        output,
                        statuses[status],
                        duration,
                        error,
                        '{"attempt":1}',
                        clock.at(ts),
                    )

        self.writer.copy(
            "tool_executions",
            (
                "id",
                "correlation_id",
                "tool_name",
                "agent_id",
                "user_id",
                "inputs",
                "output",
                "status",
                "duration_ms",
                "error_message",
                "metadata",
                "created_at",
            ),
            tool_rows(),
            n_tool,
        )

    def round_table(self) -> None:
        rng = self.rng("round_table")
        clock = self.clock
        total = self.counts["round_table_results"]
        users = list(self.agent_users.values())
        categories = TaskCategory.values

        def rows() -> Iterator[tuple[Any, ...]]:
            for ts in clock.sorted_times(total):
                entrants = rng.sample(PROVIDERS, rng.randint(3, 5))
                participants: list[dict[str, Any]] = []
                for provider, model, strength in entrants:
                    participants.append(
                        {
                            "provider": provider,
                            "model": model,
                            "score": round(min(10.0, rng.gauss(6.5 * strength, 1.2)), 2),
                            "latency_ms": _duration(rng, 2200, 0.5),
                            "tokens": rng.randint(200, 4000),
                        }
                    )
                winner = max(participants, key=lambda p: p["score"])
                topic = rng.choice(TOPICS)
                yield (
                    _uuid(rng),
                    f"{MARKER}rt-{_hex(rng, 20)}",
                    rng.choice(PROMPTS).format(topic),
                    rng.choice(categories),
                    winner["provider"],
                    f"The best answer about {topic}, by {winner['model']}.",
                    _dumps(participants),
                    _dumps({"judge": "gpt-4o", "rounds": 1}),
                    rng.choice(users) if rng.random() < 0.9 else None,
                    clock.at(ts),
                )

        self.writer.copy(
            "llm_round_table_results",
            (
                "id",
                "result_id",
                "prompt",
                "task_category",
                "winner_provider",
                "winner_response",
                "participants",
                "metadata",
                "user_id",
                "created_at",
            ),
            rows(),
            total,
        )

    # -- knowledge -----------------------------------------------------------------------------

    def knowledge(self) -> None:
        import numpy as np  # the embeddings extra's dependency; only the knowledge part needs it

        rng = self.rng("knowledge")
        clock = self.clock
        n_sources, n_chunks = self.counts["sources"], self.counts["chunks"]
        model = settings.KNOWLEDGE_EMBEDDING_MODEL
        dimensions = EMBEDDING_MODELS[model].dimensions
        sizes = _spread(rng, n_chunks, n_sources, big=0)
        vectors = np.random.default_rng(self.seed)
        topics = vectors.standard_normal((64, dimensions)).astype(np.float32)
        creators = [*self.agent_users.values(), *self.operator_ids]
        sources, chunks, embeddings = [], [], []
        for index, ts in enumerate(clock.sorted_times(n_sources)):
            source_id = _uuid(rng)
            document_id = f"{MARKER}doc-{index + 1:06d}"
            path = f"docs/{rng.choice(TOPICS).replace(' ', '-')}/{document_id}.md"
            topic = topics[rng.randrange(len(topics))]
            contents = []
            created = clock.at(ts)
            total = sizes[index]
            noise = vectors.standard_normal((total, dimensions)).astype(np.float32)
            chunk_vectors = topic + 0.8 * noise
            chunk_vectors /= np.linalg.norm(chunk_vectors, axis=1, keepdims=True)
            for chunk_index in range(total):
                words = rng.choices(WORDS, k=rng.randint(60, 140))
                sentences = [
                    " ".join(words[i : i + 12]).capitalize() + "." for i in range(0, len(words), 12)
                ]
                content = f"{document_id} part {chunk_index + 1}. " + " ".join(sentences)
                contents.append(content)
                digest = hashlib.sha256(content.encode()).hexdigest()
                chunk_id = _uuid(rng)
                chunks.append(
                    (
                        chunk_id,
                        f"{document_id}-chunk-{chunk_index}",
                        path,
                        content,
                        digest,
                        chunk_index,
                        total,
                        model,
                        '{"lang":"en"}',
                        source_id,
                        created,
                        created,
                    )
                )
                text = str(np.round(chunk_vectors[chunk_index], 5).tolist()).replace(" ", "")
                embeddings.append((chunk_id, model, digest, text, created))
            whole = "\n\n".join(contents)
            sources.append(
                (
                    source_id,
                    document_id,
                    path,
                    _dumps({"title": f"Document {index + 1}"}),
                    hashlib.sha256(whole.encode()).hexdigest(),
                    len(whole),
                    total,
                    1000,
                    100,
                    rng.choice(creators),
                    created,
                    created,
                )
            )
        self.writer.copy(
            "rag_sources",
            (
                "id",
                "document_id",
                "source_path",
                "metadata",
                "text_hash",
                "char_count",
                "total_chunks",
                "chunk_size",
                "chunk_overlap",
                "created_by_id",
                "created_at",
                "updated_at",
            ),
            sources,
            len(sources),
        )
        self.writer.copy(
            "rag_documents",
            (
                "id",
                "document_id",
                "source_path",
                "content",
                "content_hash",
                "chunk_index",
                "total_chunks",
                "embedding_model",
                "metadata",
                "parent_id",
                "created_at",
                "updated_at",
            ),
            chunks,
            len(chunks),
        )
        del chunks
        self.writer.copy(
            "rag_embeddings",
            ("chunk_id", "model", "content_hash", "embedding", "created_at"),
            embeddings,
            len(embeddings),
        )


# ---------------------------------------------------------------------------------------------
# Entry points

# (table, the condition that picks the scale rows), in an order the foreign keys allow.
# Children of a deleted parent that the database deletes by cascade are deleted first anyway,
# with one statement each: a cascade runs one DELETE per parent row.
_RESET_PLAN: tuple[tuple[str, str], ...] = (
    ("events", "correlation_id LIKE 'scale-%'"),
    ("jobs", "task_id IN (SELECT id FROM tasks WHERE thread_id LIKE 'scale-%')"),
    ("execution_logs", "task_id IN (SELECT id FROM tasks WHERE thread_id LIKE 'scale-%')"),
    ("checkpoint_blobs", "thread_id LIKE 'scale-%'"),
    ("checkpoints", "thread_id LIKE 'scale-%'"),
    ("checkpoint_threads", "thread_id LIKE 'scale-%'"),
    ("tasks", "thread_id LIKE 'scale-%'"),
    ("projects", "name LIKE 'Scale: %'"),
    ("stock_movements", "product_id IN (SELECT id FROM products WHERE sku LIKE 'SCALE-%')"),
    ("order_events", "order_id IN (SELECT id FROM orders WHERE order_number LIKE 'SCALE-%')"),
    ("order_lines", "order_id IN (SELECT id FROM orders WHERE order_number LIKE 'SCALE-%')"),
    ("orders", "order_number LIKE 'SCALE-%'"),
    ("products", "sku LIKE 'SCALE-%'"),
    ("tool_executions", "correlation_id LIKE 'scale-%'"),
    ("agent_executions", "execution_id LIKE 'scale-%'"),
    ("llm_round_table_results", "result_id LIKE 'scale-%'"),
    (
        "rag_embeddings",
        "chunk_id IN (SELECT id FROM rag_documents WHERE document_id LIKE 'scale-%')",
    ),
    ("rag_documents", "document_id LIKE 'scale-%'"),
    ("rag_sources", "document_id LIKE 'scale-%'"),
    ("users", "username LIKE 'scale-%'"),
)
# Append-only tables: their trigger refuses DELETE; the reset disables it for its transaction.
_APPEND_ONLY = {"events": "events_append_only", "stock_movements": "stock_movements_append_only"}
# What tells that scale data is there: one row with the marker in any of these.
_PRESENCE = ("users", "tasks", "orders", "tool_executions", "rag_sources")


def scale_data_present() -> bool:
    conditions = dict(_RESET_PLAN)
    with connection.cursor() as cursor:
        for table in _PRESENCE:
            condition = conditions[table]
            cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {table} WHERE {condition})")  # noqa: S608 (constants)
            if cursor.fetchone()[0]:
                return True
    return False


def scale_data_reset(progress: Progress = _no_progress) -> Report:
    """Delete every row the scale seeding wrote (found by its marker), in one transaction.

    ``events`` and ``stock_movements`` are append-only (a trigger refuses DELETE): the reset
    disables those triggers inside its transaction (``ALTER TABLE ... DISABLE TRIGGER``, which
    locks the table until the commit and is undone by a rollback) to delete the scale rows only,
    and enables them again before committing. That is the one exception to the append-only rule:
    synthetic rows, named by the marker, never a real trail.
    """
    report = Report()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL statement_timeout = 0")  # a million-row DELETE, see below
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('devskyy.scale_data'))")
        for table, trigger in _APPEND_ONLY.items():
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}")
        temporary = _index_foreign_keys(cursor)
        for table, condition in _RESET_PLAN:
            started = time.perf_counter()
            progress(f"delete {table}", 0, 1)
            cursor.execute(f"DELETE FROM {table} WHERE {condition}")  # noqa: S608 (constants)
            report.add(table, cursor.rowcount, time.perf_counter() - started)
            progress(f"delete {table}", 1, 1)
        for name in temporary:
            cursor.execute(f"DROP INDEX {name}")
        for table, trigger in _APPEND_ONLY.items():
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}")
    return report


def _index_foreign_keys(cursor: Any) -> list[str]:
    """Index, for the reset's transaction, each foreign key column that no index leads with
    (``order_events.actor_id``, ``stock_movements.actor_id``): deleting a user makes the
    database look for its rows there (ON DELETE SET NULL), and without an index that is a scan
    of the whole table, dead rows included, per user: hours for 100,000 users. Returns the
    indexes' names, to drop before the commit."""
    cursor.execute(
        "SELECT c.conrelid::regclass::text, a.attname FROM pg_constraint c "
        "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
        "WHERE c.contype = 'f' AND c.confrelid = ANY(%s::regclass[]) "
        "AND NOT EXISTS (SELECT 1 FROM pg_index i "
        "WHERE i.indrelid = c.conrelid AND i.indkey[0] = c.conkey[1])",
        [[table for table, _ in _RESET_PLAN]],
    )
    names = []
    for number, (table, column) in enumerate(cursor.fetchall()):
        name = f"scale_reset_fk_{number}"
        cursor.execute(f'CREATE INDEX {name} ON {table} ("{column}")')
        names.append(name)
    return names


def scale_data_seed(
    *, scale: float, seed: int = DEFAULT_SEED, progress: Progress = _no_progress
) -> Report:
    """Write the scale data (``counts_for(scale)`` rows), in one transaction, then ANALYZE the
    tables. Raises ``ScaleDataPresent`` (nothing written) when scale data is already there."""
    seeder = _Seeder(seed=seed, scale=scale, progress=progress)
    with transaction.atomic():
        with connection.cursor() as cursor:
            # One seeding at a time; a second waits here, then sees the first one's rows.
            # A COPY of a million rows or an index build outlasts a request's statement_timeout
            # (DB_STATEMENT_TIMEOUT_MS), as migrate's statements do: no limit here either.
            cursor.execute("SET LOCAL statement_timeout = 0")
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('devskyy.scale_data'))")
            # Foreign keys checked at the end of each COPY rather than at the commit: an index
            # cannot be built on a table with checks pending.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        if scale_data_present():
            raise ScaleDataPresent
        connection.ensure_connection()
        report = seeder.run()
    started = time.perf_counter()
    tables = list(report.tables)
    progress("analyze", 0, len(tables))
    with connection.cursor() as cursor:
        for done, table in enumerate(tables, 1):
            cursor.execute(f"ANALYZE {table}")
            progress("analyze", done, len(tables))
    report.add("(analyze)", 0, time.perf_counter() - started)
    return report

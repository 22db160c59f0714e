"""Sample data for a demo or a local database: users, products, orders, tool and agent
executions, round-table results, and seed 004's tasks in every state with multi-step execution
logs, so that every admin page and every post-mortem report (``agents_audit.reports``) has
something to show. Run by ``manage.py seed_sample_data``.

Everything is written through the services (``commerce.services``, ``agents_audit.services``),
so the rules, the stock ledger and the event trail stay consistent. Every sample row carries the
marker ``sample-`` (``SAMPLE-`` for SKUs, ``Sample:`` for project names): in usernames, SKUs,
thread ids, correlation ids, execution ids and result ids. That is how a second run finds what
is already there (and adds nothing) and how ``sample_data_reset`` finds what to delete.

The values come from ``random.Random``, one generator per kind seeded from the seed: the same
seed gives the same users, products, orders, tasks, steps and usage. Every value of a row is
drawn before looking whether the row exists, so a row found already there consumes the same
numbers as a new one and the rows after it come out the same.

Timings: step durations (``duration_ms``) are drawn around each action's typical length, and
failed runs stop at a failed step whose error becomes the task's ``error_message``. Timestamps
are the services' own (the time of the run): backdating them would take writes around the
services, and the append-only event trail, stamped at the time of the run, would contradict
them.

Jobs (``agents_audit.services.jobs``): approving a task enqueues its first job
(``task.execute``). A named sample worker (``sample-worker-2/pid-4242``; the pids are drawn)
claims it before the task starts, completes it when the task completes (``succeeded``) and
fails it, not retryable, when the task fails (``dead``); an executing task's job stays
``running`` under a one-hour lease (once that expires, the next claim recovers it, as it would
a dead worker's). Approved tasks keep theirs ``queued`` (they are approved after the other
tasks, so that each claim takes the job just enqueued). Then ``JOB_PLAN`` adds jobs of other
types to the approved and executing tasks, in the other states: queued with priorities and a
later ``run_after``, failed waiting for a retry, dead with its retries used up, cancelled by the
sample operator, and running; and the sample operator pauses one type (``PAUSED_JOB_TYPE``).
Those extra jobs carry the marker in their dedupe keys; the pause is found by its operator.
A claim takes the head of its type's queue, not a given job: if that is not the job just
enqueued (the queue holds other runnable jobs of the type: real work, or the queued jobs of an
earlier seed when ``--size`` grows without ``--reset``; or the type is paused), seeding stops
with ``QueueBusy`` and writes nothing.

Artifacts are not seeded: they have no writing services yet.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from agents_audit.models import (
    AgentExecution,
    Job,
    JobTypePause,
    LLMRoundTableResult,
    ToolExecution,
)
from agents_audit.models.projects import Project
from agents_audit.models.tasks import AgentType, ExecutionLogStatus, Task
from agents_audit.services import (
    agent_execution_complete,
    agent_execution_fail,
    agent_execution_start,
    round_table_result_record,
    tool_execution_record,
)
from agents_audit.services.jobs import (
    job_cancel,
    job_claim,
    job_complete,
    job_enqueue,
    job_fail,
    job_type_pause,
    job_type_resume,
)
from agents_audit.services.logs import execution_log_append
from agents_audit.services.projects import project_create
from agents_audit.services.tasks import (
    task_approve,
    task_complete,
    task_create,
    task_fail,
    task_reject,
    task_start,
)
from commerce.models import Order, Product, User
from commerce.services.orders import (
    order_cancel,
    order_complete,
    order_mark_processing,
    order_place,
)
from commerce.services.products import product_archive, product_create, product_publish
from commerce.services.stock import product_stock_adjust
from commerce.services.users import user_create

MARKER = "sample-"
SKU_PREFIX = "SAMPLE-"
PROJECT_PREFIX = "Sample: "
DEFAULT_SEED = 2024
DEFAULT_SIZE = 20
MAX_SIZE = 1000

# Every task state, in this order for the first tasks (so even a tiny size shows them all).
TASK_PLAN = ("completed", "failed", "executing", "approved", "pending", "rejected")
TASK_WEIGHTS = (5, 2, 1, 1, 1, 1)

REQUESTS = (
    "Provision a staging database for the {} service",
    "Refactor the {} module to remove duplicated validation",
    "Research pricing of competitors for the {} range",
    "Rotate the TLS certificates of the {} cluster",
    "Write release notes for the {} launch",
    "Clean up the desktop screenshots of the {} report",
    "Benchmark the {} endpoint under load",
    "Summarise customer feedback about {}",
)
SUBJECTS = ("checkout", "catalogue", "search", "billing", "inventory", "newsletter", "analytics")
# (agent type, action, typical duration in ms)
STEPS = (
    (AgentType.ORCHESTRATOR, "plan", 900),
    (AgentType.RESEARCH, "gather_context", 4_500),
    (AgentType.CODE, "write_patch", 12_000),
    (AgentType.INFRA, "apply_change", 25_000),
    (AgentType.DESKTOP, "capture_screen", 2_000),
    (AgentType.CODE, "run_tests", 40_000),
    (AgentType.ORCHESTRATOR, "summarise", 1_200),
)
ERRORS = (
    "TimeoutError: the infra agent got no answer from the cluster API after 30 s",
    "Tests failed: 3 of 214 (test_checkout_totals, test_refund, test_vat_rounding)",
    "PermissionError: the desktop agent may not open /etc/shadow",
    "RateLimitError: the external model answered 429 three times",
)
# model -> (cost per 1,000 tokens)
AI_MODELS = {
    "gpt-4o": Decimal("0.005000"),
    "claude-3-5-sonnet": Decimal("0.003000"),
    "gemini-1.5-pro": Decimal("0.003500"),
}
PRODUCT_NAMES = ("Mug", "Hoodie", "Notebook", "Sticker pack", "Cap", "Tote bag", "Poster", "Pen")
PRODUCT_COLOURS = ("black", "sky blue", "white", "forest green", "sand")
TOOLS = ("web_search", "read_file", "run_shell", "http_get", "sql_query", "screenshot")
PROVIDERS = ("openai", "anthropic", "google", "mistral")
WORKERS = 3
# A claimed job's lease: the longest the queue allows, so a seeded running job stays running.
LEASE_SECONDS = 3600
# The jobs added to the approved and executing tasks, one per entry: (job type, final state).
JOB_PLAN = (
    ("report.render", "queued"),
    ("report.render", "queued"),
    ("report.render", "queued"),
    ("notify.slack", "failed"),
    ("artifact.upload", "dead"),
    ("cache.warm", "cancelled"),
    ("index.refresh", "running"),
)
PAUSED_JOB_TYPE = "report.render"
JOB_ERRORS = {
    "notify.slack": "ConnectionError: hooks.slack.com answered 503 Service Unavailable",
    "artifact.upload": "ClientError: the artifact bucket refused the upload (AccessDenied)",
}


class QueueBusy(Exception):
    """A sample claim would take another job than the one just enqueued (or its type is
    paused)."""

    def __init__(self, job_type: str) -> None:
        super().__init__(
            f"The queue holds other runnable '{job_type}' jobs, or the type is paused: seeding "
            "would claim them. Seed with --reset, on a database whose queue is drained."
        )


@dataclass
class Report:
    """What a run did: rows created, per kind (zero everywhere on a second run)."""

    created: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, count: int = 1) -> None:
        self.created[kind] = self.created.get(kind, 0) + count

    @property
    def total(self) -> int:
        return sum(self.created.values())


def _user(username: str, role: str, report: Report) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        user = user_create(
            username=username,
            email=f"{username}@example.invalid",
            role=role,
            password=None,  # no login: sample accounts are not a way in
            full_name=username.removeprefix(MARKER).replace("-", " ").title(),
        )
        report.add("users")
    return user


def _users(rng: random.Random, size: int, report: Report) -> dict[str, list[User]]:
    operators = [_user(f"{MARKER}operator-1", User.Role.OPERATOR, report)]
    agents = [_user(f"{MARKER}agent-{n}", User.Role.AGENT, report) for n in range(1, 4)]
    customers = [
        _user(f"{MARKER}customer-{n:02d}", User.Role.CUSTOMER, report)
        for n in range(1, max(3, size // 4) + 1)
    ]
    return {"operators": operators, "agents": agents, "customers": customers}


def _products(rng: random.Random, size: int, operator: User, report: Report) -> list[Product]:
    """``size // 2`` products (at least 4): most published, one draft and one archived."""
    products = []
    count = max(4, size // 2)
    for n in range(1, count + 1):
        name = f"{rng.choice(PRODUCT_COLOURS).title()} {rng.choice(PRODUCT_NAMES).lower()}"
        price = Decimal(rng.randrange(400, 9_000)) / 100
        stock = rng.randrange(40, 200)
        sku = f"{SKU_PREFIX}{n:03d}"
        product = Product.objects.filter(sku=sku).first()
        if product is None:
            product = product_create(
                sku=sku,
                name=name,
                price=price,
                description=f"Sample product {n}: {name}.",
                category=rng.choice(("apparel", "stationery", "homeware")),
                inventory_quantity=stock,
                tags=["sample"],
                by=operator,
            )
            report.add("products")
            if n == count:
                product = product_archive(product=product)
            elif n != count - 1:  # the one before the last stays a draft
                product = product_publish(product=product)
        elif product.status == Product.Status.ARCHIVED and n < count - 1:
            # Archived by a reset: back on sale, restocked to its opening quantity.
            product = product_publish(product=product)
            if product.inventory_quantity < stock:
                product = product_stock_adjust(
                    product=product,
                    delta=stock - product.inventory_quantity,
                    reason="Sample data seeded again after a reset.",
                    by=operator,
                )
        products.append(product)
    return [p for p in products if p.status == Product.Status.PUBLISHED]


def _orders(
    rng: random.Random,
    customers: list[User],
    products: list[Product],
    operator: User,
    report: Report,
) -> None:
    """One or two orders per customer, in every order state. A customer who has orders
    already is left alone (that is what makes a second run add nothing)."""
    moves = ("pending", "processing", "completed", "completed", "cancelled")
    for index, customer in enumerate(customers):
        orders = 1 + rng.randrange(2)
        plans = [
            (
                [
                    (product.sku, rng.randrange(1, 4))
                    for product in rng.sample(products, k=min(len(products), rng.randrange(1, 4)))
                ],
                moves[(index + n) % len(moves)],
            )
            for n in range(orders)
        ]
        if Order.objects.filter(user=customer).exists():
            continue
        for lines, target in plans:
            order = order_place(
                user=customer,
                lines=lines,
                shipping={"city": rng.choice(("Lisbon", "Oslo", "Tallinn", "Lyon"))},
                payment_method=rng.choice(("card", "paypal")),
            )
            report.add("orders")
            if target == "cancelled":
                order_cancel(order=order, by=operator, reason="Customer changed their mind.")
            elif target != "pending":
                order = order_mark_processing(order=order, by=operator)
                if target == "completed":
                    order_complete(order=order, by=operator)


def _steps(rng: random.Random, outcome: str) -> list[dict[str, Any]]:
    """The steps of a task whose run ended in ``outcome`` (completed, failed, executing, or
    approved: not started, no steps)."""
    if outcome == "approved":
        return []
    count = rng.randrange(3, len(STEPS) + 1)
    chosen = [STEPS[0], *rng.sample(STEPS[1:-1], k=count - 2), STEPS[-1]]
    steps = []
    for number, (agent_type, action, typical) in enumerate(chosen, start=1):
        duration = max(50, int(rng.gauss(typical, typical / 4)))
        steps.append(
            {
                "step_number": number,
                "agent_type": agent_type,
                "action": action,
                "status": ExecutionLogStatus.COMPLETED,
                "input": {"step": action, "attempt": 1},
                "output_summary": f"{action.replace('_', ' ').capitalize()} done in {duration} ms.",
                "output_full": {"ok": True, "items": rng.randrange(1, 30)},
                "duration_ms": duration,
            }
        )
    if outcome == "failed":
        # The run stopped at a failed step: the steps after it never happened.
        stop = rng.randrange(1, len(steps))
        error = rng.choice(ERRORS)
        steps = steps[: stop + 1]
        steps[stop].update(
            status=ExecutionLogStatus.FAILED,
            output_summary=error[:500],
            output_full={"ok": False, "error": error},
        )
    elif outcome == "executing":
        steps = steps[: rng.randrange(1, len(steps))]
        steps[-1].update(
            status=ExecutionLogStatus.RUNNING,
            output_summary="Still running.",
            output_full=None,
            duration_ms=None,
        )
    return steps


def _claim(job: Job, worker_id: str) -> Job:
    """``worker_id`` claims ``job`` (the head of its type's queue), else ``QueueBusy``."""
    claimed = job_claim(worker_id=worker_id, job_types=[job.job_type], lease_seconds=LEASE_SECONDS)
    if claimed is None or claimed.pk != job.pk:
        raise QueueBusy(job.job_type)
    return claimed


def _task(
    rng: random.Random,
    number: int,
    outcome: str,
    project: Project,
    users: dict[str, list[User]],
    workers: list[str],
    report: Report,
) -> Task | None:
    """Create the task ``number`` and take it to ``outcome``; return it if it is still to be
    approved (outcome ``approved``: the caller approves it after the others)."""
    thread_id = f"{MARKER}thread-{number:04d}"
    agent = rng.choice(users["agents"])
    operator = users["operators"][0]
    request = rng.choice(REQUESTS).format(rng.choice(SUBJECTS))
    estimated = {"cpu_seconds": rng.randrange(10, 600), "memory_mb": rng.choice((256, 512, 1024))}
    steps = _steps(rng, outcome)
    model = rng.choice(sorted(AI_MODELS)) if rng.random() < 0.6 else ""
    tokens = rng.randrange(800, 60_000) if model else 0
    cost = (AI_MODELS[model] * tokens / 1000).quantize(Decimal("0.000001")) if model else Decimal(0)
    actual = {
        "cpu_seconds": rng.randrange(5, 900),
        "memory_mb": rng.choice((256, 512, 1024, 2048)),
    }
    if Task.objects.filter(thread_id=thread_id).exists():
        return None
    task = task_create(
        request_text=request,
        created_by=agent,
        project=project if number % 3 else None,
        thread_id=thread_id,
        estimated_resources=estimated,
    )
    report.add("tasks")
    if outcome == "pending":
        return None
    if outcome == "rejected":
        task_reject(task=task, by=operator, reason="Out of scope for this sprint.")
        return None
    if outcome == "approved":
        return task
    task = task_approve(task=task, by=operator)
    report.add("jobs")
    job = _claim(task.jobs.get(), workers[number % len(workers)])
    task = task_start(task=task, by=agent)
    for step in steps:
        execution_log_append(task=task, by=agent, **step)
    report.add("execution_logs", len(steps))
    if outcome == "completed":
        job_complete(
            job_id=job.pk,
            lease_token=job.lease_token,
            result={"steps": len(steps), "summary": steps[-1]["output_summary"]},
        )
        task_complete(
            task=task,
            by=agent,
            actual_resources=actual,
            external_ai_model=model,
            external_ai_tokens=tokens,
            external_ai_cost=cost,
        )
    elif outcome == "failed":
        # The failed step's error is not one a retry would fix: the job dies with the task.
        job_fail(
            job_id=job.pk,
            lease_token=job.lease_token,
            error=steps[-1]["output_full"]["error"],
            retryable=False,
        )
        task_fail(
            task=task,
            by=agent,
            error_message=steps[-1]["output_full"]["error"],
            actual_resources=actual,
        )
    return None


def _tasks(
    rng: random.Random,
    size: int,
    users: dict[str, list[User]],
    workers: list[str],
    report: Report,
) -> None:
    name = f"{PROJECT_PREFIX}website relaunch"
    project = Project.objects.filter(name=name).first()
    if project is None:
        project = project_create(
            name=name, description="Tasks of the sample data.", by=users["operators"][0]
        )
        report.add("projects")
    to_approve: list[Task | None] = []
    for number in range(1, size + 1):
        if number <= len(TASK_PLAN):
            outcome = TASK_PLAN[number - 1]
        else:
            outcome = rng.choices(TASK_PLAN, weights=TASK_WEIGHTS)[0]
        to_approve.append(_task(rng, number, outcome, project, users, workers, report))
    # Approved last: their first jobs stay queued, and a queued one would be the head of the
    # queue that the claims of the tasks after it take.
    for task in to_approve:
        if task is not None:
            task_approve(task=task, by=users["operators"][0])
            report.add("jobs")


def _jobs(
    rng: random.Random, users: dict[str, list[User]], workers: list[str], report: Report
) -> None:
    """``JOB_PLAN``'s jobs, on the approved and executing sample tasks in turn (none if there
    are none), and the pause of ``PAUSED_JOB_TYPE``."""
    operator = users["operators"][0]
    hosts = list(
        Task.objects.filter(
            thread_id__startswith=MARKER, status__in=[Task.Status.APPROVED, Task.Status.EXECUTING]
        ).order_by("thread_id")
    )
    for number, (job_type, state) in enumerate(JOB_PLAN, start=1):
        dedupe_key = f"{MARKER}{job_type}-{number:02d}"
        priority = rng.choice((-10, 0, 5, 10, 20))
        delay = timedelta(minutes=rng.randrange(15, 24 * 60))
        worker = rng.choice(workers)
        # The retry's jitter, drawn here whatever happens next (so the sequence stays the same).
        jitter = random.Random(rng.random())  # noqa: S311 (sample values)
        if not hosts or Job.objects.filter(job_type=job_type, dedupe_key=dedupe_key).exists():
            continue
        task = hosts[number % len(hosts)]
        job, _ = job_enqueue(
            task=task,
            job_type=job_type,
            payload={"task_id": str(task.pk), "thread_id": task.thread_id, "sample": True},
            priority=priority,
            max_retries=0 if state == "dead" else 3,
            dedupe_key=dedupe_key,
            run_after=timezone.now() + delay if state == "queued" else None,
            by=operator,
        )
        report.add("jobs")
        if state == "cancelled":
            job_cancel(job=job, by=operator)
        elif state in ("running", "failed", "dead"):
            job = _claim(job, worker)
            if state != "running":
                # Retryable either way: "failed" has retries left, "dead" (max_retries 0) none.
                job_fail(
                    job_id=job.pk,
                    lease_token=job.lease_token,
                    error=JOB_ERRORS[job_type],
                    rng=jitter,
                )
    if job_type_pause(job_type=PAUSED_JOB_TYPE, by=operator):
        report.add("job_type_pauses")


def _audit(rng: random.Random, size: int, users: dict[str, list[User]], report: Report) -> None:
    """Tool executions, agent executions and round-table results."""
    for number in range(1, size + 1):
        agent = rng.choice(users["agents"])
        correlation_id = f"{MARKER}corr-{number:04d}"
        tool = rng.choice(TOOLS)
        status = rng.choices(("success", "failed", "timeout"), weights=(8, 1, 1))[0]
        duration = int(rng.lognormvariate(6, 1))
        rows = rng.randrange(0, 50)  # drawn whatever happens next: the sequence stays the same
        if not ToolExecution.objects.filter(correlation_id=correlation_id).exists():
            tool_execution_record(
                user=agent,
                correlation_id=correlation_id,
                tool_name=tool,
                agent_id=agent.username,
                inputs={"query": f"{tool} #{number}"},
                output={"rows": rows} if status == "success" else None,
                status=status,
                duration_ms=duration,
                error_message=None if status == "success" else f"{tool} {status}",
                metadata={"sample": True},
            )
            report.add("tool_executions")
    for number in range(1, max(3, size // 2) + 1):
        agent = rng.choice(users["agents"])
        outcome = rng.choices(("completed", "failed", "running"), weights=(6, 2, 1))[0]
        tokens = rng.randrange(200, 8_000)
        duration = rng.randrange(500, 90_000)
        error = rng.choice(ERRORS)
        execution, created = agent_execution_start(
            user=agent,
            execution_id=f"{MARKER}exec-{number:04d}",
            agent_name=rng.choice(("planner", "coder", "researcher")),
            prompt=rng.choice(REQUESTS).format(rng.choice(SUBJECTS)),
            metadata={"sample": True},
        )
        if not created:
            continue
        report.add("agent_executions")
        if outcome == "completed":
            agent_execution_complete(
                execution=execution,
                result={"answer": "done"},
                tokens_used=tokens,
                duration_ms=duration,
            )
        elif outcome == "failed":
            agent_execution_fail(
                execution=execution,
                result={"error": error},
                tokens_used=tokens,
                duration_ms=duration,
            )
    for number in range(1, max(2, size // 4) + 1):
        scores = {p: round(rng.uniform(0.4, 1.0), 2) for p in rng.sample(PROVIDERS, k=3)}
        participants: list[dict[str, Any]] = [
            {"provider": p, "score": score, "latency_ms": rng.randrange(300, 9_000)}
            for p, score in scores.items()
        ]
        winner = max(scores, key=lambda p: scores[p])
        _, created = round_table_result_record(
            user=rng.choice(users["agents"]),
            result_id=f"{MARKER}round-{number:04d}",
            prompt=rng.choice(REQUESTS).format(rng.choice(SUBJECTS)),
            participants=participants,
            task_category=rng.choice(("reasoning", "creative", "classification", "qa", "code")),
            winner_provider=winner,
            winner_response=f"The {winner} answer.",
            metadata={"sample": True},
        )
        if created:
            report.add("round_table_results")


def _rng(seed: int, kind: str) -> random.Random:
    """The generator of one kind of data for ``seed``: the data of one kind does not shift
    when another kind changes. Not for secrets: sample values only."""
    return random.Random(f"{seed}-{kind}")  # noqa: S311


@transaction.atomic
def sample_data_seed(*, seed: int = DEFAULT_SEED, size: int = DEFAULT_SIZE) -> Report:
    """Write the sample data for ``seed`` (``size``: the number of tasks and tool executions;
    the other kinds scale with it). All in one transaction. Rows already there (found by their
    marker) are kept as they are and not written again: a second run adds nothing."""
    if not 1 <= size <= MAX_SIZE:
        raise ValueError(f"size must be between 1 and {MAX_SIZE}")
    report = Report()
    users = _users(_rng(seed, "users"), size, report)
    products = _products(_rng(seed, "products"), size, users["operators"][0], report)
    _orders(_rng(seed, "orders"), users["customers"], products, users["operators"][0], report)
    jobs_rng = _rng(seed, "jobs")
    workers = [
        f"{MARKER}worker-{n}/pid-{jobs_rng.randrange(1_000, 65_536)}" for n in range(1, WORKERS + 1)
    ]
    _tasks(_rng(seed, "tasks"), size, users, workers, report)
    _jobs(jobs_rng, users, workers, report)
    _audit(_rng(seed, "audit"), size, users, report)
    return report


@transaction.atomic
def sample_data_reset() -> dict[str, int]:
    """Delete the sample rows, in an order the database allows; return what went, per kind.

    - Tasks go with their execution logs, jobs and artifacts (ON DELETE CASCADE); then the
      sample project (refused while it has tasks).
    - The job types the sample operator paused are resumed (``job_type_resume``); pauses made
      by anyone else stay.
    - Orders go with their lines and order events; their stock movements stay (the stock
      ledger is append-only; the database sets their ``order_id`` to NULL).
    - Products are archived, not deleted: their stock movements keep them (PROTECT). A later
      seed publishes them again and reuses them as they are.
    - Tool and agent executions and round-table results are deleted.
    - Users are deleted last; events, stock movements and audit rows they acted in keep their
      rows with the user set to NULL by the database.
    - Events are never deleted (append-only, enforced by a trigger): the trail of the sample
      tasks and projects stays, naming subjects that no longer exist.
    """
    deleted: dict[str, int] = {}

    def delete(kind: str, queryset: Any) -> None:
        deleted[kind] = queryset.delete()[1].get(queryset.model._meta.label, 0)

    jobs = Job.objects.filter(task__thread_id__startswith=MARKER).count()
    delete("tasks", Task.objects.filter(thread_id__startswith=MARKER))
    deleted["jobs"] = jobs  # gone with their tasks
    delete("projects", Project.objects.filter(name__startswith=PROJECT_PREFIX))
    delete("orders", Order.objects.filter(user__username__startswith=MARKER))
    archived = 0
    for product in Product.objects.filter(sku__startswith=SKU_PREFIX).exclude(
        status=Product.Status.ARCHIVED
    ):
        product_archive(product=product)
        archived += 1
    deleted["products archived"] = archived
    delete("tool_executions", ToolExecution.objects.filter(correlation_id__startswith=MARKER))
    delete("agent_executions", AgentExecution.objects.filter(execution_id__startswith=MARKER))
    delete("round_table_results", LLMRoundTableResult.objects.filter(result_id__startswith=MARKER))
    resumed = 0
    for pause in JobTypePause.objects.filter(paused_by__username__startswith=MARKER):
        if pause.paused_by is not None:  # the filter says so; this tells the type checker
            resumed += job_type_resume(job_type=pause.job_type, by=pause.paused_by)
    deleted["job_type_pauses"] = resumed
    delete("users", User.objects.filter(username__startswith=MARKER))
    return deleted

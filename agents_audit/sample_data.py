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

Jobs and artifacts are not seeded: they have no writing services yet.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction

from agents_audit.models import AgentExecution, LLMRoundTableResult, ToolExecution
from agents_audit.models.projects import Project
from agents_audit.models.tasks import AgentType, ExecutionLogStatus, Task
from agents_audit.services import (
    agent_execution_complete,
    agent_execution_fail,
    agent_execution_start,
    round_table_result_record,
    tool_execution_record,
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


def _task(
    rng: random.Random,
    number: int,
    outcome: str,
    project: Project,
    users: dict[str, list[User]],
    report: Report,
) -> None:
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
        return
    task = task_create(
        request_text=request,
        created_by=agent,
        project=project if number % 3 else None,
        thread_id=thread_id,
        estimated_resources=estimated,
    )
    report.add("tasks")
    if outcome == "pending":
        return
    if outcome == "rejected":
        task_reject(task=task, by=operator, reason="Out of scope for this sprint.")
        return
    task = task_approve(task=task, by=operator)
    if outcome == "approved":
        return
    task = task_start(task=task, by=agent)
    for step in steps:
        execution_log_append(task=task, by=agent, **step)
    report.add("execution_logs", len(steps))
    if outcome == "completed":
        task_complete(
            task=task,
            by=agent,
            actual_resources=actual,
            external_ai_model=model,
            external_ai_tokens=tokens,
            external_ai_cost=cost,
        )
    elif outcome == "failed":
        task_fail(
            task=task,
            by=agent,
            error_message=steps[-1]["output_full"]["error"],
            actual_resources=actual,
        )


def _tasks(rng: random.Random, size: int, users: dict[str, list[User]], report: Report) -> None:
    name = f"{PROJECT_PREFIX}website relaunch"
    project = Project.objects.filter(name=name).first()
    if project is None:
        project = project_create(
            name=name, description="Tasks of the sample data.", by=users["operators"][0]
        )
        report.add("projects")
    for number in range(1, size + 1):
        if number <= len(TASK_PLAN):
            outcome = TASK_PLAN[number - 1]
        else:
            outcome = rng.choices(TASK_PLAN, weights=TASK_WEIGHTS)[0]
        _task(rng, number, outcome, project, users, report)


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
    _tasks(_rng(seed, "tasks"), size, users, report)
    _audit(_rng(seed, "audit"), size, users, report)
    return report


@transaction.atomic
def sample_data_reset() -> dict[str, int]:
    """Delete the sample rows, in an order the database allows; return what went, per kind.

    - Tasks go with their execution logs, jobs and artifacts (ON DELETE CASCADE); then the
      sample project (refused while it has tasks).
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

    delete("tasks", Task.objects.filter(thread_id__startswith=MARKER))
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
    delete("users", User.objects.filter(username__startswith=MARKER))
    return deleted

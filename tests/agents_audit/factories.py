from __future__ import annotations

import factory

from agents_audit.models import (
    AgentExecution,
    Artifact,
    ExecutionLog,
    Job,
    LLMRoundTableResult,
    Project,
    Task,
    ToolExecution,
)
from tests.commerce.factories import AgentUserFactory


class LLMRoundTableResultFactory(factory.django.DjangoModelFactory[LLMRoundTableResult]):
    class Meta:
        model = LLMRoundTableResult

    result_id = factory.Sequence(lambda n: f"rt-{n:06d}")
    prompt = "Which answer is best?"
    task_category = "reasoning"
    winner_provider = "anthropic"
    winner_response = "42"
    participants = factory.LazyFunction(
        lambda: [
            {"provider": "anthropic", "response": "42", "score": 0.95},
            {"provider": "openai", "response": "41", "score": 0.87},
        ]
    )


class AgentExecutionFactory(factory.django.DjangoModelFactory[AgentExecution]):
    class Meta:
        model = AgentExecution

    execution_id = factory.Sequence(lambda n: f"exec-{n:06d}")
    agent_name = "commerce_agent"
    prompt = "Create three products"


class ToolExecutionFactory(factory.django.DjangoModelFactory[ToolExecution]):
    class Meta:
        model = ToolExecution

    correlation_id = factory.Sequence(lambda n: f"corr-{n:08d}")
    tool_name = "search_products"
    agent_id = "commerce_agent"
    user = factory.SubFactory(AgentUserFactory)
    inputs = factory.LazyFunction(lambda: {"query": "rings"})
    output = factory.LazyFunction(lambda: {"count": 3})
    status = ToolExecution.Status.SUCCESS
    duration_ms = 150


class ProjectFactory(factory.django.DjangoModelFactory[Project]):
    class Meta:
        model = Project

    name = factory.Sequence(lambda n: f"Project {n}")
    description = "Deploy the shop"


class TaskFactory(factory.django.DjangoModelFactory[Task]):
    """A pending task created by an agent. Other states: go through the services
    (``agents_audit.services.tasks``), as production does."""

    class Meta:
        model = Task

    request_text = factory.Sequence(lambda n: f"Deploy release {n} to staging")
    created_by = factory.SubFactory(AgentUserFactory)
    thread_id = factory.Sequence(lambda n: f"thread-{n:06d}")


class ExecutionLogFactory(factory.django.DjangoModelFactory[ExecutionLog]):
    class Meta:
        model = ExecutionLog

    task = factory.SubFactory(TaskFactory)
    step_number = factory.Sequence(lambda n: n + 1)
    agent_type = ExecutionLog.AgentType.INFRA
    action = "docker compose up -d"
    status = ExecutionLog.Status.COMPLETED
    output_summary = "3 containers started"
    duration_ms = 1200


class ArtifactFactory(factory.django.DjangoModelFactory[Artifact]):
    class Meta:
        model = Artifact

    task = factory.SubFactory(TaskFactory)
    storage_key = factory.Sequence(lambda n: f"artifacts/{n:06d}/report.json")
    size_bytes = 2048
    content_type = "application/json"
    sha256 = "0" * 64


class JobFactory(factory.django.DjangoModelFactory[Job]):
    """A queued job of a task."""

    class Meta:
        model = Job

    task = factory.SubFactory(TaskFactory)
    job_type = "deploy"
    payload = factory.LazyFunction(lambda: {"service": "web"})

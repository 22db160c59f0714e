from __future__ import annotations

import factory

from agents_audit.models import (
    AgentExecution,
    Artifact,
    Checkpoint,
    CheckpointBlob,
    CheckpointThread,
    CheckpointWrite,
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


class CheckpointThreadFactory(factory.django.DjangoModelFactory[CheckpointThread]):
    """An agent's LangGraph thread."""

    class Meta:
        model = CheckpointThread

    thread_id = factory.Sequence(lambda n: f"lg-thread-{n:06d}")
    owner = factory.SubFactory(AgentUserFactory)


def checkpoint_id(n: int) -> str:
    """Ids that sort like LangGraph's (uuid6: time-ordered): a larger ``n`` is newer."""
    return f"1ef00000-0000-6000-8000-{n:012d}"


class CheckpointFactory(factory.django.DjangoModelFactory[Checkpoint]):
    """A checkpoint of the root namespace; ``checkpoint`` names its id and no channels."""

    class Meta:
        model = Checkpoint

    thread = factory.SubFactory(CheckpointThreadFactory)
    checkpoint_ns = ""
    checkpoint_id = factory.Sequence(checkpoint_id)
    checkpoint = factory.LazyAttribute(
        lambda o: {
            "v": 4,
            "id": o.checkpoint_id,
            "ts": "2024-06-01T00:00:00+00:00",
            "channel_versions": {},
            "versions_seen": {},
        }
    )
    metadata = factory.LazyFunction(lambda: {"source": "loop", "step": 1})


class CheckpointBlobFactory(factory.django.DjangoModelFactory[CheckpointBlob]):
    class Meta:
        model = CheckpointBlob

    thread = factory.SubFactory(CheckpointThreadFactory)
    checkpoint_ns = ""
    channel = "messages"
    version = factory.Sequence(str)
    type = "msgpack"
    blob = b"\x93\x01\x02\x03"


class CheckpointWriteFactory(factory.django.DjangoModelFactory[CheckpointWrite]):
    class Meta:
        model = CheckpointWrite

    thread = factory.SubFactory(CheckpointThreadFactory)
    checkpoint_ns = ""
    checkpoint_id = factory.Sequence(checkpoint_id)
    task_id = "task-1"
    task_path = ""
    idx = factory.Sequence(int)
    channel = "messages"
    type = "msgpack"
    blob = b"\x01"

from __future__ import annotations

import factory

from agents_audit.models import AgentExecution, LLMRoundTableResult, ToolExecution
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

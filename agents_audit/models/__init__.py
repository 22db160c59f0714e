"""agents_audit's models, one module per aggregate; import them from here.

- ``audit``: what AI agents did (seed 001): round-table results, agent and tool executions.
"""

from agents_audit.models.audit import (
    AgentExecution,
    AgentExecutionStatus,
    LLMRoundTableResult,
    TaskCategory,
    ToolExecution,
    ToolExecutionStatus,
)

__all__ = [
    "AgentExecution",
    "AgentExecutionStatus",
    "LLMRoundTableResult",
    "TaskCategory",
    "ToolExecution",
    "ToolExecutionStatus",
]

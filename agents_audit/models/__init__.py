"""agents_audit's models, one module per aggregate; import them from here.

- ``audit``: what AI agents did (seed 001): round-table results, agent and tool executions.
- ``projects``: projects (seed 003).
- ``tasks``: agent tasks with operator approval, their execution steps and artifacts (seeds 003
  and 004).
- ``jobs``: the job queue's table (seed 003) and its paused job types.
- ``events``: the append-only event trail (seed 003).
- ``checkpoints``: LangGraph checkpoints, their channel blobs and pending writes, per thread
  (issue 10).
"""

from agents_audit.models.audit import (
    AgentExecution,
    AgentExecutionStatus,
    LLMRoundTableResult,
    TaskCategory,
    ToolExecution,
    ToolExecutionStatus,
)
from agents_audit.models.checkpoints import (
    Checkpoint,
    CheckpointBlob,
    CheckpointThread,
    CheckpointWrite,
)
from agents_audit.models.events import Event, EventSubject, EventType
from agents_audit.models.jobs import Job, JobStatus, JobTypePause
from agents_audit.models.projects import Project
from agents_audit.models.tasks import (
    AgentType,
    Artifact,
    ExecutionLog,
    ExecutionLogStatus,
    Task,
    TaskStatus,
)

__all__ = [
    "AgentExecution",
    "AgentExecutionStatus",
    "AgentType",
    "Artifact",
    "Checkpoint",
    "CheckpointBlob",
    "CheckpointThread",
    "CheckpointWrite",
    "Event",
    "EventSubject",
    "EventType",
    "ExecutionLog",
    "ExecutionLogStatus",
    "Job",
    "JobStatus",
    "JobTypePause",
    "LLMRoundTableResult",
    "Project",
    "Task",
    "TaskCategory",
    "TaskStatus",
    "ToolExecution",
    "ToolExecutionStatus",
]

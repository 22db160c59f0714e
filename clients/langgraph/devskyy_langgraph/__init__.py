"""A LangGraph checkpointer that keeps graph state in devskyy, reached over its HTTP API.

    from devskyy_langgraph import DevskyyCheckpointSaver

    saver = DevskyyCheckpointSaver(base_url="https://devskyy.example.com", api_key="...")
    graph = builder.compile(checkpointer=saver)

Depends only on ``langgraph-checkpoint`` and ``httpx``: nothing of the server (no Django).
"""

from devskyy_langgraph.errors import CheckpointTooLarge, DevskyyAPIError, PruneUnsupported
from devskyy_langgraph.saver import DevskyyCheckpointSaver
from devskyy_langgraph.transport import __version__

__all__ = [
    "CheckpointTooLarge",
    "DevskyyAPIError",
    "DevskyyCheckpointSaver",
    "PruneUnsupported",
    "__version__",
]

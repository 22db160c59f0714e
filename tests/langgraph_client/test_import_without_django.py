"""The client is what an agent installs: it imports and works with no Django at all."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

# Django cannot be imported in the child (as if it were not installed), and is not imported.
CHILD = """
import importlib.abc
import sys


class NoDjango(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "django" or name.startswith("django."):
            raise ImportError(f"{name} imported by the client")
        return None


sys.meta_path.insert(0, NoDjango())

import httpx
from langgraph.checkpoint.base import empty_checkpoint

from devskyy_langgraph import DevskyyCheckpointSaver


def server(request):
    if request.method == "POST":
        return httpx.Response(201, json={})
    return httpx.Response(404, json={"code": "not_found", "detail": "No such thread."})


with DevskyyCheckpointSaver(
    base_url="http://devskyy.invalid", api_key="key", transport=httpx.MockTransport(server)
) as saver:
    config = {"configurable": {"thread_id": "t-1", "checkpoint_ns": ""}}
    saver.put(config, empty_checkpoint(), {"source": "input", "step": -1}, {})
    assert saver.get_tuple(config) is None
django = sorted(name for name in sys.modules if name.split(".")[0] == "django")
assert not django, django
print("ok")
"""


def test_the_client_imports_and_runs_without_django(tmp_path: Path) -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DJANGO_SETTINGS_MODULE", "PYTHONPATH"}
    }
    # cwd outside the repository: nothing of the server is on the child's path
    result = subprocess.run(  # noqa: S603 (our own interpreter, fixed arguments)
        [sys.executable, "-c", CHILD], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"

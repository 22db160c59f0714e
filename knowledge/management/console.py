"""rich output for the knowledge base's commands."""

from __future__ import annotations

from typing import IO, Any, cast

from django.core.management.base import OutputWrapper
from rich.console import Console


def console(stream: OutputWrapper, **kwargs: Any) -> Console:
    """A rich Console on a command's stdout or stderr. rich writes partial lines (a live
    progress bar redraws one), and OutputWrapper.write ends every write with a newline, so the
    console writes to the stream the wrapper holds (the one call_command was given, in tests)."""
    return Console(file=cast(IO[str], stream._out), **kwargs)

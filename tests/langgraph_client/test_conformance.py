"""LangGraph's own conformance suite passes with the client against a live devskyy.

``langgraph.checkpoint.conformance.validate`` runs every capability's specification (put,
put_writes, get_tuple, list, delete_thread, and the extended delete_for_runs, copy_thread and
prune) through the saver's async methods, over HTTP to the server pytest-django runs in a thread
of this process, authenticated with an agent's API key: the client, the wire format and the
server's storage together behave as LangGraph expects a checkpointer to.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from langgraph.checkpoint.conformance import checkpointer_test, validate
from langgraph.checkpoint.conformance.capabilities import ALL_CAPABILITIES
from langgraph.checkpoint.conformance.report import CapabilityReport

from devskyy_langgraph import DevskyyCheckpointSaver


def _conformance_report(base_url: str, api_key: str) -> CapabilityReport:
    async def saver() -> AsyncIterator[DevskyyCheckpointSaver]:
        # Closed after each capability: a kept-alive connection would hold a server thread (and
        # its database session) past the test.
        async with DevskyyCheckpointSaver(base_url=base_url, api_key=api_key) as instance:
            yield instance

    registered = checkpointer_test(name="DevskyyCheckpointSaver")(saver)
    return asyncio.run(validate(registered))


def _failures(report: CapabilityReport) -> str:
    return "\n".join(
        f"{name}: {failure}"
        for name, result in report.results.items()
        for failure in result.failures
    )


@pytest.mark.slow  # 5 to 8 s: some 300 requests, half of them puts (a commit each)
def test_the_saver_passes_every_capability_of_langgraphs_conformance_suite(
    live_url: str, agent_key: Callable[[], str]
) -> None:
    # when the whole suite runs against the live server, with an agent's key
    report = _conformance_report(live_url, agent_key())

    # then every capability, base and extended, was detected, run and passed: none failed, none
    # was skipped (the report is printed; the failures are the assertion's message)
    report.print_report()
    outcome = {
        name: (result.detected, result.passed, result.tests_failed, result.tests_skipped)
        for name, result in report.results.items()
    }
    every_capability = sorted(capability.value for capability in ALL_CAPABILITIES)
    assert outcome == dict.fromkeys(every_capability, (True, True, 0, 0)), _failures(report)
    assert all(result.tests_passed > 0 for result in report.results.values())
    assert report.passed_all_base()
    assert report.conformance_level() == "FULL"

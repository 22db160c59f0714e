"""A claim left ``in_progress`` by a request that died is taken over once no live request can
still hold it: after twice the longest a request can run (the 30 s statement timeout, a job
claim's 30 s wait), 60 s by default, not 5 minutes."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.utils import timezone

from agents_audit.models import ToolExecution
from devskyy.api.idempotency import request_fingerprint
from devskyy.models import IdempotencyRecord

pytestmark = pytest.mark.django_db

TOOL = "/api/v1/tool-executions/"
BODY = {"correlation_id": "c", "tool_name": "t", "inputs": {"q": 1}, "status": "success"}


def claim_left_by_a_dead_request(user, *, age: timedelta) -> IdempotencyRecord:
    """The row a request leaves when its worker is killed after claiming the key."""
    this_request = SimpleNamespace(method="POST", path=TOOL, data=BODY)
    return IdempotencyRecord.objects.create(
        user=user,
        key="crashed",
        fingerprint=request_fingerprint(this_request),  # type: ignore[arg-type]
        created_at=timezone.now() - age,
    )


def test_the_stale_window_is_twice_the_request_and_statement_timeouts():
    assert settings.API_IDEMPOTENCY_STALE_SECONDS == 60
    assert settings.API_IDEMPOTENCY_STALE_SECONDS >= 2 * settings.DB_STATEMENT_TIMEOUT_MS / 1000


def test_a_claim_older_than_the_window_is_taken_over_by_the_retry(agent_a, agent_client):
    claim_left_by_a_dead_request(agent_a, age=timedelta(seconds=61))

    retry = agent_client.post(TOOL, BODY, format="json", HTTP_IDEMPOTENCY_KEY="crashed")

    assert retry.status_code == 201
    assert ToolExecution.objects.count() == 1
    record = IdempotencyRecord.objects.get(key="crashed")
    assert (record.state, record.response_status) == ("completed", 201)


def test_a_claim_younger_than_the_window_may_still_be_running_and_answers_409(
    agent_a, agent_client
):
    claim_left_by_a_dead_request(agent_a, age=timedelta(seconds=50))

    retry = agent_client.post(TOOL, BODY, format="json", HTTP_IDEMPOTENCY_KEY="crashed")

    assert retry.status_code == 409
    assert retry.json()["code"] == "idempotency_in_progress"
    assert not ToolExecution.objects.exists()

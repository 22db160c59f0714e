"""Natural keys (``execution_id``, ``result_id``) are only created if they can be addressed.

A key that a URL cannot carry (``a/b``, ``.``, ``..``) or that another route already answers
(``leaderboard``) would make a record nobody can read, complete or fail again; such keys are
refused at creation with a 400, and the pattern that decides it is the one the OpenAPI document
shows and the URL route uses.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.exceptions import ValidationError

from agents_audit.api.serializers import (
    AgentExecutionStartSerializer,
    RoundTableResultInputSerializer,
)
from agents_audit.api.views import AgentExecutionViewSet, RoundTableResultViewSet
from agents_audit.models import AgentExecution, LLMRoundTableResult
from devskyy.api import natural_keys
from tests.conftest import error_codes

pytestmark = pytest.mark.django_db

EXECUTIONS = "/api/v1/agent-executions/"
RESULTS = "/api/v1/round-table-results/"
REFUSED = ["a/b", ".", "..", "-x", ".hidden", "x y", " x", "x\n", "café", "x?y", "x#y", "%2F"]
# The seed's identifiers: UUID strings (a fixed one: every pytest-xdist worker must collect the
# same test ids), "exec-...", and other usual spellings.
ACCEPTED = [
    "9ef60eca-deb8-4f1c-abdd-8edb8bf76324",
    "exec-000042",
    "exec-2024-06-07-0001",
    "run:7",
    "rt_1.final",
    "a",
]


def _execution(execution_id: str) -> dict[str, str]:
    return {"execution_id": execution_id, "agent_name": "planner", "prompt": "p"}


def _result(result_id: str) -> dict[str, object]:
    return {"result_id": result_id, "prompt": "p", "participants": [{"provider": "anthropic"}]}


@pytest.mark.parametrize("key", [*REFUSED, "leaderboard", "x" * 101])
def test_a_round_table_result_under_an_unaddressable_key_is_refused(agent_client, key):
    response = agent_client.post(RESULTS, _result(key), format="json")
    assert response.status_code == 400, response.json()
    assert "invalid" in error_codes(response.json())["result_id"]
    assert not LLMRoundTableResult.objects.exists()


@pytest.mark.parametrize("key", [*REFUSED, "x" * 101])
def test_an_agent_execution_under_an_unaddressable_key_is_refused(agent_client, key):
    response = agent_client.post(EXECUTIONS, _execution(key), format="json")
    assert response.status_code == 400, response.json()
    assert "invalid" in error_codes(response.json())["execution_id"]
    assert not AgentExecution.objects.exists()


@pytest.mark.parametrize("key", [*ACCEPTED, "x" * 100])
def test_every_key_that_is_accepted_can_be_read_and_completed(agent_client, key):
    assert agent_client.post(EXECUTIONS, _execution(key), format="json").status_code == 201
    assert agent_client.get(f"{EXECUTIONS}{key}/").json()["execution_id"] == key
    completed = agent_client.post(f"{EXECUTIONS}{key}/complete/", {}, format="json")
    assert completed.json()["status"] == "completed"
    assert agent_client.post(RESULTS, _result(key), format="json").status_code == 201
    assert agent_client.get(f"{RESULTS}{key}/").json()["result_id"] == key


def test_leaderboard_is_reserved_only_where_it_is_a_route(agent_client):
    assert (
        agent_client.post(EXECUTIONS, _execution("leaderboard"), format="json").status_code == 201
    )
    assert agent_client.get(f"{EXECUTIONS}leaderboard/").json()["execution_id"] == "leaderboard"


@pytest.mark.parametrize(
    ("viewset", "serializer", "field"),
    [
        (AgentExecutionViewSet, AgentExecutionStartSerializer, "execution_id"),
        (RoundTableResultViewSet, RoundTableResultInputSerializer, "result_id"),
    ],
)
def test_every_list_route_of_a_resource_is_a_key_its_serializer_refuses(viewset, serializer, field):
    # A list route added later (say, "stats") must be reserved too, or it would shadow a record.
    assert viewset.lookup_value_regex == natural_keys.URL_REGEX
    key_field = serializer().fields[field]
    for route in natural_keys.list_routes(viewset):
        with pytest.raises(ValidationError):
            key_field.run_validation(route)


def test_the_route_and_the_field_use_the_pattern_the_schema_shows(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    field = schema["components"]["schemas"]["RoundTableResultInputRequest"]["properties"]
    (parameter,) = schema["paths"]["/api/v1/round-table-results/{result_id}/"]["get"]["parameters"]
    expected = "^(?!leaderboard$)[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$"
    assert field["result_id"]["pattern"] == parameter["schema"]["pattern"] == expected
    execution = schema["components"]["schemas"]["AgentExecutionStartRequest"]["properties"]
    assert execution["execution_id"]["pattern"] == "^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$"
    assert reverse("round-table-result-detail", args=["rt-1"]) == f"{RESULTS}rt-1/"

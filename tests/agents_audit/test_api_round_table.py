"""POST/GET /api/v1/round-table-results/ and the leaderboard."""

from __future__ import annotations

import pytest

from agents_audit.models import LLMRoundTableResult
from tests.agents_audit.factories import LLMRoundTableResultFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/round-table-results/"


def competition(**overrides):
    body = {
        "result_id": "rt-1",
        "prompt": "Prove it",
        "task_category": "reasoning",
        "winner_provider": "anthropic",
        "winner_response": "QED",
        "participants": [
            {"provider": "anthropic", "response": "QED", "score": 0.95, "latency_ms": 900},
            {"provider": "openai", "response": "Maybe", "score": 0.80},
        ],
        "metadata": {"judge": "panel"},
    }
    return {**body, **overrides}


def test_agent_records_a_competition(agent_client, agent_a):
    response = agent_client.post(URL, competition(), format="json")
    assert response.status_code == 201, response.json()
    row = LLMRoundTableResult.objects.get()
    assert row.user == agent_a
    assert row.participants[0] == {
        "provider": "anthropic",
        "response": "QED",
        "score": 0.95,
        "latency_ms": 900,
    }
    assert agent_client.get(f"{URL}rt-1/").json() == response.json()


def test_the_winner_must_be_a_participant(agent_client):
    response = agent_client.post(URL, competition(winner_provider="mistral"), format="json")
    assert response.status_code == 400
    assert response.json()["errors"]["winner_provider"][0]["code"] == "not_a_participant"
    assert not LLMRoundTableResult.objects.exists()


@pytest.mark.parametrize(
    "participants",
    [[], [{"response": "no provider"}], "nope", [{"provider": "a"}, {"provider": "a"}]],
)
def test_participants_must_be_a_non_empty_list_of_distinct_providers(agent_client, participants):
    body = competition(participants=participants, winner_provider=None)
    assert agent_client.post(URL, body, format="json").status_code == 400
    assert not LLMRoundTableResult.objects.exists()


def test_recording_is_idempotent_on_result_id(agent_client):
    first = agent_client.post(URL, competition(), format="json")
    again = agent_client.post(URL, competition(), format="json")
    assert again.status_code == 200
    assert again.json() == first.json()
    other = agent_client.post(URL, competition(prompt="Changed"), format="json")
    assert other.status_code == 409
    assert other.json()["code"] == "conflict"
    assert LLMRoundTableResult.objects.count() == 1


def test_leaderboard_is_computed_per_provider(agent_client, agent_a, agent_b):
    def record(result_id, winner, scores, category="reasoning", user=agent_a):
        LLMRoundTableResultFactory.create(
            user=user,
            result_id=result_id,
            task_category=category,
            winner_provider=winner,
            participants=[{"provider": p, "response": "r", "score": s} for p, s in scores.items()],
        )

    record("a", "anthropic", {"anthropic": 0.9, "openai": 0.7})
    record("b", "openai", {"anthropic": 0.5, "openai": 0.8, "mistral": 0.6})
    record("c", "anthropic", {"anthropic": 1.0, "mistral": 0.2}, category="code")
    record("d", "mistral", {"mistral": 1.0, "anthropic": 0.0}, user=agent_b)  # not A's

    response = agent_client.get(URL + "leaderboard/?task_category=reasoning")
    assert response.status_code == 200
    # most wins first, then the better mean score
    assert response.json() == [
        {"provider": "openai", "competitions": 2, "wins": 1, "win_rate": 0.5, "mean_score": 0.75},
        {"provider": "anthropic", "competitions": 2, "wins": 1, "win_rate": 0.5, "mean_score": 0.7},
        {"provider": "mistral", "competitions": 1, "wins": 0, "win_rate": 0.0, "mean_score": 0.6},
    ]
    everything = agent_client.get(URL + "leaderboard/").json()
    assert {row["provider"]: row["competitions"] for row in everything} == {
        "anthropic": 3,
        "openai": 2,
        "mistral": 2,
    }


def test_leaderboard_is_one_query_besides_the_api_key_lookup(
    agent_client, agent_a, django_assert_num_queries
):
    LLMRoundTableResultFactory.create_batch(20, user=agent_a)
    with django_assert_num_queries(2) as captured:  # the key lookup, then the leaderboard
        assert agent_client.get(URL + "leaderboard/").status_code == 200
    assert "user_api_keys" in captured.captured_queries[0]["sql"]
    assert "llm_round_table_results" in captured.captured_queries[1]["sql"]

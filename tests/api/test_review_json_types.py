"""Review of the JSON-types rule on number fields: a number field takes a JSON number, never a
string or a boolean that DRF would coerce.

Found in review: a round-table participant's ``score`` (DRF's ``FloatField``) took
``"1e308"``, ``"5"``, ``" 5 "``, an Arabic-Indic ``"\\u0661"`` and ``true``. A string is not
checked by the parser's range rule (``number_out_of_range``), so ``{"score": "1e308"}`` stored the
very number the issue's 1e308 example is about: the create answered ``1e+308`` and every later
read the 309 digits ``jsonb`` keeps. And seed 001's ``complete`` body, whose counts are read from
``result`` "under the same rules" as the top-level fields, took ``"5"``, ``5.0`` and ``1e3``
there, which the top level refuses.
"""

from __future__ import annotations

import pytest

from tests.conftest import error_codes

pytestmark = pytest.mark.django_db

ROUND_TABLE = "/api/v1/round-table-results/"
EXECUTIONS = "/api/v1/agent-executions/"


def _round_table(score: str) -> str:
    return (
        '{"result_id": "rt-1", "prompt": "p", "winner_provider": "a", '
        f'"participants": [{{"provider": "a", "score": {score}}}, {{"provider": "b"}}]}}'
    )


@pytest.mark.parametrize(
    "score", ['"1e308"', '"5"', '" 5 "', '"\\u0661"', '"0.5"', "true", "false"]
)
def test_a_participant_score_that_is_not_a_json_number_is_refused(agent_client, score):
    response = agent_client.generic(
        "POST", ROUND_TABLE, _round_table(score), content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "participants": {
            "0": {"score": [{"message": "A valid number is required.", "code": "invalid"}]}
        }
    }
    assert agent_client.get(ROUND_TABLE).json()["results"] == []


@pytest.mark.parametrize(("score", "stored"), [("0.5", 0.5), ("5", 5.0), ("null", None)])
def test_a_participant_score_that_is_a_json_number_reads_back_as_created(
    agent_client, score, stored
):
    created = agent_client.generic(
        "POST", ROUND_TABLE, _round_table(score), content_type="application/json"
    )

    assert created.status_code == 201, created.json()
    assert created.json()["participants"][0]["score"] == stored
    assert agent_client.get(f"{ROUND_TABLE}rt-1/").json() == created.json()


@pytest.mark.parametrize("count", ['"5"', "5.0", "1e3", '"\\u0661"', "true"])
def test_counts_read_from_result_follow_the_top_level_rules(agent_client, count):
    agent_client.post(
        EXECUTIONS, {"execution_id": "exec-1", "agent_name": "a", "prompt": "p"}, format="json"
    )
    top_level = agent_client.generic(
        "POST",
        f"{EXECUTIONS}exec-1/complete/",
        f'{{"result": {{}}, "tokens_used": {count}}}',
        content_type="application/json",
    )
    in_result = agent_client.generic(
        "POST",
        f"{EXECUTIONS}exec-1/complete/",
        f'{{"result": {{"tokens_used": {count}}}}}',
        content_type="application/json",
    )

    assert top_level.status_code == in_result.status_code == 400
    assert error_codes(top_level.json()) == {"tokens_used": ["invalid"]}
    assert in_result.json()["errors"] == {
        "result": {"tokens_used": top_level.json()["errors"]["tokens_used"]}
    }
    assert agent_client.get(f"{EXECUTIONS}exec-1/").json()["status"] == "running"


@pytest.mark.parametrize("score", [str(2**63 - 1), str(-(2**63))])
def test_an_integer_score_whose_double_leaves_the_range_is_refused(agent_client, score):
    # the score is kept as a double, and the double of 2**63 - 1 is 2**63
    response = agent_client.generic(
        "POST", ROUND_TABLE, _round_table(score), content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["errors"]["participants"]["0"]["score"][0]["code"] == (
        "number_out_of_range"
    )

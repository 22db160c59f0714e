"""The OpenAPI document is the contract: Schemathesis checks it against the running app.

For each role (agent, operator, admin) Schemathesis generates requests from the schema the app
serves at ``/api/schema/`` (its examples, coverage and fuzzing phases: valid and invalid data),
sends them with that role's API key to the app in this process through its WSGI transport (the
whole Django stack from the first middleware on, without a socket; each request commits, as a
server's would) and runs every check it has on the responses: no 5xx, only documented status
codes and content types, bodies that match their schemas, schema-valid requests accepted,
schema-violating ones refused, authentication not ignored, undocumented methods answered 405.
A fixed seed makes the run reproducible; every role gets at least ``MIN_CASES_PER_ROLE`` cases,
and every operation answers its caller with something other than 401.

Schemathesis's stateful workflows (calls linked by the ids they return) are not run: Hypothesis's
stateful engine replays choices whose enabled rules depend on what the server returned,
and reports "inconsistent data generation" at random; the linked paths an agent takes are
walked by tests/api/test_generated_client.py instead.

The failures that are accepted are listed, with their reasons, in
``tests/api/schemathesis_exceptions.py``; anything else fails the test.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from rest_framework.throttling import UserRateThrottle
from schemathesis.core.failures import FailureGroup

from commerce.models import User
from commerce.services import api_key_create
from devskyy.models import IdempotencyRecord
from knowledge import embedder
from tests.api.schemathesis_exceptions import accepted
from tests.commerce.factories import (
    AdminFactory,
    AgentUserFactory,
    OperatorFactory,
    ProductFactory,
)

SEED = 20240607
FUZZ_EXAMPLES = 30  # per operation and role, on top of the examples and coverage phases
MIN_CASES_PER_ROLE = 1000
ROLES = {"agent": AgentUserFactory, "operator": OperatorFactory, "admin": AdminFactory}

pytestmark = pytest.mark.slow

# The schema as the app serves it, and the app the requests go to (Schemathesis's WSGI transport).
schema = schemathesis.openapi.from_wsgi(
    "/api/schema/",
    get_wsgi_application(),
    config=schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {
                "max-examples": FUZZ_EXAMPLES,
                # The API description says strings may not hold U+0000 (PostgreSQL cannot
                # store it); JSON Schema has no way to say it of every string.
                "allow-x00": False,
            },
            "suppress-health-check": ["all"],
        }
    ),
)
OPERATIONS = frozenset(
    f"{method.upper()} {path}"
    for path, operations in schema.raw_schema["paths"].items()
    for method in operations
)


@dataclass
class Tally:
    cases: int = 0
    operations: set[str] = field(default_factory=set)


@pytest.fixture(scope="module", params=sorted(ROLES))
def role(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def tally(role: str, request: pytest.FixtureRequest) -> Iterator[Tally]:
    tally = Tally()
    yield tally
    if request.session.shouldfail or request.session.shouldstop:
        return  # the run stopped early (-x): not every case ran
    selected = [
        item
        for item in request.session.items
        if isinstance(item, pytest.Function)
        and item.module is request.module
        and item.callspec.params["role"] == role
    ]
    if len(selected) == len(OPERATIONS):  # the whole run for this role, not a -k selection
        assert tally.operations == OPERATIONS, f"the cases as {role} were split between processes"
        assert tally.cases >= MIN_CASES_PER_ROLE, f"only {tally.cases} cases as {role}"


@pytest.fixture
def statuses(role: str) -> Iterator[set[int]]:
    """The status codes an operation answered with: not only 401, or the key was not accepted
    and the operation was never reached."""
    statuses: set[int] = set()
    yield statuses
    assert statuses - {401}, f"every answer as {role} was 401: the caller's key did not work"


@pytest.fixture
def api_headers(
    transactional_db: None, role: str, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> dict[str, str]:
    """The role's caller and key, made for each operation: the requests commit (as a server's
    would), and the database is emptied after each operation (``transactional_db``). Made once
    per role instead, they went with that flush, and every later operation answered only 401."""
    # Thousands of requests a minute: the throttle would answer most of them with a 429.
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": None, "anon": None})
    # A job claim with wait_seconds would hold its case for up to 30 s when there is no job:
    # here every claim answers at once (waiting is tested in test_job_claim_waiting).
    settings.JOB_CLAIM_MAX_WAITERS = 0
    # Thousands of generated searches and ingests each embed their text: with the real model
    # (tested with known answers in tests/knowledge) that is most of this test's time. Here a
    # fast stand-in gives deterministic unit vectors, so the vector and hybrid SQL still run.
    monkeypatch.setattr(embedder, "embed_texts", _hashed_unit_vectors)
    # "0" is the SKU Schemathesis tries first: with it, generated orders can succeed.
    ProductFactory.create(sku="0", inventory_quantity=10**9)
    user: User = ROLES[role].create()
    _, key = api_key_create(user=user, name="schemathesis")
    return {"Authorization": f"Api-Key {key}"}


def _hashed_unit_vectors(texts: Any, *, model: Any = None, **kwargs: Any) -> list[list[float]]:
    dimensions = (model or embedder.active_model()).dimensions
    vectors = []
    for text in texts:
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()
        raw = [digest[i % len(digest)] - 127.5 + i % 7 for i in range(dimensions)]
        norm = math.sqrt(sum(x * x for x in raw))
        vectors.append([x / norm for x in raw])
    return vectors


@schema.parametrize()
@settings(deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_the_server_keeps_the_contract_of_its_schema(
    case: Any,
    role: str,
    tally: Tally,
    statuses: set[int],
    api_headers: dict[str, str],
) -> None:
    tally.cases += 1
    tally.operations.add(f"{case.operation.method.upper()} {case.operation.path}")
    # Each case is a request of its own: a key Schemathesis used before (it likes "0") must not
    # turn it into a replay or a 422 `idempotency_key_reused`.
    IdempotencyRecord.objects.all().delete()
    response = case.call(headers=api_headers)
    statuses.add(response.status_code)
    try:
        case.validate_response(response, headers=api_headers)
    except FailureGroup as group:
        _raise_unaccepted(group, case, response)


def _raise_unaccepted(group: FailureGroup, case: Any, response: Any) -> None:
    remaining = [failure for failure in group.exceptions if not accepted(failure, case, response)]
    if remaining:
        raise FailureGroup(remaining, str(group)) from None

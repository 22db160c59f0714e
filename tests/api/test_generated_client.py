"""An agent's day, through a Python client generated from the OpenAPI document.

The client is generated at test time by ``openapi-python-client`` from the schema the live server
serves, imported, and used against that server: a client generator can read the document, and
what it generates (typed models, repeated query parameters for list-valued filters, the
``Idempotency-Key`` header, the error model) works with the server as it is.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from agents_audit.models import AgentExecution, ToolExecution
from commerce.models import Order, Product, User
from commerce.services import api_key_create
from tests.commerce.factories import AgentUserFactory, ProductFactory

PACKAGE = "devskyy_client"
TRACE = "trace-2024-06-07-0001"
BULK = 120  # more than two pages of 50


@pytest.fixture
def client_package(live_server: Any, tmp_path: Path) -> Iterator[Any]:
    """The package generated from ``/api/schema/``, imported as ``devskyy_client``."""
    document = tmp_path / "openapi.json"
    response = httpx.get(f"{live_server.url}/api/schema/", params={"format": "json"})
    response.raise_for_status()
    document.write_bytes(response.content)
    config = tmp_path / "generator.yaml"
    config.write_text(f"package_name_override: {PACKAGE}\npost_hooks: []\n")
    subprocess.run(  # noqa: S603 (our own interpreter, fixed arguments)
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            str(document),
            "--config",
            str(config),
            "--meta",
            "none",
            "--output-path",
            str(tmp_path / PACKAGE),
            "--fail-on-warning",
        ],
        check=True,
        capture_output=True,
    )
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
            del sys.modules[name]


def _module(package: Any, name: str) -> Any:
    return importlib.import_module(f"{package.__name__}.{name}")


def _cursor(link: str | None) -> str | None:
    return parse_qs(urlsplit(link).query)["cursor"][0] if link else None


def test_an_agents_day_with_a_client_generated_from_the_schema(
    client_package: Any, live_server: Any, transactional_db: None
) -> None:
    agent: User = AgentUserFactory.create()
    _, key = api_key_create(user=agent, name="the agent's day")
    ring = ProductFactory.create(sku="RING-1", tags=["gold", "ring"], inventory_quantity=10)
    ProductFactory.create(sku="CHAIN-1", tags=["silver"])
    ProductFactory.create(sku="WATCH-1", tags=["steel"])
    # Closed at the end: a kept-alive connection would hold a server thread (and its database
    # session) past the test.
    client = client_package.AuthenticatedClient(
        base_url=live_server.url, token=key, prefix="Api-Key"
    )
    with client:
        _an_agents_day(client_package, client, agent, ring)


def _an_agents_day(client_package: Any, client: Any, agent: User, ring: Product) -> None:
    models = _module(client_package, "models")
    users_me = _module(client_package, "api.users.users_me_retrieve")
    start = _module(client_package, "api.agent_executions.agent_executions_create")
    complete = _module(client_package, "api.agent_executions.agent_executions_complete_create")
    record = _module(client_package, "api.tool_executions.tool_executions_create")
    record_bulk = _module(client_package, "api.tool_executions.tool_executions_bulk_create")
    list_tools = _module(client_package, "api.tool_executions.tool_executions_list")
    list_products = _module(client_package, "api.products.products_list")
    place_order = _module(client_package, "api.orders.orders_create")

    # who am I?
    me = users_me.sync(client=client)
    assert (me.username, me.role) == (agent.username, models.UserRoleEnum.AGENT)

    # start an execution
    execution = start.sync(
        client=client,
        body=models.AgentExecutionStartRequest(
            execution_id="exec-2024-06-07-0001", agent_name="shopper", prompt="Buy a gold ring"
        ),
        idempotency_key=str(uuid.uuid4()),
    )
    assert execution.status == models.AgentExecutionStatusEnum.RUNNING

    # record one tool call, then a batch, under one trace
    def call(n: int) -> Any:
        return models.ToolExecutionInputRequest(
            correlation_id=TRACE,
            tool_name="search_products",
            inputs=models.ToolExecutionInputRequestInputs.from_dict({"query": "ring", "n": n}),
            status=models.ToolExecutionStatusEnum.SUCCESS,
            duration_ms=12,
        )

    single = record.sync(client=client, body=call(0), idempotency_key=str(uuid.uuid4()))
    assert (single.correlation_id, single.inputs) == (TRACE, {"query": "ring", "n": 0})
    created = record_bulk.sync(client=client, body=[call(n) for n in range(1, BULK + 1)])
    assert created.created == BULK

    # page through the trace with the cursor of each `next` link
    seen: list[Any] = []
    cursor = None
    while True:
        page = list_tools.sync(client=client, correlation_id=TRACE, page_size=50, cursor=cursor)
        seen += page.results
        cursor = _cursor(page.next_)
        if cursor is None:
            break
    assert len(seen) == len({row.id for row in seen}) == BULK + 1
    assert ToolExecution.objects.filter(correlation_id=TRACE, user=agent).count() == BULK + 1

    # an invalid request comes back as the typed error model
    too_big = list_tools.sync(client=client, correlation_id=TRACE, page_size=500)
    assert isinstance(too_big, models.Error)
    assert too_big.code == "invalid"
    assert [e.code for e in too_big.errors.additional_properties["page_size"]] == ["max_value"]

    # find products by tag: the client repeats list-valued parameters (tags_any=gold&...)
    found = list_products.sync(client=client, tags_any=["gold", "silver"])
    assert sorted(p.sku for p in found.results) == ["CHAIN-1", "RING-1"]

    # place an order
    order = place_order.sync(
        client=client,
        body=models.StaffOrderPlaceRequest(
            items=[models.OrderItemRequest(sku="RING-1", quantity=2)],
            payment_method="card",
            shipping=models.StaffOrderPlaceRequestShipping.from_dict({"city": "Lyon"}),
        ),
        idempotency_key=str(uuid.uuid4()),
    )
    assert (order.status, order.user, order.total_price) == (
        models.OrderStatusEnum.PENDING,
        agent.pk,
        "39.98",
    )
    ring.refresh_from_db()
    assert ring.inventory_quantity == 8
    assert Order.objects.get(pk=order.id).user == agent

    # complete the execution
    done = complete.sync(
        client=client,
        execution_id=execution.execution_id,
        body=models.AgentExecutionEndRequest(tokens_used=1234, duration_ms=5678),
    )
    assert (done.status, done.tokens_used) == (models.AgentExecutionStatusEnum.COMPLETED, 1234)
    assert AgentExecution.objects.get(execution_id=execution.execution_id).status == "completed"
    assert Product.objects.count() == 3

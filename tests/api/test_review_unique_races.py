"""Review: a value already taken gets one answer, whoever wins the race for it.

Found in review: a SKU, username or email already taken is a 400 under the field (code
``unique``) when the requests come one after the other, but a request that loses the race
against a concurrent one passed the friendly check, hit the unique constraint and answered a 409
``conflict`` with no field, which an agent branching on ``code`` cannot tell from others. The
services now turn the constraint's refusal into the friendly check's error (so the admin and
commands get it too). Real threads, real connections.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from django.db import connection

from commerce.models import Product, User
from tests.commerce.factories import AdminFactory, OperatorFactory, ProductFactory
from tests.conftest import key_client

pytestmark = pytest.mark.django_db(transaction=True)

ROUNDS, RACERS = 3, 6
PASSWORD = "a very long passphrase 99"


def race(calls: list[Callable[[], Any]]) -> list[Any]:
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            response = call()
            results[index] = (response.status_code, response.json())
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def _posts(client_of: Callable[[], Any], url: str, bodies: list[dict[str, Any]]) -> list[Any]:
    clients = [client_of() for _ in bodies]
    return race(
        [partial(c.post, url, b, format="json") for c, b in zip(clients, bodies, strict=True)]
    )


def _assert_one_created_and_the_rest_refused_as_one_after_the_other(
    results: list[Any], field: str, sequential: Any
) -> None:
    statuses = sorted(status for status, _ in results)
    assert statuses == [201] + [400] * (RACERS - 1), results
    assert sequential.json()["errors"][field][0]["code"] == "unique"
    assert all(body == sequential.json() for status, body in results if status == 400), results


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_concurrent_products_with_one_sku(round_):
    operator = OperatorFactory.create()
    bodies = [{"sku": "DUP", "name": f"n{i}", "price": "1.00"} for i in range(RACERS)]

    results = _posts(lambda: key_client(operator), "/api/v1/products/", bodies)

    again = key_client(operator).post("/api/v1/products/", bodies[0], format="json")
    _assert_one_created_and_the_rest_refused_as_one_after_the_other(results, "sku", again)
    assert Product.objects.filter(sku="DUP").count() == 1


@pytest.mark.parametrize("field", ["username", "email"])
def test_concurrent_users_with_one_username_or_email(field):
    admin = AdminFactory.create()
    bodies = [
        {"username": f"u{i}", "email": f"u{i}@example.com", "role": "agent", "password": PASSWORD}
        for i in range(RACERS)
    ]
    for body in bodies:
        body[field] = {"username": "same", "email": "same@example.com"}[field]

    results = _posts(lambda: key_client(admin), "/api/v1/users/", bodies)

    again = key_client(admin).post(
        "/api/v1/users/",
        {**bodies[0], "username": "other", "email": "other@example.com", field: bodies[0][field]},
        format="json",
    )
    _assert_one_created_and_the_rest_refused_as_one_after_the_other(results, field, again)
    assert User.objects.filter(**{field: bodies[0][field]}).count() == 1


def test_concurrent_patches_to_one_new_sku():
    operator = OperatorFactory.create()
    products = [ProductFactory.create() for _ in range(RACERS)]
    clients = [key_client(operator) for _ in products]

    results = race(
        [
            partial(
                c.patch,
                f"/api/v1/products/{p.pk}/",
                {"sku": "NEW"},
                format="json",
                HTTP_IF_MATCH='"1"',
            )
            for c, p in zip(clients, products, strict=True)
        ]
    )

    statuses = sorted(status for status, _ in results)
    assert statuses == [200] + [400] * (RACERS - 1), results
    assert all(body["errors"]["sku"][0]["code"] == "unique" for s, body in results if s == 400)

"""Every optional reference (a nullable foreign key: an order's user, a line's product, an
event's actor, an audit row's user) is ``ON DELETE SET NULL`` in the database, so a raw SQL
``DELETE`` works too and the ORM deletes with one statement; Django leaves it alone
(``DO_NOTHING``). A protected optional reference (a task's project: a project with tasks is not
deleted) keeps Django's plain constraint (NO ACTION), which refuses. A required reference that
Django leaves alone is part of its parent: ``ON DELETE CASCADE`` in the database (a task's
execution steps and artifacts). Other required references keep Django's plain constraint."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import connection, models

from tests import catalog
from tests.commerce.factories import OrderFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db

PROJECT_APPS = {"devskyy", "commerce", "agents_audit", "knowledge"}
SET_NULL, NO_ACTION, CASCADE = "n", "a", "c"
# Nullable only for raw writers that know the seed's columns alone; when set, the row is part of
# its parent: a chunk of an ingested source goes with it.
OPTIONAL_PART_OF = {("rag_documents", "parent_id")}


def project_foreign_keys() -> list[tuple[str, models.ForeignKey]]:
    return [
        (model._meta.db_table, field)
        for model in apps.get_models()
        if model._meta.app_label in PROJECT_APPS
        for field in model._meta.concrete_fields
        if isinstance(field, models.ForeignKey)
    ]


def test_the_optional_references_named_in_review_are_among_them():
    nullable = {(table, field.column) for table, field in project_foreign_keys() if field.null}
    assert nullable >= {
        ("orders", "user_id"),
        ("order_lines", "product_id"),
        ("order_events", "actor_id"),
        ("tool_executions", "user_id"),
        ("agent_executions", "user_id"),
        ("llm_round_table_results", "user_id"),
    }


@pytest.mark.parametrize(
    ("table", "field"),
    project_foreign_keys(),
    ids=[f"{table}.{field.column}" for table, field in project_foreign_keys()],
)
def test_a_nullable_foreign_key_is_set_null_in_the_database_and_left_to_it(table, field):
    actions = {column: action for column, (_, _, action) in catalog.foreign_keys(table).items()}
    on_delete = field.remote_field.on_delete
    if (table, field.column) in OPTIONAL_PART_OF:
        assert actions[field.column] == CASCADE
        assert on_delete is models.DO_NOTHING
    elif field.null and on_delete is models.PROTECT:
        assert actions[field.column] == NO_ACTION
    elif field.null:
        assert actions[field.column] == SET_NULL
        # Django's own SET_NULL would update the rows itself, one query per related table
        assert on_delete is models.DO_NOTHING
    elif on_delete is models.DO_NOTHING:
        assert actions[field.column] == CASCADE
    else:
        assert actions[field.column] == NO_ACTION


def test_raw_sql_deletes_of_a_product_and_a_user_keep_the_order_history():
    actor = UserFactory.create()
    # A product with a stock history cannot be deleted (the ledger's PROTECT); one without can.
    product = ProductFactory.create(inventory_quantity=0)
    order = OrderFactory.create(user=actor)
    line = order.lines.create(
        product=product, sku=product.sku, name=product.name, unit_price=1, quantity=1, line_total=1
    )
    event = order.events.create(actor=actor, to_status="pending")

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM products WHERE id = %s", [product.pk])
        cursor.execute("DELETE FROM users WHERE id = %s", [actor.pk])
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the deferred checks, now

    line.refresh_from_db()
    event.refresh_from_db()
    order.refresh_from_db()
    assert (line.product_id, event.actor_id, order.user_id) == (None, None, None)

"""The database that `migrate` builds matches seed 001's seven tables column by column."""

from __future__ import annotations

import pytest

from tests import catalog
from tests.seed_contract import SEED_TABLES

pytestmark = pytest.mark.django_db

TABLES = sorted(SEED_TABLES)


@pytest.mark.parametrize("table", TABLES)
def test_table_has_exactly_the_seed_columns_with_their_types_nullability_and_defaults(table):
    assert catalog.columns(table) == SEED_TABLES[table].all_columns


@pytest.mark.parametrize("table", TABLES)
def test_columns_added_beyond_the_seed_leave_raw_writers_unaffected(table):
    for name, col in SEED_TABLES[table].extra_columns.items():
        assert name not in SEED_TABLES[table].columns
        assert col.nullable or col.default is not None, name


@pytest.mark.parametrize("table", TABLES)
def test_unique_columns_are_those_of_the_seed(table):
    assert catalog.single_column_unique(table) == set(SEED_TABLES[table].unique)


@pytest.mark.parametrize("table", TABLES)
def test_every_indexed_seed_column_leads_an_index(table):
    assert set(SEED_TABLES[table].indexed) <= catalog.leading_index_columns(table)


@pytest.mark.parametrize("table", TABLES)
def test_foreign_keys_reference_their_tables_with_the_contracts_on_delete(table):
    assert catalog.foreign_keys(table) == SEED_TABLES[table].foreign_keys


@pytest.mark.parametrize("table", TABLES)
def test_updated_at_trigger_exists_exactly_where_the_seed_has_one(table):
    expected = (
        [
            f"CREATE TRIGGER update_{table}_updated_at BEFORE UPDATE ON public.{table} "
            "FOR EACH ROW EXECUTE FUNCTION update_updated_at_column()"
        ]
        if SEED_TABLES[table].updated_at_trigger
        else []
    )
    assert catalog.triggers(table) == expected


@pytest.mark.parametrize("table", TABLES)
def test_no_not_null_column_lacks_a_default_beyond_the_seeds_required_ones(table):
    spec = SEED_TABLES[table]
    required = {
        name
        for name, col in catalog.columns(table).items()
        if not col.nullable and col.default is None
    }
    assert required == set(spec.required)

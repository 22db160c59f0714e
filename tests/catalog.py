"""Read what migrations built from PostgreSQL's catalog."""

from __future__ import annotations

from typing import Any

from django.db import connection

from tests.seed_contract import Col


def _rows(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def table_exists(table: str) -> bool:
    return _rows("SELECT to_regclass(%s) IS NOT NULL", [table])[0][0]


def columns(table: str) -> dict[str, Col]:
    rows = _rows(
        """
        SELECT a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,
               pg_get_expr(d.adbin, d.adrelid)
        FROM pg_attribute a
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped
        """,
        [table],
    )
    return {name: Col(type_, nullable, default) for name, type_, nullable, default in rows}


def single_column_unique(table: str) -> set[str]:
    """Columns with a unique index of their own (primary key excluded)."""
    rows = _rows(
        """
        SELECT a.attname FROM pg_index i
        JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
        WHERE i.indrelid = %s::regclass AND i.indisunique AND NOT i.indisprimary
          AND i.indnkeyatts = 1 AND i.indpred IS NULL
        """,
        [table],
    )
    return {r[0] for r in rows}


def leading_index_columns(table: str) -> set[str]:
    """Columns that lead some index, so equality filters on them can use it."""
    rows = _rows(
        """
        SELECT a.attname FROM pg_index i
        JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
        WHERE i.indrelid = %s::regclass AND NOT i.indisprimary
        """,
        [table],
    )
    return {r[0] for r in rows}


def foreign_keys(table: str) -> dict[str, tuple[str, str, str]]:
    rows = _rows(
        """
        SELECT a.attname, c.confrelid::regclass::text, fa.attname, c.confdeltype
        FROM pg_constraint c
        JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
        JOIN pg_attribute fa ON fa.attrelid = c.confrelid AND fa.attnum = c.confkey[1]
        WHERE c.conrelid = %s::regclass AND c.contype = 'f'
        """,
        [table],
    )
    return {col: (ref_table, ref_col, action) for col, ref_table, ref_col, action in rows}


def triggers(table: str) -> list[str]:
    rows = _rows(
        "SELECT pg_get_triggerdef(oid) FROM pg_trigger "
        "WHERE tgrelid = %s::regclass AND NOT tgisinternal",
        [table],
    )
    return [r[0] for r in rows]


def function_exists(name: str) -> bool:
    return bool(_rows("SELECT count(*) FROM pg_proc WHERE proname = %s", [name])[0][0])

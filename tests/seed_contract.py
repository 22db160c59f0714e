"""Seed 001's column tables, transcribed: the contract that migrations must build.

Types are PostgreSQL's ``format_type()`` spelling, defaults ``pg_get_expr()``'s. Where the seed
gives a column a default but no NULL/NOT NULL, devskyy makes it NOT NULL (a default makes the value
always known); columns the seed marks ``NULL``, or leaves without a default, are nullable.
"""

from __future__ import annotations

from dataclasses import dataclass, field

UUID = "uuid"
TEXT = "text"
INT = "integer"
BOOL = "boolean"
TSTZ = "timestamp with time zone"
JSONB = "jsonb"
MONEY = "numeric(10,2)"
TEXT_ARRAY = "text[]"


def varchar(n: int) -> str:
    return f"character varying({n})"


@dataclass(frozen=True)
class Col:
    type: str
    nullable: bool
    default: str | None = None


def pk() -> Col:
    return Col(UUID, False, "gen_random_uuid()")


def now() -> Col:
    return Col(TSTZ, False, "now()")


def metadata() -> Col:
    return Col(JSONB, False, "'{}'::jsonb")


def status(default: str | None) -> Col:
    return Col(varchar(50), False, f"'{default}'::character varying" if default else None)


@dataclass(frozen=True)
class Table:
    columns: dict[str, Col]
    unique: frozenset[str] = frozenset()
    indexed: frozenset[str] = frozenset()
    # column -> (referenced table, referenced column, ON DELETE action letter of pg_constraint)
    foreign_keys: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    updated_at_trigger: bool = False
    # the columns a raw SQL INSERT must give (NOT NULL without a default)
    required: frozenset[str] = frozenset()
    # columns devskyy adds beyond the seed: nullable, or NOT NULL with a default, so that raw
    # writers that know only the seed's columns are unaffected
    extra_columns: dict[str, Col] = field(default_factory=dict)

    @property
    def all_columns(self) -> dict[str, Col]:
        return {**self.columns, **self.extra_columns}


SET_NULL = "n"
CASCADE = "c"

SEED_TABLES: dict[str, Table] = {
    "users": Table(
        columns={
            "id": pk(),
            "email": Col(varchar(255), False),
            "username": Col(varchar(100), False),
            "password_hash": Col(varchar(255), False),
            "full_name": Col(varchar(255), True),
            "role": Col(varchar(50), False, "'customer'::character varying"),
            "is_active": Col(BOOL, False, "true"),
            "is_verified": Col(BOOL, False, "false"),
            "created_at": now(),
            "updated_at": now(),
            "last_login": Col(TSTZ, True),
            "metadata": metadata(),
        },
        unique=frozenset({"email", "username"}),
        indexed=frozenset({"email", "role"}),
        updated_at_trigger=True,
        required=frozenset({"email", "username", "password_hash"}),
    ),
    "products": Table(
        columns={
            "id": pk(),
            "sku": Col(varchar(100), False),
            "name": Col(varchar(500), False),
            "description": Col(TEXT, True),
            "category": Col(varchar(100), True),
            "price": Col(MONEY, False),
            "inventory_quantity": Col(INT, False, "0"),
            "status": status("draft"),
            "tags": Col(TEXT_ARRAY, True),
            "created_at": now(),
            "updated_at": now(),
            "metadata": metadata(),
        },
        unique=frozenset({"sku"}),
        indexed=frozenset({"sku", "status"}),
        updated_at_trigger=True,
        required=frozenset({"sku", "name", "price"}),
        # optimistic locking of the editable record (ETag / If-Match, the admin form)
        extra_columns={"version": Col(INT, False, "1")},
    ),
    "orders": Table(
        columns={
            "id": pk(),
            "order_number": Col(varchar(50), False),
            "user_id": Col(UUID, True),
            "status": status("pending"),
            "total_price": Col(MONEY, False),
            "subtotal": Col(MONEY, False),
            "created_at": now(),
            "updated_at": now(),
            "metadata": metadata(),
        },
        unique=frozenset({"order_number"}),
        indexed=frozenset({"user_id", "status"}),
        foreign_keys={"user_id": ("users", "id", SET_NULL)},
        updated_at_trigger=True,
        required=frozenset({"order_number", "total_price", "subtotal"}),
    ),
    "llm_round_table_results": Table(
        columns={
            "id": pk(),
            "result_id": Col(varchar(100), False),
            "prompt": Col(TEXT, False),
            "task_category": Col(varchar(100), True),
            "winner_provider": Col(varchar(50), True),
            "winner_response": Col(TEXT, True),
            "participants": Col(JSONB, False),
            "created_at": now(),
            "metadata": metadata(),
        },
        unique=frozenset({"result_id"}),
        indexed=frozenset({"task_category"}),
        required=frozenset({"result_id", "prompt", "participants"}),
        # the agent that recorded it (API scoping)
        extra_columns={"user_id": Col(UUID, True)},
        foreign_keys={"user_id": ("users", "id", SET_NULL)},
    ),
    "agent_executions": Table(
        columns={
            "id": pk(),
            "execution_id": Col(varchar(100), False),
            "agent_name": Col(varchar(100), False),
            "prompt": Col(TEXT, False),
            "status": status("running"),
            "result": Col(JSONB, True),
            "tokens_used": Col(INT, True),
            "duration_ms": Col(INT, True),
            "created_at": now(),
            "metadata": metadata(),
        },
        unique=frozenset({"execution_id"}),
        indexed=frozenset({"agent_name", "status"}),
        required=frozenset({"execution_id", "agent_name", "prompt"}),
        # the agent that started it (API scoping)
        extra_columns={"user_id": Col(UUID, True)},
        foreign_keys={"user_id": ("users", "id", SET_NULL)},
    ),
    "tool_executions": Table(
        columns={
            "id": pk(),
            "correlation_id": Col(varchar(64), False),
            "tool_name": Col(varchar(128), False),
            "agent_id": Col(varchar(100), True),
            "user_id": Col(UUID, True),
            "inputs": Col(JSONB, False),
            "output": Col(JSONB, True),
            "status": status(None),
            "duration_ms": Col(INT, True),
            "error_message": Col(TEXT, True),
            "created_at": now(),
            "metadata": metadata(),
        },
        indexed=frozenset({"correlation_id", "tool_name", "status"}),
        foreign_keys={"user_id": ("users", "id", SET_NULL)},
        required=frozenset({"correlation_id", "tool_name", "inputs", "status"}),
    ),
    "rag_documents": Table(
        columns={
            "id": pk(),
            "document_id": Col(varchar(100), False),
            "source_path": Col(varchar(500), True),
            "content": Col(TEXT, False),
            "content_hash": Col(varchar(64), False),
            "chunk_index": Col(INT, True),
            "total_chunks": Col(INT, True),
            "embedding_model": Col(varchar(100), True),
            "metadata": metadata(),
            "created_at": now(),
            "updated_at": now(),
        },
        unique=frozenset({"document_id"}),
        indexed=frozenset({"source_path", "content_hash"}),
        updated_at_trigger=True,
        required=frozenset({"document_id", "content", "content_hash"}),
        # devskyy's: a chunk goes with its source (knowledge.Source)
        foreign_keys={"parent_id": ("rag_sources", "id", CASCADE)},
        # the chunk's source and its generated full-text column
        extra_columns={
            "parent_id": Col(UUID, True),
            "search_vector": Col(
                "tsvector", True, "to_tsvector('english'::regconfig, COALESCE(content, ''::text))"
            ),
        },
    ),
}

"""The filter language of knowledge search: what each operator selects, the same in every mode
and on both vector paths (the HNSW index and the exact scan), and how bad filters are refused."""

from __future__ import annotations

from typing import Any

import pytest

from devskyy.errors import InvalidInput
from knowledge.search import MODES, knowledge_search
from knowledge.search_filters import MAX_CONDITIONS, MAX_DEPTH, compile_filters
from tests.knowledge.search_corpus import (
    Passage,
    delete_sources,
    insert_passages,
    sha256,
    unit_vectors,
)

# Every chunk says "note", and every chunk has a vector: with k above the corpus size, each mode
# returns exactly the chunks the filters select.
DOCUMENTS: list[tuple[str, str | None, dict[str, Any], int]] = [
    # document_id, source_path, metadata, chunks
    (
        "a",
        "docs/guide/intro.md",
        {
            "lang": "en",
            "year": 2024,
            "tags": ["setup", "intro"],
            "draft": False,
            "rating": 4.5,
            "title": "Intro",
        },
        1,
    ),
    (
        "b",
        "docs/guide/install.md",
        {"lang": "en", "year": 2023, "tags": ["setup"], "rating": 3, "title": "Install"},
        1,
    ),
    (
        "c",
        "docs/api/search.md",
        {"lang": "de", "year": 2025, "tags": ["api"], "draft": True, "title": "Suche"},
        1,
    ),
    ("d", "docs/api/ingest.md", {"lang": "fr", "year": "2025", "tags": [], "title": "ingest"}, 1),
    ("e", "blog/launch.md", {"lang": "en", "year": 2024.0, "tags": ["news"], "draft": None}, 1),
    ("f", "docs_v2/readme.md", {"lang": "en"}, 1),
    ("g", "docsXv2/readme.md", {"lang": "en"}, 1),
    ("h", "100%/notes.md", {"lang": "es", "year": 2020}, 1),
    ("i", None, {}, 1),
    ("j", "docs/guide/faq.md", {"lang": "en", "year": 2022, "tags": ["faq", "setup"]}, 2),
]
ALL = {f"{doc}-chunk-{i}" for doc, _, _, n in DOCUMENTS for i in range(n)}
QUERY_VECTOR = [float(x) for x in unit_vectors(1, seed=99)[0]]


def chunks(*documents: str) -> set[str]:
    return {chunk for chunk in ALL if chunk.split("-chunk-")[0] in documents}


@pytest.fixture(scope="module")
def corpus(django_db_setup: None, django_db_blocker: Any) -> Any:
    vectors = iter(unit_vectors(len(ALL), seed=7))
    passages = [
        Passage(
            document_id=doc,
            source_path=path,
            metadata=metadata,
            chunks=[f"A note about {doc}, part {i}." for i in range(n)],
            vectors=[next(vectors) for _ in range(n)],
        )
        for doc, path, metadata, n in DOCUMENTS
    ]
    with django_db_blocker.unblock():
        insert_passages(passages)
    yield
    with django_db_blocker.unblock():
        delete_sources([p.document_id for p in passages])


@pytest.fixture(params=["exact", "hnsw"])
def vector_path(request: pytest.FixtureRequest, settings: Any) -> str:
    """The vector leg compares every filtered vector (exact) or walks the HNSW index."""
    settings.KNOWLEDGE_SEARCH_EXACT_MAX_CHUNKS = 10**6 if request.param == "exact" else 0
    return str(request.param)


CASES = [
    ({}, ALL),
    ({"source_path": "docs/api/search.md"}, chunks("c")),
    ({"source_path": {"prefix": "docs/guide/"}}, chunks("a", "b", "j")),
    # LIKE's wildcards in a prefix are plain characters
    ({"source_path": {"prefix": "docs_"}}, chunks("f")),
    ({"source_path": {"prefix": "100%"}}, chunks("h")),
    (
        {"source_path": {"in": ["docs/api/search.md", "blog/launch.md", "nowhere.md"]}},
        chunks("c", "e"),
    ),
    # document_id is the ingested document, not the chunk
    ({"document_id": "j"}, chunks("j")),
    ({"document_id": {"in": ["a", "c", "unknown"]}}, chunks("a", "c")),
    ({"document_id": "j-chunk-0"}, set()),
    ({"metadata": {"lang": "en"}}, chunks("a", "b", "e", "f", "g", "j")),
    ({"metadata": {"lang": {"eq": "en"}}}, chunks("a", "b", "e", "f", "g", "j")),
    # JSON equality: 2024 equals 2024.0, not "2025"-style strings
    ({"metadata": {"year": 2024}}, chunks("a", "e")),
    ({"metadata": {"year": "2025"}}, chunks("d")),
    # ne and nin also match chunks without the key
    ({"metadata": {"lang": {"ne": "en"}}}, chunks("c", "d", "h", "i")),
    ({"metadata": {"lang": {"in": ["de", "fr"]}}}, chunks("c", "d")),
    ({"metadata": {"lang": {"nin": ["en", "de"]}}}, chunks("d", "h", "i")),
    ({"metadata": {"year": {"nin": [2024]}}}, ALL - chunks("a", "e")),
    ({"metadata": {"lang": {"in": ["en"]}, "year": {"in": [2024, "2025"]}}}, chunks("a", "e")),
    # ranges: numbers with numbers, strings with strings (by code point)
    ({"metadata": {"year": {"gte": 2024}}}, chunks("a", "c", "e")),
    ({"metadata": {"year": {"gt": 2023, "lt": 2025}}}, chunks("a", "e")),
    ({"metadata": {"year": {"lte": 2022}}}, chunks("h", "j")),
    ({"metadata": {"year": {"gte": "2025"}}}, chunks("d")),
    ({"metadata": {"title": {"lt": "J"}}}, chunks("a", "b")),
    ({"metadata": {"rating": {"gt": 3}}}, chunks("a")),
    ({"metadata": {"rating": {"gte": 3.0}}}, chunks("a", "b")),
    # exists: a key holding null exists
    ({"metadata": {"draft": {"exists": True}}}, chunks("a", "c", "e")),
    ({"metadata": {"draft": {"exists": False}}}, ALL - chunks("a", "c", "e")),
    ({"metadata": {"draft": None}}, chunks("e")),
    ({"metadata": {"draft": False}}, chunks("a")),
    # contains: list membership; equality never matches a list
    ({"metadata": {"tags": {"contains": "setup"}}}, chunks("a", "b", "j")),
    ({"metadata": {"tags": {"contains": "api"}, "lang": "de"}}, chunks("c")),
    ({"metadata": {"tags": "setup"}}, set()),
    ({"metadata": {"parent_doc_id": "j"}}, chunks("j")),
    # combinations
    (
        {"and": [{"metadata": {"lang": "en"}}, {"source_path": {"prefix": "docs/"}}]},
        chunks("a", "b", "j"),
    ),
    (
        {"or": [{"metadata": {"lang": "de"}}, {"source_path": {"prefix": "blog/"}}]},
        chunks("c", "e"),
    ),
    ({"not": {"metadata": {"lang": "en"}}}, chunks("c", "d", "h", "i")),
    # not is the exact complement, also of conditions on missing keys and null paths
    ({"not": {"metadata": {"year": {"gte": 2024}}}}, ALL - chunks("a", "c", "e")),
    ({"not": {"source_path": {"prefix": "docs/"}}}, chunks("e", "f", "g", "h", "i")),
    (
        {
            "or": [
                {
                    "and": [
                        {"metadata": {"lang": "en"}},
                        {"not": {"metadata": {"tags": {"contains": "setup"}}}},
                    ]
                },
                {"document_id": "h"},
            ]
        },
        chunks("e", "f", "g", "h"),
    ),
    (
        {
            "source_path": {"prefix": "docs/"},
            "metadata": {"year": {"lt": 2024}},
            "document_id": {"in": ["b", "j", "c"]},
        },
        chunks("b", "j"),
    ),
    ({"or": [{}, {"metadata": {"lang": "de"}}]}, ALL),
    ({"not": {}}, set()),
]


@pytest.mark.django_db
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("filters", "expected"), CASES, ids=[str(f) for f, _ in CASES])
def test_filters_select_the_same_chunks_in_every_mode(
    corpus: None, vector_path: str, mode: str, filters: dict[str, Any], expected: set[str]
) -> None:
    result = knowledge_search(
        query="note", k=100, mode=mode, filters=filters, query_vector=QUERY_VECTOR
    )
    assert result.mode == mode
    assert {hit.document_id for hit in result.hits} == expected
    if mode == "hybrid":  # every chunk says "note" and has a vector: both legs find each
        assert all(hit.fulltext and hit.vector for hit in result.hits)


@pytest.mark.django_db
@pytest.mark.parametrize("mode", MODES)
def test_embedding_model_keeps_chunks_with_a_current_vector_under_it(
    corpus: None, vector_path: str, mode: str
) -> None:
    # given a chunk without a vector and one whose vector was computed from older content
    new = insert_passages(
        [
            Passage(document_id="no-vector", chunks=["A note without a vector."]),
            Passage(
                document_id="stale",
                chunks=["A note whose vector is stale."],
                vectors=[QUERY_VECTOR],
            ),
        ]
    )
    stale = new["stale-chunk-0"]
    stale.embeddings.update(content_hash=sha256("what the chunk said before"))
    # when
    result = knowledge_search(
        query="note",
        k=100,
        mode=mode,
        filters={"embedding_model": "all-MiniLM-L6-v2"},
        query_vector=QUERY_VECTOR,
    )
    # then neither is found, in any mode
    assert {hit.document_id for hit in result.hits} == ALL
    unfiltered = knowledge_search(query="note", k=100, mode="fulltext")
    assert {hit.document_id for hit in unfiltered.hits} == ALL | {
        "no-vector-chunk-0",
        "stale-chunk-0",
    }


@pytest.mark.django_db
def test_embedding_model_picks_the_vector_legs_model(corpus: None) -> None:
    # no chunk has a text-embedding-3-small vector; the client sends a query vector for it
    result = knowledge_search(
        query="note",
        k=100,
        mode="hybrid",
        filters={"embedding_model": "text-embedding-3-small"},
        query_vector=[1.0] * 1536,
    )
    assert result.embedding_model == "text-embedding-3-small"
    assert result.hits == []


@pytest.mark.django_db
def test_values_are_parameters_never_sql(corpus: None) -> None:
    hostile = "x'); DROP TABLE rag_documents; --"
    for mode in MODES:
        result = knowledge_search(
            query=hostile,
            mode=mode,
            filters={"source_path": {"prefix": hostile}, "metadata": {"title": hostile}},
            query_vector=QUERY_VECTOR,
        )
        assert result.hits == []
    assert len(knowledge_search(query="note", k=100, mode="fulltext").hits) == len(ALL)


# --- compilation ------------------------------------------------------------------------------


def test_equality_in_and_contains_compile_to_containment_for_the_gin_index() -> None:
    compiled = compile_filters(
        {"metadata": {"lang": "en", "tag": {"in": ["a", "b"]}, "tags": {"contains": 1}}}
    )
    assert compiled.sql == (
        "(d.metadata @> %s::jsonb AND (d.metadata @> %s::jsonb OR d.metadata @> %s::jsonb) "
        "AND d.metadata @> %s::jsonb)"
    )
    assert compiled.params == ['{"lang":"en"}', '{"tag":"a"}', '{"tag":"b"}', '{"tags":[1]}']


def test_a_prefix_compiles_to_like_with_its_wildcards_escaped() -> None:
    compiled = compile_filters({"source_path": {"prefix": "a_b%c\\d"}})
    assert compiled.sql == "d.source_path LIKE %s"
    assert compiled.params == ["a\\_b\\%c\\\\d%"]


def test_metadata_keys_are_parameters_too() -> None:
    compiled = compile_filters({"metadata": {"year.start": {"gte": 2024}}})
    assert "year" not in compiled.sql
    assert compiled.params == ["year.start", "year.start", "2024"]


def test_document_id_filters_the_parent_by_its_unique_id() -> None:
    compiled = compile_filters({"document_id": "guide"})
    assert compiled.sql == (
        "d.parent_id IN (SELECT ds.id FROM rag_sources ds WHERE ds.document_id = %s)"
    )


def nested(depth: int) -> dict[str, Any]:
    filters: dict[str, Any] = {"metadata": {"lang": "en"}}
    for _ in range(depth - 1):
        filters = {"not": filters}
    return filters


def error_messages(filters: Any) -> list[tuple[str, str]]:
    with pytest.raises(InvalidInput) as caught:
        compile_filters(filters)
    errors = caught.value.errors["filters"]
    assert isinstance(errors, list)
    return [(error.message, error.code) for error in errors]


BAD_FILTERS: list[tuple[Any, tuple[str, str]]] = [
    (
        {"metadata": {"year": {"gt3": 2024}}},
        (
            "filters.metadata.year: unknown operator 'gt3' (use eq, ne, in, nin, gt, gte, "
            "lt, lte, exists, contains)",
            "unknown_operator",
        ),
    ),
    (
        {"or": [{"metadata": {"lang": "en"}}, {"sourcepath": "a.md"}]},
        (
            "filters.or.1.sourcepath: unknown key 'sourcepath' (use source_path, "
            "document_id, embedding_model, metadata, and, or, not)",
            "unknown_key",
        ),
    ),
    (
        {"metadata": {"9lives": 1}},
        (
            "filters.metadata.9lives: invalid metadata key (must match "
            "^[A-Za-z_][A-Za-z0-9_.-]{0,63}$)",
            "invalid_key",
        ),
    ),
    (
        {"and": [{"embedding_model": "all-MiniLM-L6-v2"}]},
        ("filters.and.0.embedding_model: allowed only at the top level of filters", "invalid"),
    ),
    (
        {"embedding_model": "ada-002"},
        (
            "filters.embedding_model: unknown embedding model 'ada-002' (use "
            "all-MiniLM-L6-v2, text-embedding-3-small)",
            "invalid_choice",
        ),
    ),
    (
        nested(MAX_DEPTH + 1),
        (
            "filters" + ".not" * MAX_DEPTH + f": filters nest deeper than {MAX_DEPTH} levels",
            "too_deep",
        ),
    ),
    (
        {"or": [{"metadata": {"n": i}} for i in range(MAX_CONDITIONS + 1)]},
        (
            f"filters.or: at most {MAX_CONDITIONS} filters",
            "too_many_conditions",
        ),
    ),
    (
        {"metadata": {f"k{i}": i for i in range(MAX_CONDITIONS + 1)}},
        (
            f"filters.metadata.k{MAX_CONDITIONS}: more than {MAX_CONDITIONS} conditions in filters",
            "too_many_conditions",
        ),
    ),
    (
        {"metadata": {"year": {"gte": True}}},
        ("filters.metadata.year.gte: must be a number or a string", "invalid"),
    ),
    (
        {"metadata": {"year": {"gte": 2**63}}},
        (
            "filters.metadata.year.gte: numbers must lie in the signed 64-bit range and be finite",
            "number_out_of_range",
        ),
    ),
    (
        {"metadata": {"tag": {"in": []}}},
        ("filters.metadata.tag.in: must be a list of 1 to 100 scalars", "invalid"),
    ),
    (
        {"metadata": {"tag": {"in": [{"nested": 1}]}}},
        ("filters.metadata.tag.in.0: must be a string, number, boolean or null", "invalid"),
    ),
    (
        {"metadata": {"tag": ["a", "b"]}},
        (
            "filters.metadata.tag: a list is not a value to compare; use {'in': [...]} or "
            "{'contains': value}",
            "invalid",
        ),
    ),
    (
        {"metadata": {"tag": {}}},
        ("filters.metadata.tag: give at least one operator", "invalid"),
    ),
    (
        {"metadata": {"draft": {"exists": "no"}}},
        ("filters.metadata.draft.exists: must be true or false", "invalid"),
    ),
    (
        {"source_path": {"startswith": "docs/"}},
        (
            "filters.source_path: must be a path, {'prefix': path} or {'in': [paths]}",
            "unknown_operator",
        ),
    ),
    (
        {"source_path": ""},
        ("filters.source_path: must be a non-empty string", "invalid"),
    ),
    (
        {"document_id": {"prefix": "a"}},
        ("filters.document_id: must be a document id or {'in': [ids]}", "unknown_operator"),
    ),
    ({"or": []}, ("filters.or: must be a non-empty list of filters", "invalid")),
    ({"not": "a"}, ("filters.not: must be an object", "not_an_object")),
    (["a"], ("filters: must be an object", "not_an_object")),
]


@pytest.mark.parametrize(
    ("filters", "expected"),
    BAD_FILTERS,
    ids=lambda value: str(value)[:60] if isinstance(value, dict | list) else None,
)
def test_bad_filters_are_refused_naming_the_bad_part(filters: Any, expected: tuple) -> None:
    assert error_messages(filters) == [expected]


def test_every_bad_part_is_reported_at_once() -> None:
    assert error_messages({"metadata": {"a": {"gt3": 1}, "b": {"exists": 1}}, "nope": 1}) == [
        (
            "filters.metadata.a: unknown operator 'gt3' (use eq, ne, in, nin, gt, gte, lt, "
            "lte, exists, contains)",
            "unknown_operator",
        ),
        ("filters.metadata.b.exists: must be true or false", "invalid"),
        (
            "filters.nope: unknown key 'nope' (use source_path, document_id, embedding_model, "
            "metadata, and, or, not)",
            "unknown_key",
        ),
    ]


def test_the_deepest_allowed_and_the_most_conditions_allowed_compile() -> None:
    assert compile_filters(nested(MAX_DEPTH)).params == ['{"lang":"en"}']
    assert len(compile_filters({"metadata": {f"k{i}": i for i in range(50)}}).params) == 50

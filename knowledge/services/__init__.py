"""Every write of the knowledge base: ingesting documents, deleting them, re-embedding chunks.

- ``document_ingest`` (``knowledge.services.ingest``): a document's chunks and vectors, replaced
  in one transaction after its vectors were computed outside it.
- ``document_delete`` and ``sources_delete`` (``knowledge.services.sources``).
- ``chunks_reembed`` (``knowledge.services.reembed``): the vectors chunks lack, in batches.
- ``validate_metadata`` and the other input rules (``knowledge.services.inputs``).
"""

from knowledge.services.ingest import (
    INGEST_ATTEMPTS,
    IngestPlan,
    IngestPlanStale,
    IngestResult,
    document_ingest,
    document_ingest_apply,
    document_ingest_prepare,
    may_change,
)
from knowledge.services.inputs import (
    DOCUMENT_ID_PATTERN,
    METADATA_KEY_PATTERN,
    PARENT_KEY,
    validate_metadata,
)
from knowledge.services.reembed import ReembedResult, chunks_needing_vectors, chunks_reembed
from knowledge.services.sources import DeletedSource, document_delete, sources_delete

__all__ = [
    "DOCUMENT_ID_PATTERN",
    "INGEST_ATTEMPTS",
    "METADATA_KEY_PATTERN",
    "PARENT_KEY",
    "DeletedSource",
    "IngestPlan",
    "IngestPlanStale",
    "IngestResult",
    "ReembedResult",
    "chunks_needing_vectors",
    "chunks_reembed",
    "document_delete",
    "document_ingest",
    "document_ingest_apply",
    "document_ingest_prepare",
    "may_change",
    "sources_delete",
    "validate_metadata",
]

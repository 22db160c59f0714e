"""``POST /api/v1/search/``: knowledge search over HTTP, a thin view over ``knowledge.search``."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from commerce.models import User
from devskyy.api.idempotency import without_idempotency_key
from devskyy.api.permissions import RolePermission
from devskyy.api.serializers import represent
from devskyy.api.viewsets import APIViewSetMixin
from knowledge.api.search_serializers import SearchRequestSerializer, SearchResponseSerializer
from knowledge.search import knowledge_search


class KnowledgeSearchView(APIViewSetMixin, GenericAPIView):
    """Search the knowledge base. A POST because filters are a JSON document; a read."""

    permission_classes = [RolePermission]
    pagination_class = None
    serializer_class = SearchRequestSerializer
    roles = {"post": User.API_ROLES}

    @extend_schema(
        summary="Search the knowledge base",
        description="The `k` best chunks for `query` that match `filters`, best first.\n\n"
        "- `fulltext`: web-search syntax over the chunks' text (English stemming), ranked by "
        "ts_rank_cd.\n"
        "- `vector`: cosine similarity between the query's embedding and the chunks' vectors "
        "under the search model (`filters.embedding_model`, else the server's); a selective "
        "filter still returns `k` hits when `k` matching chunks have vectors.\n"
        "- `hybrid` (default): both, fused by reciprocal rank (score = sum over legs of "
        "1 / (60 + rank)).\n\n"
        "Each hit carries its rank and score in each leg (`fulltext`, `vector`; null for a "
        "leg that did not find it). Without a query vector (send `query_vector`, or the "
        "server must be able to embed with the model), vector and hybrid searches run as "
        "full text: `mode` says `fulltext` and `fallback_reason` why. A read: retrying is "
        "safe and needs no `Idempotency-Key`.",
        request=SearchRequestSerializer,
        responses={200: SearchResponseSerializer},
    )
    @without_idempotency_key  # a read: a retry searches again and changes nothing
    def post(self, request: Request) -> Response:
        data = SearchRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = knowledge_search(**data.validated_data)
        return Response(represent(SearchResponseSerializer, result))

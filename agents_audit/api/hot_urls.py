"""The three calls a running LangGraph graph makes at every step (``checkpoint_hot_path``), under
/api/v1/: ``devskyy.api_router`` includes them before every other route of the API, so that
resolving them tries two patterns, not the whole API's."""

from django.urls import re_path

from agents_audit.api import checkpoint_hot_path as hot
from agents_audit.api.checkpoint_hot_path import hot_path
from agents_audit.api.checkpoint_serializers import THREAD_ID_URL_REGEX
from agents_audit.api.checkpoints import ThreadViewSet

urlpatterns = [
    re_path(
        rf"^threads/{THREAD_ID_URL_REGEX}/checkpoints/$",
        hot_path(ThreadViewSet.as_view({"post": "put_checkpoint"}), hot.put_checkpoint),
        name="thread-checkpoints",
    ),
    re_path(
        rf"^threads/{THREAD_ID_URL_REGEX}/writes/$",
        hot_path(ThreadViewSet.as_view({"post": "put_writes"}), hot.put_writes),
        name="thread-writes",
    ),
    re_path(
        rf"^threads/{THREAD_ID_URL_REGEX}/checkpoint/$",
        hot_path(ThreadViewSet.as_view({"get": "checkpoint"}), hot.checkpoint_tuple),
        name="thread-checkpoint",
    ),
]

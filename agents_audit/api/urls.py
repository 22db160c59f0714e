from django.urls import path, re_path
from rest_framework.routers import SimpleRouter

from agents_audit.api.checkpoint_serializers import THREAD_ID_URL_REGEX
from agents_audit.api.checkpoints import ThreadViewSet
from agents_audit.api.jobs import JOB_TYPE_PATTERN, JobTypePauseView, JobViewSet, TaskJobsView
from agents_audit.api.reports import ReportListView, ReportView
from agents_audit.api.tasks import ProjectViewSet, TaskViewSet
from agents_audit.api.views import (
    AgentExecutionViewSet,
    RoundTableResultViewSet,
    ToolExecutionViewSet,
)
from agents_audit.reports import REPORTS

router = SimpleRouter()
router.register("agent-executions", AgentExecutionViewSet, basename="agent-execution")
router.register("tool-executions", ToolExecutionViewSet, basename="tool-execution")
router.register("round-table-results", RoundTableResultViewSet, basename="round-table-result")
router.register("jobs", JobViewSet, basename="job")
router.register("projects", ProjectViewSet, basename="project")
router.register("tasks", TaskViewSet, basename="task")

urlpatterns = [
    *router.urls,
    path("tasks/<uuid:task_id>/jobs/", TaskJobsView.as_view(), name="task-jobs"),
    re_path(
        rf"^job-types/(?P<job_type>{JOB_TYPE_PATTERN})/pause/$",
        JobTypePauseView.as_view(),
        name="job-type-pause",
    ),
    path("reports/", ReportListView.as_view(), name="report-list"),
    # LangGraph checkpoints (issue 10); the list-level routes before the thread's. Put, put_writes
    # and get_tuple are in hot_urls.py.
    path("threads/", ThreadViewSet.as_view({"get": "list"}), name="thread-list"),
    path("threads/prune/", ThreadViewSet.as_view({"post": "prune"}), name="thread-prune"),
    path(
        "threads/delete-for-runs/",
        ThreadViewSet.as_view({"post": "delete_for_runs"}),
        name="thread-delete-for-runs",
    ),
    re_path(
        rf"^threads/{THREAD_ID_URL_REGEX}/$",
        ThreadViewSet.as_view({"get": "retrieve", "delete": "destroy"}),
        name="thread-detail",
    ),
    re_path(
        rf"^threads/{THREAD_ID_URL_REGEX}/checkpoints/search/$",
        ThreadViewSet.as_view({"post": "search"}),
        name="thread-checkpoints-search",
    ),
    re_path(
        rf"^threads/{THREAD_ID_URL_REGEX}/copy/$",
        ThreadViewSet.as_view({"post": "copy"}),
        name="thread-copy",
    ),
    path(
        "checkpoints/search/",
        ThreadViewSet.as_view({"post": "search_all"}),
        name="checkpoint-search",
    ),
    *(
        path(f"reports/{name}/", ReportView.as_view(report=report), name=f"report-{name}")
        for name, report in REPORTS.items()
    ),
]

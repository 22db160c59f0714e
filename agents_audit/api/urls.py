from django.urls import path, re_path
from rest_framework.routers import SimpleRouter

from agents_audit.api.jobs import JOB_TYPE_PATTERN, JobTypePauseView, JobViewSet, TaskJobsView
from agents_audit.api.views import (
    AgentExecutionViewSet,
    RoundTableResultViewSet,
    ToolExecutionViewSet,
)

router = SimpleRouter()
router.register("agent-executions", AgentExecutionViewSet, basename="agent-execution")
router.register("tool-executions", ToolExecutionViewSet, basename="tool-execution")
router.register("round-table-results", RoundTableResultViewSet, basename="round-table-result")
router.register("jobs", JobViewSet, basename="job")

urlpatterns = [
    *router.urls,
    path("tasks/<uuid:task_id>/jobs/", TaskJobsView.as_view(), name="task-jobs"),
    re_path(
        rf"^job-types/(?P<job_type>{JOB_TYPE_PATTERN})/pause/$",
        JobTypePauseView.as_view(),
        name="job-type-pause",
    ),
]

from django.urls import path, re_path
from rest_framework.routers import SimpleRouter

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
    *(
        path(f"reports/{name}/", ReportView.as_view(report=report), name=f"report-{name}")
        for name, report in REPORTS.items()
    ),
]

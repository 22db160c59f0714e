from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any, ClassVar

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import quote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models.fields.json import KT
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode

from agents_audit.admin_filters import (
    AgentIdFilter,
    AgentNameFilter,
    LoggedWithinFilter,
    SlowCallsFilter,
    ToolNameFilter,
)
from agents_audit.admin_trace import TraceLinkMixin, TraceViewMixin
from agents_audit.checkpoints import (
    checkpoint_channel_values,
    checkpoint_pending_writes,
    checkpoint_summaries,
    linked_task_id,
)
from agents_audit.models import (
    AgentExecution,
    Artifact,
    Checkpoint,
    CheckpointThread,
    Event,
    ExecutionLog,
    Job,
    JobTypePause,
    LLMRoundTableResult,
    Project,
    Task,
    ToolExecution,
)
from agents_audit.models.jobs import FINISHED_STATES
from agents_audit.reports import DEFAULT_LIMIT, MAX_DAYS, MAX_LIMIT, REPORTS, Report, ReportRows
from agents_audit.selectors import live_job_types
from agents_audit.services.jobs import job_cancel, job_retry, job_type_pause, job_type_resume
from agents_audit.services.projects import PROJECT_EDITABLE_FIELDS, project_create, project_update
from agents_audit.services.tasks import (
    TASK_EDITABLE_FIELDS,
    TASK_PENDING_ONLY_FIELDS,
    task_approve,
    task_create,
    task_reject,
    task_update,
)
from commerce.models import User
from devskyy import json_codec
from devskyy.admin import (
    BigTableMixin,
    DeclaredFiltersOnlyAdmin,
    FormErrors,
    ObjectAction,
    ObjectActionsMixin,
    ReadOnlyAuditAdmin,
    ServiceRefused,
    ServiceWrittenAdminMixin,
    StatusAndDurationColumns,
    TimestampsReadOnlyMixin,
    VersionedForm,
    pretty_json,
)
from devskyy.admin_filters import CreatedWithinFilter
from devskyy.errors import DomainError, InvalidInput, VersionMismatch


@admin.register(LLMRoundTableResult)
class LLMRoundTableResultAdmin(ReadOnlyAuditAdmin):
    list_display = ("result_id", "task_category", "winner_provider", "created_at")
    list_filter = ("task_category",)
    search_fields = ("=result_id", "=winner_provider")  # llm_rt_winner_created_idx
    ordering = ("-created_at", "-id")
    # Sortable only where an index serves the whole ORDER BY (column, ordering, pk) both ways;
    # other columns have filters instead (tests/test_admin_index_served.py).
    sortable_by = ("result_id", "created_at")


@admin.register(AgentExecution)
class AgentExecutionAdmin(TraceLinkMixin, StatusAndDurationColumns, ReadOnlyAuditAdmin):
    list_display = (
        "execution_id",
        "agent_name",
        "status_column",
        "tokens_used",
        "duration_column",
        "created_at",
    )
    list_filter = ("status", AgentNameFilter, CreatedWithinFilter, SlowCallsFilter)
    search_fields = ("=execution_id", "=agent_name")
    ordering = ("-created_at", "-id")
    # Sortable only where an index serves the whole ORDER BY (column, ordering, pk) both ways;
    # other columns have filters instead (tests/test_admin_index_served.py).
    sortable_by = ("execution_id", "created_at")


@admin.register(ToolExecution)
class ToolExecutionAdmin(TraceViewMixin, StatusAndDurationColumns, ReadOnlyAuditAdmin):
    list_display = (
        "tool_name",
        "status_column",
        "correlation_id",
        "agent_id",
        "user",
        "duration_column",
        "created_at",
    )
    list_filter = ("status", ToolNameFilter, AgentIdFilter, CreatedWithinFilter, SlowCallsFilter)
    extra_filter_lookups = ("user",)  # the user page's links to their records
    list_select_related = ("user",)
    # Exact matches only: each is backed by an index, which a LIKE '%..%' search would not use.
    search_fields = ("=correlation_id", "=tool_name", "=agent_id")
    ordering = ("-created_at", "-id")
    # Sortable only where an index serves the whole ORDER BY (column, ordering, pk) both ways;
    # other columns have filters instead (tests/test_admin_index_served.py).
    sortable_by = ("created_at",)


# --- agent operations: projects and tasks are written through their services -----------------

STALE_FORM_MESSAGE = (
    "This record was changed by someone else since you opened it; reload the page to see their "
    "changes, then make yours again. Nothing was saved."
)


def _staff(request: HttpRequest) -> User:
    if not isinstance(request.user, User):
        raise PermissionDenied
    return request.user


def _field_messages(errors: Any, prefix: str = "") -> Iterator[str]:
    """``name: message`` for each error of an ``InvalidInput`` tree (nested names dotted)."""
    for name, value in errors.items():
        if isinstance(value, list):
            yield from (f"{prefix}{name}: {error.message}" for error in value)
        else:
            yield from _field_messages(value, f"{prefix}{name}.")


def _messages(exc: Exception) -> list[str]:
    if isinstance(exc, VersionMismatch):
        return [STALE_FORM_MESSAGE]
    if isinstance(exc, ValidationError):
        return list(exc.messages)
    if isinstance(exc, InvalidInput):
        return list(_field_messages(exc.errors))
    if isinstance(exc, DomainError):
        return [exc.message]
    return [str(exc)]


class ServiceWrittenAdmin(
    ServiceWrittenAdminMixin, TimestampsReadOnlyMixin, DeclaredFiltersOnlyAdmin
):
    """Saves go through ``create``/``update`` services; a refusal re-shows the form with the
    service's reasons (the save's transaction is rolled back: nothing was written)."""


class ProjectForm(VersionedForm):
    class Meta:
        model = Project
        fields = ("name", "description")


@admin.register(Project)
class ProjectAdmin(ServiceWrittenAdmin):
    """Projects: ``project_create`` and ``project_update`` (optimistic: an edit made since the
    form was opened is never overwritten). A project with tasks cannot be deleted."""

    form = ProjectForm
    list_display = ("name", "version", "created_at", "updated_at")
    search_fields = ("name",)
    ordering = ("name", "id")  # projects_name_idx
    sortable_by = ("created_at",)  # name only one way: its index is (name, id)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ((None, {"fields": ("name", "description")}),)
        return (
            (None, {"fields": ("name", "description", "version")}),
            ("Dates", {"fields": ("created_at", "updated_at")}),
        )

    def save_model(self, request: HttpRequest, obj: Project, form: Any, change: bool) -> None:
        data = form.cleaned_data
        try:
            if change:
                project_update(
                    project=obj,
                    expected_version=data["version"],
                    by=_staff(request),
                    **{n: data[n] for n in form.changed_data if n in PROJECT_EDITABLE_FIELDS},
                )
            else:
                created = project_create(
                    name=data["name"], description=data["description"], by=_staff(request)
                )
                obj.pk, obj._state.adding = created.pk, False
        except (DomainError, ValidationError) as exc:
            raise ServiceRefused({None: _messages(exc)}) from exc
        obj.refresh_from_db()


class TaskForm(VersionedForm):
    class Meta:
        model = Task
        fields = ("project", "request_text", "estimated_resources")


class RejectForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class ReportForm(forms.Form):
    """A report's parameters; the fields it does not take are left out."""

    days = forms.IntegerField(min_value=1, max_value=MAX_DAYS, required=False)
    task = forms.UUIDField(required=False, help_text="The task's id.")
    limit = forms.IntegerField(
        label="Rows",
        min_value=1,
        max_value=MAX_LIMIT,
        required=False,
        help_text=f"The most rows to show (default {DEFAULT_LIMIT}, at most {MAX_LIMIT}).",
    )

    def __init__(self, *args: Any, report: Report, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if report.days is None:
            del self.fields["days"]
        else:
            self.fields["days"].help_text = f"The window in days (default {report.days})."
        if not report.takes_task:
            del self.fields["task"]
        else:
            self.fields["task"].required = True


def report_cell(value: Any) -> str:
    """One cell of a report's table: blank for none, ISO 8601 times, JSON for resources."""
    if value is None:
        return ""
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json_codec.dumps(value, default=str).decode()
    return str(value)


def _may_decide(task: Task, user: User, target: str) -> bool:
    """What ``task_approve`` / ``task_reject`` accept: an operator's decision on a pending task
    (approval: never on their own task)."""
    if user.role not in User.STAFF_ROLES or not task.can_transition_to(target):
        return False
    return target != Task.Status.APPROVED or task.created_by_id != user.pk


@admin.register(Task)
class TaskAdmin(
    TraceLinkMixin, ObjectActionsMixin, StatusAndDurationColumns, BigTableMixin, ServiceWrittenAdmin
):
    """Tasks: created with ``task_create`` (by you), edited with ``task_update`` (optimistic,
    like products), and decided with the Approve / Reject actions and buttons on its page
    (``task_approve``, ``task_reject``: operators only, never your own task). The status and
    everything the lifecycle writes are read-only here."""

    form = TaskForm
    list_display = (
        "__str__",
        "status_column",
        "project",
        "created_by",
        "approved_by",
        "external_ai_model",
        "created_at",
    )
    list_filter = ("status",)
    list_select_related = ("project", "created_by", "approved_by")
    search_fields = ("request_text", "=thread_id")
    ordering = ("-created_at", "-id")
    # Sortable only where an index serves the whole ORDER BY (column, ordering, pk) both ways;
    # other columns have filters instead (tests/test_admin_index_served.py).
    sortable_by = ("created_at",)
    autocomplete_fields = ("project",)
    actions = ["approve", "reject"]
    change_form_template = "admin/devskyy/change_form_object_actions.html"
    object_actions = (
        ObjectAction(
            name="approve",
            label="Approve",
            run=lambda task, user, data: task_approve(task=task, by=user),
            allowed=lambda task, user: _may_decide(task, user, Task.Status.APPROVED),
            question="Approve task {obj}? Its first job is queued at once.",
            done="Approved task {obj}; its first job is queued.",
        ),
        ObjectAction(
            name="reject",
            label="Reject",
            run=lambda task, user, data: task_reject(task=task, by=user, reason=data["reason"]),
            allowed=lambda task, user: _may_decide(task, user, Task.Status.REJECTED),
            question="Reject task {obj}? The reason is kept on the task and in its event trail.",
            done="Rejected task {obj}.",
            form=RejectForm,
            dangerous=True,
        ),
    )
    LIFECYCLE_FIELDS = (
        "status_column",
        "thread_id",
        "created_by",
        "approved_at",
        "approved_by",
        "completed_at",
        "rejection_reason",
        "actual_resources",
        "external_ai_model",
        "external_ai_tokens",
        "external_ai_cost",
        "error_message",
    )

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        editable = ("project", "request_text", "estimated_resources")
        if obj is None:
            return ((None, {"fields": editable}),)
        return (
            (None, {"fields": (*editable, "version")}),
            ("Lifecycle", {"fields": self.LIFECYCLE_FIELDS}),
            ("LangGraph thread", {"fields": self.THREAD_FIELDS}),
            ("Trace", {"fields": ("trace_link",)}),
            ("Dates", {"fields": ("created_at", "updated_at")}),
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        readonly = tuple(super().get_readonly_fields(request, obj))
        if obj is None:
            return readonly
        if obj.status != Task.Status.PENDING:  # decided: what was approved stays (task_update)
            readonly = (*sorted(TASK_PENDING_ONLY_FIELDS), *readonly)
        return (*self.LIFECYCLE_FIELDS, *self.THREAD_FIELDS, *readonly)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Reject instead. Deleting a task took its jobs, steps and artifacts with it (ON DELETE
        # CASCADE) and wrote no event; tasks go only with their project (project_delete).
        return False

    THREAD_FIELDS = ("thread", "thread_checkpoints")

    @admin.display(description="thread")
    def thread(self, task: Task) -> str:
        thread = CheckpointThread.objects.filter(thread_id=task.thread_id).first()
        if thread is None:
            return "No checkpoints saved for this thread id."
        link = reverse("admin:agents_audit_checkpointthread_change", args=[quote(thread.pk)])
        return format_html('<a href="{}">{}</a> (owner: {})', link, thread.pk, thread.owner or "-")

    @admin.display(description="checkpoints")
    def thread_checkpoints(self, task: Task) -> str:
        return _thread_checkpoints(task.thread_id)

    def save_model(self, request: HttpRequest, obj: Task, form: Any, change: bool) -> None:
        data = form.cleaned_data
        try:
            if change:
                task_update(
                    task=obj,
                    expected_version=data["version"],
                    by=_staff(request),
                    **{n: data[n] for n in form.changed_data if n in TASK_EDITABLE_FIELDS},
                )
            else:
                created = task_create(
                    request_text=data["request_text"],
                    project=data["project"],
                    estimated_resources=data["estimated_resources"],
                    created_by=_staff(request),
                )
                obj.pk, obj._state.adding = created.pk, False
        except (DomainError, ValidationError) as exc:
            raise ServiceRefused({None: _messages(exc)}) from exc
        obj.refresh_from_db()

    def _each(self, request: HttpRequest, queryset: Any, label: str, service: Any) -> None:
        done = 0
        for task in queryset:
            try:
                service(task)
                done += 1
            except (DomainError, ValidationError) as exc:
                self.message_user(
                    request, f"{task}: {'; '.join(_messages(exc))}", level=messages.ERROR
                )
        if done:
            self.message_user(request, f"{label}: {done} task(s).")

    @admin.action(description="Approve selected tasks")
    def approve(self, request: HttpRequest, queryset: Any) -> None:
        by = _staff(request)
        self._each(request, queryset, "Approved", lambda t: task_approve(task=t, by=by))

    @admin.action(description="Reject selected tasks…")
    def reject(self, request: HttpRequest, queryset: Any) -> HttpResponse | None:
        """Asks for the reason first (one page), then rejects each task with it."""
        form = RejectForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            by, reason = _staff(request), form.cleaned_data["reason"]
            self._each(
                request,
                queryset,
                "Rejected",
                lambda t: task_reject(task=t, by=by, reason=reason),
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Reject tasks",
            "opts": self.opts,
            "tasks": list(queryset),
            "form": form,
        }
        return TemplateResponse(request, "admin/agents_audit/task/reject.html", context)

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            path("reports/", view(self.reports_view), name="agents_audit_task_reports"),
            path("reports/<str:name>/", view(self.reports_view), name="agents_audit_task_report"),
            *super().get_urls(),
        ]

    @staticmethod
    def _run_report(report: Report, form: ReportForm) -> ReportRows | None:
        params = form.cleaned_data
        try:
            return report.run(
                days=params.get("days"),
                task=params.get("task"),
                limit=params.get("limit") or DEFAULT_LIMIT,
            )
        except InvalidInput as exc:  # the form checks what the report checks; kept in step
            for field, errors in exc.errors.items():
                for error in errors if isinstance(errors, list) else ():
                    form.add_error(field if field in form.fields else None, error.message)
            return None

    def reports_view(self, request: HttpRequest, name: str | None = None) -> HttpResponse:
        """The post-mortem reports (``agents_audit.reports``) as HTML tables: the list, or one
        report with its window (and task) and row limit in a form; bad input is a form error.
        A report shows its first ``DEFAULT_LIMIT`` rows unless asked for more (at most
        ``MAX_LIMIT``), and says when the window holds more."""
        if not request.user.is_staff:
            raise PermissionDenied
        report = None if name is None else REPORTS.get(name)
        if name is not None and report is None:
            raise Http404(f"No report named {name!r}.")
        form, result = None, None
        if report is not None:
            # Without parameters a report runs on its defaults; task-timeline waits for a task.
            form = ReportForm(request.GET or None, report=report)
            if form.is_bound and form.is_valid():
                result = self._run_report(report, form)
            elif not form.is_bound and not report.takes_task:
                result = report.run(limit=DEFAULT_LIMIT)
        rows = None if result is None else result.rows
        context = {
            **self.admin_site.each_context(request),
            "title": report.title if report else "Post-mortem reports",
            "opts": self.opts,
            "reports": list(REPORTS.values()),
            "report": report,
            "form": form,
            "columns": report.columns if report else (),
            "rows": None if rows is None else [[report_cell(v) for v in r.values()] for r in rows],
            "more_rows": result is not None and result.more,
            "max_limit": MAX_LIMIT,
        }
        return TemplateResponse(request, "admin/agents_audit/task/reports.html", context)


@admin.register(ExecutionLog)
class ExecutionLogAdmin(TraceLinkMixin, StatusAndDurationColumns, ReadOnlyAuditAdmin):
    list_display = (
        "task",
        "step_number",
        "agent_type",
        "status_column",
        "action",
        "duration_column",
        "timestamp",
    )
    list_filter = ("agent_type", "status", LoggedWithinFilter, SlowCallsFilter)
    list_select_related = ("task",)
    search_fields = ("=task__thread_id", "action")
    ordering = ("-timestamp", "-id")
    # Sortable only where an index serves the whole ORDER BY (column, ordering, pk) both ways;
    # other columns have filters instead (tests/test_admin_index_served.py).
    sortable_by = ("timestamp",)
    raw_id_fields = ("task",)


@admin.register(Event)
class EventAdmin(TraceLinkMixin, ReadOnlyAuditAdmin):
    """The event trail: append-only in the database, read-only here."""

    list_display = (
        "id",
        "created_at",
        "event_type",
        "subject_type",
        "subject_id",
        "actor",
        "api_key_prefix",
    )
    list_filter = ("event_type", "subject_type", CreatedWithinFilter)
    list_select_related = ("actor",)
    search_fields = ("=subject_id", "=correlation_id", "=event_type")
    ordering = ("-id",)
    # Sortable only where an index serves the whole ORDER BY (column, ordering, pk) both ways;
    # other columns have filters instead (tests/test_admin_index_served.py).
    sortable_by = ("id", "created_at")


@admin.register(Artifact)
class ArtifactAdmin(ReadOnlyAuditAdmin):
    list_display = ("storage_key", "task", "content_type", "size_bytes", "created_at")
    list_select_related = ("task",)
    search_fields = ("=storage_key", "=sha256", "=task__thread_id")
    ordering = ("-created_at", "-id")
    # Sortable only where an index serves the whole ORDER BY (column, ordering, pk) both ways;
    # other columns have filters instead (tests/test_admin_index_served.py).
    sortable_by = ("storage_key", "created_at")
    raw_id_fields = ("task",)


# --- the job queue: jobs are written by the queue's services only ----------------------------


class JobTypeFilter(admin.SimpleListFilter):
    """The job types of live jobs, and the paused ones: a short list read through the partial
    indexes, never a DISTINCT over every finished job (``?job_type=`` takes any type, and the
    search box finds a type exactly)."""

    title = "job type"
    parameter_name = "job_type"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        paused = JobTypePause.objects.values_list("job_type", flat=True)
        chosen = self.value()
        types: set[str] = {*live_job_types(), *paused}
        if chosen:
            types.add(chosen)
        return [(job_type, job_type) for job_type in sorted(types)]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        value = self.value()
        return queryset if value is None else queryset.filter(job_type=value)


# What ``job_retry`` sends back to the queue (``job_cancel`` takes any job not finished).
JOB_RETRYABLE_STATES = (Job.Status.DEAD, Job.Status.CANCELLED, Job.Status.FAILED)


@admin.register(Job)
class JobAdmin(TraceLinkMixin, ObjectActionsMixin, StatusAndDurationColumns, ReadOnlyAuditAdmin):
    """Jobs: read-only (nobody edits a job row; no adding or deleting either). Operators act
    through the Cancel and Retry actions and buttons on a job's page (``job_cancel``,
    ``job_retry``), which report what they did and, per job, what the service refused. Job
    types are paused under "Job type pauses"."""

    list_display = (
        "id",
        "job_type",
        "status_column",
        "task_link",
        "priority",
        "attempts_of",
        "run_after",
        "worker_id",
        "lease_expires_at",
        "finished_at",
    )
    list_filter = ("status", JobTypeFilter)
    extra_filter_lookups = ("job_type",)  # JobTypeFilter's parameter, a field's name
    list_select_related = ("task",)
    # The thread id (on the tasks' index, then jobs_task_idx) and the job type (jobs_type_idx);
    # a worker's or a dedupe key's jobs have no index of their own: filter, or trace the task.
    search_fields = ("=job_type", "=task__thread_id")
    ordering = ("-id",)
    # Sortable only where an index serves the whole ORDER BY (column, ordering, pk) both ways;
    # other columns have filters instead (tests/test_admin_index_served.py).
    sortable_by = ("id",)
    actions = ["cancel", "retry"]
    # A running job's heartbeats write its lease, not its state: only these refuse a confirmation.
    object_action_fingerprint = ("status", "attempts")
    object_actions = (
        ObjectAction(
            name="retry",
            label="Retry",
            run=lambda job, user, data: job_retry(job=job, by=user),
            allowed=lambda job, user: job.status in JOB_RETRYABLE_STATES,
            question=(
                "Send job {obj.job_type} #{obj.pk} back to the queue? It starts over with its "
                "full retries."
            ),
            done="Job {obj.job_type} #{obj.pk} is back in the queue.",
        ),
        ObjectAction(
            name="cancel",
            label="Cancel job",
            run=lambda job, user, data: job_cancel(job=job, by=user),
            allowed=lambda job, user: job.status not in FINISHED_STATES,
            question="Cancel job {obj.job_type} #{obj.pk}? A running job's worker loses its lease.",
            done="Job {obj.job_type} #{obj.pk} is cancelled.",
            dangerous=True,
        ),
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # The status shows as a badge (StatusAndDurationColumns); a job has no duration_ms, so
        # no "duration" row (it would read "-" on every job).
        readonly = super().get_readonly_fields(request, obj)
        return tuple(name for name in readonly if name != "duration_column")

    @admin.display(description="task")
    def task_link(self, job: Job) -> str:
        link = reverse("admin:agents_audit_task_change", args=[job.task_id])
        return format_html('<a href="{}">{}</a>', link, job.task)

    @admin.display(description="attempts / max retries")
    def attempts_of(self, job: Job) -> str:
        return f"{job.attempts} / {job.max_retries}"

    def _each(self, request: HttpRequest, queryset: Any, label: str, service: Any) -> None:
        done = 0
        for job in queryset.order_by("id"):
            try:
                service(job)
                done += 1
            except (DomainError, ValidationError) as exc:
                self.message_user(
                    request, f"{job}: {'; '.join(_messages(exc))}", level=messages.ERROR
                )
        if done:
            self.message_user(request, f"{label}: {done} job(s).")

    @admin.action(description="Cancel selected jobs")
    def cancel(self, request: HttpRequest, queryset: Any) -> None:
        by = _staff(request)
        self._each(request, queryset, "Cancelled", lambda j: job_cancel(job=j, by=by))

    @admin.action(description="Retry selected jobs (dead, cancelled or failed)")
    def retry(self, request: HttpRequest, queryset: Any) -> None:
        by = _staff(request)
        self._each(request, queryset, "Sent back to the queue", lambda j: job_retry(job=j, by=by))


class JobTypePauseForm(forms.ModelForm):
    """The add form (a pause is never edited); shows the service's refusal of the last save."""

    refusal: ClassVar[FormErrors] = {}

    class Meta:
        model = JobTypePause
        fields = ("job_type",)

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        for name, errors in self.refusal.items():
            self.add_error(name if name in self.fields else None, errors)
        return cleaned


@admin.register(JobTypePause)
class JobTypePauseAdmin(ServiceWrittenAdmin):
    """Paused job types: adding one pauses it (``job_type_pause``: claims skip its jobs), the
    Resume action resumes them (``job_type_resume``). Nothing else is edited or deleted here."""

    form = JobTypePauseForm
    list_display = ("job_type", "paused_at", "paused_by")
    list_select_related = ("paused_by",)
    search_fields = ("=job_type",)
    ordering = ("job_type",)
    sortable_by = ("job_type",)  # the primary key; the other columns have no index
    actions = ["resume"]
    timestamp_fields = ("paused_at",)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return () if obj is None else ("job_type", "paused_at", "paused_by")

    def save_model(self, request: HttpRequest, obj: JobTypePause, form: Any, change: bool) -> None:
        try:
            job_type_pause(job_type=form.cleaned_data["job_type"], by=_staff(request))
        except (DomainError, ValidationError) as exc:
            raise ServiceRefused({None: _messages(exc)}) from exc
        obj.refresh_from_db()

    @admin.action(description="Resume selected job types")
    def resume(self, request: HttpRequest, queryset: Any) -> None:
        by = _staff(request)
        resumed = [p.job_type for p in queryset if job_type_resume(job_type=p.job_type, by=by)]
        if resumed:
            self.message_user(request, f"Resumed: {', '.join(resumed)}.")


# --- LangGraph checkpoints: written by agents through the API, read here ---------------------


def _checkpoint_rows(checkpoints: Any) -> str:
    """An HTML table of checkpoints (``checkpoint_summaries`` rows), newest first."""
    rows = format_html_join(
        "",
        "<tr><td><a href='{}'>{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
        "<td>{}</td><td>{}</td></tr>",
        (
            (
                reverse("admin:agents_audit_checkpoint_change", args=[c.pk]),
                c.checkpoint_id,
                c.checkpoint_ns or "(root)",
                "" if c.step is None else c.step,
                c.source or "",
                c.writes,
                "waiting at an interrupt" if c.interrupted else "",
                c.created_at.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC",
            )
            for c in checkpoints
        ),
    )
    return format_html(
        "<table><thead><tr><th>checkpoint</th><th>namespace</th><th>step</th><th>source</th>"
        "<th>pending writes</th><th>state</th><th>saved at</th></tr></thead>"
        "<tbody>{}</tbody></table>",
        rows,
    )


def _thread_checkpoints(thread_id: str) -> str:
    total = Checkpoint.objects.filter(thread_id=thread_id).count()
    if not total:
        return "No checkpoints."
    shown = checkpoint_summaries(thread_id=thread_id, limit=THREAD_PAGE_CHECKPOINTS)
    everything = (
        f"{reverse('admin:agents_audit_checkpoint_changelist')}?{urlencode({'thread': thread_id})}"
    )
    return format_html(
        "{}<p>{} of {} checkpoint(s), newest first. <a href='{}'>All of this thread's "
        "checkpoints</a></p>",
        _checkpoint_rows(shown),
        min(total, THREAD_PAGE_CHECKPOINTS),
        total,
        everything,
    )


THREAD_PAGE_CHECKPOINTS = 50


@admin.register(CheckpointThread)
class CheckpointThreadAdmin(TraceLinkMixin, ReadOnlyAuditAdmin):
    """LangGraph threads: an agent's graph state, saved through the checkpoint API. Read-only:
    agents write them (and delete them through the API); operators read them here, linked to the
    task whose ``thread_id`` they are."""

    list_display = ("thread_id", "owner", "task_link", "created_at")
    list_select_related = ("owner",)
    search_fields = ("=thread_id",)
    search_help_text = "An exact thread id."
    ordering = ("-created_at", "-thread_id")
    # Sortable only where an index serves the whole ORDER BY (column, ordering, pk) both ways;
    # other columns have filters instead (tests/test_admin_index_served.py).
    sortable_by = ("thread_id", "created_at")
    fields = ("thread_id", "owner", "task_link", "created_at", "checkpoints")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).annotate(task_pk=linked_task_id())

    @admin.display(description="task")
    def task_link(self, thread: CheckpointThread) -> str:
        task_pk = getattr(thread, "task_pk", None)
        if task_pk is None:
            return "-"
        link = reverse("admin:agents_audit_task_change", args=[task_pk])
        return format_html('<a href="{}">{}</a>', link, task_pk)

    @admin.display(description="checkpoints")
    def checkpoints(self, thread: CheckpointThread) -> str:
        return _thread_checkpoints(thread.thread_id)


@admin.register(Checkpoint)
class CheckpointAdmin(TraceLinkMixin, ReadOnlyAuditAdmin):
    """One saved step of a LangGraph thread: the checkpoint and its metadata (JSON), its channel
    values and pending writes (LangGraph's serialized bytes: their type and size)."""

    list_display = ("checkpoint_id", "thread", "namespace", "step", "source", "created_at")
    extra_filter_lookups = ("thread",)  # the thread page's "all checkpoints" link
    search_fields = ("=thread_id", "=checkpoint_id")
    search_help_text = "An exact thread id or checkpoint id."
    ordering = ("-id",)
    sortable_by = ()  # newest first only: no index leads with another column shown
    fields = (
        "thread",
        "namespace",
        "checkpoint_id",
        "parent",
        "created_at",
        "pretty_metadata",
        "pretty_checkpoint",
        "channel_values",
        "pending_writes",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> Any:
        return (
            super()
            .get_queryset(request)
            .annotate(step=KT("metadata__step"), source=KT("metadata__source"))
        )

    @admin.display(description="namespace")
    def namespace(self, checkpoint: Checkpoint) -> str:
        return checkpoint.checkpoint_ns or "(root)"

    @admin.display(description="step")
    def step(self, checkpoint: Checkpoint) -> Any:
        return getattr(checkpoint, "step", None)

    @admin.display(description="source")
    def source(self, checkpoint: Checkpoint) -> Any:
        return getattr(checkpoint, "source", None)

    @admin.display(description="parent")
    def parent(self, checkpoint: Checkpoint) -> str:
        if not checkpoint.parent_checkpoint_id:
            return "-"
        parent = Checkpoint.objects.filter(
            thread_id=checkpoint.thread_id,
            checkpoint_ns=checkpoint.checkpoint_ns,
            checkpoint_id=checkpoint.parent_checkpoint_id,
        ).first()
        if parent is None:
            return checkpoint.parent_checkpoint_id
        link = reverse("admin:agents_audit_checkpoint_change", args=[parent.pk])
        return format_html('<a href="{}">{}</a>', link, parent.checkpoint_id)

    @admin.display(description="metadata")
    def pretty_metadata(self, checkpoint: Checkpoint) -> str:
        return pretty_json(checkpoint.metadata)

    @admin.display(description="checkpoint")
    def pretty_checkpoint(self, checkpoint: Checkpoint) -> str:
        return pretty_json(checkpoint.checkpoint)

    @admin.display(description="channel values")
    def channel_values(self, checkpoint: Checkpoint) -> str:
        rows = checkpoint_channel_values(checkpoint)
        if not rows:
            return "None."
        return format_html(
            "<table><thead><tr><th>channel</th><th>version</th><th>type</th><th>bytes</th>"
            "</tr></thead><tbody>{}</tbody></table>",
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                ((b.channel, b.version, b.type, b.size) for b in rows),
            ),
        )

    @admin.display(description="pending writes")
    def pending_writes(self, checkpoint: Checkpoint) -> str:
        rows = checkpoint_pending_writes(checkpoint)
        if not rows:
            return "None."
        return format_html(
            "<table><thead><tr><th>task</th><th>path</th><th>idx</th><th>channel</th>"
            "<th>type</th><th>bytes</th></tr></thead><tbody>{}</tbody></table>",
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                ((w.task_id, w.task_path, w.idx, w.channel, w.type, w.size) for w in rows),
            ),
        )

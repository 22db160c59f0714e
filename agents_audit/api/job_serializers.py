"""The job queue's request and response bodies."""

from __future__ import annotations

from typing import Any

from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from agents_audit.models import Job
from devskyy.api.serializers import JSONObjectField, StrictInputSerializer

JOB_TYPE_HELP = "The kind of work, e.g. `task.execute`: what a worker asks for when it claims."
# The limits the queue's services enforce, so the schema tells a client before it tries.
JOB_TYPE_PATTERN = r"^[a-z0-9_.:-]{1,100}$"
JOB_TYPE_MESSAGE = "Use 1 to 100 lowercase letters, digits and _ . : - only."
MAX_WAIT_SECONDS = 30
SMALLINT_MIN, SMALLINT_MAX = -(2**15), 2**15 - 1


@extend_schema_field(
    {"type": "string", "minLength": 1, "maxLength": 100, "pattern": JOB_TYPE_PATTERN}
)
class JobTypeField(serializers.CharField):
    """A job type: 1 to 100 of ``a-z 0-9 _ . : -`` (the services' rule, stated in the schema)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=100, **kwargs)
        self.validators.append(RegexValidator(JOB_TYPE_PATTERN, JOB_TYPE_MESSAGE, code="invalid"))


class JobEnqueueSerializer(StrictInputSerializer):
    """Work to queue for an approved or executing task."""

    job_type = JobTypeField(help_text=JOB_TYPE_HELP)
    payload = JSONObjectField(required=False, default=dict)
    priority = serializers.IntegerField(
        min_value=SMALLINT_MIN,
        max_value=SMALLINT_MAX,
        required=False,
        default=0,
        help_text="Higher runs first (default 0).",
    )
    max_retries = serializers.IntegerField(
        min_value=0,
        max_value=100,
        required=False,
        default=3,
        help_text="How many times a failed job is retried before it is `dead` (default 3).",
    )
    retry_backoff_seconds = serializers.IntegerField(
        min_value=1,
        max_value=86400,
        required=False,
        allow_null=True,
        default=None,
        help_text="The base of the exponential backoff between retries, in seconds (default: "
        "the server's, 10).",
    )
    dedupe_key = serializers.CharField(
        max_length=255,
        required=False,
        allow_blank=True,
        default="",
        help_text="While a job of this type with this key is queued, running or waiting for a "
        "retry, enqueuing it again returns that job (200) instead of a new one.",
    )
    run_after = serializers.DateTimeField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Not before this time (ISO 8601 with a time zone); default: now.",
    )


class JobClaimSerializer(StrictInputSerializer):
    """A worker asks for its next job."""

    worker_id = serializers.CharField(
        max_length=255, help_text="Who is asking, e.g. `host-3/pid-4411`: shown to operators."
    )
    job_types = serializers.ListField(
        child=JobTypeField(),
        min_length=1,
        max_length=20,
        help_text="The job types this worker runs.",
    )
    lease_seconds = serializers.IntegerField(
        min_value=1,
        max_value=3600,
        required=False,
        default=60,
        help_text="How long the job is yours without a heartbeat (default 60).",
    )

    def validate_job_types(self, value: list[str]) -> list[str]:
        # JSON strings only: DRF's CharField would take 5 as "5".
        sent = self.initial_data.get("job_types") if isinstance(self.initial_data, dict) else None
        if isinstance(sent, list) and not all(isinstance(item, str) for item in sent):
            raise serializers.ValidationError("Each job type must be a string.", code="invalid")
        return value

    wait_seconds = serializers.IntegerField(
        min_value=0,
        max_value=MAX_WAIT_SECONDS,
        required=False,
        default=0,
        help_text="When nothing is runnable, wait up to this long for a job (long-poll; "
        "default 0: answer at once).",
    )


class LeaseSerializer(StrictInputSerializer):
    lease_token = serializers.UUIDField(help_text="The `lease_token` your claim returned.")


class JobHeartbeatSerializer(LeaseSerializer):
    lease_seconds = serializers.IntegerField(
        min_value=1,
        max_value=3600,
        required=False,
        default=60,
        help_text="The new lease, from now (default 60).",
    )


class JobCompleteSerializer(LeaseSerializer):
    result = serializers.JSONField(required=False, allow_null=True, default=None)


class JobFailSerializer(LeaseSerializer):
    error = serializers.CharField(max_length=10000, help_text="What went wrong.")
    retryable = serializers.BooleanField(
        required=False,
        default=True,
        help_text="`false`: do not retry, the job is `dead` at once.",
    )


class JobSerializer(serializers.ModelSerializer[Job]):
    """A job as operators and its task's owner see it (no lease token)."""

    task = serializers.UUIDField(source="task_id", read_only=True)

    class Meta:
        model = Job
        fields = [
            "id",
            "task",
            "job_type",
            "status",
            "priority",
            "payload",
            "result",
            "attempts",
            "max_retries",
            "retry_backoff_seconds",
            "run_after",
            "worker_id",
            "lease_expires_at",
            "last_error",
            "dedupe_key",
            "created_at",
            "updated_at",
            "finished_at",
        ]
        read_only_fields = fields


class ClaimedJobSerializer(serializers.ModelSerializer[Job]):
    """A claimed job: yours until `lease_expires_at`; send `lease_token` with every call."""

    task = serializers.UUIDField(source="task_id", read_only=True)

    class Meta:
        model = Job
        fields = [
            "id",
            "task",
            "job_type",
            "payload",
            "priority",
            "attempts",
            "max_retries",
            "lease_token",
            "lease_expires_at",
        ]
        read_only_fields = fields


class LeaseStateSerializer(serializers.ModelSerializer[Job]):
    class Meta:
        model = Job
        fields = ["id", "status", "attempts", "lease_expires_at", "run_after"]
        read_only_fields = fields


class JobTypeCountsSerializer(serializers.Serializer):
    job_type = serializers.CharField()
    queued = serializers.IntegerField()
    running = serializers.IntegerField()
    failed = serializers.IntegerField()
    paused = serializers.BooleanField()


class QueueStatsSerializer(serializers.Serializer):
    job_types = JobTypeCountsSerializer(many=True)
    waiting_claims = serializers.IntegerField(
        help_text="Claims waiting for work in the server process that answered."
    )
    listening = serializers.BooleanField(
        help_text="Whether that process's wake-up listener is connected (else waiting claims "
        "poll once a second)."
    )


class JobTypePauseSerializer(serializers.Serializer):
    job_type = serializers.CharField()
    paused = serializers.BooleanField()

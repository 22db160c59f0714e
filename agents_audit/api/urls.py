from rest_framework.routers import SimpleRouter

from agents_audit.api.views import (
    AgentExecutionViewSet,
    RoundTableResultViewSet,
    ToolExecutionViewSet,
)

router = SimpleRouter()
router.register("agent-executions", AgentExecutionViewSet, basename="agent-execution")
router.register("tool-executions", ToolExecutionViewSet, basename="tool-execution")
router.register("round-table-results", RoundTableResultViewSet, basename="round-table-result")

urlpatterns = router.urls

from rest_framework.routers import SimpleRouter

from commerce.api.views import OrderViewSet, ProductViewSet, UserViewSet

router = SimpleRouter()
router.register("products", ProductViewSet, basename="product")
router.register("orders", OrderViewSet, basename="order")
router.register("users", UserViewSet, basename="user")

urlpatterns = router.urls

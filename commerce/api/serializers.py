from __future__ import annotations

from decimal import Decimal
from typing import Any

from rest_framework import serializers

from commerce.models import Order, OrderEvent, OrderLine, Product, StockMovement, User
from devskyy.api.serializers import (
    JSONObjectField,
    QueryParametersSerializer,
    StrictInputSerializer,
)

INT32_MAX = 2**31 - 1


class UserSerializer(serializers.ModelSerializer[User]):
    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "email",
            "full_name",
            "role",
            "is_active",
            "is_verified",
            "last_login",
            "created_at",
            "updated_at",
            "metadata",
        ]
        read_only_fields = fields


class ProductSerializer(serializers.ModelSerializer[Product]):
    class Meta:
        model = Product
        fields = [
            "id",
            "sku",
            "name",
            "description",
            "category",
            "price",
            "inventory_quantity",
            "status",
            "tags",
            "metadata",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "version": {
                "help_text": "The version of the editable record (everything but the stock); "
                "the detail's ETag. Send it back in If-Match to PATCH."
            },
        }


class ProductInputSerializer(StrictInputSerializer):
    """Create a product (a draft; ``inventory_quantity`` is its opening stock). Status changes go
    through the publish/archive actions, never through this body."""

    sku = serializers.CharField(max_length=100)
    name = serializers.CharField(max_length=500)
    description = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    category = serializers.CharField(max_length=100, required=False, allow_null=True)
    price = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=Decimal("0.01"))
    inventory_quantity = serializers.IntegerField(min_value=0, max_value=INT32_MAX, required=False)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=50), max_length=20, required=False, allow_null=True
    )
    metadata = JSONObjectField(required=False)


class ProductUpdateSerializer(ProductInputSerializer):
    """Change a product's editable fields (``partial=True``). Stock and status have their own
    actions; a body that sets them is refused with the code ``read_only`` and where to go."""

    inventory_quantity = None  # type: ignore[assignment]

    ELSEWHERE = {
        "inventory_quantity": "Stock changes only by deltas: POST "
        '/api/v1/products/{id}/adjust-stock/ with {"delta": <units>, "reason": "..."}.',
        "status": "The status changes only through POST /api/v1/products/{id}/publish/ or "
        "/api/v1/products/{id}/archive/.",
    }

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            elsewhere = {
                name: [serializers.ErrorDetail(message, code="read_only")]
                for name, message in self.ELSEWHERE.items()
                if name in data
            }
            if elsewhere:
                raise serializers.ValidationError(elsewhere)
        return super().to_internal_value(data)


class StockAdjustSerializer(StrictInputSerializer):
    delta = serializers.IntegerField(
        min_value=-INT32_MAX,
        max_value=INT32_MAX,
        help_text="Units to add (positive) or remove (negative); not zero.",
    )
    reason = serializers.CharField(
        max_length=500, help_text="Why: a delivery, a recount, breakage... (kept in the ledger)."
    )

    def validate_delta(self, value: int) -> int:
        if value == 0:
            raise serializers.ValidationError("Not zero: positive adds, negative removes.", "zero")
        return value


class StockMovementSerializer(serializers.ModelSerializer[StockMovement]):
    order = serializers.UUIDField(source="order_id", read_only=True, allow_null=True)
    actor = serializers.UUIDField(source="actor_id", read_only=True, allow_null=True)

    class Meta:
        model = StockMovement
        fields = ["id", "delta", "kind", "reason", "order", "actor", "created_at"]
        read_only_fields = fields


class StockMovementPageSerializer(serializers.Serializer):
    results = StockMovementSerializer(many=True)
    next = serializers.URLField(allow_null=True, help_text="The next (older) page, if any.")


class StockMovementQuerySerializer(QueryParametersSerializer):
    before = serializers.IntegerField(
        min_value=1,
        max_value=2**63 - 1,
        required=False,
        help_text="Only movements older than this movement id (the `next` link sets it).",
    )


class OrderLineSerializer(serializers.ModelSerializer[OrderLine]):
    product = serializers.UUIDField(source="product_id", read_only=True, allow_null=True)

    class Meta:
        model = OrderLine
        fields = ["sku", "name", "unit_price", "quantity", "line_total", "product"]
        read_only_fields = fields


class OrderSerializer(serializers.ModelSerializer[Order]):
    user = serializers.UUIDField(source="user_id", read_only=True, allow_null=True)
    lines = OrderLineSerializer(many=True, read_only=True)

    class Meta:
        model = Order
        fields = [
            "id",
            "order_number",
            "user",
            "status",
            "subtotal",
            "total_price",
            "lines",
            "metadata",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class OrderItemSerializer(StrictInputSerializer):
    sku = serializers.CharField(max_length=100)
    quantity = serializers.IntegerField(min_value=1, max_value=10_000)


class OrderPlaceSerializer(StrictInputSerializer):
    items = OrderItemSerializer(many=True, allow_empty=False, max_length=100)  # type: ignore[call-arg]
    shipping = JSONObjectField(
        required=False, default=dict, help_text="Shipping address and options, kept with the order."
    )
    payment_method = serializers.CharField(max_length=50)


class StaffOrderPlaceSerializer(OrderPlaceSerializer):
    """Operators may place an order for any user, or a guest order (``"user": null``)."""

    user = serializers.UUIDField(allow_null=True, required=False)


class OrderTransitionSerializer(StrictInputSerializer):
    reason = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class OrderEventSerializer(serializers.ModelSerializer[OrderEvent]):
    actor = serializers.UUIDField(source="actor_id", read_only=True, allow_null=True)

    class Meta:
        model = OrderEvent
        fields = ["from_status", "to_status", "actor", "reason", "created_at"]
        read_only_fields = fields


class UserCreateSerializer(StrictInputSerializer):
    username = serializers.CharField(max_length=100)
    email = serializers.EmailField(max_length=255)
    role = serializers.ChoiceField(choices=User.Role.choices)
    full_name = serializers.CharField(max_length=255, required=False, allow_null=True)
    password = serializers.CharField(
        write_only=True,
        required=False,
        allow_null=True,
        trim_whitespace=False,
        style={"input_type": "password"},
        help_text="Omit (or null) for an unusable password: an agent that only uses API keys.",
    )

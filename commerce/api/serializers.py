from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django.contrib.auth.validators import UnicodeUsernameValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from commerce.models import Order, OrderEvent, OrderLine, Product, StockMovement, User
from devskyy.api.serializers import (
    JSONObjectField,
    QueryParametersSerializer,
    StrictInputSerializer,
)

INT32_MAX = 2**31 - 1
MIN_PASSWORD_LENGTH = 12  # AUTH_PASSWORD_VALIDATORS' MinimumLengthValidator
# A price as text: digits with at most two decimals, above zero, at most 99,999,999.99.
PRICE_PATTERN = r"^(?!0*(?:\.0*)?$)0*[0-9]{1,8}(?:\.[0-9]{1,2})?$"
_DECIMAL_TEXT = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "pattern": PRICE_PATTERN, "maxLength": 1000, "example": "19.99"},
            {"type": "number", "minimum": 0.01, "maximum": 99999999.99, "multipleOf": 0.01},
        ],
        "description": "At least 0.01, at most 99999999.99, with at most two decimals: a "
        'string such as "19.99" (as the API returns prices) or a JSON number.',
    }
)
class PriceField(serializers.DecimalField):
    """Money in: a decimal string in plain notation (``"19.99"``) or a JSON number."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_digits=10, decimal_places=2, min_value=Decimal("0.01"), **kwargs)

    def to_internal_value(self, data: Any) -> Decimal:
        if isinstance(data, bool) or (isinstance(data, str) and not _DECIMAL_TEXT.fullmatch(data)):
            self.fail("invalid")  # not "1e3", " 5", "5.", "+5": one spelling, as documented
        value: Decimal = super().to_internal_value(data)
        return value


class UserSerializer(serializers.ModelSerializer[User]):
    """An account. ``role`` decides what it may do."""

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
    """A product of the catalogue; only ``published`` ones can be ordered."""

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

    sku = serializers.RegexField(
        r"\A[A-Za-z0-9][A-Za-z0-9._-]{0,99}\Z",
        max_length=100,
        trim_whitespace=False,
        error_messages={
            "invalid": "Use 1 to 100 letters, digits, '.', '_' or '-', starting with a letter "
            "or digit."
        },
    )
    name = serializers.CharField(max_length=500)
    description = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    category = serializers.CharField(max_length=100, required=False, allow_null=True)
    price = PriceField()
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
    """One line of an order: the product as it was sold (SKU, name, unit price)."""

    product = serializers.UUIDField(source="product_id", read_only=True, allow_null=True)

    class Meta:
        model = OrderLine
        fields = ["sku", "name", "unit_price", "quantity", "line_total", "product"]
        read_only_fields = fields


class OrderSerializer(serializers.ModelSerializer[Order]):
    """An order with its lines and totals. ``user`` is the customer (null for a guest order)."""

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
    """A product (by SKU) and how many of it."""

    sku = serializers.CharField(max_length=100)
    quantity = serializers.IntegerField(min_value=1, max_value=10_000)


class OrderPlaceSerializer(StrictInputSerializer):
    """An order to place: 1 to 100 items, each SKU once."""

    items = OrderItemSerializer(many=True, allow_empty=False, max_length=100)  # type: ignore[call-arg]
    shipping = JSONObjectField(
        required=False, default=dict, help_text="Shipping address and options, kept with the order."
    )
    payment_method = serializers.CharField(max_length=50)


class StaffOrderPlaceSerializer(OrderPlaceSerializer):
    """An order to place: 1 to 100 items, each SKU once. Operators and admins may also set
    ``user``."""

    user = serializers.UUIDField(
        allow_null=True,
        required=False,
        help_text="Operators and admins only: the customer to place the order for, or null for "
        "a guest order. Anyone else who sends this field gets a 403.",
    )


class OrderTransitionSerializer(StrictInputSerializer):
    """Why the order changes state (kept in its event history)."""

    reason = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class OrderEventSerializer(serializers.ModelSerializer[OrderEvent]):
    """One change of an order's status: from, to, by whom and why."""

    actor = serializers.UUIDField(source="actor_id", read_only=True, allow_null=True)

    class Meta:
        model = OrderEvent
        fields = ["from_status", "to_status", "actor", "reason", "created_at"]
        read_only_fields = fields


class UserCreateSerializer(StrictInputSerializer):
    """A new account."""

    username = serializers.CharField(
        max_length=100,
        trim_whitespace=False,
        validators=[UnicodeUsernameValidator()],
        help_text="Letters, digits and @/./+/-/_ only.",
    )
    email = serializers.EmailField(max_length=255, trim_whitespace=False)
    role = serializers.ChoiceField(choices=User.Role.choices)
    full_name = serializers.CharField(max_length=255, required=False, allow_null=True)
    password = serializers.CharField(
        write_only=True,
        required=False,
        allow_null=True,
        trim_whitespace=False,
        min_length=MIN_PASSWORD_LENGTH,
        style={"input_type": "password"},
        help_text=f"At least {MIN_PASSWORD_LENGTH} characters, not all digits, not a common "
        "password and not like the username or email. Omit (or null) for an unusable password: "
        "an agent that only uses API keys.",
    )

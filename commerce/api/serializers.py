from __future__ import annotations

from decimal import Decimal

from rest_framework import serializers

from commerce.models import Order, Product, User
from devskyy.api.serializers import JSONObjectField, StrictInputSerializer

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
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ProductInputSerializer(StrictInputSerializer):
    """Create (all required fields) or update (``partial=True``) a product. Status changes go
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


class OrderSerializer(serializers.ModelSerializer[Order]):
    user = serializers.UUIDField(source="user_id", read_only=True, allow_null=True)

    class Meta:
        model = Order
        fields = [
            "id",
            "order_number",
            "user",
            "status",
            "subtotal",
            "total_price",
            "metadata",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

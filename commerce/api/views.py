"""The commerce API: thin views over commerce.services and commerce.selectors."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response

from commerce import selectors, services
from commerce.api import serializers as s
from commerce.filters import OrderFilter, ProductFilter
from commerce.models import Order, Product, User
from devskyy.api.idempotency import idempotent
from devskyy.api.permissions import ADMINS, API_USERS, STAFF, caller
from devskyy.api.viewsets import ReadOnlyModelViewSet


class ProductPagination(PageNumberPagination):
    """The catalogue is small and sorted many ways: plain pages with a count."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class ProductViewSet(ReadOnlyModelViewSet):
    """The catalogue. Agents see published products; operators see and manage all."""

    queryset = Product.objects.none()  # the model, for the schema; rows: get_queryset
    serializer_class = s.ProductSerializer
    filterset_class = ProductFilter
    pagination_class = ProductPagination
    roles = {"list": API_USERS, "retrieve": API_USERS, "*": STAFF}
    extra_error_statuses = {"publish": (409,), "archive": (409,)}

    def get_queryset(self) -> Any:
        return selectors.product_list(viewer=caller(self.request)).order_by("sku")

    @extend_schema(request=s.ProductInputSerializer, responses={201: s.ProductSerializer})
    @idempotent
    def create(self, request: Request) -> Response:
        data = s.ProductInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        product = services.product_create(**data.validated_data)
        return Response(s.ProductSerializer(product).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.ProductInputSerializer, responses={200: s.ProductSerializer})
    def partial_update(self, request: Request, pk: str) -> Response:
        product: Product = self.get_object()
        data = s.ProductInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        product = services.product_update(product=product, **data.validated_data)
        return Response(s.ProductSerializer(product).data)

    @extend_schema(request=None, responses={200: s.ProductSerializer})
    @action(detail=True, methods=["post"])
    @idempotent
    def publish(self, request: Request, pk: str) -> Response:
        product = services.product_publish(product=self.get_object())
        return Response(s.ProductSerializer(product).data)

    @extend_schema(request=None, responses={200: s.ProductSerializer})
    @action(detail=True, methods=["post"])
    @idempotent
    def archive(self, request: Request, pk: str) -> Response:
        product = services.product_archive(product=self.get_object())
        return Response(s.ProductSerializer(product).data)


class OrderViewSet(ReadOnlyModelViewSet):
    """Orders: agents see their own; operators see all."""

    queryset = Order.objects.none()
    serializer_class = s.OrderSerializer
    filterset_class = OrderFilter
    roles = {"list": API_USERS, "retrieve": API_USERS}

    def get_queryset(self) -> Any:
        return selectors.order_list(viewer=caller(self.request))


class UserViewSet(ReadOnlyModelViewSet):
    """Accounts: admins only, except ``users/me/``."""

    queryset = User.objects.none()
    serializer_class = s.UserSerializer
    roles = {"list": ADMINS, "retrieve": ADMINS, "me": API_USERS}

    def get_queryset(self) -> Any:
        return selectors.user_list(viewer=caller(self.request))

    @extend_schema(responses={200: s.UserSerializer})
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def me(self, request: Request) -> Response:
        return Response(s.UserSerializer(caller(request)).data)

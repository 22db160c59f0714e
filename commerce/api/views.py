"""The commerce API: thin views over commerce.services and commerce.selectors."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response

from commerce import selectors, services
from commerce.api import serializers as s
from commerce.filters import OrderFilter, ProductFilter
from commerce.models import Order, Product, User
from devskyy.api.idempotency import idempotent
from devskyy.api.permissions import ADMINS, SHOPPERS, STAFF, caller, is_staff
from devskyy.api.viewsets import ReadOnlyModelViewSet
from devskyy.api.writes import render_before_commit


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
    roles = {"list": SHOPPERS, "retrieve": SHOPPERS, "*": STAFF}
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
    @render_before_commit
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
    """Orders: customers and agents place and see their own; operators see and run all."""

    queryset = Order.objects.none()
    serializer_class = s.OrderSerializer
    filterset_class = OrderFilter
    roles = {
        "list": SHOPPERS,
        "retrieve": SHOPPERS,
        "create": SHOPPERS,
        "cancel": SHOPPERS,
        "events": SHOPPERS,
        "process": STAFF,
        "complete": STAFF,
    }
    extra_error_statuses = {
        "create": (409,),
        "cancel": (409,),
        "process": (409,),
        "complete": (409,),
    }

    def get_queryset(self) -> Any:
        return selectors.order_list(viewer=caller(self.request))

    @extend_schema(
        request=s.StaffOrderPlaceSerializer,
        responses={201: s.OrderSerializer},
        description="Place an order: stock is checked and taken in one transaction. Out of "
        "stock is a 409 `insufficient_stock` naming the SKU and what is left. "
        "Operators may set `user` (another user, or null for a guest order).",
    )
    @idempotent
    def create(self, request: Request) -> Response:
        user = caller(request)
        staff = is_staff(user)
        data = (s.StaffOrderPlaceSerializer if staff else s.OrderPlaceSerializer)(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        customer: User | None = user
        if staff and "user" in fields:
            customer = (
                None if fields["user"] is None else (User.objects.filter(pk=fields["user"]).first())
            )
            if fields["user"] is not None and customer is None:
                raise ValidationError({"user": ["No such user."]})
        order = services.order_place(
            user=customer,
            lines=[(item["sku"], item["quantity"]) for item in fields["items"]],
            shipping=fields["shipping"],
            payment_method=fields["payment_method"],
            placed_by=user,
        )
        order = Order.objects.prefetch_related("lines").get(pk=order.pk)
        return Response(s.OrderSerializer(order).data, status=status.HTTP_201_CREATED)

    def _transition(self, request: Request, service: Any) -> Response:
        order: Order = self.get_object()
        data = s.OrderTransitionSerializer(data=request.data or {})
        data.is_valid(raise_exception=True)
        order = service(order=order, by=caller(request), reason=data.validated_data["reason"])
        return Response(
            s.OrderSerializer(selectors.order_list(viewer=caller(request)).get(pk=order.pk)).data
        )

    @extend_schema(
        request=s.OrderTransitionSerializer,
        responses={200: s.OrderSerializer},
        description="Cancel and put the stock back. Operators cancel pending or "
        "processing orders; an order's owner cancels it while pending.",
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def cancel(self, request: Request, pk: str) -> Response:
        order: Order = self.get_object()
        if not is_staff(caller(request)) and order.status != Order.Status.PENDING:
            raise PermissionDenied("Only an operator can cancel an order once it is processing.")
        return self._transition(request, services.order_cancel)

    @extend_schema(request=s.OrderTransitionSerializer, responses={200: s.OrderSerializer})
    @action(detail=True, methods=["post"])
    @idempotent
    def process(self, request: Request, pk: str) -> Response:
        return self._transition(request, services.order_mark_processing)

    @extend_schema(request=s.OrderTransitionSerializer, responses={200: s.OrderSerializer})
    @action(detail=True, methods=["post"])
    @idempotent
    def complete(self, request: Request, pk: str) -> Response:
        return self._transition(request, services.order_complete)

    @extend_schema(responses={200: s.OrderEventSerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def events(self, request: Request, pk: str) -> Response:
        events = selectors.order_event_list(order=self.get_object())
        return Response(s.OrderEventSerializer(events, many=True).data)


class UserViewSet(ReadOnlyModelViewSet):
    """Accounts: admins only, except ``users/me/``."""

    queryset = User.objects.none()
    serializer_class = s.UserSerializer
    roles = {"list": ADMINS, "retrieve": ADMINS, "create": ADMINS, "me": SHOPPERS}

    def get_queryset(self) -> Any:
        return selectors.user_list(viewer=caller(self.request))

    @extend_schema(
        request=s.UserCreateSerializer,
        responses={201: s.UserSerializer},
        description="Create a user (admins). Passwords go through Django's "
        "validators and are stored with Argon2.",
    )
    @idempotent
    def create(self, request: Request) -> Response:
        data = s.UserCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        password = fields.pop("password", None)
        if password is not None:
            candidate = User(
                username=fields["username"],
                email=fields["email"],
                full_name=fields.get("full_name"),
            )
            try:
                validate_password(password, candidate)
            except DjangoValidationError as exc:
                raise ValidationError({"password": exc.messages}) from None
        user = services.user_create(password=password, **fields)
        return Response(s.UserSerializer(user).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: s.UserSerializer})
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def me(self, request: Request) -> Response:
        return Response(s.UserSerializer(caller(request)).data)

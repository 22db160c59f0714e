"""The commerce API: thin views over commerce.services and commerce.selectors."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import ErrorDetail, PermissionDenied, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from commerce import selectors, services
from commerce.api import serializers as s
from commerce.api.authentication import caller
from commerce.filters import OrderFilter, ProductFilter, UserFilter
from commerce.models import Order, Product, User
from devskyy.api.idempotency import idempotent
from devskyy.api.pagination import page_size_from
from devskyy.api.preconditions import IF_MATCH, IF_MATCH_SCHEMA, if_match_version, version_etag
from devskyy.api.viewsets import APIViewSet
from devskyy.api.writes import render_before_commit


class ProductPagination(PageNumberPagination):
    """The catalogue is small and sorted many ways: plain pages with a count. A page number past
    the last page is a 404; a malformed one, or a page size out of range, a 400."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request: Request) -> int:
        return page_size_from(
            request,
            param=self.page_size_query_param,
            default=self.page_size,
            maximum=self.max_page_size,
        )

    def get_page_number(self, request: Request, paginator: Any) -> Any:
        raw = request.query_params.get(self.page_query_param)
        if raw is None:
            return 1
        if not (raw.isascii() and raw.isdigit()) or not raw.strip("0"):
            raise ValidationError(
                {self.page_query_param: ["A page number is a whole number of 1 or more."]}
            )
        return raw

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": self.page_query_param,
                "required": False,
                "in": "query",
                "description": "Page number, from 1 (past the last page: a 404).",
                "schema": {"type": "integer", "minimum": 1},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Products per page: 1 to {self.max_page_size} (default "
                f"{self.page_size}); more is a 400 `max_value`.",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
        ]


ETAG_HEADER = OpenApiParameter(
    name="ETag",
    location=OpenApiParameter.HEADER,
    response=[200],
    type=str,
    description='The product\'s `version` as an entity tag, e.g. `"3"`: send it in If-Match to '
    "PATCH.",
)


@extend_schema_view(
    list=extend_schema(
        summary="List products",
        description="The catalogue, sorted by SKU unless `ordering` says otherwise, in "
        "numbered pages with a total `count`. Agents and customers see published products; "
        "operators and admins see drafts and archived ones too.",
    ),
    retrieve=extend_schema(
        summary="Get a product",
        description="One product by id (agents and customers: published products only).",
    ),
)
class ProductViewSet(APIViewSet):
    """The catalogue. Agents see published products; operators see and manage all."""

    queryset = Product.objects.none()  # the model, for the schema; rows: get_queryset
    serializer_class = s.ProductSerializer
    filterset_class = ProductFilter
    pagination_class = ProductPagination
    roles = {"list": User.SHOPPER_ROLES, "retrieve": User.SHOPPER_ROLES, "*": User.STAFF_ROLES}
    extra_error_statuses = {
        "list": (404,),
        "publish": (409,),
        "archive": (409,),
        "adjust_stock": (409,),
        "partial_update": (412, 428),
    }
    STOCK_MOVEMENTS_PAGE_SIZE = 100

    def get_queryset(self) -> Any:
        return selectors.product_list(viewer=caller(self.request)).order_by("sku")

    @extend_schema(
        summary="Get a product",
        description="One product by id (agents and customers: published products only). The "
        "`ETag` header is its `version`: send it back in `If-Match` to change the product.",
        parameters=[ETAG_HEADER],
    )
    def retrieve(self, request: Request, pk: str) -> Response:
        product: Product = self.get_object()
        return Response(
            s.ProductSerializer(product).data, headers={"ETag": version_etag(product.version)}
        )

    @extend_schema(
        summary="Create a product",
        description="Operators and admins. The product starts as a `draft`; publish it to "
        "sell it. `inventory_quantity` is its opening stock (recorded as an `opening` stock "
        "movement). A SKU already taken is a 400 under `sku`.",
        request=s.ProductInputSerializer,
        responses={201: s.ProductSerializer},
    )
    @idempotent
    def create(self, request: Request) -> Response:
        data = s.ProductInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        product = services.product_create(**data.validated_data, by=caller(request))
        return Response(s.ProductSerializer(product).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a product",
        description="Operators and admins: send only the fields to change, with the `ETag` you "
        "read in `If-Match` (missing: 428 `precondition_required`; stale: 412 "
        "`version_mismatch`: GET the product again and redo the change). `inventory_quantity` "
        "and `status` are refused (`read_only`): use adjust-stock, publish and archive.",
        request=s.ProductUpdateSerializer,
        responses={200: s.ProductSerializer},
        parameters=[
            OpenApiParameter(
                name=IF_MATCH,
                location=OpenApiParameter.HEADER,
                required=True,
                type=IF_MATCH_SCHEMA,
                description='The ETag of the product as you read it, e.g. `"3"`.',
            ),
            ETAG_HEADER,
        ],
    )
    @render_before_commit
    def partial_update(self, request: Request, pk: str) -> Response:
        product: Product = self.get_object()
        expected_version = if_match_version(request)
        data = s.ProductUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        product = services.product_update(
            product=product, expected_version=expected_version, **data.validated_data
        )
        return Response(
            s.ProductSerializer(product).data, headers={"ETag": version_etag(product.version)}
        )

    @extend_schema(
        summary="Publish a product",
        description="Operators and admins: put a draft or archived product on sale. Already "
        "published: a 409 `invalid_transition`.",
        request=None,
        responses={200: s.ProductSerializer},
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def publish(self, request: Request, pk: str) -> Response:
        product = services.product_publish(product=self.get_object())
        return Response(s.ProductSerializer(product).data)

    @extend_schema(
        summary="Archive a product",
        description="Operators and admins: take a product off sale; orders already placed "
        "keep it. Already archived: a 409 `invalid_transition`.",
        request=None,
        responses={200: s.ProductSerializer},
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def archive(self, request: Request, pk: str) -> Response:
        product = services.product_archive(product=self.get_object())
        return Response(s.ProductSerializer(product).data)

    @extend_schema(
        summary="Adjust a product's stock",
        request=s.StockAdjustSerializer,
        responses={200: s.ProductSerializer},
        description="Operators and admins. Add (positive `delta`) or remove (negative) units "
        "of stock, with the reason; recorded as an `adjustment` stock movement. Removing more "
        "than is left is a 409 "
        "`insufficient_stock` with `sku`, `requested` and `available`. Does not change "
        "`version`.",
    )
    @action(detail=True, methods=["post"], url_path="adjust-stock")
    @idempotent
    def adjust_stock(self, request: Request, pk: str) -> Response:
        product: Product = self.get_object()
        data = s.StockAdjustSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        product = services.product_stock_adjust(
            product=product, by=caller(request), **data.validated_data
        )
        return Response(s.ProductSerializer(product).data)

    @extend_schema(
        summary="List a product's stock movements",
        parameters=[s.StockMovementQuerySerializer],
        responses={200: s.StockMovementPageSerializer},
        description="Operators and admins. The product's stock ledger, newest first, 100 a "
        "page: every order, cancellation and adjustment with who and why. Their `delta`s add "
        "up to the stock.",
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="stock-movements",
        pagination_class=None,
        filter_backends=[],
    )
    def stock_movements(self, request: Request, pk: str) -> Response:
        product: Product = self.get_object()
        query = s.StockMovementQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        size = self.STOCK_MOVEMENTS_PAGE_SIZE
        movements = list(
            selectors.stock_movement_list(product=product, **query.validated_data)[: size + 1]
        )
        next_url = None
        if len(movements) > size:
            movements = movements[:size]
            url = reverse("product-stock-movements", args=[product.pk], request=request)
            next_url = f"{url}?before={movements[-1].id}"
        return Response(
            {"results": s.StockMovementSerializer(movements, many=True).data, "next": next_url}
        )


@extend_schema_view(
    list=extend_schema(
        summary="List orders",
        description="Newest first, with cursor pagination. Agents and customers see the "
        "orders they placed; operators and admins see all and may filter by `user`.",
    ),
    retrieve=extend_schema(
        summary="Get an order",
        description="One order with its lines and totals (agents and customers: their own).",
    ),
)
class OrderViewSet(APIViewSet):
    """Orders: customers and agents place and see their own; operators see and run all."""

    queryset = Order.objects.none()
    serializer_class = s.OrderSerializer
    filterset_class = OrderFilter
    roles = {
        "list": User.SHOPPER_ROLES,
        "retrieve": User.SHOPPER_ROLES,
        "create": User.SHOPPER_ROLES,
        "cancel": User.SHOPPER_ROLES,
        "events": User.SHOPPER_ROLES,
        "process": User.STAFF_ROLES,
        "complete": User.STAFF_ROLES,
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
        summary="Place an order",
        request=s.StaffOrderPlaceSerializer,
        responses={201: s.OrderSerializer},
        description="Stock is checked and taken in one transaction, at the current prices. "
        "Out of stock is a 409 `insufficient_stock` naming the SKU and what is left; a SKU "
        "that is not for sale, or the same SKU twice, is a 400 under `items`. The order is "
        "yours; operators and admins may set `user` (another customer, or null for a guest "
        "order), and anyone else who sends `user` gets a 403 `permission_denied`.",
    )
    @idempotent
    def create(self, request: Request) -> Response:
        user = caller(request)
        staff = user.is_staff
        if not staff and isinstance(request.data, dict) and "user" in request.data:
            raise PermissionDenied("Only operators and admins may place an order for someone else.")
        data = (s.StaffOrderPlaceSerializer if staff else s.OrderPlaceSerializer)(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        customer: User | None = user
        if staff and "user" in fields:
            customer = (
                None if fields["user"] is None else (User.objects.filter(pk=fields["user"]).first())
            )
            if fields["user"] is not None and customer is None:
                raise ValidationError(
                    {"user": [ErrorDetail("No such user.", code="does_not_exist")]}
                )
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
        summary="Cancel an order",
        request=s.OrderTransitionSerializer,
        responses={200: s.OrderSerializer},
        description="Cancel and put the stock back. Operators and admins cancel pending or "
        "processing orders; an order's owner cancels it while it is pending (a 403 after). "
        "Any other state: a 409 `invalid_transition`.",
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def cancel(self, request: Request, pk: str) -> Response:
        return self._transition(request, services.order_cancel)

    @extend_schema(
        summary="Start processing an order",
        description="Operators and admins: a pending order becomes `processing`. Any other "
        "state: a 409 `invalid_transition`.",
        request=s.OrderTransitionSerializer,
        responses={200: s.OrderSerializer},
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def process(self, request: Request, pk: str) -> Response:
        return self._transition(request, services.order_mark_processing)

    @extend_schema(
        summary="Complete an order",
        description="Operators and admins: a processing order becomes `completed`. Any other "
        "state: a 409 `invalid_transition`.",
        request=s.OrderTransitionSerializer,
        responses={200: s.OrderSerializer},
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def complete(self, request: Request, pk: str) -> Response:
        return self._transition(request, services.order_complete)

    @extend_schema(
        summary="An order's history",
        description="Every status change of the order, oldest first: from, to, by whom, why.",
        responses={200: s.OrderEventSerializer(many=True)},
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def events(self, request: Request, pk: str) -> Response:
        events = selectors.order_event_list(order=self.get_object())
        return Response(s.OrderEventSerializer(events, many=True).data)


@extend_schema_view(
    list=extend_schema(
        summary="List accounts",
        description="Admins only. Newest first, with cursor pagination.",
    ),
    retrieve=extend_schema(summary="Get an account", description="Admins only: one account by id."),
)
class UserViewSet(APIViewSet):
    """Accounts: admins only, except ``users/me/``."""

    queryset = User.objects.none()
    serializer_class = s.UserSerializer
    filterset_class = UserFilter
    roles = {
        "list": User.ADMIN_ROLES,
        "retrieve": User.ADMIN_ROLES,
        "create": User.ADMIN_ROLES,
        "me": User.SHOPPER_ROLES,
    }

    def get_queryset(self) -> Any:
        return selectors.user_list()

    @extend_schema(
        summary="Create an account",
        request=s.UserCreateSerializer,
        responses={201: s.UserSerializer},
        description="Admins only. A password must pass the password rules (length, not "
        "common, not like the username or email, not all digits): else a 400 under "
        "`password`. A username or email already taken is a 400 (or a 409 if another request "
        "took it at the same moment). Without a password the account can only use API keys.",
    )
    @idempotent
    def create(self, request: Request) -> Response:
        data = s.UserCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        user = services.user_create(password=fields.pop("password", None), **fields)
        return Response(s.UserSerializer(user).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Who am I",
        description="The account your API key (or session) belongs to, with its `role`.",
        responses={200: s.UserSerializer},
    )
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def me(self, request: Request) -> Response:
        return Response(s.UserSerializer(caller(request)).data)

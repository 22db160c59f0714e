from __future__ import annotations

import contextlib
import copy
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.exceptions import NotRegistered
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import (
    AdminUserCreationForm,
    ReadOnlyPasswordHashWidget,
    UserChangeForm,
)
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from rest_framework_api_key.models import APIKey as LibraryAPIKey

from commerce import selectors, services
from commerce.errors import InsufficientStock
from commerce.models import (
    Order,
    OrderEvent,
    OrderLine,
    Product,
    StockMovement,
    User,
    UserAPIKey,
)
from commerce.money import money_display
from commerce.services.products import PRODUCT_EDITABLE_FIELDS
from commerce.services.stock import MAX_REASON_LENGTH, MAX_STOCK
from devskyy import json_codec
from devskyy.admin import (
    BigTableMixin,
    DeclaredFiltersOnlyAdmin,
    NoHistoryMixin,
    ObjectAction,
    ObjectActionsMixin,
    ReadOnlyAuditAdmin,
    ServiceRefused,
    ServiceWrittenAdminMixin,
    TimestampsReadOnlyMixin,
    VersionedForm,
    pretty_json,
    status_badge,
)
from devskyy.errors import DomainError, VersionMismatch


class UserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("username", "email", "role")


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = (
            "username",
            "password",
            "email",
            "full_name",
            "metadata",
            "role",
            "is_active",
            "is_verified",
        )


class PasswordSummaryWidget(ReadOnlyPasswordHashWidget):
    """The password's summary without the button to change it."""

    template_name = "admin/commerce/user/password_summary.html"


@admin.register(User)
class UserAdmin(DeclaredFiltersOnlyAdmin, DjangoUserAdmin):
    """Operators see users and create customers and agents; only admins create staff, change
    or delete accounts (``User.has_perm``)."""

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and not _staff(request).is_superuser:
            return False  # operators view existing accounts; admins edit them
        return super().has_change_permission(request, obj)

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is None and not _staff(request).is_superuser:
            allowed = User.OPERATOR_CREATABLE_ROLES
            role = form.base_fields["role"]
            role.choices = [c for c in role.choices if c[0] in allowed]  # type: ignore[attr-defined]
        if obj is not None and not self.has_change_permission(request, obj):
            # The password page is the account's change permission's (a 403 otherwise): no
            # button to it. The field is the form class's own, shared: change a copy.
            password = copy.deepcopy(form.base_fields["password"])
            password.widget = PasswordSummaryWidget()
            form.base_fields["password"] = password
        return form

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        # A new account goes through the service, like one made by the API or a command (the
        # form has already run the same password validators, so errors show on the form).
        usable = form.cleaned_data.get("usable_password") not in (False, "false")
        created = services.user_create(
            username=obj.username,
            email=obj.email,
            role=obj.role,
            password=form.cleaned_data.get("password1") if usable else None,
        )
        obj.pk, obj.password = created.pk, created.password
        obj._state.adding = False

    form = UserEditForm
    add_form = UserCreationForm
    list_display = (
        "username",
        "email",
        "full_name",
        "role",
        "is_active",
        "is_verified",
        "last_login",
        "created_at",
    )
    list_filter = ("role", "is_active", "is_verified")
    search_fields = ("username", "email", "full_name")
    ordering = ("username",)
    # Sortable only where an index serves the whole ORDER BY (column, ordering, pk) both ways;
    # other columns have filters instead (tests/test_admin_index_served.py).
    sortable_by = ("username", "email")
    readonly_fields = ("last_login", "created_at", "updated_at", "records")
    filter_horizontal = ()
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Profile", {"fields": ("email", "full_name", "metadata")}),
        ("Access", {"fields": ("role", "is_active", "is_verified")}),
        ("Their records", {"fields": ("records",)}),
        ("Dates", {"fields": ("last_login", "created_at", "updated_at")}),
    )
    # The lists a user's page links to, each filtered to the user (``?user__id__exact=``).
    RECORD_LISTS = (
        ("commerce", "order", "orders"),
        ("commerce", "userapikey", "API keys"),
        ("agents_audit", "toolexecution", "tool calls"),
    )

    @admin.display(description="records")
    def records(self, user: User) -> str:
        if user.pk is None:
            return "-"
        return format_html_join(
            " · ",
            '<a href="{}?user__id__exact={}">{}</a>',
            (
                (reverse(f"admin:{app}_{model}_changelist"), user.pk, label)
                for app, model, label in self.RECORD_LISTS
            ),
        )

    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "username",
                    "email",
                    "role",
                    "usable_password",
                    "password1",
                    "password2",
                ),
            },
        ),
    )


def money(amount: Decimal | None) -> str:
    return money_display(amount)


def _amount(value: Any) -> str:
    """An amount kept as text in an order's metadata (``"12.50"``), in the money format; what no
    amount reads as (a raw SQL writer's value) shown as it is."""
    if value is None:
        return "-"
    try:
        return money(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return str(value)


# An address's usual parts, in the order a label prints them; parts on one line are joined.
ADDRESS_LINES: tuple[tuple[str, ...], ...] = (
    ("name", "full_name"),
    ("company",),
    ("line1", "address1", "address_line1", "street", "address"),
    ("line2", "address2", "address_line2"),
    ("postal_code", "zip", "city", "state", "region"),
    ("country",),
    ("phone",),
)


def address_block(value: Any) -> str:
    """A shipping address (an order's ``metadata.shipping_address``, a JSON object of any keys)
    as an address: its usual parts line by line, any other key as ``key: value``; what is no
    object at all as JSON."""
    if not value:
        return "-"
    if not isinstance(value, dict):
        return pretty_json(value)

    def text(part: Any) -> str:
        return part if isinstance(part, str) else json_codec.dumps(part, default=str).decode()

    known = {key for keys in ADDRESS_LINES for key in keys}
    lines = [
        " ".join(text(value[key]) for key in keys if value.get(key) not in (None, ""))
        for keys in ADDRESS_LINES
    ]
    lines += [f"{key}: {text(part)}" for key, part in value.items() if key not in known]
    return format_html(
        '<address class="shipping-address">{}</address>',
        format_html_join(mark_safe("<br>"), "{}", ((line,) for line in lines if line)),
    )


class LowStockFilter(admin.SimpleListFilter):
    title = "stock"
    parameter_name = "stock"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        return [("out", "Out of stock"), ("low", f"Low (≤ {settings.COMMERCE_LOW_STOCK})")]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        if self.value() == "out":
            return queryset.filter(inventory_quantity=0)
        if self.value() == "low":
            return queryset.filter(inventory_quantity__lte=settings.COMMERCE_LOW_STOCK)
        return queryset


def _staff(request: HttpRequest) -> User:
    if not isinstance(request.user, User):  # the admin requires a staff login
        raise PermissionDenied
    return request.user


def _run_service(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: Any,
    service: Any,
    label: str,
    **kwargs: Any,
) -> None:
    """Apply a service to each selected row; domain errors are reported, never raised."""
    done = 0
    for obj in queryset:
        try:
            service(obj, **kwargs)
            done += 1
        except (DomainError, ValidationError, PermissionDenied) as exc:
            detail = "; ".join(_messages(exc))
            model_admin.message_user(request, f"{obj}: {detail}", level=messages.ERROR)
    if done:
        model_admin.message_user(request, f"{label}: {done} done.")


STALE_FORM_MESSAGE = (
    "This product was changed by someone else since you opened it; reload the page to see "
    "their changes, then make yours again. Nothing was saved."
)


class ProductForm(VersionedForm):
    """The product form: on the change page it carries the version it was opened at."""

    class Meta:
        model = Product
        fields = ("sku", "name", "price", "description", "category", "tags", "metadata")
        labels = {"inventory_quantity": "Opening stock"}
        help_texts = {
            "inventory_quantity": "Units on hand now; later changes go through Adjust stock.",
        }


class StockAdjustForm(forms.Form):
    delta = forms.IntegerField(
        min_value=-MAX_STOCK,
        max_value=MAX_STOCK,
        help_text="Units to add (positive, e.g. a delivery) or remove (negative, e.g. breakage).",
    )
    reason = forms.CharField(
        max_length=MAX_REASON_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why; kept in the stock ledger with your name.",
    )

    def clean_delta(self) -> int:
        delta: int = self.cleaned_data["delta"]
        if delta == 0:
            raise forms.ValidationError("Not zero: positive adds, negative removes.")
        return delta


def _refusal(exc: Exception) -> dict[str | None, list[str]]:
    if isinstance(exc, VersionMismatch):
        return {None: [STALE_FORM_MESSAGE]}
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        return {None if k == "__all__" else k: v for k, v in exc.message_dict.items()}
    if isinstance(exc, ValidationError):
        return {None: exc.messages}
    return {None: ["This conflicts with existing data (e.g. the SKU was just taken)."]}


@admin.register(Product)
class ProductAdmin(
    ObjectActionsMixin, ServiceWrittenAdminMixin, TimestampsReadOnlyMixin, DeclaredFiltersOnlyAdmin
):
    """Products are written through the services, like the API does.

    - Add: ``product_create``; the stock typed here is the opening stock (an ``opening``
      movement).
    - Change: ``product_update`` with the version the form was opened at; if someone changed the
      product since, nothing is saved and the form says so. Stock and status are read-only here:
      stock moves with "Adjust stock" (``product_stock_adjust``), status with the publish/archive
      actions. A form opened before orders were placed therefore never puts sold units back.
    """

    form = ProductForm
    list_display = (
        "sku",
        "name",
        "category",
        "price_display",
        "inventory_quantity",
        "status",
        "updated_at",
    )
    list_filter = ("status", LowStockFilter, "category")
    search_fields = ("sku", "name", "description")
    ordering = ("sku",)
    # Sortable only where an index serves the whole ORDER BY (column, ordering, pk) both ways;
    # other columns have filters instead (tests/test_admin_index_served.py).
    sortable_by = ("sku",)
    actions = ["publish", "archive"]
    object_actions = (
        ObjectAction(
            name="publish",
            label="Publish",
            run=lambda product, user, data: services.product_publish(product=product),
            allowed=lambda product, user: product.can_transition_to(Product.Status.PUBLISHED),
            question="Publish {obj}? It shows in the catalogue and can be ordered.",
            done="Published {obj}.",
        ),
        ObjectAction(
            name="archive",
            label="Archive",
            run=lambda product, user, data: services.product_archive(product=product),
            allowed=lambda product, user: product.can_transition_to(Product.Status.ARCHIVED),
            question="Archive {obj}? It leaves the catalogue; its orders keep it.",
            done="Archived {obj}.",
            dangerous=True,
        ),
    )
    change_form_template = "admin/commerce/product/change_form.html"
    RECENT_MOVEMENTS = 10

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Archive instead. A product that was ever sold stays (its order lines would lose it),
        # and there is no bulk delete (it cannot tell sold from unsold): only an unsold
        # product's own page offers Delete (a mistake caught before anyone bought it).
        if obj is None or obj.order_lines.exists():
            return False
        return super().has_delete_permission(request, obj)

    add_fieldsets = (
        (None, {"fields": ("sku", "name", "price", "inventory_quantity")}),
        ("Description", {"fields": ("description", "category", "tags", "metadata")}),
    )
    change_fieldsets = (
        (None, {"fields": ("sku", "name", "price", "version")}),
        ("Description", {"fields": ("description", "category", "tags", "metadata")}),
        ("Stock and status", {"fields": ("inventory_quantity", "status", "recent_movements")}),
        ("Dates", {"fields": ("created_at", "updated_at")}),
    )

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.add_fieldsets if obj is None else self.change_fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        readonly = tuple(super().get_readonly_fields(request, obj))
        if obj is None:
            return readonly
        return ("inventory_quantity", "status", "recent_movements", *readonly)

    def save_model(self, request: HttpRequest, obj: Product, form: Any, change: bool) -> None:
        data = form.cleaned_data
        try:
            if change:
                services.product_update(
                    product=obj,
                    expected_version=data["version"],
                    **{n: data[n] for n in form.changed_data if n in PRODUCT_EDITABLE_FIELDS},
                )
            else:
                created = services.product_create(
                    **{n: data[n] for n in self.add_fieldsets_fields() if n in data},
                    by=_staff(request),
                )
                obj.pk = created.pk
                obj._state.adding = False
        except (VersionMismatch, ValidationError, IntegrityError) as exc:
            raise ServiceRefused(_refusal(exc)) from exc
        obj.refresh_from_db()

    def add_fieldsets_fields(self) -> list[str]:
        return [name for _, options in self.add_fieldsets for name in options["fields"]]

    @admin.display(description="price", ordering="price")
    def price_display(self, obj: Product) -> str:
        return money(obj.price)

    @admin.display(description="recent stock movements")
    def recent_movements(self, obj: Product) -> str:
        movements = list(
            obj.stock_movements.select_related("order", "actor").order_by("-id")[
                : self.RECENT_MOVEMENTS
            ]
        )
        if not movements:
            return "None yet."
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    m.created_at.strftime("%Y-%m-%d %H:%M"),
                    f"{m.delta:+d}",
                    m.get_kind_display(),
                    m.reason,
                    m.actor or "-",
                )
                for m in movements
            ),
        )
        everything = reverse("admin:commerce_stockmovement_changelist")
        return format_html(
            "<table><thead><tr><th>when</th><th>delta</th><th>kind</th><th>reason</th>"
            "<th>by</th></tr></thead><tbody>{}</tbody></table>"
            '<p><a href="{}?product__id__exact={}">All movements of this product</a></p>',
            rows,
            everything,
            obj.pk,
        )

    def get_urls(self) -> list[URLPattern]:
        adjust = path(
            "<path:object_id>/adjust-stock/",
            self.admin_site.admin_view(self.adjust_stock_view),
            name="commerce_product_adjust_stock",
        )
        return [adjust, *super().get_urls()]

    def adjust_stock_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Add or remove units with a reason, through ``product_stock_adjust``."""
        product = self.get_object(request, unquote(object_id))
        if product is None:
            return self._get_obj_does_not_exist_redirect(  # type: ignore[attr-defined]
                request, self.opts, object_id
            )
        if not self.has_change_permission(request, product):
            raise PermissionDenied
        form = StockAdjustForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            try:
                product = services.product_stock_adjust(
                    product=product, by=_staff(request), **form.cleaned_data
                )
            except InsufficientStock as exc:
                form.add_error("delta", str(exc))
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                self.message_user(
                    request,
                    f"Stock of {product.sku}: {form.cleaned_data['delta']:+d}, "
                    f"now {product.inventory_quantity}.",
                )
                return HttpResponseRedirect(
                    reverse("admin:commerce_product_change", args=[product.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "title": "Adjust stock",
            "subtitle": str(product),
            "opts": self.opts,
            "original": product,
            "form": form,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/commerce/product/adjust_stock.html", context)

    @admin.action(description="Publish selected products")
    def publish(self, request: HttpRequest, queryset: Any) -> None:
        _run_service(
            self, request, queryset, lambda p: services.product_publish(product=p), "Published"
        )

    @admin.action(description="Archive selected products")
    def archive(self, request: HttpRequest, queryset: Any) -> None:
        _run_service(
            self, request, queryset, lambda p: services.product_archive(product=p), "Archived"
        )


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAuditAdmin):
    """The stock ledger: written by the services only (and append-only in the database)."""

    list_display = ("id", "created_at", "product", "delta", "kind", "reason", "order", "actor")
    list_filter = ("kind",)
    extra_filter_lookups = ("product",)  # the product page's "All movements of this product"
    list_select_related = ("product", "order", "actor")
    search_fields = ("=product__sku",)
    ordering = ("-id",)
    # Sortable only where an index serves the whole ORDER BY (column, ordering, pk) both ways;
    # other columns have filters instead (tests/test_admin_index_served.py).
    sortable_by = ("id",)


class OrderCancelForm(forms.Form):
    reason = forms.CharField(
        max_length=MAX_REASON_LENGTH,
        initial="cancelled in the admin",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Kept in the order's history.",
    )


ORDER_ROWS_SHOWN = 100  # an order's lines and events on its page; the rest are counted


class FirstRowsFormSet(BaseInlineFormSet):
    """A read-only inline that shows the first ``ORDER_ROWS_SHOWN`` rows: an order with a
    thousand lines would otherwise render two thousand form widgets (about a second)."""

    def get_queryset(self) -> Any:
        if not hasattr(self, "_first_rows"):  # one query: each form takes its row from it
            self._first_rows = super().get_queryset()[:ORDER_ROWS_SHOWN]
        return self._first_rows


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    formset = FirstRowsFormSet
    extra = 0
    can_delete = False
    fields = ("sku", "name", "unit_price_display", "quantity", "line_total_display", "product")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).select_related("product")  # one query, any lines

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="unit price")
    def unit_price_display(self, line: OrderLine) -> str:
        return money(line.unit_price)

    @admin.display(description="line total")
    def line_total_display(self, line: OrderLine) -> str:
        return money(line.line_total)


class OrderEventInline(admin.TabularInline):
    model = OrderEvent
    formset = FirstRowsFormSet
    extra = 0
    can_delete = False
    fields = ("created_at", "from_status", "to_status", "actor", "reason")
    readonly_fields = fields
    ordering = ("id",)

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).select_related("actor")  # one query, any events

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Order)
class OrderAdmin(
    ObjectActionsMixin,
    BigTableMixin,
    NoHistoryMixin,
    TimestampsReadOnlyMixin,
    DeclaredFiltersOnlyAdmin,
):
    """Orders are placed through the API (or order_place); here they move through their states
    with the actions, which call the same services (locks, events, restock)."""

    list_display = (
        "order_number",
        "user",
        "status_column",
        "subtotal_display",
        "total_display",
        "created_at",
    )
    list_filter = ("status",)
    extra_filter_lookups = ("user",)  # the user page's links to their records
    list_select_related = ("user",)
    search_fields = ("=order_number", "user__username", "user__email")
    raw_id_fields = ("user",)
    ordering = ("-created_at", "-id")
    # Sortable only where an index serves the whole ORDER BY (column, ordering, pk) both ways;
    # other columns have filters instead (tests/test_admin_index_served.py).
    sortable_by = ("order_number", "created_at")
    inlines = [OrderLineInline, OrderEventInline]
    fieldsets = (
        (None, {"fields": ("order_number", "user", "status_column", "size")}),
        (
            "Amounts",
            {"fields": ("subtotal_display", "tax_display", "shipping_display", "total_display")},
        ),
        ("Shipping and payment", {"fields": ("shipping_address", "payment_method")}),
        ("Metadata", {"fields": ("metadata_display",)}),
        ("Dates", {"fields": ("created_at", "updated_at")}),
    )
    readonly_fields = (
        "order_number",
        "user",
        "status_column",
        "size",
        "subtotal_display",
        "tax_display",
        "shipping_display",
        "total_display",
        "shipping_address",
        "payment_method",
        "metadata_display",
    )
    actions = ["mark_processing", "complete", "cancel"]
    object_actions = (
        ObjectAction(
            name="mark_processing",
            label="Mark processing",
            run=lambda order, user, data: services.order_mark_processing(order=order, by=user),
            allowed=lambda order, user: order.can_transition_to(Order.Status.PROCESSING),
            question="Mark order {obj} processing (payment received)?",
            done="Order {obj} is processing.",
        ),
        ObjectAction(
            name="complete",
            label="Complete",
            run=lambda order, user, data: services.order_complete(order=order, by=user),
            allowed=lambda order, user: order.can_transition_to(Order.Status.COMPLETED),
            question="Complete order {obj} (shipped or delivered)?",
            done="Order {obj} is completed.",
        ),
        ObjectAction(
            name="cancel",
            label="Cancel order",
            run=lambda order, user, data: services.order_cancel(
                order=order, by=user, reason=data["reason"]
            ),
            allowed=lambda order, user: order.can_transition_to(Order.Status.CANCELLED),
            question="Cancel order {obj}? Every line's quantity goes back in stock.",
            done="Order {obj} is cancelled; its stock went back.",
            form=OrderCancelForm,
            dangerous=True,
        ),
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # placing an order takes stock: that is order_place's job (the API)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Nothing on an order's page is editable, and saving it wrote back every column as read
        # at the start of the request (undoing a cancel committed meanwhile): the page is
        # view-only; the changelist's actions change orders, through the services.
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # cancel instead: a deleted pending order would keep its stock for good

    @admin.display(description="subtotal", ordering="subtotal")
    def subtotal_display(self, obj: Order) -> str:
        return money(obj.subtotal)

    @admin.display(description="total", ordering="total_price")
    def total_display(self, obj: Order) -> str:
        return money(obj.total_price)

    @admin.display(description="status", ordering="status")
    def status_column(self, obj: Order) -> str:
        return status_badge(obj.status, obj.get_status_display())

    @admin.display(description="size")
    def size(self, obj: Order) -> str:
        """How many lines and events the order has, and whether the tables below show them
        all (one query: both counts on their foreign-key indexes)."""
        lines, events = selectors.order_line_and_event_counts(order=obj)
        parts = []
        for name, count in (("line", lines), ("event", events)):
            text = f"{count:,} {name}{'' if count == 1 else 's'}"
            if count > ORDER_ROWS_SHOWN:
                text += f" (the first {ORDER_ROWS_SHOWN} shown below)"
            parts.append(text)
        return ", ".join(parts)

    @admin.display(description="tax")
    def tax_display(self, obj: Order) -> str:
        return _amount(_metadata(obj).get("tax"))

    @admin.display(description="shipping")
    def shipping_display(self, obj: Order) -> str:
        return _amount(_metadata(obj).get("shipping"))

    @admin.display(description="shipping address")
    def shipping_address(self, obj: Order) -> str:
        return address_block(_metadata(obj).get("shipping_address"))

    @admin.display(description="payment method")
    def payment_method(self, obj: Order) -> str:
        return str(_metadata(obj).get("payment_method") or "-")

    @admin.display(description="metadata")
    def metadata_display(self, obj: Order) -> str:
        return pretty_json(obj.metadata)

    @admin.action(description="Mark selected orders processing")
    def mark_processing(self, request: HttpRequest, queryset: Any) -> None:
        _run_service(
            self,
            request,
            queryset,
            lambda o: services.order_mark_processing(order=o, by=_staff(request)),
            "Marked processing",
        )

    @admin.action(description="Complete selected orders")
    def complete(self, request: HttpRequest, queryset: Any) -> None:
        _run_service(
            self,
            request,
            queryset,
            lambda o: services.order_complete(order=o, by=_staff(request)),
            "Completed",
        )

    @admin.action(description="Cancel selected orders (stock goes back)")
    def cancel(self, request: HttpRequest, queryset: Any) -> None:
        _run_service(
            self,
            request,
            queryset,
            lambda o: services.order_cancel(
                order=o, by=_staff(request), reason="cancelled in the admin"
            ),
            "Cancelled",
        )


def _metadata(order: Order) -> dict[str, Any]:
    return order.metadata if isinstance(order.metadata, dict) else {}


# The library registers its own (unused) APIKey model; devskyy's keys are UserAPIKey.
with contextlib.suppress(NotRegistered):
    admin.site.unregister(LibraryAPIKey)


class UserAPIKeyAddForm(forms.ModelForm):
    class Meta:
        model = UserAPIKey
        fields = ("user", "name", "expiry_date")


@admin.register(UserAPIKey)
class UserAPIKeyAdmin(DeclaredFiltersOnlyAdmin):
    """Create keys (the key is shown once, in the confirmation message) and revoke them.

    Keys are created and revoked through commerce.services, which enforce who may grant what:
    operators create keys for agents and for themselves, admins for anyone with API access.
    """

    list_display = ("name", "prefix", "user", "created", "expiry_date", "_has_expired", "revoked")
    list_filter = ("revoked",)
    extra_filter_lookups = ("user",)  # the user page's links to their records
    list_select_related = ("user",)
    search_fields = ("name", "=prefix", "user__username")
    raw_id_fields = ("user",)
    # Sortable only where an index serves the whole ORDER BY (column, ordering, pk) both ways;
    # other columns have filters instead (tests/test_admin_index_served.py).
    sortable_by = ("prefix", "created")
    ordering = ("-created",)  # newest first, also when ?o= names a column not sortable
    actions = ["revoke_selected"]

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is None:
            kwargs["form"] = UserAPIKeyAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ("prefix", "created")
        return ("user", "name", "prefix", "created", "expiry_date", "revoked")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # revoke instead: the audit of who had access stays

    def save_model(self, request: HttpRequest, obj: UserAPIKey, form: Any, change: bool) -> None:
        if change:
            return
        try:
            api_key, key = services.api_key_create(
                user=obj.user,
                name=obj.name,
                expires_at=obj.expiry_date,
                created_by=_staff(request),
            )
        except (ValidationError, PermissionDenied) as exc:
            raise _AdminServiceError(exc) from exc
        obj.pk, obj.prefix, obj.created = api_key.pk, api_key.prefix, api_key.created
        obj._state.adding = False
        self.message_user(
            request,
            f"The API key for {obj.user} is: {key} . Copy it now: it is stored hashed and "
            "cannot be shown again.",
            level=messages.WARNING,
        )

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        try:
            return super().add_view(request, form_url, extra_context)
        except _AdminServiceError as exc:
            self.message_user(request, "; ".join(_messages(exc.__cause__)), level=messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    @admin.action(description="Revoke selected API keys")
    def revoke_selected(self, request: HttpRequest, queryset: Any) -> None:
        revoked = 0
        for api_key in queryset.select_related("user"):
            try:
                services.api_key_revoke(api_key=api_key, revoked_by=_staff(request))
                revoked += 1
            except (ValidationError, PermissionDenied) as exc:
                self.message_user(
                    request, f"{api_key}: {'; '.join(_messages(exc))}", level=messages.ERROR
                )
        if revoked:
            self.message_user(request, f"Revoked {revoked} API key(s).")


class _AdminServiceError(Exception):
    pass


def _messages(exc: BaseException | None) -> list[str]:
    if isinstance(exc, ValidationError):
        return exc.messages
    if isinstance(exc, DomainError):
        return [exc.message]
    return [str(exc) or "Not allowed."]

from __future__ import annotations

import contextlib
from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.exceptions import NotRegistered
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from rest_framework_api_key.models import APIKey as LibraryAPIKey

from commerce import services
from commerce.models import Order, OrderEvent, OrderLine, Product, User, UserAPIKey
from devskyy.admin import BoundedCountPaginator, TimestampsReadOnlyMixin
from devskyy.errors import DomainError


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


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
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
    readonly_fields = ("last_login", "created_at", "updated_at")
    filter_horizontal = ()
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Profile", {"fields": ("email", "full_name", "metadata")}),
        ("Access", {"fields": ("role", "is_active", "is_verified")}),
        ("Dates", {"fields": ("last_login", "created_at", "updated_at")}),
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
    if amount is None:
        return "-"
    return f"{amount:,.2f} {settings.COMMERCE_CURRENCY}"


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


@admin.register(Product)
class ProductAdmin(TimestampsReadOnlyMixin, admin.ModelAdmin):
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
    actions = ["publish", "archive"]

    @admin.display(description="price", ordering="price")
    def price_display(self, obj: Product) -> str:
        return money(obj.price)

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


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    can_delete = False
    fields = ("sku", "name", "unit_price", "quantity", "line_total", "product")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class OrderEventInline(admin.TabularInline):
    model = OrderEvent
    extra = 0
    can_delete = False
    fields = ("created_at", "from_status", "to_status", "actor", "reason")
    readonly_fields = fields
    ordering = ("id",)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Order)
class OrderAdmin(TimestampsReadOnlyMixin, admin.ModelAdmin):
    """Orders are placed through the API (or order_place); here they move through their states
    with the actions, which call the same services (locks, events, restock)."""

    list_display = (
        "order_number",
        "user",
        "status",
        "subtotal_display",
        "total_display",
        "created_at",
    )
    list_filter = ("status",)
    list_select_related = ("user",)
    search_fields = ("=order_number", "user__username", "user__email")
    raw_id_fields = ("user",)
    ordering = ("-created_at", "-id")
    paginator = BoundedCountPaginator
    show_full_result_count = False
    inlines = [OrderLineInline, OrderEventInline]
    readonly_fields = ("order_number", "user", "status", "subtotal", "total_price", "metadata")
    actions = ["mark_processing", "complete", "cancel"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # placing an order takes stock: that is order_place's job (the API)

    @admin.display(description="subtotal", ordering="subtotal")
    def subtotal_display(self, obj: Order) -> str:
        return money(obj.subtotal)

    @admin.display(description="total", ordering="total_price")
    def total_display(self, obj: Order) -> str:
        return money(obj.total_price)

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


# The library registers its own (unused) APIKey model; devskyy's keys are UserAPIKey.
with contextlib.suppress(NotRegistered):
    admin.site.unregister(LibraryAPIKey)


class UserAPIKeyAddForm(forms.ModelForm):
    class Meta:
        model = UserAPIKey
        fields = ("user", "name", "expiry_date")


@admin.register(UserAPIKey)
class UserAPIKeyAdmin(admin.ModelAdmin):
    """Create keys (the key is shown once, in the confirmation message) and revoke them.

    Keys are created and revoked through commerce.services, which enforce who may grant what:
    operators create keys for agents and for themselves, admins for anyone with API access.
    """

    list_display = ("name", "prefix", "user", "created", "expiry_date", "_has_expired", "revoked")
    list_filter = ("revoked",)
    list_select_related = ("user",)
    search_fields = ("name", "=prefix", "user__username")
    raw_id_fields = ("user",)
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

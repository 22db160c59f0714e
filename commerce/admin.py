from __future__ import annotations

import contextlib
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.exceptions import NotRegistered
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from rest_framework_api_key.models import APIKey as LibraryAPIKey

from commerce import services
from commerce.models import Order, Product, User, UserAPIKey
from devskyy.admin import BoundedCountPaginator, TimestampsReadOnlyMixin


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
    """Operators see users; only admins add, change or delete them (``User.has_perm``)."""

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


@admin.register(Product)
class ProductAdmin(TimestampsReadOnlyMixin, admin.ModelAdmin):
    list_display = (
        "sku",
        "name",
        "category",
        "price",
        "inventory_quantity",
        "status",
        "updated_at",
    )
    list_filter = ("status", "category")
    search_fields = ("sku", "name", "description")
    ordering = ("sku",)


@admin.register(Order)
class OrderAdmin(TimestampsReadOnlyMixin, admin.ModelAdmin):
    list_display = ("order_number", "user", "status", "subtotal", "total_price", "created_at")
    list_filter = ("status",)
    list_select_related = ("user",)
    search_fields = ("order_number", "user__username", "user__email")
    raw_id_fields = ("user",)
    ordering = ("-created_at", "-id")
    paginator = BoundedCountPaginator
    show_full_result_count = False


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
                created_by=request.user,  # type: ignore[arg-type]
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
                services.api_key_revoke(api_key=api_key, revoked_by=request.user)  # type: ignore[arg-type]
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
    return [str(exc) or "Not allowed."]

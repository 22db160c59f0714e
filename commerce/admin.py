from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm

from commerce.models import Order, Product, User
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

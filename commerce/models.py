"""Users, products and orders: seed 001's ``users``, ``products`` and ``orders`` tables."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.hashers import acheck_password, check_password
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper
from rest_framework_api_key.models import AbstractAPIKey

from commerce.hashers import as_django_encoded
from devskyy.models import CreatedAtModel, DatabaseNow, TimestampedModel, metadata_field


class UserRole(models.TextChoices):
    CUSTOMER = "customer", "Customer"
    AGENT = "agent", "AI agent"
    OPERATOR = "operator", "Operator"
    ADMIN = "admin", "Administrator"


class ProductStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"
    ARCHIVED = "archived", "Archived"


class StockMovementKind(models.TextChoices):
    OPENING = "opening", "Opening stock"
    ORDER_PLACED = "order_placed", "Order placed"
    ORDER_CANCELLED = "order_cancelled", "Order cancelled"
    ADJUSTMENT = "adjustment", "Adjustment"


class OrderStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    PROCESSING = "processing", "Processing"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(
        self, username: str, email: str, password: str | None, **extra_fields: Any
    ) -> User:
        if not username:
            raise ValueError("username is required")
        if not email:
            raise ValueError("email is required")
        user = self.model(username=username, email=self.normalize_email(email), **extra_fields)
        user.set_password(password)  # None gives an unusable password
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_user(
        self, username: str, email: str, password: str | None = None, **extra_fields: Any
    ) -> User:
        extra_fields.setdefault("role", User.Role.CUSTOMER)
        return self._create_user(username, email, password, **extra_fields)

    def create_superuser(
        self, username: str, email: str, password: str | None = None, **extra_fields: Any
    ) -> User:
        extra_fields["role"] = User.Role.ADMIN
        if password is not None:
            # ``createsuperuser --noinput`` takes DJANGO_SUPERUSER_PASSWORD unchecked (and its
            # prompt offers a bypass): an admin's password follows everyone's rules (user_create).
            validate_password(password, self.model(username=username, email=email, **extra_fields))
        return self._create_user(username, email, password, **extra_fields)

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(username=username)


class User(AbstractBaseUser, TimestampedModel):
    """The auth user. Django's staff/superuser flags and permissions derive from ``role``.

    - ``customer``: shop customer; no admin, no API unless an issue says so.
    - ``agent``: an AI agent; uses the API with API keys, never the admin.
    - ``operator``: staff; the admin over every table, except managing users.
    - ``admin``: everything, including users and API keys.
    """

    Role = UserRole

    # The role vocabulary's groups, used by the API's declarative role maps
    # (``roles = {"list": User.API_ROLES, ...}``) and by the rules below.
    STAFF_ROLES: ClassVar[frozenset[str]] = frozenset({UserRole.OPERATOR, UserRole.ADMIN})
    ADMIN_ROLES: ClassVar[frozenset[str]] = frozenset({UserRole.ADMIN})
    # Who may authenticate with an API key (a customer shops with a session).
    API_ROLES: ClassVar[frozenset[str]] = frozenset(
        {UserRole.AGENT, UserRole.OPERATOR, UserRole.ADMIN}
    )
    # The catalogue, orders and users/me are also for customers.
    SHOPPER_ROLES: ClassVar[frozenset[str]] = frozenset(UserRole.values)
    # Operators run the system and create customer and agent accounts; only admins delete
    # accounts, and commerce.admin.UserAdmin lets only admins edit an existing account or create
    # a staff one. (Django's admin needs the change permission to show its add-user form.)
    ADMIN_ONLY_PERMISSIONS: ClassVar[frozenset[str]] = frozenset({"commerce.delete_user"})
    OPERATOR_CREATABLE_ROLES: ClassVar[frozenset[str]] = frozenset(
        {UserRole.CUSTOMER, UserRole.AGENT}
    )

    email = models.EmailField(max_length=255)
    username = models.CharField(
        max_length=100,
        validators=[UnicodeUsernameValidator()],
        help_text="100 characters or fewer. Letters, digits and @/./+/-/_ only.",
    )
    # The seed's column is password_hash; Django's field keeps its name.
    password = models.CharField("password", max_length=255, db_column="password_hash")
    full_name = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001 (seed: NULL)
    role = models.CharField(
        max_length=50,
        choices=UserRole.choices,
        default=UserRole.CUSTOMER,
        db_default=UserRole.CUSTOMER,
    )
    is_active = models.BooleanField(default=True, db_default=True)
    is_verified = models.BooleanField(default=False, db_default=False)
    metadata = metadata_field()

    objects = UserManager()

    USERNAME_FIELD = "username"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["email"]

    class Meta:
        db_table = "users"
        ordering = ["username"]
        constraints = [
            models.UniqueConstraint(fields=["email"], name="users_email_key"),
            models.UniqueConstraint(fields=["username"], name="users_username_key"),
            models.CheckConstraint(condition=Q(role__in=UserRole.values), name="users_role_valid"),
        ]
        indexes = [
            models.Index(fields=["role"], name="users_role_idx"),
            # The admin's word search (UPPER(...) LIKE, as icontains writes it).
            GinIndex(OpClass(Upper("username"), name="gin_trgm_ops"), name="users_username_trgm"),
            GinIndex(OpClass(Upper("email"), name="gin_trgm_ops"), name="users_email_trgm"),
            GinIndex(OpClass(Upper("full_name"), name="gin_trgm_ops"), name="users_full_name_trgm"),
        ]

    def __str__(self) -> str:
        return self.username

    def get_full_name(self) -> str:
        return self.full_name or self.username

    def get_short_name(self) -> str:
        return self.username

    # Django's check_password, also for the bare hashes that the seed's stack writes (see
    # commerce/hashers.py): a hash not in the preferred format is rewritten on success.
    def check_password(self, raw_password: str | None) -> bool:
        def setter(raw_password: str) -> None:
            self.set_password(raw_password)
            self._password = None  # a new hash of the same password is not a password change
            self.save(update_fields=["password"])

        return check_password(raw_password, as_django_encoded(self.password), setter)

    async def acheck_password(self, raw_password: str | None) -> bool:
        async def setter(raw_password: str) -> None:
            self.set_password(raw_password)
            self._password = None
            await self.asave(update_fields=["password"])

        return await acheck_password(raw_password, as_django_encoded(self.password), setter)

    @property
    def is_staff(self) -> bool:
        return self.is_active and self.role in self.STAFF_ROLES

    @property
    def is_superuser(self) -> bool:
        return self.is_active and self.role == self.Role.ADMIN

    @property
    def can_use_api(self) -> bool:
        """May authenticate with an API key (checked on every request: a demoted agent's keys
        stop working at once)."""
        return self.is_active and self.role in self.API_ROLES

    def has_perm(self, perm: str, obj: object = None) -> bool:
        if not self.is_staff:
            return False
        return self.is_superuser or perm not in self.ADMIN_ONLY_PERMISSIONS

    def has_perms(self, perm_list: Any, obj: object = None) -> bool:
        return all(self.has_perm(perm, obj) for perm in perm_list)

    def has_module_perms(self, app_label: str) -> bool:
        return self.is_staff


class Product(TimestampedModel):
    """A product of the catalogue.

    ``inventory_quantity`` is a counter that only services move, by deltas, each recorded in
    ``stock_movements`` (see ``StockMovement``). ``version`` numbers the editable record (every
    field but the stock): ``product_update``, ``product_publish`` and ``product_archive`` add one,
    and ``product_update`` refuses to write over a version it was not given. Stock changes do not
    touch it, so orders never invalidate an operator's open form or an agent's ETag.
    """

    Status = ProductStatus

    sku = models.CharField("SKU", max_length=100)
    name = models.CharField(max_length=500)
    description = models.TextField(null=True, blank=True)  # noqa: DJ001 (seed: NULL)
    category = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001 (seed: NULL)
    price = models.DecimalField(max_digits=10, decimal_places=2)
    inventory_quantity = models.IntegerField(default=0, db_default=0)
    status = models.CharField(
        max_length=50,
        choices=ProductStatus.choices,
        default=ProductStatus.DRAFT,
        db_default=ProductStatus.DRAFT,
    )
    tags = ArrayField(models.TextField(), null=True, blank=True)
    metadata = metadata_field()
    version = models.IntegerField(default=1, db_default=1)

    class Meta:
        db_table = "products"
        ordering = ["sku"]
        constraints = [
            models.UniqueConstraint(fields=["sku"], name="products_sku_key"),
            models.CheckConstraint(
                condition=Q(status__in=ProductStatus.values), name="products_status_valid"
            ),
            models.CheckConstraint(condition=Q(price__gte=0), name="products_price_not_negative"),
            models.CheckConstraint(
                condition=Q(inventory_quantity__gte=0), name="products_inventory_not_negative"
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="products_version_positive"),
        ]
        indexes = [
            models.Index(fields=["status"], name="products_status_idx"),
            models.Index(fields=["category"], name="products_category_idx"),
            models.Index(fields=["price"], name="products_price_idx"),
            GinIndex(fields=["tags"], name="products_tags_gin"),
            # `search` is icontains over sku, name and description: UPPER(col) LIKE UPPER('%q%'),
            # which trigram indexes on the same expressions answer.
            GinIndex(OpClass(Upper("sku"), name="gin_trgm_ops"), name="products_sku_trgm"),
            GinIndex(OpClass(Upper("name"), name="gin_trgm_ops"), name="products_name_trgm"),
            GinIndex(
                OpClass(Upper("description"), name="gin_trgm_ops"), name="products_description_trgm"
            ),
        ]

    # draft -> published -> archived; an archived product may be published again.
    TRANSITIONS: ClassVar[dict[str, frozenset[str]]] = {
        ProductStatus.DRAFT: frozenset({ProductStatus.PUBLISHED, ProductStatus.ARCHIVED}),
        ProductStatus.PUBLISHED: frozenset({ProductStatus.ARCHIVED}),
        ProductStatus.ARCHIVED: frozenset({ProductStatus.PUBLISHED}),
    }

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"

    def can_transition_to(self, status: str) -> bool:
        return status in self.TRANSITIONS.get(self.status, frozenset())


class Order(TimestampedModel):
    Status = OrderStatus

    order_number = models.CharField(max_length=50)
    # NULL for guest orders. ON DELETE SET NULL is done by the database (see migration 0002):
    # orders outlive a deleted user, and a raw `DELETE FROM users` works too.
    user = models.ForeignKey(
        User,
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="orders",
        db_index=False,  # orders_user_created_idx leads with user_id
    )
    status = models.CharField(
        max_length=50,
        choices=OrderStatus.choices,
        default=OrderStatus.PENDING,
        db_default=OrderStatus.PENDING,
    )
    total_price = models.DecimalField(max_digits=10, decimal_places=2)
    subtotal = models.DecimalField(max_digits=10, decimal_places=2)
    metadata = metadata_field()

    class Meta:
        db_table = "orders"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["order_number"], name="orders_order_number_key"),
            models.CheckConstraint(
                condition=Q(status__in=OrderStatus.values), name="orders_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(subtotal__gte=0), name="orders_subtotal_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(total_price__gte=0), name="orders_total_price_not_negative"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "created_at"], name="orders_status_created_idx"),
            models.Index(fields=["user", "created_at"], name="orders_user_created_idx"),
            models.Index(fields=["created_at"], name="orders_created_idx"),
        ]

    # The state machine: pending -> processing -> completed, and pending|processing -> cancelled.
    TRANSITIONS: ClassVar[dict[str, frozenset[str]]] = {
        OrderStatus.PENDING: frozenset({OrderStatus.PROCESSING, OrderStatus.CANCELLED}),
        OrderStatus.PROCESSING: frozenset({OrderStatus.COMPLETED, OrderStatus.CANCELLED}),
        OrderStatus.COMPLETED: frozenset(),
        OrderStatus.CANCELLED: frozenset(),
    }

    def __str__(self) -> str:
        return self.order_number

    def can_transition_to(self, status: str) -> bool:
        return status in self.TRANSITIONS.get(self.status, frozenset())


class OrderLine(CreatedAtModel):
    """One line of a placed order: a snapshot of the product as it was sold. Later price or name
    changes of the product never change it; the product may even be deleted (SET NULL)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    # ON DELETE SET NULL in the database (migration 0007), like orders.user_id.
    product = models.ForeignKey(
        Product, on_delete=models.DO_NOTHING, null=True, blank=True, related_name="order_lines"
    )
    sku = models.CharField("SKU", max_length=100)
    name = models.CharField(max_length=500)
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)
    quantity = models.IntegerField()
    line_total = models.DecimalField(max_digits=10, decimal_places=2)

    class Meta:
        db_table = "order_lines"
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gte=1), name="order_lines_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0), name="order_lines_unit_price_not_negative"
            ),
            # The line total is the product of its parts, exactly (numeric arithmetic).
            models.CheckConstraint(
                condition=Q(line_total=F("unit_price") * F("quantity")),
                name="order_lines_total_is_price_times_quantity",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku}"


class OrderEvent(models.Model):
    """The order's history: who moved it from which state to which, when and why.

    Numbered by a sequence, so the history keeps its order even within one transaction (where
    ``now()`` does not move).
    """

    id = models.BigAutoField(primary_key=True)
    created_at = models.DateTimeField(db_default=DatabaseNow(), editable=False)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        User,
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    from_status = models.CharField(max_length=50, null=True, blank=True)  # noqa: DJ001 (placed)
    to_status = models.CharField(max_length=50, choices=OrderStatus.choices)
    reason = models.TextField(blank=True, default="", db_default="")

    class Meta:
        db_table = "order_events"
        ordering = ["id"]
        indexes = [models.Index(fields=["order", "id"], name="order_events_order_idx")]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.from_status or '-'} -> {self.to_status}"


class StockMovement(models.Model):
    """One change of a product's stock: the append-only ledger behind ``inventory_quantity``.

    Invariant: for every product, the sum of its movements' ``delta`` equals its
    ``inventory_quantity``. The services that move stock (``order_place``, ``order_cancel``,
    ``product_stock_adjust``, ``product_create``) write the movement in the same transaction as
    the counter; migration 0009 gave the products that existed before the ledger an ``opening``
    movement.

    Rows are never changed or deleted: a trigger (migration 0009) refuses ``UPDATE`` and
    ``DELETE``, except the database's own ON DELETE SET NULL of ``order_id`` and ``actor_id``.
    A product with movements cannot be deleted (``PROTECT``; the database's foreign key refuses it
    too): archive it instead.
    """

    Kind = StockMovementKind

    id = models.BigAutoField(primary_key=True)
    created_at = models.DateTimeField(db_default=DatabaseNow(), editable=False)
    product = models.ForeignKey(
        Product,
        on_delete=models.PROTECT,
        related_name="stock_movements",
        db_index=False,  # stock_movements_product_idx leads with product_id
    )
    delta = models.IntegerField(help_text="Units added (positive) or removed (negative).")
    kind = models.CharField(max_length=20, choices=StockMovementKind.choices)
    reason = models.TextField(blank=True, default="", db_default="")
    # ON DELETE SET NULL in the database (migration 0008), like order_events.actor: the ledger
    # outlives a deleted order or user.
    order = models.ForeignKey(
        Order,
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="stock_movements",
    )
    actor = models.ForeignKey(
        User,
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )

    class Meta:
        db_table = "stock_movements"
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=~Q(delta=0), name="stock_movements_delta_not_zero"),
            models.CheckConstraint(
                condition=Q(kind__in=StockMovementKind.values), name="stock_movements_kind_valid"
            ),
            # Orders take stock and cancellations give it back; an opening stock is positive.
            models.CheckConstraint(
                condition=Q(kind=StockMovementKind.ADJUSTMENT)
                | Q(kind=StockMovementKind.ORDER_PLACED, delta__lt=0)
                | Q(kind=StockMovementKind.ORDER_CANCELLED, delta__gt=0)
                | Q(kind=StockMovementKind.OPENING, delta__gt=0),
                name="stock_movements_delta_sign_matches_kind",
            ),
            models.CheckConstraint(
                condition=~Q(kind=StockMovementKind.ADJUSTMENT, reason=""),
                name="stock_movements_adjustment_has_reason",
            ),
        ]
        indexes = [models.Index(fields=["product", "id"], name="stock_movements_product_idx")]

    def __str__(self) -> str:
        return f"{self.product.sku} {self.delta:+d} ({self.kind})"


class UserAPIKey(AbstractAPIKey):
    """An API key of one user (agents, and operators/admins who script). Stored as a SHA-512 hash,
    found by its 8-character prefix; the key itself is shown once, at creation."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_keys")

    class Meta(AbstractAPIKey.Meta):
        db_table = "user_api_keys"
        verbose_name = "API key"
        verbose_name_plural = "API keys"
        # The admin's word search by key name.
        indexes = [
            GinIndex(OpClass(Upper("name"), name="gin_trgm_ops"), name="user_api_keys_name_trgm")
        ]

from __future__ import annotations

from decimal import Decimal
from functools import cache

import factory
from django.contrib.auth.hashers import make_password

from commerce.models import Order, Product, StockMovement, User

TEST_PASSWORD = "correct horse battery staple"


@cache
def _test_password_hash() -> str:
    # Argon2 is deliberately slow; hash the shared test password once per run.
    return make_password(TEST_PASSWORD)


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    full_name = factory.Faker("name")
    role = User.Role.CUSTOMER
    password = factory.LazyFunction(_test_password_hash)


class OperatorFactory(UserFactory):
    username = factory.Sequence(lambda n: f"operator{n}")
    role = User.Role.OPERATOR


class AdminFactory(UserFactory):
    username = factory.Sequence(lambda n: f"admin{n}")
    role = User.Role.ADMIN


class AgentUserFactory(UserFactory):
    username = factory.Sequence(lambda n: f"agent{n}")
    role = User.Role.AGENT


class ProductFactory(factory.django.DjangoModelFactory[Product]):
    """A product whose stock is backed by an ``opening`` movement, as ``product_create`` writes it,
    so that the ledger adds up to the stock from the start."""

    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Faker("sentence", nb_words=3)
    category = "Jewelry"
    price = Decimal("19.99")
    inventory_quantity = 10
    status = Product.Status.PUBLISHED
    tags = factory.LazyFunction(lambda: ["premium"])

    @classmethod
    def _create(cls, model_class: type[Product], *args: object, **kwargs: object) -> Product:
        product = super()._create(model_class, *args, **kwargs)
        if product.inventory_quantity:
            StockMovement.objects.create(
                product=product,
                delta=product.inventory_quantity,
                kind=StockMovement.Kind.OPENING,
                reason="opening stock",
            )
        return product


class OrderFactory(factory.django.DjangoModelFactory[Order]):
    class Meta:
        model = Order

    # Not "ORD-NNNNNN": the service numbers orders from a database sequence in that form, and a
    # factory counter in the same space collides with it sooner or later in a long run.
    order_number = factory.Sequence(lambda n: f"TEST-ORD-{n:06d}")
    user = factory.SubFactory(UserFactory)
    subtotal = Decimal("100.00")
    total_price = Decimal("100.00")

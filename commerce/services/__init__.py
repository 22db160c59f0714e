"""Writes on commerce data. Every write is a function here; views, admin, commands and tests call
the same ones."""

from commerce.services.api_keys import api_key_create, api_key_revoke
from commerce.services.orders import (
    order_cancel,
    order_complete,
    order_mark_processing,
    order_place,
)
from commerce.services.products import (
    product_archive,
    product_create,
    product_publish,
    product_update,
    tags_normalise,
)
from commerce.services.stock import product_stock_adjust
from commerce.services.users import demo_operator_ensure, user_create

__all__ = [
    "api_key_create",
    "api_key_revoke",
    "demo_operator_ensure",
    "order_cancel",
    "order_complete",
    "order_mark_processing",
    "order_place",
    "product_archive",
    "product_create",
    "product_publish",
    "product_stock_adjust",
    "product_update",
    "tags_normalise",
    "user_create",
]

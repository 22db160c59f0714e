"""Migrations have names that say what they do; renaming one keeps every database and every
migration that knew its old name working (``replaces``)."""

from __future__ import annotations

import re
from typing import Any, ClassVar

import pytest
from django.db import connection, migrations
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

PROJECT_APPS = {"devskyy", "commerce", "agents_audit", "knowledge"}
RENAMED = ("commerce", "0007_order_number_sequence_and_set_null")
OLD_NAME = ("commerce", "0007")


def test_every_migration_of_ours_is_named_for_what_it_does():
    names = [
        key
        for key in MigrationLoader(None, ignore_no_migrations=True).disk_migrations
        if key[0] in PROJECT_APPS
    ]
    assert names
    unnamed = [key for key in names if not re.fullmatch(r"\d{4}_[a-z][a-z0-9_]+", key[1])]
    assert unnamed == []


@pytest.mark.django_db(transaction=True)
def test_a_database_that_applied_the_old_name_has_nothing_to_apply():
    recorder = MigrationRecorder(connection)
    recorder.record_unapplied(*RENAMED)
    recorder.record_applied(*OLD_NAME)
    try:
        executor = MigrationExecutor(connection)
        assert executor.loader.applied_migrations.keys() >= {RENAMED}
        assert executor.migration_plan(executor.loader.graph.leaf_nodes()) == []
    finally:
        recorder.record_applied(*RENAMED)


def test_a_migration_that_depends_on_the_old_name_follows_the_new_one(monkeypatch):
    # another branch's migration written before the rename
    class Later(migrations.Migration):
        dependencies = [OLD_NAME]
        operations: ClassVar[list[Any]] = []

    load_disk = MigrationLoader.load_disk

    def load_disk_with_later(self: MigrationLoader) -> None:
        load_disk(self)
        self.disk_migrations["commerce", "0099_later"] = Later("0099_later", "commerce")

    monkeypatch.setattr(MigrationLoader, "load_disk", load_disk_with_later)
    graph = MigrationLoader(None, ignore_no_migrations=True).graph

    graph.validate_consistency()
    assert {p.key for p in graph.node_map["commerce", "0099_later"].parents} == {RENAMED}

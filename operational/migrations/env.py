"""Alembic's entry: runs the migrations on the connection ``operational.schema`` hands it."""

from alembic import context

from operational.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None or context.is_offline_mode():
    raise SystemExit("the operational store is migrated by the app itself (operational.schema.upgrade)")
# render_as_batch: a migration written by autogenerate alters SQLite tables the only way SQLite can
target = context.config.attributes.get("metadata", metadata)  # another only in the tests of new migrations
context.configure(connection=connection, target_metadata=target, render_as_batch=True, compare_type=True)
with context.begin_transaction():
    context.run_migrations()

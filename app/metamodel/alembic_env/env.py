"""Alembic environment of Fachstelle. Run through `fachstelle migrate`, which passes the connection
and the metadata built from the YAML configuration (see app/metamodel/migrate.py). The revisions
themselves live with each deployment (instance/migrations/<database>/), never here."""
from alembic import context

from app.metamodel.kinds import render_item

config = context.config
connection = config.attributes["connection"]
metadata = config.attributes["metadata"]

context.configure(
    connection=connection,
    target_metadata=metadata,
    compare_type=True,
    # Column types of our own (Money) are written as the plain SQLAlchemy type they store.
    render_item=render_item,
    # SQLite can alter little in place: batch mode rebuilds the table (migrate.py turns foreign keys off).
    render_as_batch=connection.dialect.name == "sqlite",
    # Fills existing rows, names constraints, cuts narrowed strings (app/metamodel/revision_ops.py).
    process_revision_directives=config.attributes.get("process_revision_directives"),
)
with context.begin_transaction():
    context.run_migrations()

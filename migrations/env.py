"""Alembic environment of Fachstelle. Run through `fachstelle migrate`, which passes the connection
and the metadata built from the YAML configuration (see app/metamodel/migrate.py)."""
from alembic import context

config = context.config
connection = config.attributes["connection"]
metadata = config.attributes["metadata"]

context.configure(
    connection=connection,
    target_metadata=metadata,
    compare_type=True,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()

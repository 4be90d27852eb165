"""Alembic environment of the decisions store.

Two ways in:

* programmatically, from :func:`records.engine.upgrade_database` (what ``DecisionStore``
  does): an open connection, already inside a locked transaction, is passed in
  ``config.attributes["connection"]``; the whole upgrade runs in that transaction;
* from the command line (``alembic -c records/migrations/alembic.ini ...``): the URL is
  ``-x url=...``, else ``sqlalchemy.url`` of the ini file, else ``core.config``'s
  ``get_settings().db_url``.

No ``target_metadata``: the schema is written out in the revision files, never derived
from the store's table definitions.
"""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context

config = context.config


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from core.config import get_settings

    return get_settings().db_url


def run_migrations_offline() -> None:
    """Write the SQL to the output buffer instead of running it (``--sql``)."""
    context.configure(url=_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        # Called by records.engine.upgrade_database: the caller owns the transaction (and the
        # lock that makes concurrent start-ups safe); begin_transaction() is then a no-op.
        context.configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
        return

    # Command line: same engine set-up (SQLite pragmas, BEGIN IMMEDIATE) and same lock as
    # the application, so a CLI upgrade and a starting service cannot both migrate.
    if config.config_file_name is not None:
        fileConfig(config.config_file_name, disable_existing_loggers=False)
    from records.engine import lock_for_migration, make_engine

    engine = make_engine(_url())
    try:
        with engine.connect() as connection:
            connection.execution_options(jalon_write=True)
            with connection.begin():
                lock_for_migration(connection)
                context.configure(connection=connection)
                with context.begin_transaction():
                    context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

"""The store tests' fixtures (defined in test_store.py), shared with test_contests.py."""

from tests.records.test_store import _real_outputs, db_path, sqlite_url, store, url  # noqa: F401

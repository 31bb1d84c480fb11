"""The services CI makes mandatory are configured where the suite runs strictly."""

from __future__ import annotations

import os

from tests.conftest import TEST_DATABASE_URL, postgres_reachable
from tests.support import unavailable


def test_postgresql_backend_is_available():
    """With TEST_DATABASE_URL set, every app test runs again on PostgreSQL."""
    if not TEST_DATABASE_URL:
        unavailable("TEST_DATABASE_URL is not set: the suite ran on SQLite only")
    assert TEST_DATABASE_URL.startswith("postgresql+psycopg://")
    assert postgres_reachable(TEST_DATABASE_URL), f"PostgreSQL at {TEST_DATABASE_URL} is down"


def test_redis_is_available():
    """Shared rate-limit tests need the Redis of TEST_REDIS_URL."""
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        unavailable("TEST_REDIS_URL is not set: shared rate-limit tests skip")
    import redis

    assert redis.Redis.from_url(url).ping() is True

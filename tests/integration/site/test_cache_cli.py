"""`marketplace cache stats|purge` on the shared Redis cache."""

from __future__ import annotations

import json
from typing import Any

from litestar.stores.redis import RedisStore
from redis.asyncio import Redis

from marketplace.cache import Cache
from marketplace.cli import main


async def test_cache_stats_and_purge_from_the_command_line(redis_url: str, monkeypatch: Any,
                                                          capsys: Any) -> None:
    redis = Redis.from_url(redis_url)
    try:
        cache = Cache(RedisStore(redis, namespace="cache"))
        await cache.get_or_set("k", _value, depends_on=("listings",))
        monkeypatch.setenv("MARKETPLACE_REDIS_URL", redis_url)
        import asyncio

        assert await asyncio.to_thread(main, ["cache", "stats"]) == 0
        assert json.loads(capsys.readouterr().out)["keys"] == 2  # the entry and its version key
        assert await asyncio.to_thread(main, ["cache", "purge"]) == 0
        assert await cache.key_count() == 0
        monkeypatch.delenv("MARKETPLACE_REDIS_URL")
        assert await asyncio.to_thread(main, ["cache", "stats"]) == 2  # embedded mode: use /admin/cache
    finally:
        await redis.aclose()


async def _value() -> int:
    return 1

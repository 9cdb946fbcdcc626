"""The CLI's offline-cache commands: ``cache info`` and ``export --offline``. No Qt."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any

from makini_desktop.api.resources import DATASETS, View
from makini_desktop.store.cache import Cache, CacheError, cache_path_for
from makini_desktop.store.paths import cache_dir
from makini_desktop.store.profiles import ProfileStore

DEMO_CACHE_KEY = "demo"


def relative_age(when: datetime | None, now: datetime | None = None) -> str:
    """"5 min ago", "2 h ago", "3 days ago", "never"."""
    if when is None:
        return "never"
    now = now or datetime.now(UTC)
    secs = max(0.0, (now - when).total_seconds())
    if secs < 60:
        return "just now"
    if secs < 3600:
        return f"{int(secs // 60)} min ago"
    if secs < 86400:
        return f"{int(secs // 3600)} h ago"
    days = int(secs // 86400)
    return "1 day ago" if days == 1 else f"{days} days ago"


def _local(when: datetime | None) -> str:
    return when.astimezone().strftime("%Y-%m-%d %H:%M") if when else "-"


def _known_caches() -> list[tuple[str, str]]:
    """(connection label, cache key) for every saved connection and every cache file."""
    profiles = ProfileStore()
    entries = [(p.name, p.id) for p in profiles.list()]
    known = {key for _, key in entries}
    for path in sorted(cache_dir().glob("*.sqlite3")):
        key = path.name[: -len(".sqlite3")]
        if key in known:
            continue
        label = "Demo (sandbox)" if key == DEMO_CACHE_KEY else f"(unsaved connection {key})"
        entries.append((label, key))
    return entries


def run_cache_command(ns: argparse.Namespace) -> int:
    """``makini-desktop cache info``: rows and last sync per connection and list."""
    if ns.cache_command != "info":
        raise AssertionError(ns.cache_command)
    entries = _known_caches()
    if not entries:
        print("No connections and no offline cache yet.")
        return 0
    header = f"{'Connection':<28} {'List':<10} {'Rows':>9}  {'Last synced':<17} {'Age'}"
    print(header)
    print("-" * len(header))
    for label, key in entries:
        path = cache_path_for(key)
        if not path.exists():
            print(f"{label[:28]:<28} {'-':<10} {'':>9}  {'never synced':<17}")
            continue
        try:
            with Cache.open(path) as cache:
                infos = {i.dataset: i for i in cache.info()}
                if cache.recovered is not None:
                    print(f"note: {cache.recovered.message}", file=sys.stderr)
        except CacheError as exc:
            print(f"{label[:28]:<28} error: {exc}")
            continue
        for name in DATASETS:
            info = infos.get(name)
            if info is None:
                print(f"{label[:28]:<28} {name:<10} {'-':>9}  {'never':<17}")
            else:
                print(f"{label[:28]:<28} {name:<10} {info.row_count:>9,}  "
                      f"{_local(info.last_sync):<17} {relative_age(info.last_sync)}")
    return 0


def cache_key_for(ns: argparse.Namespace) -> tuple[str, str]:
    """(label, cache key) of the connection an offline export names."""
    from makini_desktop.cli import UsageError

    if getattr(ns, "connection", None):
        profile = ProfileStore().find_by_name(ns.connection)
        if profile is None:
            raise UsageError(f"no saved connection named {ns.connection!r}")
        return profile.name, profile.id
    if getattr(ns, "base_url", None):
        from makini_desktop.cli import read_token_from_env
        from makini_desktop.sync.session import adhoc_cache_key

        return ns.base_url, adhoc_cache_key(ns.base_url, read_token_from_env())
    raise UsageError("--offline needs --connection NAME or --base-url URL")


def load_offline_rows(ns: argparse.Namespace, view: View) -> list[Any]:
    """The cached rows of a view, without any network; a usage error when never synced."""
    from makini_desktop.cli import UsageError

    label, key = cache_key_for(ns)
    path = cache_path_for(key)
    if not path.exists():
        raise UsageError(f"nothing cached for {label}: open it once while online")
    try:
        with Cache.open(path) as cache:
            cached = cache.load(view.dataset.name)
    except CacheError as exc:
        raise UsageError(f"the offline cache of {label} cannot be read: {exc}") from None
    if cached.last_sync is None:
        raise UsageError(f"no {view.noun[1]} cached for {label}: open the list once while online")
    print(
        f"Exporting {view.noun[1]} cached {relative_age(cached.last_sync)} "
        f"({_local(cached.last_sync)})",
        file=sys.stderr,
    )
    return [row for row in cached.rows if view.accepts(row)]

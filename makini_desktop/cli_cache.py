"""The CLI's offline-cache commands: ``cache info`` and ``export --offline``. No Qt."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from typing import Any

from makini_desktop.api import resources as res
from makini_desktop.api.resources import DATASETS, VIEWS, View
from makini_desktop.api.values import relative_age
from makini_desktop.store.cache import (
    FILE_SUFFIX,
    Cache,
    CacheError,
    cache_path_for,
    connection_cache_paths,
    profile_cache_key,
)
from makini_desktop.store.paths import cache_dir
from makini_desktop.store.profiles import ProfileStore
from makini_desktop.sync.session import DEMO_CACHE_KEY, DEMO_NAME

LABEL_WIDTH = 36
LIST_WIDTH = 18


def _list_label(dataset: str) -> str:
    """A dataset by the names `export` takes: locations -> "floors, spaces"."""
    names = [v.name for v in VIEWS.values() if v.dataset.name == dataset]
    return ", ".join(names) or dataset


def _local(when: datetime | None) -> str:
    return when.astimezone().strftime("%Y-%m-%d %H:%M") if when else "-"


def _known_caches() -> list[tuple[str, str]]:
    """(connection label, cache key) for every saved connection and every cache file."""
    entries: list[tuple[str, str]] = []
    known: set[str] = set()
    for profile in ProfileStore().list():
        current = profile_cache_key(profile.id, profile.base_url)
        entries.append((profile.name, current))
        known.add(current)
        for path in connection_cache_paths(profile.id):  # the server it used to point at
            key = path.name[: -len(FILE_SUFFIX)]
            if key not in known:
                entries.append((f"{profile.name} (previous server)", key))
                known.add(key)
    for path in sorted(cache_dir().glob(f"*{FILE_SUFFIX}")):
        key = path.name[: -len(FILE_SUFFIX)]
        if key in known:
            continue
        label = DEMO_NAME if key == DEMO_CACHE_KEY else f"(unsaved) {key}"
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
    header = (f"{'Connection':<{LABEL_WIDTH}} {'Lists':<{LIST_WIDTH}} {'Rows':>9}  "
              f"{'Last synced':<17} {'Age'}")
    print(header)
    print("-" * len(header))
    for label, key in entries:
        who = label[:LABEL_WIDTH]
        path = cache_path_for(key)
        if not path.exists():
            print(f"{who:<{LABEL_WIDTH}} {'-':<{LIST_WIDTH}} {'':>9}  never synced")
            continue
        try:
            with Cache.open_readonly(path) as cache:  # never disturbs a running sync
                infos = {i.dataset: i for i in cache.info()}
        except CacheError as exc:
            print(f"{who:<{LABEL_WIDTH}} error: {exc}")
            continue
        for name in DATASETS:
            info = infos.get(name)
            lists = _list_label(name)
            if info is None:
                print(f"{who:<{LABEL_WIDTH}} {lists:<{LIST_WIDTH}} {'-':>9}  never")
            else:
                print(f"{who:<{LABEL_WIDTH}} {lists:<{LIST_WIDTH}} {info.row_count:>9,}  "
                      f"{_local(info.last_sync):<17} {relative_age(info.last_sync)}")
    return 0


def cache_key_for(ns: argparse.Namespace) -> tuple[str, str]:
    """(label, cache key) of the connection an offline export names."""
    from makini_desktop.usage import UsageError

    if getattr(ns, "connection", None):
        profile = ProfileStore().find_by_name(ns.connection)
        if profile is None:
            raise UsageError(f"no saved connection named {ns.connection!r}")
        return profile.name, profile_cache_key(profile.id, profile.base_url)
    if getattr(ns, "base_url", None):
        from makini_desktop.sync.session import adhoc_cache_key
        from makini_desktop.usage import read_token_from_env

        return ns.base_url, adhoc_cache_key(ns.base_url, read_token_from_env())
    raise UsageError("--offline needs --connection NAME or --base-url URL")


def load_offline_rows(ns: argparse.Namespace, view: View) -> list[Any]:
    """The cached rows of a view, without any network; a usage error when never synced."""
    from makini_desktop.usage import UsageError

    label, key = cache_key_for(ns)
    path = cache_path_for(key)
    if not path.exists():
        raise UsageError(f"nothing cached for {label}: open it once while online")
    try:
        with Cache.open_readonly(path) as cache:  # never disturbs a running sync
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
    # The server's default order is by key (contract §3); the cache keeps arrival order,
    # where records added by incremental refreshes come last.
    return sorted((row for row in cached.rows if view.accepts(row)), key=lambda r: r[res.F_KEY])


def load_offline_view(ns: argparse.Namespace, view: View) -> list[Any]:
    """The cached rows of a view an export names (buildings, floors, spaces), quietly;
    none when it was never cached (its names are then left blank)."""
    _label, key = cache_key_for(ns)
    path = cache_path_for(key)
    try:
        with Cache.open_readonly(path) as cache:
            cached = cache.load(view.dataset.name)
    except CacheError:
        return []
    return [row for row in cached.rows if view.accepts(row)]

"""A child process that runs one full sync and reports each page, for kill tests.

Usage: python -m tests.helpers.sync_worker BASE_URL TOKEN CACHE_KEY DATASET
Prints "page N" (flushed) after each page is staged, and "committed" at the end.
"""

from __future__ import annotations

import asyncio
import sys

from makini_desktop.sync.session import ConnectionInfo, Session


async def _main(base_url: str, token: str, key: str, dataset: str) -> None:
    session = Session(ConnectionInfo("worker", base_url, key), token)
    try:
        await session.repository(dataset).refresh(
            full=True, on_page=lambda rows, p: print(f"page {p.page}", flush=True)
        )
        print("committed", flush=True)
    finally:
        await session.aclose()


if __name__ == "__main__":
    asyncio.run(_main(*sys.argv[1:5]))

"""Tab status texts without Qt: the plain clock writes times, the UI can install its own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from makini_desktop.sync import tab_status
from makini_desktop.sync.connectivity import Reach
from makini_desktop.sync.tab_status import PlainClock, at_time, held_text, offline_text

NOW = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)


def test_the_plain_clock_says_the_day_only_when_it_is_not_today():
    """Today "at HH:MM", yesterday, a day this year, a date in another year."""
    previous = tab_status._clock
    tab_status.set_clock(PlainClock())
    try:
        local_now = NOW.astimezone()
        clock = f"{local_now:%H:%M}"
        assert at_time(NOW, NOW) == f"at {clock}"
        assert at_time(NOW - timedelta(days=1), NOW) == f"yesterday at {clock}"
        earlier = (local_now - timedelta(days=40))
        assert at_time(earlier, NOW) == f"on {earlier.day} {earlier:%b} at {clock}"
        old = local_now - timedelta(days=400)
        assert at_time(old, NOW) == f"on {old:%d/%m/%Y} at {clock}"
    finally:
        tab_status.set_clock(previous)


def test_an_installed_clock_writes_every_banner_time():
    """offline_text and held_text use the clock set with set_clock."""

    class Fixed:
        def time(self, local: datetime) -> str:
            return "T"

        def day_month(self, local: datetime) -> str:
            return "D"

        def date(self, local: datetime) -> str:
            return "Y"

    previous = tab_status._clock
    tab_status.set_clock(Fixed())
    try:
        assert offline_text(Reach.OFFLINE, NOW, NOW) == "Offline — showing data cached at T"
        assert held_text("No token", NOW - timedelta(days=1), NOW) == (
            "No token — showing cached data, last synced yesterday at T")
    finally:
        tab_status.set_clock(previous)


def test_a_tab_without_a_token_says_cached_not_offline():
    """With no token the tab says its rows are cached for that reason, never "Offline"."""
    from makini_desktop.sync.session import NO_TOKEN_REASON
    from makini_desktop.sync.tab_status import Phase, TabStatus

    status = TabStatus(
        Phase.OFFLINE, synced_at=NOW - timedelta(hours=2),
        message=f"{NO_TOKEN_REASON} — showing cached data. Choose Reconnect… to enter a token.",
        held="no token",
    )
    assert status.text(NOW) == "Cached — no token, last synced 2 h ago"
    assert not status.text(NOW).startswith("Offline")


def test_a_tab_whose_token_was_refused_says_cached_not_offline():
    """A refused token is no network problem: the tab says its rows are cached, and why."""
    from makini_desktop.sync.tab_status import TOKEN_REFUSED_REASON, Phase, TabStatus

    status = TabStatus(Phase.OFFLINE, synced_at=NOW - timedelta(hours=2),
                       message=f"{TOKEN_REFUSED_REASON} — showing cached data.",
                       held="token not accepted")
    assert status.text(NOW) == "Cached — token not accepted, last synced 2 h ago"


def test_an_unreachable_server_still_says_offline():
    """A tab that cannot reach the server keeps saying "Offline — cached data"."""
    from makini_desktop.sync.tab_status import Phase, TabStatus

    status = TabStatus(Phase.OFFLINE, synced_at=NOW - timedelta(hours=2),
                       message="The server could not be reached.")
    assert status.text(NOW) == "Offline — cached data, last synced 2 h ago"

"""The message bus: subscribers hear what is published, in order; a broken one is skipped."""

from __future__ import annotations

import logging

from makini_desktop.sync.notify import Level, Message, Notifier


def test_subscribers_hear_every_message_until_they_unsubscribe():
    """publish() reaches each subscriber once, with level, text, request ID and source."""
    bus = Notifier()
    heard: list[Message] = []
    bus.subscribe(heard.append)
    bus.subscribe(heard.append)  # twice is once
    origin = object()
    bus.publish(Level.WARNING, "The cache was set aside.", request_id="req-1",
                source="workspace", origin=origin)
    bus.unsubscribe(heard.append)
    bus.publish(Level.INFO, "not heard")
    bus.unsubscribe(heard.append)  # unknown: ignored
    assert heard == [Message(Level.WARNING, "The cache was set aside.", request_id="req-1",
                             source="workspace", origin=origin)]


def test_a_failing_subscriber_does_not_silence_the_others(caplog):
    """A subscriber that raises is logged; the ones after it still hear the message."""
    bus = Notifier()
    heard: list[str] = []

    def broken(message: Message) -> None:
        raise RuntimeError("boom")

    bus.subscribe(broken)
    bus.subscribe(lambda m: heard.append(m.text))
    with caplog.at_level(logging.ERROR):
        bus.publish(Level.ERROR, "Export failed.")
    assert heard == ["Export failed."]
    assert "a message subscriber failed" in caplog.text

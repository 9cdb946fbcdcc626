"""Widgets, Qt models and dialogs. Talks to ``sync/``, never to httpx directly."""

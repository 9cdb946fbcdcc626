"""makini-desktop: a desktop client for workplace systems through the Makini unified API."""

__version__ = "0.1.0"
APP_NAME = "makini-desktop"

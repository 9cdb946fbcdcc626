"""What settling the garbage between chunks of rows lets go of."""

from __future__ import annotations

import linecache

from makini_desktop.sync.page_feed import forget_source_lines, settle_garbage


def test_source_lines_read_from_files_are_forgotten_and_registered_ones_kept(tmp_path):
    """Lines linecache read from a file (PySide6's import hook reads every module's) are
    dropped, and read again when asked; lines registered without a file stay."""
    source = tmp_path / "mod.py"
    source.write_text("x = 1\ny = 2\n")
    assert linecache.getline(str(source), 2) == "y = 2\n"
    assert str(source) in linecache.cache
    registered = "<generated 1>"
    linecache.cache[registered] = (6, None, ["z = 3\n"], registered)
    try:
        forget_source_lines()
        assert str(source) not in linecache.cache
        assert linecache.cache[registered][2] == ["z = 3\n"]
        assert linecache.getline(str(source), 1) == "x = 1\n"  # read anew
        settle_garbage()
        assert str(source) not in linecache.cache
    finally:
        linecache.cache.pop(registered, None)

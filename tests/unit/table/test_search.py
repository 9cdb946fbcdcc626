"""SearchText: a row's search text is computed when a search first needs it."""

from __future__ import annotations

from makini_desktop.api import resources as res
from makini_desktop.table.lookups import Lookups
from makini_desktop.table.rowindex import RowIndex
from makini_desktop.table.search import SearchText
from tests.unit.table.support import space

NAME = [c.id for c in res.SPACES_VIEW.columns].index("name")


def test_rows_arrive_without_their_text_and_a_search_still_finds_them() -> None:
    """Adding rows computes no search text; the first search computes what it needs and
    finds every match, also rows changed after they arrived."""
    index = RowIndex(res.SPACES_VIEW, Lookups())
    index.replace([space(str(n), f"Room {n}") for n in range(10)])
    index.add([space("10", "Lab ten")])
    search: SearchText = index._search
    assert search.pending == 11
    index.apply([space("3", "Lab three", updatedAt="2026-04-01T10:00:00Z")], [])
    index.search("lab")
    assert sorted(str(index.rows[i]["key"]) for i in index.visible) == ["10", "3"]  # type: ignore[index]
    assert search.pending == 0
    index.apply([space("4", "Lab four", updatedAt="2026-04-01T10:00:00Z")], [])
    assert sorted(str(index.rows[i]["key"]) for i in index.visible) == ["10", "3", "4"]  # type: ignore[index]


def test_a_search_in_slices_computes_the_texts_in_slices() -> None:
    """search_steps yields while it computes pending texts, and its result is the same as
    a search done in one go."""
    rows = [space(str(n), f"Desk {n}" if n % 3 else f"Booth {n}") for n in range(50)]
    sliced = RowIndex(res.SPACES_VIEW, Lookups())
    sliced.replace(rows)
    steps = sliced.search_steps("booth", slice_rows=10)
    turns = 0
    try:
        while True:
            next(steps)
            turns += 1
    except StopIteration:
        pass
    whole = RowIndex(res.SPACES_VIEW, Lookups())
    whole.replace(rows)
    whole.search("booth")
    assert turns >= 2
    assert sliced.visible == whole.visible and len(whole.visible) == 17


def test_changing_the_searched_columns_recomputes_lazily() -> None:
    """After the searchable columns change, texts are pending again and a search over the
    new columns finds what they show."""
    index = RowIndex(res.SPACES_VIEW, Lookups())
    index.replace([space("1", "Room one", type="lab"), space("2", "Room two")])
    index.search("room")
    assert len(index.visible) == 2
    index.set_searchable_columns([NAME])
    index.search("")
    index.search("one")
    assert [str(index.rows[i]["key"]) for i in index.visible] == ["1"]  # type: ignore[index]

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


def _keys(index: RowIndex) -> list[str]:
    return [str(index.rows[i]["key"]) for i in index.visible]  # type: ignore[index]


def test_words_match_at_word_starts_across_accents_and_cells(lookups) -> None:
    """3.001 finds 3.001 but not 13.001; zoe finds Zoë; a building's name matches too."""
    index = RowIndex(res.SPACES_VIEW, lookups)
    index.replace([space("1", "3.001 Workstation"), space("2", "13.001 Workstation"),
                   space("3", "Desk", occupantName="Zoë Ng"), space("4", "Desk", siteKey="S2")])
    index.search("3.001")
    assert _keys(index) == ["1"]
    index.search("ZOE")
    assert _keys(index) == ["3"]
    index.search("desk mill")  # S2 is "Mill"
    assert _keys(index) == ["4"]
    index.search("desk -mill")
    assert _keys(index) == ["3"]


def test_field_terms_look_in_one_column_also_in_slices(lookups) -> None:
    """occupant:ng looks only at the Occupant column; building:harbour at the building's
    name; sliced or not, the same rows."""
    rows = [space(str(n), f"Ng room {n}", occupantName="Ng" if n % 3 == 0 else None)
            for n in range(30)]
    rows.append(space("S2", "Room", siteKey="S2", occupantName="Ng"))
    whole = RowIndex(res.SPACES_VIEW, lookups)
    whole.replace(rows)
    whole.search("occupant:ng")
    sliced = RowIndex(res.SPACES_VIEW, lookups)
    sliced.replace(rows)
    steps = sliced.search_steps("occupant:ng", slice_rows=4)
    turns = sum(1 for _ in steps)
    assert turns > 3 and sliced.visible == whole.visible
    assert _keys(whole) == [str(n) for n in range(0, 30, 3)] + ["S2"]
    whole.search("occupant:ng building:harbour")
    assert _keys(whole) == [str(n) for n in range(0, 30, 3)]
    whole.search('floor:"level 1" -occupant:ng')
    assert len(whole.visible) == 20


def test_a_field_that_is_not_a_shown_heading_searches_as_text(lookups) -> None:
    """active:yes names a hidden column, so it is a plain word (and finds nothing here)."""
    index = RowIndex(res.SPACES_VIEW, lookups)
    index.replace([space("1", "Room", isActive=True)])
    index.search("active:yes")
    assert index.visible == []


def test_building_and_floor_terms_find_rows_added_before_and_after_a_search(lookups) -> None:
    """A term matching a building's or a floor's name finds the rows that name it, staged
    or added, before the first search and after it, and after a clear."""
    index = RowIndex(res.SPACES_VIEW, lookups)

    def found(query: str) -> list[str]:
        index.search(query)
        return sorted(str(index.rows[i]["key"]) for i in index.visible)  # type: ignore[index]

    index.replace([space("a", "Desk a", siteKey="S2"), space("b", "Desk b")])
    index.stage([space("c", "Desk c", siteKey="S2", parentKey="F2")])
    for _ in index.place_staged_steps():
        pass
    assert found("mill") == ["a", "c"]
    assert found("mezzanine") == ["c"]
    index.add([space("d", "Desk d", siteKey="S2"), space("e", "Desk e", parentKey="F2")])
    assert found("mill") == ["a", "c", "d"]
    assert found("mezzanine") == ["c", "e"]
    index.replace([space("f", "Desk f", siteKey="S2")])
    assert found("mill") == ["f"]
    assert found("harbour") == []

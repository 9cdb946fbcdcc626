"""Sorting people expect: numbers in text in natural order, accents with their letters."""

from __future__ import annotations

from makini_desktop.api import resources as res
from makini_desktop.table.collate import collation_key
from makini_desktop.table.lookups import Lookups
from makini_desktop.table.rowindex import RowIndex
from tests.unit.table.support import space


def names(index: RowIndex, field: str = "name") -> list[str]:
    return [index.rows[i][field] for i in index.visible]  # type: ignore[index]


def test_numbers_in_text_sort_as_numbers() -> None:
    """Level 2 before Level 10, 1.2 before 1.10 and 9 before 10."""
    texts = ["Level 10", "Level 2", "level 1", "Level 11", "Room 9", "Room 10", "1.10", "1.2"]
    assert sorted(texts, key=collation_key) == [
        "1.2", "1.10", "level 1", "Level 2", "Level 10", "Level 11", "Room 9", "Room 10"]


def test_accented_letters_sort_with_their_base_letter() -> None:
    """Élodie sorts among the E's, not after Wei; case does not matter."""
    people = ["Wei", "Élodie", "emma", "Zoë", "Eve", "zoe", "Åsa", "Bo"]
    ordered = sorted(people, key=collation_key)
    assert ordered[:2] == ["Åsa", "Bo"]
    assert ordered.index("Élodie") < ordered.index("emma") < ordered.index("Eve")
    assert ordered[-2:] in (["zoe", "Zoë"], ["Zoë", "zoe"])
    assert ordered.index("Wei") < ordered.index("zoe")


def test_a_name_column_sorts_naturally_and_accent_insensitively() -> None:
    """The row index sorts a text column by the same collation, ties by key."""
    index = RowIndex(res.SPACES_VIEW, Lookups())
    index.replace([space("1", "Élodie 10"), space("2", "Elodie 9"), space("3", "Wei"),
                   space("4", "adam")])
    index.sort(0)
    assert names(index) == ["adam", "Elodie 9", "Élodie 10", "Wei"]
    index.sort(0, descending=True)
    assert names(index) == ["Wei", "Élodie 10", "Elodie 9", "adam"]


def test_floors_sort_by_their_level_in_the_floors_and_spaces_tabs() -> None:
    """A Floor column sorts by the floor's numeric level: parking, ground, 1, 2 … 10."""
    floors = [
        {"key": "F10", "name": "Level 10", "type": "floor", "level": 10, "siteKey": "S1"},
        {"key": "F2", "name": "Level 2", "type": "floor", "level": 2, "siteKey": "S1"},
        {"key": "FP", "name": "Parking Level P1", "type": "floor", "level": -1, "siteKey": "S1"},
        {"key": "FG", "name": "Ground Floor", "type": "floor", "level": 0, "siteKey": "S1"},
    ]
    lookups = Lookups()
    lookups.set_rows("locations", floors)
    floor_index = RowIndex(res.FLOORS_VIEW, lookups)
    floor_index.replace(floors)
    floor_index.sort(0)
    assert names(floor_index) == ["Parking Level P1", "Ground Floor", "Level 2", "Level 10"]
    floor_index.sort(0, descending=True)
    assert names(floor_index) == ["Level 10", "Level 2", "Ground Floor", "Parking Level P1"]
    assert lookups.floors("S1") == ["FP", "FG", "F2", "F10"]

    spaces = RowIndex(res.SPACES_VIEW, lookups)
    spaces.replace([space(k, f"Desk on {k}", parentKey=k) for k in ("F10", "FG", "F2", "FP")])
    spaces.sort([c.id for c in res.SPACES_VIEW.columns].index("floor"))
    assert [r["parentKey"] for r in (spaces.rows[i] for i in spaces.visible)] == [  # type: ignore[index]
        "FP", "FG", "F2", "F10"]


def test_rows_that_tie_sort_by_name_whatever_their_arrival() -> None:
    """Sorting by type orders the spaces of one type by name, not by arrival."""
    rows = [space("1", "Cubicle", type="workstation"), space("2", "alcove", type="workstation"),
            space("3", "Board", type="meeting_room"), space("4", "Bay", type="workstation")]
    for arrival in (rows, rows[::-1]):
        index = RowIndex(res.SPACES_VIEW, Lookups())
        index.replace(arrival)
        index.sort([c.id for c in res.SPACES_VIEW.columns].index("type"))
        assert names(index) == ["Board", "alcove", "Bay", "Cubicle"]


def test_odd_types_in_a_text_column_sort_as_their_text() -> None:
    """A number where text is expected neither crashes the sort nor goes first blindly."""
    index = RowIndex(res.SPACES_VIEW, Lookups())
    index.replace([space("1", "Room 12"), space("2", 7), space("3", "Annex")])  # type: ignore[arg-type]
    index.sort(0)
    assert names(index) == [7, "Annex", "Room 12"]


def _reference_key(text: str) -> str:
    """The key as specified: casefold, strip accents and ends, each run of digits as its
    length then its digits, the casefolded original after a NUL when anything changed."""
    import re

    from makini_desktop.table.collate import strip_accents

    def number(match: re.Match[str]) -> str:
        digits = match.group().lstrip("0") or "0"
        return chr(0x30 + min(len(digits), 48)) + digits

    original = text.casefold()
    folded = re.sub(r"\d+", number, strip_accents(original).strip())
    return folded if folded == original else folded + "\x00" + original


_TRICKY = ["", " ", "0", "007", "Level 007 and 0", "a1b22c333", "Élodie 02", " x ", "ß9",
           "\u0661\u0662 abc 00", "İstanbul", "ﬁ 12", "a\u0301b", "—x—", "x" + "9" * 60,
           "ǅ10", "Σ2ς", "\u00bd 3"]


def test_keys_are_the_specified_ones() -> None:
    """Each key is exactly the specified fold (digits, accents, ends, the tie)."""
    from makini_desktop.table.collate import _collation_key

    for text in _TRICKY:
        assert _collation_key(text) == _reference_key(text), repr(text)


def test_keys_are_the_specified_ones_for_any_text() -> None:
    """The same for generated text (letters, digits, marks, spaces)."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from makini_desktop.table.collate import _collation_key

    @settings(max_examples=300, deadline=None)
    @given(st.text(alphabet=st.sampled_from("aZé0129 \u0301\u0661ßİﬁ-_.ø"), max_size=20))
    def check(text: str) -> None:
        assert _collation_key(text) == _reference_key(text)

    check()


def test_placing_staged_rows_forgets_the_remembered_keys_and_keys_stay_the_same() -> None:
    """The names a bulk of staged rows was keyed by are not held once placed; a key
    asked for again is the same."""
    from makini_desktop.table.collate import remembered_key

    index = RowIndex(res.SPACES_VIEW, Lookups())
    index.sort(0)
    index.replace([space("a", "Zulu 7")])
    index.stage([space("b", "Alpha 12"), space("c", "Mike")])
    assert remembered_key("Alpha 12") == collation_key("Alpha 12")
    for _ in index.place_staged_steps():
        pass
    assert names(index) == ["Alpha 12", "Mike", "Zulu 7"]
    assert remembered_key("Alpha 12") is None
    assert collation_key("Alpha 12") == "alpha 212\x00alpha 12"

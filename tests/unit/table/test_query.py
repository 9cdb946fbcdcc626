"""The search box's language: words at word starts, phrases, field:value, -word, folding."""

from __future__ import annotations

from makini_desktop.table.query import Query, Term, column_for, fold, fold_cell, parse

HEADINGS = [(0, "Visitor"), (1, "Company"), (3, "Host"), (5, "Status"), (6, "Expected"),
            (7, "Checked in"), (8, "Checked out")]


def test_words_fold_case_accents_and_punctuation() -> None:
    """Case, accents and the punctuation between words do not matter."""
    assert fold("Zoë O'Brien-Smith") == "zoe obrien smith"
    assert fold("ÉLODIE") == "elodie"
    assert fold("Straße") == "strasse"
    assert fold_cell("Level 3") == " level 3 "


def test_plain_words_become_word_start_terms() -> None:
    """Every word is a term that must start a word of the row."""
    query = parse("  okafor   3.001 ")
    assert query.terms == (Term("okafor"), Term("3 001"))
    assert query.terms[1].needle in fold_cell("3.001 Workstation")
    assert query.terms[1].needle not in fold_cell("13.001 Workstation")


def test_a_quoted_phrase_is_one_whole_word_term() -> None:
    """"level 3" matches Level 3 but neither Level 30 nor "3 Level"."""
    (term,) = parse('"Level 3"').terms
    assert term == Term("level 3", phrase=True)
    assert term.needle in fold_cell("Level 3")
    assert term.needle not in fold_cell("Level 30")
    assert term.needle not in fold_cell("3 Level")


def test_an_unclosed_quote_is_a_phrase_to_the_end() -> None:
    """A phrase still being typed is a phrase already."""
    assert parse('"level 3').terms == (Term("level 3", phrase=True),)


def test_field_value_names_a_column_by_its_heading() -> None:
    """host:okafor looks only in the Host column; case and a unique prefix are fine."""
    assert parse("host:Okafor", HEADINGS).terms == (Term("okafor", column=3),)
    assert parse("STAT:pending", HEADINGS).terms == (Term("pending", column=5),)
    assert parse('status:"checked in"', HEADINGS).terms == (
        Term("checked in", phrase=True, column=5),)


def test_an_ambiguous_or_unknown_field_is_an_ordinary_word() -> None:
    """checked: names two columns and 10: none, so both are searched as text."""
    assert parse("checked:today", HEADINGS).terms == (Term("checked today"),)
    assert parse("10:30", HEADINGS).terms == (Term("10 30"),)
    assert column_for("checkedin", HEADINGS) == 7
    assert column_for("expected", HEADINGS) == 6


def test_a_word_of_a_heading_names_its_column() -> None:
    """audited: names "Last audited" when no heading starts with it."""
    assert column_for("audited", [(0, "Tag"), (10, "Last audited")]) == 10
    assert column_for("last", [(0, "Tag"), (10, "Last audited")]) == 10


def test_minus_excludes_words_phrases_and_fields() -> None:
    """-word, -"a phrase" and -field:value exclude; a lone minus is nothing."""
    query = parse('-storage -"break room" -status:cancelled -', HEADINGS)
    assert query.terms == (
        Term("storage", exclude=True),
        Term("break room", phrase=True, exclude=True),
        Term("cancelled", column=5, exclude=True),
    )
    assert parse("room-101").terms == (Term("room 101"),)  # a hyphen inside is no minus


def test_terms_that_fold_to_nothing_are_dropped_and_repeats_count_once() -> None:
    """Punctuation alone searches for nothing; the same word twice is one term."""
    assert not parse(". , -- \"\"")
    assert parse("desk desk DESK").terms == (Term("desk"),)


def test_typing_on_narrows_but_an_exclusion_or_phrase_does_not() -> None:
    """A longer word narrows; a longer -word or "phrase" lets other rows through."""
    assert parse("boa").narrows(parse("bo"))
    assert parse("bo harbour").narrows(parse("bo"))
    assert not parse("bo").narrows(Query())
    assert not parse("-boa").narrows(parse("-bo"))
    assert not parse('"level 30"').narrows(parse('"level 3"'))
    assert not parse("level").narrows(parse("level 3"))

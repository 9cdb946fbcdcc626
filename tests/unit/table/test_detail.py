"""Describer: a record's fields, other fields and related records, as the pane shows them."""

from __future__ import annotations

from makini_desktop.sandbox.data import generate
from makini_desktop.table.detail import Describer, Place, as_plain_text, human_label, other_text
from makini_desktop.table.lookups import Lookups
from makini_desktop.table.related import RelatedIndex


def _describer(data, status=lambda _ds: None) -> Describer:
    lookups, index = Lookups(), RelatedIndex()
    for name in ("sites", "locations", "assets", "moves", "visits"):
        rows = data.visible(name)
        if name in Lookups.DATASETS:
            lookups.set_rows(name, rows)
        index.set_rows(name, rows)
    return Describer(lookups, index, status)


def test_labels_of_unknown_fields_read_as_words():
    """Field names become labels: camelCase split, acronyms kept."""
    assert human_label("costCenter") == "Cost center"
    assert human_label("hasAV") == "Has AV"
    assert human_label("fire_warden") == "Fire warden"


def test_unknown_values_are_shown_as_a_person_reads_them():
    """Yes/no for booleans, local time for timestamps, lists joined, the rest as sent."""
    assert other_text(True) == "Yes"
    assert other_text(["a", "b"]) == "a, b"
    assert other_text({"x": 1}) == '{"x": 1}'
    assert "T" not in other_text("2026-03-14T09:30:00Z")
    assert other_text("2029-01-01") == "2029-01-01"


def test_an_asset_shows_names_not_keys_and_its_custom_fields():
    """An asset's building and location are names; its custom fields are under Other."""
    data = generate("small")
    asset = next(a for a in data.visible("assets") if "customFields" in a)
    detail = _describer(data).describe(Place("assets", asset["key"]), asset)
    fields = dict(detail.fields)
    site = next(s for s in data.visible("sites") if s["key"] == asset["siteKey"])
    assert fields["Building"] == site["name"]
    assert detail.title == asset["name"]
    other = dict(detail.other)
    assert other["Purchase order"] == asset["customFields"]["purchaseOrder"]
    assert other["Supplier"] == asset["customFields"]["supplier"]
    text = as_plain_text(detail)
    assert f"Asset: {asset['name']}" in text
    assert "Other fields" in text


def test_a_reference_to_a_list_not_loaded_says_so():
    """A visit's space whose list is not loaded yet says so, never shows a bare key."""
    data = generate("small")
    lookups, index = Lookups(), RelatedIndex()
    visit = data.visible("visits")[0]
    index.set_rows("visits", [visit])
    describer = Describer(lookups, index, lambda ds: "not loaded yet" if ds != "visits" else None)
    detail = describer.describe(Place("visitors", visit["key"]), visit)
    headings = [g.heading for g in detail.related]
    assert "Building (not loaded yet)" in headings
    assert "Space (not loaded yet)" in headings
    assert dict(detail.fields)["Space"].startswith("Not loaded yet")


def test_a_long_list_of_links_stops_until_all_are_asked_for():
    """A building's thousands of spaces list LINKS_SHOWN links and say how many more."""
    from makini_desktop.table.detail import LINKS_SHOWN

    lookups, index = Lookups(), RelatedIndex()
    site = {"key": "B1", "name": "HQ"}
    spaces = [{"key": f"S{i}", "siteKey": "B1", "type": "office", "name": f"Room {i}",
               "code": f"HQ-{i}"} for i in range(LINKS_SHOWN + 50)]
    index.set_rows("sites", [site])
    index.set_rows("locations", spaces)
    describer = Describer(lookups, index, lambda _ds: None)
    detail = describer.describe(Place("buildings", "B1"), site)
    group = detail.related[1]
    assert (len(group.links), group.more) == (LINKS_SHOWN, 50)
    assert group.heading == f"Spaces ({LINKS_SHOWN + 50:,})"
    assert [link.text.split(" · ")[0] for link in group.links[:3]] == ["Room 0", "Room 1",
                                                                       "Room 2"]
    assert as_plain_text(detail).rstrip().endswith("… and 50 more")
    whole = describer.describe(Place("buildings", "B1"), site, show_all=frozenset({"Spaces"}))
    assert len(whole.related[1].links) == LINKS_SHOWN + 50

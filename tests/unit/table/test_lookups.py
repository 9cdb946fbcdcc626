"""Lookups: names of referenced records as plain data with a change callback."""

from __future__ import annotations

from makini_desktop.table.lookups import Lookups


def test_listeners_hear_which_dataset_changed():
    """A change of names calls each listener with the dataset; an unchanged set does not."""
    lk = Lookups()
    heard: list[str] = []
    lk.subscribe(heard.append)
    lk.set_rows("sites", [{"key": "S1", "name": "Mill"}])
    lk.set_rows("sites", [{"key": "S1", "name": "Mill"}])
    lk.update_rows("locations", [{"key": "F1", "code": "L1"}])
    lk.retain("sites", set())
    assert heard == ["sites", "locations", "sites"]
    assert lk.name("locations", "F1") == "L1"  # a record without a name goes by its code


def test_matching_keys_follow_renames(lookups):
    """matching_keys sees a rename at once (its casefolded names are recomputed)."""
    assert lookups.matching_keys("sites", "harb") == {"S1"}
    lookups.update_rows("sites", [{"key": "S1", "name": "Quay"}])
    assert lookups.matching_keys("sites", "harb") == set()
    assert lookups.matching_keys("sites", "QUAY") == {"S1"}


def test_clear_forgets_names_and_units():
    """After clear() no name or area unit is known, and listeners heard of each dataset."""
    lk = Lookups()
    lk.set_rows("sites", [{"key": "S1", "name": "Mill", "areaUnit": "m2"}])
    heard: list[str] = []
    lk.subscribe(heard.append)
    lk.clear()
    assert heard == ["sites"]
    assert lk.name("sites", "S1") is None and lk.area_unit("S1") is None


def test_a_snapshot_keeps_the_names_it_was_taken_with(lookups):
    """Names and units changed after snapshot() leave the snapshot as it was."""
    lookups.set_rows("sites", [{"key": "S1", "name": "Harbour House", "areaUnit": "m2"}])
    snap = lookups.snapshot()
    lookups.set_rows("sites", [{"key": "S1", "name": "Renamed", "areaUnit": "sqft"}])
    lookups.update_rows("locations", [{"key": "F1", "name": "Ground", "type": "floor"}])
    assert snap.name("sites", "S1") == "Harbour House" and snap.area_unit("S1") == "m2"
    assert snap.name("locations", "F1") == "Level 1"
    assert lookups.name("sites", "S1") == "Renamed"

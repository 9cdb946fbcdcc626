"""Saved views in the local profile, and view files shared between colleagues."""

from __future__ import annotations

import json

import pytest

from makini_desktop.store import paths
from makini_desktop.store.views import (
    FILE_KIND,
    PRESETS,
    ViewFileError,
    ViewState,
    ViewStore,
    export_views,
    import_views,
)

ON_SITE = ViewState("visitors", "Lobby today", "okafor", {"status": "checked_in"},
                    "expected", True, ("visitor", "host", "expected"))


def test_a_saved_view_is_there_after_a_restart():
    """A view put in the store is read back, identical, by a new store on the same profile."""
    ViewStore().put(ON_SITE)
    again = ViewStore()
    assert again.views("visitors") == [ON_SITE]
    assert again.path.parent == paths.config_dir()
    assert again.path.name == "views.json"


def test_saving_a_name_again_replaces_the_view_case_insensitively():
    """Saving "lobby TODAY" replaces "Lobby today" of the same tab, not another tab's."""
    store = ViewStore()
    store.put(ON_SITE)
    store.put(ViewState("moves", "Lobby today"))
    store.put(ViewState("visitors", "lobby TODAY", search="new"))
    assert [v.search for v in ViewStore().views("visitors")] == ["new"]
    assert len(ViewStore().views("moves")) == 1


def test_the_profile_file_holds_ids_only_and_no_temporary_file_is_left():
    """views.json holds the view's ids and search, nothing else; the write leaves no .tmp."""
    store = ViewStore()
    store.put(ON_SITE)
    doc = json.loads(store.path.read_text("utf-8"))
    assert doc["kind"] == FILE_KIND and doc["version"] == 1
    assert doc["views"] == [{
        "tab": "visitors", "name": "Lobby today", "search": "okafor",
        "filters": {"status": "checked_in"},
        "sort": {"column": "expected", "order": "descending"},
        "columns": ["visitor", "host", "expected"],
    }]
    assert sorted(p.name for p in store.path.parent.iterdir() if "views" in p.name) == [
        "views.json"]


def test_removing_a_view_forgets_it():
    """remove() deletes the named view and says False for a name not saved."""
    store = ViewStore()
    store.put(ON_SITE)
    assert store.remove("visitors", "LOBBY today")
    assert not store.remove("visitors", "Lobby today")
    assert ViewStore().views("visitors") == []


def test_an_unreadable_profile_file_is_moved_aside_not_overwritten():
    """A damaged views.json is kept as views.json.corrupt-* when a new view is saved."""
    path = paths.config_dir() / "views.json"
    path.write_text("{not json", "utf-8")
    store = ViewStore()
    assert store.views("visitors") == []
    store.put(ON_SITE)
    aside = [p for p in path.parent.iterdir() if p.name.startswith("views.json.corrupt-")]
    assert len(aside) == 1 and aside[0].read_text("utf-8") == "{not json"
    assert ViewStore().views("visitors") == [ON_SITE]


def test_an_exported_file_imports_as_the_same_views(tmp_path):
    """export_views then import_views gives back the views (built-in flag dropped)."""
    target = tmp_path / "team views.json"
    views = [ON_SITE, ViewState("assets", "Old kit", sort_column="audited")]
    export_views(target, views)
    assert import_views(target) == views


@pytest.mark.parametrize(("content", "words"), [
    (b"\x89PNG\r\n", "not a text file"),
    (b"{\"kind\": ", "not valid JSON (line 1)"),
    (b"[1, 2]", "not a makini-desktop view file"),
    (json.dumps({"kind": FILE_KIND, "version": 7, "views": []}).encode(), "newer makini"),
    (json.dumps({"kind": FILE_KIND, "version": 1}).encode(), "no list of views"),
    (json.dumps({"kind": FILE_KIND, "version": 1,
                 "views": [{"tab": "rockets", "name": "x"}]}).encode(), "unknown tab 'rockets'"),
    (json.dumps({"kind": FILE_KIND, "version": 1,
                 "views": [{"tab": "moves", "name": " "}]}).encode(), "view 1 has no name"),
    (json.dumps({"kind": FILE_KIND, "version": 1, "views": [
        {"tab": "moves", "name": "A", "filters": {"status": 3}}]}).encode(),
     "view 1 (“A”) has filters"),
    (json.dumps({"kind": FILE_KIND, "version": 1, "views": [
        {"tab": "moves", "name": "A", "sort": {"column": "title", "order": "up"}}]}).encode(),
     "sort order 'up'"),
])
def test_a_bad_view_file_is_refused_with_a_sentence_naming_it(tmp_path, content, words):
    """Each kind of bad file raises ViewFileError naming the file and what is wrong."""
    target = tmp_path / "shared.json"
    target.write_bytes(content)
    with pytest.raises(ViewFileError) as caught:
        import_views(target)
    message = str(caught.value)
    assert message.startswith("shared.json") or "shared.json" in message
    assert words in message


def test_columns_this_version_lacks_are_dropped_on_import(tmp_path):
    """A shared view naming a column unknown here opens with the columns that are known."""
    target = tmp_path / "newer.json"
    target.write_text(json.dumps({"kind": FILE_KIND, "version": 1, "views": [{
        "tab": "assets", "name": "Kit", "columns": ["tag", "warranty", "name"],
        "sort": {"column": "warranty", "order": "ascending"}}]}), "utf-8")
    (view,) = import_views(target)
    assert view.columns == ("tag", "name") and view.sort_column is None


def test_every_preset_names_columns_of_its_tab():
    """The built-in views are the five the issue names, each on a real tab and column."""
    from makini_desktop.api import resources as res

    assert [p.name for p in PRESETS] == [
        "On site now", "Expected today", "Pending moves", "Vacant desks",
        "Assets not audited in 12 months"]
    for preset in PRESETS:
        ids = {c.id for c in res.VIEWS[preset.tab].columns}
        assert preset.sort_column in ids and set(preset.columns) <= ids and preset.builtin

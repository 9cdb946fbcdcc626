"""RelatedIndex: who refers to whom, kept up to date row by row, without Qt."""

from __future__ import annotations

from collections import Counter

from makini_desktop.api import resources as res
from makini_desktop.sandbox.data import generate
from makini_desktop.table.related import BY_ASSET, BY_LOCATION, BY_PARENT, BY_SITE, RelatedIndex


def _loaded(data) -> RelatedIndex:
    index = RelatedIndex()
    for name in ("sites", "locations", "assets", "moves", "visits"):
        index.set_rows(name, data.visible(name))
    return index


def test_lookups_equal_what_a_scan_of_the_sandbox_finds():
    """Every relation the index answers equals a scan of the sandbox's own records."""
    data = generate("small")
    index = _loaded(data)
    locations = data.visible("locations")
    assets = data.visible("assets")
    for site in data.visible("sites"):
        expected = {r["key"] for r in locations if r["siteKey"] == site["key"]}
        assert {r["key"] for r in index.referring("locations", BY_SITE, site["key"])} == expected
    per_space = Counter(a["locationKey"] for a in assets)
    for key, count in per_space.items():
        assert len(index.referring("assets", BY_LOCATION, key)) == count
    for move in data.visible("moves"):
        for item in move["items"]:
            for field in ("fromLocationKey", "toLocationKey"):
                if item.get(field):
                    keys = {m["key"] for m in index.referring("moves", BY_LOCATION, item[field])}
                    assert move["key"] in keys
            if item.get("assetKey"):
                keys = {m["key"] for m in index.referring("moves", BY_ASSET, item["assetKey"])}
                assert move["key"] in keys
    floor = next(r for r in locations if r["type"] == "floor")
    on_floor = [r for r in locations if r.get("parentKey") == floor["key"]]
    assert len(index.referring("locations", BY_PARENT, floor["key"])) == len(on_floor)


def test_a_changed_row_moves_between_lists_and_a_deleted_one_leaves():
    """An asset that moves to another space leaves the first list; a deleted one leaves all."""
    index = RelatedIndex()
    index.set_rows("assets", [
        {"key": "A1", "locationKey": "S1"}, {"key": "A2", "locationKey": "S1"},
    ])
    index.update_rows("assets", [{"key": "A1", "locationKey": "S2"}])
    assert [r["key"] for r in index.referring("assets", BY_LOCATION, "S1")] == ["A2"]
    assert [r["key"] for r in index.referring("assets", BY_LOCATION, "S2")] == ["A1"]
    index.update_rows("assets", [], deleted_keys=["A2"])
    assert index.referring("assets", BY_LOCATION, "S1") == []
    assert index.get("assets", "A2") is None
    assert index.count("assets") == 1


def test_malformed_items_and_keys_are_tolerated():
    """Items that are not objects, a missing list and numeric keys never break the index."""
    index = RelatedIndex()
    index.set_rows("moves", [
        {"key": 7, "items": ["odd", None, {"fromLocationKey": 12, "assetKey": ""}]},
        {"key": "M2", "items": "not a list"},
        {"title": "no key"},
    ])
    assert [r["key"] for r in index.referring("moves", BY_LOCATION, "12")] == [7]
    assert index.referring("moves", BY_ASSET, "") == []
    assert index.get("moves", "7")["key"] == 7


def test_rows_a_view_leaves_out_are_compared_against_the_index():
    """The Spaces tab skips floors; the index still reports a floor that changed or went."""
    index = RelatedIndex()
    floor = {"key": "F1", "type": "floor", "updatedAt": "2026-01-01T00:00:00Z"}
    gone = {"key": "F2", "type": "floor", "updatedAt": "2026-01-01T00:00:00Z"}
    index.set_rows("locations", [floor, gone, {"key": "S1", "type": "office"}])
    changed = dict(floor, name="Level 1", updatedAt="2026-02-01T00:00:00Z")
    seen: set[str] = set()
    is_space = res.SPACES_VIEW.accepts
    assert index.changed_outside("locations", [changed, dict(floor)], is_space, seen) == [changed]
    assert seen == {"F1"}
    assert index.keys_outside_not_in("locations", seen, is_space) == ["F2"]


def test_listeners_hear_each_change_and_clear_forgets_everything():
    """A listener is told which dataset changed; clear() empties every relation."""
    index = RelatedIndex()
    heard: list[str] = []
    index.subscribe(heard.append)
    index.set_rows("visits", [{"key": "V1", "locationKey": "S1"}])
    index.update_rows("visits", [{"key": "V2", "locationKey": "S1"}])
    assert heard == ["visits", "visits"]
    assert index.has_rows("visits")
    index.clear()
    assert heard[-1] == "visits"
    assert index.referring("visits", BY_LOCATION, "S1") == []
    assert not index.has_rows("visits")


def test_a_lone_referrer_grows_to_many_and_back_in_arrival_order():
    """A key referred to once, then by more rows, then by fewer, lists them in arrival
    order every time; the same row put again is listed once."""
    index = RelatedIndex()
    index.set_rows("assets", [{"key": "A1", "locationKey": "S1"}])

    def at(space: str) -> list[str]:
        return [r["key"] for r in index.referring("assets", BY_LOCATION, space)]

    assert at("S1") == ["A1"]
    index.update_rows("assets", [{"key": "A1", "locationKey": "S1", "name": "again"}])
    assert at("S1") == ["A1"]
    index.update_rows("assets", [{"key": "A2", "locationKey": "S1"},
                                 {"key": "A3", "locationKey": "S1"}])
    assert at("S1") == ["A1", "A2", "A3"]
    index.update_rows("assets", [], deleted_keys=["A1", "A3"])
    assert at("S1") == ["A2"]
    index.update_rows("assets", [{"key": "A2", "locationKey": "S2"}])
    assert at("S1") == [] and at("S2") == ["A2"]
    index.update_rows("assets", [], deleted_keys=["A2"])
    assert at("S2") == []
    index.update_rows("moves", [{"key": "M1", "items": [
        {"fromLocationKey": "S1", "toLocationKey": "S1", "assetKey": "A9"}]}])
    assert [r["key"] for r in index.referring("moves", BY_LOCATION, "S1")] == ["M1"]
    index.update_rows("moves", [], deleted_keys=["M1"])
    assert index.referring("moves", BY_LOCATION, "S1") == []
    assert index.referring("moves", BY_ASSET, "A9") == []


def test_referrers_past_a_few_keep_their_order_and_each_row_once():
    """A space with more assets than a tuple holds (FEW_REFERRERS) lists them in arrival
    order (a row put again comes last), each once, through removals from the middle and
    down to a single one."""
    from makini_desktop.table.related import FEW_REFERRERS

    index = RelatedIndex()

    def at(space: str) -> list[str]:
        return [r["key"] for r in index.referring("assets", BY_LOCATION, space)]

    for count in (2, FEW_REFERRERS, FEW_REFERRERS + 3):
        keys = [f"A{i}" for i in range(count)]
        index.set_rows("assets", [{"key": k, "locationKey": "S1"} for k in keys])
        index.update_rows("assets", [{"key": keys[0], "locationKey": "S1", "name": "again"},
                                     {"key": keys[-1], "locationKey": "S1"}])
        assert at("S1") == [*keys[1:-1], keys[0], keys[-1]]
        index.update_rows("assets", [], deleted_keys=keys[1:-1])
        assert at("S1") == [keys[0], keys[-1]]
        index.update_rows("assets", [{"key": keys[0], "locationKey": "S2"}])
        assert at("S1") == [keys[-1]] and at("S2") == [keys[0]]
    moves = [{"key": f"M{i}", "items": [{"fromLocationKey": "S1", "toLocationKey": "S2",
                                         "assetKey": "A1"}]} for i in range(FEW_REFERRERS + 2)]
    index.set_rows("moves", moves)
    assert [r["key"] for r in index.referring("moves", BY_LOCATION, "S2")] == [
        m["key"] for m in moves]
    index.update_rows("moves", [], deleted_keys=[m["key"] for m in moves[:-1]])
    assert [r["key"] for r in index.referring("moves", BY_ASSET, "A1")] == [moves[-1]["key"]]


def _answers(index: RelatedIndex, data) -> dict[str, object]:
    """Everything a detail pane asks of the sandbox's records, in the index's order."""
    return {
        "spaces": {s["key"]: [r["key"] for r in index.referring("assets", BY_LOCATION, s["key"])]
                   for s in data.visible("locations")},
        "sites": {s["key"]: [r["key"] for r in index.referring("locations", BY_SITE, s["key"])]
                  for s in data.visible("sites")},
        "counts": {n: index.count(n) for n in ("sites", "locations", "assets", "moves")},
    }


def test_rows_wait_until_read_or_caught_up_and_answer_as_if_indexed_at_once():
    """Rows staged for later (a start from the cache) wait to be indexed; catch_up indexes
    them a slice at a time (a turn of the loop between slices), rows arriving meanwhile
    included (queued behind them), and a read between two slices already sees its whole
    list. The answers equal those of an index that took every chunk at once, in the same
    arrival order."""
    import asyncio

    from makini_desktop.table import related

    data = generate("small")
    chunks = {n: [data.visible(n)[i:i + 70] for i in range(0, len(data.visible(n)), 70)]
              for n in ("sites", "locations", "assets", "moves")}
    gone = [a["key"] for a in data.visible("assets")[::50]]
    eager, lazy = RelatedIndex(), RelatedIndex()
    for index in (eager, lazy):
        for name, parts in chunks.items():
            index.set_rows(name, parts[0])  # the first screenful: indexed at once
            for part in parts[1:]:
                index.update_rows(name, part, later=index is lazy)
    assert lazy.waiting == sum(len(data.visible(n)) - len(chunks[n][0]) for n in chunks)
    assert eager.waiting == 0

    space = data.visible("assets")[-1]["locationKey"]

    async def catch_up_with_a_read_between() -> tuple[int, list[str], bool]:
        total = lazy.waiting
        job = asyncio.ensure_future(lazy.catch_up())
        turns = 0
        while not 0 < lazy.waiting < total:  # part of it indexed, part waiting
            assert not job.done(), "caught up without a turn of the loop between slices"
            await asyncio.sleep(0)
            turns += 1
        lazy.update_rows("assets", [], deleted_keys=gone)  # arrives during the catch-up
        eager.update_rows("assets", [], deleted_keys=gone)
        mid = [r["key"] for r in lazy.referring("assets", BY_LOCATION, space)]
        assets_settled = "assets" not in lazy._waiting
        await job
        return turns, mid, assets_settled

    old_slice = related.CATCH_UP_SLICE_SECONDS
    related.CATCH_UP_SLICE_SECONDS = 0.0  # a turn of the loop after every step
    try:
        turns, mid, assets_settled = asyncio.run(catch_up_with_a_read_between())
    finally:
        related.CATCH_UP_SLICE_SECONDS = old_slice
    assert turns > 0
    assert assets_settled  # the read indexed its own list at once
    assert mid == [r["key"] for r in eager.referring("assets", BY_LOCATION, space)]
    assert lazy.waiting == 0
    assert _answers(lazy, data) == _answers(eager, data)
    assert lazy.get("assets", gone[0]) is None and lazy.count("assets") == len(
        data.visible("assets")) - len(gone)


def test_set_rows_drops_what_waited_and_clear_forgets_it():
    """A list read anew replaces the rows still waiting; rows that arrive behind waiting
    ones wait with them, in order; clear() forgets them too."""
    index = RelatedIndex()
    index.set_rows("assets", [{"key": "A1", "locationKey": "S1"}])
    index.update_rows("assets", [{"key": "A2", "locationKey": "S1"}], later=True)
    index.set_rows("assets", [{"key": "A3", "locationKey": "S1"}])
    assert index.waiting == 0
    assert [r["key"] for r in index.referring("assets", BY_LOCATION, "S1")] == ["A3"]
    index.update_rows("assets", [{"key": "A4", "locationKey": "S1"}], later=True)
    index.update_rows("assets", [], deleted_keys=["A3"])  # now, but behind A4
    assert index.waiting == 2
    assert [r["key"] for r in index.referring("assets", BY_LOCATION, "S1")] == ["A4"]
    index.update_rows("assets", [{"key": "A5", "locationKey": "S1"}], later=True)
    index.clear()
    assert index.waiting == 0
    assert index.referring("assets", BY_LOCATION, "S1") == []
    assert not index.has_rows("assets")


def test_a_list_sorted_after_it_was_handed_over_keeps_its_arrival_order():
    """The caller may sort the list it handed over (a table sorts its rows): the index
    keeps the order the rows arrived in."""
    index = RelatedIndex()
    rows = [{"key": f"A{i}", "locationKey": "S1"} for i in (3, 1, 2)]
    index.set_rows("assets", [])
    index.update_rows("assets", rows, later=True)
    rows.sort(key=lambda r: r["key"])
    assert [r["key"] for r in index.referring("assets", BY_LOCATION, "S1")] == ["A3", "A1", "A2"]

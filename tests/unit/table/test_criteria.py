"""The saved views' own criteria (audit age, desks), against the sandbox's own data."""

from __future__ import annotations

from datetime import UTC, datetime

from makini_desktop.api import resources as res
from makini_desktop.sandbox.server import SandboxConfig, SandboxServer
from makini_desktop.table.criteria import criterion, twelve_months_before
from makini_desktop.table.rowindex import RowIndex

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _data():
    return SandboxServer(SandboxConfig(scale="small", seed=42, tokens=("t",))).data


def test_assets_not_audited_in_12_months_are_the_old_and_the_never_audited():
    """audit=over_12_months keeps assets audited before 2025-12-01 12:00 UTC or never."""
    assets = _data().visible("assets")
    expected = [
        a["key"] for a in assets
        if not a.get("lastAuditedAt") or a["lastAuditedAt"] < "2025-12-01T12:00:00Z"
    ]
    accepts = criterion("assets", {"audit": "over_12_months"}, now=NOW)
    assert accepts is not None
    assert [a["key"] for a in assets if accepts(a)] == expected
    assert 0 < len(expected) < len(assets)


def test_desk_criterion_keeps_workstations_and_hoteling_desks():
    """desk=yes keeps the spaces typed workstation or hoteling_desk, nothing else."""
    spaces = [r for r in _data().visible("locations") if r["type"] != "floor"]
    accepts = criterion("spaces", {"desk": "yes", "status": "ignored-here"})
    assert accepts is not None
    assert sum(map(accepts, spaces)) == sum(
        r["type"] in ("workstation", "hoteling_desk") for r in spaces)


def test_a_criterion_of_another_tab_or_an_unknown_value_is_no_criterion():
    """Filters that are not this module's, or not for this tab, give None."""
    assert criterion("moves", {"audit": "over_12_months"}) is None
    assert criterion("assets", {"audit": "yesterday", "status": "pending"}) is None


def test_twelve_months_before_29_february_is_28_february():
    """A leap day a year back is the 28th."""
    assert twelve_months_before(datetime(2028, 2, 29, tzinfo=UTC)) == datetime(
        2027, 2, 28, tzinfo=UTC)


def test_the_row_index_applies_a_criterion_beside_search_and_building():
    """set_criterion narrows what is shown with the building filter, None shows all again."""
    data = _data()
    index = RowIndex(res.ASSETS_VIEW)
    assets = data.visible("assets")
    index.replace(assets)
    site = data.visible("sites")[0]["key"]
    index.set_building(site)
    index.set_criterion(criterion("assets", {"audit": "over_12_months"}, now=NOW))
    expected = {a["key"] for a in assets if a["siteKey"] == site and (
        not a.get("lastAuditedAt") or a["lastAuditedAt"] < "2025-12-01T12:00:00Z")}
    assert {index.rows[i]["key"] for i in index.visible} == expected  # type: ignore[index]
    index.set_criterion(None)
    assert len(index.visible) == sum(a["siteKey"] == site for a in assets)

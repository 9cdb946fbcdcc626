"""The Overview's table twins: the chart's numbers, copyable as text."""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication, QKeySequence

from makini_desktop.sandbox.data import generate
from makini_desktop.table import overview as ov
from makini_desktop.ui import overview_parts as parts


def small_figures() -> ov.Overview:
    data = generate("small")
    return ov.compute(ov.OverviewInput(
        spaces=data.locations, sites={s["key"]: s["name"] for s in data.sites},
        visits=data.visits, moves=data.moves, assets=data.assets, now=data.now))


def test_table_twin_copies_with_headers(qtbot, qtmodeltester):
    """Ctrl+C on a figure table puts its headers and the selected rows on the clipboard, tab
    separated; with nothing selected, the whole table."""
    table = parts.FigureTable("testTable", "Test")
    qtbot.addWidget(table)
    table.set_cells(*parts.move_rows(small_figures()))
    qtmodeltester.check(table.model())
    whole = table.copy_text().splitlines()
    assert whole[0] == "Status\tMoves" and len(whole) == 1 + table.rowCount()
    table.selectRow(1)
    qtbot.keySequence(table, QKeySequence(QKeySequence.StandardKey.Copy))
    assert QGuiApplication.clipboard().text() == "Status\tMoves\n" + "\t".join(
        table.cells()[1])


def test_new_figures_keep_the_users_selection(qtbot):
    """The Overview refills its tables every few seconds while lists load: a cell the user
    selected to copy stays selected, changed numbers show, and rows come and go."""
    table = parts.FigureTable("testTable", "Test")
    qtbot.addWidget(table)
    headers = ["Building", "Seats"]
    table.set_cells(headers, [["North", "10"], ["South", "20"], ["West", "30"]])
    table.setCurrentCell(1, 1)
    table.selectRow(1)
    table.set_cells(headers, [["North", "11"], ["South", "21"], ["West", "30"]])
    assert table.cells() == [["North", "11"], ["South", "21"], ["West", "30"]]
    assert table.copy_text() == "Building\tSeats\nSouth\t21"  # the row still selected
    table.set_cells(["Floor", "Seats", "Free"], [["1", "5", "2"]])
    assert table.cells() == [["1", "5", "2"]]
    assert [table.horizontalHeaderItem(c).text() for c in range(3)] == ["Floor", "Seats",
                                                                        "Free"]
    table.set_cells(headers, [["North", "1"], ["South", "2"]])
    assert table.cells() == [["North", "1"], ["South", "2"]]
    right = int(table.item(1, 1).textAlignment()) & int(parts.Qt.AlignmentFlag.AlignRight)
    assert right and not int(table.item(1, 0).textAlignment()) & int(
        parts.Qt.AlignmentFlag.AlignRight)


def test_every_chart_and_its_table_hold_the_same_numbers():
    """The bars drawn and the rows of the table twin come from the same figures."""
    figures = small_figures()
    bars = parts.move_bars(figures)
    _headers, rows = parts.move_rows(figures)
    assert [int(b.segments[0].value) for b in bars] == [int(r[1].replace(",", ""))
                                                         for r in rows]
    bars = parts.asset_bars(figures)
    _headers, rows = parts.asset_rows(figures)
    assert sum(b.total for b in bars) == int(rows[-1][1].replace(",", ""))
    assert len(bars) <= parts.ASSET_CHART_CATEGORIES

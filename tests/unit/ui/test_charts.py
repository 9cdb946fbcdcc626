"""The QPainter charts: drawn in light and dark without Qt warnings, exact numbers in
tooltips and descriptions, bars focused in order by the arrow keys, Enter acts as a click."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, Qt, qInstallMessageHandler
from PySide6.QtGui import QColor, QHelpEvent, QImage, QPalette
from PySide6.QtWidgets import QApplication, QToolTip

from makini_desktop.ui.charts import Bar, BarChart, Segment, StripChart


def floor(key: str, label: str, occupied: int, vacant: int) -> Bar:
    return Bar(key, label, (Segment("occupied", "Occupied", occupied, 0),
                            Segment("vacant", "Vacant", vacant, 1)),
               f"{occupied} of {occupied + vacant}")


BARS = [floor("f3", "Level 3", 42, 18), floor("f2", "Level 2", 30, 0),
        floor("f1", "Level 1", 5, 25)]
HOURS = [Bar(str(h), f"{h:02d}:00", (Segment("expected", "Expected", h % 4, 1),
                                     Segment("arrived", "Arrived", h % 3, 0)))
         for h in range(8, 19)]


def dark_palette() -> QPalette:
    p = QPalette()
    for role, colour in ((QPalette.ColorRole.Window, "#202124"),
                         (QPalette.ColorRole.Base, "#17181a"),
                         (QPalette.ColorRole.WindowText, "#e8eaed"),
                         (QPalette.ColorRole.Text, "#e8eaed"),
                         (QPalette.ColorRole.Highlight, "#4f8fe6")):
        p.setColor(role, QColor(colour))
    return p


def test_charts_render_in_light_and_dark_without_warnings(qtbot, tmp_path):
    """Both charts paint to PNG in a light and a dark palette, at 1x and 2x, with no Qt
    warning; the pictures are not blank and differ between the palettes."""
    messages: list[str] = []
    previous = qInstallMessageHandler(lambda _t, _c, msg: messages.append(msg))
    try:
        pictures = {}
        for name, palette in (("light", QApplication.palette()), ("dark", dark_palette())):
            for cls, bars in ((BarChart, BARS), (StripChart, HOURS)):
                chart = cls(f"{cls.__name__}Test", "Test chart")
                qtbot.addWidget(chart)
                chart.setPalette(palette)
                chart.set_bars(bars, ((0, "Occupied"), (1, "Vacant")))
                chart.resize(600, chart.sizeHint().height())
                for ratio in (1, 2):
                    image = QImage(chart.size() * ratio, QImage.Format.Format_ARGB32)
                    image.setDevicePixelRatio(ratio)
                    image.fill(palette.color(QPalette.ColorRole.Window))
                    chart.render(image)
                    path = tmp_path / f"{cls.__name__}-{name}-{ratio}x.png"
                    assert image.save(str(path))
                    colours = {image.pixel(x, y) for x in range(0, image.width(), 7)
                               for y in range(0, image.height(), 5)}
                    assert len(colours) > 4, path
                    pictures[(cls.__name__, name, ratio)] = image
        assert pictures[("BarChart", "light", 1)] != pictures[("BarChart", "dark", 1)]
    finally:
        qInstallMessageHandler(previous)
    assert messages == []


def test_arrow_keys_walk_the_bars_and_enter_clicks(qtbot):
    """Tab focuses the first bar; arrows move in order (zero parts skipped); Enter emits
    the focused bar's and part's ids, as a click does."""
    chart = BarChart("stackTest", "Floors")
    qtbot.addWidget(chart)
    chart.set_bars(BARS)
    chart.resize(600, 200)
    chart.show()
    chart.setFocus()
    qtbot.waitUntil(chart.hasFocus)
    seen = [chart.focused()]
    for _ in range(5):
        qtbot.keyClick(chart, Qt.Key.Key_Right)
        seen.append(chart.focused())
    assert seen == [("f3", "occupied"), ("f3", "vacant"), ("f2", "occupied"),
                    ("f1", "occupied"), ("f1", "vacant"), ("f1", "vacant")]
    qtbot.keyClick(chart, Qt.Key.Key_Left)
    with qtbot.waitSignal(chart.sig_activated) as blocker:
        qtbot.keyClick(chart, Qt.Key.Key_Return)
    assert blocker.args == ["f1", "occupied"]


def test_a_click_on_a_part_emits_its_ids(qtbot):
    """A click on a bar's vacant part reports that bar and that part."""
    chart = BarChart("stackTest", "Floors")
    qtbot.addWidget(chart)
    chart.set_bars(BARS)
    chart.resize(600, 200)
    chart.show()
    rect = chart.target_rects()[1]  # Level 3, vacant
    with qtbot.waitSignal(chart.sig_activated) as blocker:
        qtbot.mouseClick(chart, Qt.MouseButton.LeftButton, pos=rect.center().toPoint())
    assert blocker.args == ["f3", "vacant"]


def test_exact_numbers_in_tooltip_and_description(qtbot):
    """Hovering a part shows its exact figure; the accessible description has them all."""
    chart = StripChart("hoursTest", "Visitors by hour")
    qtbot.addWidget(chart)
    chart.set_bars(HOURS)
    chart.resize(600, 240)
    chart.show()
    assert "11:00: Expected: 3, Arrived: 2" in chart.accessibleDescription()
    index = [chart.bars[b].id for b, _s in chart._targets].index("11")
    rect = chart.target_rects()[index]
    pos = rect.center().toPoint()
    event = QHelpEvent(QEvent.Type.ToolTip, pos, chart.mapToGlobal(pos))
    QApplication.sendEvent(chart, event)
    qtbot.waitUntil(QToolTip.isVisible)
    assert QToolTip.text() == "11:00\nExpected: 3"
    QToolTip.hideText()


def test_no_bars_says_so(qtbot):
    """An empty chart paints its sentence and describes itself with it."""
    chart = BarChart("emptyTest", "Nothing")
    qtbot.addWidget(chart)
    chart.empty_text = "No seats"
    chart.set_bars([])
    assert chart.accessibleDescription() == "No seats"
    chart.resize(300, 80)
    assert not chart.grab().isNull()
    assert chart.focused() is None
    assert chart._hit(QPoint(10, 10)) == -1

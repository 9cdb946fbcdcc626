"""Charts drawn with QPainter: horizontal (stacked) bars and a day/hour strip.

Qt Charts and Qt Graphs are GPL-only and live in the large Addons wheel, so the app draws
its own. Two widgets share one base:

* :class:`BarChart`: one horizontal bar per item, each split into segments (occupied and
  vacant seats), the item's label on the left and its figures on the right;
* :class:`StripChart`: a column per hour or day, with one bar per series side by side
  (expected and arrived visitors), the exact number above each bar.

Both take their colours from the palette (light and dark mode), draw in device-independent
pixels (high-DPI screens), show exact numbers in labels and tooltips, and are usable from
the keyboard: Tab focuses the chart, the arrow keys move from bar to bar in order, Enter or
Space does what a click does. A click (or Enter) emits :attr:`ChartBase.sig_activated` with
the bar's and the segment's ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QEvent, QPoint, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFocusEvent,
    QFont,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
)
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

if TYPE_CHECKING:
    from PySide6.QtGui import QHelpEvent

__all__ = ["Bar", "BarChart", "ChartBase", "Segment", "StripChart", "tone_color"]


def _tr(text: str) -> str:
    return QCoreApplication.translate("Charts", text)


def _help_event_type() -> type[QHelpEvent]:
    """QHelpEvent, imported at the first tooltip: a Qt class's first use creates its Python
    type and enums (1.5 ms), none of it needed before the window's first paint."""
    from PySide6.QtGui import QHelpEvent

    return QHelpEvent


@dataclass(frozen=True)
class Segment:
    """One part of a bar.

    Attributes:
        id: what a click reports (``vacant``, ``on_site``).
        label: its name in the legend and the tooltip ("Vacant seats").
        value: its size.
        tone: its colour (see :func:`tone_color`).
        tooltip: the exact figures (default: "label: value").
    """

    id: str
    label: str
    value: float
    tone: int = 0
    tooltip: str = ""

    def tip(self) -> str:
        return self.tooltip or f"{self.label}: {_number(self.value)}"


@dataclass(frozen=True)
class Bar:
    """One item: a row of a :class:`BarChart`, a column of a :class:`StripChart`.

    Attributes:
        id: what a click reports (a floor's key, a status code).
        label: the item's name ("Level 3", "09:00").
        segments: its parts, stacked (bar chart) or side by side (strip).
        text: the figures written beside it ("42 of 60 seats occupied").
    """

    id: str
    label: str
    segments: tuple[Segment, ...]
    text: str = ""

    @property
    def total(self) -> float:
        return sum(max(s.value, 0.0) for s in self.segments)


def _number(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,.1f}"


def _mix(a: QColor, b: QColor, t: float) -> QColor:
    return QColor.fromRgbF(
        a.redF() * (1 - t) + b.redF() * t,
        a.greenF() * (1 - t) + b.greenF() * t,
        a.blueF() * (1 - t) + b.blueF() * t,
    )


def _dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Base).lightness() < 128


def tone_color(palette: QPalette, tone: int) -> QColor:
    """The fill of a tone: 0 the palette's highlight, 1 a pale highlight (the rest of a
    whole, such as vacant seats), 2 an amber that reads as "needs attention", 3 a grey."""
    highlight = palette.color(QPalette.ColorRole.Highlight)
    base = palette.color(QPalette.ColorRole.Base)
    dark = _dark(palette)
    if tone == 1:
        return _mix(highlight, base, 0.4 if dark else 0.65)
    if tone == 2:
        return QColor("#f0a030") if dark else QColor("#c06000")
    if tone == 3:
        return _mix(palette.color(QPalette.ColorRole.Text), base, 0.55)
    return highlight


def _ink_on(fill: QColor) -> QColor:
    """Black or white, whichever reads on ``fill``."""
    lum = 0.2126 * fill.redF() + 0.7152 * fill.greenF() + 0.0722 * fill.blueF()
    return QColor(Qt.GlobalColor.black) if lum > 0.5 else QColor(Qt.GlobalColor.white)


class ChartBase(QWidget):
    """What both charts share: the bars, the focus, hovering, clicking and the legend.

    Args:
        object_name: the widget's object name (``stackChart``).
        title: its accessible name ("Seats per floor").
        parent: the Qt parent.

    Signals:
        sig_activated(str, str): a bar was clicked or Enter pressed on it: the bar's id and
            the segment's id.
    """

    sig_activated = Signal(str, str)

    def __init__(self, object_name: str, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(object_name)
        self.setAccessibleName(title)
        self.title = title
        self.bars: tuple[Bar, ...] = ()
        self.legend: tuple[tuple[int, str], ...] = ()
        self.empty_text = _tr("Nothing to show")
        self._targets: list[tuple[int, int]] = []
        self._focus = -1
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

    # -- data -------------------------------------------------------------------------------

    def set_bars(self, bars: Sequence[Bar], legend: Sequence[tuple[int, str]] = ()) -> None:
        """Show these bars (and a legend: ``(tone, label)`` pairs; a negative tone is a
        caption without a colour swatch)."""
        old = self.focused()
        self.bars = tuple(bars)
        self.legend = tuple(legend)
        self._targets = []
        for b, bar in enumerate(self.bars):
            shown = [s for s, seg in enumerate(bar.segments) if seg.value > 0]
            self._targets.extend((b, s) for s in (shown or range(min(1, len(bar.segments)))))
        self._focus = -1
        if old is not None:  # keep the focus on the same bar across a recompute
            for i, (b, s) in enumerate(self._targets):
                if (self.bars[b].id, self.bars[b].segments[s].id) == old:
                    self._focus = i
        if self._focus < 0 and self._targets and self.hasFocus():
            self._focus = 0
        self.setAccessibleDescription(self.summary())
        self.updateGeometry()
        self.update()

    def summary(self) -> str:
        """Every number of the chart as one sentence per bar (for screen readers)."""
        if not self.bars:
            return self.empty_text
        lines = []
        for bar in self.bars:
            parts = ", ".join(s.tip() for s in bar.segments)
            lines.append(f"{bar.label}: {bar.text or parts}")
        return "; ".join(lines)

    def focused(self) -> tuple[str, str] | None:
        """The ids of the bar and segment that have the keyboard focus, if any."""
        if not 0 <= self._focus < len(self._targets):
            return None
        b, s = self._targets[self._focus]
        return self.bars[b].id, self.bars[b].segments[s].id

    def focus_target(self, bar_id: str, segment_id: str | None = None) -> bool:
        """Put the keyboard focus on a bar (its first segment, or ``segment_id``)."""
        for i, (b, s) in enumerate(self._targets):
            bar = self.bars[b]
            if bar.id == bar_id and (segment_id is None or bar.segments[s].id == segment_id):
                self._set_focus_index(i)
                return True
        return False

    def activate(self, bar_id: str, segment_id: str) -> None:
        """Do what a click on that bar does."""
        self.sig_activated.emit(bar_id, segment_id)

    def target_rects(self) -> list[QRectF]:
        """Where each focusable bar is drawn (in focus order); subclasses lay them out."""
        raise NotImplementedError

    # -- colours and fonts ------------------------------------------------------------------

    def _ink(self) -> QColor:
        return self.palette().color(QPalette.ColorRole.WindowText)

    def _muted(self) -> QColor:
        return _mix(self._ink(), self.palette().color(QPalette.ColorRole.Window), 0.4)

    def _small_font(self) -> QFont:
        font = QFont(self.font())
        size = font.pointSizeF()
        if size > 0:
            font.setPointSizeF(max(size * 0.9, 7.0))
        return font

    def _legend_height(self) -> int:
        return self.fontMetrics().height() + self._margin() if self.legend else 0

    def _margin(self) -> int:
        return max(self.fontMetrics().height() // 2, 4)

    def _paint_legend(self, painter: QPainter) -> None:
        if not self.legend:
            return
        fm = self.fontMetrics()
        x = self._margin()
        y = self._margin() // 2
        box = fm.height() * 2 // 3
        for tone, label in self.legend:
            if tone >= 0:  # a negative tone: a caption without a swatch
                painter.fillRect(QRect(x, y + (fm.height() - box) // 2, box, box),
                                 tone_color(self.palette(), tone))
                x += box + fm.averageCharWidth()
            painter.setPen(self._ink())
            painter.drawText(QRect(x, y, fm.horizontalAdvance(label) + 2, fm.height()),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, label)
            x += fm.horizontalAdvance(label) + fm.averageCharWidth() * 3

    def _paint_empty(self, painter: QPainter) -> None:
        painter.setPen(self._muted())
        painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.empty_text)

    def _paint_focus(self, painter: QPainter, rects: list[QRectF]) -> None:
        if not self.hasFocus() or not 0 <= self._focus < len(rects):
            return
        pen = QPen(self._ink(), 2, Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(rects[self._focus].adjusted(-2, -2, 2, 2))

    # -- interaction ------------------------------------------------------------------------

    def _hit(self, pos: QPoint) -> int:
        for i, rect in enumerate(self.target_rects()):
            if rect.adjusted(-1, -1, 1, 1).contains(pos.toPointF()):
                return i
        return -1

    def _set_focus_index(self, index: int) -> None:
        if not self._targets:
            return
        self._focus = max(0, min(index, len(self._targets) - 1))
        b, s = self._targets[self._focus]
        bar = self.bars[b]
        self.setToolTip("")
        self.setAccessibleDescription(f"{bar.label}: {bar.segments[s].tip()}")
        self.update()

    def _activate_index(self, index: int) -> None:
        if 0 <= index < len(self._targets):
            b, s = self._targets[index]
            self.activate(self.bars[b].id, self.bars[b].segments[s].id)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, _help_event_type()):
            index = self._hit(event.pos())
            if index >= 0:
                b, s = self._targets[index]
                bar = self.bars[b]
                text = f"{bar.label}\n{bar.segments[s].tip()}"
                QToolTip.showText(event.globalPos(), text, self)
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().event(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            index = self._hit(event.position().toPoint())
            if index >= 0:
                self.setFocus(Qt.FocusReason.MouseFocusReason)
                self._set_focus_index(index)
                self._activate_index(index)
                return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        hit = self._hit(event.position().toPoint()) >= 0
        self.setCursor(Qt.CursorShape.PointingHandCursor if hit else Qt.CursorShape.ArrowCursor)
        super().mouseMoveEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if not self._targets:
            super().keyPressEvent(event)
            return
        if key in (Qt.Key.Key_Right, Qt.Key.Key_Down):
            self._set_focus_index(self._focus + 1)
        elif key in (Qt.Key.Key_Left, Qt.Key.Key_Up):
            self._set_focus_index(max(self._focus - 1, 0))
        elif key == Qt.Key.Key_Home:
            self._set_focus_index(0)
        elif key == Qt.Key.Key_End:
            self._set_focus_index(len(self._targets) - 1)
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self._activate_index(max(self._focus, 0))
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    def focusInEvent(self, event: QFocusEvent) -> None:
        if self._focus < 0 and self._targets:
            self._set_focus_index(0)
        super().focusInEvent(event)
        self.update()

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self.update()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.FontChange):
            self.updateGeometry()
            self.update()


class BarChart(ChartBase):
    """Horizontal bars, one per item, each split into stacked segments, top to bottom in
    the order given (a stack of floors: the top floor first)."""

    def _row_height(self) -> int:
        return max(int(self.fontMetrics().height() * 1.75), 20)

    def _columns(self) -> tuple[int, int, int]:
        """x of the bars' start and end, and the label column's width."""
        fm = self.fontMetrics()
        m = self._margin()
        width = self.width()
        label_w = min(max((fm.horizontalAdvance(b.label) for b in self.bars), default=0),
                      int(width * 0.3))
        text_w = min(max((fm.horizontalAdvance(b.text) for b in self.bars), default=0) + 4,
                     int(width * 0.4))
        x0 = m + label_w + m
        x1 = max(width - m - text_w - m, x0 + 10)
        return x0, x1, label_w

    def target_rects(self) -> list[QRectF]:
        x0, x1, _label_w = self._columns()
        top = self._legend_height() + self._margin()
        rh = self._row_height()
        scale = max((b.total for b in self.bars), default=0.0) or 1.0
        rects: list[QRectF] = []
        bar_h = rh * 0.62
        offsets: dict[int, list[QRectF]] = {}
        for b, bar in enumerate(self.bars):
            y = top + b * rh + (rh - bar_h) / 2
            x = float(x0)
            row = []
            for seg in bar.segments:
                w = (x1 - x0) * max(seg.value, 0.0) / scale
                row.append(QRectF(x, y, w, bar_h))
                x += w
            offsets[b] = row
        for b, s in self._targets:
            rect = offsets[b][s]
            if rect.width() < 3:  # a zero-width target still has a place to focus and click
                rect = QRectF(rect.x(), rect.y(), 3, rect.height())
            rects.append(rect)
        return rects

    def sizeHint(self) -> QSize:
        fm = self.fontMetrics()
        rows = max(len(self.bars), 1)
        return QSize(fm.averageCharWidth() * 70,
                     self._legend_height() + 2 * self._margin() + rows * self._row_height())

    def minimumSizeHint(self) -> QSize:
        hint = self.sizeHint()
        return QSize(self.fontMetrics().averageCharWidth() * 36, hint.height())

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if not self.bars:
            self._paint_empty(painter)
            return
        self._paint_legend(painter)
        fm = self.fontMetrics()
        m = self._margin()
        x0, x1, label_w = self._columns()
        top = self._legend_height() + m
        rh = self._row_height()
        scale = max((b.total for b in self.bars), default=0.0) or 1.0
        bar_h = rh * 0.62
        palette = self.palette()
        track = _mix(palette.color(QPalette.ColorRole.Base),
                     palette.color(QPalette.ColorRole.Text), 0.06)
        for b, bar in enumerate(self.bars):
            y = top + b * rh
            painter.setPen(self._ink())
            label = fm.elidedText(bar.label, Qt.TextElideMode.ElideRight, label_w)
            painter.drawText(QRect(m, y, label_w, rh),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, label)
            by = y + (rh - bar_h) / 2
            painter.fillRect(QRectF(x0, by, x1 - x0, bar_h), track)
            x = float(x0)
            for seg in bar.segments:
                w = (x1 - x0) * max(seg.value, 0.0) / scale
                if w <= 0:
                    continue
                fill = tone_color(palette, seg.tone)
                rect = QRectF(x, by, w, bar_h)
                painter.fillRect(rect, fill)
                value = _number(seg.value)
                if fm.horizontalAdvance(value) + 6 <= w:
                    painter.setPen(_ink_on(fill))
                    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, value)
                x += w
            painter.setPen(self._ink())
            text_rect = QRect(int(x1) + m, y, max(self.width() - int(x1) - 2 * m, 0), rh)
            painter.drawText(text_rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                             fm.elidedText(bar.text, Qt.TextElideMode.ElideRight,
                                           text_rect.width()))
        self._paint_focus(painter, self.target_rects())


class StripChart(ChartBase):
    """A column per hour or day, each with its series' bars side by side and the exact
    number above each bar."""

    def _plot(self) -> QRectF:
        fm = self.fontMetrics()
        m = self._margin()
        top = self._legend_height() + m + fm.height()  # room for the numbers above bars
        bottom = self.height() - m - fm.height()
        return QRectF(m, top, max(self.width() - 2 * m, 10), max(bottom - top, 10))

    def _series_count(self) -> int:
        return max((len(b.segments) for b in self.bars), default=1) or 1

    def _bar_rects(self) -> dict[tuple[int, int], QRectF]:
        plot = self._plot()
        n = max(len(self.bars), 1)
        slot = plot.width() / n
        series = self._series_count()
        width = slot * 0.8 / series
        scale = max((max((s.value for s in b.segments), default=0.0) for b in self.bars),
                    default=0.0) or 1.0
        out: dict[tuple[int, int], QRectF] = {}
        for b, bar in enumerate(self.bars):
            x = plot.left() + b * slot + slot * 0.1
            for s, seg in enumerate(bar.segments):
                h = plot.height() * max(seg.value, 0.0) / scale
                out[(b, s)] = QRectF(x + s * width, plot.bottom() - h, width, h)
        return out

    def target_rects(self) -> list[QRectF]:
        rects = self._bar_rects()
        out = []
        for target in self._targets:
            rect = rects[target]
            if rect.height() < 3:
                rect = QRectF(rect.x(), rect.bottom() - 3, rect.width(), 3)
            out.append(rect)
        return out

    def sizeHint(self) -> QSize:
        fm = self.fontMetrics()
        return QSize(fm.averageCharWidth() * 70, fm.height() * 10 + self._legend_height())

    def minimumSizeHint(self) -> QSize:
        fm = self.fontMetrics()
        return QSize(fm.averageCharWidth() * 36, fm.height() * 8 + self._legend_height())

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if not self.bars:
            self._paint_empty(painter)
            return
        self._paint_legend(painter)
        palette = self.palette()
        plot = self._plot()
        fm = self.fontMetrics()
        painter.setPen(QPen(self._muted(), 1))
        painter.drawLine(plot.bottomLeft(), plot.bottomRight())
        small = self._small_font()
        rects = self._bar_rects()
        painter.setFont(small)
        sfm = painter.fontMetrics()
        for (b, s), rect in rects.items():
            seg = self.bars[b].segments[s]
            if seg.value <= 0:
                continue
            painter.fillRect(rect, tone_color(palette, seg.tone))
            value = _number(seg.value)
            if sfm.horizontalAdvance(value) <= rect.width() * 1.6:
                painter.setPen(self._ink())
                painter.drawText(QRectF(rect.center().x() - 40, rect.top() - sfm.height(),
                                        80, sfm.height()),
                                 Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom,
                                 value)
        n = max(len(self.bars), 1)
        slot = plot.width() / n
        widest = max((sfm.horizontalAdvance(b.label) for b in self.bars), default=1) + 6
        every = max(1, int(widest // max(slot, 1)) + (1 if widest % max(slot, 1) else 0))
        painter.setPen(self._ink())
        for b, bar in enumerate(self.bars):
            if b % every:
                continue
            x = plot.left() + b * slot
            painter.drawText(QRectF(x - slot, plot.bottom() + 2, slot * 3, fm.height()),
                             Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
                             bar.label)
        painter.setFont(self.font())
        self._paint_focus(painter, self.target_rects())

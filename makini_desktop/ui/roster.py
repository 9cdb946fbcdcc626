"""The on-site roster on paper: a printable document, a PDF, the print dialog.

:func:`roster_html` lays out a :class:`~makini_desktop.table.roster.Roster` (one section per
building: name, company, host, check-in time) under a line saying when the list was last
confirmed by the server. The PDF is written by Qt's text engine (``QTextDocument.print_``
on a ``QPdfWriter``), so its words are real text: searchable, and readable by a screen
reader or a test.
"""

from __future__ import annotations

import html
from datetime import datetime

from PySide6.QtCore import QCoreApplication, QMarginsF, Qt
from PySide6.QtGui import QPageLayout, QPageSize, QPdfWriter, QTextDocument
from PySide6.QtWidgets import QWidget

from makini_desktop.sync.tab_status import at_time
from makini_desktop.table.roster import Roster

__all__ = ["open_print_dialog", "roster_document", "roster_html", "write_roster_pdf"]


def _tr(text: str) -> str:
    return QCoreApplication.translate("Roster", text)


def _time(when: datetime | None) -> str:
    if when is None:
        return ""
    return f"{when.astimezone():%Y-%m-%d %H:%M}"


def roster_html(roster: Roster) -> str:
    """The roster as simple HTML (what the PDF and the printer get)."""
    esc = html.escape
    confirmed = (
        _tr("Data last confirmed by the server {0} ({1}).").format(
            at_time(roster.confirmed_at, roster.made_at), _time(roster.confirmed_at))
        if roster.confirmed_at is not None
        else _tr("Never confirmed by the server: this is the copy kept on this computer.")
    )
    parts = [
        f"<h1>{esc(_tr('On-site roster'))}</h1>",
        "<p>" + esc(_tr("Everyone checked in at {0}: {1} people.").format(
            _time(roster.made_at), roster.count)) + f"<br/>{esc(confirmed)}</p>",
    ]
    if not roster.buildings:
        parts.append(f"<p>{esc(_tr('Nobody is checked in.'))}</p>")
    headers = (_tr("Name"), _tr("Company"), _tr("Host"), _tr("Checked in"), _tr("Present"))
    for building in roster.buildings:
        parts.append(f"<h2>{esc(building.name)} — {len(building.entries)}</h2>")
        if not building.entries:
            parts.append(f"<p>{esc(_tr('Nobody is checked in.'))}</p>")
            continue
        parts.append('<table border="1" cellspacing="0" cellpadding="4" width="100%">')
        parts.append("<tr>" + "".join(f"<th align='left'>{esc(h)}</th>" for h in headers)
                     + "</tr>")
        for entry in building.entries:
            cells = (entry.name, entry.company, entry.host, _time(entry.checked_in), "☐")
            parts.append("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in cells) + "</tr>")
        parts.append("</table>")
    return "\n".join(parts)


def roster_document(roster: Roster, parent: QWidget | None = None) -> QTextDocument:
    doc = QTextDocument(parent)
    doc.setDocumentMargin(0)
    doc.setHtml(roster_html(roster))
    return doc


def write_roster_pdf(roster: Roster, path: str) -> None:
    """Write the roster as an A4 PDF of real text to ``path``.

    Raises:
        OSError: the file cannot be written (the message names it).
    """
    writer = QPdfWriter(path)
    writer.setTitle(_tr("On-site roster"))
    writer.setCreator("makini-desktop")
    writer.setPageLayout(QPageLayout(QPageSize(QPageSize.PageSizeId.A4),
                                     QPageLayout.Orientation.Portrait,
                                     QMarginsF(15, 15, 15, 15), QPageLayout.Unit.Millimeter))
    doc = roster_document(roster)
    doc.print_(writer)
    del writer  # the file is complete once the writer is gone
    try:
        with open(path, "rb") as f:
            ok = f.read(5) == b"%PDF-"
    except OSError as exc:
        raise OSError(f"Could not write the roster to {path}: {exc.strerror or exc}") from exc
    if not ok:
        raise OSError(f"Could not write the roster to {path}.")


def open_print_dialog(parent: QWidget, roster: Roster) -> QWidget | None:
    """Qt's print dialog for the roster (non-modal); prints when accepted. None when this
    Qt has no printing support."""
    try:
        from PySide6.QtPrintSupport import QPrintDialog, QPrinter
    except ImportError:  # a stripped build without QtPrintSupport
        return None
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    dialog = QPrintDialog(printer, parent)
    dialog.setObjectName("rosterPrintDialog")
    dialog.setWindowTitle(_tr("Print the on-site roster"))

    def accepted() -> None:
        roster_document(roster).print_(printer)

    dialog.accepted.connect(accepted)
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()  # never exec(): the event loop keeps running
    return dialog

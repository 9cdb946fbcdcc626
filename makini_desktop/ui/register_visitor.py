"""The front desk's Register visitor dialog (Ctrl+N): a visit announced, or a walk-in.

The dialog collects the fields of contract §6.3 and hands them to a ``submit`` callable;
it does not talk to the network itself. Required fields are checked before anything is
sent; the server's own ``422`` field messages (:meth:`RegisterVisitorDialog.show_field_errors`)
appear under their fields, the way the connection form shows its problems.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from PySide6.QtCore import QDateTime, QEvent, Qt, QTimeZone
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from makini_desktop.api import resources as res
from makini_desktop.api.values import enum_label
from makini_desktop.ui.dialog_parts import paint_error_labels

__all__ = ["RegisterVisitorDialog", "visit_fields"]

SpacesOf = Callable[[str], Sequence[tuple[str, str]]]
"""A building's key → its spaces as (key, name), in the order to offer them."""

_REQUIRED = ("visitorName", "visitorType", "hostName", "siteKey", "expectedAt")


def visit_fields(
    *,
    name: str,
    visitor_type: str,
    host: str,
    site_key: str,
    expected_at: datetime,
    company: str = "",
    email: str = "",
    location_key: str = "",
    notes: str = "",
    walk_in: bool = False,
) -> dict[str, Any]:
    """The body of ``POST /api/iwms/visitors`` (contract §6.3), optional fields left out
    when empty; a walk-in is registered as already checked in."""
    body: dict[str, Any] = {
        "visitorName": name.strip(),
        "visitorType": visitor_type,
        "hostName": host.strip(),
        "siteKey": site_key,
        "expectedAt": expected_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
    }
    for field_name, value in (("company", company), ("visitorEmail", email),
                              ("locationKey", location_key), ("notes", notes)):
        if value.strip():
            body[field_name] = value.strip()
    if walk_in:
        body[res.F_STATUS] = "checked_in"
    return body


class RegisterVisitorDialog(QDialog):
    """Name, company, type, host, building, space, expected time, email, notes; or
    "already here" for a walk-in.

    Args:
        buildings: building key → name, in the order to offer them.
        spaces_of: a building's spaces, for the Space box.
        building: the building to start with (the window's building filter), or None.
        submit: called with the body when the user presses Register; the caller sends it
            and calls :meth:`show_field_errors` or :meth:`accept`.
        parent: the Qt parent.
    """

    def __init__(
        self,
        buildings: Mapping[str, str],
        spaces_of: SpacesOf,
        building: str | None,
        submit: Callable[[dict[str, Any]], None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("registerVisitorDialog")
        self.setWindowTitle(self.tr("Register visitor"))
        self.setAccessibleName(self.tr("Register visitor"))
        self._spaces_of = spaces_of
        self._submit = submit

        self.name_field = self._line("visitorNameField", self.tr("Visitor's name"))
        self.company_field = self._line("companyField", self.tr("Company"))
        self.type_field = QComboBox(self)
        self.type_field.setObjectName("visitorTypeField")
        self.type_field.setAccessibleName(self.tr("Visitor type"))
        for code in res.VISITOR_TYPES:
            self.type_field.addItem(enum_label(code), code)
        self.host_field = self._line("hostField", self.tr("Host"))
        self.building_field = QComboBox(self)
        self.building_field.setObjectName("buildingField")
        self.building_field.setAccessibleName(self.tr("Building"))
        for key, name in buildings.items():
            self.building_field.addItem(name, key)
        if building is not None and (i := self.building_field.findData(building)) >= 0:
            self.building_field.setCurrentIndex(i)
        self.space_field = QComboBox(self)
        self.space_field.setObjectName("spaceField")
        self.space_field.setAccessibleName(self.tr("Space"))
        self.space_field.setEditable(True)  # type to find among a building's spaces
        self.space_field.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.expected_field = QDateTimeEdit(self)
        self.expected_field.setObjectName("expectedField")
        self.expected_field.setAccessibleName(self.tr("Expected at"))
        self.expected_field.setCalendarPopup(True)
        self.expected_field.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.expected_field.setDateTime(_next_quarter_hour())
        self.walk_in_field = QCheckBox(self.tr("Already here (walk-in: check in now)"), self)
        self.walk_in_field.setObjectName("walkInField")
        self.walk_in_field.toggled.connect(self._on_walk_in_field_toggled)
        self.email_field = self._line("visitorEmailField", self.tr("Email"))
        self.notes_field = QPlainTextEdit(self)
        self.notes_field.setObjectName("notesField")
        self.notes_field.setAccessibleName(self.tr("Notes"))
        self.notes_field.setTabChangesFocus(True)
        self.notes_field.setFixedHeight(self.fontMetrics().lineSpacing() * 4)

        self._errors: dict[str, QLabel] = {}
        form = QFormLayout()
        rows: list[tuple[str, QWidget, str]] = [
            (self.tr("&Name:"), self.name_field, "visitorName"),
            (self.tr("&Company:"), self.company_field, "company"),
            (self.tr("&Type:"), self.type_field, "visitorType"),
            (self.tr("&Host:"), self.host_field, "hostName"),
            (self.tr("&Building:"), self.building_field, "siteKey"),
            (self.tr("&Space:"), self.space_field, "locationKey"),
            (self.tr("E&xpected:"), self.expected_field, "expectedAt"),
            ("", self.walk_in_field, res.F_STATUS),
            (self.tr("&Email:"), self.email_field, "visitorEmail"),
            (self.tr("N&otes:"), self.notes_field, "notes"),
        ]
        for text, widget, field_name in rows:
            box = QVBoxLayout()
            box.setSpacing(2)
            box.addWidget(widget)
            box.addWidget(self._error_label(field_name))
            self._clear_error_on_edit(widget, field_name)
            label = QLabel(text, self)
            label.setBuddy(widget)  # Alt+<letter> moves to the field
            form.addRow(label, box)

        self.general_error = self._error_label("")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        self.register_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.register_button.setText(self.tr("&Register"))
        self.register_button.setObjectName("registerButton")
        self.buttons.accepted.connect(self._on_buttons_accepted)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.general_error)
        layout.addWidget(self.buttons)

        self.building_field.currentIndexChanged.connect(self._fill_spaces)
        self._fill_spaces()
        paint_error_labels(self)
        self.name_field.setFocus()

    def changeEvent(self, event: QEvent) -> None:
        """Keep the error colour readable when the system switches light/dark mode."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            paint_error_labels(self)

    def _line(self, name: str, accessible: str) -> QLineEdit:
        field = QLineEdit(self)
        field.setObjectName(name)
        field.setAccessibleName(accessible)
        field.setMinimumWidth(self.fontMetrics().averageCharWidth() * 36)
        return field

    def _clear_error_on_edit(self, widget: QWidget, field_name: str) -> None:
        """The field's message goes when the user changes the field: it spoke of what
        was there (Register checks again, and the server too)."""
        label = self._errors[field_name]
        if isinstance(widget, QLineEdit):
            widget.textEdited.connect(label.hide)
        elif isinstance(widget, QComboBox):
            widget.currentIndexChanged.connect(label.hide)
        elif isinstance(widget, QDateTimeEdit):
            widget.dateTimeChanged.connect(label.hide)
        elif isinstance(widget, QCheckBox):
            widget.toggled.connect(label.hide)
        elif isinstance(widget, QPlainTextEdit):
            widget.textChanged.connect(label.hide)

    def _error_label(self, field_name: str) -> QLabel:
        label = QLabel(self)
        label.setObjectName(f"{field_name}Error" if field_name else "registerError")
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.PlainText)
        label.setProperty("errorLabel", True)
        label.hide()
        self._errors[field_name] = label
        return label

    def _fill_spaces(self) -> None:
        self.space_field.clear()
        self.space_field.addItem(self.tr("(no particular space)"), "")
        key = self.building_field.currentData()
        if key:
            for space_key, name in self._spaces_of(str(key)):
                self.space_field.addItem(name, space_key)

    def _on_walk_in_field_toggled(self, on: bool) -> None:
        self.expected_field.setEnabled(not on)
        if on:
            self.expected_field.setDateTime(QDateTime.currentDateTime())

    def _space_key(self) -> str:
        i = self.space_field.findText(self.space_field.currentText(),
                                      Qt.MatchFlag.MatchFixedString)
        return str(self.space_field.itemData(i) or "") if i >= 0 else ""

    def body(self) -> dict[str, Any]:
        """The registration as the API takes it."""
        expected = self.expected_field.dateTime().toSecsSinceEpoch()
        return visit_fields(
            name=self.name_field.text(),
            visitor_type=str(self.type_field.currentData()),
            host=self.host_field.text(),
            site_key=str(self.building_field.currentData() or ""),
            expected_at=datetime.fromtimestamp(expected, UTC),
            company=self.company_field.text(),
            email=self.email_field.text(),
            location_key=self._space_key(),
            notes=self.notes_field.toPlainText(),
            walk_in=self.walk_in_field.isChecked(),
        )

    def missing(self) -> dict[str, list[str]]:
        """The required fields left empty, as field → messages (the 422 shape)."""
        body = self.body()
        words = {"visitorName": self.tr("Enter the visitor's name."),
                 "hostName": self.tr("Enter who the visitor is here to see."),
                 "siteKey": self.tr("Choose a building."),
                 "visitorType": self.tr("Choose a type."),
                 "expectedAt": self.tr("Enter when the visitor is expected.")}
        return {f: [words[f]] for f in _REQUIRED if not body.get(f)}

    def show_field_errors(self, errors: Mapping[str, Sequence[str]], general: str = "") -> None:
        """Show messages under their fields (the server's 422, or what is missing); a
        message for a field the dialog does not have goes under the form."""
        leftovers: list[str] = [general] if general else []
        for field_name, old in self._errors.items():
            if field_name:
                old.hide()
        for field_name, messages in errors.items():
            text = " ".join(str(m) for m in messages)
            label = self._errors.get(field_name)
            if label is None or not field_name:
                leftovers.append(f"{field_name}: {text}" if field_name else text)
                continue
            label.setText(text)
            label.setToolTip(text)
            label.show()
        self.general_error.setText("\n".join(leftovers))
        self.general_error.setVisible(bool(leftovers))
        self.set_busy(False)
        first = next((f for f in errors if f in self._errors and f), None)
        widget = {"visitorName": self.name_field, "company": self.company_field,
                  "hostName": self.host_field, "visitorEmail": self.email_field,
                  "locationKey": self.space_field, "expectedAt": self.expected_field,
                  "siteKey": self.building_field}.get(first or "")
        if widget is not None:
            widget.setFocus()

    def set_busy(self, busy: bool) -> None:
        """While the registration is on its way, Register cannot be pressed twice."""
        self.register_button.setEnabled(not busy)

    def _on_buttons_accepted(self) -> None:
        problems = self.missing()
        if problems:
            self.show_field_errors(problems)
            return
        self.show_field_errors({})
        self.set_busy(True)
        self._submit(self.body())


def _next_quarter_hour() -> QDateTime:
    now = datetime.now().astimezone()
    rounded = now.replace(second=0, microsecond=0) + timedelta(minutes=15 - now.minute % 15)
    return QDateTime.fromSecsSinceEpoch(int(rounded.timestamp()), QTimeZone.systemTimeZone())

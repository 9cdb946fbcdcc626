"""The connection manager dialog: inline URL validation, token storage, test, reconnect."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from keyring.backends import fail
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QToolButton,
)

from makini_desktop.store import cache as cache_store
from makini_desktop.store.profiles import ProfileStore
from makini_desktop.store.secrets import SERVICE, TokenStore
from makini_desktop.ui.connection_dialog import NO_KEYCHAIN_TEXT, ConnectionDialog

TOKEN = "tok-live-7f3a9c2e5b1d4a8f"


@pytest.fixture
def profiles() -> ProfileStore:
    return ProfileStore()


@pytest.fixture
def tokens() -> TokenStore:
    return TokenStore()


@pytest.fixture
def make_dialog(qtbot, profiles):
    def make(tokens: TokenStore, *, open_on: str | None = None) -> ConnectionDialog:
        dialog = ConnectionDialog(profiles, tokens)
        qtbot.addWidget(dialog)
        dialog.open_on(open_on)
        qtbot.waitExposed(dialog)
        return dialog

    return make


@pytest.fixture
def dialog(make_dialog, tokens) -> ConnectionDialog:
    return make_dialog(tokens)


def child(dialog: ConnectionDialog, cls, name: str):
    widget = dialog.findChild(cls, name)
    assert widget is not None, name
    return widget


def fill(qtbot, dialog: ConnectionDialog, name: str, url: str, token: str = "") -> None:
    for field_name, text in (("nameField", name), ("baseUrlField", url), ("tokenField", token)):
        field = child(dialog, QLineEdit, field_name)
        field.clear()
        if text:
            qtbot.keyClicks(field, text)


def files_containing(root: Path, needle: str) -> list[Path]:
    data = needle.encode()
    return [p for p in root.rglob("*") if p.is_file() and data in p.read_bytes()]


def test_http_to_remote_host_is_rejected_inline(qtbot, dialog):
    """http:// to a remote host shows the https message beside the field and disables Save."""
    fill(qtbot, dialog, "Headquarters", "http://makini.example.com", TOKEN)
    error = child(dialog, QLabel, "baseUrlError")
    assert error.isVisible()
    assert "https://" in error.text()
    assert "clear text" in error.text()
    assert not child(dialog, QPushButton, "saveButton").isEnabled()


def test_http_to_loopback_is_accepted(qtbot, dialog):
    """http:// to 127.0.0.1 (the sandbox) shows no error and can be saved."""
    fill(qtbot, dialog, "Sandbox", "http://127.0.0.1:8765", TOKEN)
    child(dialog, QLineEdit, "baseUrlField").editingFinished.emit()  # the user leaves it
    assert not child(dialog, QLabel, "baseUrlError").isVisible()
    assert child(dialog, QPushButton, "saveButton").isEnabled()


def test_malformed_url_error_appears_when_leaving_the_field(qtbot, dialog):
    """An address without https:// is flagged once the user leaves the field, not mid-typing."""
    fill(qtbot, dialog, "HQ", "api.makini.io", TOKEN)
    error = child(dialog, QLabel, "baseUrlError")
    assert not error.isVisible()
    assert not child(dialog, QPushButton, "saveButton").isEnabled()
    child(dialog, QLineEdit, "baseUrlField").editingFinished.emit()
    assert error.isVisible()
    assert "must start with https://" in error.text()


def test_save_stores_token_only_in_keyring(qtbot, dialog, profiles, _memory_keyring,
                                           _isolated_home):
    """Saving puts the token in the keyring under makini-desktop/<id> and in no file."""
    fill(qtbot, dialog, "Headquarters", "https://api.makini.io", TOKEN)
    with qtbot.waitSignal(dialog.sig_profiles_changed):
        qtbot.mouseClick(child(dialog, QPushButton, "saveButton"), Qt.MouseButton.LeftButton)
    profile = profiles.find_by_name("Headquarters")
    assert profile is not None
    assert _memory_keyring.store == {(SERVICE, profile.id): TOKEN}
    assert (_isolated_home / "config" / "connections.json").exists()
    assert files_containing(_isolated_home, TOKEN) == []


def test_token_field_is_never_prefilled(qtbot, make_dialog, profiles, tokens):
    """A stored token is not put in the field; the placeholder says where it is kept."""
    profile = profiles.add("HQ", "https://api.makini.io")
    tokens.set(profile.id, TOKEN)
    dialog = make_dialog(tokens, open_on=profile.id)
    field = child(dialog, QLineEdit, "tokenField")
    assert field.text() == ""
    assert field.echoMode() == QLineEdit.EchoMode.Password
    assert field.placeholderText().startswith("••••")
    assert tokens.backend_name in field.placeholderText()


def test_editing_keeps_the_stored_token_unless_a_new_one_is_typed(
    qtbot, make_dialog, profiles, tokens
):
    """Renaming keeps the stored token; typing a new one replaces it."""
    profile = profiles.add("HQ", "https://api.makini.io")
    tokens.set(profile.id, TOKEN)
    dialog = make_dialog(tokens, open_on=profile.id)
    fill(qtbot, dialog, "Head office", "https://api.makini.io")
    assert dialog.save()
    assert profiles.get(profile.id).name == "Head office"
    assert tokens.get(profile.id) == TOKEN
    qtbot.keyClicks(child(dialog, QLineEdit, "tokenField"), "tok-new-0123456789")
    assert dialog.save()
    assert tokens.get(profile.id) == "tok-new-0123456789"


def test_changing_the_server_requires_a_new_token(qtbot, make_dialog, profiles, tokens):
    """A saved token is never carried over to another server: a new one must be pasted."""
    profile = profiles.add("HQ", "https://api.makini.io")
    tokens.set(profile.id, TOKEN)
    dialog = make_dialog(tokens, open_on=profile.id)
    fill(qtbot, dialog, "HQ", "https://api.other-vendor.example")
    assert not child(dialog, QPushButton, "connectButton").isEnabled()
    assert not dialog.save()
    error = child(dialog, QLabel, "tokenError")
    assert error.isVisible() and "new server" in error.text()
    assert profiles.get(profile.id).base_url == "https://api.makini.io"
    qtbot.keyClicks(child(dialog, QLineEdit, "tokenField"), "tok-other-0123456789")
    assert dialog.save()
    assert profiles.get(profile.id).base_url == "https://api.other-vendor.example"
    assert tokens.get(profile.id) == "tok-other-0123456789"


def test_enter_saves(qtbot, dialog, profiles):
    """Pressing Enter in the form saves the connection."""
    fill(qtbot, dialog, "HQ", "https://api.makini.io", TOKEN)
    with qtbot.waitSignal(dialog.sig_profiles_changed):
        qtbot.keyClick(child(dialog, QLineEdit, "tokenField"), Qt.Key.Key_Return)
    assert profiles.find_by_name("HQ") is not None


def test_duplicate_name_is_rejected_inline(qtbot, make_dialog, profiles, tokens):
    """A name already used by another connection is flagged beside the name field."""
    profiles.add("HQ", "https://api.makini.io")
    dialog = make_dialog(tokens)
    qtbot.mouseClick(child(dialog, QPushButton, "addButton"), Qt.MouseButton.LeftButton)
    fill(qtbot, dialog, "hq", "https://other.example.com", TOKEN)
    child(dialog, QLineEdit, "nameField").editingFinished.emit()
    error = child(dialog, QLabel, "nameError")
    assert error.isVisible()
    assert "already exists" in error.text()
    assert not child(dialog, QPushButton, "saveButton").isEnabled()


def test_no_keyring_shows_session_only_banner_and_writes_nothing(
    qtbot, make_dialog, profiles, _memory_keyring, _isolated_home
):
    """Without a keyring the dialog says so plainly and keeps the token in memory only."""
    tokens = TokenStore(fail.Keyring())
    dialog = make_dialog(tokens)
    banner = child(dialog, QLabel, "keyringBannerText")
    assert banner.isVisible()
    assert banner.text() == NO_KEYCHAIN_TEXT
    fill(qtbot, dialog, "HQ", "https://api.makini.io", TOKEN)
    assert dialog.save()
    profile = profiles.find_by_name("HQ")
    assert tokens.get(profile.id) == TOKEN  # usable for this session
    assert tokens.session_only(profile.id)
    assert _memory_keyring.store == {}
    assert files_containing(_isolated_home, TOKEN) == []
    assert "session only" in child(dialog, QLineEdit, "tokenField").placeholderText()


def test_remove_asks_then_deletes_profile_token_and_cache(qtbot, make_dialog, profiles, tokens):
    """Remove… asks first, then deletes the profile, its keyring entry and its cache files."""
    profile = profiles.add("HQ", "https://api.makini.io")
    tokens.set(profile.id, TOKEN)
    cache_file = cache_store.cache_path_for(profile.id)
    cache_file.write_bytes(b"cached rows")
    dialog = make_dialog(tokens, open_on=profile.id)
    qtbot.mouseClick(child(dialog, QPushButton, "removeButton"), Qt.MouseButton.LeftButton)
    box = dialog.findChild(QMessageBox, "removeConfirmBox")
    qtbot.waitUntil(box.isVisible)
    assert profiles.get(profile.id) is not None  # nothing happens before the answer
    with qtbot.waitSignal(dialog.sig_profiles_changed):
        box.findChild(QPushButton, "confirmRemoveButton").click()
    assert profiles.get(profile.id) is None
    assert tokens.get(profile.id) is None
    assert not cache_file.exists()


def test_remove_cancelled_keeps_everything(qtbot, make_dialog, profiles, tokens):
    """Cancelling the confirmation keeps the connection and its token."""
    profile = profiles.add("HQ", "https://api.makini.io")
    tokens.set(profile.id, TOKEN)
    dialog = make_dialog(tokens, open_on=profile.id)
    qtbot.mouseClick(child(dialog, QPushButton, "removeButton"), Qt.MouseButton.LeftButton)
    box = dialog.findChild(QMessageBox, "removeConfirmBox")
    qtbot.waitUntil(box.isVisible)
    box.button(QMessageBox.StandardButton.Cancel).click()
    qtbot.waitUntil(lambda: not box.isVisible())
    assert profiles.get(profile.id) is not None
    assert tokens.get(profile.id) == TOKEN


def test_connect_emits_profile_id_and_closes(qtbot, make_dialog, profiles, tokens):
    """Connect emits sig_activate with the connection's id and closes the dialog."""
    profile = profiles.add("HQ", "https://api.makini.io")
    tokens.set(profile.id, TOKEN)
    dialog = make_dialog(tokens, open_on=profile.id)
    with qtbot.waitSignal(dialog.sig_activate) as blocker:
        qtbot.mouseClick(child(dialog, QPushButton, "connectButton"), Qt.MouseButton.LeftButton)
    assert blocker.args == [profile.id]
    assert not dialog.isVisible()


def test_open_on_focuses_the_token_field(qtbot, make_dialog, profiles, tokens):
    """open_on(id, focus_token=True) selects that connection with the token field focused."""
    profiles.add("Another", "https://other.example.com")
    profile = profiles.add("HQ", "https://api.makini.io")
    tokens.set(profile.id, TOKEN)
    dialog = ConnectionDialog(profiles, tokens)
    qtbot.addWidget(dialog)
    dialog.open_on(profile.id, focus_token=True)
    field = child(dialog, QLineEdit, "tokenField")
    qtbot.waitUntil(lambda: dialog.focusWidget() is field)
    assert dialog.current_profile_id == profile.id
    assert child(dialog, QLineEdit, "nameField").text() == "HQ"


def test_test_connection_against_sandbox_shows_ready_and_request_id(
    qtbot, qasync_loop, sandbox, make_dialog, profiles, tokens
):
    """Test connection against the sandbox shows Ready, the latency and the request ID."""
    profile = profiles.add("Sandbox", sandbox.url)
    tokens.set(profile.id, "sandbox-token")
    dialog = make_dialog(tokens, open_on=profile.id)
    button = child(dialog, QPushButton, "testConnectionButton")
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.last_test_result is not None, timeout=15000)
    status = dialog.last_test_result
    text = child(dialog, QLabel, "testResult").text()
    assert text.startswith("✓ Connected — iOffice")  # the sandbox's provider is "ioffice"
    assert "sync up to date" in text
    assert "Ready —" not in text and "ioffice" not in text
    assert status.request_id
    assert f"Request ID: {status.request_id}" in text
    assert " ms" in text
    assert button.isEnabled()


def test_test_connection_with_wrong_token_shows_code_and_request_id(
    qtbot, qasync_loop, sandbox, make_dialog, profiles, tokens
):
    """A rejected token shows what happened in words and the request ID, not a code."""
    profile = profiles.add("Sandbox", sandbox.url)
    tokens.set(profile.id, "not-the-sandbox-token")
    dialog = make_dialog(tokens, open_on=profile.id)
    qtbot.mouseClick(child(dialog, QPushButton, "testConnectionButton"),
                     Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.last_test_result is not None, timeout=15000)
    err = dialog.last_test_result
    text = child(dialog, QLabel, "testResult").text()
    assert err.status == 401
    assert err.code not in text and "HTTP 401" not in text
    assert text.startswith("✗ ") and "token was not accepted" in text.splitlines()[0]
    assert err.request_id and f"Request ID: {err.request_id}" in text


def run_test_with(qtbot, qasync_loop, dialog: ConnectionDialog, tester) -> str:
    dialog.tester = tester
    task = qasync_loop.create_task(dialog.test_connection())
    qtbot.waitUntil(task.done, timeout=15000)
    return child(dialog, QLabel, "testResult").text()


@pytest.mark.parametrize(
    ("sync_status", "first_line"),
    [
        ("fulldone", "✓ Connected — Planon, sync up to date"),
        ("inprogress", "✓ Connected — Planon, sync in progress"),
        ("error", "⚠ Connected — Planon, but its last sync failed: data may be out of date"),
        ("fail", "⚠ Connected, but Makini has lost access to Planon: reconnect it"),
        ("paused", "⚠ Connected — Planon, sync state unknown (“paused”)"),
    ],
)
def test_test_result_says_the_sync_state_in_words(
    qtbot, qasync_loop, make_dialog, profiles, tokens, sync_status, first_line
):
    """Each sync state reads as a sentence naming the customer's system, not a state code."""
    from makini_desktop.sync.session import ConnState, IntegrationStatus

    profile = profiles.add("HQ", "https://api.makini.io")
    tokens.set(profile.id, TOKEN)
    dialog = make_dialog(tokens, open_on=profile.id)

    async def answer(base_url: str, token: str):
        return IntegrationStatus(ConnState.from_sync_status(sync_status), "planon", "Acme",
                                 12.0, "req_42", sync_status)

    text = run_test_with(qtbot, qasync_loop, dialog, answer)
    assert text.splitlines()[0].startswith(first_line)
    assert "Acme" in text and "Request ID: req_42" in text


def test_an_unreachable_server_is_described_in_sentences(
    qtbot, qasync_loop, make_dialog, profiles, tokens
):
    """A refused connection says the server could not be reached and why, without a code."""
    from makini_desktop.api.errors import MakiniConnectionError

    profile = profiles.add("HQ", "https://api.makini.io")
    tokens.set(profile.id, TOKEN)
    dialog = make_dialog(tokens, open_on=profile.id)

    async def refuse(base_url: str, token: str):
        raise MakiniConnectionError(0, "CONNECTION_FAILED", "network",
                                    "Could not connect to api.makini.io: connection refused")

    text = run_test_with(qtbot, qasync_loop, dialog, refuse)
    assert text.splitlines() == [
        "✗ The server could not be reached.",
        "Could not connect to api.makini.io: connection refused.",
    ]
    assert "CONNECTION_FAILED" in child(dialog, QLabel, "testResult").toolTip()


def test_running_test_disables_button_and_closing_cancels_it(qtbot, qasync_loop, make_dialog,
                                                              profiles, tokens):
    """While a test runs its button is disabled; closing the dialog cancels the test."""
    profile = profiles.add("HQ", "https://api.makini.io")
    tokens.set(profile.id, TOKEN)
    dialog = make_dialog(tokens, open_on=profile.id)
    started = asyncio.Event()
    cancelled = asyncio.Event()

    async def never_answers(base_url: str, token: str):
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    dialog.tester = never_answers
    button = child(dialog, QPushButton, "testConnectionButton")
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(started.is_set)
    assert not button.isEnabled()
    dialog.close()
    qtbot.waitUntil(cancelled.is_set)
    assert dialog.last_test_result is None


def test_testing_a_changed_server_never_sends_the_stored_token(
    qtbot, qasync_loop, make_dialog, profiles, tokens
):
    """After the URL is edited to another server, Test does not use the saved token."""
    profile = profiles.add("HQ", "https://api.makini.io")
    tokens.set(profile.id, TOKEN)
    dialog = make_dialog(tokens, open_on=profile.id)
    sent = []

    async def record(base_url: str, token: str):
        sent.append((base_url, token))

    dialog.tester = record
    fill(qtbot, dialog, "HQ", "https://api.other-vendor.example")
    task = qasync_loop.create_task(dialog.test_connection())
    qtbot.waitUntil(task.done)
    assert task.result() is None and sent == []


def test_escape_closes_without_saving(qtbot, dialog, profiles):
    """Esc on a half-filled connection asks first; Discard closes and saves nothing."""
    fill(qtbot, dialog, "HQ", "https://api.makini.io", TOKEN)
    qtbot.keyClick(child(dialog, QLineEdit, "nameField"), Qt.Key.Key_Escape)
    box = unsaved_box(qtbot, dialog)
    box.button(QMessageBox.StandardButton.Discard).click()
    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert profiles.list() == []


def test_escape_without_changes_closes_at_once(qtbot, make_dialog, profiles, tokens):
    """Esc on a saved, unchanged connection closes without a question."""
    profile = profiles.add("HQ", "https://api.makini.io")
    tokens.set(profile.id, TOKEN)
    dialog = make_dialog(tokens, open_on=profile.id)
    qtbot.keyClick(child(dialog, QLineEdit, "nameField"), Qt.Key.Key_Escape)
    assert not dialog.isVisible()
    assert dialog.findChild(QMessageBox, "unsavedChangesBox") is None


def unsaved_box(qtbot, dialog: ConnectionDialog) -> QMessageBox:
    box = dialog.findChild(QMessageBox, "unsavedChangesBox")
    assert box is not None
    qtbot.waitUntil(box.isVisible)
    return box


def test_closing_a_half_filled_connection_cancel_keeps_it(qtbot, dialog, profiles):
    """Close with a half-typed connection asks; Cancel keeps the dialog and the text."""
    fill(qtbot, dialog, "HQ", "https://api.mak")
    qtbot.mouseClick(child(dialog, QPushButton, "closeButton"), Qt.MouseButton.LeftButton)
    box = unsaved_box(qtbot, dialog)
    assert dialog.isVisible()
    box.button(QMessageBox.StandardButton.Cancel).click()
    qtbot.waitUntil(lambda: not box.isVisible())
    assert dialog.isVisible()
    assert child(dialog, QLineEdit, "nameField").text() == "HQ"
    assert child(dialog, QLineEdit, "baseUrlField").text() == "https://api.mak"
    assert profiles.list() == []


def test_closing_an_edited_connection_save_saves_it_and_closes(
    qtbot, make_dialog, profiles, tokens
):
    """Closing after renaming a connection asks; Save saves as the Save button would."""
    profile = profiles.add("HQ", "https://api.makini.io")
    tokens.set(profile.id, TOKEN)
    dialog = make_dialog(tokens, open_on=profile.id)
    fill(qtbot, dialog, "Head office", "https://api.makini.io")
    qtbot.mouseClick(child(dialog, QPushButton, "closeButton"), Qt.MouseButton.LeftButton)
    box = unsaved_box(qtbot, dialog)
    with qtbot.waitSignal(dialog.sig_profiles_changed):
        box.button(QMessageBox.StandardButton.Save).click()
    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert profiles.get(profile.id).name == "Head office"
    assert tokens.get(profile.id) == TOKEN


def test_closing_save_with_a_problem_keeps_the_dialog_open(qtbot, dialog, profiles):
    """Save in the close question on a form that cannot be saved shows why and stays open."""
    fill(qtbot, dialog, "HQ", "https://api.makini.io")  # no token yet
    qtbot.keyClick(child(dialog, QLineEdit, "nameField"), Qt.Key.Key_Escape)
    unsaved_box(qtbot, dialog).button(QMessageBox.StandardButton.Save).click()
    error = child(dialog, QLabel, "tokenError")
    qtbot.waitUntil(error.isVisible)
    assert dialog.isVisible()
    assert profiles.list() == []


def test_the_form_does_not_move_when_an_inline_message_appears(qtbot, dialog):
    """The "Use https://" message appears in reserved space: the token field stays put."""
    token = child(dialog, QLineEdit, "tokenField")
    error = child(dialog, QLabel, "baseUrlError")
    fill(qtbot, dialog, "HQ", "")

    def token_place():
        dialog.layout().activate()
        QApplication.processEvents()
        return token.mapTo(dialog, token.rect().topLeft()), token.size()

    before = token_place()
    qtbot.keyClicks(child(dialog, QLineEdit, "baseUrlField"), "http://makini.example.com")
    qtbot.waitUntil(error.isVisible)
    assert "https://" in error.text()
    assert token_place() == before


def test_pasted_bearer_prefix_is_dropped(qtbot, dialog, tokens, profiles):
    """A token pasted with its "Bearer " prefix is stored without it."""
    fill(qtbot, dialog, "HQ", "https://api.makini.io", f"Bearer {TOKEN}")
    assert dialog.save()
    assert tokens.get(profiles.find_by_name("HQ").id) == TOKEN


def test_show_toggle_reveals_the_typed_token(qtbot, dialog):
    """The Show button switches the token field between masked and readable."""
    field = child(dialog, QLineEdit, "tokenField")
    toggle = dialog.findChild(QToolButton, "showTokenButton")
    qtbot.mouseClick(toggle, Qt.MouseButton.LeftButton)
    assert field.echoMode() == QLineEdit.EchoMode.Normal
    qtbot.mouseClick(toggle, Qt.MouseButton.LeftButton)
    assert field.echoMode() == QLineEdit.EchoMode.Password


def test_status_texts_stay_importable_from_the_dialog():
    """The Qt-free texts moved to sync/; the dialog module still exports the same functions."""
    from makini_desktop.sync import connection_status
    from makini_desktop.ui import connection_dialog

    for name in ("describe_error", "describe_status", "provider_name"):
        assert name in connection_dialog.__all__
        assert getattr(connection_dialog, name) is getattr(connection_status, name)


def _test_button_top(dialog: ConnectionDialog) -> int:
    button = child(dialog, QPushButton, "testConnectionButton")
    return button.mapTo(dialog, button.rect().topLeft()).y()


def test_session_only_hint_says_the_token_lasts_until_the_app_quits(
    qtbot, make_dialog, profiles, _memory_keyring
):
    """Saved without a keychain, the hint under the token says it is kept until the app
    quits, never that a token is "stored"."""
    dialog = make_dialog(TokenStore(fail.Keyring()))
    fill(qtbot, dialog, "HQ", "https://api.makini.io", TOKEN)
    assert dialog.save()
    hint = child(dialog, QLabel, "tokenHint").text()
    assert "stored" not in hint
    assert "until the app quits" in hint


@pytest.mark.parametrize("persistent", [True, False], ids=["keychain", "session-only"])
def test_saving_does_not_move_the_test_connection_button(
    qtbot, make_dialog, profiles, _memory_keyring, persistent
):
    """The token hint changes on save, but Test connection stays where it was."""
    dialog = make_dialog(TokenStore() if persistent else TokenStore(fail.Keyring()))
    dialog.resize(dialog.sizeHint())
    fill(qtbot, dialog, "HQ", "https://api.makini.io", TOKEN)
    QApplication.processEvents()
    before = _test_button_top(dialog)
    hint_before = child(dialog, QLabel, "tokenHint").text()
    assert dialog.save()
    QApplication.processEvents()
    hint = child(dialog, QLabel, "tokenHint")
    assert hint.text() != hint_before
    assert hint.heightForWidth(hint.width()) <= hint.height()  # the whole hint is shown
    assert _test_button_top(dialog) == before

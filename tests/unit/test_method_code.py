"""Dataclass methods compiled once and kept beside the bytecode (makini_desktop.method_code)."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import marshal
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from makini_desktop import method_code

# Classes of the kinds the app makes, and what a person (or a test) sees of them.
_CLASSES = """
import dataclasses, inspect, json, typing
@dataclasses.dataclass(frozen=True)
class Place:
    site: str
    floor: int = 0
    tags: tuple[str, ...] = ()
@dataclasses.dataclass
class Visit:
    guest: str
    notes: list[str] = dataclasses.field(default_factory=list)
    seen: bool = False
a, b = Place("HQ", 3, ("north",)), Place("HQ", 3, ("north",))
v = Visit("Ada"); v.notes.append("badge 7"); v.seen = True
try:
    a.floor = 4
    frozen = "changed"
except dataclasses.FrozenInstanceError as exc:
    frozen = type(exc).__name__
seen = {"repr": [repr(a), repr(Place("Annex")), repr(v), repr(Visit("Bo"))],
        "equal": [a == b, a == Place("HQ"), v == Visit("Ada"), hash(a) == hash(b)],
        "frozen": frozen, "fresh_lists": Visit("x").notes is not Visit("y").notes,
        "order": [f.name for f in dataclasses.fields(Visit)],
        "signature": [str(inspect.signature(Visit.__init__)), str(inspect.signature(Place))],
        "annotations": repr(Visit.__init__.__annotations__),
        "hints": repr(typing.get_type_hints(Place.__init__)),
        "flags": [Visit.__init__.__code__.co_flags, Place.__eq__.__code__.co_flags],
        "qualname": Visit.__init__.__qualname__}
"""

_START = """
import json, sys
from pathlib import Path
from makini_desktop import method_code
installed = method_code.install(Path(sys.argv[1]))
exec(compile(CLASSES, "<classes>", "exec"))
ran = method_code.finish()
print(json.dumps({"installed": installed, "seen": seen,
                  "compiled": ran.compiled if ran else None,
                  "reused": ran.reused if ran else None}))
"""


def _start(path: Path, *, install: bool = True, **env: str) -> dict:
    """One interpreter making the classes, with the code kept in ``path`` (or without)."""
    code = _START if install else "import json\nexec(CLASSES)\nprint(json.dumps({'seen': seen}))"
    environ = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    out = subprocess.run([sys.executable, "-c", f"CLASSES = {_CLASSES!r}\n{code}", str(path)],
                         capture_output=True, text=True, check=True, env={**environ, **env})
    return json.loads(out.stdout)


@pytest.fixture
def finished() -> Iterator[None]:
    """Whatever a test installs is finished, and dataclasses compiles as before."""
    yield
    method_code.finish()
    assert "exec" not in vars(dataclasses)


def test_a_second_start_runs_the_code_the_first_compiled_and_classes_behave_the_same(
    tmp_path: Path,
) -> None:
    path = tmp_path / "methods.marshal"
    plain = _start(path, install=False)  # dataclasses on its own
    first = _start(path)
    assert path.exists()
    second = _start(path)
    assert first["installed"] is True and second["installed"] is True
    assert first["compiled"] > 0 and first["reused"] == 0
    assert second["compiled"] == 0 and second["reused"] == first["compiled"]
    assert first["seen"] == plain["seen"] and second["seen"] == plain["seen"]
    assert plain["seen"]["frozen"] == "FrozenInstanceError"  # the classes were exercised


def test_nothing_is_kept_where_python_keeps_no_bytecode(tmp_path: Path) -> None:
    path = tmp_path / "methods.marshal"
    started = _start(path, PYTHONDONTWRITEBYTECODE="1")
    assert started["compiled"] > 0
    assert not path.exists()


@pytest.mark.parametrize("content", [
    b"not marshal at all",
    b"\x00\x00\x00\x00" + marshal.dumps({}),  # another interpreter's magic
    importlib.util.MAGIC_NUMBER + b"\xff\xfe",  # cut short
    importlib.util.MAGIC_NUMBER + marshal.dumps({"def f(): pass": "not code"}),
    importlib.util.MAGIC_NUMBER + marshal.dumps([compile("x = 1", "<string>", "exec")]),
], ids=["garbage", "other-magic", "truncated", "not-code", "not-a-dict"])
def test_a_file_that_cannot_be_trusted_is_not_used_and_is_replaced(
    tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "methods.marshal"
    path.write_bytes(content)
    assert method_code.read(path) == {}
    plain = _start(tmp_path / "unused", install=False)
    started = _start(path)
    assert started["seen"] == plain["seen"]
    assert started["reused"] == 0
    assert len(method_code.read(path)) == started["compiled"]  # a good file now


@pytest.mark.usefixtures("finished")
def test_finish_puts_dataclasses_exec_back_and_install_is_once(tmp_path: Path) -> None:
    assert method_code.install(tmp_path / "methods.marshal") is True
    assert method_code.install(tmp_path / "other.marshal") is False
    assert "exec" in vars(dataclasses)

    @dataclasses.dataclass
    class Point:
        x: int
        y: int = 2

    assert Point(1) == Point(1, 2)
    ran = method_code.finish()
    assert ran is not None and ran.compiled >= 2  # __init__, __repr__, __eq__
    assert "exec" not in vars(dataclasses)
    assert method_code.finish() is None


@pytest.mark.usefixtures("finished")
def test_a_folder_that_cannot_be_written_loses_nothing_but_the_time(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("in the way", encoding="utf-8")
    method_code.install(blocker / "methods.marshal")  # its folder cannot be made

    @dataclasses.dataclass(frozen=True)
    class Tag:
        name: str

    active = method_code.active()
    assert active is not None and active.keep() is False
    assert Tag("a") == Tag("a") and repr(Tag("b")).endswith("Tag(name='b')")


def test_the_file_holds_at_most_keep_at_most_texts(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Texts of classes an older version made are let go once the file is full."""
    path = tmp_path / "methods.marshal"
    old = {f"x = {n}": compile(f"x = {n}", "<string>", "exec") for n in range(5)}
    method_code.write(path, old)
    monkeypatch.setattr(method_code, "KEEP_AT_MOST", 6)
    code = method_code.MethodCode(path)
    code.exec("y = 1", {}, {})
    assert code.keep() is True
    assert set(method_code.read(path)) == {*old, "y = 1"}
    code = method_code.MethodCode(path)
    for n in range(2):
        code.exec(f"z = {n}", {}, {})
    assert code.keep() is True
    assert set(method_code.read(path)) == {"z = 0", "z = 1"}


_APP_IMPORTS = """
import json, sys
import PySide6.QtCore
from makini_desktop import method_code, runtime
runtime.import_quickly()
from makini_desktop.ui import main_window  # as the app imports it, with all it imports
ran = method_code.finish()
print(json.dumps({"compiled": ran.compiled, "reused": ran.reused,
                  "path": str(method_code.code_path())}))
"""


def test_the_apps_own_dataclasses_are_compiled_once(tmp_path: Path) -> None:
    """The app's start imports its modules with the hook, and keeps their code where its
    bytecode goes (here under PYTHONPYCACHEPREFIX): the next start compiles none of them."""
    environ = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env = {**environ, "PYTHONPYCACHEPREFIX": str(tmp_path), "QT_QPA_PLATFORM": "offscreen"}
    runs = [json.loads(subprocess.run([sys.executable, "-c", _APP_IMPORTS], env=env,
                                      capture_output=True, text=True, check=True).stdout)
            for _ in range(2)]
    assert runs[0]["compiled"] > 100  # some 50 classes, several methods each
    made = runs[0]["compiled"] + runs[0]["reused"]  # a few texts are made twice
    assert runs[1] == {"compiled": 0, "reused": made, "path": runs[0]["path"]}
    assert Path(runs[0]["path"]).is_relative_to(tmp_path)


_FROZEN_START = """
import json, sys
sys.frozen, sys._MEIPASS = True, sys.argv[1]  # as PyInstaller's bootloader sets them
from makini_desktop import method_code
installed = method_code.install()
import classes_mod
ran = method_code.finish()
print(json.dumps({"installed": installed, "seen": classes_mod.seen,
                  "compiled": ran.compiled, "reused": ran.reused,
                  "path": str(method_code.code_path())}))
"""


def test_a_frozen_app_runs_the_code_its_build_made_and_writes_nothing(tmp_path: Path) -> None:
    """The spec's build_file compiles the classes once; the frozen app (sys.frozen, its
    files under sys._MEIPASS) runs that code and leaves the file as built."""
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "classes_mod.py").write_text(_CLASSES, encoding="utf-8")
    bundle = tmp_path / "bundle"
    environ = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env = {**environ, "PYTHONPATH": str(tmp_path / "src")}
    built = subprocess.run(
        [sys.executable, "-c",
         "import sys; from pathlib import Path; from makini_desktop import method_code; "
         "p = Path(sys.argv[1], 'makini_desktop', method_code.file_name()); "
         "print(method_code.build_file(p, ['classes_mod']))", str(bundle)],
        env=env, capture_output=True, text=True, check=True)
    texts = int(built.stdout)
    [made] = (bundle / "makini_desktop").iterdir()
    before = made.stat()
    assert oct(before.st_mode & 0o777) == oct(0o644)  # others can read it, as bytecode
    frozen = json.loads(subprocess.run(
        [sys.executable, "-c", _FROZEN_START, str(bundle)], env=env,
        capture_output=True, text=True, check=True).stdout)
    plain = _start(tmp_path / "unused", install=False)
    assert frozen["installed"] is True and frozen["path"] == str(made)
    assert frozen["compiled"] == 0 and frozen["reused"] == texts > 0
    assert frozen["seen"] == plain["seen"]
    after = made.stat()
    assert (after.st_mtime_ns, after.st_size) == (before.st_mtime_ns, before.st_size)

"""`makini-desktop export` and `makini-desktop sandbox` end to end over loopback."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import subprocess
import sys

import httpx
import pytest

from makini_desktop.api.resources import MAX_PER_PAGE, VIEWS
from makini_desktop.cli import main

TOKEN = "sandbox-token"


@pytest.fixture
def token_env(monkeypatch):
    monkeypatch.setenv("MAKINI_API_TOKEN", TOKEN)


def _export(sandbox, resource, target, fmt="json", *extra):
    return main(["export", resource, "--base-url", sandbox.url, "--format", fmt,
                 "-o", str(target), *extra])


@pytest.mark.parametrize("resource", list(VIEWS))
def test_each_resource_exports_the_sandboxs_whole_list(sandbox, token_env, tmp_path, resource):
    """The exported list is exactly the sandbox's own data for that resource, in order."""
    view = VIEWS[resource]
    target = tmp_path / f"{resource}.json"
    assert _export(sandbox, resource, target) == 0
    exported = json.loads(target.read_text("utf-8"))
    expected = [r for r in sandbox.data.visible(view.dataset.name) if view.accepts(r)]
    assert exported == expected
    assert len(exported) > 0


def test_export_under_429_503_and_latency_is_byte_identical_to_a_clean_one(
    sandbox, token_env, tmp_path
):
    """Injected 429s, 503s and latency change nothing in the exported file."""
    clean = tmp_path / "clean.csv"
    assert _export(sandbox, "assets", clean, "csv") == 0
    sandbox.set_faults([
        "429:every=3,retry_after=0",
        "503:every=4,retry_after=0",
        "latency:ms=15",
    ])
    sandbox.reset_stats()
    faulty = tmp_path / "faulty.csv"
    assert _export(sandbox, "assets", faulty, "csv") == 0
    assert faulty.read_bytes() == clean.read_bytes()
    responses = sandbox.stats.responses
    assert responses.get(429, 0) > 0 and responses.get(503, 0) > 0, responses


def test_an_error_that_survives_retries_exits_1_with_one_line_and_no_file(
    sandbox, token_env, tmp_path, capsys
):
    """A persistent 500 gives exit 1, the contract's one-line message, and no output file."""
    sandbox.set_faults(["500:p=1"])
    target = tmp_path / "assets.csv"
    assert _export(sandbox, "assets", target, "csv") == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    line = err[0]
    assert line.startswith("error: INTERNAL_ERROR (HTTP 500): ")
    assert "[request id: " in line and line.endswith("]")
    assert not target.exists() and list(tmp_path.iterdir()) == []


def test_a_wrong_token_exits_1_with_authentication_failed(sandbox, monkeypatch, tmp_path, capsys):
    """An unknown token is a 401 line, not a retry loop."""
    monkeypatch.setenv("MAKINI_API_TOKEN", "not-a-token")
    assert _export(sandbox, "spaces", tmp_path / "s.csv", "csv") == 1
    assert capsys.readouterr().err.startswith("error: AUTHENTICATION_FAILED (HTTP 401): ")


def test_missing_token_is_a_usage_error(sandbox, tmp_path, capsys):
    """Without MAKINI_API_TOKEN the command says what to set and exits 2."""
    assert _export(sandbox, "spaces", tmp_path / "s.csv", "csv") == 2
    assert "MAKINI_API_TOKEN" in capsys.readouterr().err


def test_plain_http_to_a_remote_host_is_refused(token_env, tmp_path, capsys):
    """http:// to a non-loopback host exits 2 before anything is sent."""
    code = main(["export", "assets", "--base-url", "http://api.makini.io", "-o",
                 str(tmp_path / "a.csv")])
    assert code == 2
    err = capsys.readouterr().err
    assert "https://" in err and TOKEN not in err


def test_export_to_stdout(sandbox, token_env, capsysbinary):
    """`-o -` writes the export to standard output (--raw: the API's fields)."""
    assert main(["export", "buildings", "--base-url", sandbox.url, "--format", "csv",
                 "--raw", "-o", "-"]) == 0
    text = capsysbinary.readouterr().out.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["key"] for r in rows] == [r["key"] for r in sandbox.data.visible("sites")]


def test_sandbox_command_prints_url_and_token_on_its_first_line(tmp_path):
    """`makini-desktop sandbox` serves the contract at the URL it prints first."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "makini_desktop.cli", "sandbox", "--scale", "small",
         "--port", "0", "--token", "t-one"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        line = proc.stdout.readline()
        url = next(w for w in line.split() if w.startswith("http://127.0.0.1:"))
        assert "t-one" in line
        r = httpx.get(f"{url}/api/integrations/current",
                      headers={"Authorization": "Bearer t-one"})
        assert r.status_code == 200 and r.headers["x-request-id"]
    finally:
        proc.terminate()
        proc.communicate(timeout=20)
    assert proc.returncode in (0, -15)


def test_a_proxy_in_the_environment_is_never_used_for_loopback(sandbox, token_env, tmp_path,
                                                                monkeypatch):
    """HTTP_PROXY does not see loopback traffic (it would get the token in clear text)."""
    import socket

    with socket.socket() as trap:  # a "proxy" that refuses everything: using it would fail
        trap.bind(("127.0.0.1", 0))
        port = trap.getsockname()[1]
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{port}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert _export(sandbox, "buildings", tmp_path / "b.json") == 0


# -- malformed and hostile answers: one `error:` line each, never a traceback or a short file


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("error: ")
    assert "Traceback" not in err[0]
    return err[0]


@pytest.mark.parametrize("shape", ["null", "object", "string"])
def test_a_page_with_bad_data_fails_the_export_with_one_line(
    sandbox, token_env, tmp_path, capsys, shape
):
    """A page whose data is null, an object or a string is an error, not a shorter file."""
    sandbox.set_faults([f"bad-data:shape={shape},after=1,path=/api/eam/assets"])
    target = tmp_path / "assets.csv"
    assert _export(sandbox, "assets", target, "csv") == 1
    line = _one_error_line(capsys)
    assert "MALFORMED_RESPONSE" in line and "without its records" in line
    assert "[request id: " in line
    assert list(tmp_path.iterdir()) == []


def test_json_nested_100000_deep_fails_the_export_with_one_line(
    sandbox, token_env, tmp_path, capsys
):
    """A record nested 100,000 deep gives one clear line, not a RecursionError traceback."""
    sandbox.set_faults(["deep:path=/api/eam/assets"])
    target = tmp_path / "assets.json"
    assert _export(sandbox, "assets", target, "json") == 1
    line = _one_error_line(capsys)
    assert "nested too deeply" in line and "[request id: " in line
    assert list(tmp_path.iterdir()) == []


def test_a_trickling_body_ends_at_the_deadline_with_one_line(
    sandbox, token_env, tmp_path, capsys, monkeypatch
):
    """A body sent a few bytes at a time ends the export with "took too long", not a hang."""
    import makini_desktop.api.client as client_module

    monkeypatch.setattr(client_module, "DEFAULT_DEADLINE_SECONDS", 0.5)
    sandbox.set_faults(["trickle:ms=50,bytes=8"])
    target = tmp_path / "assets.csv"
    assert _export(sandbox, "assets", target, "csv") == 1
    line = _one_error_line(capsys)
    assert "took too long" in line and "[request id: " in line
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("status", [500, 401, 502])
def test_an_error_that_repeats_the_token_prints_it_masked(
    sandbox, token_env, tmp_path, capsys, status
):
    """A 500 message, a 401 or an HTML 502 page quoting the token prints no token."""
    sandbox.set_faults([f"echo-token:status={status}"])
    target = tmp_path / "assets.csv"
    assert _export(sandbox, "assets", target, "csv") == 1
    line = _one_error_line(capsys)
    assert f"(HTTP {status})" in line
    assert TOKEN not in line and "***" in line
    assert "[request id: " in line


def test_rows_short_of_the_total_fail_the_export_after_one_retry(
    sandbox, token_env, tmp_path, capsys
):
    """A walk whose rows fall short of meta.total is walked again once, then reported."""
    sandbox.set_faults(["short-total:path=/api/eam/assets"])
    target = tmp_path / "assets.csv"
    assert _export(sandbox, "assets", target, "csv") == 1
    line = _one_error_line(capsys)
    assert "INCOMPLETE_LIST" in line and "[request id: " in line
    assert list(tmp_path.iterdir()) == []
    count = len(sandbox.data.visible("assets"))
    pages = math.ceil(count / MAX_PER_PAGE)
    # short-total drops each page's last record while meta.total still counts it
    assert f"sent {count - pages:,} of {count:,} assets; the list was not saved" in line
    asked = [e for e in sandbox.recent_exchanges() if e[1] == "/api/eam/assets"]
    assert len(asked) == 2 * pages  # walked twice, then reported


def test_a_single_short_walk_is_retried_and_the_export_is_complete(
    sandbox, token_env, tmp_path
):
    """When only the first walk falls short, the retry gives the whole list."""
    clean = tmp_path / "clean.csv"
    assert _export(sandbox, "assets", clean, "csv") == 0
    sandbox.set_faults(["short-total:count=1,path=/api/eam/assets"])
    retried = tmp_path / "retried.csv"
    assert _export(sandbox, "assets", retried, "csv") == 0
    assert retried.read_bytes() == clean.read_bytes()

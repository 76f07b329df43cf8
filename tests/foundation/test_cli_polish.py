"""The command line explains itself, and `serve` defaults PUBLIC_BASE_URL to its address."""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from twilio.request_validator import RequestValidator

from app.cli import _subcommands, build_parser, main
from app.config import load_settings
from app.main import create_app
from app.serving import serving_settings, startup_banner


def _parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    found = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                found += _parsers(child)
    return found


def test_every_option_has_help_and_shows_its_default() -> None:
    for parser in _parsers(build_parser()):
        text = " ".join(parser.format_help().split())
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction | argparse._HelpAction):
                continue
            assert action.help, (parser.prog, action.dest)
            if action.default not in (None, False, argparse.SUPPRESS) and not action.required:
                assert f"(default: {action.default})" in text, (parser.prog, action.dest)


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == "switchboard 0.1.0"


def test_flows_check_names_a_missing_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'none.db'}")
    assert main(["flows", "check", "--dir", "missing/"]) == 1
    assert "missing: error: the folder does not exist" in capsys.readouterr().out
    (tmp_path / "empty").mkdir()
    assert main(["flows", "check", "--dir", "empty"]) == 1
    assert "no flow files (*.yaml or *.yml)" in capsys.readouterr().out


def test_api_keys_list_has_a_header(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'keys.db'}")
    assert main(["migrate"]) == 0
    assert main(["api-keys", "create", "--role", "viewer", "--name", "wall"]) == 0
    capsys.readouterr()
    assert main(["api-keys", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split("\t") == ["id", "prefix", "role", "state", "name"]
    assert lines[1].split("\t")[2:] == ["viewer", "active", "wall"]


def test_public_base_url_defaults_to_the_served_address() -> None:
    unset = load_settings(_env_file=None)
    assert serving_settings(unset, "127.0.0.1", 8100).public_base_url == "http://127.0.0.1:8100"
    assert serving_settings(unset, "0.0.0.0", 9000).public_base_url == "http://127.0.0.1:9000"
    assert serving_settings(unset, "::", 9000).public_base_url == "http://[::1]:9000"
    configured = load_settings(_env_file=None, public_base_url="https://support.example.com")
    assert (
        serving_settings(configured, "0.0.0.0", 9000).public_base_url
        == "https://support.example.com"
    )


def test_startup_banner_says_where_to_go() -> None:
    settings = serving_settings(load_settings(_env_file=None), "127.0.0.1", 8100)
    commands = frozenset(_subcommands(build_parser()))
    text = "\n".join(startup_banner(settings, create_app(settings), "127.0.0.1", 8100, commands))
    assert "http://127.0.0.1:8100/docs" in text and "http://127.0.0.1:8100/redoc" in text
    here = "http://127.0.0.1:8100"
    assert f"console:         {here}/  (sign in at {here}/login)" in text
    assert "switchboard users create --help" in text
    assert "switchboard api-keys create --role admin" in text
    assert "http://127.0.0.1:8100/twilio/voice" in text


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_on_another_port_answers_with_actions_on_that_port(tmp_path: Path) -> None:
    """`PORT=8100 ./scripts/start` once answered with actions on :8000."""
    port = _free_port()
    token = "serve-test-token-42"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}",
        "TWILIO_AUTH_TOKEN": token,
        "LOG_FORMAT": "text",
        "FLOWS_DIR": str(Path(__file__).resolve().parents[2] / "ivr_flows"),
    }
    env.pop("PUBLIC_BASE_URL", None)
    cli = [sys.executable, "-m", "app"]
    subprocess.run([*cli, "migrate"], env=env, cwd=tmp_path, check=True, capture_output=True)
    server = subprocess.Popen(
        [*cli, "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, "server did not start"
            time.sleep(0.2)
        form = {"CallSid": "CA" + "1" * 32, "From": "+14155550100", "To": "+18005550100"}
        signature = RequestValidator(token).compute_signature(base + "/twilio/voice", form)
        r = httpx.post(base + "/twilio/voice", data=form, headers={"X-Twilio-Signature": signature})
        assert r.status_code == 200, r.text
        assert f'action="{base}/twilio/gather' in r.text
    finally:
        server.terminate()
        _, err = server.communicate(timeout=30)
    assert f"starting on {base}" in err and f"{base}/docs" in err
    assert f"console:         {base}/  (sign in at {base}/login)" in err
    assert "api-keys create --role admin" in err and "users create --help" in err

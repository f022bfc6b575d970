from __future__ import annotations

from pathlib import Path

import pytest

import tools.imagegen.__main__ as cli
from tests.conftest import make_settings


def test_the_worker_process_refuses_without_a_model_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings(tmp_path)
    assert settings.imagegen.engine != "model_server"
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    assert cli.main(["worker"]) == 2
    assert "IK_IMAGEGEN__ENGINE is not model_server" in capfd.readouterr().err  # the JSON log line


def test_only_the_worker_command_exists() -> None:
    with pytest.raises(SystemExit):
        cli.main(["serve"])

"""Settings come from the environment and .env, lazily; bad values name the variable to fix."""

import subprocess
import sys

import pytest

from chatui.config import Settings, load_settings
from chatui.errors import ConfigError


def test_config_reads_environment_variables(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CHATUI_PROVIDER", "anthropic")
    monkeypatch.setenv("CHATUI_TOP_K", "7")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-secret")
    settings = load_settings(_env_file=None)
    assert settings.provider == "anthropic" and settings.top_k == 7
    assert settings.anthropic_api_key.get_secret_value() == "sk-ant-secret"
    assert "sk-ant-secret" not in repr(settings) and "sk-ant-secret" not in str(settings.model_dump())


def test_config_reads_a_dotenv_file(tmp_path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / ".env").write_text("CHATUI_MODEL=llama3.2\nOPENAI_BASE_URL=http://localhost:11434/v1\n")
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.model == "llama3.2" and settings.openai_base_url == "http://localhost:11434/v1"


@pytest.mark.parametrize(
    ("variable", "value"),
    [("CHATUI_PROVIDER", "gpt"), ("CHATUI_TOP_K", "many"), ("CHATUI_OFFLINE_TOKENS_PER_S", "-1")],
)
def test_config_bad_value_names_the_variable(monkeypatch: pytest.MonkeyPatch, variable: str, value: str):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load_settings(_env_file=None)
    assert variable in caught.value.message


def test_config_bad_value_does_not_break_importing_the_app():
    env = {"CHATUI_TOP_K": "many", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-c", "import chatui.chatui, chatui.cli, chatui.api"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


def test_config_defaults_need_no_key():
    settings = Settings(_env_file=None)
    assert settings.provider == "offline" and settings.openai_api_key is None

from __future__ import annotations

from pathlib import Path

import pytest

from apigate.config import DEMO, load_target, mock_target
from apigate.errors import ConfigError

LIVE = {
    "APIGATE_KEYCLOAK_URL": "https://kc.example.com/auth",
    "APIGATE_KEYCLOAK_REALM": "codemie-prod",
    "APIGATE_CODEMIE_URL": "https://codemie.example.com/code-assistant-api/",
    "APIGATE_CODEMIE_CLIENT_ID": "codemie-sdk",
    "APIGATE_CODEMIE_USERNAME": "alice",
    "APIGATE_CODEMIE_PASSWORD": "pa55-word-alice",
    "APIGATE_CODEMIE_ASSISTANT_ID": "a1",
    "APIGATE_BASEJUMP_URL": "https://api.basejump.ai/api/v1",
    "APIGATE_BASEJUMP_API_KEY": "bj-key-123456",
}


def test_no_environment_targets_the_mock_with_demo_credentials() -> None:
    target = load_target("http://127.0.0.1:9999", env={}, config_file=None)
    assert not target.live
    assert target.keycloak.token_url == (
        "http://127.0.0.1:9999/auth/realms/codemie-prod/protocol/openid-connect/token"
    )
    assert target.codemie.url == "http://127.0.0.1:9999/code-assistant-api"
    assert target.basejump.url == "http://127.0.0.1:9999/api/v1"
    assert target.codemie.password is not None and target.codemie.password.reveal() == DEMO.password
    assert target.codemie.grant == "password"
    assert mock_target("http://127.0.0.1:9999") == target


def test_live_services_on_different_hosts() -> None:
    target = load_target(env=LIVE)
    assert target.live and not target.needs_mock
    assert target.keycloak.realm_url == "https://kc.example.com/auth/realms/codemie-prod"
    assert target.codemie.url == "https://codemie.example.com/code-assistant-api"  # trailing slash dropped
    assert target.basejump.api_key.reveal() == "bj-key-123456"
    assert "bj-key-123456" not in repr(target)
    assert "pa55-word-alice" not in repr(target)


def test_only_basejump_live_keeps_codemie_on_the_mock() -> None:
    env = {"APIGATE_BASEJUMP_URL": "http://127.0.0.1:7000/api/v1", "APIGATE_BASEJUMP_API_KEY": "k-123456"}
    target = load_target("http://127.0.0.1:8080", env=env)
    assert target.basejump.live and not target.codemie.live and target.needs_mock
    assert target.codemie.url == "http://127.0.0.1:8080/code-assistant-api"


@pytest.mark.parametrize(
    ("change", "variable"),
    [
        ({"APIGATE_CODEMIE_URL": "codemie.example.com"}, "APIGATE_CODEMIE_URL"),
        ({"APIGATE_KEYCLOAK_URL": "ftp://kc"}, "APIGATE_KEYCLOAK_URL"),
        ({"APIGATE_BASEJUMP_URL": "http://host:notaport/api"}, "APIGATE_BASEJUMP_URL"),
        ({"APIGATE_BASEJUMP_API_KEY": ""}, "APIGATE_BASEJUMP_API_KEY"),
        ({"APIGATE_CODEMIE_PASSWORD": ""}, "APIGATE_CODEMIE_PASSWORD"),
        ({"APIGATE_CODEMIE_ASSISTANT_ID": ""}, "APIGATE_CODEMIE_ASSISTANT_ID"),
        ({"APIGATE_KEYCLOAK_URL": ""}, "APIGATE_KEYCLOAK_URL"),
    ],
)
def test_bad_live_configuration_names_the_variable(change: dict[str, str], variable: str) -> None:
    env = {**LIVE, **change}
    with pytest.raises(ConfigError) as info:
        load_target(env=env)
    message = str(info.value)
    assert variable in message
    assert "\n" not in message


def test_a_url_with_credentials_is_refused_without_showing_them() -> None:
    env = {**LIVE, "APIGATE_KEYCLOAK_URL": "https://alice:url-pa55word@kc.example.com/auth"}
    with pytest.raises(ConfigError, match="APIGATE_KEYCLOAK_URL: credentials in the URL") as info:
        load_target(env=env)
    assert "url-pa55word" not in str(info.value) and "url-pa55word" not in repr(info.value.args)


def test_client_credentials_needs_a_secret() -> None:
    env = {k: v for k, v in LIVE.items() if k not in ("APIGATE_CODEMIE_USERNAME", "APIGATE_CODEMIE_PASSWORD")}
    with pytest.raises(ConfigError, match="APIGATE_CODEMIE_CLIENT_SECRET"):
        load_target(env=env)
    target = load_target(env={**env, "APIGATE_CODEMIE_CLIENT_SECRET": "s3cret-value"})
    assert target.codemie.grant == "client_credentials"


def test_config_file_is_read_below_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "apigate.toml"
    path.write_text('[basejump]\nurl = "http://127.0.0.1:7000/api/v1"\n[keycloak]\nrealm = "other"\n')
    env = {"APIGATE_BASEJUMP_API_KEY": "k-123456", "APIGATE_KEYCLOAK_REALM": "from-env"}
    target = load_target(env=env, config_file=path)
    assert target.basejump.url == "http://127.0.0.1:7000/api/v1"
    assert target.keycloak.realm == "codemie-prod"  # realm only applies to a live Keycloak


def test_config_file_refuses_secrets(tmp_path: Path) -> None:
    path = tmp_path / "apigate.toml"
    path.write_text('[basejump]\napi_key = "k"\n')
    with pytest.raises(ConfigError, match="secret"):
        load_target(env={}, config_file=path)


@pytest.mark.parametrize("text", ["[basejump\n", '[basejump]\nurl = 3\n', '[nope]\nx = "y"\n'])
def test_bad_config_file_is_a_config_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "apigate.toml"
    path.write_text(text)
    with pytest.raises(ConfigError):
        load_target(env={}, config_file=path)


def test_missing_explicit_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_target(env={"APIGATE_CONFIG": str(tmp_path / "missing.toml")})

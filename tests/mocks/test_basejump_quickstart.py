"""The seed quickstart of Basejump's docs, with plain ``requests`` calls as the docs make them, against the mock
served by a real uvicorn on loopback: every step answers 200."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from apigate.config import DEMO
from apigate.mocks import MockSettings, running_mock


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with running_mock(MockSettings(basejump_message_latency_ms=5.0)) as server:
        yield server.urls["basejump"]


def test_docs_quickstart_every_step_200(base_url: str) -> None:
    api_key = DEMO.basejump_owner_key
    statuses: list[int] = []

    # 1. create a user with the API key
    headers = {"client-secret": api_key}
    response = requests.post(f"{base_url}/account/user/?username=new_user&role=ADMIN", headers=headers, timeout=10)
    statuses.append(response.status_code)
    user_uuid = response.json()["user_uuid"]

    # 2. a refresh token for the user
    response = requests.post(f"{base_url}/auth/token/?user_uuid={user_uuid}", headers=headers, timeout=10)
    statuses.append(response.status_code)
    refresh_token = response.json()["refresh_token"]

    # 3. an access token from the refresh token
    headers = {"Authorization": f"Bearer {refresh_token}"}
    response = requests.post(f"{base_url}/auth/access_token/?user_uuid={user_uuid}", headers=headers, timeout=10)
    statuses.append(response.status_code)
    access_token = response.json()["access_token"]
    headers = {"Authorization": f"Bearer {access_token}"}

    # 4. a team
    response = requests.post(f"{base_url}/account/team/?team_name=new_team", headers=headers, timeout=10)
    statuses.append(response.status_code)
    team_uuid = response.json()["team_uuid"]

    # 5. a database connection
    payload = {
        "database_type": "postgres",
        "host": "db.example.com",
        "port": 5432,
        "database_name": "hr",
        "username": "basejump_reader",
        "password": "not-a-real-password",
        "schemas": [{"schema_nm": "public"}],
        "include_default_schema": True,
        "ssl_mode": "require",
        "data_source_desc": "HR database",
        "database_desc": "Employees, departments and salaries",
    }
    response = requests.post(f"{base_url}/connection/database/", headers=headers, json=payload, timeout=10)
    statuses.append(response.status_code)
    conn_uuid = response.json()["conn_uuid"]

    # 6. give the team the connection
    response = requests.post(f"{base_url}/connection/{conn_uuid}/team/", headers=headers,
                             json={"team_uuids": [team_uuid]}, timeout=10)
    statuses.append(response.status_code)

    # 7. add the user to the team
    response = requests.post(f"{base_url}/account/user/{user_uuid}/team/{team_uuid}/", headers=headers, timeout=10)
    statuses.append(response.status_code)

    # 8. a chat for the team
    response = requests.post(f"{base_url}/chat/team/{team_uuid}/", headers=headers, timeout=10)
    statuses.append(response.status_code)
    chat_uuid = response.json()["chat_uuid"]

    # 9. ask
    response = requests.post(f"{base_url}/chat/{chat_uuid}/message/", headers=headers,
                             json={"prompt": "How many employees are there?"}, timeout=10)
    statuses.append(response.status_code)
    message = response.json()

    assert statuses == [200] * 9
    assert message["msg_type"] == "response" and message["sql_query"] and message["content"]


def test_dashed_access_token_path_and_contract_over_loopback(base_url: str) -> None:
    headers = {"client-secret": DEMO.basejump_admin_key}
    user_uuid = requests.post(f"{base_url}/account/user/?username=member&role=MEMBER", headers=headers,
                              timeout=10).json()["user_uuid"]
    refresh_token = requests.post(f"{base_url}/auth/token/?user_uuid={user_uuid}", headers=headers,
                                  timeout=10).json()["refresh_token"]
    response = requests.post(f"{base_url}/auth/access-token/?user_uuid={user_uuid}",
                             headers={"Authorization": f"Bearer {refresh_token}"}, timeout=10)
    assert response.status_code == 200 and response.json()["access_token"]
    response = requests.post(f"{base_url}/account/user/?username=boss&role=ADMIN", headers=headers, timeout=10)
    assert response.status_code == 403 and response.json() == {"detail": "A higher level of access is required"}
    assert requests.get(f"{base_url}/openapi.json", timeout=10).json()["info"]["title"]

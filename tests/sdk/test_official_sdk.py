"""The official CodeMie SDK (``codemie-sdk-python`` from PyPI) against ``apigate mock``, as its README uses it.

A client that works against the mock must work against production: this runs the SDK's own code — its Keycloak
login, its request building and its pydantic models — against the embedded mock, one step per README call
(``sdk_session.py``, run by the SDK's Python).

The SDK needs Python >= 3.12: the test finds one (``APIGATE_SDK_PYTHON``, ``python3.12``/``3.13``/``3.14`` on
PATH, pyenv's versions), installs the SDK into its own virtual environment once and keeps it in
``$XDG_CACHE_HOME/apigate/codemie-sdk/`` (or ``APIGATE_SDK_VENV``), keyed by the interpreter and the SDK
requirement (``APIGATE_SDK_SPEC``, default the pinned version below). Without such a Python, PyPI or a second
loopback address the test is skipped with the reason — unless ``APIGATE_SDK_TEST=required`` (CI sets it), which
turns every skip into a failure.

The mock listens on 127.0.0.2: the SDK switches to a local-development login for hosts containing 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest

from apigate.config import DEMO
from apigate.errors import ConfigError
from apigate.mocks import MockProcess, MockSettings

pytestmark = pytest.mark.slow

SDK_SPEC = os.environ.get("APIGATE_SDK_SPEC", "codemie-sdk-python==0.1.703")
REQUIRED = os.environ.get("APIGATE_SDK_TEST") == "required"
HOST = "127.0.0.2"
INSTALL_TIMEOUT_S = 600
SESSION_TIMEOUT_S = 180
SESSION = Path(__file__).with_name("sdk_session.py")
STEPS = [
    "login.password", "llms.list", "users.about_me", "users.about_me.service_account", "assistants.list",
    "assistants.list.filters", "assistants.list.sorted", "assistants.get", "assistants.get_by_slug",
    "assistants.fixed_paths", "chat.plain", "chat.by_slug", "chat.structured", "chat.stream",
    "chat.stream.structured",
]


def _unavailable(reason: str) -> NoReturn:
    if REQUIRED:
        pytest.fail(f"APIGATE_SDK_TEST=required: {reason}")
    pytest.skip(reason)


def _version(python: str) -> tuple[int, int] | None:
    try:
        out = subprocess.run([python, "-c", "import sys; print(*sys.version_info[:2])"], capture_output=True,
                             text=True, timeout=30, check=True).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return None
    return (int(out[0]), int(out[1])) if len(out) == 2 else None


def find_python() -> str | None:
    """A Python >= 3.12 for the SDK: APIGATE_SDK_PYTHON, then PATH, then pyenv's versions."""
    candidates = [os.environ.get("APIGATE_SDK_PYTHON", "")]
    candidates += [shutil.which(f"python3.{minor}") or "" for minor in (12, 13, 14)]
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    candidates += [str(p) for minor in (12, 13, 14) for p in sorted(pyenv.glob(f"3.{minor}.*/bin/python3"))]
    for python in filter(None, candidates):
        version = _version(python)
        if version is not None and version >= (3, 12):
            return python
    return None


def _cache_root() -> Path:
    explicit = os.environ.get("APIGATE_SDK_VENV")
    if explicit:
        return Path(explicit)
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "apigate" / "codemie-sdk"


def sdk_environment(python: str) -> Path:
    """The SDK's virtual environment (made once per interpreter and requirement, then reused); its python."""
    version = _version(python)
    key = hashlib.sha256(f"{Path(python).resolve()}|{SDK_SPEC}".encode()).hexdigest()[:12]
    root = _cache_root()
    venv = root / (f"py{version[0]}.{version[1]}-{key}" if version else key)
    root.mkdir(parents=True, exist_ok=True)
    venv_python = venv / "bin" / "python"
    ready = venv / ".apigate-ready"
    with (root / f"{venv.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another run may be building the same environment
        if ready.exists() and subprocess.run([str(venv_python), "-c", "import codemie_sdk"], capture_output=True,
                                             timeout=60, check=False).returncode == 0:
            return venv_python
        shutil.rmtree(venv, ignore_errors=True)
        steps = [[python, "-m", "venv", str(venv)],
                 [str(venv_python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", SDK_SPEC]]
        for argv in steps:
            try:
                done = subprocess.run(argv, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S, check=False)
            except subprocess.TimeoutExpired:
                _unavailable(f"installing {SDK_SPEC} took longer than {INSTALL_TIMEOUT_S} s")
            if done.returncode != 0:
                shutil.rmtree(venv, ignore_errors=True)
                last = (done.stderr.strip().splitlines() or ["no output"])[-1]
                _unavailable(f"cannot install {SDK_SPEC} with {python}: {last}")
        ready.write_text(SDK_SPEC + "\n", encoding="utf-8")
    return venv_python


@pytest.fixture(scope="module")
def sdk_python() -> Path:
    python = find_python()
    if python is None:
        _unavailable("the official CodeMie SDK needs Python >= 3.12 and none was found (set APIGATE_SDK_PYTHON, "
                     "or put python3.12 on PATH)")
    return sdk_environment(python)


@pytest.fixture(scope="module")
def mock_on_second_loopback() -> Iterator[MockProcess]:
    settings = MockSettings(first_chunk_ms=5.0, chunk_interval_ms=1.0, chat_latency_ms=0.0)
    process = MockProcess(settings, host=HOST)
    try:
        process.start()
    except ConfigError as exc:
        _unavailable(f"cannot serve apigate mock on {HOST}: {exc}")
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
def session(sdk_python: Path, mock_on_second_loopback: MockProcess) -> dict[str, dict[str, Any]]:
    """Runs the SDK session once; the step results by name."""
    urls = mock_on_second_loopback.urls
    config = {"keycloak_url": urls["keycloak"], "codemie_url": urls["codemie"], "realm": DEMO.realm,
              "username": DEMO.username, "password": DEMO.password, "client_id": DEMO.confidential_client,
              "client_secret": DEMO.client_secret, "assistant_id": DEMO.assistant_id,
              "assistant_slug": DEMO.assistant_slug}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    started = time.perf_counter()
    done = subprocess.run([str(sdk_python), str(SESSION), json.dumps(config)], capture_output=True, text=True,
                          timeout=SESSION_TIMEOUT_S, env=env, check=False)
    results = {}
    for line in done.stdout.splitlines():
        with contextlib.suppress(ValueError):
            item = json.loads(line)
            results[item["step"]] = item
    assert results, f"the SDK session printed no step (exit {done.returncode}):\n{done.stderr[-3000:]}"
    print(f"\nSDK session ({SDK_SPEC}, {sys.platform}): {len(results)} steps in "
          f"{time.perf_counter() - started:.1f} s")
    return results


def test_every_step_ran(session: dict[str, dict[str, Any]]) -> None:
    assert list(session) == STEPS


@pytest.mark.parametrize("step", STEPS)
def test_sdk_step(session: dict[str, dict[str, Any]], step: str) -> None:
    result = session.get(step)
    assert result is not None, f"{step} did not run"
    assert result["ok"], f"{step}: {result['detail']}"

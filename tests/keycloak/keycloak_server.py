"""A real Keycloak for the test tier, started and stopped by this script (the CI and a developer run the same).

    python tests/keycloak/keycloak_server.py run -- pytest tests/keycloak   # start, run a command against it, stop
    python tests/keycloak/keycloak_server.py serve                          # start, print where, wait for Ctrl-C
    python tests/keycloak/keycloak_server.py prepare                        # only fetch and build (cached)

* **Fetch**: the pinned ``org.keycloak:keycloak-quarkus-dist`` through Maven (``mvn dependency:copy``), which caches
  it in ``~/.m2``; extracted and built once (``kc.sh build``: embedded H2 in memory, context path ``/auth``) into
  ``$APIGATE_KEYCLOAK_CACHE`` (default ``~/.cache/apigate/keycloak/<version>``), under a file lock.
* **Start**: each run gets its own home (``bin``/``conf`` copied, the built ``lib``/``themes``/``providers`` linked,
  ``data/import/`` holding the realm file), so runs never share state; ``kc.sh start --optimized`` (production mode,
  as deployments run it; dev mode would rebuild into the shared distribution) on a free loopback port, local caches
  only (no cluster transport), the realm imported at start. Ready when the realm's discovery document answers.
* **Stop**: SIGTERM to the server's own process group (the child's PID), SIGKILL after a grace period; the server also
  gets SIGTERM if this process dies first (Linux parent-death signal), so it is never left running.

``run`` exports ``APIGATE_KEYCLOAK_URL`` and ``APIGATE_KEYCLOAK_REALM`` to the command. When
``APIGATE_KEYCLOAK_URL`` is already set, ``run`` starts nothing and runs the command against that server (your own
Keycloak, with the realm file imported). Only the standard library is used: any Python 3.11+ runs this file.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import FrameType
from typing import Final

VERSION: Final = "26.7.3"
REALM_FILE: Final = Path(__file__).resolve().with_name("realm-codemie-prod.json")
# build-time options, persisted into the built distribution (kc.sh start --optimized must not differ)
BUILD_OPTIONS: Final = ("--db=dev-mem", "--http-relative-path=/auth", "--health-enabled=false",
                        "--metrics-enabled=false")
RUN_OPTIONS: Final = ("--optimized", "--http-enabled=true", "--http-host=127.0.0.1", "--hostname-strict=false",
                      "--cache=local", "--import-realm")
START_TIMEOUT_S: Final = 300.0  # a cold JVM on a busy 2-core machine
STOP_GRACE_S: Final = 30.0
_PR_SET_PDEATHSIG: Final = 1


class KeycloakError(Exception):
    """Keycloak could not be fetched, built or started (the message says why, in one line plus a log tail)."""


def cache_dir(version: str = VERSION) -> Path:
    root = os.environ.get("APIGATE_KEYCLOAK_CACHE") or str(Path.home() / ".cache" / "apigate" / "keycloak")
    return Path(root).expanduser() / version


def _say(message: str) -> None:
    print(f"keycloak: {message}", file=sys.stderr, flush=True)


def _tail(path: Path, lines: int = 25) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return ""


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def distribution(version: str = VERSION) -> Path:
    """The extracted, built distribution of ``version``: fetched through Maven and built on first use."""
    cache = cache_dir(version)
    home = cache / f"keycloak-{version}"
    marker = cache / "built-with"
    wanted = " ".join(BUILD_OPTIONS)
    with _locked(cache.parent / f"{version}.lock"):
        if home.is_dir() and marker.is_file() and marker.read_text().strip() == wanted:
            return home
        if home.exists():
            shutil.rmtree(home)
        cache.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=cache, prefix="fetch-") as scratch:
            archive = _fetch(version, Path(scratch))
            started = time.monotonic()
            with tarfile.open(archive) as tar:
                tar.extractall(scratch, filter="data")
            (Path(scratch) / f"keycloak-{version}").rename(home)
            _say(f"extracted in {time.monotonic() - started:.1f} s")
        _build(home)
        marker.write_text(wanted + "\n")
    return home


def _fetch(version: str, into: Path) -> Path:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise KeycloakError("Maven (mvn) is not on PATH: it fetches the Keycloak distribution (apt-get install maven)")
    artifact = f"org.keycloak:keycloak-quarkus-dist:{version}:tar.gz"
    log = into / "maven.log"
    started = time.monotonic()
    with log.open("w") as out:
        code = subprocess.call([mvn, "-B", "-q", "dependency:copy", f"-Dartifact={artifact}",
                                f"-DoutputDirectory={into}"], stdout=out, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, cwd=into)
    archive = into / f"keycloak-quarkus-dist-{version}.tar.gz"
    if code != 0 or not archive.is_file():
        raise KeycloakError(f"mvn dependency:copy {artifact} failed (exit {code}):\n{_tail(log)}")
    _say(f"fetched {artifact} through Maven in {time.monotonic() - started:.1f} s")
    return archive


def _build(home: Path) -> None:
    log = home / "build.log"
    started = time.monotonic()
    with log.open("w") as out:
        code = subprocess.call([str(home / "bin" / "kc.sh"), "build", *BUILD_OPTIONS], stdout=out,
                               stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=home)
    if code != 0:
        raise KeycloakError(f"kc.sh build failed (exit {code}):\n{_tail(log)}")
    _say(f"built ({' '.join(BUILD_OPTIONS)}) in {time.monotonic() - started:.1f} s")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def answers(url: str) -> bool:
    """``GET url`` answers 200."""
    try:
        with urllib.request.urlopen(url, timeout=2.0) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _die_with_parent() -> None:
    """In the child before exec: its own process group, and SIGTERM when the parent dies (Linux)."""
    os.setsid()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _group_rss_kb(pgid: int) -> tuple[int, int]:
    """(current RSS, peak RSS) in KiB summed over the process group's live processes."""
    rss = peak = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        with contextlib.suppress(OSError, ValueError):
            pid = int(status.parent.name)
            if os.getpgid(pid) != pgid:
                continue
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
            rss += int(fields.get("VmRSS", "0 kB").split()[0])
            peak += int(fields.get("VmHWM", "0 kB").split()[0])
    return rss, peak


class KeycloakServer:
    """One Keycloak process with ``realm_file`` imported, on a free loopback port (a context manager)."""

    def __init__(self, realm_file: Path = REALM_FILE, version: str = VERSION, *,
                 log_file: Path | None = None) -> None:
        self.realm_file = realm_file
        self.realm = str(json.loads(realm_file.read_text())["realm"])
        self.version = version
        self.log_file = log_file
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.startup_s = 0.0
        self.rss_kb = 0  # at readiness
        self.peak_rss_kb = 0  # just before stopping
        self._home: Path | None = None

    @property
    def url(self) -> str:
        """The server URL with its ``/auth`` context path (what ``APIGATE_KEYCLOAK_URL`` takes)."""
        return f"http://127.0.0.1:{self.port}/auth"

    def environment(self) -> dict[str, str]:
        return {"APIGATE_KEYCLOAK_URL": self.url, "APIGATE_KEYCLOAK_REALM": self.realm}

    def __enter__(self) -> KeycloakServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        built = distribution(self.version)
        for attempt in range(3):  # the free port may be taken between choosing and binding it
            try:
                self._start_once(built)
                return
            except KeycloakError as exc:
                self.stop()
                if "Address already in use" not in str(exc) or attempt == 2:
                    raise

    def _start_once(self, built: Path) -> None:
        home = Path(tempfile.mkdtemp(prefix="apigate-keycloak-"))
        self._home = home
        for name in ("lib", "themes", "providers", "version.txt"):
            (home / name).symlink_to(built / name)
        for name in ("bin", "conf"):
            shutil.copytree(built / name, home / name, symlinks=True)
        (home / "data" / "import").mkdir(parents=True)
        shutil.copy(self.realm_file, home / "data" / "import" / self.realm_file.name)
        self.port = free_port()
        log = home / "keycloak.log"
        started = time.monotonic()
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [str(home / "bin" / "kc.sh"), "start", *RUN_OPTIONS, f"--http-port={self.port}"],
                cwd=home, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                preexec_fn=_die_with_parent,
            )
        probe = f"{self.url}/realms/{self.realm}/.well-known/openid-configuration"
        deadline = started + START_TIMEOUT_S
        while not answers(probe):
            code = self.process.poll()
            if code is not None:
                raise KeycloakError(f"Keycloak exited with {code} while starting:\n{_tail(log)}")
            if time.monotonic() > deadline:
                raise KeycloakError(f"Keycloak did not answer {probe} within {START_TIMEOUT_S:.0f} s:\n{_tail(log)}")
            time.sleep(0.25)  # readiness poll of another process
        self.startup_s = time.monotonic() - started
        self.rss_kb, _ = _group_rss_kb(self.process.pid)

    def stop(self) -> None:
        """SIGTERM to the server's process group, SIGKILL after the grace period; keep the log if asked."""
        process, self.process = self.process, None
        if process is not None:
            _, self.peak_rss_kb = _group_rss_kb(process.pid)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            with contextlib.suppress(ProcessLookupError):  # a JVM left behind by kc.sh
                os.killpg(process.pid, signal.SIGKILL)
        home, self._home = self._home, None
        if home is not None:
            if self.log_file is not None and (home / "keycloak.log").is_file():
                self.log_file.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(home / "keycloak.log", self.log_file)
            shutil.rmtree(home, ignore_errors=True)

    def describe(self) -> str:
        return (f"Keycloak {self.version} at {self.url} (realm {self.realm}): ready in {self.startup_s:.1f} s, "
                f"RSS {self.rss_kb / 1024:.0f} MiB")


@contextlib.contextmanager
def _stop_on_signals() -> Iterator[None]:
    """SIGTERM / SIGHUP end the run like Ctrl-C does, so that the ``finally`` blocks stop Keycloak."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _run(command: Sequence[str], log_file: Path | None) -> int:
    if not command:
        raise KeycloakError("run: give the command after --, e.g. run -- pytest tests/keycloak")
    if os.environ.get("APIGATE_KEYCLOAK_URL"):
        _say(f"APIGATE_KEYCLOAK_URL={os.environ['APIGATE_KEYCLOAK_URL']} is set: using that server, starting none")
        return subprocess.call(list(command))
    server = KeycloakServer(log_file=log_file)
    child: subprocess.Popen[bytes] | None = None
    try:
        server.start()
        _say(server.describe())
        child = subprocess.Popen(list(command), env={**os.environ, **server.environment()})
        return child.wait()
    except KeyboardInterrupt:
        if child is not None and child.poll() is None:
            child.terminate()
            child.wait()
        return 130
    finally:
        server.stop()
        _say(f"stopped (peak RSS {server.peak_rss_kb / 1024:.0f} MiB)")


def _serve(log_file: Path | None) -> int:
    with KeycloakServer(log_file=log_file) as server:
        _say(server.describe())
        for name, value in server.environment().items():
            print(f"export {name}={value}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            signal.pause()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--log", type=Path, default=None, help="keep Keycloak's log in this file")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("prepare", help="fetch (Maven, cached) and build the distribution")
    sub.add_parser("serve", help="start Keycloak and keep it running until Ctrl-C")
    run = sub.add_parser("run", help="start Keycloak, run a command with APIGATE_KEYCLOAK_* set, stop Keycloak")
    run.add_argument("cmd", nargs=argparse.REMAINDER, help="the command, after --")
    args = parser.parse_args(argv)
    try:
        with _stop_on_signals():
            if args.command == "prepare":
                _say(f"distribution ready: {distribution()}")
                return 0
            if args.command == "serve":
                return _serve(args.log)
            command = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
            return _run(command, args.log)
    except KeycloakError as exc:
        _say(f"error: {exc}")
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

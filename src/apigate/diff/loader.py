"""Reading OpenAPI 3.x documents from files or http(s) URLs, and resolving their ``$ref``s.

References are resolved lazily (recursive schemas stay finite): a :class:`Document` keeps the parsed data and
resolves ``#/...`` JSON pointers on demand. References into other files (``common.yaml#/components/schemas/X``,
relative to the document's own location) are bundled at load time: the other document is embedded under
``x-apigate-bundled`` and its references rewritten, so that every reference left is local. Every reference is
checked when the document is loaded; one that cannot be resolved raises :class:`~apigate.errors.DocumentError`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import yaml

from apigate.errors import ConnectError, DocumentError, TransportError, TransportTimeoutError, http_error_class

__all__ = ["BUNDLE_KEY", "Document", "fetch_text", "is_url", "load_document", "parse_document"]

BUNDLE_KEY = "x-apigate-bundled"
_TIMEOUT = 15.0
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def is_url(source: str) -> bool:
    return urlsplit(source).scheme in ("http", "https")


@dataclass
class Document:
    """A parsed OpenAPI 3.x document. ``data`` is the raw mapping; :meth:`resolve` follows one ``$ref``."""

    source: str
    data: dict[str, Any]
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def version(self) -> str:
        return str(self.data.get("openapi", ""))

    @property
    def paths(self) -> Mapping[str, Any]:
        paths = self.data.get("paths") or {}
        return paths if isinstance(paths, Mapping) else {}

    def resolve(self, ref: str) -> Any:
        """The node a local reference (``#/a/b``) points at; raises DocumentError when there is none."""
        try:
            return self._cache[ref]
        except KeyError:
            pass
        if not ref.startswith("#"):
            raise DocumentError(f"{self.source}: unresolvable $ref {ref!r} (not a local reference)")
        node: Any = self.data
        pointer = unquote(ref[1:])
        if pointer:
            if not pointer.startswith("/"):
                raise DocumentError(f"{self.source}: unresolvable $ref {ref!r} (not a JSON pointer)")
            for raw in pointer[1:].split("/"):
                token = raw.replace("~1", "/").replace("~0", "~")
                if isinstance(node, Mapping) and token in node:
                    node = node[token]
                elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
                    node = node[int(token)]
                else:
                    raise DocumentError(f"{self.source}: unresolvable $ref {ref!r}")
        self._cache[ref] = node
        return node

    def deref(self, node: Any) -> tuple[Any, str | None]:
        """Follow a chain of pure references; returns the target and the last reference followed (or None)."""
        ref: str | None = None
        seen: set[str] = set()
        while isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            if ref in seen:
                raise DocumentError(f"{self.source}: $ref cycle at {ref!r}")
            seen.add(ref)
            node = self.resolve(ref)
        return node, ref


def fetch_text(url: str, *, timeout: float = _TIMEOUT, accept: str = "application/json, application/yaml;q=0.9, */*;q=0.5") -> str:
    """GET ``url`` and return its body. Connection problems raise TransportError subclasses, statuses >= 400 the
    matching HTTPError (both exit 2 at the CLI)."""
    import httpx

    try:
        response = httpx.get(url, timeout=timeout, follow_redirects=True, headers={"Accept": accept})
    except httpx.TimeoutException as exc:
        raise TransportTimeoutError(f"timed out fetching {url}: {exc}", method="GET", url=url) from None
    except (httpx.ConnectError, httpx.RemoteProtocolError) as exc:
        raise ConnectError(f"cannot connect to {url}: {exc}", method="GET", url=url) from None
    except httpx.HTTPError as exc:
        raise TransportError(f"cannot fetch {url}: {exc}", method="GET", url=url) from None
    except httpx.InvalidURL as exc:
        raise DocumentError(f"{url}: not a usable URL: {exc}") from None
    if response.status_code >= 400:
        cls = http_error_class(response.status_code)
        raise cls(f"cannot fetch the document (HTTP {response.status_code})", status=response.status_code,
                  method="GET", url=url, text=response.text)
    return response.text


def _read(source: str) -> str:
    if is_url(source):
        return fetch_text(source)
    try:
        return Path(source).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DocumentError(f"{source}: no such file") from None
    except IsADirectoryError:
        raise DocumentError(f"{source}: is a directory, not a document") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DocumentError(f"{source}: cannot be read: {exc}") from None


def _parse(text: str, source: str) -> Any:
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            return json.loads(text)
        except ValueError:
            pass  # maybe YAML flow style
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or type(exc).__name__
        raise DocumentError(f"{source}: not valid YAML or JSON: {problem}{where}") from None


def parse_document(text: str, source: str, *, reader: Callable[[str], str] | None = None) -> Document:
    """Parse and check an OpenAPI 3.x document; resolve (and bundle) every reference."""
    data = _parse(text, source)
    if not isinstance(data, dict):
        raise DocumentError(f"{source}: not an OpenAPI document (top level is not a mapping)")
    version = data.get("openapi")
    if version is None:
        if "swagger" in data:
            raise DocumentError(f"{source}: Swagger {data['swagger']} is not supported, only OpenAPI 3.x")
        raise DocumentError(f"{source}: not an OpenAPI 3.x document (no 'openapi' field)")
    if not str(version).startswith("3."):
        raise DocumentError(f"{source}: not an OpenAPI 3.x document (openapi: {version})")
    if not isinstance(data.get("paths", {}) or {}, Mapping):
        raise DocumentError(f"{source}: 'paths' is not a mapping")
    document = Document(source, data)
    _Bundler(document, reader or _read).run()
    return document


def load_document(source: str) -> Document:
    """Load a document from a file path or an http(s) URL."""
    return parse_document(_read(source), source)


class _Bundler:
    """Checks every reference of a document; embeds the other documents that references point into."""

    def __init__(self, document: Document, reader: Callable[[str], str]) -> None:
        self.document = document
        self.reader = reader
        self.bundled: dict[str, str] = {}  # absolute location of another document -> local pointer prefix

    def run(self) -> None:
        self._walk(self.document.data, self.document.source, "#")

    def _location(self, base: str, target: str) -> str:
        if is_url(base):
            return urljoin(base, target)
        if is_url(target):
            return target
        return str((Path(base).parent / target).resolve())

    def _walk(self, root: Any, base: str, prefix: str) -> None:
        """Check/rewrite the references below ``root``, a part of the document from ``base`` embedded at ``prefix``."""
        stack: list[tuple[Any, str]] = [(root, "")]
        seen: set[int] = set()
        while stack:
            node, where = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            if isinstance(node, dict):
                ref = node.get("$ref")
                if isinstance(ref, str):
                    node["$ref"] = self._rewrite(ref, base, prefix, where)
                for key, value in node.items():
                    if isinstance(value, dict | list) and key != BUNDLE_KEY:
                        token = str(key).replace("~", "~0").replace("/", "~1")
                        stack.append((value, f"{where}/{token}"))
            elif isinstance(node, list):
                stack.extend((value, f"{where}/{i}") for i, value in enumerate(node) if isinstance(value, dict | list))

    def _rewrite(self, ref: str, base: str, prefix: str, where: str) -> str:
        file_part, _, fragment = ref.partition("#")
        if not file_part:
            local = prefix + fragment if prefix != "#" else "#" + fragment
        else:
            location = self._location(base, file_part)
            if location not in self.bundled:
                self._embed(location, ref, base, where)
            local = self.bundled[location] + fragment
        try:
            self.document.resolve(local)
        except DocumentError:
            raise DocumentError(f"{base}: unresolvable $ref {ref!r} at {where or '/'}") from None
        return local

    def _embed(self, location: str, ref: str, base: str, where: str) -> None:
        try:
            text = self.reader(location)
        except DocumentError as exc:
            raise DocumentError(f"{base}: unresolvable $ref {ref!r} at {where}: {exc}") from None
        other = _parse(text, location)
        store = self.document.data.setdefault(BUNDLE_KEY, {})
        key = str(len(store))
        store[key] = other
        self.bundled[location] = f"#/{BUNDLE_KEY}/{key}"
        self._walk(other, location, self.bundled[location])

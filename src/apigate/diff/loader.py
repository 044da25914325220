"""Reading OpenAPI 3.x documents from files or http(s) URLs, and resolving their ``$ref``s.

References are resolved lazily (recursive schemas stay finite): a :class:`Document` keeps the parsed data and
resolves ``#/...`` JSON pointers on demand. References into other files (``common.yaml#/components/schemas/X``,
relative to the document's own location) are bundled at load time: the other document is embedded under
``x-apigate-bundled`` and its references rewritten, so that every reference left is local. Every reference is
checked when the document is loaded; one that cannot be resolved raises :class:`~apigate.errors.DocumentError`.

Every mapping of a document knows where it is written (:meth:`Document.locate`: its file, JSON pointer and line),
so that a finding can name the source line of a change. YAML lines are recorded while the document is built; a JSON
document's lines are read (once) only when a location is asked for. YAML that redefines an anchor (valid YAML: the
later definition applies to the aliases after it) is read; an unreadable document's error names the file, the line
and the parser's whole reason.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import yaml
import yaml.nodes

from apigate.errors import ConnectError, DocumentError, TransportError, TransportTimeoutError, http_error_class

__all__ = ["BUNDLE_KEY", "Document", "fetch_text", "is_url", "load_document", "parse_document"]

BUNDLE_KEY = "x-apigate-bundled"
_TIMEOUT = 15.0
_SafeLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_MERGE = "tag:yaml.org,2002:merge"


class _LineLoader(_SafeLoader):  # type: ignore[misc]
    """A safe YAML loader that builds plain dicts, lists and strings directly from the composed nodes (other
    scalars and tags go through the safe constructor) and records the line of every mapping and list it builds:
    ``lines[id(value)]`` is the line of the key that introduces it (or of the list item). The tag of a plain scalar
    is resolved once per distinct value: a big document spells the same words thousands of times."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.lines: dict[int, int] = {}
        self._tags: dict[str, str] = {}

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        # as the safe resolver does (it has no path resolvers): only a plain scalar's tag depends on its value
        if kind is yaml.nodes.ScalarNode:
            if not implicit[0]:
                return _STR
            tag = self._tags.get(value)
            if tag is None:
                tag = self._tags[value] = super().resolve(kind, value, implicit)
            return tag
        return _MAP if kind is yaml.nodes.MappingNode else _SEQ

    def load(self) -> Any:
        node = self.get_single_node()
        if node is None:
            return None
        built: dict[int, Any] = {}  # id(node) -> its value: aliases share it, recursive anchors end
        lines = self.lines
        scalar_node, mapping_node, sequence_node = yaml.nodes.ScalarNode, yaml.nodes.MappingNode, yaml.nodes.SequenceNode

        def build(node: Any) -> Any:
            kind = node.__class__
            if kind is scalar_node:
                return node.value if node.tag == _STR else self.construct_object(node, deep=True)
            known = built.get(id(node))
            if known is not None:
                return known
            if kind is mapping_node and node.tag == _MAP:
                mapping: dict[Any, Any] = {}
                built[id(node)] = mapping
                if any(key.tag == _MERGE for key, _value in node.value):
                    self.flatten_mapping(node)
                for key_node, value_node in node.value:
                    key = build(key_node)
                    if key.__class__ is dict or key.__class__ is list:
                        raise yaml.constructor.ConstructorError(
                            "while constructing a mapping", node.start_mark, "found unhashable key", key_node.start_mark
                        )
                    value = build(value_node)
                    if value_node.__class__ is not scalar_node:
                        lines.setdefault(id(value), key_node.start_mark.line + 1)
                    mapping[key] = value
                return mapping
            if kind is sequence_node and node.tag == _SEQ:
                items: list[Any] = []
                built[id(node)] = items
                for item_node in node.value:
                    value = build(item_node)
                    if item_node.__class__ is not scalar_node:
                        lines.setdefault(id(value), item_node.start_mark.line + 1)
                    items.append(value)
                return items
            value = self.construct_object(node, deep=True)  # !!set, !!omap, !!binary, ...
            built[id(node)] = value
            return value

        return build(node)


def is_url(source: str) -> bool:
    return urlsplit(source).scheme in ("http", "https")


@dataclass
class Document:
    """A parsed OpenAPI 3.x document. ``data`` is the raw mapping; :meth:`resolve` follows one ``$ref``;
    :meth:`locate` says where a mapping of it is written."""

    source: str
    data: dict[str, Any]
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)
    # id(mapping) -> (the file it was read from, its JSON pointer there); filled when references are checked
    _origins: dict[int, tuple[str, str]] = field(default_factory=dict, repr=False)
    # id(mapping or list) -> line, for YAML files
    _lines: dict[int, int] = field(default_factory=dict, repr=False)
    # file -> its text, for JSON files whose lines are read on demand; then file -> (its data, its lines)
    _json_texts: dict[str, str] = field(default_factory=dict, repr=False)
    _json_lines: dict[str, tuple[Any, dict[int, int]] | None] = field(default_factory=dict, repr=False)

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
        pointer = unquote(ref[1:])
        if pointer and not pointer.startswith("/"):
            raise DocumentError(f"{self.source}: unresolvable $ref {ref!r} (not a JSON pointer)")
        node = _follow(self.data, pointer)
        if node is _NOWHERE:
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

    def locate(self, node: Any) -> tuple[str, str, int | None] | None:
        """(file, JSON pointer in that file, line or None) of a mapping of this document; None for anything else."""
        origin = self._origins.get(id(node))
        if origin is None:
            return None
        file, pointer = origin
        line = self._lines.get(id(node))
        if line is None and file in self._json_texts:
            line = self._json_line(file, pointer)
        return file, pointer, line

    def _json_line(self, file: str, pointer: str) -> int | None:
        if file not in self._json_lines:
            try:
                self._json_lines[file] = _load_yaml(self._json_texts[file], file)
            except DocumentError:  # JSON that is not YAML (rare): no lines
                self._json_lines[file] = None
        parsed = self._json_lines[file]
        if parsed is None:
            return None
        root, lines = parsed
        node = _follow(root, pointer)
        return None if node is _NOWHERE else lines.get(id(node))


_NOWHERE: Any = object()


def _follow(node: Any, pointer: str) -> Any:
    """The node at a JSON pointer (``/a/b``; ``""`` is ``node`` itself) below ``node``, else ``_NOWHERE``."""
    for raw in pointer.split("/")[1:]:
        token = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, Mapping) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return _NOWHERE
    return node


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


def _mark_text(mark: Any) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}"


def _yaml_error(exc: yaml.YAMLError, source: str, text: str) -> DocumentError:
    """One line: the file, the line of the problem, everything the parser said about it, and that line's text."""
    context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    problem, problem_mark = getattr(exc, "problem", None), getattr(exc, "problem_mark", None)
    parts = []
    if context:
        parts.append(context + (f" ({_mark_text(context_mark)})" if context_mark is not None else ""))
    if problem:
        parts.append(problem + (f" ({_mark_text(problem_mark)})" if problem_mark is not None else ""))
    note = getattr(exc, "note", None)
    if note:
        parts.append(note)
    reason = "; ".join(" ".join(part.split()) for part in parts) or " ".join(str(exc).split())
    mark = problem_mark if problem_mark is not None else context_mark
    if mark is None:
        return DocumentError(f"{source}: not valid YAML or JSON: {reason}")
    lines = text.splitlines()
    quoted = lines[mark.line].strip()[:80] if mark.line < len(lines) else ""
    shown = f": {quoted!r}" if quoted else ""
    return DocumentError(f"{source}, line {mark.line + 1}: not valid YAML or JSON: {reason}{shown}")


def _unique_anchors(text: str) -> str | None:
    """The text with every redefined YAML anchor renamed (``&a`` ... ``&a`` -> ``&a`` ... ``&a-apigate-2``) and each
    alias pointing at the definition before it, so that a composer that refuses redefinitions reads it as YAML
    means it. None when the tokens cannot be mapped back onto the text."""
    starts = [0]
    newline = text.find("\n")
    while newline >= 0:
        starts.append(newline + 1)
        newline = text.find("\n", newline + 1)
    edits: list[tuple[int, int, str]] = []
    defined: dict[str, int] = {}
    current: dict[str, str] = {}
    for token in yaml.scan(text, Loader=_SafeLoader):
        if not isinstance(token, yaml.AnchorToken | yaml.AliasToken):
            continue
        is_anchor = isinstance(token, yaml.AnchorToken)
        name = str(token.value)
        mark = token.start_mark
        offset = starts[mark.line] + mark.column if mark.line < len(starts) else -1
        if text[offset:offset + 1 + len(name)] != ("&" if is_anchor else "*") + name:
            return None
        if is_anchor:
            defined[name] = defined.get(name, 0) + 1
            current[name] = name if defined[name] == 1 else f"{name}-apigate-{defined[name]}"
        spelled = current.get(name, name)
        if spelled != name:
            edits.append((offset + 1, len(name), spelled))
    for offset, length, spelled in reversed(edits):
        text = text[:offset] + spelled + text[offset + length:]
    return text


def _construct(text: str) -> tuple[Any, dict[int, int]]:
    loader = _LineLoader(text)
    try:
        data = loader.load()
    except RecursionError:
        raise yaml.YAMLError("nested too deeply to be read") from None
    finally:
        loader.dispose()
    loader.lines.setdefault(id(data), 1)
    return data, loader.lines


def _load_yaml(text: str, source: str) -> tuple[Any, dict[int, int]]:
    """The data of a YAML text and the line of each of its mappings and lists."""
    try:
        return _construct(text)
    except yaml.composer.ComposerError as exc:
        renamed = _unique_anchors(text) if "duplicate anchor" in str(exc.context or "") else None
        if renamed is None:
            raise _yaml_error(exc, source, text) from None
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, source, text) from None
    try:
        return _construct(renamed)
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, source, text) from None


def _parse(text: str, source: str, document: Document) -> Any:
    """The data of a JSON or YAML text; its lines (YAML), or its text for reading them later (JSON), are kept in
    ``document``."""
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:  # maybe YAML flow style
            try:
                data, lines = _load_yaml(text, source)
            except DocumentError:
                raise DocumentError(f"{source}, line {exc.lineno}: not valid JSON: {exc.msg} "
                                    f"(line {exc.lineno}, column {exc.colno})") from None
        else:
            document._json_texts[source] = text
            return data
    else:
        data, lines = _load_yaml(text, source)
    document._lines.update(lines)
    return data


def parse_document(text: str, source: str, *, reader: Callable[[str], str] | None = None) -> Document:
    """Parse and check an OpenAPI 3.x document; resolve (and bundle) every reference."""
    document = Document(source, {})
    data = _parse(text, source, document)
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
    document.data = data
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

    def _origin(self, base: str) -> str:
        """The name a finding gives the file ``base`` (the document's own source as the user wrote it)."""
        if base == self.document.source or is_url(base):
            return base
        try:
            return str(Path(base).relative_to(Path.cwd()))
        except ValueError:
            return base

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
        origins = self.document._origins
        origin = self._origin(base)
        while stack:
            node, where = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            if isinstance(node, dict):
                origins[id(node)] = (origin, where)
                ref = node.get("$ref")
                if isinstance(ref, str):
                    node["$ref"] = self._rewrite(ref, base, prefix, where)
                # pushed last to first, so that nodes are visited in document order: a node that YAML aliases
                # share gets the pointer of its first occurrence, where its anchor (and its line) is
                for key, value in reversed(node.items()):
                    if isinstance(value, dict | list) and key != BUNDLE_KEY:
                        token = str(key).replace("~", "~0").replace("/", "~1")
                        stack.append((value, f"{where}/{token}"))
            elif isinstance(node, list):
                stack.extend((node[i], f"{where}/{i}") for i in reversed(range(len(node)))
                             if isinstance(node[i], dict | list))

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
        other = _parse(text, location, self.document)
        store = self.document.data.setdefault(BUNDLE_KEY, {})
        key = str(len(store))
        store[key] = other
        self.bundled[location] = f"#/{BUNDLE_KEY}/{key}"
        self._walk(other, location, self.bundled[location])

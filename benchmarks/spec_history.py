"""A synthetic spec history for the diff benchmark: an OpenAPI 3.1 document shaped like a big public AI API (a few
hundred operations sharing deeply nested components: enums, nullable references, discriminated unions, allOf
compositions, maps, recursive trees) and a later version of it, N "commits" of realistic edits apart.

    from spec_history import history
    old, new, edits = history(seed=14, commits=39)   # two dicts, and what each commit did

Nothing here is copied from a real document; every name and word is generated from the seed.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["dump", "generate", "history"]

_TEXT = (
    "the a an of to for with when which model run thread message file assistant tool call token stream chunk "
    "response request value object list item field returns identifier unique created timestamp seconds status "
    "completed failed cancelled expired pending queued content text image audio input output maximum number "
    "default optional required deprecated used by this that each one when set if not null otherwise "
    "organization project user vector store batch fine tuning job checkpoint metric evaluation result"
)
_WORDS = _TEXT.split()
_FORMATS = ("date-time", "uri", "email", "uuid", None, None, None)


def _clean(doc: Any) -> Any:
    """A copy with no shared objects (so that YAML has no aliases) and JSON types only."""
    return json.loads(json.dumps(doc))


class _Builder:
    def __init__(self, seed: int, resources: int) -> None:
        self.rng = random.Random(seed)
        self.resources = resources
        self.schemas: dict[str, Any] = {}
        self.levels: list[list[str]] = []
        self.enums: list[str] = []
        self.unions: list[str] = []

    def words(self, low: int, high: int) -> str:
        text = " ".join(self.rng.choice(_WORDS) for _ in range(self.rng.randint(low, high)))
        return text[:1].upper() + text[1:] + "."

    def name(self, prefix: str) -> str:
        while True:
            candidate = prefix + "".join(self.rng.choice(_WORDS).capitalize() for _ in range(2))
            if candidate not in self.schemas:
                return candidate

    def prop_name(self, taken: set[str]) -> str:
        while True:
            candidate = "_".join(self.rng.choice(_WORDS) for _ in range(self.rng.randint(1, 2)))
            if candidate not in taken and candidate.isidentifier():
                taken.add(candidate)
                return candidate

    def scalar(self) -> dict[str, Any]:
        rng = self.rng
        kind = rng.choice(("string", "string", "string", "integer", "number", "boolean", "array"))
        schema: dict[str, Any] = {"type": kind, "description": self.words(6, 40)}
        if kind == "string":
            fmt = rng.choice(_FORMATS)
            if fmt:
                schema["format"] = fmt
            if rng.random() < 0.3:
                schema["maxLength"] = rng.choice((64, 256, 512, 4096))
            if rng.random() < 0.1:
                schema["pattern"] = "^[a-z0-9_-]+$"
        elif kind in ("integer", "number"):
            if rng.random() < 0.4:
                schema["minimum"] = 0
                schema["maximum"] = rng.choice((1, 2, 100, 4096))
            if rng.random() < 0.2:
                schema["default"] = 1
        elif kind == "array":
            schema["items"] = {"type": "string"}
            if rng.random() < 0.3:
                schema["maxItems"] = rng.choice((4, 16, 64))
        if rng.random() < 0.15:  # nullable, spelled either way
            if rng.random() < 0.5:
                schema["type"] = [kind, "null"]
            else:
                description = schema.pop("description")
                schema = {"anyOf": [schema, {"type": "null"}], "description": description}
        return schema

    def ref(self, name: str) -> dict[str, Any]:
        return {"$ref": f"#/components/schemas/{name}"}

    def reference_to(self, name: str) -> dict[str, Any]:
        """A property that uses another component, in one of the ways specs spell it."""
        rng = self.rng
        choice = rng.random()
        if choice < 0.45:
            return self.ref(name)
        if choice < 0.65:
            return {"anyOf": [self.ref(name), {"type": "null"}], "description": self.words(4, 20)}
        if choice < 0.9:
            return {"type": "array", "items": self.ref(name), "description": self.words(4, 20)}
        return {"type": "object", "additionalProperties": self.ref(name), "description": self.words(4, 20)}

    def obj(self, scalars: int, lower: list[str], refs: int) -> dict[str, Any]:
        taken: set[str] = set()
        props: dict[str, Any] = {}
        for _ in range(scalars):
            props[self.prop_name(taken)] = self.scalar()
        if self.enums and self.rng.random() < 0.6:
            props[self.prop_name(taken)] = self.ref(self.rng.choice(self.enums))
        for _ in range(refs):
            if lower:
                props[self.prop_name(taken)] = self.reference_to(self.rng.choice(lower))
        required = [n for n in props if self.rng.random() < 0.5]
        schema: dict[str, Any] = {"type": "object", "description": self.words(10, 60), "properties": props}
        if required:
            schema["required"] = required
        return schema

    def union(self, lower: list[str]) -> str:
        """A discriminated oneOf of dedicated member objects, some composed with allOf."""
        name = self.name("Union")
        members = []
        for index in range(self.rng.randint(2, 10)):
            member = self.name("Variant")
            tag = f"{member.lower()}_{index}"
            body = self.obj(self.rng.randint(1, 4), lower, self.rng.randint(0, 1))
            body["properties"] = {"type": {"type": "string", "enum": [tag]}, **body["properties"]}
            body["required"] = ["type", *body.get("required", [])]
            if self.rng.random() < 0.3 and lower:
                self.schemas[member] = {"allOf": [self.ref(self.rng.choice(lower)), body]}
            else:
                self.schemas[member] = body
            members.append(self.ref(member))
        self.schemas[name] = {"oneOf": members, "discriminator": {"propertyName": "type"},
                              "description": self.words(5, 30)}
        self.unions.append(name)
        return name

    def build(self) -> dict[str, Any]:
        rng = self.rng
        scale = self.resources
        for _ in range(scale):
            name = self.name("Enum")
            self.enums.append(name)
            self.schemas[name] = {"type": "string", "enum": sorted({rng.choice(_WORDS) for _ in range(rng.randint(2, 7))}),
                                  "description": self.words(4, 20)}
        leaves = []
        for _ in range(scale * 5):
            name = self.name("Leaf")
            self.schemas[name] = self.obj(rng.randint(3, 9), [], 0)
            leaves.append(name)
        self.levels.append(leaves)
        for depth in range(1, 6):
            level = []
            below = [n for lvl in self.levels for n in lvl]
            recent = self.levels[-1]
            for _ in range(scale):
                name = self.name(f"L{depth}")
                self.schemas[name] = self.obj(rng.randint(2, 7), recent + below[:20], rng.randint(1, 3))
                level.append(name)
            for _ in range(max(1, scale // 6)):
                union = self.union(recent)
                level.append(union)
            for _ in range(max(1, scale // 10)):  # a string-or-union property, as generated APIs write it
                holder = self.name(f"L{depth}Either")
                self.schemas[holder] = {"type": "object", "description": self.words(5, 20), "properties": {
                    "detail": {"anyOf": [{"type": "string"}, self.ref(rng.choice(self.unions)), {"type": "null"}],
                               "description": self.words(5, 20)},
                    "id": {"type": "string"},
                }, "required": ["id"]}
                level.append(holder)
            self.levels.append(level)
        # recursive trees: a node with children, and two schemas that refer to each other
        for _ in range(3):
            tree = self.name("Tree")
            self.schemas[tree] = {"type": "object", "properties": {
                "label": {"type": "string"}, "kind": self.ref(rng.choice(self.enums)),
                "children": {"type": "array", "items": self.ref(tree)}}, "required": ["label"]}
            self.levels[-1].append(tree)
        ping, pong = self.name("Ping"), self.name("Pong")
        self.schemas[ping] = {"type": "object", "properties": {"pong": {"anyOf": [self.ref(pong), {"type": "null"}]},
                                                                "at": {"type": "integer"}}}
        self.schemas[pong] = {"type": "object", "properties": {"ping": self.ref(ping), "note": {"type": "string"}},
                              "required": ["ping"]}
        self.levels[-1].append(ping)
        return self.document()

    def document(self) -> dict[str, Any]:
        rng = self.rng
        upper = [n for lvl in self.levels[3:] for n in lvl]
        paths: dict[str, Any] = {}
        parameters = {
            "Limit": {"name": "limit", "in": "query", "required": False, "description": self.words(5, 15),
                      "schema": {"type": "integer", "default": 20, "minimum": 1, "maximum": 100}},
            "Order": {"name": "order", "in": "query", "schema": {"type": "string", "enum": ["asc", "desc"],
                                                                  "default": "desc"}},
            "After": {"name": "after", "in": "query", "schema": {"type": "string"}},
            "Before": {"name": "before", "in": "query", "schema": {"type": "string"}},
        }
        self.schemas["Error"] = {"type": "object", "required": ["message", "type"], "properties": {
            "message": {"type": "string"}, "type": {"type": "string"}, "code": {"type": ["string", "null"]},
            "param": {"type": ["string", "null"]}}}
        responses = {"Error": {"description": "An error.", "content": {"application/json": {"schema": self.ref("Error")}}}}
        for _ in range(self.resources):
            resource = self.name("")
            plural = "/v1/" + "_".join(w.lower() for w in _split_camel(resource)) + "s"
            obj = resource + "Object"
            self.schemas[obj] = self.obj(rng.randint(3, 8), upper, rng.randint(1, 3))
            self.schemas[obj]["properties"]["id"] = {"type": "string"}
            if rng.random() < 0.3:
                self.schemas[obj]["properties"]["last_error"] = {"anyOf": [{"type": "string"}, {"type": "null"}]}
            self.schemas[obj].setdefault("required", []).append("id")
            create = "Create" + resource + "Request"
            self.schemas[create] = self.obj(rng.randint(2, 6), upper, rng.randint(1, 3))
            listing = "List" + resource + "Response"
            self.schemas[listing] = {"type": "object", "required": ["object", "data", "has_more"], "properties": {
                "object": {"type": "string", "const": "list"}, "data": {"type": "array", "items": self.ref(obj)},
                "first_id": {"type": ["string", "null"]}, "last_id": {"type": ["string", "null"]},
                "has_more": {"type": "boolean"}}}
            tag = resource

            def op(summary: str, schema_name: str | None, body: str | None = None, params: list[Any] | None = None,
                   _tag: str = tag) -> dict[str, Any]:
                operation: dict[str, Any] = {"operationId": summary.replace(" ", "_"), "tags": [_tag],
                                             "summary": summary, "description": self.words(10, 50)}
                if params:
                    operation["parameters"] = params
                if body:
                    operation["requestBody"] = {"required": True, "content": {
                        "application/json": {"schema": self.ref(body)}}}
                ok: dict[str, Any] = {"description": "OK."}
                if schema_name:
                    ok["content"] = {"application/json": {"schema": self.ref(schema_name)}}
                operation["responses"] = {"200": ok, "default": {"$ref": "#/components/responses/Error"}}
                return operation

            item_param = {"name": "item_id", "in": "path", "required": True, "schema": {"type": "string"}}
            paths[plural] = {
                "get": op(f"list {resource}", listing, params=[{"$ref": f"#/components/parameters/{p}"}
                                                               for p in ("Limit", "Order", "After", "Before")]),
                "post": op(f"create {resource}", obj, body=create),
            }
            paths[plural + "/{item_id}"] = {
                "get": op(f"get {resource}", obj, params=[item_param]),
                "post": op(f"modify {resource}", obj, body=create, params=[item_param]),
                "delete": op(f"delete {resource}", None, params=[item_param]),
            }
        return {
            "openapi": "3.1.0",
            "info": {"title": "Synthetic AI API", "version": "2.0.0", "description": self.words(30, 80)},
            "servers": [{"url": "https://api.example.com"}],
            "security": [{"ApiKeyAuth": []}],
            "paths": paths,
            "components": {"schemas": self.schemas, "parameters": parameters, "responses": responses,
                           "securitySchemes": {"ApiKeyAuth": {"type": "http", "scheme": "bearer"}}},
        }


def _split_camel(name: str) -> list[str]:
    out: list[str] = []
    for char in name:
        if char.isupper() or not out:
            out.append(char)
        else:
            out[-1] += char
    return out


def generate(seed: int = 14, resources: int = 90) -> dict[str, Any]:
    """The first version: ``resources`` resources of five operations each (list, create, get, modify, delete)."""
    return _clean(_Builder(seed, resources).build())


# -- edits ------------------------------------------------------------------------------------------------------------

class _Editor:
    """Realistic edits of a document, chosen and applied with a seeded random generator."""

    def __init__(self, doc: dict[str, Any], rng: random.Random) -> None:
        self.doc = doc
        self.rng = rng
        self.schemas: dict[str, Any] = doc["components"]["schemas"]

    def words(self, low: int, high: int) -> str:
        return " ".join(self.rng.choice(_WORDS) for _ in range(self.rng.randint(low, high))) + "."

    def objects(self) -> list[str]:
        return [n for n, s in self.schemas.items() if isinstance(s.get("properties"), dict)]

    def pick_object(self) -> tuple[str, dict[str, Any]]:
        name = self.rng.choice(self.objects())
        return name, self.schemas[name]

    def pick_property(self, kind: str | None = None) -> tuple[str, str, dict[str, Any]] | None:
        for _ in range(200):
            name, schema = self.pick_object()
            props = schema["properties"]
            if not props:
                continue
            prop = self.rng.choice(sorted(props))
            if kind is None or props[prop].get("type") == kind:
                return name, prop, schema
        return None

    def _refs(self) -> Iterator[dict[str, Any]]:
        stack: list[Any] = [self.doc]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                if isinstance(node.get("$ref"), str):
                    yield node
                stack.extend(node.values())
            elif isinstance(node, list):
                stack.extend(node)

    # each edit returns what it did, or None when it found nothing to edit

    def add_optional_property(self) -> str | None:
        name, schema = self.pick_object()
        prop = f"{self.rng.choice(_WORDS)}_{self.rng.randint(2, 999)}"
        schema["properties"][prop] = {"type": "string", "description": self.words(5, 20)}
        return f"{name}.{prop} added (optional)"

    def reword(self) -> str | None:
        name, schema = self.pick_object()
        schema["description"] = self.words(10, 60)
        return f"{name} reworded"

    def optional_and_nullable(self) -> str | None:
        for _ in range(100):
            name, schema = self.pick_object()
            required = schema.get("required") or []
            candidates = [r for r in required if r in schema["properties"] and r not in ("id", "type")]
            if candidates:
                prop = self.rng.choice(candidates)
                required.remove(prop)
                inner = schema["properties"][prop]
                schema["properties"][prop] = {"anyOf": [inner, {"type": "null"}]}
                return f"{name}.{prop} became optional and nullable"
        return None

    def enum_value_added(self) -> str | None:
        enums = [n for n, s in self.schemas.items() if isinstance(s.get("enum"), list)]
        name = self.rng.choice(enums)
        value = f"{self.rng.choice(_WORDS)}_{self.rng.randint(2, 99)}"
        self.schemas[name]["enum"].append(value)
        return f"{name} gained {value}"

    def union_member_added(self) -> str | None:
        unions = [n for n, s in self.schemas.items() if "discriminator" in s]
        name = self.rng.choice(unions)
        member = f"{name}Extra{self.rng.randint(2, 9999)}"
        tag = member.lower()
        self.schemas[member] = {"type": "object", "required": ["type"], "properties": {
            "type": {"type": "string", "enum": [tag]}, "payload": {"type": "string"}}}
        self.schemas[name]["oneOf"].append({"$ref": f"#/components/schemas/{member}"})
        return f"{name} gained alternative {member}"

    def widen_to_array(self) -> str | None:
        creates = [n for n in self.schemas if n.startswith("Create")]
        for _ in range(50):
            name = self.rng.choice(creates)
            props = self.schemas[name]["properties"]
            strings = [p for p, s in props.items() if s.get("type") == "string"]
            if strings:
                prop = self.rng.choice(strings)
                props[prop] = {"anyOf": [props[prop], {"type": "array", "maxItems": 16, "items": {"type": "string"}}]}
                return f"{name}.{prop} also accepts an array"
        return None

    def make_nullable(self) -> str | None:
        found = self.pick_property("string")
        if found is None:
            return None
        name, prop, schema = found
        schema["properties"][prop]["type"] = ["string", "null"]
        return f"{name}.{prop} became nullable"

    def rename_component(self) -> str | None:
        leaves = [n for n in self.schemas if n.startswith("Leaf")]
        old = self.rng.choice(leaves)
        new = f"{old}V{self.rng.randint(2, 99)}"
        self.schemas[new] = self.schemas.pop(old)
        for node in self._refs():
            if node["$ref"] == f"#/components/schemas/{old}":
                node["$ref"] = f"#/components/schemas/{new}"
        return f"{old} renamed {new}"

    def inline_reference(self) -> str | None:
        refs = [n for n in self._refs() if n["$ref"].startswith("#/components/schemas/Leaf")]
        if not refs:
            return None
        node = self.rng.choice(refs)
        target = node.pop("$ref").rsplit("/", 1)[1]
        node.update(copy.deepcopy(self.schemas[target]))
        return f"a reference to {target} inlined"

    def remove_optional_property(self) -> str | None:
        for _ in range(100):
            name, schema = self.pick_object()
            optional = [p for p in schema["properties"] if p not in (schema.get("required") or [])]
            if optional:
                prop = self.rng.choice(optional)
                del schema["properties"][prop]
                return f"{name}.{prop} removed"
        return None

    def change_max_length(self) -> str | None:
        found = self.pick_property("string")
        if found is None:
            return None
        name, prop, schema = found
        schema["properties"][prop]["maxLength"] = self.rng.choice((32, 1024, 8192))
        return f"{name}.{prop} maxLength changed"

    def change_default(self) -> str | None:
        found = self.pick_property("integer")
        if found is None:
            return None
        name, prop, schema = found
        schema["properties"][prop]["default"] = self.rng.randint(2, 50)
        return f"{name}.{prop} default changed"

    def remove_operation(self) -> str | None:
        path = self.rng.choice(sorted(self.doc["paths"]))
        item = self.doc["paths"][path]
        if "delete" in item:
            del item["delete"]
            return f"DELETE {path} removed"
        return None

    def new_required_request_property(self) -> str | None:
        creates = [n for n in self.schemas if n.startswith("Create")]
        name = self.rng.choice(creates)
        prop = f"mode_{self.rng.randint(2, 999)}"
        self.schemas[name]["properties"][prop] = {"type": "string", "enum": ["auto", "manual"]}
        self.schemas[name].setdefault("required", []).append(prop)
        return f"{name}.{prop} added (required)"

    def add_query_parameter(self) -> str | None:
        path = self.rng.choice(sorted(self.doc["paths"]))
        op = self.doc["paths"][path].get("get")
        if op is None:
            return None
        op.setdefault("parameters", []).append({"name": f"include_{self.rng.randint(2, 999)}", "in": "query",
                                                "schema": {"type": "boolean"}})
        return f"GET {path} gained a query parameter"

    def add_response_status(self) -> str | None:
        path = self.rng.choice(sorted(self.doc["paths"]))
        op = next(iter(self.doc["paths"][path].values()))
        op["responses"]["429"] = {"description": "Rate limited.", "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        return f"{path} may answer 429"

    def collapse_anyof(self) -> str | None:
        holders = [n for n, s in self.schemas.items() if "Either" in n and len(s["properties"]["detail"]["anyOf"]) == 3]
        if not holders:
            return None
        name = self.rng.choice(holders)
        del self.schemas[name]["properties"]["detail"]["anyOf"][0]
        return f"{name}.detail no longer a string"

    def string_to_union(self) -> str | None:
        holders = [n for n, s in self.schemas.items()
                   if s.get("properties", {}).get("last_error", {}).get("anyOf", [{}])[0].get("type") == "string"]
        if not holders:
            return None
        name = self.rng.choice(holders)
        union = self.rng.choice([n for n, s in self.schemas.items() if "discriminator" in s])
        self.schemas[name]["properties"]["last_error"]["anyOf"][0] = {"$ref": f"#/components/schemas/{union}"}
        return f"{name}.last_error: a string became {union}"

    def add_resource(self) -> str | None:
        objects = [n for n in self.schemas if n.endswith("Object")]
        name = self.rng.choice(objects)
        path = f"/v1/extra_{self.rng.randint(2, 99999)}"
        self.doc["paths"][path] = {"get": {"operationId": path.replace("/", "_"), "responses": {"200": {
            "description": "OK.", "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}}}}}
        return f"GET {path} added"


_EDITS: list[tuple[Callable[[_Editor], str | None], int]] = [
    (_Editor.add_optional_property, 25), (_Editor.reword, 20), (_Editor.add_resource, 4),
    (_Editor.optional_and_nullable, 3), (_Editor.enum_value_added, 8), (_Editor.union_member_added, 4),
    (_Editor.widen_to_array, 3), (_Editor.make_nullable, 5), (_Editor.rename_component, 2),
    (_Editor.inline_reference, 2), (_Editor.remove_optional_property, 3), (_Editor.change_max_length, 3),
    (_Editor.change_default, 2), (_Editor.remove_operation, 1), (_Editor.new_required_request_property, 1),
    (_Editor.add_query_parameter, 3), (_Editor.add_response_status, 2), (_Editor.collapse_anyof, 1),
    (_Editor.string_to_union, 1),
]


def history(seed: int = 14, commits: int = 39, resources: int = 90) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """The first version, the version ``commits`` commits later (each 2-8 edits) and what each edit did."""
    old = generate(seed, resources)
    new = copy.deepcopy(old)
    rng = random.Random(seed + 1)
    editor = _Editor(new, rng)
    done: list[str] = []
    functions = [f for f, _w in _EDITS]
    weights = [w for _f, w in _EDITS]
    for commit in range(1, commits + 1):
        for _ in range(rng.randint(2, 8)):
            edit = rng.choices(functions, weights)[0]
            what = edit(editor)
            if what:
                done.append(f"commit {commit}: {what}")
    return old, _clean(new), done


def dump(doc: dict[str, Any]) -> str:
    """YAML text, block style, as such documents are published."""
    import yaml

    dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    text: str = yaml.dump(doc, Dumper=dumper, sort_keys=False, allow_unicode=True, width=120)
    return text

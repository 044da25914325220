"""Loading documents: JSON or YAML, $refs into other files, recursion-safe resolution."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from apigate.diff import diff_documents, load_document, parse_document
from apigate.errors import DocumentError

from ._server import serving

DOC = """
openapi: 3.0.3
info: {title: t, version: '1'}
paths:
  /a:
    get:
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {$ref: 'schemas/node.yaml#/Node'}
"""
NODE = """
Node:
  type: object
  required: [id]
  properties:
    id: {type: string}
    parent: {$ref: '#/Node'}
    children: {type: array, items: {$ref: '#/Node'}}
    label: {$ref: '../common.yaml#/Label'}
"""
COMMON = "Label: {type: string, maxLength: 20}\n"


def _tree(root: Path) -> Path:
    (root / "schemas").mkdir()
    (root / "schemas" / "node.yaml").write_text(NODE, encoding="utf-8")
    (root / "common.yaml").write_text(COMMON, encoding="utf-8")
    (root / "api.yaml").write_text(DOC, encoding="utf-8")
    return root / "api.yaml"


def test_references_into_other_files_are_bundled(tmp_path: Path) -> None:
    document = load_document(str(_tree(tmp_path)))
    schema = document.paths["/a"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    node, ref = document.deref(schema)
    assert ref is not None and ref.startswith("#/x-apigate-bundled/")
    label, _ = document.deref(node["properties"]["label"])
    assert label == {"type": "string", "maxLength": 20}
    assert diff_documents(document, load_document(str(tmp_path / "api.yaml"))) == []


def test_a_change_in_a_referenced_file_is_found(tmp_path: Path) -> None:
    old = load_document(str(_tree(tmp_path)))
    (tmp_path / "common.yaml").write_text("Label: {type: string, maxLength: 40}\n", encoding="utf-8")
    new = load_document(str(tmp_path / "api.yaml"))
    assert [(f.rule, f.where) for f in diff_documents(old, new)] == [
        ("response-max-loosened", "response 200 application/json: body.label"),
    ]


def test_references_relative_to_a_url() -> None:
    with serving({"/v1/api.yaml": DOC, "/v1/schemas/node.yaml": NODE, "/v1/common.yaml": COMMON}) as origin:
        document = load_document(f"{origin}/v1/api.yaml")
    assert len(document.data["x-apigate-bundled"]) == 2


def test_json_documents() -> None:
    data = {"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {}}
    assert parse_document(json.dumps(data), "inline.json").version == "3.1.0"


def test_yaml_anchors_that_recurse_do_not_hang() -> None:
    text = """
openapi: 3.1.0
info: {title: t, version: '1'}
paths:
  /a:
    get:
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: &node
                type: object
                properties:
                  next: *node
"""
    document = parse_document(text, "anchors.yaml")
    assert diff_documents(document, parse_document(text, "anchors.yaml")) == []


def test_unresolvable_reference_names_the_reference_and_where(tmp_path: Path) -> None:
    api = _tree(tmp_path)
    api.write_text(DOC.replace("#/Node", "#/Nope"), encoding="utf-8")
    with pytest.raises(DocumentError, match=r"api.yaml: unresolvable \$ref 'schemas/node.yaml#/Nope' at "
                                            r"/paths/~1a/get/responses/200/content/application~1json/schema$"):
        load_document(str(api))


def test_a_missing_referenced_file_names_the_file_that_refers_to_it(tmp_path: Path) -> None:
    api = _tree(tmp_path)
    (tmp_path / "common.yaml").unlink()
    with pytest.raises(DocumentError, match=r"node.yaml: unresolvable \$ref '../common.yaml#/Label' at "
                                            r"/Node/properties/label: .*common.yaml: no such file$"):
        load_document(str(api))

"""Loading documents: JSON or YAML, $refs into other files, recursion-safe resolution."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

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


REDEFINED_ANCHOR = """
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
              schema: {type: object}
              example: &sample {id: first}
  /b:
    get:
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {type: object}
              example: &sample {id: second}
  /c:
    get:
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {type: object}
              example: *sample
"""


def _example(document: object, path: str) -> object:
    assert hasattr(document, "paths")
    return document.paths[path]["get"]["responses"]["200"]["content"]["application/json"]["example"]


def test_a_redefined_anchor_is_read_and_an_alias_follows_the_definition_before_it() -> None:
    document = parse_document(REDEFINED_ANCHOR, "anchors.yaml")
    assert [_example(document, p) for p in ("/a", "/b", "/c")] == [{"id": "first"}, {"id": "second"}, {"id": "second"}]
    # the node /b and /c share is located where its anchor is: /b, its pointer and its line
    line = REDEFINED_ANCHOR.splitlines().index("              example: &sample {id: second}") + 1
    assert document.locate(_example(document, "/c")) == (
        "anchors.yaml", "/paths/~1b/get/responses/200/content/application~1json/example", line)


def test_an_anchor_name_inside_a_string_is_left_alone() -> None:
    text = REDEFINED_ANCHOR.replace("schema: {type: object}", "schema: {type: object, description: 'R&sample *sample'}")
    document = parse_document(text, "anchors.yaml")
    schema = document.paths["/c"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["description"] == "R&sample *sample"
    assert _example(document, "/c") == {"id": "second"}


UNREADABLE = {
    "undefined-alias": ("openapi: 3.1.0\npaths:\n  /a: *nowhere\n",
                        "bad.yaml, line 3: not valid YAML or JSON: found undefined alias (line 3, column 7): '/a: *nowhere'"),
    "bad-indentation": ("openapi: 3.1.0\ninfo:\n  title: t\n   version: 1\npaths: {}\n",
                        "bad.yaml, line 4: not valid YAML or JSON: mapping values are not allowed in this context "
                        "(line 4, column 11): 'version: 1'"),
    "unclosed-flow": ("openapi: 3.1.0\npaths: {\n",
                      "bad.yaml, line 3: not valid YAML or JSON: while parsing a flow node (line 3, column 1); "
                      "did not find expected node content (line 3, column 1)"),
    "json": ('{"openapi": "3.1.0",\n "paths": {},,\n}\n',
             "bad.yaml, line 2: not valid JSON: Expecting property name enclosed in double quotes (line 2, column 14)"),
}


@pytest.mark.parametrize("case", sorted(UNREADABLE))
def test_an_unreadable_document_names_the_file_the_line_and_the_whole_reason(case: str) -> None:
    text, message = UNREADABLE[case]
    with pytest.raises(DocumentError) as info:
        parse_document(text, "bad.yaml")
    assert str(info.value) == message


def test_every_mapping_knows_its_file_pointer_and_line(tmp_path: Path) -> None:
    document = load_document(str(_tree(tmp_path)))
    media = document.paths["/a"]["get"]["responses"]["200"]["content"]["application/json"]
    media_line = DOC.splitlines().index("            application/json:") + 1
    assert document.locate(media) == (str(tmp_path / "api.yaml"), "/paths/~1a/get/responses/200/content/application~1json",
                                      media_line)
    node, _ref = document.deref(media["schema"])
    file, pointer, line = document.locate(node["properties"]["label"]) or ("", "", 0)
    label_line = NODE.splitlines().index("    label: {$ref: '../common.yaml#/Label'}") + 1
    assert (Path(file).name, pointer, line) == ("node.yaml", "/Node/properties/label", label_line)
    assert document.locate({"not": "in the document"}) is None


def test_lines_of_a_json_document_are_read_when_asked_for() -> None:
    text = json.dumps(yaml.safe_load(DOC.replace("schemas/node.yaml#/Node", "#/components/schemas/Node")
                                     + "components:\n  schemas:\n    Node: {type: object}\n"), indent=2)
    document = parse_document(text, "api.json")
    node = document.data["components"]["schemas"]["Node"]
    expected = next(i + 1 for i, line in enumerate(text.splitlines()) if line.strip().startswith('"Node"'))
    assert document.locate(node) == ("api.json", "/components/schemas/Node", expected)

"""How long `apigate diff` takes on the pinned contracts (load + compare), each against itself and against a
rewritten copy (every `type: [X, 'null']` spelled as anyOf, every component renamed).

    python benchmarks/diff_contracts.py [--repeat N]

Prints the median of N runs per contract. Target: well under a second per contract (the whole diff, both loads).
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time
from typing import Any

import yaml

from apigate.diff import diff_documents, load_document, parse_document
from apigate.resources import contract_path


def _rewritten(doc: dict[str, Any]) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    seen: set[int] = set()

    def walk(node: Any) -> None:
        if id(node) in seen:
            return
        seen.add(id(node))
        if isinstance(node, dict):
            kinds = node.get("type")
            if isinstance(kinds, list) and "null" in kinds:
                del node["type"]
                node["anyOf"] = [{"type": k} for k in kinds]
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
                node["$ref"] = "#/components/schemas/V2" + ref.rsplit("/", 1)[1]
            for value in list(node.values()):
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc)
    schemas = doc.get("components", {}).get("schemas", {})
    doc["components"]["schemas"] = {f"V2{name}": schema for name, schema in schemas.items()}
    return doc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    for api in ("codemie", "keycloak", "basejump"):
        path = str(contract_path(api))
        other_text = yaml.safe_dump(_rewritten(yaml.safe_load(contract_path(api).read_text(encoding="utf-8"))))
        self_times, other_times, compare_times = [], [], []
        findings = -1
        for _ in range(args.repeat):
            start = time.perf_counter()
            old, new = load_document(path), load_document(path)
            loaded = time.perf_counter()
            findings = len(diff_documents(old, new))
            end = time.perf_counter()
            self_times.append(end - start)
            compare_times.append(end - loaded)
            start = time.perf_counter()
            diff_documents(load_document(path), parse_document(other_text, "rewritten"))
            other_times.append(time.perf_counter() - start)
        print(f"{api:9s} self-diff {statistics.median(self_times) * 1000:7.1f} ms "
              f"(compare only {statistics.median(compare_times) * 1000:6.1f} ms, {findings} findings); "
              f"vs rewritten copy {statistics.median(other_times) * 1000:7.1f} ms")


if __name__ == "__main__":
    main()

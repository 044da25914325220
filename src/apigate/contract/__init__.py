"""The contract suite behind ``apigate contract``: schemathesis over the pinned contracts plus apigate's checks.

Public surface::

    run_contract(target, apis, max_examples, out_dir, *, seed, workers, progress, mock_settings) -> ContractResult
    ContractResult (.passed, .exit_code, .to_summary() -> summary.json's "contract" key), ApiResult,
    OperationResult, Finding
    render_text / render_junit / write_reports      the terminal summary, JUnit XML, summary.json
    ALL_APIS, DEFAULT_MAX_EXAMPLES

Heavy imports (schemathesis, hypothesis) happen when a run starts.
"""

from __future__ import annotations

from apigate.contract.documents import ALL_APIS
from apigate.contract.report import render_junit, render_text, write_reports
from apigate.contract.results import ApiResult, ContractResult, Finding, OperationResult
from apigate.contract.runner import DEFAULT_MAX_EXAMPLES, run_contract

__all__ = [  # noqa: RUF022 - grouped by concern
    # running
    "ALL_APIS",
    "DEFAULT_MAX_EXAMPLES",
    "run_contract",
    # results
    "ApiResult",
    "Finding",
    "ContractResult",
    "OperationResult",
    # writers
    "render_junit",
    "render_text",
    "write_reports",
]

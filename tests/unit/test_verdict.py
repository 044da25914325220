"""The one severity notion, and the options that choose how a run is judged and seeded."""

from __future__ import annotations

import argparse

import pytest

from apigate.errors import UsageError
from apigate.mocks.settings import ALTERNATIVES, MockSettings, parse_seed
from apigate.verdict import Severity


@pytest.mark.parametrize(("severity", "fails", "fails_strict"), [
    (Severity.FAILURE, True, True),
    (Severity.EXPIRED, True, True),
    (Severity.ASSUMPTION, False, True),
    (Severity.HTTP_LAYER, False, True),
    (Severity.KNOWN, False, False),
    (Severity.FIXED, False, False),
])
def test_what_fails_a_run(severity: Severity, fails: bool, fails_strict: bool) -> None:
    assert severity.fails() is fails and severity.fails(strict=True) is fails_strict
    assert severity.label


def test_seed_option() -> None:
    assert parse_seed("42") == 42 and parse_seed("Random") == "random"
    with pytest.raises(argparse.ArgumentTypeError):
        parse_seed("forty-two")
    parser = argparse.ArgumentParser()
    MockSettings.add_arguments(parser)
    assert MockSettings.from_args(parser.parse_args(["--seed", "random"])).seed is None  # fresh: unseeded mock
    assert MockSettings.from_args(parser.parse_args(["--seed", "7"])).seed == 7


def test_variant_option() -> None:
    independent = MockSettings(variant="independent")
    assert all(independent.alternative(name) for name in ALTERNATIVES)
    assert not any(MockSettings().alternative(name) for name in ALTERNATIVES)
    assert independent.to_argv() == ["--variant", "independent"]
    with pytest.raises(UsageError):
        MockSettings(variant="other")  # type: ignore[arg-type]

"""The examples in the docstrings (Rust and Python) and in the README run, and the README
shows examples/quickstart.py as it is."""

from __future__ import annotations

import doctest
import inspect
import re
import runpy
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import pytest

import jitr_iot
from jitr_iot import _errors, _types

PY = Path(__file__).resolve().parents[1]
README = PY / "README.md"
EXAMPLE = PY / "examples" / "quickstart.py"


def docstrings() -> Iterator[Tuple[str, str]]:
    """(name, docstring) of the package, every public object and their members."""
    yield "jitr_iot", jitr_iot.__doc__ or ""
    yield "jitr_iot._errors", _errors.__doc__ or ""
    yield "jitr_iot.handler", jitr_iot.handler.__doc__ or ""
    yield "jitr_iot.exceptions", jitr_iot.exceptions.__doc__ or ""
    yield "jitr_iot.mock", jitr_iot.mock.__doc__ or ""
    yield "jitr_iot._types", _types.__doc__ or ""
    for name in ["activate", "lambda_handler"]:
        yield f"jitr_iot.handler.{name}", getattr(jitr_iot.handler, name).__doc__ or ""
    for name in jitr_iot.__all__:
        obj = getattr(jitr_iot, name)
        if not (inspect.isclass(obj) or callable(obj)):
            continue
        yield f"jitr_iot.{name}", obj.__doc__ or ""
        if inspect.isclass(obj):
            for member, value in vars(obj).items():
                doc = getattr(value, "__doc__", None)
                if isinstance(doc, str) and not member.startswith("__"):
                    yield f"jitr_iot.{name}.{member}", doc


EXAMPLES = [(name, doc) for name, doc in docstrings() if ">>>" in doc]


def test_the_documented_objects_have_examples() -> None:
    with_examples = {name for name, _ in EXAMPLES}
    for name in [
        "jitr_iot",
        "jitr_iot.Registry",
        "jitr_iot.Certificate",
        "jitr_iot.JitrError",
        "jitr_iot.load_pem_chain",
        "jitr_iot.certificate_id",
        "jitr_iot.generate_ca",
        "jitr_iot.generate_verification_certificate",
        "jitr_iot.issue_certificate",
        "jitr_iot.Crl",
        "jitr_iot.PolicyTemplate",
        "jitr_iot.parse_registration_event",
        "jitr_iot.handler",
        "jitr_iot.exceptions",
        "jitr_iot.mock",
        "jitr_iot.mock_iot",
        "jitr_iot.ParamValidationError",
        "jitr_iot._types",
    ]:
        assert name in with_examples, name


@pytest.mark.parametrize("name,doc", EXAMPLES, ids=[n for n, _ in EXAMPLES])
def test_docstring_examples(name: str, doc: str) -> None:
    test = doctest.DocTestParser().get_doctest(doc, {}, name, None, 0)
    assert test.examples
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    output: list[str] = []
    runner.run(test, out=output.append)
    assert runner.failures == 0, "".join(output)


def python_blocks(markdown: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", markdown, flags=re.S)


def test_readme_shows_the_example() -> None:
    blocks = python_blocks(README.read_text())
    assert blocks, "the README has no Python example"
    assert EXAMPLE.read_text() in blocks


def test_readme_examples_run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    # The Lambda example configures jitr_iot.handler: restore its settings afterwards.
    for setting in ["crl_source", "policy_template", "iot_client"]:
        monkeypatch.setattr(jitr_iot.handler, setting, getattr(jitr_iot.handler, setting))
    namespaces: List[Dict[str, Any]] = []
    for block in python_blocks(README.read_text()):
        namespace: Dict[str, Any] = {"__name__": "__readme__"}
        exec(compile(block, str(README), "exec"), namespace)
        namespaces.append(namespace)
    assert "PENDING_ACTIVATION" in capsys.readouterr().out
    # The Lambda module's CRL source answers "no CRL" for a CA without a file.
    [app] = [n for n in namespaces if "crl_for" in n]
    crl_for: Callable[[str], Optional[bytes]] = app["crl_for"]
    assert crl_for("ab" * 32) is None
    assert jitr_iot.handler.crl_source is crl_for
    template = jitr_iot.handler.policy_template
    assert template is not None and template.name == "Fleet_{{subject.CommonName}}"


def test_the_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    runpy.run_path(str(EXAMPLE), run_name="__main__")
    out = capsys.readouterr().out
    assert "registered as PENDING_ACTIVATION" in out and "refused:" in out

"""The Python surface against its sources of truth: the core's operations table (read
through the binding), botocore's ``iot`` service model, and the stubs. An operation added
to the core without its Python method or stub, a parameter that differs from boto3's, a
vocabulary whose ``Literal`` type lags the core, or a registry knob the stub lacks fails
here."""

from __future__ import annotations

import ast
import inspect
import typing
from pathlib import Path
from typing import Any, Dict, Optional, Set, Tuple, cast

import botocore.session
import botocore.validate
import pytest

import jitr_iot
from conftest import minimal_value
from jitr_iot import _types

#: Registry members that are not boto3 operations.
NOT_OPERATIONS = {
    "connect",
    "describe_provisioning_failure",  # jitr_iot.EXTENSIONS
    "close",
    "store_kind",
    "export_state",
    "from_state",
    "default_config",
    "config",
    "account_id",
    "region",
    "partition",
    "exceptions",
}
#: Parameters of the boto3 model that jitr does not take yet (issue 15, item 5).
NOT_YET: Dict[str, set[str]] = {}
STUB = Path(jitr_iot.__file__).parent / "_jitr.pyi"


def iot_model() -> Any:
    return botocore.session.get_session().get_service_model("iot")


def stub_class(name: str) -> ast.ClassDef:
    tree = ast.parse(STUB.read_text())
    [node] = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == name]
    return node


def stub_methods(name: str) -> Dict[str, ast.FunctionDef]:
    return {n.name: n for n in stub_class(name).body if isinstance(n, ast.FunctionDef)}


def stub_keywords(method: ast.FunctionDef) -> Dict[str, Tuple[Optional[ast.expr], Optional[ast.expr]]]:
    """A stub method's keyword-only arguments, name -> (annotation, default), with
    ``**kwargs: Unpack[_T]`` read as the keys of the stub's TypedDict ``_T`` (default
    ``...``, as written for an argument that may be left out, unless the key is required)."""
    out = {a.arg: (a.annotation, d) for a, d in zip(method.args.kwonlyargs, method.args.kw_defaults)}
    kwarg = method.args.kwarg
    if kwarg is not None:
        annotation = kwarg.annotation
        assert isinstance(annotation, ast.Subscript) and ast.unparse(annotation.value) == "Unpack", method.name
        assert isinstance(annotation.slice, ast.Name), method.name
        typed = stub_class(annotation.slice.id)
        total = not any(k.arg == "total" and ast.unparse(k.value) == "False" for k in typed.keywords)
        for item in typed.body:
            if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                assert item.target.id not in out, (method.name, item.target.id)
                optional = not total or "NotRequired" in ast.unparse(item.annotation)
                out[item.target.id] = (item.annotation, ast.Constant(...) if optional else None)
    return out


def python_operations() -> Set[str]:
    names = {n for n in dir(jitr_iot.Registry) if not n.startswith("_")}
    return names - NOT_OPERATIONS


def test_the_python_methods_are_the_cores_operations() -> None:
    """``jitr_iot.OPERATIONS`` is the core's table (``jitr_core::api``), read through the
    binding: every operation has a method, and every method is an operation."""
    core = set(jitr_iot.OPERATIONS)
    assert len(core) == len(jitr_iot.OPERATIONS) >= 20 and "connect" not in core
    assert python_operations() == core
    registry = jitr_iot.Registry()
    for op in core:
        method = getattr(registry, op)
        with pytest.raises(TypeError):
            method("positional")  # boto3 methods take keyword arguments only
        with pytest.raises(TypeError):
            method(noSuchParameter=1)  # as botocore refuses unknown parameters


def test_the_extensions_are_methods_but_not_boto3s() -> None:
    assert set(jitr_iot.EXTENSIONS) == {"connect", "describe_provisioning_failure"}
    assert not set(jitr_iot.EXTENSIONS) & set(jitr_iot.OPERATIONS)
    registry = jitr_iot.Registry()
    with pytest.raises(jitr_iot.ResourceNotFoundException):
        registry.describe_provisioning_failure(certificateId="ab" * 32)
    with pytest.raises(jitr_iot.ParamValidationError):
        registry.describe_provisioning_failure(certificateId=3.5)  # type: ignore[arg-type]


def test_the_stub_methods_are_the_cores_operations() -> None:
    stub = stub_methods("Registry")
    public = {n for n in stub if not n.startswith("_")}
    assert public - NOT_OPERATIONS == set(jitr_iot.OPERATIONS)
    assert public >= NOT_OPERATIONS - {"config", "account_id", "region", "partition", "exceptions"}


@pytest.mark.parametrize("op", jitr_iot.OPERATIONS)
def test_parameters_are_boto3s(op: str) -> None:
    """Each method's keyword arguments are the model's input members (names, which are
    required), its stub's, and a wrong type or ``None`` is refused with botocore's own
    report line."""
    from jitr_iot._errors import _aws_operation_name

    model = iot_model().operation_model(_aws_operation_name(op))
    shape = model.input_shape
    members: Dict[str, Any] = dict(shape.members) if shape is not None else {}
    required = set(shape.required_members) if shape is not None else set()
    for name in NOT_YET.get(op, set()):
        del members[name]

    registry = jitr_iot.Registry()
    signature = inspect.signature(getattr(registry, op))
    params = {p.name: p for p in signature.parameters.values() if p.name != "now"}
    assert set(params) == set(members)
    assert {n for n, p in params.items() if p.default is inspect.Parameter.empty} == required
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params.values())

    stub = stub_keywords(stub_methods("Registry")[op])
    stub_params = {name: annotation for name, (annotation, _) in stub.items() if name != "now"}
    assert set(stub_params) == set(params)
    for name in params:
        default = stub[name][1]
        # Optional parameters are written `name: T = ...` (or are keys of a total=False
        # TypedDict behind `**kwargs: Unpack[...]`): left out, never None.
        assert (default is None) == (name in required), (op, name)
        if default is not None:
            assert isinstance(default, ast.Constant) and default.value is Ellipsis, (op, name)
            annotation = stub_params[name]
            assert annotation is not None and "Optional" not in ast.unparse(annotation), (op, name)

    # botocore's report for a wrong type and for None, parameter by parameter.
    validator = botocore.validate.ParamValidator()
    for name in members:
        for bad in [3.5, None]:
            given: Dict[str, Any] = {r: minimal_value(shape.members[r]) for r in required if r != name}
            given[name] = bad
            with pytest.raises(jitr_iot.ParamValidationError) as e:
                getattr(registry, op)(**given)
            ours = str(e.value).split("\n")[1]
            theirs = validator.validate({name: bad}, shape).generate_report().split("\n")
            assert ours in theirs, (op, name, ours, theirs)


def test_literal_types_are_the_cores_vocabularies() -> None:
    pairs = [
        (_types.CertificateStatus, jitr_iot.CERTIFICATE_STATUSES),
        (_types.CaStatus, jitr_iot.CA_STATUSES),
        (_types.AutoRegistrationStatus, jitr_iot.AUTO_REGISTRATION_STATUSES),
        (_types.CertificateMode, jitr_iot.CERTIFICATE_MODES),
        (_types.RefusalCode, jitr_iot.REFUSAL_CODES),
        (_types.KeyType, jitr_iot.KEY_TYPES),
    ]
    for literal, core in pairs:
        assert typing.get_args(literal) == tuple(core)
    # And the AWS model's enums agree where AWS has one.
    shapes = iot_model()
    assert set(jitr_iot.CERTIFICATE_STATUSES) == set(shapes.shape_for("CertificateStatus").enum)
    assert set(jitr_iot.CA_STATUSES) == set(shapes.shape_for("CACertificateStatus").enum)
    assert set(jitr_iot.AUTO_REGISTRATION_STATUSES) == set(shapes.shape_for("AutoRegistrationStatus").enum)
    assert set(jitr_iot.CERTIFICATE_MODES) == set(shapes.shape_for("CertificateMode").enum)


def test_every_refusal_code_is_reachable_from_python() -> None:
    """The refusal codes a Decision can carry are the Literal's (the shared vectors'
    refusals are among them)."""
    import json

    from conftest import VECTORS

    seen = set()
    for path in VECTORS.glob("*.json"):
        for step in json.loads(path.read_text())["steps"]:
            reason = step["expect"].get("reason") if step["op"] == "connect" else None
            if reason:
                seen.add(reason)
    assert seen and seen <= set(typing.get_args(_types.RefusalCode))


def test_the_registry_knobs_are_the_cores() -> None:
    defaults: Dict[str, Any] = dict(jitr_iot.Registry.default_config())
    assert defaults == jitr_iot.Registry().config
    assert set(defaults) >= {
        "require_sni_for_leaf_only",
        "check_verification_certificate_validity",
        "max_cas_per_subject",
        "accept_v1_device_certificates",
    }
    # The stub lists every knob, for the constructor and from_state.
    methods = stub_methods("Registry")
    for name in ["__new__", "from_state"]:
        keywords = stub_keywords(methods[name])
        kwonly = set(keywords) - {"registration_code", "store"}
        assert kwonly == set(defaults), name
        # Each knob may be left out (the core's default).
        assert all(isinstance(keywords[k][1], ast.Constant) for k in kwonly), name
    config_type = {n.target.id for n in stub_class("_RegistryConfig").body if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)}
    assert config_type == set(defaults)
    # Each knob is taken, by the constructor and from_state.
    for knob, default in defaults.items():
        other: Any
        if isinstance(default, bool):
            other = not default
        elif isinstance(default, str):
            other = "REFUSE_ALL" if default == "ALLOW_KNOWN" else "ALLOW_KNOWN"
        else:
            other = cast(int, default) + 1
        given: Dict[str, Any] = {knob: other}
        registry = jitr_iot.Registry(**given)
        assert registry.config == {**defaults, knob: other}
        assert dict(jitr_iot.Registry.from_state(registry.export_state(), **given).config)[knob] == other
    with pytest.raises(TypeError, match="unexpected keyword argument"):
        jitr_iot.Registry(no_such_knob=True)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="must be a bool"):
        jitr_iot.Registry(accept_v1_device_certificates=1)  # type: ignore[arg-type]


def test_the_exceptions_stub_lists_every_class() -> None:
    annotated = {n.target.id for n in stub_class("_Exceptions").body if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)}
    runtime = {n for n in jitr_iot.exceptions.__all__ if n != "from_code"}
    assert annotated == runtime
    assert "from_code" in stub_methods("_Exceptions")


class _Boto3StyleClient:
    """The handler's methods with exactly the signatures boto3-stubs gives a boto3 ``iot``
    client (keyword-only, TypedDict-like responses)."""

    def describe_certificate(self, *, certificateId: str) -> Dict[str, Any]:
        return {}

    def describe_ca_certificate(self, *, certificateId: str) -> Dict[str, Any]:
        return {}

    def create_policy(self, *, policyName: str, policyDocument: str, tags: Any = None) -> Dict[str, Any]:
        return {}

    def get_policy(self, *, policyName: str) -> Dict[str, Any]:
        return {}

    def attach_policy(self, *, policyName: str, target: str) -> Dict[str, Any]:
        return {}

    def detach_policy(self, *, policyName: str, target: str) -> Dict[str, Any]:
        return {}

    def list_attached_policies(
        self, *, target: str, recursive: bool = False, marker: str = "", pageSize: int = 1
    ) -> Dict[str, Any]:
        return {}

    def update_certificate(self, *, certificateId: str, newStatus: jitr_iot.CertificateStatus) -> Dict[str, Any]:
        return {}


def test_the_iot_client_protocol() -> None:
    """Both a jitr registry and a boto3-style client are ``IotClient``s (mypy --strict
    checks these assignments), and the protocol asks only for boto3 operations."""
    clients: list[jitr_iot.IotClient] = [jitr_iot.Registry(), _Boto3StyleClient()]
    assert len(clients) == 2
    wanted = {n for n in vars(jitr_iot.IotClient) if not n.startswith("_")}
    assert wanted and wanted <= set(jitr_iot.OPERATIONS)

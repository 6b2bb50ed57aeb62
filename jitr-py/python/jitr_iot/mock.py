"""``jitr_iot.mock_iot``: real boto3/botocore ``iot`` clients, answered by a jitr registry.

Inside ``mock_iot()`` every botocore/boto3 ``iot`` client answers from a
:class:`jitr_iot.Registry` (a fresh one, or the one passed in) instead of AWS. botocore does
everything it does for AWS — parameter validation, serialization, paginators, waiters,
``client.exceptions``, ``ClientError`` with ``.response`` and ``.operation_name`` — and
jitr only answers, through botocore's own event hooks (no HTTP, no patched internals):

- on ``before-parameter-build.iot`` it remembers the call's parameters (the dict that
  botocore's validator then checks);
- on ``before-call.iot`` (the hook botocore's ``Stubber`` answers through) it runs the
  operation on the registry — ``RegisterCACertificate`` is the core's
  ``register_ca_certificate`` — gets the response body the service would send (JSON, dates
  as epoch seconds) and has botocore's own response parser turn it into the dict boto3
  returns (datetimes as botocore parses them, ``ResponseMetadata``), or into the error
  boto3 raises (status, code, message, and modeled fields such as ``resourceId``).

The hooks are added to ``botocore.handlers.BUILTIN_HANDLERS`` (as moto does), so every
botocore session created afterwards has them, and to boto3's default session if it exists
already; they answer only while a mock is active. They are added when ``jitr_iot`` is
imported if botocore already is, else when the first ``mock_iot()`` starts. A client
carries its session's hooks from its creation: a client created before that is not
served (as with moto, create clients after importing ``jitr_iot``).

An operation jitr does not implement raises
:class:`jitr_iot.exceptions.OperationNotImplementedError` (a ``NotImplementedError``, not a
``ClientError``, so no ``except ClientError`` written for AWS swallows it). A client in a
region other than the registry's raises ``ValueError``: a registry is one account in one
region.

>>> import boto3, jitr_iot
>>> with jitr_iot.mock_iot() as iot:
...     client = boto3.client("iot", region_name="us-east-1")
...     code = client.get_registration_code()["registrationCode"]
...     code == iot.registry.get_registration_code()["registrationCode"]
True
"""

from __future__ import annotations

import functools
import json
import sys
import threading
import uuid
from datetime import datetime
from types import TracebackType
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple, Type, TypeVar, Union, overload

from jitr_iot._errors import _aws_operation_name
from jitr_iot._jitr import OPERATIONS, Registry
from jitr_iot.exceptions import JitrError, OperationNotImplementedError

__all__ = ["mock_iot", "MockIot"]

_F = TypeVar("_F", bound=Callable[..., Any])
#: Where the parameters of a call wait between the two hooks (botocore's request context).
_PARAMS = "jitr_iot.params"
_HOOKS_ID = "jitr_iot.mock"
#: A point in time as the registry's methods take it.
Clock = Callable[[], Union[datetime, float]]

_lock = threading.Lock()
_active: List["MockIot"] = []
_installed = False


def _current() -> Optional["MockIot"]:
    with _lock:
        return _active[-1] if _active else None


def _remember_params(params: Dict[str, Any], context: Dict[str, Any], **_: Any) -> None:
    """``before-parameter-build.iot``: keep the call's parameters for ``before-call``."""
    if _current() is not None:
        context[_PARAMS] = params


def _answer(model: Any, params: Dict[str, Any], context: Dict[str, Any], **_: Any) -> Optional[Tuple[Any, Dict[str, Any]]]:
    """``before-call.iot``: the ``(http_response, parsed)`` botocore returns to the caller
    instead of sending the request, or ``None`` (no mock active: botocore goes on)."""
    mock = _current()
    if mock is None:
        return None
    return mock._respond(model, params, context)


_HOOKS = [
    ("before-parameter-build.iot", _remember_params),
    ("before-call.iot", _answer),
]


def _install() -> None:
    """Adds the hooks to botocore's built-in handlers (once) and to boto3's default session."""
    global _installed
    from botocore import handlers  # type: ignore[import-untyped,unused-ignore]

    with _lock:
        if not _installed:
            handlers.BUILTIN_HANDLERS.extend(_HOOKS)
            _installed = True
    boto3 = sys.modules.get("boto3")
    session = getattr(boto3, "DEFAULT_SESSION", None)
    if session is not None:
        for event, hook in _HOOKS:
            session.events.register(event, hook, unique_id=f"{_HOOKS_ID}.{event}")


# botocore loaded first: hook its sessions now, so clients made before the first
# mock_iot() starts are served too (importing botocore here would cost every user).
if "botocore.handlers" in sys.modules:  # pragma: no branch - depends on import order
    _install()


class _Body:
    """The raw body of a response, as ``AWSResponse.content`` reads it."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


class MockIot:
    """An active ``mock_iot()``: a context manager, a decorator, or ``start()``/``stop()``.

    ``registry`` is the :class:`jitr_iot.Registry` that answers (a fresh
    ``jitr_iot.Registry()`` per start when none was given); ``clock``, if given, is called
    for the time of each call (a timezone-aware ``datetime`` or epoch seconds), else the
    registry reads the clock.
    """

    def __init__(self, registry: Optional[Registry] = None, *, clock: Optional[Clock] = None) -> None:
        if registry is not None and not isinstance(registry, Registry):
            raise TypeError(f"registry must be a jitr_iot.Registry, not {type(registry).__name__}")
        self._given = registry
        self._clock = clock
        #: The registry answering the clients (``None`` before the first start).
        self.registry: Optional[Registry] = registry

    def start(self) -> Registry:
        """Starts answering; returns the registry."""
        _install()
        registry = self._given if self._given is not None else Registry()
        self.registry = registry
        with _lock:
            _active.append(self)
        return registry

    def stop(self) -> None:
        """Stops answering (the registry keeps its state)."""
        with _lock:
            for i in range(len(_active) - 1, -1, -1):
                if _active[i] is self:
                    del _active[i]
                    return
        raise RuntimeError("this mock_iot is not started")

    def __enter__(self) -> "MockIot":
        self.start()
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.stop()

    def __call__(self, func: _F) -> _F:
        if not callable(func):
            raise TypeError("mock_iot decorates a function")

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self:
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    def _respond(self, model: Any, request: Dict[str, Any], context: Dict[str, Any]) -> Tuple[Any, Dict[str, Any]]:
        from botocore import xform_name  # type: ignore[import-untyped,unused-ignore]
        from botocore.awsrequest import AWSResponse  # type: ignore[import-untyped,unused-ignore]
        from botocore.parsers import create_parser  # type: ignore[import-untyped,unused-ignore]

        registry = self.registry
        assert registry is not None  # started
        operation = xform_name(model.name)
        if operation not in OPERATIONS:
            raise OperationNotImplementedError(model.name, tuple(_aws_operation_name(op) for op in OPERATIONS))
        region = context.get("client_region")
        if region != registry.region:
            raise ValueError(
                f"mock_iot answers from a registry in {registry.region}; this iot client is in "
                f"{region}: create the client with region_name={registry.region!r}, or pass "
                f"mock_iot(registry=jitr_iot.Registry(region={region!r}))"
            )
        params = context.get(_PARAMS, {})
        now = self._clock() if self._clock is not None else None
        request_id = str(uuid.uuid4())
        headers = {"content-type": "application/json", "x-amzn-requestid": request_id}
        code = None
        try:
            body = registry._call_json(operation, params, now)
            status = 200
        except JitrError as e:
            code, status = e.code, e.http_status
            # As AWS IoT sends an error: the code in x-amzn-ErrorType, the shape's members
            # (message; resourceId and resourceArn) in the body.
            headers["x-amzn-errortype"] = f"{code}:http://internal.amazon.com/coral/com.amazonaws.iot/"
            error: Dict[str, Any] = {"message": e.message}
            if e.resource_id is not None:
                error["resourceId"] = e.resource_id
            if e.resource_arn is not None:
                error["resourceArn"] = e.resource_arn
            body = json.dumps(error)
        raw = body.encode()
        response = {"status_code": status, "headers": headers, "body": raw}
        service = model.service_model
        parser = create_parser(getattr(service, "resolved_protocol", None) or service.protocol)
        parsed: Dict[str, Any] = parser.parse(response, model.output_shape)
        if code is not None:
            # botocore's second pass for the modeled fields of an error (Endpoint does it).
            error_shape = service.shape_for_error_code(code)
            if error_shape is not None:
                parsed.update(parser.parse(response, error_shape))
        parsed.setdefault("ResponseMetadata", {})["RetryAttempts"] = 0
        return AWSResponse(request.get("url"), status, headers, _Body(raw)), parsed


@overload
def mock_iot(func: _F, /) -> _F: ...
@overload
def mock_iot(func: None = None, /, *, registry: Optional[Registry] = None, clock: Optional[Clock] = None) -> MockIot: ...
def mock_iot(
    func: Optional[_F] = None,
    /,
    *,
    registry: Optional[Registry] = None,
    clock: Optional[Clock] = None,
) -> Union[_F, MockIot]:
    """Makes every botocore/boto3 ``iot`` client answer from a jitr registry: a context
    manager (``with mock_iot() as iot: ... iot.registry``), a decorator (``@mock_iot`` or
    ``@mock_iot(registry=...)``), or ``start()``/``stop()``, as moto's ``mock_aws``.

    ``registry`` is the :class:`jitr_iot.Registry` that answers (default: a fresh
    ``jitr_iot.Registry()``, account ``123456789012`` in ``us-east-1``, per start), so a
    test can connect devices to it (``iot.registry.connect(chain)``) between client calls.
    ``clock`` gives the time of each call (default: the clock). See :mod:`jitr_iot.mock`.

    >>> import boto3, jitr_iot
    >>> @jitr_iot.mock_iot
    ... def count_certificates() -> int:
    ...     client = boto3.client("iot", region_name="us-east-1")
    ...     pages = client.get_paginator("list_certificates").paginate(PaginationConfig={"PageSize": 10})
    ...     return sum(len(page["certificates"]) for page in pages)
    >>> count_certificates()
    0
    """
    if func is not None:
        if isinstance(func, Registry):
            raise TypeError("pass the registry by name: mock_iot(registry=...)")
        return MockIot(registry, clock=clock)(func)
    return MockIot(registry, clock=clock)

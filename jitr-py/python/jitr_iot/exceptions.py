"""The exceptions of the AWS IoT API, as ``client.exceptions`` holds them on a boto3 ``iot``
client: one class per exception name of the ``iot`` service model, each a ``JitrError``.

When botocore is installed, ``ClientError`` *is* ``botocore.exceptions.ClientError``, so
``except botocore.exceptions.ClientError`` catches what jitr raises, with the same
``.response`` and ``.operation_name`` as boto3's; without botocore, ``ClientError`` is
jitr's own class with the same constructor and attributes. ``registry.exceptions`` is this
module, so code written against ``client.exceptions`` runs unchanged::

    try:
        registry.describe_certificate(certificateId="00" * 32)
    except registry.exceptions.ResourceNotFoundException as e:
        assert e.response["Error"]["Code"] == "ResourceNotFoundException"

jitr raises the codes in ``jitr_iot.ERROR_CODES`` (the core's); the other names exist so
that every ``except`` clause written for boto3 works (and so tests can raise them from a
fake). Parameter errors (``None``, a wrong type) raise :class:`ParamValidationError`:
botocore's class when botocore is installed, and always a ``TypeError`` too.

>>> import jitr_iot
>>> try:
...     jitr_iot.Registry().describe_certificate(certificateId="ab" * 32)
... except jitr_iot.exceptions.ResourceNotFoundException as e:
...     print(e.operation_name, e.http_status, e.response["Error"]["Code"])
DescribeCertificate 404 ResourceNotFoundException
>>> jitr_iot.exceptions.from_code("ThrottlingException")("slow down").http_status
400
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any, Dict, Mapping, Optional, Tuple, Type, Union

__all__ = [
    "ClientError",
    "JitrError",
    "ParamValidationError",
    "OperationNotImplementedError",
    "from_code",
    "BOTOCORE",
    "CertificateConflictException",
    "CertificateStateException",
    "CertificateValidationException",
    "ConflictException",
    "ConflictingResourceUpdateException",
    "DeleteConflictException",
    "IndexNotReadyException",
    "InternalException",
    "InternalFailureException",
    "InternalServerException",
    "InvalidAggregationException",
    "InvalidQueryException",
    "InvalidRequestException",
    "InvalidResponseException",
    "InvalidStateTransitionException",
    "LimitExceededException",
    "MalformedPolicyException",
    "NotConfiguredException",
    "RegistrationCodeValidationException",
    "ResourceAlreadyExistsException",
    "ResourceNotFoundException",
    "ResourceRegistrationFailureException",
    "ServiceQuotaExceededException",
    "ServiceUnavailableException",
    "SqlParseException",
    "TaskAlreadyExistsException",
    "ThrottlingException",
    "TransferAlreadyCompletedException",
    "TransferConflictException",
    "UnauthorizedException",
    "ValidationException",
    "VersionConflictException",
    "VersionsLimitExceededException",
]


class _ClientError(Exception):
    """botocore's ``ClientError`` where botocore is not installed: the same constructor,
    message and attributes (``response``, ``operation_name``)."""

    MSG_TEMPLATE = (
        "An error occurred ({error_code}) when calling the {operation_name} "
        "operation{retry_info}: {error_message}"
    )

    def __init__(self, error_response: Dict[str, Any], operation_name: Optional[str]) -> None:
        error = error_response.get("Error", {})
        msg = self.MSG_TEMPLATE.format(
            error_code=error.get("Code", "Unknown"),
            error_message=error.get("Message", "Unknown"),
            operation_name=operation_name,
            retry_info="",
        )
        super().__init__(msg)
        self.response = error_response
        self.operation_name = operation_name

    def __reduce__(self) -> Tuple[Any, ...]:
        return type(self), (self.response, self.operation_name)


class _ParamValidationError(Exception):
    """botocore's ``ParamValidationError`` where botocore is not installed: the same
    constructor (``report=``), message and ``kwargs``."""

    fmt = "Parameter validation failed:\n{report}"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(self.fmt.format(**kwargs))
        self.kwargs = kwargs

    def __reduce__(self) -> Tuple[Any, ...]:
        return _rebuild_param_error, (type(self), self.kwargs)


if TYPE_CHECKING:
    ClientError = _ClientError
    _BotoParamValidationError = _ParamValidationError
    BOTOCORE: bool
else:
    try:
        from botocore.exceptions import ClientError
        from botocore.exceptions import ParamValidationError as _BotoParamValidationError

        BOTOCORE = True
    except ImportError:  # tested in a subprocess (tests/test_errors.py)
        ClientError = _ClientError
        ClientError.__name__ = ClientError.__qualname__ = "ClientError"
        _BotoParamValidationError = _ParamValidationError
        BOTOCORE = False


class ParamValidationError(_BotoParamValidationError, TypeError):
    """A parameter botocore would refuse before sending the request: ``None`` where a value
    is expected, or a value of the wrong Python type. A subclass of botocore's
    ``ParamValidationError`` when botocore is installed, and of ``TypeError``.

    >>> import jitr_iot
    >>> jitr_iot.Registry().list_certificates(marker=None)
    Traceback (most recent call last):
    ...
    jitr_iot.exceptions.ParamValidationError: Parameter validation failed:
    Invalid type for parameter marker, value: None, type: <class 'NoneType'>, valid types: <class 'str'>
    """


def _rebuild_param_error(cls: Type[Exception], kwargs: Dict[str, Any]) -> Exception:
    return cls(**kwargs)


class OperationNotImplementedError(NotImplementedError):
    """An AWS IoT operation jitr does not implement, called on a boto3 client inside
    :func:`jitr_iot.mock_iot`. ``operation_name`` is the API's name (``CreateThing``).

    Deliberately not a ``ClientError``: an ``except ClientError`` written for real AWS
    errors must not swallow a gap in the stand-in.
    """

    def __init__(self, operation_name: str, implemented: Tuple[str, ...] = ()) -> None:
        message = f"jitr does not implement the AWS IoT operation {operation_name}"
        if implemented:
            message += "; it implements " + ", ".join(implemented)
        super().__init__(message)
        self.operation_name = operation_name
        self.implemented = implemented

    def __reduce__(self) -> Tuple[Any, ...]:
        return type(self), (self.operation_name, self.implemented)


def _response_metadata(http_status: int) -> Dict[str, Any]:
    """``ResponseMetadata`` as botocore puts it in every response."""
    request_id = str(uuid.uuid4())
    return {
        "RequestId": request_id,
        "HTTPStatusCode": http_status,
        "HTTPHeaders": {
            "content-type": "application/json",
            "x-amzn-requestid": request_id,
        },
        "RetryAttempts": 0,
    }


class JitrError(ClientError):
    """The base of every AWS IoT error jitr raises: a botocore ``ClientError`` (when
    botocore is installed) with boto3's ``response`` and ``operation_name``.

    Built either as botocore builds its errors, ``JitrError(error_response,
    operation_name)``, or from a message: ``ResourceNotFoundException("no such
    certificate")`` (``code`` is the class name; ``http_status`` the status AWS answers
    with, from the service model; ``operation_name`` optional). Besides botocore's
    attributes: ``code`` (the AWS name), ``message``, ``http_status``, and for
    ``ResourceAlreadyExistsException`` ``resource_id`` and ``resource_arn``
    (``resourceId``/``resourceArn`` in ``response``, as AWS returns them).

    >>> import jitr_iot
    >>> try:
    ...     jitr_iot.Registry().describe_certificate(certificateId="ab" * 32)
    ... except jitr_iot.ResourceNotFoundException as e:
    ...     print(e.code, e.http_status, e.response["Error"]["Code"])
    ResourceNotFoundException 404 ResourceNotFoundException
    """

    #: The AWS exception name (the class name for the subclasses).
    code: str = "JitrError"
    #: The HTTP status AWS IoT answers this exception with (the service model's).
    default_http_status: int = 400

    def __init__(
        self,
        error_response: Union[str, Mapping[str, Any]],
        operation_name: Optional[str] = None,
        *,
        code: Optional[str] = None,
        http_status: Optional[int] = None,
        resource_id: Optional[str] = None,
        resource_arn: Optional[str] = None,
    ) -> None:
        if isinstance(error_response, str):
            message = error_response
            code = code or type(self).code
            status = self.default_http_status if http_status is None else http_status
            response: Dict[str, Any] = {
                "Error": {"Code": code, "Message": message},
                "ResponseMetadata": _response_metadata(status),
                "message": message,
            }
            if resource_id is not None:
                response["resourceId"] = resource_id
            if resource_arn is not None:
                response["resourceArn"] = resource_arn
        else:
            response = dict(error_response)
        super().__init__(response, operation_name)
        error = response.get("Error", {})
        self.code = str(error.get("Code", type(self).code))
        self.message = str(error.get("Message", ""))
        meta = response.get("ResponseMetadata", {})
        self.http_status = int(meta.get("HTTPStatusCode", self.default_http_status))
        self.resource_id: Optional[str] = response.get("resourceId")
        self.resource_arn: Optional[str] = response.get("resourceArn")
        if operation_name is None:
            # botocore's message names the operation; built from a message, there is none.
            self.args = (f"An error occurred ({self.code}): {self.message}",)

    def __init_subclass__(cls, *, http_status: Optional[int] = None, **kwargs: Any) -> None:
        """``class X(JitrError, http_status=409)``: code ``X``, answered with 409 (without
        ``http_status``, the base class's status)."""
        super().__init_subclass__(**kwargs)
        cls.code = cls.__name__
        if http_status is not None:
            cls.default_http_status = http_status

    def __reduce__(self) -> Tuple[Any, ...]:
        return type(self), (self.response, self.operation_name)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


# One class per error shape of the botocore iot 2015-05-28 model: its HTTP status
# ("httpStatusCode") in the class statement, then its documentation. The tests check the
# list against the model.


class CertificateConflictException(JitrError, http_status=409):
    """Unable to verify the CA certificate used to sign the device certificate: several
    registered CA certificates with the same subject and key match (409)."""


class CertificateStateException(JitrError, http_status=406):
    """The operation is not allowed in the certificate's current state (406)."""


class CertificateValidationException(JitrError, http_status=400):
    """The certificate is invalid: it does not parse, or is not valid for its purpose."""


class ConflictException(JitrError, http_status=409):
    """The request conflicts with the current state of the resource (409)."""


class ConflictingResourceUpdateException(JitrError, http_status=409):
    """Two updates of one resource conflict (409)."""


class DeleteConflictException(JitrError, http_status=409):
    """The resource is still in use, e.g. a policy is attached (409)."""


class IndexNotReadyException(JitrError, http_status=400):
    """The index is not ready."""


class InternalException(JitrError, http_status=500):
    """An unexpected error has occurred (500)."""


class InternalFailureException(JitrError, http_status=500):
    """An unexpected error has occurred (500)."""


class InternalServerException(JitrError, http_status=500):
    """An internal error of the service (500)."""


class InvalidAggregationException(JitrError, http_status=400):
    """The aggregation is invalid."""


class InvalidQueryException(JitrError, http_status=400):
    """The query is invalid."""


class InvalidRequestException(JitrError, http_status=400):
    """The request is malformed or asks for something that is never allowed."""


class InvalidResponseException(JitrError, http_status=400):
    """The response is invalid."""


class InvalidStateTransitionException(JitrError, http_status=409):
    """An attempt was made to change to an invalid state (409)."""


class LimitExceededException(JitrError, http_status=410):
    """A limit has been exceeded, e.g. more than 10 CAs with one subject (410)."""


class MalformedPolicyException(JitrError, http_status=400):
    """The policy document is not valid."""


class NotConfiguredException(JitrError, http_status=404):
    """The resource is not configured (404)."""


class RegistrationCodeValidationException(JitrError, http_status=400):
    """The verification certificate's Common Name is not the registration code."""


class ResourceAlreadyExistsException(JitrError, http_status=409):
    """The resource already exists; ``resource_id`` and ``resource_arn`` name it (409)."""


class ResourceNotFoundException(JitrError, http_status=404):
    """The certificate, CA certificate, policy or registration code does not exist (404)."""


class ResourceRegistrationFailureException(JitrError, http_status=400):
    """The resource registration failed."""


class ServiceQuotaExceededException(JitrError, http_status=402):
    """A service quota has been exceeded (402)."""


class ServiceUnavailableException(JitrError, http_status=503):
    """The service is temporarily unavailable (503)."""


class SqlParseException(JitrError, http_status=400):
    """The Rule-SQL expression can't be parsed."""


class TaskAlreadyExistsException(JitrError, http_status=400):
    """A task with the same ID exists."""


class ThrottlingException(JitrError, http_status=400):
    """The rate exceeds the limit (AWS IoT answers 400)."""


class TransferAlreadyCompletedException(JitrError, http_status=410):
    """The certificate transfer is already complete (410)."""


class TransferConflictException(JitrError, http_status=409):
    """The certificate cannot be transferred: policies are still attached (409)."""


class UnauthorizedException(JitrError, http_status=401):
    """You are not authorized to perform this operation (401)."""


class ValidationException(JitrError, http_status=400):
    """The request is not valid."""


class VersionConflictException(JitrError, http_status=409):
    """The expected version does not match the entity's (409)."""


class VersionsLimitExceededException(JitrError, http_status=409):
    """The number of policy versions exceeds the limit (409)."""


_CLASSES: Dict[str, Type[JitrError]] = {c.__name__: c for c in JitrError.__subclasses__()}


def from_code(error_code: str) -> Type[ClientError]:
    """The class for an AWS error code, as boto3's ``client.exceptions.from_code``:
    ``ClientError`` for a code the ``iot`` model does not name."""
    return _CLASSES.get(error_code, ClientError)

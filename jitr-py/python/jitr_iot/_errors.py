"""The exceptions jitr raises: ``JitrError`` and one subclass per AWS IoT exception name.

Each carries ``code`` (the AWS name), ``message``, ``http_status`` and ``response``, shaped
like botocore's ``ClientError.response``, so boto3-style handling works unchanged::

    try:
        registry.describe_certificate(certificateId="00" * 32)
    except jitr_iot.JitrError as e:
        assert e.response["Error"]["Code"] == "ResourceNotFoundException"

The native module raises these by name (``_from_core``); the HTTP status of each comes
from the core (``jitr_core::Error::http_status``).
"""

from __future__ import annotations

import uuid
from typing import Any, Dict, Optional, Tuple, Type

__all__ = [
    "JitrError",
    "ClientError",
    "ResourceNotFoundException",
    "ResourceAlreadyExistsException",
    "RegistrationCodeValidationException",
    "InvalidRequestException",
    "CertificateValidationException",
    "CertificateStateException",
    "CertificateConflictException",
    "LimitExceededException",
    "DeleteConflictException",
    "MalformedPolicyException",
    "CrlError",
]


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


class JitrError(Exception):
    """The base of every error jitr raises for a failed operation.

    ``code`` is the AWS exception name (the class name for the subclasses), ``message``
    the human sentence, ``http_status`` the HTTP status AWS IoT answers with, and
    ``response`` the dict botocore's ``ClientError`` carries::

        {"Error": {"Code": ..., "Message": ...}, "ResponseMetadata": {"HTTPStatusCode": ...},
         "message": ...}

    ``ResourceAlreadyExistsException`` also has ``resource_id`` and ``resource_arn`` (and
    ``resourceId``/``resourceArn`` in ``response``), as AWS returns them.

    >>> import jitr_iot
    >>> try:
    ...     jitr_iot.Registry().describe_certificate(certificateId="ab" * 32)
    ... except jitr_iot.ResourceNotFoundException as e:
    ...     print(e.code, e.http_status, e.response["Error"]["Code"])
    ResourceNotFoundException 404 ResourceNotFoundException
    """

    code: str = "JitrError"

    def __init__(
        self,
        message: str,
        *,
        code: Optional[str] = None,
        http_status: int = 400,
        resource_id: Optional[str] = None,
        resource_arn: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.message = message
        self.http_status = http_status
        self.resource_id = resource_id
        self.resource_arn = resource_arn
        response: Dict[str, Any] = {
            "Error": {"Code": self.code, "Message": message},
            "ResponseMetadata": _response_metadata(http_status),
            "message": message,
        }
        if resource_id is not None:
            response["resourceId"] = resource_id
        if resource_arn is not None:
            response["resourceArn"] = resource_arn
        self.response = response

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.code = cls.__name__

    def __reduce__(self) -> Tuple[Any, ...]:
        return (
            _rebuild,
            (type(self), self.message, self.code, self.http_status, self.resource_id, self.resource_arn),
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


def _rebuild(
    cls: Type[JitrError],
    message: str,
    code: str,
    http_status: int,
    resource_id: Optional[str],
    resource_arn: Optional[str],
) -> JitrError:
    return cls(
        message,
        code=code,
        http_status=http_status,
        resource_id=resource_id,
        resource_arn=resource_arn,
    )


#: boto3's ``client.exceptions.ClientError``: here, the base class.
ClientError = JitrError


class ResourceNotFoundException(JitrError):
    """The certificate, CA certificate, policy or registration code does not exist."""


class ResourceAlreadyExistsException(JitrError):
    """The resource already exists; ``resource_id`` and ``resource_arn`` name it."""


class RegistrationCodeValidationException(JitrError):
    """The verification certificate's Common Name is not the registration code."""


class InvalidRequestException(JitrError):
    """The request is malformed or asks for something that is never allowed."""


class CertificateValidationException(JitrError):
    """A certificate does not parse, or is not valid for its purpose."""


class CertificateStateException(JitrError):
    """The operation is not allowed in the certificate's current state."""


class CertificateConflictException(JitrError):
    """Several registered CA certificates with the same subject and key match."""


class LimitExceededException(JitrError):
    """A quota would be exceeded (e.g. more than 10 CAs with one subject)."""


class DeleteConflictException(JitrError):
    """The resource is still in use (e.g. a policy is attached)."""


class MalformedPolicyException(JitrError):
    """A policy document is not valid."""


class CrlError(ValueError):
    """A CRL cannot be used with a CA (raised by ``Crl.verify_issued_by``).

    ``code`` is the reason, as the activation handler records it when it skips a
    certificate: ``CRL_WRONG_ISSUER`` (the CRL's issuer is not the CA's subject),
    ``CRL_BAD_SIGNATURE`` (the CA's key does not verify it), ``CRL_STALE`` (its nextUpdate
    has passed) or ``CRL_NOT_YET_VALID`` (its thisUpdate is in the future); ``message`` a
    sentence. Not an AWS error, so not a ``JitrError``: AWS IoT never checks CRLs.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __reduce__(self) -> Tuple[Any, ...]:
        return (type(self), (self.code, self.message))

    def __repr__(self) -> str:
        return f"CrlError({self.code!r}, {self.message!r})"


_CLASSES: Dict[str, Type[JitrError]] = {
    c.__name__: c for c in JitrError.__subclasses__()
}


def _from_core(
    code: str,
    message: str,
    http_status: int,
    resource_id: Optional[str],
    resource_arn: Optional[str],
) -> JitrError:
    """The exception for a core error code (called by the native module)."""
    cls = _CLASSES.get(code, JitrError)
    return cls(
        message,
        code=code,
        http_status=http_status,
        resource_id=resource_id,
        resource_arn=resource_arn,
    )

"""Private glue between the native module and the exception classes.

The classes are in :mod:`jitr_iot.exceptions`; the native module raises them by code
through ``_from_core`` (the HTTP status of each comes from the core,
``jitr_core::Error::http_status``, and the operation's AWS name from
``_aws_operation_name``). ``CrlError`` is here: it is not an AWS error.
"""

from __future__ import annotations

from typing import Any, Optional, Tuple

# `_response_metadata` is here for the native module, which imports it from this module.
from jitr_iot.exceptions import _CLASSES, JitrError, ParamValidationError, _response_metadata

__all__ = ["CrlError"]

#: Words that the AWS operation names spell in capitals.
_ACRONYMS = {"ca": "CA"}


def _aws_operation_name(operation: str) -> str:
    """The AWS API's name of a boto3 method name: ``register_ca_certificate`` →
    ``RegisterCACertificate`` (the inverse of botocore's ``xform_name`` on the ``iot``
    model; the tests check it for every operation)."""
    return "".join(_ACRONYMS.get(word, word.capitalize()) for word in operation.split("_"))


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


def _from_core(
    code: str,
    message: str,
    http_status: int,
    resource_id: Optional[str],
    resource_arn: Optional[str],
    operation: Optional[str] = None,
) -> JitrError:
    """The exception for a core error (called by the native module); ``operation`` is the
    boto3 method name, if the error came from one."""
    cls = _CLASSES.get(code, JitrError)
    return cls(
        message,
        None if operation is None else _aws_operation_name(operation),
        code=code,
        http_status=http_status,
        resource_id=resource_id,
        resource_arn=resource_arn,
    )


def _param_error(report: str) -> ParamValidationError:
    """A ``ParamValidationError`` with botocore's message (called by the native module)."""
    return ParamValidationError(report=report)

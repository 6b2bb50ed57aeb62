"""``jitr``: the AWS CLI's ``iot`` commands, answered by a jitr registry on a store.

``jitr iot <operation> [options]`` takes the AWS CLI's commands for the AWS IoT
operations jitr implements (``jitr_iot.OPERATIONS``) and acts on a durable store
(SQLite or PostgreSQL) instead of AWS, so a command line written for AWS IoT runs
verbatim with ``aws`` replaced by ``jitr``::

    export JITR_STORE=sqlite:///$HOME/fleet.db JITR_ACCOUNT_ID=123456789012 AWS_REGION=us-east-1
    jitr iot get-registration-code
    jitr iot register-ca-certificate --allow-auto-registration \\
        --ca-certificate file://root_CA_cert_filename.pem \\
        --verification-cert file://verification_cert_filename.pem
    jitr iot update-ca-certificate --certificate-id <id> --new-auto-registration-status ENABLE
    jitr iot describe-ca-certificate --certificate-id <id>

Nothing is written by hand: the commands and their options are derived, as the AWS CLI
derives them, from botocore's ``iot`` service model
(``botocore.session.get_session().get_service_model("iot")``) intersected with
``jitr_iot.OPERATIONS``, so an operation the core adds later appears by itself. The
behaviour reproduced is the AWS CLI version 2's, from its documentation and source:

- commands: the operation's name in kebab case (``RegisterCACertificate`` →
  ``register-ca-certificate``, botocore's ``xform_name``); an operation of the model
  that jitr does not implement is a usage error that says so;
  https://docs.aws.amazon.com/cli/latest/userguide/cli-usage-commandstructure.html
- options: each input member in kebab case (``verificationCertificate`` →
  ``--verification-certificate``), required as the model says, accepted as any
  unambiguous prefix (``--verification-cert``); booleans as ``--flag``/``--no-flag``;
  integers; lists as several values (``--tags Key=a,Value=b Key=c,Value=d``) or JSON;
  structures and maps as JSON or shorthand syntax (``Key=value,Key2=[a,b],Key3={k=v}``,
  quoting, ``\\,``, ``@=`` to read a file);
  https://docs.aws.amazon.com/cli/latest/userguide/cli-usage-shorthand.html
- ``file://path`` (text, UTF-8) and ``fileb://path`` (bytes, which only a blob member
  or ``--cli-input-json`` accepts; a string member refuses bytes, as botocore does) as
  any option's value; ``~`` and ``$VARS`` are expanded;
  https://docs.aws.amazon.com/cli/latest/userguide/cli-usage-parameters-file.html
- ``--cli-input-json`` (a JSON object of the operation's parameters; options on the
  command line win) and ``--generate-cli-skeleton [input|output]``;
  https://docs.aws.amazon.com/cli/latest/userguide/cli-usage-skeleton.html
- paginated operations (``list-certificates``, ...) fetch every page and print one
  merged result, with ``--max-items``, ``--starting-token``, ``--page-size`` and
  ``--no-paginate`` as the AWS CLI has them (the operation's own ``--marker`` or
  ``--page-size`` turn automatic paging off);
  https://docs.aws.amazon.com/cli/latest/userguide/cli-usage-pagination.html
- parameters are checked by botocore's own validator against the model before jitr is
  called, and the call goes through a real botocore client answered by
  :func:`jitr_iot.mock_iot`, so errors read as the AWS CLI's;
- output: ``--output json`` (default; indent 4, dates as ISO 8601 in the local time
  zone, as ``cli_timestamp_format = iso8601``), ``text`` or ``off``, ``--query``
  (JMESPath); an empty response prints nothing;
  https://docs.aws.amazon.com/cli/latest/userguide/cli-usage-output-format.html
- errors on stderr in the AWS CLI's format (``jitr: [ERROR]: An error occurred
  (ResourceNotFoundException) when calling the DescribeCertificate operation: ...``,
  modeled fields under "Additional error details"; ``--cli-error-format`` or
  ``AWS_CLI_ERROR_FORMAT``: ``enhanced``, ``legacy`` or ``json``), and its return
  codes: 0 success, 252 a usage or parameter error, 253 configuration (no store,
  account or region), 254 an error returned by the service, 255 anything else, 130
  interrupted;
  https://docs.aws.amazon.com/cli/latest/userguide/cli-usage-returncodes.html

Where the registry lives: ``--store URL`` or ``JITR_STORE`` (``sqlite:///path/fleet.db``,
``postgresql://user@host:port/dbname``; required: every command is a new process, so an
in-memory registry would forget each command's work), in the account ``--account-id``
or ``JITR_ACCOUNT_ID`` and the region ``--region``, ``AWS_REGION`` or
``AWS_DEFAULT_REGION`` (the AWS CLI's variables), the partition being the region's
(botocore's table; ``aws`` for a region it does not know). jitr reads no AWS
configuration or credentials file and never calls AWS.

Needs botocore (``pip install 'jitr-iot[cli]'``).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import html.parser
import json
import os
import platform
import re
import sys
import textwrap
from datetime import datetime
from difflib import get_close_matches
from typing import IO, Any, Callable, Dict, List, NoReturn, Optional, Sequence, Tuple

__all__ = ["main"]

PROG = "jitr"
#: The AWS CLI's return codes (awscli/constants.py).
RC_OK = 0
RC_PARAM = 252
RC_CONFIGURATION = 253
RC_CLIENT = 254
RC_GENERAL = 255
RC_INTERRUPTED = 130

#: The service jitr answers for.
SERVICE = "iot"

HELP_BLURB = (
    "To see help text, you can run:\n"
    "\n"
    f"  {PROG} help\n"
    f"  {PROG} <command> help\n"
    f"  {PROG} <command> <subcommand> help\n"
)
USAGE = f"{PROG} [options] <command> <subcommand> [parameters]\n{HELP_BLURB}"

STORE_HELP = (
    "jitr keeps the registry in a store between commands: pass --store "
    "sqlite:///path/to/fleet.db (one file, created if missing) or --store "
    "postgresql://user@host:port/dbname, or set JITR_STORE."
)


# ---------------------------------------------------------------------------
# Errors, each with the AWS CLI's return code and presentation


class CliError(Exception):
    """An error the command reports and exits with (``rc``); ``code`` labels it in the
    enhanced and JSON error formats, as the AWS CLI labels its own."""

    rc = RC_GENERAL
    code = "General"


class UsageError(CliError):
    """A usage or parameter error (252): bad options, values, or parameters."""

    rc = RC_PARAM
    code = "ParamValidation"


class ParamError(UsageError):
    """A value that could not be read for an option (the AWS CLI's ``ParamError``)."""

    def __init__(self, cli_name: str, message: str) -> None:
        super().__init__(f"Error parsing parameter '{cli_name}': {message}")


class UnknownArgumentError(UsageError):
    """Options the command does not have: printed after the usage, as the AWS CLI does."""


class ConfigurationError(CliError):
    """Where to act is missing or wrong (253): the store, the account or the region."""

    rc = RC_CONFIGURATION
    code = "Configuration"

    def __init__(self, message: str, code: str = "Configuration") -> None:
        super().__init__(message)
        self.code = code


class ShorthandError(ValueError):
    """A shorthand value that does not parse; the message points at the place."""

    def __init__(self, value: str, index: int, message: str) -> None:
        super().__init__(f"{message} for input:\n{_error_location(value, index)}")


def _error_location(value: str, index: int) -> str:
    consumed, remaining, column = value, "", index
    if "\n" in value[:index]:
        column = index - value[:index].rindex("\n") - 1
    if "\n" in value[index:]:
        end = index + value[index:].index("\n")
        consumed, remaining = value[:end], value[end:]
    return f"{consumed}\n{' ' * column}^{remaining}"


class _ArgParser(argparse.ArgumentParser):
    """argparse that raises :class:`UsageError` (252) instead of exiting with 2."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message}\n\nusage: {USAGE}")


# ---------------------------------------------------------------------------
# Shorthand syntax (https://docs.aws.amazon.com/cli/latest/userguide/cli-usage-shorthand.html)
#
#   parameter     = keyval *("," keyval)
#   keyval        = key ["@"] "=" [values]          ; "@=" reads file:// / fileb:// values
#   values        = csv-list / explicit-list / hash-literal
#   csv-list      = first-value *("," second-value)  ; "a=b,c=d": b is a scalar, c a key
#   explicit-list = "[" [value *("," value)] "]"
#   hash-literal  = "{" [key "=" value *("," key "=" value)] "}"
#   value         = single-quoted / double-quoted / unquoted (with "\," for a comma)

_KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.#/:")
_CONTROL = "\\x00-\\x08\\x0e-\\x1f"
#: A value starts with neither white space nor any of "',=[{ ; a first value stops at
#: " ' , ] } and a value after a comma at " ' , = (so "a=b,c=d" backs off before c).
_START = r"(?:\\,|[^\x00-\x20\"',=\[{])"
_FIRST = re.compile(_START + r"(?:\\,|[^" + _CONTROL + r"\"',\]}])*")
_SECOND = re.compile(_START + r"(?:\\,|[^" + _CONTROL + r"\"',=])*")
_SINGLE = re.compile(r"'(?:\\'|[^'])*'")
_DOUBLE = re.compile(r'"(?:\\"|[^"])*"')


class _Shorthand:
    """A parser of one shorthand value into dicts, lists and strings (no model)."""

    def __init__(self, value: str) -> None:
        self.value = value
        self.i = 0
        self.files = False

    def parse(self) -> Dict[str, Any]:
        params: Dict[str, Any] = {}
        while True:
            start = self.i
            key, value = self._keyval()
            if key in params:
                raise ShorthandError(
                    self.value,
                    start,
                    f'Second instance of key "{key}" encountered (often a "," '
                    "where a space separates two list items)",
                )
            params[key] = value
            self._ws()
            if self._eof():
                return params
            self._expect(",")

    def _eof(self) -> bool:
        return self.i >= len(self.value)

    def _peek(self) -> str:
        return "" if self._eof() else self.value[self.i]

    def _ws(self) -> None:
        while not self._eof() and self.value[self.i].isspace():
            self.i += 1

    def _expect(self, char: str) -> None:
        self._ws()
        if self._peek() != char:
            actual = self._peek() or "EOF"
            raise ShorthandError(self.value, self.i, f"Expected: '{char}', received: '{actual}'")
        self.i += 1
        self._ws()

    def _key(self) -> str:
        start = self.i
        while not self._eof() and self.value[self.i] in _KEY_CHARS:
            self.i += 1
        return self.value[start : self.i]

    def _assignment(self) -> str:
        key = self._key()
        self._ws()
        self.files = self._peek() == "@"
        if self.files:
            self.i += 1
        self._expect("=")
        return key

    def _keyval(self) -> Tuple[str, Any]:
        key = self._assignment()
        if self._eof():
            return key, ""
        if self._peek() == "[":
            return key, self._list()
        if self._peek() == "{":
            return key, self._hash()
        return key, self._csv()

    def _csv(self) -> Any:
        first = self._first()
        self._ws()
        items = [first]
        while self._peek() == ",":
            comma = self.i
            self.i += 1
            self._ws()
            match = self._quoted() if self._peek() in ("'", '"') else None
            if match is None:
                found = _SECOND.match(self.value, self.i)
                if found is None:
                    self.i = comma
                    break
                self.i = found.end()
                match = self._file(found.group().replace("\\,", ",").rstrip())
            self._ws()
            if not self._eof() and self._peek() != ",":
                # "a=b,c=d": c was the next key, not a second value of a.
                self.i = comma
                break
            items.append(match)
        return first if len(items) == 1 else items

    def _bracketed(self, opening: str, closing: str, item: Callable[[], None]) -> None:
        """``[a, b]`` and ``{k=v, ...}``: ``item`` reads each element; a missing closing
        bracket is the CLI's error."""
        self._expect(opening)
        unclosed = f"Expected: '{closing}', received: 'EOF'"
        while self._peek() != closing:
            if self._eof():
                raise ShorthandError(self.value, self.i, unclosed)
            item()
            self._ws()
            if self._eof():
                raise ShorthandError(self.value, self.i, unclosed)
            if self._peek() != closing:
                self._expect(",")
        self.i += 1

    def _list(self) -> List[Any]:
        values: List[Any] = []
        self._bracketed("[", "]", lambda: values.append(self._explicit()))
        return values

    def _hash(self) -> Dict[str, Any]:
        pairs: Dict[str, Any] = {}

        def pair() -> None:
            key = self._assignment()
            pairs[key] = self._explicit()

        self._bracketed("{", "}", pair)
        return pairs

    def _explicit(self) -> Any:
        if self._peek() == "[":
            return self._list()
        if self._peek() == "{":
            return self._hash()
        return self._first()

    def _first(self) -> Any:
        quoted = self._quoted()
        if quoted is not None:
            return quoted
        found = _FIRST.match(self.value, self.i)
        if found is None:
            return ""
        self.i = found.end()
        return self._file(found.group().replace("\\,", ",").rstrip())

    def _quoted(self) -> Any:
        quote = self._peek()
        if quote not in ("'", '"'):
            return None
        found = (_SINGLE if quote == "'" else _DOUBLE).match(self.value, self.i)
        if found is None:
            raise ShorthandError(self.value, self.i, f"Expected: a closing {quote}, received: 'EOF'")
        self.i = found.end()
        text = found.group()[1:-1].replace("\\" + quote, quote).replace("\\\\", "\\")
        return self._file(text)

    def _file(self, text: str) -> Any:
        if self.files:
            loaded = _paramfile(text)
            if loaded is not None:
                return loaded
        return text


def parse_shorthand(value: str) -> Dict[str, Any]:
    """Parses the AWS CLI's shorthand syntax, without a model (every scalar a string).

    >>> parse_shorthand("Key=team,Value=fleet")
    {'Key': 'team', 'Value': 'fleet'}
    >>> parse_shorthand("a=b,c,d=[x,y],e={f='g,h'}")
    {'a': ['b', 'c'], 'd': ['x', 'y'], 'e': {'f': 'g,h'}}
    """
    return _Shorthand(value).parse()


def _coerce(shape: Any, value: Any) -> Any:
    """Shapes a parsed shorthand value as the model says (the AWS CLI's back-compat
    visitor): a lone value where a list is due becomes a one-item list, integers,
    floats and booleans (``true``/``false``) are converted; anything else is left for
    botocore's validator to refuse."""
    kind = shape.type_name
    if value is None:
        return None
    if kind == "structure":
        if isinstance(value, dict):
            return {k: _coerce(shape.members[k], v) if k in shape.members else v for k, v in value.items()}
        return value
    if kind == "list":
        items = value if isinstance(value, list) else [value]
        return [_coerce(shape.member, v) for v in items]
    if kind == "map":
        if isinstance(value, dict):
            return {k: _coerce(shape.value, v) for k, v in value.items()}
        return value
    if not isinstance(value, str):
        return value
    if kind in ("integer", "long"):
        return int(value)
    if kind in ("float", "double"):
        return float(value)
    if kind == "boolean" and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


# ---------------------------------------------------------------------------
# file:// and fileb:// values


def _paramfile(value: str) -> Any:
    """The contents of a ``file://`` (text) or ``fileb://`` (bytes) value, else ``None``."""
    for prefix, binary in (("file://", False), ("fileb://", True)):
        if value.startswith(prefix):
            path = os.path.expandvars(os.path.expanduser(value[len(prefix) :]))
            try:
                if binary:
                    with open(path, "rb") as f:
                        return f.read()
                with open(path, encoding="utf-8") as f:
                    return f.read()
            except UnicodeDecodeError:
                raise ValueError(
                    f"Unable to load paramfile ({path}), text contents could not be decoded. "
                    "If this is a binary file, please use the fileb:// prefix instead of the "
                    "file:// prefix."
                ) from None
            except OSError as e:
                raise ValueError(f"Unable to load paramfile {value}: {e}") from None
    return None


# ---------------------------------------------------------------------------
# The arguments of an operation, from its input shape


class _Argument:
    """One option of an operation: ``--name``, the member it fills, its shape."""

    def __init__(self, name: str, member: str, shape: Any, required: bool) -> None:
        self.name = name
        self.member = member
        self.shape = shape
        self.required = required

    @property
    def cli_name(self) -> str:
        return f"--{self.name}"

    @property
    def dest(self) -> str:
        return self.name.replace("-", "_")

    @property
    def type_name(self) -> str:
        return str(self.shape.type_name)

    def add_to_parser(self, parser: argparse.ArgumentParser, required: bool) -> None:
        if self.type_name == "boolean":
            # --flag and --no-flag, the last one given wins; never required on the command
            # line (botocore's validator reports a missing one), as the AWS CLI's.
            parser.add_argument(self.cli_name, dest=self.dest, action="store_true", default=None)
            parser.add_argument(f"--no-{self.name}", dest=self.dest, action="store_false", default=None)
        elif self.type_name == "list":
            parser.add_argument(self.cli_name, dest=self.dest, nargs="*", required=required)
        else:
            parser.add_argument(self.cli_name, dest=self.dest, required=required)

    def unpack(self, value: Any) -> Any:
        """The command line's value as the parameter's Python value."""
        if isinstance(value, bool):
            return value
        try:
            single = value[0] if isinstance(value, list) and len(value) == 1 else value
            if isinstance(single, str):
                loaded = _paramfile(single)
                if loaded is not None:
                    value = loaded
            return self._unpack(value)
        except ShorthandError as e:
            raise ParamError(self.cli_name, str(e)) from None
        except ValueError as e:
            raise ParamError(self.cli_name, str(e)) from None

    def _unpack(self, value: Any) -> Any:
        shape = self.shape
        kind = self.type_name
        if isinstance(value, bytes) or kind in ("string", "timestamp", "blob"):
            return value
        if kind in ("structure", "map"):
            text = value if isinstance(value, str) else " ".join(value)
            if text.lstrip().startswith("{"):
                return _json(text)
            if _supports_shorthand(shape):
                return _coerce(shape, parse_shorthand(text))
            raise ValueError(f"Invalid JSON:\n{text}")
        if kind == "list":
            values = [value] if isinstance(value, str) else list(value)
            if not values:
                return []
            if len(values) == 1 and values[0].lstrip().startswith("["):
                return _json(values[0])
            member = shape.member
            if isinstance(value, str) and member.type_name in ("structure", "map") and not value.lstrip().startswith("{"):
                # One shorthand string read from a file: one item.
                return _coerce(shape, parse_shorthand(value))
            return [_unpack_item(member, v) for v in values]
        return _scalar(shape, value)


def _unpack_item(shape: Any, value: str) -> Any:
    if shape.type_name in ("structure", "map", "list"):
        if value.lstrip().startswith(("{", "[")):
            return _json(value)
        if shape.type_name == "list":
            return _coerce(shape, value.split(","))
        return _coerce(shape, parse_shorthand(value))
    return _scalar(shape, value)


def _scalar(shape: Any, value: Any) -> Any:
    kind = shape.type_name
    if not isinstance(value, str):
        return value
    if kind in ("integer", "long"):
        try:
            return int(value)
        except ValueError:
            raise ValueError(f"invalid {kind} value: {value!r}") from None
    if kind in ("float", "double"):
        try:
            return float(value)
        except ValueError:
            raise ValueError(f"invalid {kind} value: {value!r}") from None
    if kind == "boolean":
        return value.lower() != "false"
    return value


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as e:
        raise ValueError(f"Invalid JSON: {e}\nJSON received: {text}") from None


def _supports_shorthand(shape: Any) -> bool:
    if shape.type_name not in ("structure", "list", "map"):
        return False
    return not (shape.type_name == "list" and shape.member.type_name not in ("structure", "list", "map"))


class _PageArgument(_Argument):
    """``--starting-token``, ``--page-size`` or ``--max-items`` of a paginated operation:
    they go to botocore's ``PaginationConfig``."""

    def __init__(self, name: str, config_key: str, shape: Any, doc: str) -> None:
        super().__init__(name, config_key, shape, False)
        self.doc = doc

    def add_to_parser(self, parser: argparse.ArgumentParser, required: bool) -> None:
        kind = int if self.type_name in ("integer", "long") else str
        parser.add_argument(self.cli_name, dest=self.dest, type=kind)


class _Operation:
    """One command: the operation's model, its arguments and its paginator (if any)."""

    def __init__(self, model: Any, paginator: Optional[Dict[str, Any]]) -> None:
        from botocore import xform_name  # type: ignore[import-untyped,unused-ignore]

        self.model = model
        self.name = xform_name(model.name, "-")
        self.method = xform_name(model.name)
        self.paginator = paginator
        shape = model.input_shape
        members = dict(shape.members) if shape is not None else {}
        required = set(shape.required_members) if shape is not None else set()
        self.arguments: Dict[str, _Argument] = {}
        for member, member_shape in members.items():
            token = member_shape.metadata.get("idempotencyToken", False)
            arg = _Argument(xform_name(member, "-"), member, member_shape, member in required and not token)
            self.arguments[arg.name] = arg
        #: Arguments that the paging ones hide while automatic paging is on.
        self.shadowed: Dict[str, _Argument] = {}
        #: The operation's own paging options, which turn automatic paging off.
        self.input_tokens: List[str] = []
        if paginator is not None:
            tokens = paginator["input_token"]
            tokens = tokens if isinstance(tokens, list) else [tokens]
            if "limit_key" in paginator:
                tokens = tokens + [paginator["limit_key"]]
            self.input_tokens = list(tokens)
            self._page_argument(
                "starting-token",
                "StartingToken",
                "string",
                "The NextToken of an earlier, truncated output: where to go on from.",
            )
            limit_type = "integer"
            if "limit_key" in paginator:
                limit_type = members[paginator["limit_key"]].type_name
                self._page_argument(
                    "page-size", "PageSize", limit_type, "The number of items each call to the service returns."
                )
            self._page_argument(
                "max-items",
                "MaxItems",
                limit_type,
                "The number of items to print in all; when more remain, the output has a "
                "NextToken for --starting-token.",
            )

    def _page_argument(self, name: str, config_key: str, kind: str, doc: str) -> None:
        from botocore.model import Shape  # type: ignore[import-untyped,unused-ignore]

        if name in self.arguments:
            self.shadowed[name] = self.arguments[name]
            doc += (
                f" It is also this operation's own {self.arguments[name].member}: as in the "
                "AWS CLI, giving it turns automatic paging off (one call, whose output has "
                "the service's marker)."
            )
        self.arguments[name] = _PageArgument(name, config_key, Shape("PageArgument", {"type": kind}), doc)


# ---------------------------------------------------------------------------
# botocore: the model, a session that reads no AWS configuration, the client


#: botocore's session, ``iot`` model and paginators, made once per process.
_SESSION: Optional[Tuple[Any, Any, Any]] = None


class _Botocore:
    """botocore's session (isolated from AWS profiles and files), the ``iot`` model and
    paginators, and the operations jitr implements."""

    def __init__(self) -> None:
        try:
            import botocore.session  # type: ignore[import-untyped,unused-ignore]
        except ImportError:
            raise CliError(
                "the jitr command reads the AWS CLI's commands from botocore's service "
                "model: install botocore (pip install 'jitr-iot[cli]')"
            ) from None
        from botocore import xform_name  # type: ignore[import-untyped,unused-ignore]

        from jitr_iot import OPERATIONS, mock

        global _SESSION
        if _SESSION is None:
            # The hooks of mock_iot go into botocore's built-in handlers before the session
            # is made, so the client created from it is answered by jitr.
            mock._install()
            session = botocore.session.Session(
                session_vars={
                    # jitr uses no AWS profile, configuration or credentials file.
                    "profile": (None, None, None, None),
                    "config_file": (None, None, os.devnull, None),
                    "credentials_file": (None, None, os.devnull, None),
                }
            )
            _SESSION = (session, session.get_service_model(SERVICE), session.get_paginator_model(SERVICE))
        self.session, self.model, self.paginators = _SESSION
        self.version = str(botocore.__version__)
        self.all_names: Dict[str, str] = {xform_name(op, "-"): op for op in self.model.operation_names}
        self.implemented: Dict[str, str] = {
            name: op for name, op in self.all_names.items() if xform_name(op) in OPERATIONS
        }

    def operation(self, name: str) -> _Operation:
        op = self.implemented[name]
        try:
            paginator: Optional[Dict[str, Any]] = self.paginators.get_paginator(op)
        except ValueError:
            paginator = None
        return _Operation(self.model.operation_model(op), paginator)

    def partition(self, region: str) -> str:
        try:
            return str(self.session.get_partition_for_region(region))
        except Exception:
            return "aws"


# ---------------------------------------------------------------------------
# Output


def _json_default(value: Any) -> Any:
    """As the AWS CLI's ``json_encoder``: datetimes in ISO 8601, bytes in base64."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("utf-8")
    raise TypeError(f"cannot print a {type(value).__name__}")


def _plain(value: Any) -> Any:
    """Dates as the AWS CLI v2 prints them (``cli_timestamp_format = iso8601``: botocore's
    ``parse_timestamp(...).isoformat()``, in the local time zone) and blobs as base64
    text, before ``--query`` sees them, as the AWS CLI's parser has done."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, (datetime, bytes, bytearray)):
        return _json_default(value)
    return value


def _dumps(value: Any) -> str:
    return json.dumps(value, indent=4, default=_json_default, ensure_ascii=False)


def _text(item: Any, out: IO[str], identifier: Optional[str] = None, scalar_keys: Optional[List[str]] = None) -> None:
    """The AWS CLI's ``--output text`` (awscli/text.py): tab-separated scalars, nested
    values on lines of their own headed by their key in capitals."""
    if isinstance(item, dict):
        scalars: List[str] = []
        nested: List[Tuple[str, Any]] = []
        if scalar_keys is None:
            for key, value in sorted(item.items()):
                if isinstance(value, (dict, list)):
                    nested.append((key, value))
                else:
                    scalars.append(_text_scalar(value))
        else:
            scalars = [_text_scalar(item.get(key, "")) for key in scalar_keys]
            nested = [(key, item[key]) for key in sorted(set(item) - set(scalar_keys))]
        if scalars:
            if identifier is not None:
                scalars.insert(0, identifier.upper())
            out.write("\t".join(scalars) + "\n")
        for key, value in nested:
            _text(value, out, key)
    elif isinstance(item, list):
        if not item:
            return
        if any(isinstance(e, dict) for e in item):
            keys = sorted({k for e in item if isinstance(e, dict) for k, v in e.items() if not isinstance(v, (dict, list))})
            for element in item:
                _text(element, out, identifier, keys)
        elif any(isinstance(e, list) for e in item):
            flat = [e for e in item if not isinstance(e, (list, dict))]
            if flat:
                _text_scalars(flat, out, identifier)
            for element in item:
                if isinstance(element, (list, dict)):
                    _text(element, out, identifier)
        else:
            _text_scalars(item, out, identifier)
    else:
        out.write(_text_scalar(item) + "\n")


def _text_scalars(items: List[Any], out: IO[str], identifier: Optional[str]) -> None:
    if identifier is not None:
        for item in items:
            out.write(f"{identifier.upper()}\t{_text_scalar(item)}\n")
    else:
        out.write("\t".join(_text_scalar(i) for i in items) + "\n")


def _text_scalar(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("utf-8")
    return str(value)


# ---------------------------------------------------------------------------
# Help


class _HtmlText(html.parser.HTMLParser):
    """The model's documentation (HTML) as plain paragraphs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: List[str] = []
        self.current: List[str] = []

    def _flush(self) -> None:
        text = " ".join("".join(self.current).split())
        if text:
            self.paragraphs.append(text)
        self.current = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("p", "ul", "ol", "li", "br", "note", "important"):
            self._flush()
        if tag == "li":
            self.current.append("* ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("p", "ul", "ol", "li", "note", "important"):
            self._flush()

    def handle_data(self, data: str) -> None:
        self.current.append(data)


def _doc(documentation: str, indent: str, width: int = 79) -> str:
    parser = _HtmlText()
    parser.feed(documentation or "")
    parser.close()
    parser._flush()
    return "\n\n".join(
        textwrap.fill(p, width=width, initial_indent=indent, subsequent_indent=indent) for p in parser.paragraphs
    )


def _shape_summary(shape: Any) -> str:
    kind = str(shape.type_name)
    if kind == "list":
        return f"list of {_shape_summary(shape.member)}"
    if kind == "structure":
        return "structure: " + ", ".join(f"{k}={v.type_name}" for k, v in shape.members.items())
    if kind == "map":
        return f"map: {shape.key.type_name} to {shape.value.type_name}"
    enum = getattr(shape, "enum", None)
    return f"string, one of: {', '.join(enum)}" if kind == "string" and enum else kind


GLOBAL_OPTIONS_HELP = """GLOBAL OPTIONS
       --store <url>          the registry's store: sqlite:///path/fleet.db or
                              postgresql://user@host:port/dbname (or JITR_STORE)
       --account-id <id>      the AWS account, 12 digits (or JITR_ACCOUNT_ID)
       --region <region>      the region (or AWS_REGION, AWS_DEFAULT_REGION)
       --output <format>      json (default), text or off
       --query <jmespath>     a JMESPath query to filter the response
       --no-paginate          one call only, for the first page of a paginated command
       --cli-error-format <format>
                              enhanced (default), legacy or json (or AWS_CLI_ERROR_FORMAT)
       --no-cli-pager         accepted for the AWS CLI's sake (jitr never pages)
       --debug                a traceback with unexpected errors
       --version              the versions of jitr, Python and botocore
"""


def _main_help() -> str:
    return (
        f"{PROG}\n\nDESCRIPTION\n"
        f"       The AWS CLI's commands for AWS IoT, answered by a jitr registry on a\n"
        f"       store (SQLite or PostgreSQL) instead of AWS.\n\n"
        f"SYNOPSIS\n       {PROG} [options] <command> <subcommand> [parameters]\n\n"
        f"{GLOBAL_OPTIONS_HELP}\nAVAILABLE SERVICES\n       o {SERVICE}\n"
    )


def _service_help(boto: _Botocore) -> str:
    names = sorted(boto.implemented)
    missing = len(boto.all_names) - len(names)
    lines = "".join(f"       o {name}\n" for name in names)
    return (
        f"{SERVICE}\n\nDESCRIPTION\n"
        f"       The AWS IoT operations jitr implements ({len(names)} of the {len(boto.all_names)}\n"
        f"       in botocore {boto.version}'s model; the other {missing} are refused).\n\n"
        f"AVAILABLE COMMANDS\n{lines}"
    )


def _operation_help(op: _Operation) -> str:
    synopsis: List[str] = []
    options: List[str] = []
    for arg in op.arguments.values():
        shape_doc = _shape_summary(arg.shape)
        if arg.type_name == "boolean":
            usage = f"{arg.cli_name} | --no-{arg.name}"
        else:
            usage = f"{arg.cli_name} <value>"
        synopsis.append(f"          {usage}" if arg.required else f"          [{usage}]")
        doc = _doc(arg.doc if isinstance(arg, _PageArgument) else arg.shape.documentation, "          ")
        options.append(f"       {arg.cli_name} ({shape_doc})\n{doc}\n")
    for extra in ("--cli-input-json <value>", "--generate-cli-skeleton <value>"):
        synopsis.append(f"          [{extra}]")
    options.append(
        "       --cli-input-json (string)\n"
        "          The operation's parameters as a JSON object (or file://...); options\n"
        "          given on the command line win.\n"
    )
    options.append(
        "       --generate-cli-skeleton (string)\n"
        "          input (default): print a JSON skeleton for --cli-input-json; output:\n"
        "          check the parameters and print a sample response. Calls nothing.\n"
    )
    paging = ""
    if op.paginator is not None:
        paging = (
            f"\n       {op.name} is a paginated operation: every page is fetched and one\n"
            "       merged result printed, unless --no-paginate is given.\n"
        )
    return (
        f"{op.name}\n\nDESCRIPTION\n{_doc(op.model.documentation, '       ')}\n{paging}\n"
        f"SYNOPSIS\n            {op.name}\n" + "\n".join(synopsis) + "\n\nOPTIONS\n" + "\n".join(options) + "\n"
        + GLOBAL_OPTIONS_HELP
    )


# ---------------------------------------------------------------------------
# The command


def _query(value: str) -> Any:
    """``--query``, compiled (jmespath comes with botocore)."""
    import jmespath  # type: ignore[import-untyped,unused-ignore]

    try:
        return jmespath.compile(value)
    except Exception as e:
        raise UsageError(f"Bad value for --query {value}: {e}") from None


def _global_parser() -> _ArgParser:
    parser = _ArgParser(prog=PROG, usage=USAGE, add_help=False, allow_abbrev=False)
    parser.add_argument("--store")
    parser.add_argument("--account-id", dest="account_id")
    parser.add_argument("--region")
    parser.add_argument("--output", choices=["json", "text", "off"])
    parser.add_argument("--query")
    parser.add_argument("--no-paginate", dest="paginate", action="store_false", default=True)
    parser.add_argument("--cli-error-format", dest="cli_error_format", choices=["enhanced", "legacy", "json"])
    parser.add_argument("--no-cli-pager", dest="no_cli_pager", action="store_true")
    parser.add_argument("--debug", action="store_true")
    parser.add_argument("--version", action="store_true")
    parser.add_argument("command", nargs="?")
    return parser


class _Cli:
    def __init__(self, stdout: IO[str], stderr: IO[str], environ: Dict[str, str]) -> None:
        self.stdout = stdout
        self.stderr = stderr
        self.environ = environ
        self.globals: Optional[argparse.Namespace] = None
        self.boto: Optional[_Botocore] = None

    # -- errors -------------------------------------------------------------

    def _error_format(self) -> str:
        fmt = getattr(self.globals, "cli_error_format", None) or self.environ.get("AWS_CLI_ERROR_FORMAT", "")
        fmt = fmt.lower()
        return fmt if fmt in ("enhanced", "legacy", "json") else "enhanced"

    def _write_error(self, message: str) -> None:
        self.stderr.write(f"\n{PROG}: [ERROR]: {message.strip()}\n")

    def _report(self, info: Dict[str, Any], formatted: str, plain: str) -> None:
        fmt = self._error_format()
        if fmt == "json":
            self.stderr.write(_dumps(info) + "\n")
        elif fmt == "legacy":
            self._write_error(plain)
        else:
            self._write_error(formatted)
            extra = {k: v for k, v in info.items() if k.lower() not in ("code", "message")}
            if extra:
                self.stderr.write("\nAdditional error details:\n")
                for key, value in extra.items():
                    self.stderr.write(f"{key}: {value}\n")

    def handle(self, error: BaseException) -> int:
        """Prints an error as the AWS CLI does and returns its return code."""
        client_error = _client_error_class()
        if isinstance(error, KeyboardInterrupt):
            self.stdout.write("\n")
            return RC_INTERRUPTED
        if isinstance(error, UnknownArgumentError):
            self.stderr.write(f"\nusage: {USAGE}")
            self._write_error(str(error))
            return error.rc
        if isinstance(error, CliError):
            if isinstance(error, (UsageError, ConfigurationError)):
                message = str(error)
                self._report({"Code": error.code, "Message": message}, f"An error occurred ({error.code}): {message}", message)
            else:
                self._write_error(str(error))
            return error.rc
        if _is_param_validation_error(error):
            message = str(error)
            self._report({"Code": "ParamValidation", "Message": message}, f"An error occurred (ParamValidation): {message}", message)
            return RC_PARAM
        if client_error is not None and isinstance(error, client_error):
            self._report(self._client_error_info(error), str(error), str(error))
            return RC_CLIENT
        if getattr(self.globals, "debug", False):
            import traceback

            traceback.print_exception(type(error), error, error.__traceback__, file=self.stderr)
        self._write_error(str(error) or type(error).__name__)
        return RC_GENERAL

    def _client_error_info(self, error: Any) -> Dict[str, Any]:
        """``Code``, ``Message`` and the error shape's other members (``resourceId``, ...)."""
        response = getattr(error, "response", {}) or {}
        info: Dict[str, Any] = dict(response.get("Error", {}))
        modeled = {"code", "message"}
        boto = self.boto
        if boto is not None and info.get("Code"):
            shape = boto.model.shape_for_error_code(info["Code"])
            if shape is not None:
                modeled |= {m.lower() for m in shape.members}
        for key, value in response.items():
            if key not in ("Error", "ResponseMetadata", "Code", "Message") and key not in info and key.lower() in modeled:
                info[key] = value
        return {k: v for k, v in info.items() if k.lower() in modeled}

    # -- the run ------------------------------------------------------------

    def run(self, argv: Sequence[str]) -> int:
        parsed, rest = _global_parser().parse_known_args(list(argv))
        self.globals = parsed
        if parsed.version:
            self.stdout.write(self._version() + "\n")
            return RC_OK
        if parsed.command is None:
            if rest:
                raise UnknownArgumentError(f"Unknown options: {', '.join(rest)}")
            raise UsageError(f"the following arguments are required: command\n\nusage: {USAGE}")
        if parsed.command == "help":
            self.stdout.write(_main_help())
            return RC_OK
        if parsed.command != SERVICE:
            raise UsageError(_invalid_choice("command", parsed.command, [SERVICE, "help"]) + f"\n\nusage: {USAGE}")
        boto = self.boto = _Botocore()
        if parsed.query is not None:
            parsed.query = _query(parsed.query)
        if not rest:
            raise UsageError(f"the following arguments are required: operation\n\nusage: {USAGE}")
        name, args = rest[0], rest[1:]
        if name == "help":
            self.stdout.write(_service_help(boto))
            return RC_OK
        if name.startswith("-"):
            raise UnknownArgumentError(f"Unknown options: {', '.join(rest)}")
        if name not in boto.implemented:
            if name in boto.all_names:
                raise UsageError(
                    f"jitr does not implement the AWS IoT operation {name} "
                    f"({boto.all_names[name]}); the {SERVICE} commands jitr implements are: "
                    f"{', '.join(sorted(boto.implemented))}"
                )
            raise UsageError(_invalid_choice("operation", name, sorted(boto.implemented)) + f"\n\nusage: {USAGE}")
        return self._operation(boto.operation(name), args)

    def _version(self) -> str:
        from jitr_iot import __version__

        try:
            import botocore  # type: ignore[import-untyped,unused-ignore]

            boto = f" botocore/{botocore.__version__}"
        except ImportError:
            boto = ""
        return (
            f"{PROG}/{__version__} Python/{platform.python_version()} "
            f"{platform.system()}/{platform.release()}{boto}"
        )

    def _operation(self, op: _Operation, args: List[str]) -> int:
        parsed = self._parse(op, args)
        if parsed is None:
            self.stdout.write(_operation_help(op))
            return RC_OK
        params, paginate = self._parameters(op, parsed)
        if parsed.generate_cli_skeleton == "output":
            self._validate(op, params)
        if parsed.generate_cli_skeleton is not None:
            return self._skeleton(op, parsed.generate_cli_skeleton)
        store, account, region = self._where()
        self._validate(op, params)
        return self._call(op, params, paginate, store, account, region)

    def _parse(self, op: _Operation, args: List[str]) -> Optional[argparse.Namespace]:
        """The operation's options (``None``: help was asked for)."""
        if args == ["help"]:  # before argparse asks for the required options
            return None
        # --cli-input-json and --generate-cli-skeleton (but for "output") can stand in for
        # the required options, as in the AWS CLI (it looks for the exact word).
        override_required = "--cli-input-json" in args or any(a.startswith("--cli-input-json=") for a in args)
        if "--generate-cli-skeleton" in args:
            at = args.index("--generate-cli-skeleton")
            override_required = override_required or args[at + 1 : at + 2] != ["output"]
        parser = _ArgParser(prog=f"{PROG} {SERVICE} {op.name}", usage=USAGE, add_help=False, allow_abbrev=True)
        for arg in op.arguments.values():
            arg.add_to_parser(parser, arg.required and not override_required)
        parser.add_argument("--cli-input-json", dest="cli_input_json")
        parser.add_argument(
            "--generate-cli-skeleton", dest="generate_cli_skeleton", nargs="?", const="input", choices=["input", "output"]
        )
        parser.add_argument("help", nargs="?")
        parsed, remaining = parser.parse_known_args(args)
        if parsed.help == "help":
            return None
        if parsed.help:
            remaining.append(parsed.help)
        if remaining:
            raise UnknownArgumentError(f"Unknown options: {', '.join(remaining)}")
        return parsed

    def _parameters(self, op: _Operation, parsed: argparse.Namespace) -> Tuple[Dict[str, Any], bool]:
        """The operation's parameters, as boto3 takes them, and whether to page automatically."""
        assert self.globals is not None
        # Automatic paging, as the AWS CLI decides it (awscli/customizations/paginate.py):
        # the operation's own paging options (``--marker``; ``--page-size`` when the limit
        # key is called pageSize) mean the caller pages by hand.
        arguments = dict(op.arguments)
        paginate = op.paginator is not None and bool(self.globals.paginate)
        if op.paginator is not None:
            from botocore import xform_name  # type: ignore[import-untyped,unused-ignore]

            for token in op.input_tokens:
                if getattr(parsed, xform_name(token, "_"), None) is not None:
                    paginate = False
            if not paginate:
                used = [
                    f"--{n}"
                    for n in ("starting-token", "page-size", "max-items")
                    if n not in op.shadowed and getattr(parsed, n.replace("-", "_"), None) is not None
                ]
                if used:
                    hint = ""
                    if self.globals.paginate:
                        own = [f"--{xform_name(t, '-')}" for t in op.input_tokens]
                        hint = (
                            f" ({' and '.join(own)} are {op.name}'s own paging parameters, "
                            "which page by hand and so turn automatic paging off, as in the AWS CLI)"
                        )
                    raise UsageError(
                        f"Cannot specify --no-paginate along with pagination arguments: {', '.join(used)}{hint}"
                    )
                arguments.update(op.shadowed)
                for name in ("starting-token", "page-size", "max-items"):
                    if name not in op.shadowed:
                        arguments.pop(name, None)

        params: Dict[str, Any] = {}
        for arg in arguments.values():
            value = getattr(parsed, arg.dest, None)
            if value is None:
                continue
            if isinstance(arg, _PageArgument):
                params.setdefault("PaginationConfig", {})[arg.member] = value
            else:
                params[arg.member] = arg.unpack(value)
        if parsed.cli_input_json is not None:
            for key, value in _cli_input_json(parsed.cli_input_json).items():
                params.setdefault(key, value)
            if paginate and any(token in params for token in op.input_tokens):
                paginate = False
        if not paginate:
            params.pop("PaginationConfig", None)
        _decode_blobs(op.model.input_shape, params)
        return params, paginate

    def _where(self) -> Tuple[str, str, str]:
        assert self.globals is not None
        store = self.globals.store or self.environ.get("JITR_STORE")
        if not store:
            raise ConfigurationError(f"You must specify a store. {STORE_HELP}")
        if store.strip().lower().startswith("memory"):
            raise ConfigurationError(
                f"the store {store} keeps nothing after the command ends, and every jitr "
                f"command is a process of its own. {STORE_HELP}"
            )
        region = self.globals.region or self.environ.get("AWS_REGION") or self.environ.get("AWS_DEFAULT_REGION")
        if not region:
            raise ConfigurationError(
                "You must specify a region. Pass --region or set AWS_REGION (or AWS_DEFAULT_REGION).",
                code="NoRegion",
            )
        account = self.globals.account_id or self.environ.get("JITR_ACCOUNT_ID")
        if not account:
            raise ConfigurationError(
                "You must specify an account. Pass --account-id (12 digits) or set JITR_ACCOUNT_ID."
            )
        return store, account, region

    def _validate(self, op: _Operation, params: Dict[str, Any]) -> None:
        """botocore's validator on the parameters, against the model (botocore's
        ``ParamValidationError``: 252)."""
        from botocore.validate import validate_parameters  # type: ignore[import-untyped,unused-ignore]

        shape = op.model.input_shape
        if shape is not None:
            validate_parameters({k: v for k, v in params.items() if k != "PaginationConfig"}, shape)

    def _skeleton(self, op: _Operation, which: str) -> int:
        """``--generate-cli-skeleton``: the input JSON that ``--cli-input-json`` takes, or a
        sample response printed as a real one would be (botocore's ``ArgumentGenerator``,
        as the AWS CLI). Calls nothing."""
        from botocore.utils import ArgumentGenerator  # type: ignore[import-untyped,unused-ignore]

        if which == "input":
            shape = op.model.input_shape
            skeleton = ArgumentGenerator().generate_skeleton(shape) if shape is not None else {}
            self.stdout.write(_dumps(skeleton) + "\n")
        else:
            shape = op.model.output_shape
            self._print(ArgumentGenerator(use_member_names=True).generate_skeleton(shape) if shape is not None else {})
        return RC_OK

    def _call(self, op: _Operation, params: Dict[str, Any], paginate: bool, store: str, account: str, region: str) -> int:
        from botocore.exceptions import ClientError  # type: ignore[import-untyped,unused-ignore]

        import jitr_iot

        boto = self.boto
        assert boto is not None
        try:
            registry = jitr_iot.Registry(
                account_id=account, region=region, partition=boto.partition(region), store=store
            )
        except jitr_iot.JitrError as e:
            if e.code in ("ServiceUnavailableException", "InternalFailureException"):
                # The store cannot be reached: what the service would answer.
                raise ClientError(e.response, op.model.name) from None
            raise ConfigurationError(f"jitr cannot use this store, account or region: {e.message}") from None
        try:
            with jitr_iot.mock_iot(registry=registry):
                client = boto.session.create_client(
                    SERVICE,
                    region_name=region,
                    aws_access_key_id="jitr",
                    aws_secret_access_key="jitr",
                )
                if paginate:
                    pages = client.get_paginator(op.method).paginate(**params)
                    if self._output() == "text":
                        self._print_text_pages(pages)
                        return RC_OK
                    response = pages.build_full_result()
                else:
                    response = getattr(client, op.method)(**params)
        finally:
            registry.close()
        self._print(response)
        return RC_OK

    def _output(self) -> str:
        assert self.globals is not None
        return str(self.globals.output or "json")

    def _print(self, response: Any) -> None:
        assert self.globals is not None
        if isinstance(response, dict):
            response = dict(response)
            response.pop("ResponseMetadata", None)
        response = _plain(response)
        if self.globals.query is not None:
            response = self.globals.query.search(response)
        output = self._output()
        if output == "off":
            return
        if output == "text":
            _text(response, self.stdout)
            return
        if response != {}:
            self.stdout.write(_dumps(response) + "\n")

    def _print_text_pages(self, pages: Any) -> None:
        """``--output text`` of a paginated command: page by page, as the AWS CLI prints it."""
        from botocore.utils import set_value_from_jmespath  # type: ignore[import-untyped,unused-ignore]

        assert self.globals is not None
        query = self.globals.query
        for i, page in enumerate(pages):
            current: Dict[str, Any] = {} if i > 0 else pages.non_aggregate_part
            for key in pages.result_keys:
                set_value_from_jmespath(current, key.expression, key.search(page))
            current = _plain(current)
            _text(query.search(current) if query is not None else current, self.stdout)
        if pages.resume_token:
            token = {"NextToken": {"NextToken": pages.resume_token}}
            _text(query.search(token) if query is not None else token, self.stdout)


def _invalid_choice(what: str, value: str, choices: List[str]) -> str:
    message = f"argument {what}: Found invalid choice '{value}'\n"
    close = get_close_matches(value, choices, cutoff=0.8)
    if close:
        message += "\nMaybe you meant:\n" + "\n".join(f"  * {c}" for c in close)
    return message


def _cli_input_json(value: str) -> Dict[str, Any]:
    try:
        loaded = _paramfile(value)
    except ValueError as e:
        raise ParamError("cli-input-json", str(e)) from None
    text = value if loaded is None else loaded
    try:
        data = json.loads(text)
    except ValueError:
        raise ParamError("cli-input-json", "Invalid JSON received.") from None
    if not isinstance(data, dict):
        raise ParamError("cli-input-json", f"Invalid type: expecting map, received {type(data)}")
    return data


def _decode_blobs(shape: Any, value: Any) -> Any:
    """Blob members given as text are base64 (the AWS CLI v2's ``cli_binary_format``);
    ``fileb://`` gives their bytes."""
    if shape is None or value is None:
        return value
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        for key, member in shape.members.items():
            if key in value:
                value[key] = _decode_blobs(member, value[key])
    elif kind == "list" and isinstance(value, list):
        for i, item in enumerate(value):
            value[i] = _decode_blobs(shape.member, item)
    elif kind == "map" and isinstance(value, dict):
        for key in value:
            value[key] = _decode_blobs(shape.value, value[key])
    elif kind == "blob" and isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise UsageError(f'Invalid base64: "{value}"') from None
    return value


def _client_error_class() -> Optional[type]:
    botocore = sys.modules.get("botocore.exceptions")
    return getattr(botocore, "ClientError", None) if botocore is not None else None


def _is_param_validation_error(error: BaseException) -> bool:
    botocore = sys.modules.get("botocore.exceptions")
    cls = getattr(botocore, "ParamValidationError", None) if botocore is not None else None
    return cls is not None and isinstance(error, cls)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Runs ``jitr`` with ``argv`` (default: ``sys.argv[1:]``) and returns its exit status
    (the AWS CLI's: 0, 252, 253, 254 or 255)."""
    cli = _Cli(sys.stdout, sys.stderr, dict(os.environ))
    try:
        return cli.run(sys.argv[1:] if argv is None else argv)
    except BrokenPipeError:
        # The reader went away (``jitr ... | head -1``): as the AWS CLI, not an error.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):
            pass
        return RC_OK
    except BaseException as e:  # every error becomes a message and a return code
        if isinstance(e, SystemExit):
            raise
        return cli.handle(e)
    finally:
        try:
            sys.stdout.flush()
        except (OSError, ValueError):
            pass


if __name__ == "__main__":
    sys.exit(main())

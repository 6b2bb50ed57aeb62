"""The ``jitr`` command: the AWS CLI's ``iot`` commands, answered by a jitr registry on a store.

The command runs as a user runs it — the installed console script, ``python -m
jitr_iot.cli`` and ``python -m jitr_iot`` as subprocesses — on a SQLite store in the
test's directory (and on PostgreSQL when ``JITR_TEST_PG`` names a server). Finer points
(shorthand, paging, error formats) run ``jitr_iot.cli.main`` in the test process.
Responses are compared with what ``jitr_iot.Registry`` returns on the same store, dates
printed as the AWS CLI v2 prints them (ISO 8601 in the local time zone).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import botocore.session
import pytest
from botocore import xform_name

import jitr_iot
import jitr_iot.cli as cli

ACCOUNT = "123456789012"
REGION = "us-east-1"
#: The time zone the subprocesses print dates in (POSIX TZ: five and a half hours east
#: of UTC, no daylight saving), so the expected text does not depend on the machine.
TZ = "XST-05:30"
ZONE = timezone(timedelta(hours=5, minutes=30))
BIN = Path(sys.executable).parent
SCRIPT = BIN / "jitr"
ID_0 = "0" * 64


@pytest.fixture
def store(tmp_path: Path) -> str:
    return f"sqlite://{tmp_path / 'fleet.db'}"


def clean_env(tmp_path: Path, **extra: str) -> Dict[str, str]:
    """The environment of a user's shell without AWS or jitr settings (HOME in tmp_path)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "JITR_"))}
    env.update(HOME=str(tmp_path), TZ=TZ)
    env.update(extra)
    return env


def jitr(
    *args: str,
    env: Dict[str, str],
    cwd: Optional[Path] = None,
    entry: str = "script",
) -> subprocess.CompletedProcess[str]:
    """Runs the command: the console script, ``python -m jitr_iot.cli`` or ``python -m jitr_iot``."""
    if entry == "script":
        assert SCRIPT.exists(), f"the console script is not installed at {SCRIPT}"
        command = [str(SCRIPT)]
    elif entry == "cli":
        command = [sys.executable, "-m", "jitr_iot.cli"]
    else:
        command = [sys.executable, "-m", "jitr_iot"]
    return subprocess.run(command + list(args), env=env, cwd=cwd, capture_output=True, text=True, timeout=120)


def ok(result: subprocess.CompletedProcess[str]) -> Any:
    """The JSON a successful command printed (None when it printed nothing)."""
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    if result.stdout == "":
        return None
    data = json.loads(result.stdout)
    # The AWS CLI's layout: indent 4, non-ASCII as is, one final newline.
    assert result.stdout == json.dumps(data, indent=4, ensure_ascii=False) + "\n"
    return data


def printed(response: Any, zone: Any = ZONE) -> Any:
    """A registry's response as the command prints it: no ResponseMetadata, dates in ISO
    8601 in the given time zone."""
    if isinstance(response, dict):
        return {k: printed(v, zone) for k, v in response.items() if k != "ResponseMetadata"}
    if isinstance(response, list):
        return [printed(v, zone) for v in response]
    if isinstance(response, datetime):
        return response.astimezone(zone).isoformat()
    return response


def write_ca(tmp_path: Path, code: str) -> Tuple[jitr_iot.GeneratedCertificate, Path, Path]:
    """A CA and its verification certificate, as the guide's PEM files in tmp_path."""
    ca = jitr_iot.generate_ca("Fleet CA")
    proof = jitr_iot.generate_verification_certificate(ca, code)
    ca_pem = tmp_path / "root_CA_cert_filename.pem"
    proof_pem = tmp_path / "verification_cert_filename.pem"
    ca_pem.write_text(ca.certificate_pem)
    proof_pem.write_text(proof.certificate_pem)
    return ca, ca_pem, proof_pem


def run_main(args: List[str], capsys: pytest.CaptureFixture[str]) -> Tuple[int, str, str]:
    rc = cli.main(args)
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture
def env_store(store: str, monkeypatch: pytest.MonkeyPatch) -> str:
    for name in list(os.environ):
        if name.startswith(("AWS_", "JITR_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("JITR_STORE", store)
    monkeypatch.setenv("JITR_ACCOUNT_ID", ACCOUNT)
    monkeypatch.setenv("AWS_REGION", REGION)
    return store


# ---------------------------------------------------------------------------
# The guide, end to end


def test_the_guides_commands_run_verbatim(any_store: str, tmp_path: Path) -> None:
    """AWS's JITR guide with ``aws`` replaced by ``jitr``: each command a process of its
    own on one store, the device's connection and the check in Python on the same store."""
    env = clean_env(tmp_path, JITR_STORE=any_store, JITR_ACCOUNT_ID=ACCOUNT, AWS_REGION=REGION)
    code = ok(jitr("iot", "get-registration-code", env=env))["registrationCode"]
    assert len(code) == 64
    ca, _, _ = write_ca(tmp_path, code)

    # The guide's command, with the unambiguous prefix --verification-cert.
    registered = ok(
        jitr(
            "iot", "register-ca-certificate", "--allow-auto-registration",
            "--ca-certificate", "file://root_CA_cert_filename.pem",
            "--verification-cert", "file://verification_cert_filename.pem",
            env=env, cwd=tmp_path,
        )
    )
    ca_id = registered["certificateId"]
    assert ca_id == ca.certificate_id
    assert registered == {"certificateArn": f"arn:aws:iot:{REGION}:{ACCOUNT}:cacert/{ca_id}", "certificateId": ca_id}

    # Update commands print nothing, as the AWS CLI prints an empty response.
    assert ok(jitr("iot", "update-ca-certificate", "--certificate-id", ca_id, "--new-auto-registration-status", "ENABLE", env=env)) is None
    assert ok(jitr("iot", "update-ca-certificate", "--certificate-id", ca_id, "--new-status", "ACTIVE", env=env)) is None
    described = ok(jitr("iot", "describe-ca-certificate", "--certificate-id", ca_id, env=env))
    desc = described["certificateDescription"]
    assert (desc["status"], desc["autoRegistrationStatus"]) == ("ACTIVE", "ENABLE")
    assert desc["creationDate"].endswith("+05:30")

    # A device connects (no AWS API does that): jitr registers it PENDING_ACTIVATION.
    device = jitr_iot.issue_certificate(ca, "device-1")
    with jitr_iot.Registry(account_id=ACCOUNT, region=REGION, store=any_store) as registry:
        assert printed(registry.describe_ca_certificate(certificateId=ca_id)) == described
        decision = registry.connect([device.certificate_pem, ca.certificate_pem])
        assert decision.reason == "REGISTERED_PENDING_ACTIVATION"
    cert_id = device.certificate_id
    arn = f"arn:aws:iot:{REGION}:{ACCOUNT}:cert/{cert_id}"

    listed = ok(jitr("iot", "list-certificates", env=env))
    assert [(c["certificateId"], c["status"]) for c in listed["certificates"]] == [(cert_id, "PENDING_ACTIVATION")]
    by_ca = ok(jitr("iot", "list-certificates-by-ca", "--ca-certificate-id", ca_id, env=env))
    assert by_ca == listed

    # The activation, as an operator does it by hand.
    policy = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iot:Connect", "Resource": "*"}]}'
    created = ok(jitr("iot", "create-policy", "--policy-name", f"Policy_{cert_id}", "--policy-document", policy, env=env))
    assert created["policyName"] == f"Policy_{cert_id}" and created["policyVersionId"] == "1"
    assert ok(jitr("iot", "attach-policy", "--policy-name", f"Policy_{cert_id}", "--target", arn, env=env)) is None
    attached = ok(jitr("iot", "list-attached-policies", "--target", arn, env=env))
    assert [p["policyName"] for p in attached["policies"]] == [f"Policy_{cert_id}"]
    assert ok(jitr("iot", "update-certificate", "--certificate-id", cert_id, "--new-status", "ACTIVE", env=env)) is None

    with jitr_iot.Registry(account_id=ACCOUNT, region=REGION, store=any_store) as registry:
        assert registry.connect([device.certificate_pem, ca.certificate_pem]).allowed
        for command, response in [
            (["describe-certificate", "--certificate-id", cert_id], registry.describe_certificate(certificateId=cert_id)),
            (["list-certificates"], registry.list_certificates()),
            (["list-ca-certificates"], registry.list_ca_certificates()),
            (["get-policy", "--policy-name", f"Policy_{cert_id}"], registry.get_policy(policyName=f"Policy_{cert_id}")),
            (["get-registration-code"], registry.get_registration_code()),
        ]:
            assert ok(jitr("iot", *command, env=env)) == printed(response), command


def test_the_readme_runs_the_guide_with_openssl(tmp_path: Path) -> None:
    """The top-level README's shell example, as it is: AWS's guide with openssl making the
    certificates and ``jitr`` in place of ``aws``; it prints what its last comment says."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## Command line (`jitr`)", 1)[1]
    script = section.split("```sh\n", 1)[1].split("```", 1)[0]
    expected = [line[2:] for line in script.splitlines() if line.startswith("# ")][-1]
    if shutil.which("openssl") is None:
        pytest.skip("the README's example needs the openssl command")
    env = clean_env(tmp_path, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == expected + "\n"
    assert expected == "ACTIVE\tENABLE"
    with jitr_iot.Registry(account_id=ACCOUNT, region=REGION, store=f"sqlite://{tmp_path / 'fleet.db'}") as registry:
        [ca] = registry.list_ca_certificates()["certificates"]
        assert ca["status"] == "ACTIVE"


def test_every_entry_point_runs_the_same_command(store: str, tmp_path: Path) -> None:
    env = clean_env(tmp_path, JITR_STORE=store, JITR_ACCOUNT_ID=ACCOUNT, AWS_REGION=REGION)
    outputs = [jitr("iot", "get-registration-code", env=env, entry=entry) for entry in ("script", "cli", "module")]
    for result in outputs:
        assert result.returncode == 0, result.stderr
    assert outputs[0].stdout == outputs[1].stdout == outputs[2].stdout
    with jitr_iot.Registry(account_id=ACCOUNT, region=REGION, store=store) as registry:
        assert json.loads(outputs[0].stdout) == printed(registry.get_registration_code())


def test_dates_are_printed_in_the_local_time_zone(store: str, tmp_path: Path) -> None:
    with jitr_iot.Registry(account_id=ACCOUNT, region=REGION, store=store) as registry:
        ca, _, _ = write_ca(tmp_path, registry.get_registration_code()["registrationCode"])
        proof = jitr_iot.generate_verification_certificate(ca, registry.get_registration_code()["registrationCode"])
        registry.register_ca_certificate(caCertificate=ca.certificate_pem, verificationCertificate=proof.certificate_pem)
        created = registry.list_ca_certificates()["certificates"][0]["creationDate"]
    query = ["iot", "list-ca-certificates", "--query", "certificates[0].creationDate"]
    for tz, zone in [(TZ, ZONE), ("UTC0", timezone.utc), ("XST+07", timezone(timedelta(hours=-7)))]:
        env = clean_env(tmp_path, JITR_STORE=store, JITR_ACCOUNT_ID=ACCOUNT, AWS_REGION=REGION, TZ=tz)
        text = ok(jitr(*query, env=env))
        assert text == created.astimezone(zone).isoformat()
        assert datetime.fromisoformat(text) == created


# ---------------------------------------------------------------------------
# Where the command acts: store, account, region


def test_flags_win_over_the_environment_and_accounts_are_apart(store: str, tmp_path: Path) -> None:
    env = clean_env(tmp_path, JITR_STORE=store, JITR_ACCOUNT_ID=ACCOUNT, AWS_DEFAULT_REGION="eu-west-1")
    mine = ok(jitr("iot", "get-registration-code", env=env))["registrationCode"]
    other = ok(jitr("iot", "get-registration-code", "--account-id", "210987654321", env=env))["registrationCode"]
    assert mine != other
    # AWS_REGION wins over AWS_DEFAULT_REGION, --region over both (the AWS CLI's order);
    # the partition is the region's.
    issuer = jitr_iot.generate_ca("Issuer")
    for extra, args, arn_prefix in [
        ({}, [], "arn:aws:iot:eu-west-1"),
        ({"AWS_REGION": "eu-central-1"}, [], "arn:aws:iot:eu-central-1"),
        ({"AWS_REGION": "eu-central-1"}, ["--region", "ap-south-1"], "arn:aws:iot:ap-south-1"),
        ({}, ["--region", "cn-north-1"], "arn:aws-cn:iot:cn-north-1"),
    ]:
        device = jitr_iot.issue_certificate(issuer, f"device in {arn_prefix}")
        arn = ok(
            jitr(
                "iot", "register-certificate-without-ca", "--certificate-pem", device.certificate_pem,
                "--query", "certificateArn", *args, env={**env, **extra},
            )
        )
        assert arn == f"{arn_prefix}:{ACCOUNT}:cert/{device.certificate_id}"
    # --store wins over JITR_STORE.
    elsewhere = f"sqlite://{tmp_path / 'other.db'}"
    ok(jitr("iot", "get-registration-code", "--store", elsewhere, env=env))
    assert (tmp_path / "other.db").exists()


@pytest.mark.parametrize(
    "unset,extra,message",
    [
        ("JITR_STORE", {}, "You must specify a store. jitr keeps the registry in a store between commands: pass --store sqlite:///"),
        ("AWS_REGION", {}, "An error occurred (NoRegion): You must specify a region. Pass --region or set AWS_REGION"),
        ("JITR_ACCOUNT_ID", {}, "You must specify an account. Pass --account-id (12 digits) or set JITR_ACCOUNT_ID."),
        (None, {"JITR_STORE": "memory:"}, "the store memory: keeps nothing after the command ends"),
        (None, {"JITR_STORE": "foo://x"}, '"foo" is not a store URL'),
        (None, {"JITR_ACCOUNT_ID": "12345"}, "the account ID must be 12 digits"),
    ],
)
def test_configuration_errors_exit_253(
    env_store: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    unset: Optional[str],
    extra: Dict[str, str],
    message: str,
) -> None:
    for name, value in extra.items():
        monkeypatch.setenv(name, value)
    if unset is not None:
        monkeypatch.delenv(unset)
    rc, out, err = run_main(["iot", "get-registration-code"], capsys)
    assert (rc, out) == (253, ""), err
    assert err.startswith("\njitr: [ERROR]: ")
    assert message in err
    assert not (tmp_path / "fleet.db").exists()


def test_no_store_exits_253_from_the_process(tmp_path: Path) -> None:
    result = jitr("iot", "list-certificates", env=clean_env(tmp_path, JITR_ACCOUNT_ID=ACCOUNT, AWS_REGION=REGION))
    assert result.returncode == 253
    assert result.stderr.startswith("\njitr: [ERROR]: An error occurred (Configuration): You must specify a store.")
    assert "--store sqlite:///path/to/fleet.db" in result.stderr and "JITR_STORE" in result.stderr


def test_a_store_that_cannot_be_opened_is_the_services_error_254(tmp_path: Path) -> None:
    env = clean_env(tmp_path, JITR_STORE=f"sqlite://{tmp_path / 'missing' / 'fleet.db'}", JITR_ACCOUNT_ID=ACCOUNT, AWS_REGION=REGION)
    result = jitr("iot", "get-registration-code", env=env)
    assert result.returncode == 254
    assert "An error occurred (ServiceUnavailableException) when calling the GetRegistrationCode operation: the store is unavailable" in result.stderr


# ---------------------------------------------------------------------------
# Exit codes and error lines


def test_service_errors_exit_254_with_the_aws_cli_line(store: str, tmp_path: Path) -> None:
    env = clean_env(tmp_path, JITR_STORE=store, JITR_ACCOUNT_ID=ACCOUNT, AWS_REGION=REGION)
    result = jitr("iot", "describe-certificate", "--certificate-id", ID_0, env=env)
    assert result.returncode == 254
    assert result.stdout == ""
    assert result.stderr == (
        "\njitr: [ERROR]: An error occurred (ResourceNotFoundException) when calling the "
        f"DescribeCertificate operation: the certificate {ID_0} does not exist\n"
    )
    document = '{"Version": "2012-10-17", "Statement": []}'
    ok(jitr("iot", "create-policy", "--policy-name", "p", "--policy-document", document, env=env))
    again = jitr("iot", "create-policy", "--policy-name", "p", "--policy-document", document, env=env)
    assert again.returncode == 254
    # The error shape's other members, as the AWS CLI's "enhanced" error format shows them.
    assert again.stderr == (
        "\njitr: [ERROR]: An error occurred (ResourceAlreadyExistsException) when calling the "
        "CreatePolicy operation: the policy p already exists\n"
        "\nAdditional error details:\nresourceId: p\n"
        f"resourceArn: arn:aws:iot:{REGION}:{ACCOUNT}:policy/p\n"
    )
    # A certificate that is not INACTIVE cannot be deleted: the state is unchanged.
    with jitr_iot.Registry(account_id=ACCOUNT, region=REGION, store=store) as registry:
        ca, _, _ = write_ca(tmp_path, registry.get_registration_code()["registrationCode"])
        device = jitr_iot.issue_certificate(ca, "d")
        cert_id = registry.register_certificate_without_ca(certificatePem=device.certificate_pem, status="ACTIVE")["certificateId"]
    refused = jitr("iot", "delete-certificate", "--certificate-id", cert_id, env=env)
    assert refused.returncode == 254
    assert "An error occurred (CertificateStateException) when calling the DeleteCertificate operation" in refused.stderr
    assert ok(jitr("iot", "describe-certificate", "--certificate-id", cert_id, "--query", "certificateDescription.status", env=env)) == "ACTIVE"


@pytest.mark.parametrize(
    "args,message",
    [
        (["describe-ca-certificate"], "the following arguments are required: --certificate-id"),
        (["describe-certificate", "--certificate-id", "abc"], "Parameter validation failed:\nInvalid length for parameter certificateId, value: 3, valid min length: 64"),
        (["list-certificates", "--page-size", "x"], "argument --page-size: invalid int value: 'x'"),
        (["describe-certifcate", "--certificate-id", ID_0], "Found invalid choice 'describe-certifcate'\n\nMaybe you meant:\n  * describe-certificate"),
        (["register-ca-certificate", "--c", "x"], "ambiguous option: --c could match"),
        (["register-ca-certificate", "--ca-certificate", "file://nope.pem"], "Error parsing parameter '--ca-certificate': Unable to load paramfile file://nope.pem"),
        (["create-policy", "--policy-name", "p", "--policy-document", "{}", "--tags", "Key=a,Key=b"], "Second instance of key \"Key\""),
        (["list-certificates", "--no-paginate", "--max-items", "2"], "Cannot specify --no-paginate along with pagination arguments: --max-items"),
        (["list-certificates", "--query", "[[["], "Bad value for --query [[["),
        (["get-policy", "--cli-input-json", "[1]"], "Error parsing parameter 'cli-input-json': Invalid type: expecting map"),
        (["get-policy", "--cli-input-json", "{nope"], "Error parsing parameter 'cli-input-json': Invalid JSON received."),
    ],
)
def test_usage_and_parameter_errors_exit_252(
    env_store: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: List[str],
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    rc, out, err = run_main(["iot", *args], capsys)
    assert (rc, out) == (252, ""), err
    assert err.startswith("\njitr: [ERROR]: ")
    assert message in err
    # Refused before the store was opened: nothing was written.
    assert not (tmp_path / "fleet.db").exists()


def test_a_parameter_error_exits_252_from_the_process(store: str, tmp_path: Path) -> None:
    env = clean_env(tmp_path, JITR_STORE=store, JITR_ACCOUNT_ID=ACCOUNT, AWS_REGION=REGION)
    result = jitr("iot", "describe-certificate", "--certificate-id", "abc", env=env)
    assert result.returncode == 252
    assert result.stderr == (
        "\njitr: [ERROR]: An error occurred (ParamValidation): Parameter validation failed:\n"
        "Invalid length for parameter certificateId, value: 3, valid min length: 64\n"
    )
    assert not (tmp_path / "fleet.db").exists()


def test_unknown_options_print_the_usage_first(tmp_path: Path) -> None:
    result = jitr("iot", "get-registration-code", "--bogus", "1", env=clean_env(tmp_path))
    assert result.returncode == 252
    assert result.stderr.startswith("\nusage: jitr [options] <command> <subcommand> [parameters]\n")
    assert result.stderr.endswith("\njitr: [ERROR]: Unknown options: --bogus, 1\n")


def unimplemented() -> List[str]:
    """The model's operations that jitr does not implement (AWS names), sorted."""
    model = botocore.session.get_session().get_service_model("iot")
    return sorted(op for op in model.operation_names if xform_name(op) not in jitr_iot.OPERATIONS)


def test_an_operation_jitr_does_not_implement_is_named(tmp_path: Path) -> None:
    missing = [op for op in unimplemented() if op.startswith("Create")][0]
    name = xform_name(missing, "-")
    result = jitr("iot", name, "--whatever", "x", env=clean_env(tmp_path))
    assert result.returncode == 252
    assert f"jitr does not implement the AWS IoT operation {name} ({missing})" in result.stderr
    commands = ", ".join(sorted(op.replace("_", "-") for op in jitr_iot.OPERATIONS))
    assert f"the iot commands jitr implements are: {commands}\n" in result.stderr
    assert jitr("s3", "ls", env=clean_env(tmp_path)).returncode == 252


def test_without_botocore_the_command_says_what_to_install(tmp_path: Path) -> None:
    shadow = tmp_path / "shadow" / "botocore"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('no botocore here')\n")
    env = clean_env(tmp_path, PYTHONPATH=str(shadow.parent))
    result = jitr("iot", "get-registration-code", env=env)
    assert result.returncode == 255
    assert "install botocore (pip install 'jitr-iot[cli]')" in result.stderr


def test_error_formats(store: str, tmp_path: Path) -> None:
    env = clean_env(tmp_path, JITR_STORE=store, JITR_ACCOUNT_ID=ACCOUNT, AWS_REGION=REGION)
    args = ["iot", "get-policy", "--policy-name", "nope"]
    legacy = jitr(*args, "--cli-error-format", "legacy", env=env)
    assert legacy.stderr == "\njitr: [ERROR]: An error occurred (ResourceNotFoundException) when calling the GetPolicy operation: the policy nope does not exist\n"
    as_json = jitr(*args, env={**env, "AWS_CLI_ERROR_FORMAT": "json"})
    assert as_json.returncode == 254
    assert json.loads(as_json.stderr) == {
        "Code": "ResourceNotFoundException",
        "Message": "the policy nope does not exist",
        "message": "the policy nope does not exist",
    }
    usage = jitr("iot", "describe-certificate", "--certificate-id", "x", "--cli-error-format", "json", env=env)
    assert usage.returncode == 252
    assert json.loads(usage.stderr)["Code"] == "ParamValidation"


# ---------------------------------------------------------------------------
# Values: file://, fileb://, --cli-input-json, shorthand, booleans


def test_file_and_fileb_values(store: str, tmp_path: Path) -> None:
    env = clean_env(tmp_path, JITR_STORE=store, JITR_ACCOUNT_ID=ACCOUNT, AWS_REGION=REGION)
    code = ok(jitr("iot", "get-registration-code", env=env))["registrationCode"]
    ca, ca_pem, proof_pem = write_ca(tmp_path, code)
    # fileb:// gives bytes: a string member refuses them, as botocore's validator does.
    refused = jitr("iot", "register-ca-certificate", "--ca-certificate", f"fileb://{ca_pem}", "--verification-certificate", f"file://{proof_pem}", env=env)
    assert refused.returncode == 252
    assert "Invalid type for parameter caCertificate, value: b'-----BEGIN CERTIFICATE-----" in refused.stderr
    assert "valid types: <class 'str'>" in refused.stderr
    # file://~/... is the home directory's file; --cli-input-json takes fileb:// (JSON bytes).
    (tmp_path / "input.json").write_bytes(json.dumps({"verificationCertificate": proof_pem.read_text(), "setAsActive": True}).encode())
    registered = ok(
        jitr(
            "iot", "register-ca-certificate", "--ca-certificate", "file://~/root_CA_cert_filename.pem",
            "--cli-input-json", "fileb://input.json", env=env, cwd=tmp_path,
        )
    )
    assert registered["certificateId"] == ca.certificate_id
    status = jitr("iot", "describe-ca-certificate", "--certificate-id", ca.certificate_id, "--query", "certificateDescription.status", "--output", "text", env=env)
    assert status.stdout == "ACTIVE\n"
    # Text that is not UTF-8 behind file://: the AWS CLI's advice to use fileb://.
    (tmp_path / "binary.der").write_bytes(b"\xff\xfe\x00binary")
    binary = jitr("iot", "get-policy", "--policy-name", "file://binary.der", env=env, cwd=tmp_path)
    assert binary.returncode == 252
    assert "please use the fileb:// prefix instead of the file:// prefix" in binary.stderr


def test_cli_input_json_fills_in_and_the_command_line_wins(store: str, tmp_path: Path) -> None:
    env = clean_env(tmp_path, JITR_STORE=store, JITR_ACCOUNT_ID=ACCOUNT, AWS_REGION=REGION)
    document = {"Version": "2012-10-17", "Statement": []}
    params = {"policyName": "from-json", "policyDocument": json.dumps(document)}
    created = ok(jitr("iot", "create-policy", "--cli-input-json", json.dumps(params), "--policy-name", "from-line", env=env))
    assert created["policyName"] == "from-line"
    (tmp_path / "input.json").write_text(json.dumps(params))
    created = ok(jitr("iot", "create-policy", "--cli-input-json", f"file://{tmp_path / 'input.json'}", env=env))
    assert created["policyName"] == "from-json"
    # The skeleton it reads, from the model, calling nothing.
    skeleton = ok(jitr("iot", "create-policy", "--generate-cli-skeleton", env=clean_env(tmp_path)))
    assert skeleton == {"policyName": "", "policyDocument": "", "tags": [{"Key": "", "Value": ""}]}


def parameters(operation: str, args: List[str], paginate: bool = True) -> Tuple[Dict[str, Any], bool]:
    """The parameters the command builds for an operation, and whether it pages."""
    runner = cli._Cli(sys.stdout, sys.stderr, {})
    runner.globals = argparse_namespace(paginate=paginate)
    op = cli._Botocore().operation(operation)
    parsed = runner._parse(op, args)
    assert parsed is not None
    return runner._parameters(op, parsed)


def argparse_namespace(**kwargs: Any) -> Any:
    import argparse

    return argparse.Namespace(**kwargs)


def test_parameters_from_every_kind_of_value(tmp_path: Path) -> None:
    tags = [{"Key": "team", "Value": "fleet"}, {"Key": "site", "Value": "a,b"}]
    for args in [
        ["--tags", "Key=team,Value=fleet", "Key=site,Value='a,b'"],
        ["--tags", "Key=team,Value=fleet", "Key=site,Value=a\\,b"],
        ["--tags", json.dumps(tags)],
        ["--tags", '{"Key": "team", "Value": "fleet"}', '{"Key": "site", "Value": "a,b"}'],
    ]:
        params, _ = parameters("create-policy", ["--policy-name", "p", "--policy-document", "{}", *args])
        assert params == {"policyName": "p", "policyDocument": "{}", "tags": tags}, args
    (tmp_path / "tags.json").write_text(json.dumps(tags))
    params, _ = parameters("create-policy", ["--policy-name", "p", "--policy-document", "{}", "--tags", f"file://{tmp_path / 'tags.json'}"])
    assert params["tags"] == tags
    # Structures: shorthand or JSON; @= reads a file into one member.
    (tmp_path / "template.json").write_text('{"Resources": {}}')
    config = {"templateBody": '{"Resources": {}}', "roleArn": "arn:aws:iam::123456789012:role/r"}
    for value in [
        f"templateBody@=file://{tmp_path / 'template.json'},roleArn=arn:aws:iam::123456789012:role/r",
        json.dumps(config),
    ]:
        params, _ = parameters("update-ca-certificate", ["--certificate-id", ID_0, "--registration-config", value])
        assert params == {"certificateId": ID_0, "registrationConfig": config}
    # Booleans as flags (the last one wins), integers as numbers, prefixes of names.
    params, _ = parameters("register-ca-certificate", ["--ca-certificate", "x", "--set-as-active", "--no-set-as-active", "--allow-auto"])
    assert params == {"caCertificate": "x", "setAsActive": False, "allowAutoRegistration": True}
    params, paginate = parameters("list-certificates", ["--page-size", "5", "--no-ascending-order"])
    assert (params, paginate) == ({"pageSize": 5, "ascendingOrder": False}, False)


def test_maps_lists_and_structures_reach_the_core(env_store: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Shorthand maps inside structures (create-thing's attributes), lists of strings
    (untag-resource's tag keys) and lists of structures (tags), on the core's newer
    operations, which became commands by themselves."""
    rc, _, err = run_main(["iot", "create-thing", "--thing-name", "t1", "--attribute-payload", "attributes={color=red,size=10}"], capsys)
    assert rc == 0, err
    rc, _, err = run_main(["iot", "update-thing", "--thing-name", "t1", "--attribute-payload", "attributes={size=11},merge=true"], capsys)
    assert rc == 0, err
    rc, out, _ = run_main(["iot", "describe-thing", "--thing-name", "t1"], capsys)
    with jitr_iot.Registry(account_id=ACCOUNT, region=REGION, store=env_store) as registry:
        described = registry.describe_thing(thingName="t1")
        assert described["attributes"] == {"color": "red", "size": "11"}
        assert json.loads(out) == printed(described, zone=datetime.now().astimezone().tzinfo)
        document = '{"Version": "2012-10-17", "Statement": []}'
        arn = registry.create_policy(policyName="p", policyDocument=document)["policyArn"]
    rc, _, err = run_main(["iot", "tag-resource", "--resource-arn", arn, "--tags", "Key=team,Value=fleet", "Key=site,Value=a"], capsys)
    assert rc == 0, err
    rc, _, err = run_main(["iot", "untag-resource", "--resource-arn", arn, "--tag-keys", "site", "absent"], capsys)
    assert rc == 0, err
    rc, out, _ = run_main(["iot", "list-tags-for-resource", "--resource-arn", arn], capsys)
    assert json.loads(out) == {"tags": [{"Key": "team", "Value": "fleet"}]}


def test_paging_as_the_aws_cli_decides_it() -> None:
    assert parameters("list-certificates", []) == ({}, True)
    assert parameters("list-certificates", ["--max-items", "3", "--starting-token", "t"]) == (
        {"PaginationConfig": {"MaxItems": 3, "StartingToken": "t"}}, True,
    )
    # The operation's own paging parameters page by hand: one call.
    assert parameters("list-certificates", ["--marker", "m"]) == ({"marker": "m"}, False)
    assert parameters("list-certificates", ["--cli-input-json", '{"pageSize": 2}']) == ({"pageSize": 2}, False)
    assert parameters("list-certificates", [], paginate=False) == ({}, False)
    assert parameters("describe-certificate", ["--certificate-id", ID_0]) == ({"certificateId": ID_0}, False)


@pytest.mark.parametrize(
    "text,expected",
    [
        ("a=b", {"a": "b"}),
        ("a=b,c=d", {"a": "b", "c": "d"}),
        ("a=b,c,d=e", {"a": ["b", "c"], "d": "e"}),
        ("a = b , c = d", {"a": "b", "c": "d"}),
        ("a=[b,c],d={e=f,g=[h]}", {"a": ["b", "c"], "d": {"e": "f", "g": ["h"]}}),
        ("a='x,y=z',b=\"q\\\"r\"", {"a": "x,y=z", "b": 'q"r'}),
        ("a=x\\,y", {"a": "x,y"}),
        ("a=,b=c", {"a": "", "b": "c"}),
        ("a=", {"a": ""}),
        ("a=hello world,b=c", {"a": "hello world", "b": "c"}),
        ("a.b/c:d#e=1", {"a.b/c:d#e": "1"}),
    ],
)
def test_shorthand_syntax(text: str, expected: Dict[str, Any]) -> None:
    assert cli.parse_shorthand(text) == expected


@pytest.mark.parametrize(
    "text,message",
    [
        ("a", "Expected: '=', received: 'EOF' for input:\na\n ^"),
        ("a=b,a=c", 'Second instance of key "a"'),
        ("a=[b,c", "Expected: ']', received: 'EOF'"),
        ("a={b=c", "Expected: '}', received: 'EOF'"),
        ("a='b", "a closing '"),
    ],
)
def test_shorthand_errors_point_at_the_place(text: str, message: str) -> None:
    with pytest.raises(cli.ShorthandError) as e:
        cli.parse_shorthand(text)
    assert message in str(e.value)


# ---------------------------------------------------------------------------
# Output and paging end to end (in process: jitr_iot.cli.main)


def registry_with_devices(store: str, n: int) -> List[str]:
    """n device certificates registered ACTIVE on the store; their IDs, newest first."""
    with jitr_iot.Registry(account_id=ACCOUNT, region=REGION, store=store) as registry:
        ca = jitr_iot.generate_ca("Fleet CA")
        ids = []
        for i in range(n):
            device = jitr_iot.issue_certificate(ca, f"device-{i}")
            ids.append(registry.register_certificate_without_ca(certificatePem=device.certificate_pem, status="ACTIVE")["certificateId"])
        listed = [c["certificateId"] for c in registry.list_certificates()["certificates"]]
    assert sorted(listed) == sorted(ids)
    return listed


def test_paginated_commands_fetch_every_page(env_store: str, capsys: pytest.CaptureFixture[str]) -> None:
    ids = registry_with_devices(env_store, 5)
    rc, out, err = run_main(["iot", "list-certificates", "--query", "certificates[].certificateId"], capsys)
    assert (rc, err) == (0, "")
    assert json.loads(out) == ids
    # --max-items 2, then on from the NextToken: every certificate once, in order.
    seen: List[str] = []
    token: Optional[str] = None
    while True:
        args = ["iot", "list-certificates", "--max-items", "2"] + (["--starting-token", token] if token else [])
        rc, out, err = run_main(args, capsys)
        assert rc == 0, err
        page = json.loads(out)
        assert set(page) <= {"certificates", "NextToken"}
        seen += [c["certificateId"] for c in page["certificates"]]
        token = page.get("NextToken")
        if token is None:
            break
    assert seen == ids
    # The operation's own --page-size: one call, and the service's marker.
    rc, out, _ = run_main(["iot", "list-certificates", "--page-size", "2"], capsys)
    page = json.loads(out)
    assert [c["certificateId"] for c in page["certificates"]] == ids[:2] and "nextMarker" in page
    rc, out, _ = run_main(["iot", "list-certificates", "--page-size", "2", "--marker", page["nextMarker"]], capsys)
    assert [c["certificateId"] for c in json.loads(out)["certificates"]] == ids[2:4]


def test_text_and_off_output(env_store: str, capsys: pytest.CaptureFixture[str]) -> None:
    ids = registry_with_devices(env_store, 3)
    with jitr_iot.Registry(account_id=ACCOUNT, region=REGION, store=env_store) as registry:
        certificates = registry.list_certificates()["certificates"]
    rc, out, _ = run_main(["iot", "list-certificates", "--output", "text"], capsys)
    assert rc == 0
    # The AWS CLI's text: a line per item, its scalar members sorted by name, tab-separated.
    local = [c["creationDate"].astimezone().isoformat() for c in certificates]
    assert out == "".join(
        f"CERTIFICATES\t{c['certificateArn']}\t{c['certificateId']}\t{c['certificateMode']}\t{when}\t{c['status']}\n"
        for c, when in zip(certificates, local)
    )
    rc, out, _ = run_main(["iot", "list-certificates", "--output", "text", "--max-items", "2"], capsys)
    lines = out.splitlines()
    assert len(lines) == 3 and lines[2].startswith("NEXTTOKEN\t")
    rc, out, _ = run_main(["iot", "list-certificates", "--output", "text", "--query", "certificates[].certificateId"], capsys)
    assert out == "\t".join(ids) + "\n"
    rc, out, err = run_main(["iot", "get-registration-code", "--output", "off"], capsys)
    assert (rc, out, err) == (0, "", "")


def test_help_lists_exactly_the_implemented_operations(capsys: pytest.CaptureFixture[str]) -> None:
    model = botocore.session.get_session().get_service_model("iot")
    names = {xform_name(op): xform_name(op, "-") for op in model.operation_names}
    # Every operation of the core is an operation of the model: none is lost.
    assert set(jitr_iot.OPERATIONS) <= set(names)
    expected = sorted(names[op] for op in jitr_iot.OPERATIONS)
    rc, out, _ = run_main(["iot", "help"], capsys)
    assert rc == 0
    listed = [line.strip()[2:] for line in out.splitlines() if line.strip().startswith("o ")]
    assert listed == expected
    rc, out, _ = run_main(["iot", "register-ca-certificate", "help"], capsys)
    assert rc == 0
    for option in ["--ca-certificate <value>", "[--verification-certificate <value>]", "[--allow-auto-registration | --no-allow-auto-registration]", "[--cli-input-json <value>]"]:
        assert option in out
    rc, out, _ = run_main(["iot", "list-certificates", "help"], capsys)
    assert "[--starting-token <value>]" in out and "[--max-items <value>]" in out


def test_operations_the_core_adds_appear_by_themselves(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The commands are jitr_iot.OPERATIONS ∩ the model: an operation added to the core
    (here, pretended) becomes a command with the model's options."""
    model = botocore.session.get_session().get_service_model("iot")
    missing = next(op for op in unimplemented() if model.operation_model(op).input_shape is not None)
    name = xform_name(missing, "-")
    monkeypatch.setattr(jitr_iot, "OPERATIONS", tuple(jitr_iot.OPERATIONS) + (xform_name(missing),))
    boto = cli._Botocore()
    assert name in boto.implemented
    members = model.operation_model(missing).input_shape.members
    assert {xform_name(m, "-") for m in members} <= set(boto.operation(name).arguments)
    rc, out, _ = run_main(["iot", name, "--generate-cli-skeleton"], capsys)
    assert rc == 0 and set(json.loads(out)) == set(members)


def test_main_returns_the_code_and_reads_the_environment(env_store: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run_main(["iot", "get-registration-code"], capsys)
    assert rc == 0
    monkeypatch.delenv("JITR_STORE")
    rc, out, err = run_main(["iot", "get-registration-code"], capsys)
    assert (rc, out) == (253, "") and "You must specify a store" in err
    rc, out, _ = run_main(["--version"], capsys)
    assert rc == 0 and out.startswith(f"jitr/{jitr_iot.__version__} Python/")

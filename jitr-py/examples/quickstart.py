"""The whole JITR story with jitr, offline: register a CA, a device connects, a handler
activates its certificate, the device connects again."""

from datetime import datetime, timezone

import jitr_iot

registry = jitr_iot.Registry(account_id="123456789012", region="us-east-1")

# The fleet owner's CA, and the verification certificate proving possession of its key.
ca = jitr_iot.generate_ca("Fleet CA")
code = registry.get_registration_code()["registrationCode"]
proof = jitr_iot.generate_verification_certificate(ca, code)
ca_id = registry.register_ca_certificate(
    caCertificate=ca.certificate_pem,
    verificationCertificate=proof.certificate_pem,
    setAsActive=True,
    allowAutoRegistration=True,
)["certificateId"]

# A device connects for the first time: registered PENDING_ACTIVATION, event published.
device = jitr_iot.issue_certificate(ca, "device-1")
chain = [device.certificate_pem, ca.certificate_pem]
decision = registry.connect(chain, server_name="a1b2c3-ats.iot.us-east-1.amazonaws.com")
assert not decision.allowed and decision.reason == "REGISTERED_PENDING_ACTIVATION"
assert decision.topic == f"$aws/events/certificates/registered/{ca_id}"
event = decision.event
assert event is not None and event["certificateStatus"] == "PENDING_ACTIVATION"
print(decision.message)

# The activation handler (what AWS leaves to your Lambda), with boto3's method names.
cert_id = event["certificateId"]
arn = registry.describe_certificate(certificateId=cert_id)["certificateDescription"]["certificateArn"]
registry.create_policy(
    policyName=f"Policy_{cert_id}",
    policyDocument='{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
    '"Action": "iot:Connect", "Resource": "*"}]}',
)
registry.attach_policy(policyName=f"Policy_{cert_id}", target=arn)
registry.update_certificate(certificateId=cert_id, newStatus="ACTIVE")

# From now on the device connects.
assert registry.connect(chain, server_name="a1b2c3-ats.iot.us-east-1.amazonaws.com").allowed

# boto3's shapes: datetimes are timezone-aware UTC; errors carry botocore's response.
description = registry.describe_certificate(certificateId=cert_id)["certificateDescription"]
assert description["status"] == "ACTIVE" and description["customerVersion"] == 2
assert description["creationDate"] <= datetime.now(timezone.utc)
try:
    registry.delete_certificate(certificateId=cert_id)
except registry.exceptions.CertificateStateException as e:
    assert e.response["Error"]["Code"] == "CertificateStateException"
    assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 406
    print("refused:", e.message)

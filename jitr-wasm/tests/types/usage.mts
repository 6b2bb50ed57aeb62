// A typed usage example, checked by `tsc --noEmit -p jitr-wasm/tests/types`. The
// `@ts-expect-error` lines prove the types are precise: tsc fails if any of them type-checks.
import init, {
  inspectCertificate,
  certificateId,
  checkVerificationCertificate,
  preflight,
  authorize,
  previewProvisioning,
  registrationEvent,
  parseRegistrationEvent,
  registrationTopic,
  limits,
  codes,
  issuedBy,
  isJitrError,
  JitrError,
  Registry,
  type CertificateInfo,
  type Decision,
  type Extension,
  type Finding,
  type PreflightInput,
  type RefusalCode,
  type Authorization,
  type AuthDecision,
  type ProvisioningPreview,
  type StatementRef,
} from "../../pkg/jitr_wasm.js";

declare const caPem: string;
declare const devicePem: string;
declare const deviceDer: Uint8Array;
declare const verificationPem: string;
declare const registrationCode: string;

export async function diagnose(): Promise<string> {
  await init();
  const { maxPemLength } = limits();
  if (devicePem.length > maxPemLength) return "too long";

  const infos: CertificateInfo[] = inspectCertificate(devicePem, { now: new Date(), role: "device" });
  const first = infos[0];
  if (first === undefined) return "none";
  const errors: Finding[] = first.findings.filter((f) => f.severity === "error");
  const notAfter: Date = new Date(first.notAfter);
  const eku: string[] | null = first.extendedKeyUsage;

  const id: string = certificateId(deviceDer);
  try {
    checkVerificationCertificate(caPem, verificationPem, registrationCode);
  } catch (e) {
    if (isJitrError(e) && e.code === "RegistrationCodeValidationException") return e.message;
    if (e instanceof JitrError && e.name === "InvalidRequestException") return e.code;
  }
  const critical: Extension[] = first.extensions.filter((x) => x.critical);
  const named: string = critical[0]?.name ?? critical[0]?.oid ?? "";
  const signed: boolean = issuedBy(devicePem, caPem);
  const refusals: RefusalCode[] = codes().refusal;

  const input: PreflightInput = {
    chain: [devicePem, caPem],
    registeredCas: [{ pem: caPem, status: "ACTIVE", autoRegistrationStatus: "ENABLE", certificateMode: "DEFAULT" }],
    registeredCertificates: [{ certificateId: id, status: "PENDING_ACTIVATION" }],
    serverName: null,
    now: Date.now(),
  };
  const d: Decision = preflight(input);
  const payload: string | null = d.event;
  const reason: RefusalCode | null = d.reason;
  if (reason === "REGISTERED_PENDING_ACTIVATION" && payload !== null && d.topic !== null) {
    const event = parseRegistrationEvent(payload);
    const again: string = registrationEvent({
      certificateId: event.certificateId,
      caCertificateId: event.caCertificateId,
      awsAccountId: event.awsAccountId,
      timestamp: event.timestamp,
      certificateRegistrationTimestamp: Number(event.certificateRegistrationTimestamp),
    });
    return `${registrationTopic(event.caCertificateId)} ${again}`;
  }

  const auth: Authorization = authorize({
    policies: [{ policyName: "p", policyDocument: { Version: "2012-10-17", Statement: [] } }],
    context: { region: "us-east-1", account: "123456789012", now: new Date(), clientId: "c1" },
    authInfos: [{ actionType: "PUBLISH", resources: ["arn:aws:iot:us-east-1:123456789012:topic/a"] }],
  });
  const decision: AuthDecision | undefined = auth.authResults[0]?.authDecision;
  const deciding: StatementRef[] = auth.authResults[0]?.decidingStatements ?? [];
  const plan: ProvisioningPreview = previewProvisioning({ templateBody: "{}", certificatePem: devicePem });
  const thingName: string | undefined = plan.provisioned ? plan.thing?.thingName : plan.failure.parameter ?? undefined;
  preflight({
    chain: devicePem,
    registeredCas: [{ pem: caPem, status: "ACTIVE", autoRegistrationStatus: "ENABLE", certificateMode: "DEFAULT", registrationConfig: { templateBody: "{}" } }],
  });
  if (decision === "EXPLICIT_DENY") return `${deciding[0]?.sid} ${thingName}`;

  using reg = new Registry({ account: "123456789012", region: "eu-west-1" });
  const code: unknown = reg.call("get_registration_code");
  reg.call("list_certificates", { pageSize: 10 }, new Date());

  // @ts-expect-error a status is one of AWS's spellings
  preflight({ chain: devicePem, registeredCas: [{ pem: caPem, status: "active", autoRegistrationStatus: "ENABLE", certificateMode: "DEFAULT" }] });
  // @ts-expect-error registeredCas is required
  preflight({ chain: devicePem });
  // @ts-expect-error a role is "any", "device" or "ca"
  inspectCertificate(devicePem, { role: "leaf" });
  // @ts-expect-error input is PEM text or bytes
  certificateId(42);
  // @ts-expect-error an unknown operation
  reg.call("create_job", {});
  // @ts-expect-error findings are typed
  const wrong: number = first.findings[0]?.severity;
  // @ts-expect-error refusal codes are the core's
  const notACode: RefusalCode = "UNKNOWN_CA";
  // @ts-expect-error a finding code is one of the core's
  const notAFinding: Finding["code"] = "EXPIRED_SOON";
  // @ts-expect-error an error code is an AWS exception name
  new JitrError("TypeError", "x");
  // @ts-expect-error a decision is one of TestAuthorization's
  const notADecisionName: AuthDecision = "DENIED";
  // @ts-expect-error authInfos is required
  authorize({ policies: [], context: { region: "us-east-1", account: "123456789012", now: 0 } });
  // @ts-expect-error a failure exists only when nothing is provisioned
  const noFailure = previewProvisioning({ templateBody: "{}" }).failure;
  // @ts-expect-error templateBody is text
  previewProvisioning({ templateBody: { Resources: {} } });
  // @ts-expect-error connect returns a Decision
  const notADecision: string = reg.call("connect", { chain: [devicePem] });

  return `${errors.length} ${notAfter.toISOString()} ${eku?.join(",")} ${String(code)} ${String(wrong)} ${named} ${signed} ${refusals.length} ${notACode} ${notAFinding} ${notADecision} ${notADecisionName} ${String(noFailure)}`;
}

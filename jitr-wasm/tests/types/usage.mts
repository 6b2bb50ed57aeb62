// A typed usage example, checked by `tsc --noEmit -p jitr-wasm/tests/types`. The
// `@ts-expect-error` lines prove the types are precise: tsc fails if any of them type-checks.
import init, {
  inspectCertificate,
  certificateId,
  checkVerificationCertificate,
  preflight,
  registrationEvent,
  parseRegistrationEvent,
  registrationTopic,
  limits,
  Registry,
  type CertificateInfo,
  type Decision,
  type Finding,
  type JitrError,
  type PreflightInput,
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
    const err = e as JitrError;
    if (err.name === "RegistrationCodeValidationException") return err.message;
  }

  const input: PreflightInput = {
    chain: [devicePem, caPem],
    registeredCas: [{ pem: caPem, status: "ACTIVE", autoRegistrationStatus: "ENABLE", certificateMode: "DEFAULT" }],
    registeredCertificates: [{ certificateId: id, status: "PENDING_ACTIVATION" }],
    serverName: null,
    now: Date.now(),
  };
  const d: Decision = preflight(input);
  const payload: string | null = d.event;
  if (d.reason === "REGISTERED_PENDING_ACTIVATION" && payload !== null && d.topic !== null) {
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
  reg.call("describe_thing", {});
  // @ts-expect-error findings are typed
  const wrong: number = first.findings[0]?.severity;

  return `${errors.length} ${notAfter.toISOString()} ${eku?.join(",")} ${String(code)} ${String(wrong)}`;
}

// The Node build has the same API without init().
import * as nodeBuild from "../../pkg-node/jitr_wasm.js";
export const nodeId: string = nodeBuild.certificateId(new Uint8Array([0x30]));

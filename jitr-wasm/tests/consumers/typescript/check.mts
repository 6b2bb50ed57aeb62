// TypeScript, ES module under Node's resolution: `import` finds jitr_wasm.d.ts through
// the "node" + "import" condition.
import init, { inspectCertificate, isJitrError, type CertificateInfo, type RefusalCode } from "jitr-wasm";

await init();
const infos: CertificateInfo[] = inspectCertificate("-----BEGIN CERTIFICATE-----", { role: "device" });
const reason: RefusalCode = "UNKNOWN_ISSUER";
try {
  inspectCertificate(new Uint8Array(1));
} catch (e) {
  if (isJitrError(e)) {
    const code: "InvalidRequestException" | "CertificateValidationException" | string = e.code;
    console.log(code, reason, infos.length);
  }
}
// @ts-expect-error a role is "any", "device" or "ca"
inspectCertificate("", { role: "leaf" });

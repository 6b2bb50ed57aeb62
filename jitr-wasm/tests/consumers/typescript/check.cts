// TypeScript, CommonJS under Node's resolution: `require` finds node.d.cts through the
// "node" + "require" condition.
import jitr = require("jitr-wasm");

const id: string = jitr.certificateId("-----BEGIN CERTIFICATE-----");
const decision: jitr.Decision = jitr.preflight({ chain: id, registeredCas: [] });
const ready: Promise<void> = jitr.default();
// @ts-expect-error statuses are AWS's spellings
jitr.preflight({ chain: id, registeredCas: [{ pem: id, status: "active", autoRegistrationStatus: "ENABLE", certificateMode: "DEFAULT" }] });
export = { decision, ready };

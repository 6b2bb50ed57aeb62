// The JS API as JavaScript sees it, on both builds: the Node package (pkg-node, CommonJS)
// and the browser package (pkg, ES module, initialised here from bytes). Errors are real
// `Error`s named after AWS exceptions; no input, however broken, reaches a panic; and
// oversized input is refused quickly.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import * as web from "../pkg/jitr_wasm.js";

const require = createRequire(import.meta.url);
const node = require("../pkg-node/jitr_wasm.js");
web.initSync({ module: readFileSync(fileURLToPath(new URL("../pkg/jitr_wasm_bg.wasm", import.meta.url))) });

const story = JSON.parse(readFileSync(fileURLToPath(new URL("../../tests/vectors/jitr-story.json", import.meta.url)), "utf8"));
const CA = story.certificates["ca-ed25519"];
const DEVICE = story.certificates["device-story"];
const VERIFICATION = story.certificates["verification-ed25519"];
const NOW = Date.UTC(2026, 5, 1);
const ERROR_NAMES = new Set([
  "ResourceNotFoundException", "ResourceAlreadyExistsException", "RegistrationCodeValidationException",
  "InvalidRequestException", "CertificateValidationException", "CertificateStateException",
  "CertificateConflictException", "LimitExceededException", "DeleteConflictException", "MalformedPolicyException",
]);

const der = (pem) => Buffer.from(pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, ""), "base64");
const registered = (pem, over = {}) => ({
  pem, status: "ACTIVE", autoRegistrationStatus: "ENABLE", certificateMode: "DEFAULT", ...over,
});

/** Calls f; returns the thrown error, which must be a named JitrError, or undefined. */
function outcome(f) {
  try {
    f();
    return undefined;
  } catch (e) {
    assert.ok(e instanceof Error, `threw a non-Error: ${e}`);
    assert.ok(ERROR_NAMES.has(e.name), `threw ${e.name}: ${e.message} (a panic is a RuntimeError)`);
    assert.ok(e.message.length > 0);
    return e;
  }
}

for (const [label, jitr] of [["node build", node], ["web build", web]]) {
  describe(label, () => {
    test("inspectCertificate and certificateId agree with the vectors", () => {
      const [dev, ca] = jitr.inspectCertificate(DEVICE.pem + CA.pem, { now: NOW });
      assert.equal(dev.id, DEVICE.certificateId);
      assert.equal(ca.id, CA.certificateId);
      assert.equal(dev.issuer, ca.subject);
      assert.equal(ca.isCa, true);
      assert.deepEqual(dev.findings, []);
      assert.equal(jitr.certificateId(der(DEVICE.pem)), DEVICE.certificateId);
      assert.equal(jitr.certificateId(new Uint8Array(der(CA.pem)).buffer), CA.certificateId);
      // The PEM it returns is the same certificate.
      assert.equal(jitr.certificateId(dev.pem), DEVICE.certificateId);
    });

    test("preflight: the whole verdict, with the exact event", () => {
      const d = jitr.preflight({ chain: [DEVICE.pem, CA.pem], registeredCas: [registered(CA.pem)], now: NOW });
      assert.equal(d.allowed, false);
      assert.equal(d.reason, "REGISTERED_PENDING_ACTIVATION");
      assert.equal(d.topic, `$aws/events/certificates/registered/${CA.certificateId}`);
      const event = jitr.parseRegistrationEvent(d.event);
      assert.equal(event.certificateId, DEVICE.certificateId);
      assert.equal(event.timestamp, NOW);
      assert.equal(d.event, jitr.registrationEvent({
        certificateId: DEVICE.certificateId, caCertificateId: CA.certificateId, awsAccountId: "123456789012", timestamp: NOW,
      }));
      const off = jitr.preflight({
        chain: [DEVICE.pem, CA.pem], registeredCas: [registered(CA.pem, { autoRegistrationStatus: "DISABLE" })], now: NOW,
      });
      assert.equal(off.reason, "AUTO_REGISTRATION_DISABLED");
      assert.match(off.message, /auto-registration DISABLE/);
      const sni = jitr.preflight({
        chain: DEVICE.pem, registeredCas: [registered(CA.pem, { certificateMode: "SNI_ONLY" })], now: NOW, serverName: "x-ats.iot.us-east-1.amazonaws.com",
      });
      assert.equal(sni.reason, "REGISTERED_PENDING_ACTIVATION");
      const pending = jitr.preflight({
        chain: [DEVICE.pem, CA.pem], registeredCas: [registered(CA.pem)], now: NOW,
        registeredCertificates: [{ certificateId: DEVICE.certificateId, status: "PENDING_ACTIVATION" }],
      });
      assert.equal(pending.reason, "PENDING_ACTIVATION");
      assert.ok(pending.event, "the event is published again");
    });

    test("checkVerificationCertificate returns or throws the AWS exception", () => {
      assert.equal(jitr.checkVerificationCertificate(CA.pem, VERIFICATION.pem, story.registrationCode, { now: NOW }), undefined);
      const e = outcome(() => jitr.checkVerificationCertificate(CA.pem, VERIFICATION.pem, "0".repeat(64), { now: NOW }));
      assert.equal(e?.name, "RegistrationCodeValidationException");
    });

    test("errors are Errors named after the AWS exception, with a stack", () => {
      const e = outcome(() => jitr.inspectCertificate("-----BEGIN RSA PRIVATE KEY-----\nc2VjcmV0\n-----END RSA PRIVATE KEY-----\n"));
      assert.equal(e.name, "CertificateValidationException");
      assert.match(e.message, /private key/);
      assert.doesNotMatch(e.message, /c2VjcmV0/);
      assert.match(String(e), /^CertificateValidationException: /);
      assert.ok(e.stack);
      const reg = new jitr.Registry({ account: "123456789012", registrationCode: story.registrationCode });
      const args = { caCertificate: CA.pem, verificationCertificate: VERIFICATION.pem, setAsActive: true };
      reg.call("register_ca_certificate", args, NOW);
      const dup = outcome(() => reg.call("register_ca_certificate", args, NOW));
      assert.equal(dup.name, "ResourceAlreadyExistsException");
      assert.equal(dup.resourceId, CA.certificateId);
      assert.equal(dup.resourceArn, `arn:aws:iot:us-east-1:123456789012:cacert/${CA.certificateId}`);
      reg.free();
    });

    test("registration codes come from the platform's randomness", () => {
      const codes = new Set();
      for (let i = 0; i < 8; i++) {
        const reg = new jitr.Registry({ account: "123456789012" });
        const { registrationCode } = reg.call("get_registration_code");
        assert.match(registrationCode, /^[0-9a-f]{64}$/);
        codes.add(registrationCode);
        reg.free();
      }
      assert.equal(codes.size, 8);
    });

    test("no input reaches a panic: truncations, bit flips, garbage", () => {
      const pem = DEVICE.pem;
      const bytes = der(DEVICE.pem);
      let rng = 0x2545f491;
      const rand = (n) => {
        rng ^= rng << 13; rng ^= rng >>> 17; rng ^= rng << 5;
        return (rng >>> 0) % n;
      };
      const inputs = [];
      for (let i = 0; i < pem.length; i += 11) inputs.push(pem.slice(0, i), pem.slice(i));
      for (let i = 0; i < bytes.length; i += 3) inputs.push(bytes.subarray(0, i));
      for (let i = 0; i < 400; i++) {
        const b = Uint8Array.from(bytes);
        for (let k = 0; k <= rand(4); k++) b[rand(b.length)] ^= 1 << rand(8);
        inputs.push(b);
      }
      for (let i = 0; i < 100; i++) inputs.push(Uint8Array.from({ length: rand(300) }, () => rand(256)));
      inputs.push(new Uint8Array([0x30, 0x84, 0xff, 0xff, 0xff, 0xff]), "\u0000", "-----BEGIN CERTIFICATE-----", "\uD800");
      let refused = 0;
      for (const input of inputs) {
        if (outcome(() => jitr.inspectCertificate(input, { now: NOW }))) refused++;
        outcome(() => jitr.preflight({ chain: [input, CA.pem], registeredCas: [registered(CA.pem)], now: NOW }));
      }
      assert.ok(refused > inputs.length / 2, `only ${refused} of ${inputs.length} refused`);
      // And the module still works afterwards (a trap would have broken it).
      assert.equal(jitr.certificateId(DEVICE.pem), DEVICE.certificateId);
    });

    test("oversized input is refused fast, saying what is wrong", () => {
      const { maxPemLength, maxChainLength } = jitr.limits();
      const cases = [
        ["x".repeat(10 * 1024 * 1024), /10485760 characters; at most 1048576/],
        [new Uint8Array(10 * 1024 * 1024), /10485760 bytes; at most 1048576/],
        [CA.pem.repeat(1000), /1000 certificates; at most 16/],
      ];
      for (const [input, message] of cases) {
        const t0 = performance.now();
        const e = outcome(() => jitr.inspectCertificate(input));
        const ms = performance.now() - t0;
        assert.equal(e?.name, "CertificateValidationException");
        assert.match(e.message, message);
        assert.ok(ms < 1000, `took ${ms} ms`);
      }
      assert.equal(maxPemLength, 1048576);
      assert.equal(maxChainLength, 16);
      const d = jitr.preflight({ chain: CA.pem.repeat(1000), registeredCas: [registered(CA.pem)], now: NOW });
      assert.equal(d.reason, "CHAIN_TOO_LONG");
    });
  });
}

test("the packages describe themselves", () => {
  for (const dir of ["pkg", "pkg-node"]) {
    const pkg = JSON.parse(readFileSync(fileURLToPath(new URL(`../${dir}/package.json`, import.meta.url)), "utf8"));
    assert.equal(pkg.version, node.version());
    for (const f of pkg.files) readFileSync(fileURLToPath(new URL(`../${dir}/${f}`, import.meta.url)));
    assert.equal(pkg.types, "jitr_wasm.d.ts");
  }
});

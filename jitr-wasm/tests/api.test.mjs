// The JS API as JavaScript sees it, through the package's entry points: Node's ES module
// (node.mjs) and CommonJS (node.cjs) builds, and the browser build (jitr_wasm.js) run in
// Node. Errors are JitrErrors named after AWS exceptions; no input, however broken,
// reaches a panic; oversized input is refused quickly; the TypeScript unions are the
// core's lists.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import * as esm from "../pkg/node.mjs";

const require = createRequire(import.meta.url);
const cjs = require("../pkg/node.cjs");
const here = (p) => fileURLToPath(new URL(p, import.meta.url));

const story = JSON.parse(readFileSync(here("../../tests/vectors/jitr-story.json"), "utf8"));
const CA = story.certificates["ca-ed25519"];
const DEVICE = story.certificates["device-story"];
const VERIFICATION = story.certificates["verification-ed25519"];
const NOW = Date.UTC(2026, 5, 1);
const ERROR_CODES = new Set(esm.codes().error);

const der = (pem) => Buffer.from(pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, ""), "base64");
const registered = (pem, over = {}) => ({
  pem, status: "ACTIVE", autoRegistrationStatus: "ENABLE", certificateMode: "DEFAULT", ...over,
});

/** A certs-only PKCS#7 SignedData (DER) holding `certs`, as `openssl crl2pkcs7` writes it. */
export function p7b(certs) {
  const tlv = (tag, content) => {
    const n = content.length;
    const len = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
    return Buffer.concat([Buffer.from([tag, ...len]), content]);
  };
  const oid = (...b) => tlv(0x06, Buffer.from(b));
  const signedData = tlv(0x30, Buffer.concat([
    tlv(0x02, Buffer.from([1])), tlv(0x31, Buffer.alloc(0)),
    tlv(0x30, oid(0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01)),
    tlv(0xa0, Buffer.concat(certs)), tlv(0x31, Buffer.alloc(0)),
  ]));
  return tlv(0x30, Buffer.concat([oid(0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02), tlv(0xa0, signedData)]));
}

/** Calls f; returns the thrown error, which must be a JitrError with a known code, or undefined. */
function outcome(jitr, f) {
  try {
    f();
    return undefined;
  } catch (e) {
    assert.ok(jitr.isJitrError(e), `threw a non-JitrError: ${e?.name}: ${e?.message} (a panic is a RuntimeError)`);
    assert.ok(e instanceof jitr.JitrError && e instanceof Error);
    assert.ok(ERROR_CODES.has(e.code), e.code);
    assert.equal(e.name, e.code);
    assert.ok(e.message.length > 0);
    return e;
  }
}

for (const [label, jitr] of [["ES module (node.mjs)", esm], ["CommonJS (node.cjs)", cjs]]) {
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
      assert.equal(jitr.certificateId(new DataView(new Uint8Array(der(CA.pem)).buffer)), CA.certificateId);
      // The PEM it returns is the same certificate.
      assert.equal(jitr.certificateId(dev.pem), DEVICE.certificateId);
      // Times are epoch milliseconds; a Date is as good as a number.
      assert.equal(typeof dev.notBefore, "number");
      assert.deepEqual(jitr.inspectCertificate(DEVICE.pem, { now: new Date(NOW) }), [dev]);
      // Every extension, with its critical flag and OpenSSL's rendering.
      const bc = ca.extensions.find((e) => e.oid === "2.5.29.19");
      assert.deepEqual(bc, { oid: "2.5.29.19", name: "X509v3 Basic Constraints", critical: true, value: ["CA:TRUE"] });
      assert.ok(dev.extensions.some((e) => e.name === "X509v3 Extended Key Usage" && e.value[0] === "TLS Web Client Authentication"));
    });

    test("PKCS#7 bundles, DER or PEM, and CA bundles of more than 16 certificates", () => {
      const bundle = p7b([der(DEVICE.pem), der(CA.pem)]);
      const ids = (infos) => infos.map((i) => i.id);
      assert.deepEqual(ids(jitr.inspectCertificate(bundle)), [DEVICE.certificateId, CA.certificateId]);
      const pem = `-----BEGIN PKCS7-----\n${bundle.toString("base64").replace(/.{64}/g, "$&\n")}\n-----END PKCS7-----\n`;
      assert.deepEqual(ids(jitr.inspectCertificate(pem)), [DEVICE.certificateId, CA.certificateId]);
      const many = CA.pem.repeat(40);
      assert.equal(jitr.inspectCertificate(many, { role: "ca" }).length, 40);
      assert.equal(jitr.inspectCertificate(p7b(Array(40).fill(der(CA.pem))), { role: "ca" }).length, 40);
      const e = outcome(jitr, () => jitr.inspectCertificate(many));
      assert.match(e.message, /holds 40 certificates; at most 16/);
      // A chain given as a .p7b decides as its PEM would.
      const d = jitr.preflight({ chain: bundle, registeredCas: [registered(CA.pem)], now: NOW });
      assert.equal(d.reason, "REGISTERED_PENDING_ACTIVATION");
    });

    test("issuedBy is the core's rule: names as DER and the signature", () => {
      assert.equal(jitr.issuedBy(DEVICE.pem, CA.pem), true);
      assert.equal(jitr.issuedBy(der(DEVICE.pem), der(CA.pem)), true);
      assert.equal(jitr.issuedBy(CA.pem, DEVICE.pem), false);
      // Same issuer name, another key: not the issuer.
      const legacy = readFileSync(here("fixtures/legacy-v1-rsa1024-sha1.pem"), "utf8");
      assert.equal(jitr.issuedBy(DEVICE.pem, legacy), false);
      assert.equal(jitr.issuedBy(DEVICE.pem, VERIFICATION.pem), false);
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
        certificateId: DEVICE.certificateId, caCertificateId: CA.certificateId, awsAccountId: "123456789012", timestamp: new Date(NOW),
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
      // Dates in messages: RFC 3339, the format the page shows too.
      const later = jitr.preflight({ chain: [DEVICE.pem, CA.pem], registeredCas: [registered(CA.pem)], now: Date.UTC(2040, 0, 1) });
      assert.match(later.message, /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/);
    });

    test("checkVerificationCertificate returns or throws the AWS exception", () => {
      assert.equal(jitr.checkVerificationCertificate(CA.pem, VERIFICATION.pem, story.registrationCode, { now: NOW }), undefined);
      const e = outcome(jitr, () => jitr.checkVerificationCertificate(CA.pem, VERIFICATION.pem, "0".repeat(64), { now: NOW }));
      assert.equal(e?.code, "RegistrationCodeValidationException");
    });

    test("errors are JitrErrors named after the AWS exception, with a stack", () => {
      const e = outcome(jitr, () => jitr.inspectCertificate("-----BEGIN RSA PRIVATE KEY-----\nc2VjcmV0\n-----END RSA PRIVATE KEY-----\n"));
      assert.equal(e.code, "CertificateValidationException");
      assert.match(e.message, /private key/);
      assert.doesNotMatch(e.message, /c2VjcmV0/);
      assert.match(String(e), /^CertificateValidationException: /);
      assert.ok(e.stack);
      const reg = new jitr.Registry({ account: "123456789012", registrationCode: story.registrationCode });
      const args = { caCertificate: CA.pem, verificationCertificate: VERIFICATION.pem, setAsActive: true };
      reg.call("register_ca_certificate", args, NOW);
      const dup = outcome(jitr, () => reg.call("register_ca_certificate", args, NOW));
      assert.equal(dup.code, "ResourceAlreadyExistsException");
      assert.equal(dup.resourceId, CA.certificateId);
      assert.equal(dup.resourceArn, `arn:aws:iot:us-east-1:123456789012:cacert/${CA.certificateId}`);
      reg.free();
      assert.equal(outcome(jitr, () => reg.exportState()).code, "InvalidRequestException");
      // One class, whichever build threw it.
      const other = jitr === esm ? cjs : esm;
      const foreign = outcome(other, () => other.certificateId(""));
      assert.ok(jitr.isJitrError(foreign) && foreign instanceof jitr.JitrError);
      assert.ok(!jitr.isJitrError(new Error("x")) && !(new Error("x") instanceof jitr.JitrError));
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
      const bundle = p7b([bytes]);
      for (let i = 0; i < bundle.length; i += 7) inputs.push(bundle.subarray(0, i));
      for (let i = 0; i < 200; i++) {
        const b = Uint8Array.from(bundle);
        for (let k = 0; k <= rand(4); k++) b[rand(b.length)] ^= 1 << rand(8);
        inputs.push(b);
      }
      for (let i = 0; i < 100; i++) inputs.push(Uint8Array.from({ length: rand(300) }, () => rand(256)));
      inputs.push(new Uint8Array([0x30, 0x84, 0xff, 0xff, 0xff, 0xff]), new Uint8Array([0x30, 0x80, 0x06, 0x80]), "\u0000", "-----BEGIN CERTIFICATE-----", "\uD800");
      let refused = 0;
      for (const input of inputs) {
        if (outcome(jitr, () => jitr.inspectCertificate(input, { now: NOW, role: "ca" }))) refused++;
        outcome(jitr, () => jitr.preflight({ chain: [input, CA.pem], registeredCas: [registered(CA.pem)], now: NOW }));
        outcome(jitr, () => jitr.issuedBy(input, CA.pem));
      }
      assert.ok(refused > inputs.length / 2, `only ${refused} of ${inputs.length} refused`);
      // And the module still works afterwards (a trap would have broken it).
      assert.equal(jitr.certificateId(DEVICE.pem), DEVICE.certificateId);
    });

    test("oversized input is refused fast, saying what is wrong", () => {
      const { maxInputLength, maxPemLength, maxChainLength } = jitr.limits();
      const cases = [
        ["x".repeat(10 * 1024 * 1024), new RegExp(`10485760 characters; at most ${maxInputLength}`)],
        [new Uint8Array(10 * 1024 * 1024), new RegExp(`10485760 bytes; at most ${maxInputLength}`)],
        ["x".repeat(2 * 1024 * 1024), new RegExp(`2097152 bytes; at most ${maxPemLength} are accepted \\(a chain of at most 16`)],
        [CA.pem.repeat(1000), /1000 certificates; at most 16/],
      ];
      for (const [input, message] of cases) {
        const t0 = performance.now();
        const e = outcome(jitr, () => jitr.inspectCertificate(input));
        const ms = performance.now() - t0;
        assert.equal(e?.code, "CertificateValidationException");
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

test("the browser build works in Node: init() with the embedded module, errors before it", () => {
  const script = `
    import init, * as jitr from ${JSON.stringify(new URL("../pkg/jitr_wasm.js", import.meta.url).href)};
    let before;
    try { jitr.certificateId("x"); } catch (e) { before = jitr.isJitrError(e) && /await init\\(\\)/.test(e.message); }
    let badInit;
    try { await init(42); } catch (e) { badInit = e.code; }
    await init();
    await init();
    console.log(JSON.stringify({ before, badInit, id: jitr.certificateId(process.env.PEM) }));
  `;
  const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", env: { ...process.env, PEM: DEVICE.pem } });
  assert.deepEqual(JSON.parse(out), { before: true, badInit: "InvalidRequestException", id: DEVICE.certificateId });
});

test("init() takes a URL, bytes or a module; initSync() bytes or a module", async () => {
  const wasmUrl = new URL("../pkg/jitr_wasm_bg.wasm", import.meta.url);
  const bytes = readFileSync(fileURLToPath(wasmUrl));
  const script = (how) => `
    import init, * as jitr from ${JSON.stringify(new URL("../pkg/jitr_wasm.js", import.meta.url).href)};
    import { readFileSync } from "node:fs";
    const bytes = readFileSync(${JSON.stringify(fileURLToPath(wasmUrl))});
    ${how}
    console.log(jitr.certificateId(process.env.PEM));
  `;
  for (const how of [
    "await init(bytes);",
    "await init(new WebAssembly.Module(bytes));",
    "await init(Promise.resolve(bytes));",
    "jitr.initSync(bytes);",
    "jitr.initSync(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));",
  ]) {
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script(how)], { encoding: "utf8", env: { ...process.env, PEM: DEVICE.pem } });
    assert.equal(out.trim(), DEVICE.certificateId, how);
  }
  assert.ok(bytes.length > 100000);
  // In Node the module is ready on import: init() resolves at once, and checks its argument.
  await esm.default();
  await assert.rejects(esm.default(42), (e) => esm.isJitrError(e) && e.code === "InvalidRequestException");
  assert.throws(() => esm.initSync("nope"), (e) => esm.isJitrError(e) && e.code === "InvalidRequestException");
});

test("the TypeScript unions are the core's lists", () => {
  const dts = readFileSync(here("../pkg/jitr_wasm.d.ts"), "utf8");
  const union = (name) => {
    const m = dts.match(new RegExp(`export type ${name} =([^;]*);`));
    assert.ok(m, `type ${name} in jitr_wasm.d.ts`);
    return [...m[1].matchAll(/"([^"]*)"/g)].map((x) => x[1]);
  };
  const codes = esm.codes();
  const pairs = {
    RefusalCode: codes.refusal, FindingCode: codes.finding, ErrorCode: codes.error, Severity: codes.severity,
    Role: codes.role, CertificateStatus: codes.certificateStatus, CaStatus: codes.caStatus,
    AutoRegistrationStatus: codes.autoRegistrationStatus, CertificateMode: codes.certificateMode, Operation: codes.operation,
  };
  for (const [name, list] of Object.entries(pairs)) {
    assert.ok(list.length > 1, name);
    assert.deepEqual(union(name), list, `${name} in jitr_wasm.d.ts is not the core's list`);
  }
  assert.equal(readFileSync(here("../pkg/node.d.cts"), "utf8"), dts);
});

test("the package describes itself", () => {
  const dir = here("../pkg/");
  const pkg = JSON.parse(readFileSync(dir + "package.json", "utf8"));
  assert.equal(pkg.name, "jitr-wasm");
  assert.equal(pkg.version, esm.version());
  for (const f of pkg.files) assert.ok(readFileSync(dir + f.replace(/\/$/, "/jitr_wasm_glue.js")), f);
  const readme = readFileSync(dir + "README.md", "utf8");
  // Every file the README names is in the package.
  const named = [...readme.matchAll(/`((?:[\w-]+\/)*[\w-]+\.(?:js|mjs|cjs|ts|cts|wasm)|LICENSE-\w+)`/g)].map((m) => m[1]);
  assert.ok(named.length >= 6, named.join(" "));
  for (const name of named) {
    // A file of the package, or a subpath export ("jitr-wasm/<path>").
    const file = name.startsWith("jitr-wasm/") ? pkg.exports[`./${name.slice("jitr-wasm/".length)}`]?.slice(2) : name;
    assert.ok(file && pkg.files.some((f) => f === file || file.startsWith(f)), `README names ${name}, which the package lacks`);
  }
  assert.match(readFileSync(dir + "LICENSE-APACHE", "utf8"), /Apache License\s+Version 2\.0/);
  assert.match(readFileSync(dir + "LICENSE-MIT", "utf8"), /Permission is hereby granted, free of charge/);
});

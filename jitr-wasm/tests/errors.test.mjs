// Errors, never traps: every export, given numbers, undefined, null, arrays, objects,
// booleans, bigints, symbols, functions and 50 MB strings where it expects something
// else, throws a JitrError with the right code, and refuses the 50 MB before anything is
// copied into WebAssembly (the module's memory does not grow by it).
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as glue from "../pkg/internal/jitr_wasm_glue.js";
import * as jitr from "../pkg/jitr_wasm.js";

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
// Instantiated here first, to hold the module's memory; the API then uses the same instance.
const bytes = readFileSync(here("../pkg/jitr_wasm_bg.wasm"));
const { memory } = glue.initSync({ module: bytes });
jitr.initSync(bytes);

const story = JSON.parse(readFileSync(here("../../tests/vectors/jitr-story.json"), "utf8"));
const CA = story.certificates["ca-ed25519"];
const DEVICE = story.certificates["device-story"];
const VERIFICATION = story.certificates["verification-ed25519"];
const NOW = Date.UTC(2026, 5, 1);
const MB50 = 50 * 1024 * 1024;
// Each 50 MB value starts with a token of its own: had it been copied into WebAssembly,
// the token would be in the module's memory (which a freed copy leaves behind).
let tokens = 0;
let lastToken;
const token = () => (lastToken = `jitr-token-${++tokens}-${Math.random().toString(36).slice(2)}-`);
const FILLER = "x".repeat(MB50);
const big = () => token() + FILLER;
const bigBytes = () => {
  const b = new Uint8Array(MB50);
  b.set(Buffer.from(token()));
  return b;
};
const REGISTERED = { pem: CA.pem, status: "ACTIVE", autoRegistrationStatus: "ENABLE", certificateMode: "DEFAULT" };
const ACCOUNT = "123456789012";

const INVALID = "InvalidRequestException";
const CERT = "CertificateValidationException";

/** Values of every wrong type. */
const WRONG = [
  ["a number", 42],
  ["undefined", undefined],
  ["null", null],
  ["an array", [DEVICE.pem]],
  ["an object", { pem: DEVICE.pem }],
  ["a boolean", true],
  ["a bigint", 1n],
  ["a symbol", Symbol("pem")],
  ["a function", () => DEVICE.pem],
];

/** Calls f and checks it throws a JitrError with `code`, quickly, without growing memory by the input. */
function refuses(f, code, label) {
  const before = memory.buffer.byteLength;
  const t0 = performance.now();
  let error;
  try {
    f();
  } catch (e) {
    error = e;
  }
  const ms = performance.now() - t0;
  assert.ok(error !== undefined, `${label}: no error`);
  assert.ok(jitr.isJitrError(error), `${label}: threw ${error?.name}: ${error?.message}`);
  assert.equal(error.code, code, `${label}: ${error.code}: ${error.message}`);
  assert.equal(error.name, code);
  assert.doesNotMatch(error.message, /\{:\?\}|Some\(|None\b|Der\(|Error \{/, `${label}: Rust debug text in "${error.message}"`);
  const grew = memory.buffer.byteLength - before;
  assert.ok(grew < 16 * 1024 * 1024, `${label}: the WebAssembly memory grew by ${grew} bytes`);
  if (lastToken !== undefined) {
    assert.equal(Buffer.from(memory.buffer).indexOf(lastToken), -1, `${label}: the input was copied into WebAssembly`);
    lastToken = undefined;
  }
  assert.ok(ms < 2000, `${label}: took ${ms} ms`);
  return error;
}

/**
 * The exports, each with valid arguments and, per argument, the code a wrong type gets,
 * which wrong values are in fact allowed (optional arguments), and the code 50 MB gets.
 */
const reg = new jitr.Registry({ account: ACCOUNT, registrationCode: story.registrationCode });
const EXPORTS = {
  inspectCertificate: {
    call: (...a) => jitr.inspectCertificate(...a),
    valid: [DEVICE.pem, { now: NOW }],
    slots: [{ wrong: INVALID, big: CERT }, { wrong: INVALID, optional: true, big: INVALID }],
  },
  certificateId: { call: (...a) => jitr.certificateId(...a), valid: [DEVICE.pem], slots: [{ wrong: INVALID, big: CERT }] },
  issuedBy: {
    call: (...a) => jitr.issuedBy(...a),
    valid: [DEVICE.pem, CA.pem],
    slots: [{ wrong: INVALID, big: CERT }, { wrong: INVALID, big: CERT }],
  },
  checkVerificationCertificate: {
    call: (...a) => jitr.checkVerificationCertificate(...a),
    valid: [CA.pem, VERIFICATION.pem, story.registrationCode, { now: NOW }],
    // The PEMs are text only (bytes are a wrong type there).
    slots: [
      { wrong: INVALID, big: CERT, textOnly: true },
      { wrong: INVALID, big: CERT, textOnly: true },
      { wrong: INVALID, big: INVALID },
      { wrong: INVALID, optional: true, big: INVALID },
    ],
  },
  preflight: {
    call: (...a) => jitr.preflight(...a),
    valid: [{ chain: [DEVICE.pem, CA.pem], registeredCas: [REGISTERED], now: NOW }],
    slots: [{ wrong: INVALID, big: INVALID }],
  },
  registrationEvent: {
    call: (...a) => jitr.registrationEvent(...a),
    valid: [{ certificateId: DEVICE.certificateId, caCertificateId: CA.certificateId, awsAccountId: ACCOUNT }],
    slots: [{ wrong: INVALID, big: INVALID }],
  },
  registrationTopic: {
    call: (...a) => jitr.registrationTopic(...a),
    valid: [CA.certificateId],
    slots: [{ wrong: INVALID, big: INVALID }],
  },
  parseRegistrationEvent: {
    call: (...a) => jitr.parseRegistrationEvent(...a),
    valid: [jitr.registrationEvent({ certificateId: DEVICE.certificateId, caCertificateId: CA.certificateId, awsAccountId: ACCOUNT, timestamp: NOW })],
    slots: [{ wrong: INVALID, big: INVALID }],
  },
  "new Registry": {
    call: (...a) => new jitr.Registry(...a),
    valid: [{ account: ACCOUNT }],
    slots: [{ wrong: INVALID, big: INVALID }],
  },
  "Registry.call": {
    call: (...a) => reg.call(...a),
    valid: ["list_certificates", { pageSize: 10 }, NOW],
    // params: an object or JSON text (a string is fine, but not 50 MB of it); now: a number or Date.
    slots: [
      { wrong: INVALID, big: INVALID },
      { wrong: INVALID, optional: true, allowString: true, big: INVALID },
      { wrong: INVALID, optional: true, allowNumber: true, big: INVALID },
    ],
  },
};

describe("every export refuses wrong types and 50 MB with a JitrError, before copying", () => {
  for (const [name, spec] of Object.entries(EXPORTS)) {
    test(name, () => {
      assert.doesNotThrow(() => spec.call(...spec.valid), `${name} with valid arguments`);
      spec.slots.forEach((slot, i) => {
        const withArg = (v) => spec.valid.map((x, j) => (j === i ? v : x));
        for (const [label, value] of WRONG) {
          const optionalAbsent = slot.optional && (value === undefined || value === null);
          // A wrong element inside an array or object reaches the core, which refuses it by value.
          const args = withArg(value);
          if (optionalAbsent) {
            assert.doesNotThrow(() => spec.call(...args), `${name} argument ${i}: ${label} means "not given"`);
          } else if ((slot.allowString && typeof value === "string") || (slot.allowNumber && typeof value === "number")) {
            assert.doesNotThrow(() => spec.call(...args), `${name} argument ${i}: ${label}`);
          } else if (slot.optional && typeof value === "object" && !Array.isArray(value) && value !== null) {
            // An options object with unknown keys: the core refuses the key.
            refuses(() => spec.call(...args), INVALID, `${name} argument ${i}: ${label}`);
          } else {
            refuses(() => spec.call(...args), slot.wrong, `${name} argument ${i}: ${label}`);
          }
        }
        refuses(() => spec.call(...withArg(big())), slot.big, `${name} argument ${i}: 50 MB string`);
        if (slot.big === CERT) {
          const code = slot.textOnly ? INVALID : CERT;
          refuses(() => spec.call(...withArg(bigBytes())), code, `${name} argument ${i}: 50 MB of bytes`);
        }
      });
    });
  }

  test("50 MB inside an options object or a preflight is refused as JSON before copying", () => {
    const cases = [
      [() => jitr.inspectCertificate(DEVICE.pem, { role: big() }), INVALID],
      [() => jitr.checkVerificationCertificate(CA.pem, VERIFICATION.pem, story.registrationCode, { now: NOW, note: big() }), INVALID],
      [() => jitr.preflight({ chain: big(), registeredCas: [] }), CERT],
      [() => jitr.preflight({ chain: [DEVICE.pem, bigBytes()], registeredCas: [] }), CERT],
      [() => jitr.preflight({ chain: Array(3).fill("x".repeat(2 * 1024 * 1024)), registeredCas: [] }), CERT],
      [() => jitr.preflight({ chain: DEVICE.pem, registeredCas: [{ ...REGISTERED, pem: big() }] }), INVALID],
      [() => jitr.preflight({ chain: DEVICE.pem, registeredCas: [], serverName: big() }), INVALID],
      [() => jitr.registrationEvent({ certificateId: big(), caCertificateId: CA.certificateId, awsAccountId: ACCOUNT }), INVALID],
      [() => new jitr.Registry({ account: big() }), INVALID],
      [() => reg.call("register_ca_certificate", { caCertificate: big() }), INVALID],
      [() => reg.call("register_ca_certificate", JSON.stringify({ caCertificate: big() })), INVALID],
      [() => reg.call(big()), INVALID],
    ];
    cases.forEach(([f, code], i) => refuses(f, code, `case ${i}`));
  });

  test("wrong values inside the objects: the core refuses them by name", () => {
    const chain = [DEVICE.pem, CA.pem];
    const cycle = { chain, registeredCas: [] };
    cycle.registeredCas.push({ self: cycle });
    const cases = [
      [() => jitr.preflight({ chain: 42, registeredCas: [] }), INVALID, /chain must be PEM text/],
      [() => jitr.preflight({ chain: [DEVICE.pem, 42], registeredCas: [] }), INVALID, /chain\[1\] must be PEM text/],
      [() => jitr.preflight({ registeredCas: [] }), INVALID, /chain is required/],
      [() => jitr.preflight({ chain, registeredCas: 42 }), INVALID, /registeredCas|sequence/],
      [() => jitr.preflight({ chain }), INVALID, /registeredCas/],
      [() => jitr.preflight({ chain, registeredCas: [{ ...REGISTERED, status: "active" }] }), INVALID, /active/],
      [() => jitr.preflight({ chain, registeredCas: [], account: "1" }), INVALID, /12 digits/],
      [() => jitr.preflight({ chain, registeredCas: [], now: "today" }), INVALID, /now|string/],
      [() => jitr.preflight({ chain, registeredCas: [], now: NaN }), INVALID, /now is NaN/],
      [() => jitr.preflight({ chain, registeredCas: [], now: new Date(NaN) }), INVALID, /invalid Date/],
      [() => jitr.preflight({ chain, registeredCas: [], now: 1n }), INVALID, /bigint/],
      [() => jitr.preflight({ chain, registeredCas: [], now: 1e300 }), INVALID, /not a valid time/],
      [() => jitr.preflight({ chain, registeredCas: [], serverName: 42 }), INVALID, /serverName|integer/],
      [() => jitr.preflight({ chain, registeredCas: [], registeredCertificates: [{ certificateId: "xyz", status: "ACTIVE" }] }), INVALID, /xyz/],
      [() => jitr.preflight({ chain, registeredCas: [], serverNmae: "x" }), INVALID, /serverNmae/],
      [() => jitr.preflight(cycle), INVALID, /circular|JSON/],
      [() => jitr.preflight({ chain, registeredCas: [{ ...REGISTERED, pem: new Uint8Array(3) }] }), INVALID, /bytes/],
      [() => jitr.inspectCertificate(DEVICE.pem, { role: "leaf" }), INVALID, /role must be/],
      [() => jitr.inspectCertificate(DEVICE.pem, { now: Infinity }), INVALID, /Infinity/],
      [() => jitr.inspectCertificate(DEVICE.pem, { when: NOW }), INVALID, /when/],
      [() => jitr.inspectCertificate(DEVICE.pem, []), INVALID, /options must be an object/],
      [() => jitr.inspectCertificate(DEVICE.pem, new Date()), INVALID, /options must be an object/],
      [() => jitr.inspectCertificate(""), CERT, /empty/],
      [() => jitr.registrationEvent({ certificateId: "xyz", caCertificateId: CA.certificateId, awsAccountId: ACCOUNT }), INVALID, /xyz/],
      [() => jitr.registrationEvent({ certificateId: DEVICE.certificateId, caCertificateId: CA.certificateId, awsAccountId: "12" }), INVALID, /12 digits/],
      [() => jitr.registrationTopic("xyz"), INVALID, /xyz/],
      [() => jitr.parseRegistrationEvent("{}"), INVALID, /missing field/],
      [() => new jitr.Registry({ account: "nope" }), INVALID, /12 digits/],
      [() => new jitr.Registry({ account: ACCOUNT, region: "Mars" }), INVALID, /region/],
      [() => reg.call("create_job"), INVALID, /unknown operation/],
      [() => reg.call("list_certificates", "not json"), INVALID, /invalid parameters/],
      [() => reg.call("list_certificates", [1]), INVALID, /params must be an object/],
      [() => reg.call("list_certificates", {}, "today"), INVALID, /now must be epoch milliseconds/],
      [() => reg.call("list_certificates", {}, new Date(NaN)), INVALID, /invalid Date/],
      [() => jitr.initSync("nope"), INVALID, /initSync takes/],
    ];
    cases.forEach(([f, code, message], i) => {
      const e = refuses(f, code, `case ${i}`);
      assert.match(e.message, message, `case ${i}`);
    });
  });

  test("the module still answers after all of that (nothing trapped)", () => {
    assert.equal(jitr.certificateId(DEVICE.pem), DEVICE.certificateId);
    assert.equal(reg.call("list_certificates").certificates.length, 0);
  });
});

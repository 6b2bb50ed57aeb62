// Runs every preview of the shared JITP vectors (the `previews` of tests/vectors/jitp.json)
// through the JS API's `previewProvisioning` (a wrapper of jitr_core::provisioning::preview),
// with the comparison rules of tests/vectors/README.md, as the Rust runner
// (tests/tests/jitp_vectors.rs) does; a flipped expectation must fail; bad input throws
// JitrErrors; `preflight` runs a CA's template. (The file's `steps` run with every other
// vector file in vectors.test.mjs.)
//
//   node --test jitr-wasm/tests/jitp-vectors.test.mjs     (after jitr-wasm/build.sh)
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import * as esm from "../pkg/node.mjs";
import { jsonEqual } from "./compare.mjs";

const require = createRequire(import.meta.url);
const jitr = require("../pkg/node.cjs");
const FILE = fileURLToPath(new URL("../../tests/vectors/jitp.json", import.meta.url));
const JITP = JSON.parse(readFileSync(FILE, "utf8"));
const { previews } = JITP;

/** Compares one preview's output with its expectation: null when it matches, else what differs. */
export function check(c) {
  const expect = c.expect;
  let got;
  try {
    got = jitr.previewProvisioning(c.input);
  } catch (e) {
    if (!jitr.isJitrError(e)) return `threw a non-JitrError: ${e}`;
    if ("error" in expect) return e.code === expect.error ? null : `expected ${expect.error}, got ${e.code}: ${e.message}`;
    return `unexpected ${e.code}: ${e.message}`;
  }
  if ("error" in expect) return `expected ${expect.error}, got ${JSON.stringify(got)}`;
  const want = structuredClone(expect);
  const contains = want.failure?.messageContains;
  if (contains !== undefined) {
    delete want.failure.messageContains;
    const message = got.failure?.message;
    if (typeof message !== "string") return `no failure message in ${JSON.stringify(got)}`;
    got = { ...got, failure: { ...got.failure } };
    delete got.failure.message;
    for (const part of contains) {
      if (!message.includes(part)) return `the message ${JSON.stringify(message)} lacks ${JSON.stringify(part)}`;
    }
  }
  return jsonEqual(got, want) ? null : `expected\n${JSON.stringify(want, null, 2)}\ngot\n${JSON.stringify(got, null, 2)}`;
}

const byName = (name) => structuredClone(previews.find((c) => c.name === name));

describe("jitp.json previews", () => {
  for (const c of previews) {
    test(c.name, () => {
      const e = check(c);
      assert.equal(e, null, e);
    });
  }

  test("every preview ran", () => {
    assert.ok(previews.length >= 20, `only ${previews.length} previews`);
    assert.equal(new Set(previews.map((c) => c.name)).size, previews.length);
    assert.match(byName("aws-example").input.templateBody, /"ThingTypeName":"lightBulb-versionA"/);
    assert.equal(JITP.awsExampleSource, "https://docs.aws.amazon.com/iot/latest/developerguide/jit-provisioning.html");
  });

  test("a flipped expectation fails", () => {
    const flips = [
      ["aws-example", (e) => (e.thing.thingGroups[1] = "US")],
      ["aws-example", (e) => (e.policies[0].policyName = "0".repeat(64))],
      ["aws-example-missing-country", (e) => (e.failure.certificateField = "subject O (organizationName, OID 2.5.4.10)")],
      ["aws-example-missing-country", (e) => (e.failure.messageContains[0] = "Organization")],
      ["input-without-template", (e) => (e.error = "CertificateValidationException")],
    ];
    for (const [name, flip] of flips) {
      const c = byName(name);
      assert.equal(check(c), null, `${name} passes as written`);
      flip(c.expect);
      assert.notEqual(check(c), null, `${name} still passes once flipped`);
    }
    for (const c of previews.filter((x) => !("error" in x.expect))) {
      const f = structuredClone(c);
      f.expect.provisioned = !f.expect.provisioned;
      assert.notEqual(check(f), null, c.name);
    }
  });
});

describe("previewProvisioning", () => {
  const aws = byName("aws-example").input;

  test("the ES module and CommonJS builds agree; parameters fill what the certificate lacks", () => {
    const out = esm.previewProvisioning(aws);
    assert.deepEqual(jitr.previewProvisioning(aws), out);
    assert.equal(out.provisioned, true);
    assert.equal(out.thing.thingName, "sensor-0001");
    assert.equal(out.certificate.certificateId, jitr.certificateId(aws.certificatePem));
    const noCountry = byName("aws-example-missing-country").input;
    assert.equal(jitr.previewProvisioning(noCountry).failure.parameter, "AWS::IoT::Certificate::Country");
    const filled = jitr.previewProvisioning({ ...noCountry, parameters: { "AWS::IoT::Certificate::Country": "NL" } });
    assert.equal(filled.provisioned, true);
    assert.deepEqual(filled.thing.thingGroups, ["v1-lightbulbs", "NL"]);
  });

  test("bad input throws JitrErrors with the core's codes", () => {
    const cases = [
      [null, "InvalidRequestException", /previewProvisioning takes an object/],
      [[aws], "InvalidRequestException", /previewProvisioning takes an object/],
      [{ certificatePem: aws.certificatePem }, "InvalidRequestException", /templateBody is required/],
      [{ templateBody: "{}" }, "InvalidRequestException", /certificatePem, parameters, or both/],
      [{ ...aws, unknown: 1 }, "InvalidRequestException", /unknown key/],
      [{ ...aws, certificatePem: "not a certificate" }, "CertificateValidationException", /./],
      [{ ...aws, parameters: { x: 1 } }, "InvalidRequestException", /must be a string/],
      [{ ...aws, account: "123456789012" }, "InvalidRequestException", /account and region go together/],
      [{ ...aws, templateBody: 42 }, "InvalidRequestException", /templateBody must be a string/],
      [{ ...aws, certificatePem: new Uint8Array(4) }, "InvalidRequestException", /holds bytes/],
    ];
    for (const [input, code, message] of cases) {
      assert.throws(
        () => jitr.previewProvisioning(input),
        (e) => jitr.isJitrError(e) && e.code === code && message.test(e.message),
        JSON.stringify(input)?.slice(0, 80),
      );
    }
  });
});

describe("preflight with a CA's template", () => {
  const ca = JITP.certificates["jitp-ca"];
  const full = JITP.certificates["jitp-device-full"];
  const noCountry = JITP.certificates["jitp-device-no-country"];
  const template = byName("aws-example").input.templateBody;
  const decide = (device, registrationConfig) =>
    jitr.preflight({
      chain: [device.pem, ca.pem],
      registeredCas: [
        { pem: ca.pem, status: "ACTIVE", autoRegistrationStatus: "ENABLE", certificateMode: "DEFAULT", registrationConfig },
      ],
      now: Date.UTC(2026, 5, 1),
    });

  test("provisioned into what the template names, or why not", () => {
    const config = { templateBody: template, roleArn: "arn:aws:iam::123456789012:role/JITP" };
    const done = decide(full, config);
    assert.equal(done.reason, "PROVISIONED");
    assert.equal(done.allowed, false);
    assert.match(done.message, /the thing sensor-0001/);
    assert.equal(done.certificateId, full.certificateId);
    assert.ok(done.event, "the registration event is published for a JITP CA too");
    const failed = decide(noCountry, config);
    assert.equal(failed.reason, "PROVISIONING_FAILED");
    assert.match(failed.message, /MISSING_PARAMETER.*AWS::IoT::Certificate::Country/);
    assert.equal(decide(full, null).reason, "REGISTERED_PENDING_ACTIVATION");
  });

  test("a template AWS would not store, or a template name, is refused", () => {
    for (const [config, message] of [
      [{ templateBody: "{" }, /JSON/],
      [{ templateName: "fleet" }, /no provisioning templates/],
      [{ templateBody: template, other: 1 }, /other/],
    ]) {
      assert.throws(
        () => decide(full, config),
        (e) => jitr.isJitrError(e) && e.code === "InvalidRequestException" && message.test(e.message),
      );
    }
  });
});

// Runs every scenario of the shared policy vectors (tests/vectors/policies/policies.json)
// through the JS API's `authorize` (a wrapper of jitr_core::policy::simulate), with the
// comparison rules of tests/vectors/README.md, as the Rust runner
// (tests/tests/policy_vectors.rs) does; a flipped expectation must fail; bad input throws
// JitrErrors.
//
//   node --test jitr-wasm/tests/policy-vectors.test.mjs     (after jitr-wasm/build.sh)
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import * as esm from "../pkg/node.mjs";

const require = createRequire(import.meta.url);
const jitr = require("../pkg/node.cjs");
const FILE = fileURLToPath(new URL("../../tests/vectors/policies/policies.json", import.meta.url));
const { scenarios } = JSON.parse(readFileSync(FILE, "utf8"));

/** The scenario's context with the case's keys laid over it; a null removes a key. */
function mergedContext(scenario, c) {
  const ctx = { ...scenario.context };
  for (const [k, v] of Object.entries(c.context ?? {})) {
    if (v === null) delete ctx[k];
    else ctx[k] = v;
  }
  return ctx;
}

const names = (refs) => refs.map((p) => p.policyName);
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

/** Runs one case; returns null when it matches, else what differs. */
export function runCase(scenario, c) {
  let out;
  try {
    out = jitr.authorize({ policies: scenario.policies, context: mergedContext(scenario, c), authInfos: [c.authInfo] });
  } catch (e) {
    return `authorize threw ${e.name}: ${e.message}`;
  }
  if (out.authResults.length !== 1) return `${out.authResults.length} results`;
  const [r] = out.authResults;
  const expect = c.expect;
  if (!same(r.authInfo, c.authInfo)) return `authInfo echoed as ${JSON.stringify(r.authInfo)}`;
  if (r.authDecision !== expect.authDecision) {
    return `authDecision: expected ${expect.authDecision}, got ${r.authDecision} (allowed by ${names(r.allowed.policies)}, denied by ${names(r.denied.explicitDeny.policies)})`;
  }
  for (const [key, got] of [
    ["allowed", r.allowed.policies],
    ["explicitDeny", r.denied.explicitDeny.policies],
    ["implicitDeny", r.denied.implicitDeny.policies],
  ]) {
    if (key in expect && !same(names(got), expect[key])) {
      return `${key}: expected ${JSON.stringify(expect[key])}, got ${JSON.stringify(names(got))}`;
    }
  }
  if ("missingContextValues" in expect && !same(r.missingContextValues, expect.missingContextValues)) {
    return `missingContextValues: expected ${JSON.stringify(expect.missingContextValues)}, got ${JSON.stringify(r.missingContextValues)}`;
  }
  // jitr's addition: the deciding statements belong to the policies that decided.
  const deciding = [...new Set(r.decidingStatements.map((s) => s.policyName))].sort();
  const decidedBy = {
    ALLOWED: names(r.allowed.policies),
    EXPLICIT_DENY: names(r.denied.explicitDeny.policies),
    IMPLICIT_DENY: [],
  }[r.authDecision];
  if (!same(deciding, [...new Set(decidedBy)].sort())) {
    return `decidingStatements name ${deciding}, the decision ${decidedBy}`;
  }
  return null;
}

/** An expectError scenario: returns null when authorize throws as expected. */
export function runErrorScenario(scenario) {
  const want = scenario.expectError;
  try {
    const out = jitr.authorize({
      policies: scenario.policies,
      context: scenario.context,
      authInfos: [{ actionType: "CONNECT", resources: ["*"] }],
    });
    return `expected ${want.code}, got ${JSON.stringify(out)}`;
  } catch (e) {
    if (!jitr.isJitrError(e)) return `threw a non-JitrError: ${e}`;
    if (e.code !== want.code) return `expected ${want.code}, got ${e.code}: ${e.message}`;
    if (!e.message.includes(want.messageContains)) return `message ${JSON.stringify(e.message)} lacks ${JSON.stringify(want.messageContains)}`;
    return null;
  }
}

describe("policies.json", () => {
  for (const s of scenarios) {
    test(s.name, () => {
      assert.ok(s.source.startsWith("https://docs.aws.amazon.com/"), "every scenario cites its AWS page");
      if (s.expectError) {
        const e = runErrorScenario(s);
        assert.equal(e, null, e);
        return;
      }
      assert.ok(s.cases.length > 0, "a scenario without cases");
      const failures = s.cases.map((c, i) => [i, c, runCase(s, c)]).filter(([, , e]) => e !== null);
      assert.deepEqual(failures.map(([i, c, e]) => `case ${i} (${JSON.stringify(c.authInfo)}): ${e}`), []);
    });
  }

  test("every scenario ran", () => {
    const cases = scenarios.reduce((n, s) => n + (s.cases?.length ?? 0), 0);
    const errors = scenarios.filter((s) => s.expectError).length;
    assert.ok(cases >= 200 && errors >= 5, `only ${cases} cases and ${errors} refusals`);
    assert.equal(new Set(scenarios.map((s) => s.name)).size, scenarios.length);
  });

  test("a flipped expectation fails", () => {
    let flipped = 0;
    for (const s of scenarios) {
      for (const c of s.cases ?? []) {
        const other = { ALLOWED: "IMPLICIT_DENY", IMPLICIT_DENY: "EXPLICIT_DENY" }[c.expect.authDecision] ?? "ALLOWED";
        const f = structuredClone(c);
        f.expect.authDecision = other;
        assert.notEqual(runCase(s, f), null, `${s.name}: a flipped case passed`);
        flipped++;
      }
    }
    assert.ok(flipped >= 200);
    const s = scenarios.find((x) => x.name === "connect: client1 only");
    const c = structuredClone(s.cases[0]);
    assert.equal(runCase(s, c), null);
    c.expect.allowed = ["Other"];
    assert.notEqual(runCase(s, c), null);
    const err = structuredClone(scenarios.find((x) => x.expectError));
    assert.equal(runErrorScenario(err), null);
    err.expectError.messageContains = "a sentence no message has";
    assert.notEqual(runErrorScenario(err), null);
  });
});

describe("authorize", () => {
  const ctx = { region: "us-east-1", account: "123456789012", now: new Date(0), clientId: "c1" };
  const policy = {
    policyName: "p",
    policyDocument: { Version: "2012-10-17", Statement: [{ Sid: "all", Effect: "Allow", Action: "iot:Connect", Resource: "*" }] },
  };
  const connect = { actionType: "CONNECT", resources: ["arn:aws:iot:us-east-1:123456789012:client/c1"] };

  test("the ES module and CommonJS builds agree; a document as text decides the same; Dates are times", () => {
    const input = { policies: [policy], context: ctx, authInfos: [connect] };
    const out = esm.authorize(input);
    assert.deepEqual(jitr.authorize(input), out);
    assert.equal(out.authResults[0].authDecision, "ALLOWED");
    assert.deepEqual(out.authResults[0].decidingStatements, [{ policyName: "p", index: 0, sid: "all" }]);
    const text = { ...policy, policyDocument: JSON.stringify(policy.policyDocument) };
    assert.deepEqual(jitr.authorize({ ...input, policies: [text] }), out);
  });

  test("bad input throws JitrErrors with the core's codes", () => {
    const cases = [
      [undefined, "InvalidRequestException", /authorize takes an object/],
      ["x", "InvalidRequestException", /authorize takes an object/],
      [{ policies: [], context: ctx, authInfos: [] }, "InvalidRequestException", /authInfos has 1 to 10/],
      [{ policies: [], context: ctx, authInfos: [connect], extra: 1 }, "InvalidRequestException", /extra/],
      [{ policies: [{ policyName: "p", policyDocument: "{}" }], context: ctx, authInfos: [connect] }, "MalformedPolicyException", /the policy p/],
      [{ policies: [], context: { ...ctx, certificatePem: "x" }, authInfos: [connect] }, "CertificateValidationException", /./],
      [{ policies: [], context: { ...ctx, now: 1.5 }, authInfos: [connect] }, "InvalidRequestException", /./],
      [{ policies: [], context: { ...ctx, now: NaN }, authInfos: [connect] }, "InvalidRequestException", /not a finite number/],
      [{ policies: [], context: ctx, authInfos: [{ actionType: "FLY", resources: ["*"] }] }, "InvalidRequestException", /./],
    ];
    for (const [input, code, message] of cases) {
      assert.throws(
        () => jitr.authorize(input),
        (e) => jitr.isJitrError(e) && e.code === code && message.test(e.message),
        JSON.stringify(input),
      );
    }
    // Deeply nested: refused, not a crash.
    let deep = {};
    const top = deep;
    for (let i = 0; i < 500; i++) deep = deep.a = {};
    assert.throws(
      () => jitr.authorize({ policies: [{ policyName: "p", policyDocument: top }], context: ctx, authInfos: [connect] }),
      (e) => jitr.isJitrError(e),
    );
  });
});

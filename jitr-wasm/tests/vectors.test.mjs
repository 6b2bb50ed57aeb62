// Runs every shared vector in tests/vectors/*.json through the JS API (the CommonJS build's
// `Registry.call`, a wrapper of jitr_core::api::call), with the comparison rules of
// tests/vectors/README.md. The Rust runner tests/tests/vectors.rs is the reference.
//
//   node --test jitr-wasm/tests/vectors.test.mjs     (after jitr-wasm/build.sh)
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { jsonEqual } from "./compare.mjs";

const require = createRequire(import.meta.url);
const jitr = require("../pkg/node.cjs");
const VECTORS = fileURLToPath(new URL("../../tests/vectors/", import.meta.url));

/** Checks expected ⊆ actual; a null expectation means absent or null. Returns an error or null. */
export function checkSubset(expected, actual, ctx) {
  for (const [k, want] of Object.entries(expected)) {
    const got = actual?.[k] ?? null;
    if (want !== null && typeof want === "object" && !Array.isArray(want) && got !== null && typeof got === "object") {
      const e = checkSubset(want, got, `${ctx}.${k}`);
      if (e) return e;
    } else if (!jsonEqual(want, got)) {
      return `${ctx}.${k}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`;
    }
  }
  return null;
}

/** Runs one step on `reg`; returns null when it matches its expectation, else why not. */
export function runStep(reg, step) {
  const { op, now, args, expect } = step;
  const before = reg.exportState();
  let got;
  let error;
  try {
    got = reg.call(op, args, now);
  } catch (e) {
    error = e;
  }
  if (error !== undefined && !(error instanceof Error)) return `threw a non-Error: ${error}`;
  if ("error" in expect) {
    if (error === undefined) return `expected ${expect.error}, got success ${JSON.stringify(got)}`;
    if (error.name !== expect.error) return `expected ${expect.error}, got ${error.name}: ${error.message}`;
    if (reg.exportState() !== before) return `${op} failed with ${error.name} but changed the registry`;
    return null;
  }
  if (error !== undefined) return `unexpected ${error.name}: ${error.message}`;
  switch (op) {
    case "connect":
      for (const key of ["allowed", "reason", "certificateId", "caCertificateId", "topic", "event"]) {
        if (!(key in expect)) return `expect.${key} missing`;
        if (!jsonEqual(got[key], expect[key])) {
          return `connect.${key}: expected ${JSON.stringify(expect[key])}, got ${JSON.stringify(got[key])} (${got.message})`;
        }
      }
      return null;
    case "list_certificates":
    case "list_ca_certificates":
    case "list_certificates_by_ca": {
      const ids = got.certificates.map((c) => c.certificateId);
      if ("certificateIds" in expect && !jsonEqual(ids, expect.certificateIds)) {
        return `${op}: expected ${JSON.stringify(expect.certificateIds)}, got ${JSON.stringify(ids)}`;
      }
      if ("hasNextMarker" in expect && ("nextMarker" in got) !== expect.hasNextMarker) {
        return `${op}: hasNextMarker expected ${expect.hasNextMarker}, got ${JSON.stringify(got)}`;
      }
      return null;
    }
    case "list_attached_policies": {
      const names = got.policies.map((p) => p.policyName);
      if ("policyNames" in expect && !jsonEqual(names, expect.policyNames)) {
        return `${op}: expected ${JSON.stringify(expect.policyNames)}, got ${JSON.stringify(names)}`;
      }
      return null;
    }
    default:
      return checkSubset(expect, got, op);
  }
}

export function vectorFiles() {
  return readdirSync(VECTORS)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => ({ file: f, vector: JSON.parse(readFileSync(VECTORS + f, "utf8")) }));
}

function registryFor(v) {
  return new jitr.Registry({
    account: v.account,
    region: v.region,
    partition: v.partition,
    registrationCode: v.registrationCode,
  });
}

const files = vectorFiles();
let steps = 0;

test("the shared vectors are all there", () => {
  assert.ok(files.length >= 5, `expected the shared vector files, found ${files.map((f) => f.file)}`);
  const total = files.reduce((n, f) => n + f.vector.steps.length, 0);
  assert.ok(total > 100, `only ${total} steps`);
});

for (const { file, vector } of files) {
  describe(`${file}: ${vector.name ?? ""}`, () => {
    // One registry per file, its steps in order: each step is a test of its own.
    const reg = registryFor(vector);
    vector.steps.forEach((step, i) => {
      steps += 1;
      test(`step ${i} ${step.op}${step.note ? `: ${step.note}` : ""}`, () => {
        const failure = runStep(reg, step);
        assert.equal(failure, null, failure ?? "");
      });
    });
  });
}

describe("the runner can fail", () => {
  // A changed expectation must be caught, for each kind of comparison.
  const { vector } = files.find((f) => f.file === "jitr-story.json");
  const mutate = (pick, change) => {
    const reg = registryFor(vector);
    const idx = vector.steps.findIndex(pick);
    assert.ok(idx >= 0, "the step to mutate exists");
    for (const s of vector.steps.slice(0, idx)) assert.equal(runStep(reg, s), null);
    const step = structuredClone(vector.steps[idx]);
    change(step.expect);
    return runStep(reg, step);
  };
  test("a changed connect event", () => {
    const why = mutate(
      (s) => s.op === "connect" && s.expect.event,
      (e) => (e.event = e.event.replace('"timestamp":', '"timestamp":1')),
    );
    assert.match(why ?? "", /connect\.event/);
  });
  test("a changed reason", () => {
    const why = mutate((s) => s.op === "connect", (e) => (e.reason = "UNKNOWN_ISSUER"));
    assert.match(why ?? "", /connect\.reason/);
  });
  test("an expected error that does not happen", () => {
    const why = mutate((s) => s.op === "register_ca_certificate" && !s.expect.error, (e) => (e.error = "LimitExceededException"));
    assert.match(why ?? "", /expected LimitExceededException/);
  });
  test("a changed describe field", () => {
    const why = mutate(
      (s) => s.op === "describe_certificate" && !s.expect.error,
      (e) => (e.certificateDescription.status = "REVOKED_NOT"),
    );
    assert.match(why ?? "", /certificateDescription\.status/);
  });
});

test("every step ran", () => {
  assert.ok(steps >= 260, `ran ${steps} steps`);
});

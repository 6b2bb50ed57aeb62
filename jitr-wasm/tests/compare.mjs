// What the vector runners share (not a test file of its own).
import assert from "node:assert/strict";

/** Whether two JSON values are equal (key order aside). */
export function jsonEqual(a, b) {
  try {
    assert.deepStrictEqual(a, b);
    return true;
  } catch {
    return false;
  }
}

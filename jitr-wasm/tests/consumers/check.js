// What every bundler consumer runs: load jitr-wasm as a front-end developer would, with
// no configuration, inspect the fixture and check its ID and a JitrError. The result
// goes to the page title (browsers) or stdout (Node).
import init, { inspectCertificate, isJitrError, JitrError } from "jitr-wasm";
import fixture from "./fixture.cjs";

export async function check() {
  await init();
  const [info] = inspectCertificate(fixture.PEM, { now: fixture.NOW });
  if (info.id !== fixture.ID) throw new Error(`wrong id ${info.id}`);
  let code = "nothing thrown";
  try {
    inspectCertificate(42);
  } catch (e) {
    code = isJitrError(e) && e instanceof JitrError ? e.code : `not a JitrError: ${e}`;
  }
  if (code !== "InvalidRequestException") throw new Error(code);
  return `ok ${info.id}`;
}

export function run() {
  const report = (text) => {
    if (typeof document !== "undefined") document.title = text;
    else console.log(text);
  };
  check().then(report, (e) => report(`FAIL ${e && e.stack ? e.stack : e}`));
}

// Node, CommonJS: `require` resolves jitr-wasm's "node" + "require" condition (node.cjs),
// ready at once: no init().
const { inspectCertificate, isJitrError } = require("jitr-wasm");
const { PEM, ID, NOW } = require("../fixture.cjs");

const [info] = inspectCertificate(PEM, { now: NOW });
let code;
try {
  inspectCertificate(undefined);
} catch (e) {
  code = isJitrError(e) ? e.code : String(e);
}
console.log(info.id === ID && code === "InvalidRequestException" ? `ok ${info.id}` : `FAIL ${info.id} ${code}`);

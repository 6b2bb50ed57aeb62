// jitr-wasm for Node (ES module): the WebAssembly module is instantiated on import, from
// the bytes embedded in the package, so the API is ready at once (init() resolves
// immediately). The CommonJS build (node.cjs) is this module bundled by esbuild.
import { initSync } from "./jitr_wasm.js";
import bytes from "./internal/jitr_wasm_bytes.js";

initSync(bytes());

export * from "./jitr_wasm.js";
export { default } from "./jitr_wasm.js";

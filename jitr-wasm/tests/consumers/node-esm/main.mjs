// Node, ES module: `import` resolves jitr-wasm's "node" + "import" condition (node.mjs).
import { run } from "../check.js";

run();

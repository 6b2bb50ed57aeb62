// Vite: no vite.config.js; `vite build` bundles index.html and this module into dist/.
import { run } from "../check.js";

run();

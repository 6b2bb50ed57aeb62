// webpack: no webpack.config.js; its defaults build src/index.js into dist/main.js.
import { run } from "../../check.js";

run();

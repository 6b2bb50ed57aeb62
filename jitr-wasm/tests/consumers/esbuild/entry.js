// esbuild: bundled with nothing but --bundle (and the platform and format to run it in).
import { run } from "../check.js";

run();

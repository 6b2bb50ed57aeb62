// The packed package, as its users get it: `npm pack`'s tarball (built by
// `jitr-wasm/build.sh --pack`) installed into the scratch project tests/consumers/ (whose
// tools come from the npm registry, pinned by its package-lock.json), then loaded without
// any configuration by Node (ES module and CommonJS), esbuild, webpack, Vite and
// TypeScript. Each consumer inspects the same certificate, checks its ID and that a wrong
// argument throws a JitrError (tests/consumers/check.js); bundles for browsers run in
// Debian's headless Chromium, the others in Node.
//
//   jitr-wasm/build.sh --pack && node --test jitr-wasm/tests/consumers.test.mjs
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const DIR = here("consumers/");
const BIN = join(DIR, "node_modules/.bin/");
const { version } = JSON.parse(readFileSync(here("../pkg/package.json"), "utf8"));
const TARBALL = here(`../pkg/jitr-wasm-${version}.tgz`);
const require = (await import("node:module")).createRequire(import.meta.url);
const { ID } = require("./consumers/fixture.cjs");
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const OK = `ok ${ID}`;

/** Runs a command in tests/consumers/ (or a folder of it); returns its stdout. */
function run(cmd, args, cwd = DIR) {
  try {
    return execFileSync(cmd, args, { cwd, encoding: "utf8", timeout: 120_000, stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    throw new Error(`${cmd} ${args.join(" ")} failed:\n${e.stdout ?? ""}${e.stderr ?? ""}`);
  }
}

let context;
let userDataDir;
const servers = [];

/** Serves `root` on 127.0.0.1; resolves to its origin. */
function serveDir(root) {
  const types = { ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm" };
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
    const file = normalize(join(root, path.endsWith("/") ? `${path}index.html` : path));
    if (!file.startsWith(root) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": types[extname(file)] ?? "application/octet-stream" });
    createReadStream(file).pipe(res);
  });
  servers.push(server);
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${server.address().port}`)));
}

/** Opens `url` in Chromium; returns the title the consumer sets, with any page error. */
async function inChromium(url) {
  const page = await context.newPage();
  const errors = [];
  const outside = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  page.on("request", (r) => !r.url().startsWith(new URL(url).origin) && outside.push(r.url()));
  await page.goto(url);
  await page.waitForFunction(() => /^(ok|FAIL) /.test(document.title), null, { timeout: 30_000 });
  const title = await page.title();
  await page.close();
  assert.deepEqual(errors, []);
  assert.deepEqual(outside, []);
  return title;
}

before(async () => {
  assert.ok(existsSync(TARBALL), `${TARBALL} is missing: run jitr-wasm/build.sh --pack`);
  assert.ok(existsSync(BIN), "tests/consumers has no node_modules: run scripts/test-wasm.sh --install-only");
  // The tarball, as a user's `npm install` would place it (nothing else changes).
  run("npm", ["install", "--no-save", "--offline", "--no-audit", "--no-fund", "--loglevel=error", TARBALL]);
  const installed = JSON.parse(readFileSync(join(DIR, "node_modules/jitr-wasm/package.json"), "utf8"));
  assert.equal(installed.version, version);
  for (const d of ["esbuild/dist", "webpack/dist", "vite/dist"]) rmSync(join(DIR, d), { recursive: true, force: true });
  userDataDir = mkdtempSync(join(tmpdir(), "jitr-consumers-"));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
});

after(async () => {
  await context?.close();
  for (const s of servers) s.close();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
});

describe("consumers of the packed tarball, without configuration", () => {
  test("the tarball holds exactly the package's files", () => {
    const listed = run("tar", ["-tzf", TARBALL]).trim().split("\n").map((f) => f.replace(/^package\//, "")).sort();
    assert.deepEqual(listed, [
      "LICENSE-APACHE", "LICENSE-MIT", "README.md", "internal/jitr_wasm_bytes.js", "internal/jitr_wasm_glue.js",
      "jitr_wasm.d.ts", "jitr_wasm.js", "jitr_wasm_bg.wasm", "node.cjs", "node.d.cts", "node.mjs", "package.json",
    ]);
  });

  test("Node, ES module: import", () => {
    assert.equal(run(process.execPath, ["node-esm/main.mjs"]).trim(), OK);
  });

  test("Node, CommonJS: require", () => {
    assert.equal(run(process.execPath, ["node-cjs/main.cjs"]).trim(), OK);
  });

  test("esbuild --bundle for the browser: runs in Chromium and in Node", async () => {
    run(BIN + "esbuild", ["esbuild/entry.js", "--bundle", "--format=esm", "--outfile=esbuild/dist/browser.mjs", "--log-level=warning"]);
    assert.equal(run(process.execPath, ["esbuild/dist/browser.mjs"]).trim(), OK);
    const origin = await serveDir(join(DIR, "esbuild/"));
    assert.equal(await inChromium(`${origin}/index.html`), OK);
  });

  test("esbuild --bundle --platform=node, CommonJS: runs in Node", () => {
    run(BIN + "esbuild", ["esbuild/entry.js", "--bundle", "--platform=node", "--format=cjs", "--outfile=esbuild/dist/node.cjs", "--log-level=warning"]);
    assert.equal(run(process.execPath, ["esbuild/dist/node.cjs"]).trim(), OK);
  });

  test("webpack with its defaults (no webpack.config.js): runs in Chromium", async () => {
    run(BIN + "webpack", ["--mode", "production"], join(DIR, "webpack/"));
    const origin = await serveDir(join(DIR, "webpack/"));
    assert.equal(await inChromium(`${origin}/index.html`), OK);
  });

  test("Vite build with its defaults (no vite.config.js): runs in Chromium", async () => {
    run(BIN + "vite", ["build", "--logLevel", "warn"], join(DIR, "vite/"));
    const origin = await serveDir(join(DIR, `vite${sep}dist/`));
    assert.equal(await inChromium(`${origin}/index.html`), OK);
  });

  test("TypeScript finds the types through the export conditions (nodenext: import and require; bundler)", () => {
    const trace = run(BIN + "tsc", ["-p", "typescript", "--traceResolution"]);
    const resolved = (from) =>
      trace.match(new RegExp(`Resolving module 'jitr-wasm' from '[^']*${from}'\\. =+\\n(?:.*\\n)*?=+ Module name 'jitr-wasm' was successfully resolved to '[^']*/node_modules/jitr-wasm/([^']+)'`))?.[1];
    assert.equal(resolved("check.mts"), "jitr_wasm.d.ts");
    assert.equal(resolved("check.cts"), "node.d.cts");
    run(BIN + "tsc", ["-p", "typescript/bundler"]);
  });
});

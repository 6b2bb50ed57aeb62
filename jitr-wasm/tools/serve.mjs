// A tiny static server for the jitr page: serves jitr-wasm/www/ and the browser build in
// jitr-wasm/pkg/ on 127.0.0.1 only, and nothing else. No network access, no server-side
// logic: the page does all its work in the browser.
//
//   node jitr-wasm/tools/serve.mjs [port]      (default 8080; 0 picks a free port)
//
// Then open the printed address. Imported by the end-to-end test as `serve()`.
import { createServer } from "node:http";
import { readFile, stat } from "node:fs/promises";
import { extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));
// Only these top-level folders are served.
const SERVED = new Set(["www", "pkg"]);
const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".wasm": "application/wasm",
  ".json": "application/json",
  ".png": "image/png",
  ".svg": "image/svg+xml",
  ".pem": "application/x-pem-file",
  ".ts": "text/plain; charset=utf-8",
};
// The same policy the page declares: its own files, nothing else.
const CSP =
  "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; " +
  "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'";

async function handle(req, res) {
  const send = (status, body, type = "text/plain; charset=utf-8") => {
    res.writeHead(status, {
      "content-type": type,
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
      "content-security-policy": CSP,
    });
    res.end(req.method === "HEAD" ? undefined : body);
  };
  if (req.method !== "GET" && req.method !== "HEAD") return send(405, "method not allowed\n");
  let path;
  try {
    path = decodeURIComponent(new URL(req.url, "http://localhost").pathname);
  } catch {
    return send(400, "bad request\n");
  }
  if (path === "/" || path === "/www") {
    res.writeHead(302, { location: "/www/" });
    return res.end();
  }
  if (path.endsWith("/")) path += "index.html";
  const file = normalize(join(ROOT, path));
  const top = file.slice(ROOT.length + 1).split(sep)[0];
  if (!file.startsWith(ROOT + sep) || !SERVED.has(top) || path.includes("\0")) {
    return send(404, "not found\n");
  }
  try {
    if (!(await stat(file)).isFile()) return send(404, "not found\n");
    const body = await readFile(file);
    return send(200, body, TYPES[extname(file)] ?? "application/octet-stream");
  } catch {
    const hint = top === "pkg" ? " (build it first: jitr-wasm/build.sh)" : "";
    return send(404, `not found${hint}\n`);
  }
}

/** Starts the server on 127.0.0.1:`port` and resolves to `{ server, url }`. */
export function serve(port = 0) {
  return new Promise((resolvePromise, reject) => {
    const server = createServer((req, res) => {
      handle(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    });
    server.on("error", reject);
    server.listen(port, "127.0.0.1", () => {
      const { port: actual } = server.address();
      resolvePromise({ server, url: `http://127.0.0.1:${actual}/www/` });
    });
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const port = Number(process.argv[2] ?? process.env.PORT ?? 8080);
  const { url } = await serve(port);
  console.log(`jitr page: ${url}  (serving ${ROOT}/www and ${ROOT}/pkg on 127.0.0.1; Ctrl-C stops)`);
}

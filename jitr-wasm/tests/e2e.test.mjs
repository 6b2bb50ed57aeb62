// The page, end to end: Debian's Chromium (headless, driven by playwright-core) against
// the page served on 127.0.0.1 by tools/serve.mjs. Drops a device certificate and its CA,
// checks the displayed ID and verdict, opens every panel of every card, reads PKCS#7 and
// large CA bundles, uses the Provisioning and Policy panels, saves a screenshot
// (www/screenshot.png with JITR_UPDATE_SCREENSHOT=1), and checks bad input (no Rust debug text in any message), one date format, the absence
// of outside requests, keyboard use and a phone-sized screen.
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { serve } from "../tools/serve.mjs";

const require = createRequire(import.meta.url);
const jitr = require("../pkg/node.cjs");
const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const story = JSON.parse(readFileSync(here("../../tests/vectors/jitr-story.json"), "utf8"));
const CA = story.certificates["ca-ed25519"];
const DEVICE = story.certificates["device-story"];
const LEGACY = readFileSync(here("fixtures/legacy-v1-rsa1024-sha1.pem"), "utf8");
const JITP = JSON.parse(readFileSync(here("../../tests/vectors/jitp.json"), "utf8"));
const JITP_CA = JITP.certificates["jitp-ca"];
const SENSOR = JITP.certificates["jitp-device-full"];
const SENSOR_NO_COUNTRY = JITP.certificates["jitp-device-no-country"];
// Every distinct CA certificate of the shared vectors: more than a device chain's 16.
const VECTOR_CAS = (() => {
  const byId = new Map();
  for (const f of readdirSync(here("../../tests/vectors/")).filter((f) => f.endsWith(".json")).sort()) {
    const v = JSON.parse(readFileSync(here(`../../tests/vectors/${f}`), "utf8"));
    for (const c of Object.values(v.certificates ?? {})) {
      try {
        const [info] = jitr.inspectCertificate(c.pem);
        if (info.isCa) byId.set(info.id, c.pem);
      } catch {
        // not a certificate this test needs
      }
    }
  }
  return [...byId.values()];
})();
/** Text that is Rust's debug formatting, which no message may show. */
const DEBUG_TEXT = /Some\(|\bNone\b|Der\(|Tag\(|NomError|Parsing Error|\w+ \{ \w+: |\\"/;
/** A date written otherwise than RFC 3339 (2026-06-01T00:00:00Z). */
const OTHER_DATE = /\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +\d{1,2} \d\d:|\d{4}-\d\d-\d\d \d\d:\d\d|\+00:00/;
// The README's screenshot is refreshed only on request (JITR_UPDATE_SCREENSHOT=1); test runs
// write theirs to test-results/ so a run leaves the tree clean.
const SCREENSHOT = process.env.JITR_UPDATE_SCREENSHOT === "1"
  ? here("../www/screenshot.png")
  : here("../test-results/screenshot.png");
const ARTIFACTS = here("../test-results/");
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const FLAGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];
// The page evaluates at this instant (typed into its "Evaluate at" field, browser in UTC).
const WHEN = "2026-06-01T00:00:00";
const WHEN_MS = Date.UTC(2026, 5, 1);

let server;
let origin;
let context;
let userDataDir;
const requests = [];

before(async () => {
  const started = await serve(0);
  server = started.server;
  origin = new URL(started.url).origin;
  userDataDir = mkdtempSync(join(tmpdir(), "jitr-chromium-"));
  mkdirSync(ARTIFACTS, { recursive: true });
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    timezoneId: "UTC",
    locale: "en-US",
    viewport: { width: 1280, height: 900 },
    deviceScaleFactor: 1,
    colorScheme: "light",
  });
  context.on("request", (r) => requests.push(r.url()));
  // Anything that is not this server is refused (and recorded above, so a test can fail on it).
  await context.route("**/*", (route) => {
    const url = route.request().url();
    return url.startsWith(origin + "/") ? route.continue() : route.abort();
  });
});

after(async () => {
  await context?.close();
  await new Promise((r) => (server ? server.close(r) : r()));
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
});

/** A fresh page on the jitr page, evaluating at WHEN. */
async function openPage() {
  const page = await context.newPage();
  // Intercept file choosers from the start (enabling it lazily races the first one).
  page.on("filechooser", () => {});
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  await page.goto(`${origin}/www/`);
  await page.waitForSelector("body[data-ready=true]", { timeout: 20000 });
  // Every message and verdict the page ever shows, for the checks on their wording.
  await page.evaluate(() => {
    window.shown = [];
    const record = () => {
      for (const el of document.querySelectorAll("#messages .message-text, #verdict-body")) window.shown.push(el.textContent);
    };
    new MutationObserver(record).observe(document.body, { childList: true, subtree: true, characterData: true });
  });
  await page.fill("#when", WHEN);
  await page.dispatchEvent("#when", "change");
  return { page, errors };
}

/** Every message and verdict shown so far: sentences, with one date format. */
async function checkWording(page) {
  const shown = await page.evaluate(() => window.shown);
  assert.ok(shown.length > 0);
  for (const text of new Set(shown)) {
    assert.doesNotMatch(text, DEBUG_TEXT, `Rust debug text shown: ${text}`);
    assert.doesNotMatch(text, OTHER_DATE, `a date not in RFC 3339: ${text}`);
  }
}

/** The end of a page test: the wording checked (with `wording`), a full-page screenshot
 * saved (to `screenshot`), no page error, the page closed. */
async function finish(page, errors, { wording = false, screenshot } = {}) {
  if (wording) await checkWording(page);
  if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
  assert.deepEqual(errors, []);
  await page.close();
}

/** Opens every panel of every card; returns, per card, its ID and each panel's text. */
async function openAllPanels(page) {
  const cards = page.locator(".card[data-id]");
  const out = [];
  for (let i = 0; i < (await cards.count()); i++) {
    const card = cards.nth(i);
    const panels = {};
    const details = card.locator("details");
    for (let j = 0; j < (await details.count()); j++) {
      const d = details.nth(j);
      await d.locator("summary").click();
      assert.equal(await d.evaluate((el) => el.open), true);
      const summary = await d.locator("summary").textContent();
      const body = await d.evaluate((el) => [...el.children].filter((c) => c.tagName !== "SUMMARY").map((c) => c.innerText).join("\n"));
      assert.ok(await d.locator(":scope > :not(summary)").first().isVisible(), `${summary} is open but shows nothing`);
      panels[summary.replace(/ \(\d+\)$/, "")] = { summary, body };
    }
    out.push({ id: await card.getAttribute("data-id"), panels });
  }
  return out;
}

const iso = (ms) => new Date(ms).toISOString().replace(".000Z", "Z");

/** Drops files on an element, as a person dragging them from a file manager would. */
async function drop(page, selector, files) {
  const dataTransfer = await page.evaluateHandle((files) => {
    const dt = new DataTransfer();
    for (const f of files) {
      const bytes = typeof f.content === "string" ? f.content : new Uint8Array(f.content);
      dt.items.add(new File([bytes], f.name, { type: f.type ?? "application/x-pem-file" }));
    }
    return dt;
  }, files);
  for (const type of ["dragenter", "dragover", "drop"]) {
    await page.dispatchEvent(selector, type, { dataTransfer });
  }
}

const verdictTitle = (page) => page.textContent("#verdict-body .verdict-title");

/** Waits until the page's messages match `re` (files are read asynchronously). */
async function expectMessage(page, re) {
  try {
    await page.waitForFunction((src) => new RegExp(src).test(document.getElementById("messages").textContent), re.source, {
      timeout: 5000,
    });
  } catch {
    assert.fail(`no message matches ${re}; messages: ${await page.textContent("#messages")}`);
  }
}

/** Pastes `text` into `selector` through the clipboard, as Ctrl+V does. */
async function paste(page, selector, text) {
  await page.evaluate((t) => navigator.clipboard.writeText(t), text);
  await page.focus(selector);
  await page.keyboard.press("Control+V");
}

/** A page with the story's device and CA, dropped. */
async function pageWithDeviceAndCa() {
  const opened = await openPage();
  const { page } = opened;
  await drop(page, "#device-drop", [{ name: "device.pem", content: DEVICE.pem }]);
  await page.waitForSelector("#chain .cert-id");
  await drop(page, "#ca-drop", [{ name: "fleet-ca.pem", content: CA.pem }]);
  await page.waitForSelector("#ca-list .cert-id");
  return opened;
}

describe("the page", () => {
  test("drop a device certificate and its CA: the ID and the verdict", async () => {
    const { page, errors } = await openPage();
    assert.match(await page.textContent("#privacy"), /Nothing leaves this browser/);
    assert.match(await verdictTitle(page), /What would JITR decide/);

    await drop(page, "#device-drop", [{ name: "device.pem", content: DEVICE.pem }]);
    await page.waitForSelector("#chain .cert-id");
    assert.equal(await page.textContent("#chain .cert-id"), DEVICE.certificateId);
    // No CA registered yet: refused, and the page says which CA is missing.
    await page.waitForFunction(() => /Refused/.test(document.querySelector(".verdict-title").textContent));
    assert.match(
      await page.textContent("#verdict-body .verdict-hint"),
      /No registered CA issued this certificate \(its issuer is CN=jitr Ed25519 CA,O=jitr test vectors\)/,
    );

    await drop(page, "#ca-drop", [{ name: "fleet-ca.pem", content: CA.pem }]);
    await page.waitForSelector("#ca-list .cert-id");
    assert.equal(await page.textContent("#ca-list .cert-id"), CA.certificateId);
    assert.equal(
      await verdictTitle(page),
      `This device will be registered as PENDING_ACTIVATION under CA ${CA.certificateId.slice(0, 8)}…; the event below will be published.`,
    );
    assert.equal(await page.textContent("#verdict-body .topic"), `$aws/events/certificates/registered/${CA.certificateId}`);
    const expected = jitr.registrationEvent({
      certificateId: DEVICE.certificateId,
      caCertificateId: CA.certificateId,
      awsAccountId: "123456789012",
      timestamp: WHEN_MS,
    });
    assert.equal(await page.textContent("#verdict-body .payload"), expected);
    assert.match(await page.textContent("#chain .card"), /No problems found/);
    // The copy button puts the ID on the clipboard.
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin });
    await page.click("#chain .id-row .copy");
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), DEVICE.certificateId);
    await page.mouse.move(0, 0);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.waitForFunction(() => document.querySelector("#chain .id-row .copy").textContent === "Copy");
    await finish(page, errors, { screenshot: SCREENSHOT });
  });

  test("the CA's settings and the certificate's state change the verdict", async () => {
    const { page, errors } = await pageWithDeviceAndCa();
    const body = () => page.textContent("#verdict-body");
    await page.selectOption("#ca-list select[id$=-status]", "INACTIVE");
    assert.match(await body(), /CA_INACTIVE/);
    await page.selectOption("#ca-list select[id$=-status]", "ACTIVE");
    await page.selectOption("#ca-list select[id$=-auto]", "DISABLE");
    assert.match(await body(), /AUTO_REGISTRATION_DISABLED/);
    await page.selectOption("#ca-list select[id$=-auto]", "ENABLE");
    await page.selectOption("#ca-list select[id$=-mode]", "SNI_ONLY");
    assert.match(await body(), /CA_REQUIRES_SNI/);
    await page.fill("#sni", "abc123-ats.iot.us-east-1.amazonaws.com");
    assert.match(await verdictTitle(page), /will be registered as PENDING_ACTIVATION/);
    await page.selectOption("#ca-list select[id$=-mode]", "DEFAULT");
    await page.fill("#sni", "");
    await page.uncheck("#send-ca");
    assert.match(await body(), /SNI_REQUIRED/);
    await page.check("#send-ca");
    await page.selectOption("#known", "ACTIVE");
    assert.equal(await verdictTitle(page), "The connection is allowed.");
    await page.selectOption("#known", "PENDING_ACTIVATION");
    assert.match(await verdictTitle(page), /Waiting for activation/);
    assert.ok(await page.textContent("#verdict-body .payload"));
    await page.selectOption("#known", "REVOKED");
    assert.match(await body(), /CERTIFICATE_REVOKED/);
    await page.selectOption("#known", "");
    await page.fill("#account", "12345");
    assert.match(await body(), /account ID must be 12 digits/);
    await page.fill("#account", "210987654321");
    assert.match(await page.textContent("#verdict-body .payload"), /"awsAccountId":"210987654321"/);
    // 2040: past both certificates' notAfter.
    await page.fill("#when", "2040-01-01T00:00:00");
    await page.dispatchEvent("#when", "change");
    assert.match(await body(), /CERTIFICATE_EXPIRED|CA_EXPIRED/);
    assert.match(await page.textContent("#chain .findings"), /EXPIRED/);
    await finish(page, errors);
  });

  test("bad input: said plainly, keys never shown, the page stays responsive", async () => {
    const { page, errors } = await openPage();

    // A private key pasted by mistake (with a certificate): it never reaches the box.
    const secret = "MC4CAQAwBQYDK2VwBCIEIJitrSecretKeyMaterialDoNotShow0000000000";
    const keyText = `${DEVICE.pem}-----BEGIN PRIVATE KEY-----\n${secret}\n-----END PRIVATE KEY-----\n`;
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin });
    await page.click("#device-drop ~ details summary");
    await page.evaluate(() => {
      window.seenInBox = [];
      document.getElementById("device-text").addEventListener("input", (e) => window.seenInBox.push(e.target.value));
    });
    await paste(page, "#device-text", keyText);
    await expectMessage(page, /private key/);
    assert.equal(await page.inputValue("#device-text"), "");
    assert.deepEqual(await page.evaluate(() => window.seenInBox), []);
    // Typed (or filled) and added with the button: cleared.
    await page.fill("#device-text", keyText);
    await page.click("#device-add");
    await expectMessage(page, /private key/);
    assert.equal(await page.inputValue("#device-text"), "");
    const visible = await page.evaluate(
      () => document.body.innerText + [...document.querySelectorAll("textarea,input")].map((e) => e.value).join(""),
    );
    assert.ok(!visible.includes(secret), "the key is shown somewhere");

    // A key in a dropped file.
    await drop(page, "#device-drop", [
      { name: "device-key.pem", content: `-----BEGIN EC PRIVATE KEY-----\n${secret}\n-----END EC PRIVATE KEY-----\n` },
    ]);
    await expectMessage(page, /device-key\.pem: .*private key/);

    // A JPEG, an empty file, a truncated PEM.
    await drop(page, "#device-drop", [
      { name: "photo.jpg", content: [0xff, 0xd8, 0xff, 0xe0, 0, 16, 74, 70, 73, 70], type: "image/jpeg" },
    ]);
    await expectMessage(page, /photo\.jpg: the input is neither PEM text/);
    await drop(page, "#device-drop", [{ name: "empty.pem", content: "" }]);
    await expectMessage(page, /empty\.pem: the file is empty/);
    await drop(page, "#device-drop", [{ name: "cut.pem", content: DEVICE.pem.slice(0, 200) }]);
    await expectMessage(page, /cut\.pem: /);
    assert.equal(await page.locator("#chain .card").count(), 0);

    // 10 MB of text, dropped and pasted; a 1,000-certificate bundle.
    const cases = [
      [
        () => drop(page, "#device-drop", [{ name: "big.pem", content: "A".repeat(10 * 1024 * 1024) }]),
        /big\.pem: the file is 10\.0 MiB; at most 1\.0 MiB/,
      ],
      [
        () => paste(page, "#device-text", "B".repeat(10 * 1024 * 1024)),
        /pasted text is 10,485,760 characters; at most 1,048,576/,
      ],
      [
        () => drop(page, "#device-drop", [{ name: "bundle.pem", content: CA.pem.repeat(1000) }]),
        /bundle\.pem: the PEM text holds 1000 certificates; at most 16/,
      ],
    ];
    for (const [run, expected] of cases) {
      const t0 = Date.now();
      await run();
      await expectMessage(page, expected);
      const ms = Date.now() - t0;
      assert.ok(ms < 3000, `${expected} took ${ms} ms`);
      // Still responsive: a round trip into the page answers at once.
      const t1 = Date.now();
      await page.evaluate(() => document.querySelectorAll("*").length);
      assert.ok(Date.now() - t1 < 500);
    }
    assert.equal(await page.inputValue("#device-text"), "");

    // A legacy certificate: every problem listed, not just the first.
    await drop(page, "#device-drop", [{ name: "legacy.pem", content: LEGACY }]);
    await page.waitForSelector("#chain .findings");
    const findings = await page.textContent("#chain .findings");
    for (const code of ["WEAK_SIGNATURE_ALGORITHM", "WEAK_KEY", "NOT_X509_V3"]) assert.match(findings, new RegExp(code));
    // Malformed DER in several ways, as files: each said in a sentence.
    const der = Buffer.from(DEVICE.pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, ""), "base64");
    const flipped = Buffer.from(der);
    flipped[4] = 0x02;
    await drop(page, "#device-drop", [
      { name: "short.der", content: [...der.subarray(0, 100)], type: "application/x-x509-ca-cert" },
      { name: "tag.der", content: [...flipped], type: "application/x-x509-ca-cert" },
      { name: "bad.p7b", content: [0x30, 0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02], type: "application/x-pkcs7-certificates" },
    ]);
    await expectMessage(page, /bad\.p7b: the PKCS#7 bundle is malformed/);
    await expectMessage(page, /short\.der: the certificate is not valid DER X\.509: the data ends before/);
    // A chain whose leaf is malformed: the decision's message is a sentence too.
    await page.click("#device-clear");
    await paste(page, "#device-text", CA.pem);
    await page.fill("#sni", "abc123-ats.iot.us-east-1.amazonaws.com");
    await drop(page, "#ca-drop", [{ name: "fleet-ca.pem", content: CA.pem }]);
    await page.waitForSelector("#ca-list .cert-id");
    assert.match(await page.textContent("#verdict-body"), /CA certificate \(basicConstraints cA true\), which cannot be a device certificate/);
    await finish(page, errors, { wording: true, screenshot: join(ARTIFACTS, "bad-input.png") });
  });

  test("every panel of every card opens and shows the certificate's fields and extensions", async () => {
    const { page, errors } = await pageWithDeviceAndCa();
    // A v1 certificate (no extensions) in the chain too.
    await drop(page, "#device-drop", [{ name: "legacy.pem", content: LEGACY }]);
    await page.waitForFunction(() => document.querySelectorAll("#chain .card").length === 2);
    const cards = await openAllPanels(page);
    assert.equal(cards.length, 3);
    for (const { id, panels } of cards) {
      const pem = [DEVICE.pem, CA.pem, LEGACY].find((p) => jitr.certificateId(p) === id);
      const [info] = jitr.inspectCertificate(pem);
      assert.deepEqual(Object.keys(panels), ["Fields", "Extensions"], id);
      const fields = panels.Fields.body;
      assert.doesNotMatch(fields, /\[object|undefined|NaN/, fields);
      for (const [label, value] of [
        ["Subject", info.subject],
        ["Issuer", info.issuer],
        ["Serial", info.serialNumber],
        ["Valid", `${iso(info.notBefore)} → ${iso(info.notAfter)}`],
        ["Key", info.keyAlgorithm],
        ["Signature", info.signatureAlgorithm],
        ["X.509 version", `v${info.version}`],
      ]) {
        assert.ok(fields.includes(`${label}\n${value}`) || fields.includes(`${label}\t${value}`), `${label} ${value} in:\n${fields}`);
      }
      const ext = panels.Extensions;
      assert.equal(ext.summary, `Extensions (${info.extensions.length})`);
      if (info.extensions.length === 0) assert.match(ext.body, /X\.509 v1 certificate has no extensions/);
      for (const x of info.extensions) {
        assert.ok(ext.body.includes(x.name ?? `Unknown extension ${x.oid}`), `${x.oid} in ${ext.body}`);
        for (const line of x.value) assert.ok(ext.body.includes(line.trim()), `${line} in ${ext.body}`);
      }
      assert.equal((ext.body.match(/critical/gi) ?? []).length, info.extensions.filter((x) => x.critical).length, ext.body);
    }
    // The device's extensions as OpenSSL prints them.
    const device = cards.find((c) => c.id === DEVICE.certificateId).panels.Extensions.body;
    assert.match(device, /X509v3 Key Usage 2\.5\.29\.15\s*critical\s*Digital Signature/i);
    assert.match(device, /X509v3 Extended Key Usage 2\.5\.29\.37\s*TLS Web Client Authentication/);
    // One date format on the whole page.
    const text = await page.evaluate(() => document.body.innerText);
    assert.doesNotMatch(text, OTHER_DATE);
    assert.match(text, /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/);
    await finish(page, errors, { wording: true });
  });

  test("PKCS#7 bundles and CA bundles of more than 16 certificates", async () => {
    assert.ok(VECTOR_CAS.length > 16, `${VECTOR_CAS.length} CAs`);
    const ders = VECTOR_CAS.map((pem) => Buffer.from(pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, ""), "base64"));
    const p7b = (certs) => {
      const tlv = (tag, content) => {
        const n = content.length;
        const len = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : n < 0x10000 ? [0x82, n >> 8, n & 0xff] : [0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
        return Buffer.concat([Buffer.from([tag, ...len]), content]);
      };
      const oid = (...b) => tlv(0x06, Buffer.from(b));
      const sd = tlv(0x30, Buffer.concat([
        tlv(0x02, Buffer.from([1])), tlv(0x31, Buffer.alloc(0)), tlv(0x30, oid(0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01)),
        tlv(0xa0, Buffer.concat(certs)), tlv(0x31, Buffer.alloc(0)),
      ]));
      return tlv(0x30, Buffer.concat([oid(0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02), tlv(0xa0, sd)]));
    };
    // A .p7b (DER) of every CA, on the CA side.
    {
      const { page, errors } = await openPage();
      await drop(page, "#ca-drop", [{ name: "fleet.p7b", content: [...p7b(ders)], type: "application/x-pkcs7-certificates" }]);
      await page.waitForFunction((n) => document.querySelectorAll("#ca-list .card").length === n, VECTOR_CAS.length);
      const shown = await page.$$eval("#ca-list .cert-id", (els) => els.map((e) => e.textContent));
      assert.deepEqual(shown, VECTOR_CAS.map((pem) => jitr.certificateId(pem)));
      // The same bundle on the device side is more than a chain holds.
      await drop(page, "#device-drop", [{ name: "fleet.p7b", content: [...p7b(ders)], type: "application/x-pkcs7-certificates" }]);
      await expectMessage(page, /fleet\.p7b: the PKCS#7 bundle holds more than 16 certificates/);
      await finish(page, errors);
    }
    // A PEM bundle of every CA, pasted on the CA side; a PEM PKCS#7 chain on the device side.
    {
      const { page, errors } = await openPage();
      await page.click("#ca-drop ~ details summary");
      await paste(page, "#ca-text", VECTOR_CAS.join(""));
      await page.waitForFunction((n) => document.querySelectorAll("#ca-list .card").length === n, VECTOR_CAS.length);
      const chain = p7b([DEVICE.pem, CA.pem].map((pem) => Buffer.from(pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, ""), "base64")));
      const pem = `-----BEGIN PKCS7-----\n${chain.toString("base64").replace(/.{64}/g, "$&\n")}\n-----END PKCS7-----\n`;
      await drop(page, "#device-drop", [{ name: "chain.p7b", content: pem }]);
      await page.waitForFunction(() => document.querySelectorAll("#chain .card").length === 2);
      assert.equal(await page.textContent("#chain .cert-id"), DEVICE.certificateId);
      assert.match(await verdictTitle(page), /will be registered as PENDING_ACTIVATION/);
      await finish(page, errors, { wording: true });
    }
  });

  test("keyboard only: choose files, reach every control, names for all", async () => {
    const { page, errors } = await openPage();
    // Every interactive element has an accessible name.
    const unnamed = await page.evaluate(() =>
      [...document.querySelectorAll("button, select, input:not([hidden]), textarea, summary")]
        .filter((el) => {
          const label =
            el.getAttribute("aria-label") ||
            el.textContent.trim() ||
            (el.id && document.querySelector(`label[for="${el.id}"]`)?.textContent.trim());
          return !label;
        })
        .map((el) => el.outerHTML.slice(0, 80)),
    );
    assert.deepEqual(unnamed, []);
    // Tab from the top reaches both file choosers.
    const seen = [];
    for (let i = 0; i < 30; i++) {
      await page.keyboard.press("Tab");
      seen.push(await page.evaluate(() => document.activeElement?.textContent?.trim() || document.activeElement?.id || ""));
    }
    assert.ok(seen.filter((s) => s === "Choose files…").length >= 2, `tab order: ${seen.join(" | ")}`);
    // Choose the device file and the CA file with the keyboard.
    for (const [button, name, content] of [
      ["#device-drop button", "device.pem", DEVICE.pem],
      ["#ca-drop button", "ca.pem", CA.pem],
    ]) {
      await page.focus(button);
      const [chooser] = await Promise.all([page.waitForEvent("filechooser"), page.keyboard.press("Enter")]);
      await chooser.setFiles({ name, mimeType: "application/x-pem-file", buffer: Buffer.from(content) });
    }
    await page.waitForSelector("#ca-list .cert-id");
    assert.equal(await page.locator("#chain .card").count(), 1);
    assert.match(await verdictTitle(page), /will be registered as PENDING_ACTIVATION/);
    // Change a CA setting with the keyboard.
    await page.focus("#ca-list select[id$=-status]");
    await page.keyboard.press("ArrowDown");
    assert.match(await page.textContent("#verdict-body"), /CA_INACTIVE/);
    await finish(page, errors);
  });

  test("Provisioning: what AWS's example template makes of the device, or why not; the verdict runs it", async () => {
    const { page, errors } = await openPage();
    assert.match(await page.inputValue("#template"), /"ThingTypeName":"lightBulb-versionA"/);
    assert.match(await page.textContent("#jitp-result"), /Add the device certificate in 1/);
    await drop(page, "#device-drop", [{ name: "sensor.pem", content: SENSOR.pem }]);
    await page.waitForSelector("#chain .cert-id");
    await drop(page, "#ca-drop", [{ name: "jitp-ca.pem", content: JITP_CA.pem }]);
    await page.waitForSelector("#ca-list .cert-id");
    // What the page shows is what the API says.
    const expected = jitr.previewProvisioning({
      templateBody: await page.inputValue("#template"),
      certificatePem: SENSOR.pem,
      account: "123456789012",
      region: "us-east-1",
    });
    assert.equal(expected.provisioned, true);
    const result = () => page.textContent("#jitp-result");
    assert.match(await result(), /This device would be provisioned and set ACTIVE\./);
    assert.equal(await page.textContent("#jitp-result .thing-name"), "sensor-0001");
    assert.equal(expected.thing.thingName, "sensor-0001");
    assert.match(await result(), /Thing typelightBulb-versionA/);
    assert.match(await result(), /Thing groupsv1-lightbulbs, DE/);
    assert.match(await result(), /version=v1/);
    assert.match(await result(), /serialNumber=SN-0001/);
    assert.deepEqual(await page.$$eval("#jitp-result .policy-name", (els) => els.map((e) => e.textContent)), expected.policies.map((p) => p.policyName));
    assert.match(await result(), /Creates /);
    // Without JITP on the CA the verdict is JITR's; with it, the template runs.
    assert.match(await verdictTitle(page), /will be registered as PENDING_ACTIVATION/);
    await page.check("#jitp-on");
    assert.equal(
      await verdictTitle(page),
      `This device will be provisioned by the template of CA ${JITP_CA.certificateId.slice(0, 8)}…: registered, given its thing and policies, and activated.`,
    );
    assert.equal(await page.textContent("#verdict-body .verdict-code code"), "PROVISIONED");
    assert.match(await page.textContent("#verdict-body"), /its template made the thing sensor-0001, attached the policies [0-9a-f]{64} and set it ACTIVE/);
    assert.ok(await page.textContent("#verdict-body .payload"), "the registration event is shown");
    // A certificate without C: provisioning fails, and the page says which field is missing.
    await page.click("#device-clear");
    await drop(page, "#device-drop", [{ name: "no-country.pem", content: SENSOR_NO_COUNTRY.pem }]);
    await page.waitForSelector("#chain .cert-id");
    assert.match(await result(), /This device would not be provisioned: its certificate stays PENDING_ACTIVATION\./);
    assert.match(await result(), /Missing parameterAWS::IoT::Certificate::Country/);
    assert.match(await result(), /Certificate fieldsubject C \(countryName, OID 2\.5\.4\.6\)/);
    assert.match(await result(), /MISSING_PARAMETER/);
    assert.match(await verdictTitle(page), /its template cannot provision it: it stays PENDING_ACTIVATION/);
    assert.match(await page.textContent("#verdict-body"), /PROVISIONING_FAILED/);
    // A template AWS would not store: said in 4, and the verdict says why there is none.
    await page.fill("#template", JITP.previews.find((p) => p.name === "template-unknown-function").input.templateBody);
    assert.match(await result(), /AWS would not store this template\./);
    assert.match(await result(), /Fn::GetAtt/);
    assert.match(await verdictTitle(page), /No verdict/);
    await page.uncheck("#jitp-on");
    assert.match(await verdictTitle(page), /will be registered as PENDING_ACTIVATION/);
    await page.click("#template-example");
    assert.match(await result(), /would not be provisioned/);
    await finish(page, errors, { wording: true, screenshot: join(ARTIFACTS, "provisioning.png") });
  });

  test("Policy: connect as / publish to / subscribe to / receive on, with the statement that decided", async () => {
    const { page, errors } = await openPage();
    await drop(page, "#device-drop", [{ name: "sensor.pem", content: SENSOR.pem }]);
    await page.waitForSelector("#chain .cert-id");
    const decisions = () =>
      page.$$eval("#policy-result .decision", (els) =>
        els.map((el) => ({
          action: el.dataset.action,
          decision: el.querySelector(".decision-code code").textContent,
          statements: [...el.querySelectorAll(".statement-ref")].map((s) => s.textContent),
          text: el.textContent,
        })),
      );
    // The example policy, for the device in 1 (CN sensor-0001).
    let shown = await decisions();
    assert.deepEqual(
      shown.map((d) => [d.action, d.decision, d.statements]),
      [
        ["CONNECT", "ALLOWED", ["Statement 1 of DevicePolicy (Sid ConnectAsItsCommonName)"]],
        ["PUBLISH", "ALLOWED", ["Statement 2 of DevicePolicy (Sid OwnTopics)"]],
        ["SUBSCRIBE", "ALLOWED", ["Statement 3 of DevicePolicy (Sid OwnCommands)"]],
        ["RECEIVE", "EXPLICIT_DENY", ["Statement 4 of DevicePolicy (Sid NoRemoteReboot)"]],
      ],
    );
    // The statement is shown as written, and the decision is the API's.
    assert.match(shown[3].text, /Denied by a Deny statement/);
    assert.match(shown[3].text, /"Effect": "Deny"/);
    const arn = (kind, name) => `arn:aws:iot:us-east-1:123456789012:${kind}/${name}`;
    const api = jitr.authorize({
      policies: [{ policyName: "DevicePolicy", policyDocument: await page.inputValue("#policy-doc") }],
      context: { region: "us-east-1", account: "123456789012", now: WHEN_MS, clientId: "sensor-0001", certificatePem: SENSOR.pem },
      authInfos: [
        { actionType: "CONNECT", resources: [arn("client", "sensor-0001")] },
        { actionType: "PUBLISH", resources: [arn("topic", "sensor-0001/telemetry")] },
        { actionType: "SUBSCRIBE", resources: [arn("topicfilter", "sensor-0001/commands/#")] },
        { actionType: "RECEIVE", resources: [arn("topic", "sensor-0001/commands/reboot")] },
      ],
    });
    assert.deepEqual(shown.map((d) => d.decision), api.authResults.map((r) => r.authDecision));
    // Another client ID: nothing allows it (the certificate's CN is sensor-0001).
    await page.fill("#try-connect", "intruder");
    shown = await decisions();
    assert.equal(shown[0].decision, "IMPLICIT_DENY");
    assert.match(shown[0].text, /Denied: nothing allows it/);
    assert.deepEqual(shown[0].statements, []);
    assert.equal(shown[1].decision, "IMPLICIT_DENY", "publish under another client's topic");
    await page.fill("#try-connect", "sensor-0001");
    await page.fill("#try-receive", "sensor-0001/commands/update");
    assert.equal((await decisions())[3].decision, "ALLOWED");
    // Without the certificate the variable has no value, and the page says so.
    await page.click("#device-clear");
    shown = await decisions();
    assert.equal(shown[0].decision, "IMPLICIT_DENY");
    assert.match(shown[0].text, /Without a value here: iot:Certificate\.Subject\.CommonName/);
    // A malformed policy: the core's sentence.
    await page.fill("#policy-doc", '{"Version": "2012-10-17", "Statement": [{"Effect": "Maybe", "Action": "iot:*", "Resource": "*"}]}');
    assert.match(await page.textContent("#policy-result"), /No decision: .*MalformedPolicyException/);
    // The policy the template would create, taken over from 4.
    await drop(page, "#device-drop", [{ name: "sensor.pem", content: SENSOR.pem }]);
    await page.waitForSelector("#chain .cert-id");
    await page.click("#policy-from-template");
    assert.match(await page.inputValue("#policy-name"), /^[0-9a-f]{64}$/);
    await page.fill("#try-publish", "foo/bar");
    shown = await decisions();
    assert.equal(shown[1].decision, "ALLOWED");
    assert.match(shown[1].statements[0], /^Statement 1 of [0-9a-f]{64}$/);
    assert.equal(shown[0].decision, "IMPLICIT_DENY", "the template's policy allows no connect");
    await page.click("#policy-example");
    assert.equal((await decisions())[0].decision, "ALLOWED");
    await finish(page, errors, { wording: true, screenshot: join(ARTIFACTS, "policy.png") });
  });

  test("readable on a phone: no sideways scrolling", async () => {
    const page = await context.newPage();
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${origin}/www/`);
    await page.waitForSelector("body[data-ready=true]");
    await page.click("#example");
    await page.waitForSelector("#ca-list .cert-id");
    await page.fill("#when", WHEN);
    await page.dispatchEvent("#when", "change");
    assert.match(await verdictTitle(page), /will be registered as PENDING_ACTIVATION/);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than the screen`);
    const size = await page.evaluate(() => parseFloat(getComputedStyle(document.querySelector(".cert-id")).fontSize));
    assert.ok(size >= 12, `IDs are ${size}px`);
    await page.screenshot({ path: join(ARTIFACTS, "phone.png"), fullPage: true });
    await page.close();
  });

  test("nothing but the page's own files was requested", () => {
    assert.ok(requests.length > 0);
    const outside = requests.filter((u) => !u.startsWith(origin + "/"));
    assert.deepEqual(outside, []);
    assert.ok(requests.some((u) => u.endsWith("/pkg/jitr_wasm_bg.wasm")));
    assert.ok(requests.some((u) => u.endsWith("/www/examples/fleet-ca.pem")));
  });
});

// The jitr page: reads certificates the user pastes or drops, and shows what jitr-core
// (compiled to WebAssembly) says about them: the JITR decision (with a CA's JITP template),
// what a provisioning template would create, and what a policy allows. Everything stays in this tab: the only
// requests are for this page's own files (and the example certificates, on request).
// Every rule (what a certificate is, which CA issued it, the decision) is the core's;
// this file only displays.
import init, {
  authorize,
  inspectCertificate,
  issuedBy,
  isJitrError,
  preflight,
  previewProvisioning,
  limits,
  version,
} from "../pkg/jitr_wasm.js";

/** AWS's JITP example template, verbatim (https://docs.aws.amazon.com/iot/latest/developerguide/jit-provisioning.html). */
const AWS_EXAMPLE_TEMPLATE = "{\n   \"Parameters\":{\n      \"AWS::IoT::Certificate::CommonName\":{\n         \"Type\":\"String\"\n      },\n      \"AWS::IoT::Certificate::SerialNumber\":{\n         \"Type\":\"String\"\n      },\n      \"AWS::IoT::Certificate::Country\":{\n         \"Type\":\"String\"\n      },\n      \"AWS::IoT::Certificate::Id\":{\n         \"Type\":\"String\"\n      }\n   },\n   \"Resources\":{\n      \"thing\":{\n         \"Type\":\"AWS::IoT::Thing\",\n         \"Properties\":{\n            \"ThingName\":{\n               \"Ref\":\"AWS::IoT::Certificate::CommonName\"\n            },\n            \"AttributePayload\":{\n               \"version\":\"v1\",\n               \"serialNumber\":{\n                  \"Ref\":\"AWS::IoT::Certificate::SerialNumber\"\n               }\n            },\n            \"ThingTypeName\":\"lightBulb-versionA\",\n            \"ThingGroups\":[\n               \"v1-lightbulbs\",\n               {\n                  \"Ref\":\"AWS::IoT::Certificate::Country\"\n               }\n            ]\n         },\n         \"OverrideSettings\":{\n            \"AttributePayload\":\"MERGE\",\n            \"ThingTypeName\":\"REPLACE\",\n            \"ThingGroups\":\"DO_NOTHING\"\n         }\n      },\n      \"certificate\":{\n         \"Type\":\"AWS::IoT::Certificate\",\n         \"Properties\":{\n            \"CertificateId\":{\n               \"Ref\":\"AWS::IoT::Certificate::Id\"\n            },\n            \"Status\":\"ACTIVE\"\n         },\n         \"OverrideSettings\":{\n            \"Status\":\"DO_NOTHING\"\n         }\n      },\n      \"policy\":{\n         \"Type\":\"AWS::IoT::Policy\",\n         \"Properties\":{\n            \"PolicyDocument\":\"{ \\\"Version\\\": \\\"2012-10-17\\\", \\\"Statement\\\": [{ \\\"Effect\\\": \\\"Allow\\\", \\\"Action\\\":[\\\"iot:Publish\\\"], \\\"Resource\\\": [\\\"arn:aws:iot:us-east-1:123456789012:topic/foo/bar\\\"] }] }\"\n         }\n      }\n   }\n}";

/** A device policy to start from: policy variables, an explicit Deny. */
const EXAMPLE_POLICY = `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "ConnectAsItsCommonName",
      "Effect": "Allow",
      "Action": "iot:Connect",
      "Resource": "arn:aws:iot:us-east-1:123456789012:client/\${iot:Certificate.Subject.CommonName}"
    },
    {
      "Sid": "OwnTopics",
      "Effect": "Allow",
      "Action": ["iot:Publish", "iot:Receive"],
      "Resource": "arn:aws:iot:us-east-1:123456789012:topic/\${iot:ClientId}/*"
    },
    {
      "Sid": "OwnCommands",
      "Effect": "Allow",
      "Action": "iot:Subscribe",
      "Resource": "arn:aws:iot:us-east-1:123456789012:topicfilter/\${iot:ClientId}/commands/*"
    },
    {
      "Sid": "NoRemoteReboot",
      "Effect": "Deny",
      "Action": "iot:Receive",
      "Resource": "arn:aws:iot:us-east-1:123456789012:topic/\${iot:ClientId}/commands/reboot"
    }
  ]
}
`;

const $ = (id) => document.getElementById(id);
const PRIVATE_KEY = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;

const state = {
  /** Certificates the device presents, leaf first: { pem, id, name } */
  chain: [],
  /** Registered CAs: { pem, id, name, status, autoRegistrationStatus, certificateMode } */
  cas: [],
};
let LIMITS = null;

// What the core said, kept while nothing it depends on changes.
const infoCache = { now: null, byKey: new Map() };
const issuerCache = new Map();

/** The core's view of a certificate (role: "device" or "ca") at `now`. */
function infoOf(cert, role, now) {
  if (infoCache.now !== now) {
    infoCache.now = now;
    infoCache.byKey.clear();
  }
  const key = `${cert.id}|${role}`;
  let found = infoCache.byKey.get(key);
  if (!found) {
    found = inspectCertificate(cert.pem, { now, role })[0];
    infoCache.byKey.set(key, found);
  }
  return found;
}

/** Whether the registered CA `ca` issued `cert`, by the core's rule (names as DER and the signature). */
function issued(cert, ca) {
  const key = `${cert.id}|${ca.id}`;
  if (!issuerCache.has(key)) issuerCache.set(key, issuedBy(cert.pem, ca.pem));
  return issuerCache.get(key);
}

// --- small DOM helpers (text only: certificate fields are never parsed as HTML) -------

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

function announce(text) {
  const s = $("status");
  s.textContent = "";
  setTimeout(() => (s.textContent = text), 30);
}

function shortId(id) {
  return `${id.slice(0, 8)}…`;
}

/** RFC 3339 in UTC, as the core writes dates in its messages: 2026-06-01T00:00:00Z. */
function fmtDate(ms) {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString().replace(".000Z", "Z");
}

function fmtBytes(n) {
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)} KiB`;
  return `${n} bytes`;
}

// --- messages --------------------------------------------------------------------------

function showMessage(text, kind = "error") {
  const box = $("messages");
  const item = h(
    "div",
    { class: `message ${kind}` },
    h("span", { class: "message-text" }, text),
    h("button", { type: "button", class: "dismiss", "aria-label": "Dismiss this message", onclick: () => item.remove() }, "×"),
  );
  box.append(item);
  while (box.children.length > 4) box.firstElementChild.remove();
}

function clearMessages() {
  $("messages").replaceChildren();
}

function errorText(e) {
  if (isJitrError(e)) return `${e.message} (${e.code})`;
  if (e instanceof Error) return e.message;
  return String(e);
}

/** How much a drop zone reads, and what the bound is for. */
function bound(kind) {
  return kind === "ca"
    ? { length: LIMITS.maxCaBundlePemLength, what: `a CA bundle of at most ${LIMITS.maxCaBundleLength.toLocaleString("en")} certificates` }
    : { length: LIMITS.maxPemLength, what: `a chain of at most ${LIMITS.maxChainLength} certificates` };
}

// --- reading input ---------------------------------------------------------------------

/** Certificates in one input (text or bytes: PEM, DER or PKCS#7), or a message saying what is wrong. */
function readCertificates(input, label, kind) {
  try {
    const role = kind === "ca" ? "ca" : "any";
    return inspectCertificate(input, { now: evaluationTime(), role }).map((c) => ({ pem: c.pem, id: c.id, name: label }));
  } catch (e) {
    showMessage(`${label}: ${errorText(e)}`);
    return [];
  }
}

async function readFiles(files, kind) {
  clearMessages();
  const added = [];
  for (const file of files) {
    if (file.size === 0) {
      showMessage(`${file.name}: the file is empty.`);
      continue;
    }
    const { length, what } = bound(kind);
    if (file.size > length) {
      showMessage(`${file.name}: the file is ${fmtBytes(file.size)}; at most ${fmtBytes(length)} is read (${what}). Is this the right file?`);
      continue;
    }
    const bytes = new Uint8Array(await file.arrayBuffer());
    added.push(...readCertificates(bytes, file.name, kind));
  }
  addCertificates(added, kind);
}

function readText(kind, pasted) {
  const area = $(`${kind}-text`);
  const text = pasted ?? area.value;
  clearMessages();
  if (PRIVATE_KEY.test(text)) {
    // Never keep or show a private key: a paste never reaches the box, typed text is cleared.
    area.value = "";
    showMessage(
      "That text contains a private key. It was not read, stored or shown, and the box is empty. " +
        "Only certificates are needed here; keep the key secret.",
    );
    return;
  }
  if (text.trim() === "") {
    showMessage("The box is empty: paste one or more PEM certificates (-----BEGIN CERTIFICATE-----).");
    return;
  }
  const { length, what } = bound(kind);
  if (text.length > length) {
    area.value = "";
    showMessage(
      `The ${pasted === undefined ? "text in the box" : "pasted text"} is ${text.length.toLocaleString("en")} characters; ` +
        `at most ${length.toLocaleString("en")} are read (${what}).`,
    );
    return;
  }
  const added = readCertificates(text, kind === "device" ? "Pasted text" : "Pasted CA", kind);
  // Added: the box empties. Refused: the text stays in the box to be corrected.
  area.value = added.length ? "" : text;
  addCertificates(added, kind);
}

function addCertificates(certs, kind) {
  if (!certs.length) return;
  if (kind === "device") {
    const room = LIMITS.maxChainLength - state.chain.length;
    if (certs.length > room) {
      showMessage(`A chain holds at most ${LIMITS.maxChainLength} certificates; ${certs.length - Math.max(room, 0)} were not added.`);
    }
    state.chain.push(...certs.slice(0, Math.max(room, 0)));
    announce(`${Math.min(certs.length, Math.max(room, 0))} certificate(s) added to the chain.`);
  } else {
    let added = 0;
    for (const c of certs) {
      if (state.cas.some((x) => x.id === c.id)) {
        showMessage(`${c.name}: the CA ${shortId(c.id)} is already registered (ResourceAlreadyExistsException).`, "info");
        continue;
      }
      if (state.cas.length >= LIMITS.maxCaBundleLength) {
        showMessage(`At most ${LIMITS.maxCaBundleLength.toLocaleString("en")} CA certificates are listed here.`);
        break;
      }
      state.cas.push({
        pem: c.pem,
        id: c.id,
        name: c.name,
        status: "ACTIVE",
        autoRegistrationStatus: "ENABLE",
        certificateMode: "DEFAULT",
      });
      added++;
    }
    if (added) announce(`${added} CA certificate(s) registered.`);
  }
  render();
}

// --- time ------------------------------------------------------------------------------

function evaluationTime() {
  const v = $("when").value;
  if (!v) return Date.now();
  const t = new Date(v).getTime();
  return Number.isNaN(t) ? Date.now() : t;
}

// --- rendering -------------------------------------------------------------------------

function copyButton(text, what) {
  return h(
    "button",
    {
      type: "button",
      class: "copy secondary",
      "aria-label": `Copy ${what}`,
      onclick: async (ev) => {
        const btn = ev.currentTarget;
        try {
          await navigator.clipboard.writeText(text);
        } catch {
          const ta = h("textarea", { class: "visually-hidden" });
          ta.value = text;
          document.body.append(ta);
          ta.select();
          document.execCommand("copy");
          ta.remove();
        }
        btn.textContent = "Copied";
        announce(`${what} copied`);
        setTimeout(() => (btn.textContent = "Copy"), 1500);
      },
    },
    "Copy",
  );
}

function roleBadge(info, position) {
  if (position === 0) return h("span", { class: "badge device" }, "Device (leaf)");
  if (info.isCa && info.selfSigned) return h("span", { class: "badge root" }, "Root CA");
  if (info.isCa) return h("span", { class: "badge ca" }, "CA");
  return h("span", { class: "badge other" }, "Certificate");
}

const SEVERITY_LABEL = { error: "Problem", warning: "Warning", info: "Note" };

function findingsList(findings) {
  if (!findings.length) {
    return h("p", { class: "no-findings" }, h("span", { "aria-hidden": "true" }, "✓ "), "No problems found.");
  }
  return h(
    "ul",
    { class: "findings", "aria-label": "Findings" },
    findings.map((f) =>
      h(
        "li",
        { class: `finding ${f.severity}` },
        h("span", { class: "sev" }, SEVERITY_LABEL[f.severity] ?? f.severity),
        h("span", { class: "finding-text" }, `${capitalise(f.message)}. `, h("code", { class: "code" }, f.code)),
      ),
    ),
  );
}

function fieldRows(info) {
  const rows = [
    ["Subject", info.subject || "(empty)"],
    ["Issuer", info.issuer || "(empty)"],
    ["Serial", info.serialNumber],
    ["Valid", `${fmtDate(info.notBefore)} → ${fmtDate(info.notAfter)}`],
    ["Key", info.keyAlgorithm],
    ["Signature", info.signatureAlgorithm],
    [
      "Basic constraints",
      info.hasBasicConstraints ? (info.isCa ? `CA${info.pathLen !== null ? `, path length ≤ ${info.pathLen}` : ""}` : "not a CA") : "absent",
    ],
    ["Key usage", info.keyUsage ? info.keyUsage.join(", ") || "(none)" : "absent"],
    ["Extended key usage", info.extendedKeyUsage ? info.extendedKeyUsage.join(", ") || "(none)" : "absent"],
  ];
  if (info.subjectAlternativeNames.length) rows.push(["Alternative names", info.subjectAlternativeNames.join(", ")]);
  if (info.subjectKeyIdentifier) rows.push(["Subject key ID", info.subjectKeyIdentifier]);
  if (info.authorityKeyIdentifier) rows.push(["Authority key ID", info.authorityKeyIdentifier]);
  rows.push(["X.509 version", `v${info.version}`]);
  return h("dl", { class: "fields" }, rows.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

/** Every extension, as `openssl x509 -text` lists them: name (or OID), critical flag, value. */
function extensionList(info) {
  if (!info.extensions.length) {
    return h("p", { class: "no-extensions" }, info.version < 3 ? `None: an X.509 v${info.version} certificate has no extensions.` : "None.");
  }
  return h(
    "dl",
    { class: "extensions" },
    info.extensions.map((x) => [
      h(
        "dt",
        {},
        h("span", { class: "ext-name" }, x.name ?? `Unknown extension ${x.oid}`),
        x.name ? h("span", { class: "ext-oid" }, ` ${x.oid}`) : null,
        x.critical ? h("span", { class: "critical" }, "critical") : null,
      ),
      h("dd", {}, h("pre", { class: "ext-value" }, x.value.join("\n"))),
    ]),
  );
}

function certificateCard(info, { badge, name, onRemove, removeLabel, controls }) {
  const title = info.subjectCommonName || info.subject || "(no subject)";
  const errors = info.findings.filter((f) => f.severity === "error").length;
  return h(
    "li",
    { class: `card${errors ? " has-errors" : ""}`, "data-id": info.id },
    h(
      "div",
      { class: "card-head" },
      badge,
      h("h3", { class: "card-title" }, title),
      h("button", { type: "button", class: "remove secondary", "aria-label": removeLabel, onclick: onRemove }, "Remove"),
    ),
    name ? h("p", { class: "source" }, `from ${name}`) : null,
    h(
      "div",
      { class: "id-row" },
      h("span", { class: "id-label" }, "Certificate ID"),
      h("code", { class: "cert-id" }, info.id),
      copyButton(info.id, `certificate ID of ${title}`),
    ),
    controls ?? null,
    findingsList(info.findings),
    h("details", { class: "more fields-panel" }, h("summary", {}, "Fields"), fieldRows(info)),
    h(
      "details",
      { class: "more extensions-panel" },
      h("summary", {}, `Extensions (${info.extensions.length})`),
      extensionList(info),
    ),
  );
}

function select(id, label, value, options, onchange) {
  return h(
    "div",
    { class: "field" },
    h("label", { for: id }, label),
    h(
      "select",
      { id, onchange: (ev) => onchange(ev.currentTarget.value) },
      options.map((o) => h("option", { value: o, selected: o === value }, o)),
    ),
  );
}

function renderChain(now) {
  const list = $("chain");
  const infos = [];
  list.replaceChildren(
    ...state.chain.map((c, i) => {
      const info = infoOf(c, i === 0 ? "device" : "ca", now);
      infos.push(info);
      const title = info.subjectCommonName || info.subject;
      return certificateCard(info, {
        badge: roleBadge(info, i),
        name: c.name,
        removeLabel: `Remove ${title} from the chain`,
        onRemove: () => {
          state.chain.splice(i, 1);
          render();
          announce(`${title} removed from the chain.`);
        },
      });
    }),
  );
  if (!state.chain.length) {
    list.replaceChildren(h("li", { class: "empty" }, "No certificates yet."));
  }
  return infos;
}

function renderCas(now) {
  const list = $("ca-list");
  const infos = [];
  list.replaceChildren(
    ...state.cas.map((ca, i) => {
      const info = infoOf(ca, "ca", now);
      infos.push(info);
      const title = info.subjectCommonName || info.subject;
      const set = (key) => (v) => {
        ca[key] = v;
        render();
        announce(`${title}: ${v}.`);
      };
      const controls = h(
        "div",
        { class: "ca-controls" },
        select(`ca-${i}-status`, "Status", ca.status, ["ACTIVE", "INACTIVE"], set("status")),
        select(`ca-${i}-auto`, "Auto-registration", ca.autoRegistrationStatus, ["ENABLE", "DISABLE"], set("autoRegistrationStatus")),
        select(`ca-${i}-mode`, "Mode", ca.certificateMode, ["DEFAULT", "SNI_ONLY"], set("certificateMode")),
      );
      return certificateCard(info, {
        badge: h("span", { class: `badge ${info.selfSigned ? "root" : "ca"}` }, info.selfSigned ? "Root CA" : "CA"),
        name: ca.name,
        removeLabel: `Deregister ${title}`,
        onRemove: () => {
          state.cas.splice(i, 1);
          render();
          announce(`${title} deregistered.`);
        },
        controls,
      });
    }),
  );
  if (!state.cas.length) {
    list.replaceChildren(h("li", { class: "empty" }, "No CA registered yet."));
  }
  return infos;
}

function verdictView(kind, title, ...body) {
  const box = $("verdict-body");
  box.className = `verdict ${kind}`;
  box.replaceChildren(h("p", { class: "verdict-title" }, title), ...body.filter((b) => b !== null && b !== undefined));
}

function renderVerdict(now, chainInfos, caInfos) {
  if (!state.chain.length) {
    verdictView(
      "neutral",
      "What would JITR decide?",
      h(
        "ol",
        { class: "howto" },
        h("li", {}, "Drop or paste the device certificate (and the CA it sends, if any) in ", h("strong", {}, "1"), "."),
        h("li", {}, "Add the CA certificates registered in the account in ", h("strong", {}, "2"), ", and set their status."),
        h("li", {}, "The verdict appears here: registered, allowed or refused, and why."),
      ),
    );
    return;
  }
  const leaf = chainInfos[0];
  const chain = state.chain.map((c) => c.pem);
  // The registered CAs that issued the leaf, by the core's rule.
  const issuers = state.cas.filter((ca) => issued(state.chain[0], ca));
  let sentCa = null;
  if ($("send-ca").checked) {
    // The device sends its CA: the registered CA that issued the leaf, when there is
    // exactly one and the chain lacks it.
    if (issuers.length === 1 && !state.chain.some((c) => c.id === issuers[0].id)) {
      sentCa = caInfos[state.cas.indexOf(issuers[0])];
      chain.push(issuers[0].pem);
    }
  }
  const known = $("known").value;
  const sni = $("sni").value.trim();
  const jitpOn = $("jitp-on").checked;
  let d;
  try {
    d = preflight({
      chain,
      registeredCas: state.cas.map(({ pem, status, autoRegistrationStatus, certificateMode }) => ({
        pem,
        status,
        autoRegistrationStatus,
        certificateMode,
        registrationConfig: jitpOn ? { templateBody: $("template").value } : null,
      })),
      registeredCertificates: known ? [{ certificateId: leaf.id, status: known }] : [],
      serverName: sni || null,
      account: $("account").value.trim(),
      now,
    });
  } catch (e) {
    verdictView("refused", "No verdict: the input is not usable.", h("p", {}, errorText(e)));
    return;
  }
  const leafName = leaf.subjectCommonName || leaf.subject;
  const sent = h(
    "p",
    { class: "verdict-context" },
    `Device ${leafName} (${shortId(leaf.id)}) presents ${chain.length} certificate${chain.length > 1 ? "s" : ""}`,
    sentCa ? ` (its CA ${sentCa.subjectCommonName || sentCa.subject} added, as the device sends it)` : "",
    sni ? `, with SNI ${sni}` : ", without SNI",
    `, at ${fmtDate(now)}.`,
  );
  const leafErrors = leaf.findings.filter((f) => f.severity === "error").length;
  const problems =
    leafErrors > 0
      ? h("p", { class: "verdict-note" }, `The device certificate has ${leafErrors} problem${leafErrors > 1 ? "s" : ""}: see its findings below.`)
      : null;
  const code = d.reason ? h("p", { class: "verdict-code" }, "Reason code ", h("code", {}, d.reason)) : null;
  const event = d.event
    ? h(
        "div",
        { class: "event" },
        h("p", { class: "event-label" }, "Topic"),
        h("div", { class: "mono-row" }, h("code", { class: "topic" }, d.topic), copyButton(d.topic, "topic")),
        h("p", { class: "event-label" }, "Payload"),
        h("div", { class: "mono-row" }, h("pre", { class: "payload" }, h("code", {}, d.event)), copyButton(d.event, "event payload")),
      )
    : null;
  const ca = d.caCertificateId ? `CA ${shortId(d.caCertificateId)}` : "its CA";
  if (d.reason === "REGISTERED_PENDING_ACTIVATION") {
    verdictView(
      "registered",
      `This device will be registered as PENDING_ACTIVATION under ${ca}; the event below will be published.`,
      sent,
      h(
        "p",
        {},
        "The connection itself is refused this time (AWS closes it; over MQTT, CONNACK 5, not authorized). ",
        "Once the activation handler sets the certificate ACTIVE and attaches a policy, the device connects.",
      ),
      event,
      problems,
    );
  } else if (d.reason === "PROVISIONED") {
    verdictView(
      "registered",
      `This device will be provisioned by the template of ${ca}: registered, given its thing and policies, and activated.`,
      sent,
      h("p", { class: "verdict-reason" }, capitalise(d.message) + "."),
      h("p", {}, "The first connection itself is refused (AWS closes it); the device connects on its next attempt. See 4 for everything the template creates."),
      code,
      event,
      problems,
    );
  } else if (d.reason === "PROVISIONING_FAILED") {
    verdictView(
      "pending",
      `This device will be registered under ${ca}, but its template cannot provision it: it stays PENDING_ACTIVATION.`,
      sent,
      h("p", { class: "verdict-reason" }, capitalise(d.message) + "."),
      code,
      event,
      problems,
    );
  } else if (d.allowed) {
    verdictView("allowed", "The connection is allowed.", sent, h("p", {}, capitalise(d.message) + "."), problems);
  } else if (d.reason === "PENDING_ACTIVATION") {
    verdictView(
      "pending",
      `Waiting for activation: the certificate is PENDING_ACTIVATION under ${ca}.`,
      sent,
      h("p", {}, capitalise(d.message) + ". The connection is refused."),
      code,
      event,
      problems,
    );
  } else {
    // A hint (the decision's own reason comes first): the usual cause.
    const hint = issuers.length
      ? null
      : h(
          "p",
          { class: "verdict-hint" },
          `No registered CA issued this certificate (its issuer is ${leaf.issuer || "empty"}): register the CA that directly signed it in 2.`,
        );
    verdictView(
      "refused",
      "Refused: this device will not be registered.",
      sent,
      h("p", { class: "verdict-reason" }, capitalise(d.message) + "."),
      code,
      hint,
      problems,
    );
  }
}

function capitalise(s) {
  return s ? s[0].toUpperCase() + s.slice(1) : s;
}

// --- provisioning (4) --------------------------------------------------------------------

/** The template's policy with a document, for "Take the template's policy" in 5. */
let templatePolicy = null;

function definitionList(rows) {
  return h(
    "dl",
    { class: "fields" },
    rows.filter(([, v]) => v !== null && v !== undefined).map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]),
  );
}

function renderProvisioning() {
  const box = $("jitp-result");
  templatePolicy = null;
  $("policy-from-template").hidden = true;
  const templateBody = $("template").value;
  if (!templateBody.trim()) {
    box.replaceChildren(h("p", { class: "result-none" }, "Paste a provisioning template above."));
    return;
  }
  if (!state.chain.length) {
    box.replaceChildren(h("p", { class: "result-none" }, "Add the device certificate in 1 to see what this template would do with it."));
    return;
  }
  let out;
  try {
    out = previewProvisioning({
      templateBody,
      certificatePem: state.chain[0].pem,
      account: $("account").value.trim(),
      region: $("region").value.trim(),
    });
  } catch (e) {
    box.replaceChildren(h("p", { class: "result-title bad" }, "No preview: ", errorText(e)));
    return;
  }
  if (!out.provisioned) {
    const f = out.failure;
    const title =
      f.stage === "TEMPLATE"
        ? "AWS would not store this template."
        : "This device would not be provisioned: its certificate stays PENDING_ACTIVATION.";
    box.replaceChildren(
      h("p", { class: "result-title bad" }, title),
      h("p", { class: "result-reason" }, capitalise(f.message) + "."),
      definitionList([
        ["Code", h("code", {}, f.code)],
        ["Missing parameter", f.parameter],
        ["Certificate field", f.certificateField],
        ["Where in the template", f.path],
        ["Error", f.error],
      ]),
    );
    return;
  }
  const t = out.thing;
  const attributes = t ? Object.entries(t.attributes).map(([k, v]) => `${k}=${v}`).join(", ") : "";
  const thing = t
    ? [
        h("h3", { class: "result-h" }, "Thing"),
        definitionList([
          ["Name", h("code", { class: "thing-name" }, t.thingName)],
          ["Thing type", t.thingTypeName ?? "none"],
          ["Thing groups", t.thingGroups.length ? t.thingGroups.join(", ") : "none"],
          ["Attributes", attributes || "none"],
          ["Billing group", t.billingGroup],
        ]),
      ]
    : [h("p", {}, "The template makes no thing.")];
  const policies = out.policies.map((p) =>
    h(
      "li",
      { class: "policy-plan" },
      h("span", {}, p.create ? "Creates " : "Attaches the existing policy "),
      h("code", { class: "policy-name" }, p.policyName),
      p.policyDocument ? h("pre", { class: "payload" }, h("code", {}, p.policyDocument)) : null,
    ),
  );
  box.replaceChildren(
    h("p", { class: "result-title good" }, `This device would be provisioned and set ${out.certificateStatus}.`),
    ...thing,
    h("h3", { class: "result-h" }, `Policies (${out.policies.length})`),
    policies.length ? h("ul", { class: "plans" }, policies) : h("p", {}, "None."),
    h("details", { class: "more" }, h("summary", {}, "Parameters"), definitionList(Object.entries(out.parameters))),
  );
  templatePolicy = out.policies.find((p) => p.policyDocument) ?? null;
  $("policy-from-template").hidden = templatePolicy === null;
}

// --- policy (5) ---------------------------------------------------------------------------

const REQUESTS = [
  { id: "try-connect", action: "CONNECT", verb: "Connect as", kind: "client", hint: "client ID", example: "sensor-0001" },
  { id: "try-publish", action: "PUBLISH", verb: "Publish to", kind: "topic", hint: "topic", example: "sensor-0001/telemetry" },
  { id: "try-subscribe", action: "SUBSCRIBE", verb: "Subscribe to", kind: "topicfilter", hint: "topic filter", example: "sensor-0001/commands/#" },
  { id: "try-receive", action: "RECEIVE", verb: "Receive on", kind: "topic", hint: "topic", example: "sensor-0001/commands/reboot" },
];

/** The Policy panel's fields, one per request: its verb, what it names, an example value. */
function requestFields() {
  return REQUESTS.map((r) =>
    h(
      "div",
      { class: "field" },
      h("label", { for: r.id }, `${r.verb} `, h("span", { class: "optional" }, `(${r.hint})`)),
      h("input", { type: "text", id: r.id, value: r.example, autocomplete: "off", spellcheck: "false" }),
    ),
  );
}

const DECISION_TEXT = { ALLOWED: "Allowed", EXPLICIT_DENY: "Denied by a Deny statement", IMPLICIT_DENY: "Denied: nothing allows it" };

/** The statement at `index` of a policy document, as its author wrote it (for display). */
function statementText(docText, index) {
  try {
    const doc = JSON.parse(docText);
    const st = Array.isArray(doc.Statement) ? doc.Statement[index] : doc.Statement;
    return JSON.stringify(st, null, 2);
  } catch {
    return null;
  }
}

function renderPolicy(now) {
  const box = $("policy-result");
  const policyDocument = $("policy-doc").value;
  const policyName = $("policy-name").value.trim();
  if (!policyDocument.trim()) {
    box.replaceChildren(h("p", { class: "result-none" }, "Paste a policy document above."));
    return;
  }
  const account = $("account").value.trim();
  const region = $("region").value.trim();
  const arn = (kind, name) => `arn:aws:iot:${region}:${account}:${kind}/${name}`;
  const tries = REQUESTS.map((r) => ({ ...r, name: $(r.id).value }));
  const context = { region, account, now, clientId: tries[0].name };
  if (state.chain.length) context.certificatePem = state.chain[0].pem;
  let out;
  try {
    out = authorize({
      policies: [{ policyName, policyDocument }],
      context,
      authInfos: tries.map((t) => ({ actionType: t.action, resources: [arn(t.kind, t.name)] })),
    });
  } catch (e) {
    box.replaceChildren(h("p", { class: "result-title bad" }, "No decision: ", errorText(e)));
    return;
  }
  box.replaceChildren(
    h(
      "ul",
      { class: "decisions" },
      out.authResults.map((r, i) => {
        const t = tries[i];
        const statements = r.decidingStatements.map((st) => {
          const text = statementText(policyDocument, st.index);
          return h(
            "div",
            { class: "statement" },
            h("p", { class: "statement-ref" }, `Statement ${st.index + 1} of ${st.policyName}`, st.sid ? ` (Sid ${st.sid})` : ""),
            text ? h("pre", { class: "payload" }, h("code", {}, text)) : null,
          );
        });
        const missing = r.missingContextValues.length
          ? h("p", { class: "missing" }, `Without a value here: ${r.missingContextValues.join(", ")}.`)
          : null;
        return h(
          "li",
          { class: `decision ${r.authDecision.toLowerCase().replace("_", "-")}`, "data-action": t.action },
          h(
            "p",
            { class: "decision-head" },
            h("span", { class: "decision-badge" }, DECISION_TEXT[r.authDecision]),
            h("span", { class: "decision-request" }, `${t.verb} `, h("code", {}, t.name)),
          ),
          h("p", { class: "decision-code" }, h("code", {}, r.authDecision), " ", h("span", { class: "resource" }, r.authInfo.resources[0])),
          ...statements,
          missing,
        );
      }),
    ),
  );
}

function render() {
  const now = evaluationTime();
  const chainInfos = renderChain(now);
  const caInfos = renderCas(now);
  renderVerdict(now, chainInfos, caInfos);
  renderProvisioning();
  renderPolicy(now);
}

// --- wiring ----------------------------------------------------------------------------

function wireDropZone(zone, kind) {
  const over = (ev) => {
    ev.preventDefault();
    zone.classList.add("over");
  };
  zone.addEventListener("dragenter", over);
  zone.addEventListener("dragover", over);
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (ev) => {
    ev.preventDefault();
    zone.classList.remove("over");
    const dt = ev.dataTransfer;
    if (dt?.files?.length) {
      readFiles([...dt.files], kind);
    } else if (dt) {
      const text = dt.getData("text/plain");
      if (text) {
        $(`${kind}-text`).value = text;
        readText(kind);
      }
    }
  });
}

/** The two ways in of certificates, 1 (the device's chain) and 2 (the registered CAs): what
 * each one's drop zone, paste box and button say. */
const SOURCES = {
  device: { files: "certificate files", pem: "Device certificate PEM", add: "Add to the chain" },
  ca: { files: "CA certificate files", pem: "CA certificate PEM", add: "Register" },
};

/** The files a chooser offers: PEM, DER and PKCS#7, by ending and by media type. */
const ACCEPT =
  ".pem,.crt,.cer,.der,.cert,.txt,.p7b,.p7c,application/x-pem-file,application/x-x509-ca-cert,application/x-pkcs7-certificates";

/** A source's drop zone (with its file chooser) and paste box, in place of its
 * `data-source` placeholder; `main` wires them by their IDs (`<kind>-drop`, ...). */
function sourceZone(placeholder) {
  const kind = placeholder.dataset.source;
  const says = SOURCES[kind];
  placeholder.replaceWith(
    h(
      "div",
      { class: "drop", id: `${kind}-drop`, "data-kind": kind },
      h("p", {}, h("span", { class: "drop-icon", "aria-hidden": "true" }, "⇩"), ` Drop ${says.files} here`),
      h("p", { class: "drop-or" }, "or ", h("button", { type: "button", class: "secondary", "data-choose": `${kind}-files` }, "Choose files…")),
      h("input", { type: "file", id: `${kind}-files`, multiple: true, hidden: true, accept: ACCEPT }),
    ),
    h(
      "details",
      { class: "paste" },
      h("summary", {}, "Paste PEM text instead"),
      h("label", { for: `${kind}-text`, class: "visually-hidden" }, says.pem),
      h("textarea", {
        id: `${kind}-text`,
        rows: "6",
        spellcheck: "false",
        autocomplete: "off",
        autocapitalize: "off",
        placeholder: "-----BEGIN CERTIFICATE-----\n…\n-----END CERTIFICATE-----",
      }),
      h("div", { class: "row" }, h("button", { type: "button", id: `${kind}-add` }, says.add)),
    ),
  );
}

async function loadExample() {
  clearMessages();
  const get = async (name) => {
    const res = await fetch(`examples/${name}`);
    if (!res.ok) throw new Error(`examples/${name}: ${res.status}`);
    return res.text();
  };
  try {
    const [device, ca] = await Promise.all([get("device.pem"), get("fleet-ca.pem")]);
    state.chain = readCertificates(device, "examples/device.pem", "device");
    state.cas = [];
    addCertificates(readCertificates(ca, "examples/fleet-ca.pem", "ca"), "ca");
    announce("Example loaded: a device certificate and its CA.");
  } catch (e) {
    showMessage(`The example could not be loaded: ${errorText(e)}`);
  }
}

async function main() {
  for (const placeholder of document.querySelectorAll("[data-source]")) sourceZone(placeholder);
  $("requests").replaceChildren(...requestFields());
  try {
    // The module streams from this page's own origin (pkg/ next to www/).
    await init(new URL("../pkg/jitr_wasm_bg.wasm", import.meta.url));
  } catch (e) {
    verdictView(
      "refused",
      "This page could not start its WebAssembly module.",
      h("p", {}, `${errorText(e)}. Serve the page over http (for example: node jitr-wasm/tools/serve.mjs) after building it (jitr-wasm/build.sh).`),
    );
    return;
  }
  LIMITS = limits();
  $("version").textContent = version();
  // A file dropped outside a drop zone must not navigate away from the page.
  for (const type of ["dragover", "drop"]) window.addEventListener(type, (ev) => ev.preventDefault());
  for (const zone of document.querySelectorAll(".drop")) wireDropZone(zone, zone.dataset.kind);
  for (const btn of document.querySelectorAll("[data-choose]")) {
    btn.addEventListener("click", () => $(btn.dataset.choose).click());
  }
  for (const kind of Object.keys(SOURCES)) {
    const input = $(`${kind}-files`);
    input.addEventListener("change", () => {
      readFiles([...input.files], kind);
      input.value = "";
    });
    const area = $(`${kind}-text`);
    // A paste is read at once, before it reaches the box (so that a key or 10 MB of text
    // never lands there); typed text on the button or Ctrl+Enter.
    area.addEventListener("paste", (ev) => {
      const text = ev.clipboardData?.getData("text/plain");
      if (typeof text !== "string") return;
      ev.preventDefault();
      readText(kind, area.value.trim() ? `${area.value}\n${text}` : text);
    });
    area.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) readText(kind);
    });
    $(`${kind}-add`).addEventListener("click", () => readText(kind));
  }
  $("device-clear").addEventListener("click", () => {
    state.chain = [];
    clearMessages();
    render();
    announce("The chain is empty.");
  });
  $("example").addEventListener("click", loadExample);
  for (const id of ["send-ca", "known", "when", "jitp-on"]) $(id).addEventListener("change", render);
  for (const id of ["sni", "account", "region", "template", "policy-name", "policy-doc", ...REQUESTS.map((r) => r.id)]) {
    $(id).addEventListener("input", render);
  }
  $("template").value = AWS_EXAMPLE_TEMPLATE;
  $("policy-doc").value = EXAMPLE_POLICY;
  $("template-example").addEventListener("click", () => {
    $("template").value = AWS_EXAMPLE_TEMPLATE;
    render();
    announce("AWS's example template loaded.");
  });
  $("policy-example").addEventListener("click", () => {
    $("policy-doc").value = EXAMPLE_POLICY;
    $("policy-name").value = "DevicePolicy";
    render();
    announce("Example policy loaded.");
  });
  $("policy-from-template").addEventListener("click", () => {
    if (!templatePolicy) return;
    $("policy-name").value = templatePolicy.policyName;
    try {
      $("policy-doc").value = JSON.stringify(JSON.parse(templatePolicy.policyDocument), null, 2);
    } catch {
      $("policy-doc").value = templatePolicy.policyDocument;
    }
    render();
    announce("The template's policy is in 5.");
  });
  $("when-now").addEventListener("click", () => {
    $("when").value = "";
    render();
  });
  render();
  document.body.dataset.ready = "true";
}

main();

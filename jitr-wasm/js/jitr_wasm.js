// jitr-wasm: AWS IoT Just-in-Time Registration in JavaScript, from jitr-core compiled to
// WebAssembly. This module is the public API: it checks every argument's type and size
// before anything is copied into WebAssembly, encodes requests as JSON (Dates as epoch
// milliseconds), and turns the core's errors into JitrErrors. Every rule, limit and
// sentence is the core's (the binding in src/lib.rs only converts).
//
// Browsers and bundlers: `await init()` first. Node: ready on import or require.
import * as wasm from "./internal/jitr_wasm_glue.js";

/** Set once the module is instantiated: the core's limits and vocabularies. */
let state = null;

const BRAND = Symbol.for("jitr-wasm.JitrError");

/**
 * An error from jitr: `code` (also its `name`) is the AWS exception name, e.g.
 * "CertificateValidationException"; `message` says why.
 */
export class JitrError extends Error {
  constructor(code, message, details = undefined) {
    super(message);
    Object.defineProperty(this, "name", { value: code, writable: true, configurable: true });
    this.code = code;
    if (details?.resourceId !== undefined) this.resourceId = details.resourceId;
    if (details?.resourceArn !== undefined) this.resourceArn = details.resourceArn;
  }

  // `instanceof` holds across copies of this package (its ES module and CommonJS builds).
  static [Symbol.hasInstance](value) {
    return this === JitrError ? isJitrError(value) : Function.prototype[Symbol.hasInstance].call(this, value);
  }
}
Object.defineProperty(JitrError.prototype, BRAND, { value: true });

/** Whether `value` is a JitrError (from any copy of this package). */
export function isJitrError(value) {
  return typeof value === "object" && value !== null && value[BRAND] === true;
}

// --- loading ---------------------------------------------------------------------------

/**
 * Instantiates the WebAssembly module: from `module` (a URL, a Response, the bytes of
 * jitr_wasm_bg.wasm or a WebAssembly.Module) or, without one, from the bytes embedded in
 * this package. Resolves at once when already done (always, in Node).
 */
export default async function init(module = undefined) {
  if (module !== undefined) checkModuleSource(module, "init's module");
  if (state !== null) return;
  const source = module ?? (await import("./internal/jitr_wasm_bytes.js")).default();
  await wasm.default({ module_or_path: source });
  ready();
}

/** Instantiates the WebAssembly module synchronously from its bytes or a WebAssembly.Module. */
export function initSync(module) {
  if (!(isBytes(module) || module instanceof WebAssembly.Module)) {
    throw invalid(`initSync takes the bytes of jitr_wasm_bg.wasm or a WebAssembly.Module, got ${describe(module)}`);
  }
  if (state !== null) return;
  wasm.initSync({ module });
  ready();
}

function checkModuleSource(source, what) {
  const ok =
    typeof source === "string" ||
    (typeof URL === "function" && source instanceof URL) ||
    (typeof Request === "function" && source instanceof Request) ||
    (typeof Response === "function" && source instanceof Response) ||
    isBytes(source) ||
    source instanceof WebAssembly.Module ||
    typeof source?.then === "function";
  if (!ok) {
    throw invalid(`${what} must be a URL, a Response, the module's bytes or a WebAssembly.Module, got ${describe(source)}`);
  }
}

function ready() {
  const codes = wasm.codes();
  state = { limits: wasm.limits(), codes, errors: new Set(codes.error) };
}

function need() {
  if (state === null) {
    throw invalid("jitr-wasm is not initialised: await init() first (in Node it is ready on import)");
  }
  return state;
}

// --- the API ---------------------------------------------------------------------------

/** Inspects every certificate in `input`: its ID, fields, extensions and findings. */
export function inspectCertificate(input, options = undefined) {
  const source = certificateInput(input, "input");
  const request = json(options, "options");
  return call(() => wasm.inspectCertificate(source, request));
}

/** The AWS certificate ID of the one certificate in `input`. */
export function certificateId(input) {
  const source = certificateInput(input, "input");
  return call(() => wasm.certificateId(source));
}

/** Whether `issuer` issued `certificate`, by the rule JITR links a certificate to its CA with. */
export function issuedBy(certificate, issuer) {
  const cert = certificateInput(certificate, "certificate");
  const ca = certificateInput(issuer, "issuer");
  return call(() => wasm.issuedBy(cert, ca));
}

/** Checks a verification certificate as RegisterCACertificate does; throws what AWS would. */
export function checkVerificationCertificate(caPem, verificationPem, registrationCode, options = undefined) {
  const { limits } = need();
  const ca = text(caPem, "caPem", limits.maxInputLength, "CertificateValidationException");
  const verification = text(verificationPem, "verificationPem", limits.maxInputLength, "CertificateValidationException");
  const code = text(registrationCode, "registrationCode", limits.maxRequestLength);
  const request = json(options, "options");
  call(() => wasm.checkVerificationCertificate(ca, verification, code, request));
}

/** The decision JITR would make for `input.chain` with these CAs and certificates registered. */
export function preflight(input) {
  const { limits } = need();
  if (!isObject(input)) {
    throw invalid(`preflight takes an object {chain, registeredCas, ...}, got ${describe(input)}`);
  }
  const { chain, ...request } = input;
  if (chain === undefined || chain === null) {
    throw invalid("chain is required: the certificates the device presents, leaf first");
  }
  const entries = (Array.isArray(chain) ? chain : [chain]).map((entry, i) =>
    certificateInput(entry, Array.isArray(chain) ? `chain[${i}]` : "chain"),
  );
  const total = entries.reduce((sum, e) => sum + (typeof e === "string" ? e.length : e.byteLength), 0);
  if (total > limits.maxInputLength) {
    throw new JitrError(
      "CertificateValidationException",
      `the chain is ${total} characters and bytes; at most ${limits.maxInputLength} are read`,
    );
  }
  const body = json(request, "preflight's input");
  return call(() => wasm.preflight(entries, body));
}

/** AWS IoT's decision on TestAuthorization-style requests against policies, offline. */
export function authorize(input) {
  if (!isObject(input)) {
    throw invalid(`authorize takes an object {policies, context, authInfos}, got ${describe(input)}`);
  }
  const body = json(input, "authorize's input");
  return call(() => wasm.authorize(body));
}

/** What just-in-time provisioning would create from a template for a device certificate, or why not. */
export function previewProvisioning(input) {
  if (!isObject(input)) {
    throw invalid(
      `previewProvisioning takes an object {templateBody, certificatePem?, parameters?, ...}, got ${describe(input)}`,
    );
  }
  const body = json(input, "previewProvisioning's input");
  return call(() => wasm.previewProvisioning(body));
}

/** The exact registration event payload (JSON text, AWS's field order and types). */
export function registrationEvent(input) {
  if (!isObject(input)) {
    throw invalid(
      `registrationEvent takes an object {certificateId, caCertificateId, awsAccountId, ...}, got ${describe(input)}`,
    );
  }
  const request = json(input, "registrationEvent's input");
  return call(() => wasm.registrationEvent(request));
}

/** The MQTT topic registration events for a CA are published on. */
export function registrationTopic(caCertificateId) {
  const id = text(caCertificateId, "caCertificateId", need().limits.maxRequestLength);
  return call(() => wasm.registrationTopic(id));
}

/** Parses and validates a registration event payload. */
export function parseRegistrationEvent(payload) {
  const body = text(payload, "payload", need().limits.maxRequestLength);
  return call(() => wasm.parseRegistrationEvent(body));
}

/** The core's input limits. */
export function limits() {
  return { ...need().limits };
}

/** The core's vocabularies: refusal, finding and error codes, statuses, roles, operations. */
export function codes() {
  return structuredClone(need().codes);
}

/** The jitr-wasm version. */
export function version() {
  need();
  return wasm.version();
}

/** The certificates, CAs and policies of one account in one region: jitr-core's boto3-shaped API. */
export class Registry {
  #raw;

  constructor(options) {
    if (!isObject(options)) {
      throw invalid(`new Registry takes an object {account, region?, ...}, got ${describe(options)}`);
    }
    const request = json(options, "options");
    this.#raw = call(() => new wasm.Registry(request));
  }

  get account() {
    return this.#live().account;
  }

  get region() {
    return this.#live().region;
  }

  /** Runs a boto3 `iot` operation (snake_case name, camelCase parameters) at `now`. */
  call(operation, params = undefined, now = undefined) {
    const raw = this.#live();
    const { limits } = need();
    const op = text(operation, "operation", limits.maxRequestLength);
    let body;
    if (params === undefined || params === null) {
      body = undefined;
    } else if (typeof params === "string") {
      body = text(params, "params", limits.maxRequestLength);
    } else {
      body = json(params, "params");
    }
    const at = instant(now, "now");
    return call(() => raw.call(op, body, at));
  }

  /** The whole registry as JSON text. */
  exportState() {
    const raw = this.#live();
    return call(() => raw.exportState());
  }

  /** Releases the registry's memory (also done when it is garbage-collected). */
  free() {
    this.#raw?.free();
    this.#raw = undefined;
  }

  [Symbol.dispose ?? Symbol.for("Symbol.dispose")]() {
    this.free();
  }

  #live() {
    if (this.#raw === undefined) throw invalid("this Registry was freed");
    return this.#raw;
  }
}

// --- arguments -------------------------------------------------------------------------

function invalid(message) {
  return new JitrError("InvalidRequestException", message);
}

/** Runs a WebAssembly call, turning the core's errors into JitrErrors. */
function call(f) {
  try {
    return f();
  } catch (e) {
    if (e instanceof Error && state !== null && state.errors.has(e.name)) {
      throw new JitrError(e.name, e.message, e);
    }
    throw e;
  }
}

function describe(value) {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (Array.isArray(value)) return "an array";
  if (value instanceof Date) return "a Date";
  if (isBytes(value)) return "bytes";
  const type = typeof value;
  if (type === "object") return "an object";
  return `a ${type}`;
}

function isBytes(value) {
  return ArrayBuffer.isView(value) || Object.prototype.toString.call(value) === "[object ArrayBuffer]";
}

function isObject(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !isBytes(value) && !(value instanceof Date);
}

/** PEM text as it is, or bytes as a Uint8Array view, at most maxInputLength long. */
function certificateInput(value, what) {
  const { limits } = need();
  let source;
  if (typeof value === "string") {
    source = value;
  } else if (ArrayBuffer.isView(value)) {
    source = value instanceof Uint8Array ? value : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  } else if (isBytes(value)) {
    source = new Uint8Array(value);
  } else {
    throw invalid(`${what} must be PEM text (a string) or DER bytes (a Uint8Array or ArrayBuffer), got ${describe(value)}`);
  }
  const length = typeof source === "string" ? source.length : source.byteLength;
  if (length > limits.maxInputLength) {
    const unit = typeof source === "string" ? "characters" : "bytes";
    throw new JitrError(
      "CertificateValidationException",
      `${what} is ${length} ${unit}; at most ${limits.maxInputLength} are read`,
    );
  }
  return source;
}

function text(value, what, max, code = "InvalidRequestException") {
  if (typeof value !== "string") throw invalid(`${what} must be a string, got ${describe(value)}`);
  if (value.length > max) throw new JitrError(code, `${what} is ${value.length} characters; at most ${max} are accepted`);
  return value;
}

function instant(value, what) {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw invalid(`${what} is ${value}, not a time`);
    return value;
  }
  if (value instanceof Date) {
    const ms = value.getTime();
    if (Number.isNaN(ms)) throw invalid(`${what} is an invalid Date`);
    return ms;
  }
  throw invalid(`${what} must be epoch milliseconds (a number) or a Date, got ${describe(value)}`);
}

/** An options object as JSON text (Dates as epoch milliseconds), at most maxRequestLength. */
function json(value, what) {
  const { limits } = need();
  if (value === undefined || value === null) return "null";
  if (!isObject(value)) throw invalid(`${what} must be an object, got ${describe(value)}`);
  let body;
  try {
    body = JSON.stringify(value, replacer);
  } catch (e) {
    if (isJitrError(e)) throw e;
    throw invalid(`${what} cannot be read as JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (body.length > limits.maxRequestLength) {
    throw invalid(`${what} is ${body.length} characters as JSON; at most ${limits.maxRequestLength} are accepted`);
  }
  return body;
}

function replacer(key, value) {
  const raw = this[key];
  const name = key === "" ? "the value" : key;
  if (raw instanceof Date) return instant(raw, name);
  if (typeof raw === "number" && !Number.isFinite(raw)) throw invalid(`${name} is ${raw}, not a finite number`);
  if (typeof raw === "bigint" || typeof raw === "function" || typeof raw === "symbol") {
    throw invalid(`${name} is ${describe(raw)}, which cannot be sent`);
  }
  if (isBytes(raw)) throw invalid(`${name} holds bytes; give PEM text there`);
  return value;
}

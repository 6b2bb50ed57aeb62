#!/usr/bin/env python3
"""Writes the seed corpus of every fuzz target into fuzz/corpus/<target>/ (gitignored).

Sources, read in place and never committed:
- every DER and PEM file under the shared corpora (JITR_CORPORA_DIR, else
  ../shared/corpora beside the workspace root): pyca-x509, rustls-webpki-tests,
  x509-parser-assets, ...;
- the PEM strings inside x509-limbo/limbo.json (and its chains, for `decide`);
- the project's own generated vectors, tests/vectors/*.json (their certificates, the
  chains of their `connect` steps (also as PKCS#7 bundles), their CA registrations,
  events and API calls), and the policy documents of tests/vectors/policies/*.json (for
  `policy`).

Seeds are deduplicated by SHA-256 (the file name is the hash), so running this again
adds nothing. Input formats are those of fuzz/src/lib.rs. Standard library only.

Where they go: fuzz/corpus/<target>/ gets the vectors' and the corpora files' seeds (a
few thousand: what scripts/test-fuzz.sh's short runs load in seconds);
fuzz/corpus/limbo/<target>/ gets the ~30,000 certificates and chains of limbo.json,
which scripts/fuzz-long.sh adds (loading them takes libFuzzer minutes).

Usage: fuzz/extract_seeds.py [--quiet]
"""

import base64
import hashlib
import json
import os
import random
import re
import sys
from pathlib import Path

FUZZ = Path(__file__).resolve().parent
ROOT = FUZZ.parent
CORPUS = FUZZ / "corpus"

PEM_RE = re.compile(
    r"-----BEGIN ([A-Z0-9 ]+)-----\s*(.*?)-----END \1-----", re.DOTALL
)
# Files under the corpora that are not certificate material.
SKIP_SUFFIXES = {".md", ".json", ".txt", ".py", ".sh", ".rs", ".toml"}
# Flag bits of the `decide` and `register_ca` inputs (fuzz/src/lib.rs).
DECIDE_SNI = 0x01
REG_ACTIVE, REG_AUTO, REG_SNI_ONLY, REG_NO_VERIFICATION, REG_TEXT = 1, 2, 4, 8, 16


def corpora_dir():
    env = os.environ.get("JITR_CORPORA_DIR")
    if env:
        return Path(env)
    return ROOT.parent / "shared" / "corpora"


def pem_blocks(text):
    """(label, DER) of every decodable PEM block in text."""
    out = []
    for m in PEM_RE.finditer(text):
        body = "".join(
            line for line in m.group(2).splitlines() if ":" not in line
        )  # drop RFC 1421 headers
        try:
            out.append((m.group(1), base64.b64decode(body, validate=False)))
        except ValueError:
            pass
    return out


def strings_in(value):
    """Every string inside a JSON value."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            yield v
        elif isinstance(v, dict):
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)


class Seeds:
    def __init__(self, out):
        self.out = out
        self.by_target = {}

    def add(self, target, data):
        if isinstance(data, str):
            data = data.encode()
        if data:
            self.by_target.setdefault(target, {})[hashlib.sha256(data).hexdigest()] = data

    def cert_text(self, text, decide=True):
        """A PEM text: to `pem` whole, its blocks to `der`/`der_mutator` (and `decide`)."""
        self.add("pem", text)
        for label, der in pem_blocks(text):
            self.add("pem", "-----BEGIN %s-----\n%s\n-----END %s-----\n" % (
                label, base64.encodebytes(der).decode().strip(), label))
            self.add("der", der)
            if label in ("CERTIFICATE", "X509 CERTIFICATE"):
                self.add("der_mutator", der)
                if decide:
                    self.add("decide", bytes([DECIDE_SNI]) + der)

    def cert_der(self, der):
        self.add("der", der)
        self.add("der_mutator", der)
        self.add("decide", bytes([DECIDE_SNI]) + der)

    def write(self, quiet):
        for target, seeds in sorted(self.by_target.items()):
            d = self.out / target
            d.mkdir(parents=True, exist_ok=True)
            new = 0
            for name, data in seeds.items():
                p = d / name
                if not p.exists():
                    p.write_bytes(data)
                    new += 1
            if not quiet:
                print("seeds: %-28s %6d (%d new)" % (d.relative_to(FUZZ), len(seeds), new))


def from_corpora(seeds, limbo_seeds, corpora):
    if not corpora.is_dir():
        print("seeds: corpora not found at %s (set JITR_CORPORA_DIR); "
              "using the project's vectors only" % corpora)
        return
    for path in sorted(corpora.rglob("*")):
        if not path.is_file() or path.suffix in SKIP_SUFFIXES or "LICENSE" in path.name:
            continue
        data = path.read_bytes()
        if path.suffix in (".crl", ".crl_der") or b"BEGIN X509 CRL" in data:
            seeds.add("crl", data)
        if b"-----BEGIN" in data:
            seeds.cert_text(data.decode("latin-1"))
        elif data[:1] == b"\x30":
            seeds.cert_der(data)
    limbo = corpora / "x509-limbo" / "limbo.json"
    if limbo.is_file():
        from_limbo(limbo_seeds, limbo)


def from_limbo(seeds, path):
    with path.open("rb") as f:
        suite = json.load(f)
    for case in suite["testcases"]:
        peer = case["peer_certificate"]
        for s in [peer] + case["untrusted_intermediates"] + case["trusted_certs"]:
            seeds.cert_text(s, decide=False)
        # A chain as a device would send it (leaf, intermediates, root), for every case
        # that is not one of the thousands of near-identical BetterTLS ones.
        if not case["id"].startswith("bettertls::nameconstraints"):
            chain = [peer] + case["untrusted_intermediates"] + case["trusted_certs"][:1]
            der = b"".join(d for s in chain for _, d in pem_blocks(s))
            seeds.add("decide", bytes([DECIDE_SNI]) + der)
        for crl in case.get("crls") or []:
            seeds.add("crl", crl)
            for _, der in pem_blocks(crl):
                seeds.add("der", der)
                seeds.add("crl", der)


def api_operations():
    """The selector order of `api_call`: jitr_core::api::OPERATIONS, read from source."""
    src = (ROOT / "jitr-core" / "src" / "api" / "mod.rs").read_text()
    block = re.search(r"pub static OPERATIONS: &\[Operation\] = &table!\[(.*?)\];", src, re.DOTALL)
    if block is None:
        sys.exit("extract_seeds: OPERATIONS not found in jitr-core/src/api/mod.rs")
    ops = re.findall(r"^\s*([a-z_]+),\s*$", block.group(1), re.MULTILINE)
    if not ops:
        sys.exit("extract_seeds: OPERATIONS names no operations")
    return ops


def from_vectors(seeds):
    ops = api_operations()
    for path in sorted((ROOT / "tests" / "vectors").glob("*.json")):
        vector = json.loads(path.read_text())
        for s in strings_in(vector):
            if "-----BEGIN" in s:
                seeds.cert_text(s)
            elif s.startswith('{"certificateId"'):
                seeds.add("event_json", s)
        for step in vector["steps"]:
            op, args = step["op"], step["args"]
            if op in ops:
                seeds.add("api_call", bytes([ops.index(op)]) + json.dumps(args).encode())
            if op == "connect":
                ders = [d for pem in args["chain"] for _, d in pem_blocks(pem)]
                flags = DECIDE_SNI if args.get("serverName") else 0
                seeds.add("decide", bytes([flags]) + b"".join(ders))
                if ders:
                    seeds.add("pkcs7", p7b(ders))
            if op == "register_ca_certificate" and args.get("registrationConfig"):
                template = args["registrationConfig"].get("templateBody")
                if template:
                    seeds.add("template", template)
            if op == "register_ca_certificate":
                flags = (REG_ACTIVE if args.get("setAsActive") else 0) | (
                    REG_AUTO if args.get("allowAutoRegistration") else 0) | (
                    REG_SNI_ONLY if args.get("certificateMode") == "SNI_ONLY" else 0)
                ca, ver = args["caCertificate"], args.get("verificationCertificate")
                if ver is None:
                    flags |= REG_NO_VERIFICATION
                der = b"".join(d for pem in [ca, ver or ""] for _, d in pem_blocks(pem))
                seeds.add("register_ca", bytes([flags]) + der)
                seeds.add("register_ca", bytes([flags | REG_TEXT]) +
                          ca.encode() + b"\0" + (ver or "").encode())


def from_previews(seeds):
    """The templates of the JITP previews (tests/vectors/jitp.json), alone and with the
    preview's parameters after a NUL byte (the `template` target's input format)."""
    path = ROOT / "tests" / "vectors" / "jitp.json"
    if not path.is_file():
        return
    for preview in json.loads(path.read_text()).get("previews", []):
        body = preview["input"].get("templateBody")
        if not body:
            continue
        seeds.add("template", body)
        params = preview["input"].get("parameters")
        if params:
            seeds.add("template", body.encode() + b"\0" + json.dumps(params).encode())


def p7b(ders):
    """A certs-only PKCS#7 SignedData (DER) holding `ders`, as `openssl crl2pkcs7` writes it."""
    def tlv(tag, content):
        n = len(content)
        if n < 0x80:
            head = bytes([tag, n])
        else:
            size = n.to_bytes((n.bit_length() + 7) // 8, "big")
            head = bytes([tag, 0x80 | len(size)]) + size
        return head + content
    oid = lambda b: tlv(0x06, bytes(b))
    sd = (tlv(0x02, b"\x01") + tlv(0x31, b"") + tlv(0x30, oid([0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 1, 7, 1]))
          + tlv(0xa0, b"".join(ders)) + tlv(0x31, b""))
    return tlv(0x30, oid([0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 1, 7, 2]) + tlv(0xa0, tlv(0x30, sd)))


def from_policy_vectors(seeds):
    """Every policy document of tests/vectors/policies/*.json, as `policy` text seeds."""
    for path in sorted((ROOT / "tests" / "vectors" / "policies").glob("*.json")):
        for scenario in json.loads(path.read_text())["scenarios"]:
            for p in scenario["policies"]:
                doc = p["policyDocument"]
                text = doc if isinstance(doc, str) else json.dumps(doc)
                seeds.add("policy", b"\0" + text.encode())


def handmade(seeds):
    event = {"certificateId": "ab" * 32, "caCertificateId": "cd" * 32,
             "timestamp": 1623724243659, "certificateStatus": "PENDING_ACTIVATION",
             "awsAccountId": "123456789012",
             "certificateRegistrationTimestamp": "1623723165331"}
    seeds.add("event_json", json.dumps(event, separators=(",", ":")))
    seeds.add("event_json", json.dumps(dict(event, timestamp="x")))
    rng = random.Random(6)
    for n in (8, 32, 64, 128, 256, 512):
        seeds.add("registry_ops", bytes(rng.randrange(256) for _ in range(n)))


def main():
    quiet = "--quiet" in sys.argv
    seeds, limbo_seeds = Seeds(CORPUS), Seeds(CORPUS / "limbo")
    from_vectors(seeds)
    from_previews(seeds)


    from_policy_vectors(seeds)
    handmade(seeds)
    from_corpora(seeds, limbo_seeds, corpora_dir())
    seeds.write(quiet)
    limbo_seeds.write(quiet)


if __name__ == "__main__":
    main()

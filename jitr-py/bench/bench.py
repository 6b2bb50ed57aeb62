"""How much calling jitr from Python costs: each call timed from Python, beside the same
core call made directly in Rust (a loop timed inside the extension), as a ratio.

    python jitr-py/bench/bench.py [--quick]

- connect, known certificate: an ACTIVE device's chain (leaf + CA, DER bytes, as a TLS
  server holds it); the core hashes the leaf and finds its record.
- connect, new certificate: a device never seen before; the core verifies its signature
  against the CA (EC P-256) and registers it PENDING_ACTIVATION. Each repetition uses
  fresh registries, and Python and Rust see the same certificates.
- certificate_id: a PEM string to its AWS certificate ID (PEM decode, X.509 parse,
  SHA-256, hex).

Times are CPU time of the calling thread (``time.thread_time()``; the Rust loops run in
the same thread), so other processes on a shared machine disturb them little; each figure
is the best of several repetitions. Python's side includes the interpreter's loop and call
overhead, argument conversion and the returned objects; Rust's side is the same core
function in a Rust loop (its arguments converted once, before the loop).
"""

from __future__ import annotations

import argparse
import platform
import time
from datetime import datetime, timedelta, timezone
from typing import Callable, List, Sequence, Tuple

import jitr_iot
from jitr_iot import _jitr

SNI = "a1b2c3d4e5f6g7-ats.iot.us-east-1.amazonaws.com"
CODE = "be" * 32


def best(repeat: int, run: Callable[[], float]) -> float:
    return min(run() for _ in range(repeat))


def registry_with(ca: jitr_iot.GeneratedCertificate, proof: jitr_iot.GeneratedCertificate) -> jitr_iot.Registry:
    r = jitr_iot.Registry(registration_code=CODE)
    r.register_ca_certificate(
        caCertificate=ca.certificate_pem,
        verificationCertificate=proof.certificate_pem,
        setAsActive=True,
        allowAutoRegistration=True,
    )
    return r


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations (a smoke run)")
    args = parser.parse_args()
    n_known, n_new, n_id, repeat = (2_000, 200, 2_000, 2) if args.quick else (50_000, 2_000, 50_000, 5)

    start = datetime.now(timezone.utc) - timedelta(days=1)
    ca = jitr_iot.generate_ca("Bench CA", not_before=start)
    proof = jitr_iot.generate_verification_certificate(ca, CODE, not_before=start)
    ca_der = ca.certificate.to_der()

    # connect, known (ACTIVE) certificate.
    known = registry_with(ca, proof)
    device = jitr_iot.issue_certificate(ca, "known-device", not_before=start)
    known.register_certificate(certificatePem=device.certificate_pem, status="ACTIVE")
    chain = [device.certificate.to_der(), ca_der]
    assert known.connect(chain, SNI).allowed

    def py_known() -> float:
        connect = known.connect
        t = time.thread_time()
        for _ in range(n_known):
            connect(chain, SNI)
        return (time.thread_time() - t) / n_known

    def rust_known() -> float:
        t = time.thread_time()
        allowed = _jitr._bench_decide(known, [chain], SNI, n_known)
        elapsed = time.thread_time() - t
        assert allowed == n_known
        return elapsed / n_known

    # connect, new certificate: each repetition needs certificates no registry has seen.
    print(f"generating {n_new * repeat} device certificates ...", flush=True)
    batches: List[List[Sequence[bytes]]] = [
        [[jitr_iot.issue_certificate(ca, f"new-{r}-{i}", not_before=start).certificate.to_der(), ca_der] for i in range(n_new)]
        for r in range(repeat)
    ]
    py_batches = iter(batches)
    rust_batches = iter(batches)

    def py_new() -> float:
        registry = registry_with(ca, proof)
        chains = next(py_batches)
        connect = registry.connect
        t = time.thread_time()
        for c in chains:
            connect(c, SNI)
        elapsed = time.thread_time() - t
        assert len(registry.list_certificates(pageSize=250)["certificates"]) == min(n_new, 250)
        return elapsed / n_new

    def rust_new() -> float:
        registry = registry_with(ca, proof)
        chains = next(rust_batches)
        t = time.thread_time()
        allowed = _jitr._bench_decide(registry, chains, SNI)
        elapsed = time.thread_time() - t
        assert allowed == 0
        assert len(registry.list_certificates(pageSize=250)["certificates"]) == min(n_new, 250)
        return elapsed / n_new

    # certificate_id.
    pem = device.certificate_pem

    def py_id() -> float:
        certificate_id = jitr_iot.certificate_id
        t = time.thread_time()
        for _ in range(n_id):
            certificate_id(pem)
        return (time.thread_time() - t) / n_id

    def rust_id() -> float:
        t = time.thread_time()
        _jitr._bench_certificate_id(pem, n_id)
        return (time.thread_time() - t) / n_id

    rows: List[Tuple[str, float, float]] = []
    for name, py, rust in [
        ("registry.connect, known certificate", py_known, rust_known),
        ("registry.connect, new certificate", py_new, rust_new),
        ("certificate_id (PEM)", py_id, rust_id),
    ]:
        py_time, rust_time = best(repeat, py), best(repeat, rust)
        rows.append((name, py_time, rust_time))

    print(f"\njitr {jitr_iot.__version__}, CPython {platform.python_version()}, {platform.machine()}; CPU time, best of {repeat}\n")
    print("| call | Python | Rust | ratio |")
    print("| --- | ---: | ---: | ---: |")
    for name, py_time, rust_time in rows:
        print(f"| {name} | {py_time * 1e6:.2f} µs | {rust_time * 1e6:.2f} µs | {py_time / rust_time:.2f}× |")


if __name__ == "__main__":
    main()

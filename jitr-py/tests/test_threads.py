"""A Registry shared between threads, and the GIL released while the core works."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import List

import jitr_iot
from conftest import NOW, SNI


def test_many_threads_one_registry(
    registry: jitr_iot.Registry,
    ca: jitr_iot.GeneratedCertificate,
    ca_id: str,
    devices: List[jitr_iot.GeneratedCertificate],
) -> None:
    chains = [[d.certificate.to_der(), ca.certificate.to_der()] for d in devices]

    def worker(i: int) -> str:
        device = devices[i % len(devices)]
        reason = registry.connect(chains[i % len(devices)], SNI, NOW).reason
        assert reason in {"REGISTERED_PENDING_ACTIVATION", "PENDING_ACTIVATION", None}
        # Management calls interleave with decisions.
        registry.list_certificates_by_ca(caCertificateId=ca_id, pageSize=5)
        try:
            registry.update_certificate(certificateId=device.certificate_id, newStatus="ACTIVE", now=NOW)
        except jitr_iot.ResourceNotFoundException:
            pass  # another thread's connect has not registered it yet
        return reason or "ALLOWED"

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(worker, range(400)))
    # Each device was registered exactly once, whichever thread got there first.
    assert outcomes.count("REGISTERED_PENDING_ACTIVATION") == len(devices)
    listed = registry.list_certificates(pageSize=250)["certificates"]
    assert sorted(c["certificateId"] for c in listed) == sorted(d.certificate_id for d in devices)
    assert all(c["status"] == "ACTIVE" for c in listed)


def test_the_gil_is_released_while_the_core_works() -> None:
    """While another thread is inside a long core call (RSA key generation takes about a
    second), Python code in this thread keeps running. Were the GIL held, this thread
    would stall until the call returned."""
    done = threading.Event()
    result: List[jitr_iot.GeneratedCertificate] = []

    def generate() -> None:
        result.append(jitr_iot.generate_ca("Slow RSA CA", "RSA_2048"))
        done.set()

    worker = threading.Thread(target=generate)
    started = time.perf_counter()
    worker.start()
    ticks = 0
    while not done.is_set():
        ticks += 1
        time.sleep(0)  # a pure-Python loop that needs the GIL for every iteration
    elapsed = time.perf_counter() - started
    worker.join()
    assert result and result[0].certificate.key_algorithm == "RSA_2048"
    assert elapsed > 0.05, "RSA key generation was too quick to tell"
    assert ticks > 1000, f"only {ticks} iterations in {elapsed:.3f}s: the GIL was held"

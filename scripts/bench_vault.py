#!/usr/bin/env python3
"""Vault benchmarks for docs/performance.md (section `vault`).

Runs the criterion benchmark `core/benches/vault.rs` (KDF, decrypt+deserialize, save), the
example `vault_bench` (peak memory of a real unlock, Argon2id timings), and the C reference
Argon2 through argon2-cffi (installed into target/bench-venv from PyPI) with the same
parameters in the same run.

Usage: scripts/bench_vault.py
"""
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import perf_report  # noqa: E402

ROOT = perf_report.ROOT
VENV = ROOT / "target" / "bench-venv"


def run(cmd, **kw):
    return subprocess.run(cmd, cwd=ROOT, check=True, text=True, capture_output=True, **kw).stdout


def ensure_argon2_cffi():
    py = VENV / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run([str(py), "-m", "pip", "install", "--quiet", "argon2-cffi"], check=True)
    return py


C_REFERENCE = r"""
import json, sys, time
from argon2.low_level import hash_secret_raw, Type
m, t, p, k = map(int, sys.argv[1:5])
times = []
for i in range(k):
    start = time.perf_counter()
    hash_secret_raw(b"password", bytes([i]) * 16, time_cost=t, memory_cost=m, parallelism=p,
                    hash_len=32, type=Type.ID)
    times.append((time.perf_counter() - start) * 1e3)
print(json.dumps(times))
"""


def main():
    print("criterion: vault benchmark …", flush=True)
    subprocess.run(["cargo", "bench", "-p", "twofold-core", "--bench", "vault", "--",
                    "--warm-up-time", "1", "--measurement-time", "4"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    run(["cargo", "build", "--release", "-p", "twofold-core", "--example", "vault_bench"])
    exe = str(ROOT / "target" / "release" / "examples" / "vault_bench")

    unlocks = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in (10, 1000, 10000):
            path = os.path.join(tmp, f"v{n}.twofold")
            run([exe, "create", path, str(n)])
            unlocks.append(json.loads(run([exe, "unlock", path])))

    py = ensure_argon2_cffi()
    rows = []
    for m, t in ((19 * 1024, 2), (64 * 1024, 3), (256 * 1024, 3)):
        k = 7
        ours = json.loads(run([exe, "argon2", str(m), str(t), "1", str(k)]))
        ref = json.loads(subprocess.run([str(py), "-c", C_REFERENCE, str(m), str(t), "1", str(k)],
                                        check=True, text=True, capture_output=True).stdout)
        rows.append((m, t, statistics.median(ours), statistics.median(ref)))
    cffi_version = subprocess.run([str(py), "-c", "import argon2; print(argon2.__version__)"],
                                  check=True, text=True, capture_output=True).stdout.strip()

    ns = perf_report.mean_ns
    out = [
        "Command: `scripts/bench_vault.py` (criterion `cargo bench -p twofold-core --bench vault`,"
        " the `vault_bench` example, and argon2-cffi from PyPI, in one run).",
        f"Machine: {perf_report.machine()}.",
        "",
        "Unlock = KDF + decrypt and deserialize; save = serialize and encrypt + atomic durable write"
        " (temp file, fsync, read-back, link to `.prev`, rename, directory fsync).",
        "",
        "| entries | KDF (Argon2id 64 MiB, t=3) | decrypt + deserialize | whole unlock (real file) | seal | seal + atomic write | peak RSS of an unlock |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    kdf = ns("unlock_kdf", "default_64MiB_t3")
    for u in unlocks:
        n = u["entries"]
        out.append(
            f"| {n} | {perf_report.fmt_time(kdf)} | {perf_report.fmt_time(ns('unlock_decrypt_deserialize', str(n)))} |"
            f" {u['unlock_ms']:.0f} ms | {perf_report.fmt_time(ns('save', 'seal', str(n)))} |"
            f" {perf_report.fmt_time(ns('save', 'seal_and_atomic_write', str(n)))} | {u['peak_rss_kib'] / 1024:.0f} MiB |"
        )
    out += [
        "",
        f"Argon2id, RustCrypto `argon2` 0.6 (ours) against the C reference implementation through"
        f" argon2-cffi {cffi_version}, p = 1, 32-byte output, median of 7 runs each:",
        "",
        "| parameters | ours | C reference | ours ÷ C |",
        "|---|---:|---:|---:|",
    ]
    for m, t, o, r in rows:
        out.append(f"| m = {m // 1024} MiB, t = {t} | {o:.0f} ms | {r:.0f} ms | {o / r:.2f}× |")
    perf_report.write_section("vault", "\n".join(out))


if __name__ == "__main__":
    main()

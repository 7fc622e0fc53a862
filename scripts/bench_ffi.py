#!/usr/bin/env python3
"""FFI benchmarks for docs/performance.md (section `ffi`), in one run:

- the cost of a trivial FFI call from Kotlin (`clockOffsetNeedsWarning`), JNA + UniFFI;
- `codes_at` for a 1 000-entry vault called from Kotlin vs. inside Rust (same vault, same
  release library).

Needs what tests/kotlin/run.sh installs (kotlinc from npm, JNA from Debian).
Usage: scripts/bench_ffi.py
"""
import json
import pathlib
import subprocess
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import perf_report  # noqa: E402

ROOT = perf_report.ROOT
PASSWORD = "benchmark password"


def run(cmd, **kw):
    return subprocess.run(cmd, cwd=ROOT, check=True, text=True, capture_output=True, **kw).stdout


def main():
    run(["cargo", "build", "--release", "--locked", "-p", "twofold-ffi"])
    run(["cargo", "build", "--release", "--locked", "-p", "twofold-core", "--example", "vault_bench"])
    run(["cargo", "build", "--locked", "-p", "uniffi-bindgen"])
    lib = ROOT / "target" / "release" / "libtwofold_ffi.so"
    exe = str(ROOT / "target" / "release" / "examples" / "vault_bench")
    kotlin_lib = ROOT / "node_modules" / "kotlin-compiler" / "lib"
    cp = f"{kotlin_lib}/kotlinx-coroutines-core-jvm.jar:/usr/share/java/jna.jar"
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        run([str(ROOT / "target" / "debug" / "uniffi-bindgen"), "generate", "--no-format", "--library", str(lib),
             "--language", "kotlin", "--out-dir", str(tmp / "gen")])
        sources = [str(p) for p in (tmp / "gen").rglob("*.kt")] + [str(ROOT / "tests" / "kotlin" / "bench" / "Bench.kt")]
        print("kotlinc …", flush=True)
        run([str(ROOT / "node_modules" / "kotlin-compiler" / "bin" / "kotlinc"), "-nowarn", "-jvm-target", "17",
             "-cp", cp, "-d", str(tmp / "bench.jar")] + sources)
        vault = tmp / "bench.twofold"
        run([exe, "create", str(vault), "1000"])
        rust = json.loads(run([exe, "codes", str(vault), "2000"]))
        kotlin = json.loads(run(["java", f"-Djna.library.path={lib.parent}", "-cp",
                                 f"{tmp / 'bench.jar'}:{kotlin_lib}/kotlin-stdlib.jar:{cp}",
                                 "dev.twofold.bench.BenchKt", str(vault), PASSWORD]))
    ratio = kotlin["codes_at_median_us"] / rust["median_us"]
    body = "\n".join([
        "Command: `scripts/bench_ffi.py` (release `libtwofold_ffi.so`, Kotlin through JNA on the JVM,"
        " and the `vault_bench` example for the Rust side, in one run).",
        f"Machine: {perf_report.machine()}.",
        "",
        "| measurement | Kotlin → FFI | inside Rust | ratio |",
        "|---|---:|---:|---:|",
        f"| trivial FFI call (`clockOffsetNeedsWarning`) | {kotlin['trivial_call_ns']:.0f} ns | — | — |",
        f"| `codes_at`, {rust['entries']} entries (median) | {kotlin['codes_at_median_us']:.0f} µs |"
        f" {rust['median_us']:.0f} µs | {ratio:.2f}× |",
    ])
    perf_report.write_section("ffi", body)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""QR decoder benchmark for docs/performance.md (section `qr`).

Builds the degraded test set with bench/qr-decoders (codes from the `qrcode` crate: rotation,
perspective, blur, noise, low contrast, inverted, small in a large frame, JPEG artefacts, dense
Google migration codes), measures rqrr and rxing on it, then zbar (Debian zbar-tools: `zbarimg`
for the success rate, its libzbar through pyzbar for in-process timing) and zxing-cpp (PyPI) on
the same images, all in one run. Times are decode-only, per 1280x720 frame, median of 5.
The `twofold` row is what ships: `twofold_core::qr::decode_luma` (rxing, then one retry on a
contrast-stretched copy).

Usage: scripts/bench_qr.py
"""
import json
import pathlib
import statistics
import subprocess
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import perf_report  # noqa: E402

ROOT = perf_report.ROOT
VENV = ROOT / "target" / "bench-venv"
OUT = ROOT / "target" / "qr-testset"

PEERS = r"""
import json, sys, time, statistics
from PIL import Image
import zxingcpp
from pyzbar import pyzbar
rows = []
for line in sys.stdin:
    case = json.loads(line)
    img = Image.open(sys.argv[1] + "/" + case["file"]).convert("L")
    out = {"file": case["file"]}
    for name, fn in (("zxing-cpp", lambda: [r.text for r in zxingcpp.read_barcodes(img)]),
                     ("zbar", lambda: [r.data.decode("utf-8", "replace") for r in pyzbar.decode(img)])):
        times, got = [], []
        for _ in range(5):
            t = time.perf_counter()
            got = fn()
            times.append((time.perf_counter() - t) * 1e3)
        out[name] = {"ok": case["expected"] in got, "ms": statistics.median(times)}
    rows.append(out)
print(json.dumps(rows))
"""


def main():
    subprocess.run(["apt-get", "install", "-y", "-qq", "zbar-tools"], check=False, capture_output=True)
    py = VENV / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run([str(py), "-m", "pip", "install", "--quiet", "zxing-cpp", "pyzbar", "pillow"], check=True)
    subprocess.run(["cargo", "build", "--release", "--manifest-path", "bench/qr-decoders/Cargo.toml"],
                   cwd=ROOT, check=True)
    ours = subprocess.run([str(ROOT / "bench/qr-decoders/target/release/qr-decoders-bench"), str(OUT)],
                          cwd=ROOT, check=True, capture_output=True, text=True).stdout
    cases = [json.loads(l) for l in ours.splitlines() if l.strip()]
    peers = json.loads(subprocess.run([str(py), "-c", PEERS, str(OUT)], input=ours, check=True,
                                      capture_output=True, text=True).stdout)
    zbarimg = {}
    for c in cases:
        r = subprocess.run(["zbarimg", "--quiet", "--raw", str(OUT / c["file"])], capture_output=True, text=True)
        zbarimg[c["file"]] = c["expected"] in r.stdout.splitlines()
    by_file = {p["file"]: p for p in peers}
    rows = []
    decoders = ["twofold", "rqrr", "rxing", "zxing-cpp", "zbar"]
    results = {d: [] for d in decoders}
    for c in cases:
        p = by_file[c["file"]]
        for d in ("twofold", "rqrr", "rxing"):
            results[d].append(c[d])
        for d in ("zxing-cpp", "zbar"):
            results[d].append(p[d])
    degradations = sorted({c["file"].rsplit("-", 1)[1].removesuffix(".png") for c in cases})
    out = [
        "Command: `scripts/bench_qr.py` (test set from `bench/qr-decoders`, peers from PyPI and Debian, one run).",
        f"Machine: {perf_report.machine()}.",
        "",
        f"{len(cases)} images, 1280×720: 6 payloads (short, long and Steam otpauth URIs; Google"
        " migration codes with 1, 5 and 10 accounts) × 11 conditions. Time is decode-only, median of"
        " 5 runs per image, then the median over images.",
        "",
        "| decoder | decoded | success rate | median ms / frame | p90 ms / frame |",
        "|---|---:|---:|---:|---:|",
    ]
    for d in decoders:
        ok = sum(1 for r in results[d] if r["ok"])
        ms = sorted(r["ms"] for r in results[d])
        out.append(f"| {d} | {ok}/{len(cases)} | {100 * ok / len(cases):.0f} % | {statistics.median(ms):.1f} |"
                   f" {ms[int(len(ms) * 0.9)]:.1f} |")
    ok_cli = sum(zbarimg.values())
    out += ["", f"`zbarimg` (the CLI, same library as the zbar row) decoded {ok_cli}/{len(cases)}.", "",
            "Per condition (decoded out of 6 payloads):", "",
            "| condition | " + " | ".join(decoders) + " |", "|---|" + "---:|" * len(decoders)]
    for deg in degradations:
        idx = [i for i, c in enumerate(cases) if c["file"].endswith(f"-{deg}.png")]
        cells = [str(sum(1 for i in idx if results[d][i]["ok"])) for d in decoders]
        out.append(f"| {deg} | " + " | ".join(cells) + " |")
    perf_report.write_section("qr", "\n".join(out))
    print(json.dumps({d: sum(r["ok"] for r in results[d]) for d in decoders}))


if __name__ == "__main__":
    main()

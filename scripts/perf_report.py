#!/usr/bin/env python3
"""Turns criterion results into the tables of docs/performance.md.

Usage: scripts/perf_report.py codes    (after `cargo bench -p twofold-core --bench codes`)
       scripts/perf_report.py sync     (runs the sync measurements itself)

Each section of docs/performance.md lives between `<!-- perf:NAME -->` and `<!-- /perf:NAME -->`
markers; this script rewrites only that part, so prose around it stays as written.
"""
import json
import pathlib
import platform
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
CRITERION = ROOT / "target" / "criterion"
DOC = ROOT / "docs" / "performance.md"


def mean_ns(*parts):
    path = CRITERION.joinpath(*parts, "new", "estimates.json")
    return json.loads(path.read_text())["mean"]["point_estimate"]


def machine():
    cpu = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    return f"{cpu}, {platform.system()} {platform.machine()}, {rustc}"


def fmt_time(ns):
    if ns >= 1e9:
        return f"{ns / 1e9:.2f} s"
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.1f} µs"
    return f"{ns:.0f} ns"


def codes_section():
    rows = [
        "Command: `cargo bench -p twofold-core --bench codes -- --warm-up-time 1 --measurement-time 4`"
        " then `scripts/perf_report.py codes`.",
        f"Machine: {machine()}.",
        "",
        "Each account is SHA1/6-digit/30 s with a 20-byte key; every implementation produces the"
        " current and the next code (two HMACs) per account.",
        "",
        "| accounts | twofold, keyed at unlock | per code | twofold, cold | totp-rs (obvious) |"
        " ring HMAC floor | RustCrypto HMAC floor | keyed ÷ RustCrypto floor |"
        " cold ÷ RustCrypto floor | totp-rs ÷ keyed |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n in (1, 100, 10000):
        ours = mean_ns("codes_at", "twofold", str(n))
        cold = mean_ns("codes_at", "twofold-cold", str(n))
        peer = mean_ns("codes_at", "totp-rs", str(n))
        floor = mean_ns("codes_at", "ring-hmac", str(n))
        rc = mean_ns("codes_at", "rustcrypto-hmac", str(n))
        rows.append(
            f"| {n} | {fmt_time(ours)} | {fmt_time(ours / (2 * n))} | {fmt_time(cold)} |"
            f" {fmt_time(peer)} | {fmt_time(floor)} | {fmt_time(rc)} | {ours / rc:.2f}× |"
            f" {cold / rc:.2f}× | {peer / ours:.2f}× |"
        )
    rows.append("")
    rows.append("Single code (64-byte key, including key setup):")
    rows.append("")
    rows.append("| algorithm | time |")
    rows.append("|---|---:|")
    for name in ("SHA1", "SHA256", "SHA512", "steam"):
        rows.append(f"| {name} | {fmt_time(mean_ns('single_code', name))} |")
    return "\n".join(rows)


def import_section():
    return "\n".join([
        "Command: `cargo bench -p twofold-core --bench interop` then `scripts/perf_report.py import`.",
        f"Machine: {machine()}.",
        "",
        "| 10 000-entry Aegis export | import time |",
        "|---|---:|",
        f"| plain JSON | {fmt_time(mean_ns('import_aegis_10000', 'plain'))} |",
        f"| encrypted (scrypt N=32768 r=8 p=1, AES-256-GCM) | {fmt_time(mean_ns('import_aegis_10000', 'encrypted'))} |",
        "",
        "| 1 000-entry encrypted file | what it costs | import time |",
        "|---|---|---:|",
    ] + [
        f"| {label} | {cost} | {fmt_time(mean_ns('import_encrypted_1000', name))} |"
        for name, label, cost in ENCRYPTED_1000
    ])


ENCRYPTED_1000 = [
    ("aegis", "Aegis", "scrypt N=32768 r=8 p=1, AES-256-GCM"),
    ("authy", "Authy (encrypted tokens)", "PBKDF2-SHA1 1000 + AES-CBC per token"),
    ("authenticator_pro", "Authenticator Pro", "Argon2id t=3 m=64 MiB p=4, AES-256-GCM"),
    ("authenticator_pro_legacy", "Authenticator Pro (legacy)", "PBKDF2-SHA1 64 000, AES-256-CBC"),
    ("freeotp_backup", "FreeOTP 2 backup", "PBKDF2-SHA512 100 000, AES-GCM per token"),
    ("totp_authenticator", "TOTP Authenticator", "SHA-256 of the password, AES-256-CBC"),
    ("steam_sda_400", "Steam Desktop Authenticator (400 files)", "PBKDF2-SHA1 50 000 + AES-CBC per file"),
    ("winauth_zipcrypto", "WinAuth ZIP", "ZipCrypto"),
    ("authenticator_plus_aes", "Authenticator Plus ZIP", "WinZip AES-256 (PBKDF2-SHA1 1000)"),
    ("raivo_aes", "Raivo OTP ZIP", "WinZip AES-256 (PBKDF2-SHA1 1000)"),
    ("keepass_kdbx4", "KeePass KDBX 4 (pykeepass defaults)", "Argon2, ChaCha20/AES, gzip"),
    ("keepass_kdbx31", "KeePass KDBX 3.1", "AES-KDF 6000 rounds, AES-256-CBC, gzip"),
]


def transfer_section():
    out = subprocess.run(["cargo", "run", "--release", "-q", "-p", "twofold-core", "--example", "transfer_bench"],
                         cwd=ROOT, check=True, capture_output=True, text=True).stdout
    return out.rstrip("\n")


def sync_section():
    out = subprocess.run(["cargo", "run", "--release", "-q", "-p", "twofold-core", "--example", "sync_bench"],
                         cwd=ROOT, check=True, capture_output=True, text=True).stdout
    return out.rstrip("\n")


SECTIONS = {"codes": codes_section, "import": import_section, "transfer": transfer_section,
            "sync": sync_section}


def write_section(name, body):
    """Replaces the text between the perf:NAME markers of docs/performance.md."""
    doc = DOC.read_text()
    pattern = re.compile(rf"(<!-- perf:{name} -->\n).*?(<!-- /perf:{name} -->)", re.S)
    if not pattern.search(doc):
        sys.exit(f"docs/performance.md has no perf:{name} markers")
    DOC.write_text(pattern.sub(lambda m: m.group(1) + body + "\n" + m.group(2), doc))
    print(f"updated {DOC.relative_to(ROOT)}: {name}")


def main():
    for name in sys.argv[1:] or list(SECTIONS):
        write_section(name, SECTIONS[name]())


if __name__ == "__main__":
    main()

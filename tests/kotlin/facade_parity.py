"""Fails when an FFI function or method is called by one facade and not the other.

The Kotlin facade (android/twofold/src/main/kotlin, plus the app's view models, which call the
bindings for the few records they build) and the Swift one (ios/TwofoldKit/Sources/TwofoldKit)
must reach the same core: a call only one of them makes is logic one app has and the other
lacks. The names are the exported functions and methods of the generated Kotlin bindings
(Swift uses the same lowerCamelCase names). ALLOWED lists the calls that are platform-only on
purpose, each with its reason.

Usage: facade_parity.py GENERATED.kt..."""

import os
import re
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
KOTLIN = [
    "android/twofold/src/main/kotlin",
    "android/app/src/main/kotlin/dev/twofold/app/model",
]
SWIFT = ["ios/TwofoldKit/Sources/TwofoldKit"]

# Platform-only calls, each with its reason ("name": "why"). Empty today: both apps transfer
# over QR frames and the LAN, and both decode camera frames in the core.
ALLOWED: dict = {}


def sources(dirs, ext):
    text = []
    for d in dirs:
        for base, _, files in os.walk(os.path.join(ROOT, d)):
            for f in files:
                if f.endswith(ext):
                    with open(os.path.join(base, f), encoding="utf-8") as fh:
                        text.append(fh.read())
    return "\n".join(text)


def main():
    generated = "\n".join(open(f, encoding="utf-8").read() for f in sys.argv[1:])
    names = sorted(set(re.findall(r"fun `(\w+)`\(", generated)))
    kotlin = sources(KOTLIN, ".kt")
    swift = sources(SWIFT, ".swift")

    def used(text, name):
        return re.search(r"(?<![\w`])" + re.escape(name) + r"\s*\(", text) is not None

    failed = False
    for name in names:
        k, s = used(kotlin, name), used(swift, name)
        if k == s:
            continue
        if name in ALLOWED:
            continue
        side = "Kotlin" if k else "Swift"
        other = "Swift" if k else "Kotlin"
        print(f"facade parity: `{name}` is called by the {side} facade, not by the {other} one", file=sys.stderr)
        failed = True
    stale = [n for n in ALLOWED if n not in names]
    for n in stale:
        print(f"facade parity: the allowlist names `{n}`, which the bindings no longer export", file=sys.stderr)
        failed = True
    if failed:
        sys.exit(1)
    print(f"{len(names)} FFI calls, used alike by both facades ({len(ALLOWED)} platform-only, allowlisted)")


if __name__ == "__main__":
    main()

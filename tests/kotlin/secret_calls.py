"""Fails when the generated Kotlin bindings have a call that can carry a secret and
docs/ffi.md's "Calls that carry a secret" list (between <!-- secret-calls --> markers) does not
name it, or when the list names a call that no longer carries one.

A call carries a secret when an argument or its result is a byte array, a record or enum whose
fields hold one (directly or through another such type), or a string argument named like a
secret (password, secret, pin, key, uri, otpauth, recovery), or a string result of a call so
named.

Usage: secret_calls.py docs/ffi.md GENERATED.kt..."""

import re
import sys

SECRET_NAME = re.compile(r"(password|secret|pin|key|uri|otpauth|recovery)", re.I)


def declarations(text):
    """Top-level declarations (column 0) of a Kotlin file, name → body."""
    out = {}
    starts = [
        m
        for m in re.finditer(
            r"^(?:public |internal |private )?(?:data |sealed |enum |open |abstract )*"
            r"(?:class|interface|object) (\w+)",
            text,
            re.M,
        )
    ]
    for i, m in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(text)
        out.setdefault(m.group(1), "")
        out[m.group(1)] += text[m.start() : end]
    return out


def main():
    doc = open(sys.argv[1], encoding="utf-8").read()
    block = re.search(r"<!-- secret-calls -->(.*?)<!-- /secret-calls -->", doc, re.S)
    if not block:
        sys.exit("docs/ffi.md has no <!-- secret-calls --> list")
    listed = set(re.findall(r"^\| `(\w+)`", block.group(1), re.M))
    text = "\n".join(open(f, encoding="utf-8").read() for f in sys.argv[2:])
    decls = declarations(text)
    # Records and enums (not objects with methods) that hold bytes, to a fixpoint.
    value_types = {
        n: b
        for n, b in decls.items()
        if re.search(r"^(?:public )?(?:data|sealed|enum) class " + n + r"\b", b, re.M)
    }
    carrying = {n for n, b in value_types.items() if "ByteArray" in b}
    changed = True
    while changed:
        changed = False
        for n, b in value_types.items():
            if n not in carrying and any(re.search(r"\b" + c + r"\b", b) for c in carrying):
                carrying.add(n)
                changed = True
    found = {}
    for m in re.finditer(r"fun `(\w+)`\((.*?)\)\s*(?::\s*([^{=\n]+))?", text):
        name, params, ret = m.group(1), m.group(2), m.group(3) or ""
        why = None
        sig = params + " -> " + ret
        if "ByteArray" in sig:
            why = "a byte array"
        else:
            for c in carrying:
                if re.search(r"\b" + c + r"\b", sig):
                    why = f"{c} (holds bytes)"
                    break
        if why is None and "String" in ret and SECRET_NAME.search(name):
            why = "a string result named like a secret"
        if why is None:
            for p in re.finditer(r"`(\w+)`\s*:\s*([\w.<>?]+)", params):
                if "String" in p.group(2) and SECRET_NAME.search(p.group(1)):
                    why = f"string argument {p.group(1)}"
                    break
        if why:
            found.setdefault(name, why)
    missing = sorted(set(found) - listed)
    stale = sorted(listed - set(found))
    for n in missing:
        print(f"docs/ffi.md: {n} carries a secret ({found[n]}) but is not in the secret-calls list", file=sys.stderr)
    for n in stale:
        print(f"docs/ffi.md: the secret-calls list names {n}, which carries none (or is gone)", file=sys.stderr)
    if missing or stale:
        sys.exit(1)
    print(f"{len(found)} secret-carrying calls, all listed")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Writes the import fixtures in core/tests/fixtures/import/ from each format's documented
layout (../shared/FORMATS-MORE.md), with independent implementations: Python `cryptography`
(AES-GCM, AES-CBC, PBKDF2), argon2-cffi (Argon2id), stdlib `sqlite3` and `zipfile`, `pyzipper`
(WinZip AES), Debian's `zip -P` (ZipCrypto), `pykeepass` (KDBX 4, with and without a key file)
and a KDBX 3.1 writer here (AES-KDF, AES-CBC, hashed blocks, gzip), checked by pykeepass.
None of Twofold's code is used. core/tests/import_formats.rs reads every file with the
passwords below and checks the accounts listed in each file's description.

Run: target/test-venv/bin/python tests/peers/make_import_fixtures.py [STEP…]   (all files, or only
the named steps, e.g. `keepass`; salts and IVs come from a seeded generator, except those
pyzipper and pykeepass draw themselves)
"""
import base64
import gzip
import hashlib
import hmac
import io
import json
import os
import random
import shutil
import sqlite3
import struct
import subprocess
import sys
import tempfile
import uuid
import zipfile
from xml.sax.saxutils import escape, quoteattr

import pyzipper
from argon2.low_level import Type, hash_secret_raw
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "core", "tests", "fixtures", "import")
rng = random.Random(16)

# The test accounts (also in core/tests/import_formats.rs).
A = "4SJHB4GSD43FZBAI7C2HLRJGPQ"  # TOTP SHA1/6/30   GitHub / alice
B = "5OM4WOOGPLQEF6UGN3CPEOOLWU"  # TOTP SHA256/8/60 Bank / bob
C = "YOOMIXWS5GN6RTBPUFFWKTW5M4"  # HOTP SHA1/6, counter 42   Counter / carol
D = "KUVJJOM753IHTNDSZVCNKL7GII"  # Steam            Steam / gaben

PASSWORDS = {
    "authy_encrypted.xml": "authy pass",
    "authy_api.json": "api pass",
    "stratum_encrypted.bin": "stratum pass",
    "stratum_legacy.bin": "legacy pass",
    "freeotp_backup.xml": "freeotp pass",
    "totp_authenticator.bin": "totp pass",
    "totp_authenticator_default.bin": "TotpAuthenticator",
    "steam_sda_encrypted.zip": "sda pass",
    "winauth.zip": "winauth pass",
    "authplus_aes.zip": "authplus pass",
    "authplus_zipcrypto.zip": "authplus pass",
    "raivo.zip": "raivo pass",
    "keepass4.kdbx": "keepass pass",
    "keepass31.kdbx": "keepass pass",
    "keepass_keyfile.kdbx": "keepass pass",
}


def rb(n):
    return bytes(rng.getrandbits(8) for _ in range(n))


def b32d(s):
    return base64.b32decode(s + "=" * (-len(s) % 8))


def b64(b):
    return base64.b64encode(b).decode()


def signed(b):
    return [x - 256 if x > 127 else x for x in b]


def cbc_encrypt(key, iv, plain):
    p = padding.PKCS7(128).padder()
    data = p.update(plain) + p.finalize()
    e = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return e.update(data) + e.finalize()


def pbkdf2(name, password, salt, iterations, n=32):
    return hashlib.pbkdf2_hmac(name, password.encode(), salt, iterations, n)


def write(name, data):
    mode = "w" if isinstance(data, str) else "wb"
    kw = {"newline": ""} if mode == "w" else {}
    with open(os.path.join(OUT, name), mode, **kw) as f:
        f.write(data)


def prefs_xml(pairs):
    lines = ["<?xml version='1.0' encoding='utf-8' standalone='yes' ?>", "<map>"]
    for kind, name, value in pairs:
        if kind == "string":
            lines.append(f"    <string name={quoteattr(name)}>{escape(value, {chr(34): '&quot;'})}</string>")
        else:
            lines.append(f"    <{kind} name={quoteattr(name)} value={quoteattr(str(value))} />")
    lines.append("</map>")
    return "\n".join(lines) + "\n"


def uri(kind, issuer, account, secret, **params):
    q = "&".join(f"{k}={v}" for k, v in {"secret": secret, "issuer": issuer, **params}.items())
    return f"otpauth://{kind}/{issuer}:{account}?{q}"


URI_A = uri("totp", "GitHub", "alice", A)
URI_B = uri("totp", "Bank", "bob", B, algorithm="SHA256", digits=8, period=60)
URI_C = uri("hotp", "Counter", "carol", C, counter=42)


# --- Authy -----------------------------------------------------------------------------------
def authy():
    seed = rb(16)
    native = [{"secretSeed": seed.hex(), "digits": 7, "name": "Authy Native", "accountType": "authy"}]
    plain = [
        {"accountType": "authenticator", "decryptedSecret": " ".join(A.lower()[i:i + 4] for i in range(0, 26, 4)),
         "digits": 6, "originalIssuer": "GitHub", "originalName": "GitHub:alice", "name": "GitHub: alice"},
        {"accountType": "authenticator", "decryptedSecret": B, "digits": 8, "originalName": "Bank:bob",
         "name": "Bank - bob"},
        {"accountType": "dropbox", "decryptedSecret": C, "digits": 6, "name": "carol"},
        {"accountType": "broken", "decryptedSecret": "1890", "digits": 6, "name": "Broken"},
    ]
    write("authy_plain.xml", prefs_xml([
        ("int", "key_version", 121),
        ("string", "com.authy.storage.tokens.authenticator.key", json.dumps(plain)),
        ("string", "com.authy.storage.tokens.authy.key", json.dumps(native)),
    ]))

    def enc(secret, password, salt, iterations=1000):
        key = pbkdf2("sha1", password, salt.encode(), iterations)
        return b64(cbc_encrypt(key, bytes(16), secret.encode()))

    pw = PASSWORDS["authy_encrypted.xml"]
    tokens = [
        {"accountType": "authenticator", "encryptedSecret": enc(A, pw, "salt-one"), "salt": "salt-one",
         "digits": 6, "originalIssuer": "GitHub", "originalName": "GitHub:alice", "name": "GitHub: alice"},
        {"accountType": "authenticator", "encryptedSecret": enc(B, pw, "salt-two"), "salt": "salt-two",
         "digits": 8, "originalName": "Bank:bob", "name": "Bank - bob"},
    ]
    write("authy_encrypted.xml", prefs_xml([
        ("string", "com.authy.storage.tokens.authenticator.key", json.dumps(tokens)),
        ("string", "com.authy.storage.tokens.authy.key", json.dumps(native)),
    ]))
    pw = PASSWORDS["authy_api.json"]
    write("authy_api.json", json.dumps({
        "authenticator_tokens": [
            {"account_type": "github", "encrypted_seed": enc(A, pw, "api-salt", 100000), "salt": "api-salt",
             "key_derivation_iterations": 100000, "digits": 6, "name": "GitHub: alice",
             "original_name": "GitHub:alice", "unique_id": "1"}],
        "message": "success", "success": True}, indent=1))


# --- Authenticator Pro / Stratum ---------------------------------------------------------------
STRATUM = {
    "Authenticators": [
        {"Type": 2, "Icon": None, "Issuer": "GitHub", "Username": "alice", "Secret": A, "Pin": None,
         "Algorithm": 0, "Digits": 6, "Period": 30, "Counter": 0, "Ranking": 0, "CopyCount": 3},
        {"Type": 2, "Icon": None, "Issuer": "Bank", "Username": "bob", "Secret": B, "Pin": None,
         "Algorithm": 1, "Digits": 8, "Period": 60, "Counter": 0, "Ranking": 1, "CopyCount": 0},
        {"Type": 1, "Icon": None, "Issuer": "Counter", "Username": "carol", "Secret": C, "Pin": None,
         "Algorithm": 0, "Digits": 6, "Period": 30, "Counter": 42, "Ranking": 2, "CopyCount": 0},
        {"Type": 4, "Icon": None, "Issuer": "Steam", "Username": "gaben", "Secret": D, "Pin": None,
         "Algorithm": 0, "Digits": 5, "Period": 30, "Counter": 0, "Ranking": 3, "CopyCount": 0},
        {"Type": 3, "Icon": None, "Issuer": "MobileOTP", "Username": "dave", "Secret": "0123456789abcdef",
         "Pin": "1234", "Algorithm": 0, "Digits": 6, "Period": 10, "Counter": 0, "Ranking": 4, "CopyCount": 0},
        {"Type": 5, "Icon": None, "Issuer": "Yandex", "Username": "erin", "Secret": "LA2V6KMCGYMWWVEW64RNP3JA3I",
         "Pin": "5239", "Algorithm": 1, "Digits": 8, "Period": 30, "Counter": 0, "Ranking": 5, "CopyCount": 0},
    ],
    "Categories": [{"Id": "c1", "Name": "Work", "Ranking": 0}],
    "AuthenticatorCategories": [{"CategoryId": "c1", "AuthenticatorSecret": A, "Ranking": 0}],
    "CustomIcons": [],
}


def stratum():
    plain = json.dumps(STRATUM, indent=2).encode()
    write("stratum_plain.json", plain.decode())
    pw = PASSWORDS["stratum_encrypted.bin"]
    salt, iv = rb(16), rb(12)
    key = hash_secret_raw(pw.encode(), salt, time_cost=3, memory_cost=65536, parallelism=4, hash_len=32,
                          type=Type.ID)
    write("stratum_encrypted.bin", b"AUTHENTICATORPRO" + salt + iv + AESGCM(key).encrypt(iv, plain, None))
    pw = PASSWORDS["stratum_legacy.bin"]
    salt, iv = rb(20), rb(16)
    key = pbkdf2("sha1", pw, salt, 64000)
    write("stratum_legacy.bin", b"AuthenticatorPro" + salt + iv + cbc_encrypt(key, iv, plain))
    path = os.path.join(OUT, "stratum.db3")
    if os.path.exists(path):
        os.remove(path)
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE authenticator (type integer, icon varchar, issuer varchar, username varchar, "
               "secret varchar primary key, pin varchar, algorithm integer, digits integer, period integer, "
               "counter integer, copyCount integer, ranking integer)")
    for a in STRATUM["Authenticators"]:
        db.execute("INSERT INTO authenticator VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                   (a["Type"], a["Icon"], a["Issuer"], a["Username"], a["Secret"], a["Pin"], a["Algorithm"],
                    a["Digits"], a["Period"], a["Counter"], a["CopyCount"], a["Ranking"]))
    db.commit()
    db.close()


# --- FreeOTP -----------------------------------------------------------------------------------
def freeotp_v1():
    tokens = {
        "GitHub:alice": {"algo": "SHA1", "counter": 0, "digits": 6, "issuerExt": "GitHub", "issuerInt": "GitHub",
                         "label": "alice", "period": 30, "secret": signed(b32d(A)), "type": "TOTP"},
        "Bank:bob": {"algo": "SHA256", "counter": 0, "digits": 8, "issuerExt": "Bank", "label": "bob",
                     "issuerAlt": "My Bank", "labelAlt": "bobby", "period": 60, "secret": signed(b32d(B)),
                     "type": "TOTP"},
        "Counter:carol": {"algo": "SHA1", "counter": 42, "digits": 6, "issuerExt": "Counter", "label": "carol",
                          "period": 30, "secret": signed(b32d(C)), "type": "HOTP"},
        "Steam:gaben": {"algo": "SHA1", "counter": 0, "digits": 5, "issuerExt": "Steam", "label": "gaben",
                        "period": 30, "secret": signed(b32d(D)), "type": "TOTP"},
        "broken": {"type": "TOTP", "label": "broken"},
    }
    order = ["Counter:carol", "GitHub:alice", "Bank:bob", "Steam:gaben", "broken"]
    pairs = [("string", k, json.dumps(v)) for k, v in tokens.items()]
    pairs.append(("string", "tokenOrder", json.dumps(order)))
    write("freeotp_tokens.xml", prefs_xml(pairs))


def java_string(s):
    b = s.encode("utf-8")  # no NUL or supplementary characters here: modified UTF-8 = UTF-8
    return (b"\x74" + struct.pack(">H", len(b)) + b) if len(b) < 65536 else (b"\x7c" + struct.pack(">Q", len(b)) + b)


def java_hashmap(pairs):
    out = b"\xac\xed\x00\x05\x73\x72" + struct.pack(">H", 17) + b"java.util.HashMap"
    out += bytes.fromhex("0507dac1c31660d1") + b"\x03" + struct.pack(">H", 2)
    out += b"F" + struct.pack(">H", 10) + b"loadFactor" + b"I" + struct.pack(">H", 9) + b"threshold"
    out += b"\x78\x70" + struct.pack(">fi", 0.75, 12) + b"\x77\x08" + struct.pack(">ii", 16, len(pairs))
    for k, v in pairs:
        out += java_string(k) + java_string(v)
    return out + b"\x78"


def der_gcm_params(nonce, bare=False):
    octets = b"\x04" + bytes([len(nonce)]) + nonce
    if bare:
        return octets
    body = octets + b"\x02\x01\x10"
    return b"\x30" + bytes([len(body)]) + body


def encrypted_key(key, plain, token, bare=False):
    nonce = rb(12)
    ct = AESGCM(key).encrypt(nonce, plain, token.encode())
    return {"mCipher": "AES/GCM/NoPadding", "mCipherText": signed(ct),
            "mParameters": signed(der_gcm_params(nonce, bare)), "mToken": token}


def freeotp_v2():
    pw = PASSWORDS["freeotp_backup.xml"]
    salt, master = rb(32), rb(32)
    pkey = pbkdf2("sha512", pw, salt, 100000)
    pairs = [("masterKey", json.dumps({"mAlgorithm": "PBKDF2withHmacSHA512", "mIterations": 100000,
                                       "mSalt": signed(salt), "mEncryptedKey": encrypted_key(pkey, master, "AES")}))]
    tokens = [
        ({"algo": "SHA1", "digits": 6, "issuerExt": "GitHub", "label": "alice", "period": 30, "type": "TOTP",
          "color": "#1565C0", "lock": False}, A, "HmacSHA1", False),
        # Gson dropped the nulls: no algo, digits, period or issuer ("null algo").
        ({"label": "nullalgo", "type": "TOTP"}, B, "HmacSHA1", True),
        ({"algo": "SHA1", "counter": 42, "digits": 6, "issuerExt": "Counter", "label": "carol", "period": 30,
          "type": "HOTP"}, C, "HmacSHA1", False),
    ]
    for token, secret, mtoken, bare in tokens:
        u = str(uuid.UUID(bytes=rb(16)))
        pairs.append((u, json.dumps({"key": json.dumps(encrypted_key(master, b32d(secret), mtoken, bare))})))
        pairs.append((u + "-token", json.dumps(token)))
    # A broken token (FreeOTP 2 bugs): its secret is missing.
    pairs.append((str(uuid.UUID(bytes=rb(16))) + "-token", json.dumps({"issuerExt": "Lost", "label": "nosecret",
                                                                       "type": "TOTP"})))
    write("freeotp_backup.xml", java_hashmap(pairs))


# --- TOTP Authenticator ------------------------------------------------------------------------
def totp_authenticator():
    entries = [
        {"issuer": "GitHub", "name": "alice", "key": A, "base": "32", "digits": "6", "period": "30"},
        {"issuer": "Unknown", "name": "bob", "key": b32d(B).hex().upper(), "base": "16", "digits": "", "period": ""},
        {"issuer": "Carol Co", "name": "carol", "key": b64(b32d(C)), "base": "64", "digits": "6", "period": "30"},
    ]
    doc = json.dumps({json.dumps(entries): "2024-05-01 10:00:00"}).encode()
    for name in ["totp_authenticator.bin", "totp_authenticator_default.bin"]:
        key = hashlib.sha256(PASSWORDS[name].encode()).digest()
        write(name, b64(cbc_encrypt(key, bytes(16), doc)) + "\n")
    write("totp_authenticator_prefs.xml", prefs_xml([
        ("string", "STATIC_TOTP_CODES_LIST", json.dumps(entries)),
        ("boolean", "isFirstRun", "false"),
    ]))


# --- Battle.net ---------------------------------------------------------------------------------
MASK = bytes.fromhex("398e27fc50276a656065b0e525f4c06c04c61075286b8e7aeda59da9813b5dd6c80d2fb38068773fa59ba47c17ca6c6479015c1d5b8b8f6b9a")
BNET_SECRET = bytes(range(1, 21))


def mask(text):
    return bytes(b ^ m for b, m in zip(text.encode(), MASK)).hex()


def battlenet():
    write("battlenet_prefs.xml", prefs_xml([
        ("string", "com.blizzard.messenger.AUTHENTICATOR_DEVICE_SECRET", mask(BNET_SECRET.hex())),
        ("string", "com.blizzard.messenger.AUTHENTICATOR_SERIAL", mask("US-1234-5678-9012")),
        ("boolean", "com.blizzard.messenger.HAS_AUTHENTICATOR", "true"),
    ]))
    write("battlenet_bma.xml", prefs_xml([
        ("string", "com.blizzard.bma.AUTH_STORE.HASH", mask(BNET_SECRET.hex() + "EU210987654321")),
    ]))


# --- Duo, Steam, LastPass ------------------------------------------------------------------------
def duo():
    write("duo_accounts.json", json.dumps([
        {"name": "GitHub", "otpGenerator": {"otpSecret": A}, "accountType": "OtpAccount"},
        {"name": "Counter", "otpGenerator": {"otpSecret": C, "counter": 42}},
        {"name": "Duo Push", "pkey": "DPXXXXXXXX", "accountType": "DuoAccount"},
    ], indent=1))


def mafile(name, secret):
    return {"shared_secret": b64(b32d(secret)), "serial_number": "1234567890", "revocation_code": "R12345",
            "uri": f"otpauth://totp/Steam:{name}?secret={secret}&issuer=Steam", "server_time": 1700000000,
            "account_name": name, "token_gid": "abc", "identity_secret": b64(rb(20)), "secret_1": b64(rb(20)),
            "status": 1, "device_id": "android:00000000-0000-0000-0000-000000000000", "fully_enrolled": True,
            "Session": {"SteamID": 76561198000000000}}


def steam():
    write("steam.maFile", json.dumps(mafile("gaben", D)))
    write("steam_app.json", json.dumps({"accounts": {
        "76561198000000000": mafile("gaben", D),
        "76561198000000001": {"account_name": "nosecret", "steamid": "76561198000000001"}}}))
    accounts = [("76561198000000000", "gaben", D), ("76561198000000002", "robin", A)]
    for encrypted, name in [(True, "steam_sda_encrypted.zip"), (False, "steam_sda_plain.zip")]:
        entries, files = [], {}
        for steamid, account, secret in accounts:
            data = json.dumps(mafile(account, secret)).encode()
            entry = {"filename": f"{steamid}.maFile", "steamid": int(steamid)}
            if encrypted:
                salt, iv = rb(8), rb(16)
                key = pbkdf2("sha1", PASSWORDS[name], salt, 50000)
                data = b64(cbc_encrypt(key, iv, data)).encode()
                entry.update({"encryption_iv": b64(iv), "encryption_salt": b64(salt)})
            else:
                entry.update({"encryption_iv": None, "encryption_salt": None})
            entries.append(entry)
            files[f"maFiles/{steamid}.maFile"] = data
        manifest = {"encrypted": encrypted, "first_run": False, "entries": entries, "periodic_checking": False}
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr(zipfile.ZipInfo("maFiles/manifest.json", (2024, 1, 1, 0, 0, 0)), json.dumps(manifest))
            for path, data in files.items():
                z.writestr(zipfile.ZipInfo(path, (2024, 1, 1, 0, 0, 0)), data)
        write(name, buf.getvalue())


def lastpass():
    write("lastpass.json", json.dumps({"deviceId": "d", "deviceSecret": "", "localDeviceId": "l", "version": 3,
        "accounts": [
            {"accountID": "1", "issuerName": "GitHub", "originalIssuerName": "GitHub", "userName": "alice",
             "originalUserName": "alice", "pushNotification": False, "secret": A, "timeStep": 30, "digits": 6,
             "creationTimestamp": 1700000000000, "isFavorite": True, "algorithm": "SHA1",
             "folderData": {"folderId": 1, "position": 0}},
            {"accountID": "2", "issuerName": "", "userName": "bob@bank", "secret": B, "timeStep": 60,
             "digits": 8, "algorithm": "SHA256", "folderData": {"folderId": 0, "position": 0}},
            {"accountID": "3", "issuerName": "Broken", "userName": "x", "secret": "!!", "timeStep": 30,
             "digits": 6, "algorithm": "SHA1"}],
        "folders": [{"id": 0, "name": "Favorites", "isOpened": True}, {"id": 1, "name": "Work", "isOpened": True}]},
        indent=1))


# --- ZIP-based exports ------------------------------------------------------------------------
def zipcrypto(name, inner_name, data, password):
    """Debian's `zip -P`: ZipCrypto (traditional PKWARE encryption)."""
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, inner_name), "wb") as f:
            f.write(data)
        out = os.path.join(d, "out.zip")
        subprocess.run(["zip", "-q", "-X", "-j", "-P", password, out, os.path.join(d, inner_name)], check=True)
        shutil.copy(out, os.path.join(OUT, name))


def aes_zip(name, files, password):
    buf = io.BytesIO()
    with pyzipper.AESZipFile(buf, "w", compression=pyzipper.ZIP_DEFLATED, encryption=pyzipper.WZ_AES) as z:
        z.setpassword(password.encode())
        z.setencryption(pyzipper.WZ_AES, nbits=256)
        for inner, data in files.items():
            z.writestr(inner, data)
    write(name, buf.getvalue())


def winauth():
    steam = uri("totp", "Steam", "gaben", D, digits=5, deviceid="android%3A0000", data="%7B%7D")
    bnet = uri("totp", "BattleNet", "US-1234", base64.b32encode(BNET_SECRET).decode(), digits=8,
               serial="US-1234-5678-9012")
    lines = [uri("totp", "GitHub", "alice", A, digits=6),
             f"otpauth://totp/Bank?secret={B}&digits=8&algorithm=SHA256&period=60",
             steam, bnet, uri("hotp", "Counter", "carol", C, digits=6, counter=42)]
    text = "\r\n".join(lines) + "\r\n"
    write("winauth.txt", text)
    zipcrypto("winauth.zip", "winauth-2024-05-01.txt", text.encode(), PASSWORDS["winauth.zip"])


def authplus():
    steam = uri("steam", "Steam", "gaben", D, digits=5)
    text = "\n".join([URI_A, URI_B, URI_C, steam]) + "\n"
    html = "<html><body><table><tr><td>GitHub</td></tr></table></body></html>"
    aes_zip("authplus_aes.zip", {"Accounts.txt": text, "Accounts.html": html}, PASSWORDS["authplus_aes.zip"])
    zipcrypto("authplus_zipcrypto.zip", "Accounts.txt", text.encode(), PASSWORDS["authplus_zipcrypto.zip"])


def raivo():
    items = [
        {"issuer": "GitHub", "account": "alice", "secret": A, "algorithm": "SHA1", "digits": "6", "kind": "TOTP",
         "timer": "30", "counter": "0", "pinned": "true", "iconType": "", "iconValue": ""},
        {"issuer": "Bank", "account": "bob", "secret": B, "algorithm": "SHA256", "digits": "8", "kind": "TOTP",
         "timer": "60", "counter": "0", "pinned": "false", "iconType": "raivo_repository", "iconValue": "bank.png"},
        {"issuer": "Counter", "account": "carol", "secret": C, "algorithm": "SHA1", "digits": "6", "kind": "HOTP",
         "timer": "30", "counter": "42", "pinned": "false", "iconType": "", "iconValue": ""},
        {"issuer": "Broken", "account": "x", "secret": "not base32!", "algorithm": "SHA1", "digits": "6",
         "kind": "TOTP", "timer": "30", "counter": "0", "pinned": "false", "iconType": "", "iconValue": ""},
    ]
    aes_zip("raivo.zip", {"raivo-otp-export.json": json.dumps(items), "raivo-otp-export.html": "<html></html>"},
            PASSWORDS["raivo.zip"])


def onepassword():
    def item(title, username, totp=None, state="active"):
        fields = [{"title": "one-time password", "id": "TOTP_" + rb(8).hex(), "value": {"totp": totp}}] if totp else []
        return {"uuid": rb(8).hex(), "favIndex": 0, "createdAt": 1700000000, "updatedAt": 1700000000,
                "state": state, "categoryUuid": "001",
                "details": {"loginFields": [{"value": username, "id": "", "name": "username", "fieldType": "T",
                                             "designation": "username"}],
                            "notesPlain": "", "sections": [{"title": "", "fields": fields}],
                            "passwordHistory": []},
                "overview": {"subtitle": username, "title": title, "url": "https://example.com"}}
    data = {"accounts": [{"attrs": {"accountName": "Alice", "name": "Alice", "email": "alice@example.com",
                                    "uuid": "A1", "domain": "https://my.1password.com/"},
                          "vaults": [{"attrs": {"uuid": "V1", "name": "Personal", "type": "P"},
                                      "items": [item("GitHub", "alice", URI_A), item("Bank", "bob", B),
                                                item("Email", "alice@example.com"),
                                                item("Old", "old", URI_C, state="trashed")]}]}]}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("export.attributes", json.dumps({"version": 3, "description": "1Password Unencrypted Export",
                                                    "createdAt": 1700000000}))
        z.writestr("export.data", json.dumps(data))
        z.writestr("files/", "")
    write("onepassword.1pux", buf.getvalue())


def protonpass():
    def item(kind, name, content, extra=(), state=1, note=""):
        return {"itemId": rb(6).hex(), "shareId": "s", "state": state, "aliasEmail": None, "contentFormatVersion": 1,
                "createTime": 1700000000, "modifyTime": 1700000000, "pinned": False,
                "data": {"metadata": {"name": name, "note": note, "itemUuid": rb(4).hex()},
                         "extraFields": list(extra), "type": kind, "content": content}}
    login = lambda user, email, totp: {"itemEmail": email, "password": "hunter2", "urls": [], "totpUri": totp,
                                       "passkeys": [], "itemUsername": user}
    data = {"version": "1.21.2", "userId": "u", "encrypted": False, "vaults": {"v1": {
        "name": "Personal", "description": "", "display": {"color": 0, "icon": 0},
        "items": [item("login", "GitHub", login("alice", "", URI_A), note="laptop"),
                  item("login", "Bank", login("", "bob@bank.example", B)),
                  item("note", "Counters", {}, extra=[{"fieldName": "TOTP", "type": "totp",
                                                       "data": {"totpUri": URI_C}}]),
                  item("login", "No TOTP", login("eve", "", "")),
                  item("login", "Trashed", login("old", "", URI_A), state=2)]}}}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("Proton Pass/data.json", json.dumps(data))
    write("protonpass.zip", buf.getvalue())


# --- Google and Microsoft databases ----------------------------------------------------------------
def sqlite_file(name, script, rows_sql, rows, wal=False):
    path = os.path.join(OUT, name)
    for suffix in ["", "-wal", "-shm", "-journal"]:
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    db = sqlite3.connect(path)
    if wal:
        db.execute("PRAGMA journal_mode=WAL")
    db.executescript(script)
    db.executemany(rows_sql, rows)
    db.commit()
    if wal:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    for suffix in ["-wal", "-shm"]:
        if os.path.exists(path + suffix):
            os.remove(path + suffix)


def databases():
    sqlite_file("google_authenticator.db", """
        CREATE TABLE android_metadata (locale TEXT);
        CREATE TABLE accounts (_id INTEGER PRIMARY KEY, email TEXT NOT NULL, secret TEXT NOT NULL,
            counter INTEGER DEFAULT 0, type INTEGER, provider INTEGER DEFAULT 0, issuer TEXT DEFAULT NULL,
            original_name TEXT DEFAULT NULL);""",
        "INSERT INTO accounts (email, secret, counter, type, issuer) VALUES (?,?,?,?,?)",
        [("GitHub:alice", " ".join(A.lower()[i:i + 4] for i in range(0, 26, 4)), 0, 0, "GitHub"),
         ("bob@bank.example", B, 0, 0, None),
         ("Counter:carol", C.replace("M", "M-"), 42, 1, None),
         ("broken", "not base32 at all!", 0, 0, None)], wal=True)
    sqlite_file("microsoft_authenticator.db", """
        CREATE TABLE android_metadata (locale TEXT);
        CREATE TABLE `accounts` (`_id` INTEGER PRIMARY KEY AUTOINCREMENT, `name` TEXT NOT NULL,
            `username` TEXT NOT NULL, `oath_secret_key` TEXT NOT NULL, `oath_enabled` INTEGER NOT NULL,
            `account_type` INTEGER NOT NULL, `ux_position` INTEGER NOT NULL, `cid` TEXT NOT NULL);""",
        "INSERT INTO accounts (name, username, oath_secret_key, oath_enabled, account_type, ux_position, cid) "
        "VALUES (?,?,?,?,?,?,?)",
        [("GitHub", "alice", A.lower(), 1, 0, 0, ""),
         ("Microsoft", "bob@outlook.com", b64(b32d(B)[:10]), 1, 1, 1, "cid1"),
         ("Contoso", "carol@contoso.com", "", 0, 2, 2, "")])


# --- KeePass -----------------------------------------------------------------------------------------
def keepass_entries(kp):
    from pykeepass import PyKeePass  # noqa: F401
    work = kp.add_group(kp.root_group, "Work")
    e = kp.add_entry(work, "GitHub", "alice", "pw1")
    e.otp = URI_A
    e = kp.add_entry(kp.root_group, "Legacy", "bob", "pw2")
    e.set_custom_property("TOTP Seed", B)
    e.set_custom_property("TOTP Settings", "60;8")
    e = kp.add_entry(kp.root_group, "KeeOtp", "kee", "pw3")
    e.otp = f"key={B}&size=8&step=60&otpHashMode=SHA256"
    e = kp.add_entry(kp.root_group, "KeePass TimeOtp", "tim", "pw4")
    e.set_custom_property("TimeOtp-Secret-Base32", B)
    e.set_custom_property("TimeOtp-Length", "8")
    e.set_custom_property("TimeOtp-Period", "60")
    e.set_custom_property("TimeOtp-Algorithm", "HMAC-SHA-256")
    e = kp.add_entry(kp.root_group, "KeePass HmacOtp", "carol", "pw5")
    e.set_custom_property("HmacOtp-Secret-Hex", b32d(C).hex())
    e.set_custom_property("HmacOtp-Counter", "42")
    e = kp.add_entry(kp.root_group, "SteamXC", "gaben", "pw6")
    e.set_custom_property("TOTP Seed", D)
    e.set_custom_property("TOTP Settings", "30;S")
    kp.add_entry(kp.root_group, "Password only", "pat", "pw7")
    e = kp.add_entry(kp.root_group, "Broken", "x", "pw8")
    e.otp = "otpauth://totp/x?secret=!!!"
    e = kp.add_entry(kp.root_group, "Deleted", "old", "pw9")
    e.otp = URI_C
    kp.trash_entry(e)


def keepass():
    from pykeepass import create_database
    for name, keyfile in [("keepass4.kdbx", None), ("keepass_keyfile.kdbx", "keepass.keyx")]:
        path = os.path.join(OUT, name)
        kf = None
        if keyfile:
            kf = os.path.join(OUT, keyfile)
            with open(kf, "w") as f:
                f.write(rb(32).hex())
        kp = create_database(path, password=PASSWORDS[name], keyfile=kf)
        keepass_entries(kp)
        kp.save()
    write("keepass31.kdbx", kdbx31(PASSWORDS["keepass31.kdbx"]))
    from pykeepass import PyKeePass
    kp = PyKeePass(os.path.join(OUT, "keepass31.kdbx"), password=PASSWORDS["keepass31.kdbx"])
    assert kp.version == (3, 1) and kp.find_entries(title="GitHub", first=True).otp == URI_A


def kdbx31(password, entries=None):
    """A KeePass 2.x KDBX 3.1 file: AES-KDF, AES-256-CBC, hashed block stream, gzip, Salsa20 inner
    stream (no protected values), written from the KDBX 3.1 specification."""
    master_seed, transform_seed, iv, stream_key, start = rb(32), rb(32), rb(16), rb(32), rb(32)
    rounds = 6000

    def field(i, data):
        return bytes([i]) + struct.pack("<H", len(data)) + data
    header = bytes.fromhex("03d9a29a67fb4bb5") + struct.pack("<HH", 1, 3)
    header += field(2, bytes.fromhex("31c1f2e6bf714350be5805216afc5aff"))  # AES-256
    header += field(3, struct.pack("<I", 1))  # gzip
    header += field(4, master_seed) + field(5, transform_seed) + field(6, struct.pack("<Q", rounds))
    header += field(7, iv) + field(8, stream_key) + field(9, start) + field(10, struct.pack("<I", 2))
    header += field(0, b"\r\n\r\n")
    header_hash = base64.b64encode(hashlib.sha256(header).digest()).decode()

    def entry_xml(title, user, strings):
        s = "".join(f"<String><Key>{escape(k)}</Key><Value>{escape(v)}</Value></String>" for k, v in
                    [("Title", title), ("UserName", user), ("Password", "pw"), ("URL", ""), ("Notes", "")] + strings)
        return (f"<Entry><UUID>{b64(rb(16))}</UUID><IconID>0</IconID><Times><Expires>False</Expires></Times>"
                f"{s}</Entry>")
    if entries is None:
        entries = [("GitHub", "alice", [("otp", URI_A)]),
                   ("Legacy", "bob", [("TOTP Seed", B), ("TOTP Settings", "60;8")]),
                   ("Password only", "pat", [])]
    entries = "".join(entry_xml(*e) for e in entries)
    xml = ("<?xml version=\"1.0\" encoding=\"utf-8\" standalone=\"yes\"?><KeePassFile><Meta>"
           f"<Generator>twofold fixtures</Generator><HeaderHash>{header_hash}</HeaderHash>"
           "<DatabaseName>Fixture</DatabaseName><RecycleBinEnabled>False</RecycleBinEnabled></Meta><Root>"
           f"<Group><UUID>{b64(rb(16))}</UUID><Name>Root</Name><IconID>48</IconID>{entries}</Group>"
           "<DeletedObjects/></Root></KeePassFile>").encode()
    payload = gzip.compress(xml, mtime=0)
    blocks = b""
    for index, at in enumerate(range(0, len(payload), 1 << 20)):
        chunk = payload[at:at + (1 << 20)]
        blocks += struct.pack("<I", index) + hashlib.sha256(chunk).digest() + struct.pack("<I", len(chunk)) + chunk
    blocks += struct.pack("<I", index + 1) + bytes(32) + struct.pack("<I", 0)
    composite = hashlib.sha256(hashlib.sha256(password.encode()).digest()).digest()
    enc = Cipher(algorithms.AES(transform_seed), modes.ECB()).encryptor()
    transformed = composite
    for _ in range(rounds):
        transformed = enc.update(transformed)
    key = hashlib.sha256(master_seed + hashlib.sha256(transformed).digest()).digest()
    return header + cbc_encrypt(key, iv, start + blocks)


def hostile():
    """Databases that try to make an importer work: each must be refused quickly."""
    d = os.path.join(OUT, "hostile")
    os.makedirs(d, exist_ok=True)
    # `accounts` is a view whose query would count to 10^12: it must never run.
    sqlite_file("hostile/google_view.db", """
        CREATE TABLE real_accounts (email TEXT, secret TEXT);
        CREATE VIEW accounts AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n
            WHERE i < 1000000000000) SELECT 'x' AS email, 'JBSWY3DPEHPK3PXP' AS secret, 0 AS counter,
            0 AS type, NULL AS issuer FROM n;""", "INSERT INTO real_accounts VALUES (?, ?)", [("a", A)])
    # A 2 MB value (beyond the 1 MB length limit).
    sqlite_file("hostile/microsoft_big_value.db", """
        CREATE TABLE accounts (name TEXT, username TEXT, oath_secret_key TEXT, account_type INTEGER);""",
        "INSERT INTO accounts VALUES (?,?,?,?)", [("Big", "big", "A" * 2_000_000, 0)])
    # More rows than an import takes.
    sqlite_file("hostile/google_many_rows.db", """
        CREATE TABLE accounts (email TEXT, secret TEXT, counter INTEGER, type INTEGER, issuer TEXT);""",
        "INSERT INTO accounts VALUES (?,?,0,0,NULL)", (("r", A) for _ in range(100_001)))


def bench_files():
    """1 000-entry KeePass databases for core/benches/interop.rs."""
    from pykeepass import create_database
    d = os.path.join(OUT, "bench")
    os.makedirs(d, exist_ok=True)
    secrets = [base64.b32encode(bytes((i * 13 + j) % 256 for j in range(20))).decode().rstrip("=")
               for i in range(1000)]
    kp = create_database(os.path.join(d, "keepass4_1000.kdbx"), password="keepass pass")
    for i, secret in enumerate(secrets):
        e = kp.add_entry(kp.root_group, f"Service {i}", f"user{i}", "pw")
        e.otp = f"otpauth://totp/Service{i}:user{i}?secret={secret}&issuer=Service{i}"
    kp.save()
    lines = "".join(f"otpauth://totp/Service{i}:user{i}?secret={secret}&issuer=Service{i}\r\n"
                    for i, secret in enumerate(secrets))
    zipcrypto("bench/winauth_1000.zip", "winauth.txt", lines.encode(), "benchmark")
    write("bench/keepass31_1000.kdbx", kdbx31("keepass pass", [
        (f"Service {i}", f"user{i}", [("otp", f"otpauth://totp/Service{i}:user{i}?secret={secret}")])
        for i, secret in enumerate(secrets)]))


def main():
    os.makedirs(OUT, exist_ok=True)
    steps = [authy, stratum, freeotp_v1, freeotp_v2, totp_authenticator, battlenet, duo, steam, lastpass,
             winauth, authplus, raivo, onepassword, protonpass, databases, keepass, hostile, bench_files]
    wanted = sys.argv[1:]  # step names, to rewrite only some files
    for step in steps:
        if not wanted or step.__name__ in wanted:
            step()
    write("PASSWORDS.json", json.dumps(PASSWORDS, indent=1, sort_keys=True) + "\n")
    print(f"wrote {len(os.listdir(OUT))} files to {os.path.relpath(OUT, ROOT)}")


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Independent implementations of other apps' encryption, used by core/tests/interop.rs as
peers: they produce files the way the other app (or its crypto library) does, and decrypt what
Twofold exports. Built only on `cryptography`, `hashlib`, PyNaCl (libsodium) and argon2-cffi —
none of Twofold's code.

Subcommands (files are paths; output on stdout):
  aegis-decrypt FILE PASSWORD          decrypted Aegis database JSON
  ente-seal PLAIN PASSWORD             Ente encrypted export of the plain text in PLAIN
  ente-open FILE PASSWORD              plain text of an Ente encrypted export
  bitwarden-protect PLAIN PASSWORD     password-protected Bitwarden JSON of the JSON in PLAIN
  proton-seal PLAIN PASSWORD           password-protected Proton export of the JSON in PLAIN
"""
import base64
import hashlib
import hmac
import json
import os
import sys

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand
from cryptography.hazmat.primitives import hashes
import nacl.bindings as sodium
import nacl.pwhash
from argon2.low_level import Type, hash_secret_raw

b64 = lambda b: base64.b64encode(b).decode()


def aegis_decrypt(path, password):
    doc = json.load(open(path))
    header = doc["header"]
    master = None
    for slot in header["slots"]:
        if slot["type"] != 1:
            continue
        key = hashlib.scrypt(password.encode(), salt=bytes.fromhex(slot["salt"]), n=slot["n"], r=slot["r"],
                             p=slot["p"], dklen=32, maxmem=256 * 1024 * 1024)
        params = slot["key_params"]
        master = AESGCM(key).decrypt(bytes.fromhex(params["nonce"]),
                                     bytes.fromhex(slot["key"]) + bytes.fromhex(params["tag"]), None)
    params = header["params"]
    db = AESGCM(master).decrypt(bytes.fromhex(params["nonce"]),
                                base64.b64decode(doc["db"]) + bytes.fromhex(params["tag"]), None)
    print(db.decode())


def ente_key(password, salt, mem, ops):
    return nacl.pwhash.argon2id.kdf(32, password.encode(), salt, opslimit=ops, memlimit=mem)


def ente_seal(plain_path, password):
    salt, mem, ops = os.urandom(16), 64 * 1024 * 1024, 2
    key = ente_key(password, salt, mem, ops)
    state = sodium.crypto_secretstream_xchacha20poly1305_state()
    header = sodium.crypto_secretstream_xchacha20poly1305_init_push(state, key)
    data = sodium.crypto_secretstream_xchacha20poly1305_push(
        state, open(plain_path, "rb").read(), None, sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL)
    print(json.dumps({"version": 1, "kdfParams": {"memLimit": mem, "opsLimit": ops, "salt": b64(salt)},
                      "encryptedData": b64(data), "encryptionNonce": b64(header)}))


def ente_open(path, password):
    doc = json.load(open(path))
    kdf = doc["kdfParams"]
    key = ente_key(password, base64.b64decode(kdf["salt"]), kdf["memLimit"], kdf["opsLimit"])
    state = sodium.crypto_secretstream_xchacha20poly1305_state()
    sodium.crypto_secretstream_xchacha20poly1305_init_pull(state, base64.b64decode(doc["encryptionNonce"]), key)
    plain, tag = sodium.crypto_secretstream_xchacha20poly1305_pull(state, base64.b64decode(doc["encryptedData"]), None)
    assert tag == sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL
    sys.stdout.write(plain.decode())


def enc_string(plain, enc, mac):
    iv = os.urandom(16)
    padder = padding.PKCS7(128).padder()
    data = padder.update(plain) + padder.finalize()
    e = Cipher(algorithms.AES(enc), modes.CBC(iv)).encryptor()
    ct = e.update(data) + e.finalize()
    tag = hmac.new(mac, iv + ct, hashlib.sha256).digest()
    return f"2.{b64(iv)}|{b64(ct)}|{b64(tag)}"


def bitwarden_protect(plain_path, password):
    salt, iterations = b64(os.urandom(16)), 600000
    master = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), iterations, 32)
    enc = HKDFExpand(hashes.SHA256(), 32, b"enc").derive(master)
    mac = HKDFExpand(hashes.SHA256(), 32, b"mac").derive(master)
    print(json.dumps({"encrypted": True, "passwordProtected": True, "salt": salt, "kdfType": 0,
                      "kdfIterations": iterations,
                      "encKeyValidation_DO_NOT_EDIT": enc_string(os.urandom(16).hex().encode(), enc, mac),
                      "data": enc_string(open(plain_path, "rb").read(), enc, mac)}))


def proton_seal(plain_path, password):
    salt, nonce = os.urandom(16), os.urandom(12)
    key = hash_secret_raw(password.encode(), salt, time_cost=2, memory_cost=19 * 1024, parallelism=1,
                          hash_len=32, type=Type.ID)
    ct = AESGCM(key).encrypt(nonce, open(plain_path, "rb").read(), b"proton.authenticator.export.v1")
    print(json.dumps({"version": 1, "salt": b64(salt), "content": b64(nonce + ct)}))


COMMANDS = {"aegis-decrypt": aegis_decrypt, "ente-seal": ente_seal, "ente-open": ente_open,
            "bitwarden-protect": bitwarden_protect, "proton-seal": proton_seal}

if __name__ == "__main__":
    COMMANDS[sys.argv[1]](*sys.argv[2:])

//! Import time for a 10 000-entry Aegis export, plain and encrypted (the encrypted one adds
//! Aegis's scrypt N=32768, r=8, p=1 and AES-GCM of the whole database), and for a 1 000-entry
//! file of each encrypted format of the second wave, next to a 1 000-entry encrypted Aegis
//! export. Files are built here with each format's documented parameters; the KeePass ones
//! and the ZipCrypto one come from the fixture writer (tests/peers/make_import_fixtures.py).

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

use std::io::Write;
use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;
use twofold_core::Secret;
use twofold_core::crypto::SystemRandom;
use twofold_core::interop::support::{self, Prf, Work};
use twofold_core::interop::{self, aegis, stratum, totp_authenticator};
use twofold_core::otp::OtpKind;
use twofold_core::vault::model::{Entry, Id};

const PW: &[u8] = b"benchmark";

fn secret(i: usize) -> Vec<u8> {
    (0..20).map(|j| (i * 13 + j) as u8).collect()
}

fn entries(n: usize) -> Vec<Entry> {
    (0..n)
        .map(|i| {
            Entry::new(
                Id::from_random([(i % 251) as u8; 16]),
                OtpKind::DEFAULT_TOTP,
                Secret::from_bytes(secret(i)).unwrap(),
                format!("Service {i}"),
                format!("user{i}@example.com"),
                0,
                i as i64,
            )
        })
        .collect()
}

fn b32(i: usize) -> String {
    Secret::from_bytes(secret(i)).unwrap().to_base32()
}

fn uris(n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "otpauth://totp/Service{i}:user{i}?secret={}&issuer=Service{i}\n",
                b32(i)
            )
        })
        .collect()
}

fn authy(n: usize) -> String {
    let tokens: Vec<_> = (0..n)
        .map(|i| {
            let salt = format!("salt{i}");
            let key = support::pbkdf2(false, PW, salt.as_bytes(), 1000);
            let ct = support::aes_cbc_seal(&key, &[0; 16], b32(i).as_bytes());
            json!({"accountType": "authenticator", "encryptedSecret": support::b64_encode(&ct),
                   "salt": salt, "digits": 6, "originalIssuer": format!("Service{i}"),
                   "name": format!("Service{i}: user{i}")})
        })
        .collect();
    json!(tokens).to_string()
}

fn stratum_plain(n: usize) -> String {
    let list: Vec<_> = (0..n)
        .map(|i| {
            json!({"Type": 2, "Issuer": format!("Service{i}"), "Username": format!("user{i}"),
                         "Secret": b32(i), "Algorithm": 0, "Digits": 6, "Period": 30, "Counter": 0})
        })
        .collect();
    json!({"Authenticators": list, "Categories": [], "AuthenticatorCategories": []}).to_string()
}

fn stratum_legacy(n: usize) -> Vec<u8> {
    let (salt, iv) = ([3u8; 20], [4u8; 16]);
    let key = support::pbkdf2(false, PW, &salt, 64_000);
    let mut out = b"AuthenticatorPro".to_vec();
    out.extend_from_slice(&salt);
    out.extend_from_slice(&iv);
    out.extend(support::aes_cbc_seal(
        &key,
        &iv,
        stratum_plain(n).as_bytes(),
    ));
    out
}

fn encrypted_key(key: &[u8], plain: &[u8], token: &str, nonce: [u8; 12]) -> serde_json::Value {
    let ct = support::aes_gcm_seal(key, &nonce, token.as_bytes(), plain);
    let mut params = vec![0x30, 17, 0x04, 12];
    params.extend_from_slice(&nonce);
    params.extend_from_slice(&[0x02, 0x01, 0x10]);
    let signed = |b: &[u8]| b.iter().map(|x| *x as i8).collect::<Vec<i8>>();
    json!({"mCipher": "AES/GCM/NoPadding", "mCipherText": signed(&ct),
           "mParameters": signed(&params), "mToken": token})
}

fn freeotp(n: usize) -> Vec<u8> {
    let (salt, master) = ([5u8; 32], [6u8; 32]);
    let key = Work::new()
        .pbkdf2_32(Prf::Sha512, PW, &salt, 100_000, "bench")
        .unwrap();
    let mut pairs = vec![(
        "masterKey".to_owned(),
        json!({"mAlgorithm": "PBKDF2withHmacSHA512", "mIterations": 100_000,
               "mSalt": salt.iter().map(|x| *x as i8).collect::<Vec<_>>(),
               "mEncryptedKey": encrypted_key(key.as_ref(), &master, "AES", [1; 12])})
        .to_string(),
    )];
    for i in 0..n {
        let mut nonce = [0u8; 12];
        nonce[..8].copy_from_slice(&(i as u64).to_be_bytes());
        let k = encrypted_key(&master, &secret(i), "HmacSHA1", nonce).to_string();
        pairs.push((format!("uuid-{i}"), json!({"key": k}).to_string()));
        pairs.push((
            format!("uuid-{i}-token"),
            json!({"algo": "SHA1", "digits": 6, "period": 30, "type": "TOTP",
                   "issuerExt": format!("Service{i}"), "label": format!("user{i}")})
            .to_string(),
        ));
    }
    twofold_core::fuzzing::freeotp_write_string_map(&pairs)
}

fn totp_auth(n: usize) -> String {
    let list: Vec<_> = (0..n)
        .map(|i| {
            json!({"issuer": format!("Service{i}"), "name": format!("user{i}"), "key": b32(i),
                         "base": "32", "digits": "6", "period": "30"})
        })
        .collect();
    totp_authenticator::seal(&json!(list).to_string(), PW)
}

fn sda(n: usize) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored = zip::write::SimpleFileOptions::default();
    let mut entries = Vec::new();
    for i in 0..n {
        let (salt, iv) = ([i as u8; 8], [7u8; 16]);
        let key = support::pbkdf2(false, PW, &salt, 50_000);
        let mafile = json!({"shared_secret": support::b64_encode(&secret(i)), "account_name": format!("user{i}")});
        let ct = support::aes_cbc_seal(&key, &iv, mafile.to_string().as_bytes());
        w.start_file(format!("maFiles/{i}.maFile"), stored).unwrap();
        w.write_all(support::b64_encode(&ct).as_bytes()).unwrap();
        entries.push(
            json!({"filename": format!("{i}.maFile"), "encryption_salt": support::b64_encode(&salt),
                            "encryption_iv": support::b64_encode(&iv)}),
        );
    }
    w.start_file("maFiles/manifest.json", stored).unwrap();
    w.write_all(
        json!({"encrypted": true, "entries": entries})
            .to_string()
            .as_bytes(),
    )
    .unwrap();
    w.finish().unwrap().into_inner()
}

/// A WinZip AES-256 archive (the zip crate writes no ZipCrypto: that one is a fixture).
fn zip_aes(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, data) in files {
        let base = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        let options = base.with_aes_encryption(zip::AesMode::Aes256, "benchmark");
        w.start_file(*name, options).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn raivo(n: usize) -> Vec<u8> {
    let list: Vec<_> = (0..n)
        .map(|i| {
            json!({"issuer": format!("Service{i}"), "account": format!("user{i}"), "secret": b32(i),
                         "algorithm": "SHA1", "digits": "6", "kind": "TOTP", "timer": "30",
                         "counter": "0", "pinned": "false"})
        })
        .collect();
    zip_aes(&[("raivo-otp-export.json", json!(list).to_string().as_bytes())])
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/import/bench")
            .join(name),
    )
    .expect("bench fixture (tests/peers/make_import_fixtures.py)")
}

fn bench(c: &mut Criterion) {
    let rng = SystemRandom::new();
    let list = entries(10_000);
    let refs: Vec<&Entry> = list.iter().collect();
    let plain = aegis::export_plain(&refs, &[], &rng).unwrap();
    let encrypted = aegis::export_encrypted(&refs, &[], PW, &rng).unwrap();
    let mut g = c.benchmark_group("import_aegis_10000");
    g.sample_size(10);
    g.bench_function("plain", |b| {
        b.iter(|| {
            assert_eq!(
                interop::import(plain.as_bytes(), None, None)
                    .unwrap()
                    .entries
                    .len(),
                10_000
            )
        })
    });
    g.bench_function("encrypted", |b| {
        b.iter(|| {
            assert_eq!(
                interop::import(encrypted.as_bytes(), None, Some(PW))
                    .unwrap()
                    .entries
                    .len(),
                10_000
            )
        })
    });
    g.finish();

    // One 1 000-entry file per encrypted format (SDA: 400 files, see below).
    let n = 1000;
    let aegis_1000 = aegis::export_encrypted(&refs[..n], &[], PW, &rng).unwrap();
    let text = uris(n);
    let files: Vec<(&str, Vec<u8>, usize)> = vec![
        ("aegis", aegis_1000.into_bytes(), n),
        ("authy", authy(n).into_bytes(), n),
        (
            "authenticator_pro",
            stratum::seal(stratum_plain(n).as_bytes(), PW, [1; 16], [2; 12]).unwrap(),
            n,
        ),
        ("authenticator_pro_legacy", stratum_legacy(n), n),
        ("freeotp_backup", freeotp(n), n),
        ("totp_authenticator", totp_auth(n).into_bytes(), n),
        // Each SDA file costs PBKDF2 50 000: the work budget takes at most 480 per import.
        ("steam_sda_400", sda(400), 400),
        ("winauth_zipcrypto", fixture("winauth_1000.zip"), n),
        (
            "authenticator_plus_aes",
            zip_aes(&[("Accounts.txt", text.as_bytes())]),
            n,
        ),
        ("raivo_aes", raivo(n), n),
        ("keepass_kdbx4", fixture("keepass4_1000.kdbx"), n),
        ("keepass_kdbx31", fixture("keepass31_1000.kdbx"), n),
    ];
    let mut g = c.benchmark_group("import_encrypted_1000");
    g.sample_size(10);
    for (name, bytes, count) in &files {
        let pw: &[u8] = if name.starts_with("keepass") {
            b"keepass pass"
        } else {
            PW
        };
        g.bench_function(*name, |b| {
            b.iter(|| {
                let r = interop::import(bytes, None, Some(pw)).unwrap();
                assert_eq!((r.entries.len(), r.errors.len()), (*count, 0), "{name}");
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

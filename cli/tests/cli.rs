//! The `twofold` binary as scripts and later checks use it.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod common;

use serde_json::Value;

use common::{stderr, stdout, twofold};

const EXAMPLE: &str =
    "otpauth://totp/Example:alice@example.com?secret=JBSWY3DPEHPK3PXP&issuer=Example";

#[test]
fn code_from_uri_at_a_fixed_time() {
    let o = twofold(&["code", EXAMPLE, "--at", "1700000000"]);
    assert!(o.status.success(), "{}", stderr(&o));
    // oathtool --totp -b JBSWY3DPEHPK3PXP --now '2023-11-14 22:13:20 UTC'
    assert_eq!(stdout(&o), "324550\n");
}

#[test]
fn code_from_bare_secret_in_every_mode() {
    let rfc = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
    let run = |extra: &[&str]| {
        let mut args = vec!["code", "--secret", rfc];
        args.extend_from_slice(extra);
        let o = twofold(&args);
        assert!(o.status.success(), "{extra:?}: {}", stderr(&o));
        stdout(&o).trim().to_owned()
    };
    assert_eq!(run(&["--digits", "8", "--at", "59"]), "94287082");
    assert_eq!(run(&["--hotp", "--counter", "1"]), "287082");
    let o = twofold(&[
        "code",
        "--secret",
        "FMXNK4QEGKVPULRTADY6JIDK5VHUBGZW",
        "--steam",
        "--at",
        "30",
    ]);
    assert_eq!(stdout(&o).trim(), "QJY8Y");
    let sha256 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA";
    let o = twofold(&[
        "code",
        "--secret",
        sha256,
        "--algorithm",
        "SHA256",
        "--digits",
        "8",
        "--at",
        "59",
    ]);
    assert_eq!(stdout(&o).trim(), "46119246");
}

#[test]
fn hotp_uri_counter_can_be_overridden() {
    let u = "otpauth://hotp/RFC?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&counter=0";
    assert_eq!(stdout(&twofold(&["code", u])).trim(), "755224");
    assert_eq!(
        stdout(&twofold(&["code", u, "--counter", "9"])).trim(),
        "520489"
    );
    let o = twofold(&["code", EXAMPLE, "--counter", "3"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn inspect_json_has_the_stable_shape() {
    let o = twofold(&["uri", "inspect", EXAMPLE, "--json"]);
    assert!(o.status.success());
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "type",
            "issuer",
            "account",
            "secret",
            "algorithm",
            "digits",
            "period",
            "counter"
        ]
    );
    assert_eq!(v["type"], "totp");
    assert_eq!(v["issuer"], "Example");
    assert_eq!(v["account"], "alice@example.com");
    assert_eq!(v["secret"], "JBSWY3DPEHPK3PXP");
    assert_eq!(v["algorithm"], "SHA1");
    assert_eq!(v["digits"], 6);
    assert_eq!(v["period"], 30);
    assert_eq!(v["counter"], Value::Null);

    let o = twofold(&[
        "uri",
        "inspect",
        "otpauth://hotp/bob?secret=jbsw%20y3dp%20ehpk%203pxp%3D%3D&counter=7",
        "--json",
    ]);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["issuer"], Value::Null);
    assert_eq!(v["secret"], "JBSWY3DPEHPK3PXP");
    assert_eq!(v["period"], Value::Null);
    assert_eq!(v["counter"], 7);
}

#[test]
fn inspect_text_is_readable() {
    let o = twofold(&["uri", "inspect", EXAMPLE]);
    let text = stdout(&o);
    assert!(text.contains("issuer:    Example"), "{text}");
    assert!(text.contains("shorter than the recommended 128"), "{text}");
    assert!(
        text.contains("canonical: otpauth://totp/Example:alice%40example.com"),
        "{text}"
    );
}

#[test]
fn invalid_input_exits_2_with_one_line_reason() {
    for (uri, reason) in [
        ("https://example.com", "must start with otpauth://"),
        ("otpauth://totp/x?secret=ABC1", "character 4"),
        (
            "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&period=0",
            "period must not be 0",
        ),
        (
            "otpauth://hotp/x?secret=JBSWY3DPEHPK3PXP",
            "needs a counter",
        ),
        (
            "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&digits=12",
            "12 digits is not supported",
        ),
    ] {
        for cmd in [&["uri", "inspect", uri, "--json"][..], &["code", uri][..]] {
            let o = twofold(cmd);
            assert_eq!(o.status.code(), Some(2), "{cmd:?}");
            let err = stderr(&o);
            assert_eq!(err.lines().count(), 1, "{err}");
            assert!(err.contains(reason), "{cmd:?}: {err}");
            assert!(stdout(&o).is_empty());
        }
    }
    let o = twofold(&["code", "--secret", "JBSWY3DPEHPK3PXP", "--digits", "4"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("4 digits is not supported"));
}

#[test]
fn help_everywhere() {
    for args in [
        &["--help"][..],
        &["code", "--help"],
        &["uri", "--help"],
        &["uri", "inspect", "--help"],
    ] {
        let o = twofold(args);
        assert!(o.status.success(), "{args:?}");
        assert!(stdout(&o).contains("Usage:"), "{args:?}");
    }
}

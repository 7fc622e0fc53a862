//! otpauth URI parsing and formatting: real-world forms, every rejection reason, round trips.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

use proptest::prelude::*;
use twofold_core::Secret;
use twofold_core::otp::{Algorithm, OtpKind};
use twofold_core::secret::SecretError;
use twofold_core::uri::{self, Credential, UriError, base32};

const S: &str = "JBSWY3DPEHPK3PXP";

fn parse(u: &str) -> Credential {
    uri::parse(u).unwrap_or_else(|e| panic!("{u}: {e}"))
}

fn names(u: &str) -> (String, String) {
    let c = parse(u);
    (c.issuer, c.account)
}

#[test]
fn defaults_apply() {
    let c = parse(&format!("otpauth://totp/alice?secret={S}"));
    assert_eq!(c.kind, OtpKind::DEFAULT_TOTP);
    assert_eq!(c.issuer, "");
    assert_eq!(c.account, "alice");
    assert_eq!(c.secret.to_base32(), S);
}

#[test]
fn issuer_from_label_and_parameter() {
    let p = |l: &str, q: &str| names(&format!("otpauth://totp/{l}?secret={S}{q}"));
    let want = ("Example".to_owned(), "alice@example.com".to_owned());
    assert_eq!(p("Example:alice@example.com", ""), want);
    assert_eq!(p("Example%3Aalice@example.com", ""), want);
    assert_eq!(p("Example%3aalice%40example.com", ""), want);
    assert_eq!(p("Example:%20alice@example.com", ""), want);
    assert_eq!(p("alice@example.com", "&issuer=Example"), want);
    assert_eq!(p("Example:alice@example.com", "&issuer=Example"), want);
    // The parameter wins when the label disagrees; the label's account is kept.
    assert_eq!(p("Old%20Name:alice@example.com", "&issuer=Example"), want);
    // An issuer that itself contains ':'.
    assert_eq!(
        p("Acme%3AProd:bob", "&issuer=Acme%3AProd"),
        ("Acme:Prod".to_owned(), "bob".to_owned())
    );
}

#[test]
fn an_empty_issuer_parameter_means_no_parameter() {
    let p = |l: &str, q: &str| names(&format!("otpauth://totp/{l}?secret={S}{q}"));
    let acme = ("ACME Co".to_owned(), "Firstname Lastname".to_owned());
    assert_eq!(p("ACME%20Co:Firstname%20Lastname", "&issuer="), acme);
    assert_eq!(
        p("ACME%20Co:Firstname%20Lastname", "&issuer=&digits=6"),
        acme
    );
    assert_eq!(p("ACME%20Co:Firstname%20Lastname", "&issuer=%20"), acme);
    // Spaces after the colon are trimmed.
    assert_eq!(p("ACME%20Co:%20%20Firstname%20Lastname", "&issuer="), acme);
    assert_eq!(
        p("ACME%20Co%20:%20Firstname%20Lastname%20", "&issuer="),
        acme
    );
    // The account is everything after the first colon, further colons included.
    let matrix = ("Matrix".to_owned(), "@alice:matrix.org".to_owned());
    assert_eq!(p("Matrix:@alice:matrix.org", "&issuer="), matrix);
    assert_eq!(p("Matrix:@alice:matrix.org", ""), matrix);
    assert_eq!(p("Matrix%3A%40alice%3Amatrix.org", "&issuer="), matrix);
    // No colon: all account.
    assert_eq!(
        p("alice@example.com", "&issuer="),
        (String::new(), "alice@example.com".to_owned())
    );
}

#[test]
fn an_account_with_a_colon_and_no_issuer_survives_a_round_trip() {
    for account in ["@alice:matrix.org", "a:b:c", ":leading", "x: y"] {
        let c = Credential {
            kind: OtpKind::DEFAULT_TOTP,
            secret: Secret::from_bytes(vec![7; 20]).unwrap(),
            issuer: String::new(),
            account: account.to_owned(),
        };
        let text = uri::format(&c);
        assert!(!text.contains("issuer="), "{text}");
        assert_eq!(parse(&text), c, "{text}");
    }
}

#[test]
fn spaces_as_percent_20_or_plus() {
    let want = ("ACME Co".to_owned(), "john doe".to_owned());
    assert_eq!(
        names(&format!("otpauth://totp/ACME%20Co:john%20doe?secret={S}")),
        want
    );
    assert_eq!(
        names(&format!(
            "otpauth://totp/ACME+Co:john+doe?secret={S}&issuer=ACME+Co"
        )),
        want
    );
}

#[test]
fn utf8_labels_decode() {
    let (issuer, account) = names(&format!(
        "otpauth://totp/B%C3%A4ckerei:j%C3%BCrgen?secret={S}"
    ));
    assert_eq!(issuer, "Bäckerei");
    assert_eq!(account, "jürgen");
}

#[test]
fn case_insensitive_scheme_type_and_secret() {
    let c = parse("OTPAUTH://TOTP/x?secret=jbswy3dpehpk3pxp&algorithm=sha256");
    assert_eq!(c.secret.to_base32(), S);
    assert_eq!(c.kind.algorithm(), Algorithm::Sha256);
}

#[test]
fn lenient_secret_forms() {
    for secret in [
        "JBSW%20Y3DP%20EHPK%203PXP",
        "JBSWY3DPEHPK3PXP%3D%3D%3D%3D",
        "jbsw-y3dp-ehpk-3pxp",
    ] {
        assert_eq!(
            parse(&format!("otpauth://totp/x?secret={secret}"))
                .secret
                .to_base32(),
            S
        );
    }
}

#[test]
fn every_parameter_is_honoured() {
    let c = parse(&format!(
        "otpauth://totp/x?secret={S}&algorithm=SHA512&digits=8&period=60&image=https%3A%2F%2Fx&foo=bar"
    ));
    assert_eq!(
        c.kind,
        OtpKind::Totp {
            algorithm: Algorithm::Sha512,
            digits: 8,
            period: 60
        }
    );
    let h = parse(&format!(
        "otpauth://hotp/x?secret={S}&counter=18446744073709551615&digits=7"
    ));
    assert_eq!(
        h.kind,
        OtpKind::Hotp {
            algorithm: Algorithm::Sha1,
            digits: 7,
            counter: u64::MAX
        }
    );
    for d in 6..=10 {
        assert_eq!(
            parse(&format!("otpauth://totp/x?secret={S}&digits={d}"))
                .kind
                .digits(),
            d
        );
    }
    assert_eq!(
        parse(&format!("otpauth://totp/x?secret={S}&period=3600"))
            .kind
            .period(),
        Some(3600)
    );
    assert_eq!(
        parse(&format!("otpauth://totp/x?secret={S}&period=1"))
            .kind
            .period(),
        Some(1)
    );
}

#[test]
fn steam_type_and_encoder() {
    let c = parse(&format!(
        "otpauth://steam/Steam:gaben?secret={S}&issuer=Steam"
    ));
    assert_eq!(c.kind, OtpKind::Steam);
    assert_eq!((c.issuer.as_str(), c.account.as_str()), ("Steam", "gaben"));
    let c = parse(&format!(
        "otpauth://totp/Steam:gaben?secret={S}&encoder=steam"
    ));
    assert_eq!(c.kind, OtpKind::Steam);
}

#[test]
fn fragments_and_whitespace_are_ignored() {
    let c = parse(&format!("  otpauth://totp/x?secret={S}#section \n"));
    assert_eq!(c.secret.to_base32(), S);
}

fn err(u: &str) -> UriError {
    match uri::parse(u) {
        Ok(_) => panic!("{u} should be rejected"),
        Err(e) => e,
    }
}

#[test]
fn every_rejection_reason() {
    assert_eq!(
        err(&format!("https://totp/x?secret={S}")),
        UriError::WrongScheme
    );
    assert_eq!(err("just some text"), UriError::WrongScheme);
    assert_eq!(
        err(&format!("otpauth:///x?secret={S}")),
        UriError::MissingType
    );
    assert_eq!(
        err(&format!("otpauth://motp/x?secret={S}")),
        UriError::UnknownType("motp".into())
    );
    assert_eq!(err("otpauth://totp/x?issuer=A"), UriError::MissingSecret);
    assert_eq!(err("otpauth://totp/x?secret="), UriError::EmptySecret);
    assert_eq!(err("otpauth://totp/x?secret=%20%20"), UriError::EmptySecret);
    assert_eq!(
        err("otpauth://totp/x?secret=JBSW1Y3D"),
        UriError::InvalidSecret(SecretError::Base32(base32::Base32Error::InvalidCharacter {
            position: 5
        }))
    );
    assert_eq!(
        err(&format!("otpauth://totp/x?secret={S}&algorithm=MD5")),
        UriError::UnsupportedAlgorithm("MD5".into())
    );
    assert_eq!(
        err(&format!("otpauth://totp/x?secret={S}&digits=5")),
        UriError::UnsupportedDigits(5)
    );
    assert_eq!(
        err(&format!("otpauth://totp/x?secret={S}&digits=11")),
        UriError::UnsupportedDigits(11)
    );
    assert_eq!(
        err(&format!("otpauth://totp/x?secret={S}&period=0")),
        UriError::PeriodZero
    );
    assert_eq!(
        err(&format!("otpauth://totp/x?secret={S}&period=3601")),
        UriError::PeriodOutOfRange(3601)
    );
    assert_eq!(
        err(&format!("otpauth://hotp/x?secret={S}")),
        UriError::MissingCounter
    );
    for (param, value) in [
        ("digits", "six"),
        ("period", "30s"),
        ("counter", "-1"),
        ("digits", ""),
    ] {
        let u = if param == "counter" {
            format!("otpauth://hotp/x?secret={S}&{param}={value}")
        } else {
            format!("otpauth://totp/x?secret={S}&{param}={value}")
        };
        assert_eq!(
            err(&u),
            UriError::NotANumber {
                parameter: match param {
                    "digits" => "digits",
                    "period" => "period",
                    _ => "counter",
                },
                value: value.into()
            },
            "{u}"
        );
    }
    assert_eq!(
        err(&format!(
            "otpauth://hotp/x?secret={S}&counter=18446744073709551616"
        )),
        UriError::NotANumber {
            parameter: "counter",
            value: "18446744073709551616".into()
        }
    );
    assert_eq!(
        err(&format!("otpauth://totp/a%zz?secret={S}")),
        UriError::MalformedEncoding("label")
    );
    assert_eq!(
        err(&format!("otpauth://totp/a%FF?secret={S}")),
        UriError::MalformedEncoding("label")
    );
    assert_eq!(
        err("otpauth://totp/a?secret=AB%2"),
        UriError::MalformedEncoding("secret")
    );
    assert_eq!(
        err(&format!("otpauth://totp/a?secret={S}&secret=GEZDGNBV")),
        UriError::DuplicateParameter("secret")
    );
    let long = format!("otpauth://totp/{}?secret={S}", "a".repeat(uri::MAX_URI_LEN));
    assert!(matches!(err(&long), UriError::TooLong { .. }));
}

#[test]
fn errors_are_one_line_and_never_contain_the_secret() {
    let secret = "GEZDGNBVGY3TQOJQ";
    let cases = [
        format!("otpauth://motp/x?secret={secret}"),
        format!("otpauth://totp/x?secret={secret}1"),
        format!("otpauth://totp/x?secret={secret}&digits=abc"),
        format!("otpauth://totp/x?secret={secret}&period=0"),
        format!("otpauth://hotp/x?secret={secret}"),
        format!("otpauth://totp/x?secret={secret}&secret={secret}"),
    ];
    for u in cases {
        let e = err(&u);
        for text in [e.to_string(), format!("{e:?}")] {
            assert!(!text.contains("GEZDGNBV"), "{text}");
            assert!(!text.contains('\n'), "{text}");
        }
    }
}

#[test]
fn canonical_format() {
    let c = parse(
        "otpauth://totp/Example%3Aalice%40example.com?secret=jbswy3dpehpk3pxp&issuer=Example",
    );
    assert_eq!(
        uri::format(&c),
        "otpauth://totp/Example:alice%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=Example&algorithm=SHA1&digits=6&period=30"
    );
    let s = parse(&format!("otpauth://steam/Steam:me?secret={S}"));
    assert_eq!(
        uri::format(&s),
        format!("otpauth://steam/Steam:me?secret={S}&issuer=Steam")
    );
}

fn arb_name() -> impl Strategy<Value = String> {
    // Printable text including the characters that need escaping; names are stored trimmed.
    proptest::string::string_regex("[a-zA-Z0-9 :@%+&=?#/.é漢-]{0,24}")
        .unwrap()
        .prop_map(|s| s.trim().to_owned())
}

fn arb_algorithm() -> impl Strategy<Value = Algorithm> {
    prop_oneof![
        Just(Algorithm::Sha1),
        Just(Algorithm::Sha256),
        Just(Algorithm::Sha512)
    ]
}

fn arb_kind() -> impl Strategy<Value = OtpKind> {
    prop_oneof![
        (arb_algorithm(), 6u8..=10, 1u32..=3600).prop_map(|(algorithm, digits, period)| {
            OtpKind::Totp {
                algorithm,
                digits,
                period,
            }
        }),
        (arb_algorithm(), 6u8..=10, any::<u64>()).prop_map(|(algorithm, digits, counter)| {
            OtpKind::Hotp {
                algorithm,
                digits,
                counter,
            }
        }),
        Just(OtpKind::Steam),
    ]
}

proptest! {
    #[test]
    fn format_then_parse_round_trips(
        kind in arb_kind(),
        key in proptest::collection::vec(any::<u8>(), 1..=64),
        issuer in arb_name(),
        account in arb_name(),
    ) {
        let cred = Credential { kind, secret: Secret::from_bytes(key).unwrap(), issuer, account };
        let text = uri::format(&cred);
        let back = uri::parse(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        prop_assert_eq!(&back, &cred, "{}", text);
        prop_assert_eq!(uri::format(&back), text);
    }

    #[test]
    fn base32_round_trips(key in proptest::collection::vec(any::<u8>(), 1..=128)) {
        let text = base32::encode(&key);
        prop_assert_eq!(base32::decode(&text).unwrap(), key.clone());
        prop_assert_eq!(base32::decode(&text.to_lowercase()).unwrap(), key.clone());
        let spaced: String = text.chars().enumerate()
            .flat_map(|(i, c)| if i > 0 && i % 4 == 0 { vec![' ', c] } else { vec![c] })
            .collect();
        prop_assert_eq!(base32::decode(&spaced).unwrap(), key);
    }

    #[test]
    fn parse_never_panics(s in "otpauth://[a-z]{0,6}/[ -~]{0,40}") {
        let _ = uri::parse(&s);
    }
}

//! The manual-entry form both apps show: the code parameters as typed (digits, period,
//! counter) turned into an [`OtpKind`], or an error per field the form can show next to it.
//! Only the fields the kind uses are read: a Steam account has fixed parameters, HOTP has no
//! period, TOTP no counter. The secret is checked when the entry is added.

use super::{Algorithm, MAX_DIGITS, MAX_PERIOD, MIN_DIGITS, OtpKind};

/// Which kind of account the form describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormKind {
    /// Time-based.
    Totp,
    /// Counter-based.
    Hotp,
    /// Steam Guard.
    Steam,
}

/// A field of the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// Number of digits.
    Digits,
    /// TOTP period in seconds.
    Period,
    /// HOTP counter.
    Counter,
}

/// What is wrong with one field, in words for the form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field.
    pub field: Field,
    /// What to type instead.
    pub message: String,
}

/// The parameters as typed (surrounding spaces are ignored).
#[derive(Debug, Clone, Copy)]
pub struct Form<'a> {
    /// The kind chosen.
    pub kind: FormKind,
    /// The algorithm chosen (ignored for Steam).
    pub algorithm: Algorithm,
    /// Digits as typed.
    pub digits: &'a str,
    /// Period as typed.
    pub period: &'a str,
    /// Counter as typed.
    pub counter: &'a str,
}

fn number<T: std::str::FromStr>(text: &str) -> Option<T> {
    let t = text.trim();
    // `u32::from_str` accepts a leading `+`; a form field should hold digits only.
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse().ok()
}

/// The kind the form describes, or every field error at once.
pub fn parse(form: &Form<'_>) -> Result<OtpKind, Vec<FieldError>> {
    if form.kind == FormKind::Steam {
        return Ok(OtpKind::Steam);
    }
    let mut errors = Vec::new();
    let digits = number::<u8>(form.digits).filter(|d| (MIN_DIGITS..=MAX_DIGITS).contains(d));
    if digits.is_none() {
        errors.push(FieldError {
            field: Field::Digits,
            message: format!("Use {MIN_DIGITS} to {MAX_DIGITS} digits"),
        });
    }
    let kind = match form.kind {
        FormKind::Totp => {
            let period = number::<u32>(form.period).filter(|p| (1..=MAX_PERIOD).contains(p));
            if period.is_none() {
                errors.push(FieldError {
                    field: Field::Period,
                    message: format!("The period is a number of seconds from 1 to {MAX_PERIOD}"),
                });
            }
            digits.zip(period).map(|(digits, period)| OtpKind::Totp {
                algorithm: form.algorithm,
                digits,
                period,
            })
        }
        _ => {
            let counter = number::<u64>(form.counter);
            if counter.is_none() {
                errors.push(FieldError {
                    field: Field::Counter,
                    message: "The counter is a whole number, 0 or more".into(),
                });
            }
            digits.zip(counter).map(|(digits, counter)| OtpKind::Hotp {
                algorithm: form.algorithm,
                digits,
                counter,
            })
        }
    };
    match kind {
        Some(k) if errors.is_empty() => Ok(k),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form<'a>(kind: FormKind, digits: &'a str, period: &'a str, counter: &'a str) -> Form<'a> {
        Form {
            kind,
            algorithm: Algorithm::Sha256,
            digits,
            period,
            counter,
        }
    }

    fn fields(r: Result<OtpKind, Vec<FieldError>>) -> Vec<Field> {
        r.unwrap_err().into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn good_forms_give_their_kind() {
        assert_eq!(
            parse(&form(FormKind::Totp, " 8 ", "60", "junk")),
            Ok(OtpKind::Totp {
                algorithm: Algorithm::Sha256,
                digits: 8,
                period: 60
            }),
            "spaces trimmed; the counter is not read for TOTP"
        );
        assert_eq!(
            parse(&form(FormKind::Hotp, "6", "", "18446744073709551615")),
            Ok(OtpKind::Hotp {
                algorithm: Algorithm::Sha256,
                digits: 6,
                counter: u64::MAX
            })
        );
        assert_eq!(
            parse(&form(FormKind::Steam, "x", "y", "z")),
            Ok(OtpKind::Steam)
        );
    }

    #[test]
    fn every_bad_field_is_named_at_once() {
        assert_eq!(
            fields(parse(&form(FormKind::Totp, "5", "0", "0"))),
            [Field::Digits, Field::Period]
        );
        assert_eq!(
            fields(parse(&form(FormKind::Totp, "11", "3601", ""))),
            [Field::Digits, Field::Period]
        );
        assert_eq!(
            fields(parse(&form(FormKind::Hotp, "six", "", "-1"))),
            [Field::Digits, Field::Counter]
        );
        for bad in ["", " ", "+6", "6.0", "٦", "99999999999999999999"] {
            assert_eq!(
                fields(parse(&form(FormKind::Totp, bad, "30", ""))),
                [Field::Digits],
                "{bad:?}"
            );
        }
        assert_eq!(
            fields(parse(&form(
                FormKind::Hotp,
                "6",
                "",
                "18446744073709551616"
            ))),
            [Field::Counter],
            "past 2^64 − 1"
        );
        let e = parse(&form(FormKind::Totp, "4", "30", "")).unwrap_err();
        assert_eq!(e[0].message, "Use 6 to 10 digits");
    }
}

//! The manual-entry form's code parameters (`twofold_core::otp::manual`): digits, period and
//! counter as typed → `OtpParams`, or a message per field.

use twofold_core::otp::manual::{self, Field, Form, FormKind};

use crate::convert::{HashAlgorithm, OtpParams, OtpType};

/// A field of the manual-entry form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum FormField {
    /// The number of digits in a code.
    Digits,
    /// The seconds each TOTP code lasts.
    Period,
    /// The HOTP counter of the next code.
    Counter,
}

/// What is wrong with one field, in words for the form.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FieldProblem {
    /// The field that is wrong.
    pub field: FormField,
    /// What is wrong with it, in an English sentence for the form.
    pub message: String,
}

/// The parameters, or what is wrong with each field (`params` is `None` then).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ParsedParams {
    /// The parameters read; null when a field is wrong.
    pub params: Option<OtpParams>,
    /// What is wrong, one entry per wrong field (every wrong field at once); empty when
    /// `params` is set.
    pub problems: Vec<FieldProblem>,
}

/// Reads the manual-entry form's parameters as typed; only the fields `otp_type` uses are
/// read (Steam: none; HOTP: digits and counter; TOTP: digits and period).
#[uniffi::export]
pub fn parse_code_parameters(
    otp_type: OtpType,
    algorithm: HashAlgorithm,
    digits: String,
    period: String,
    counter: String,
) -> ParsedParams {
    let form = Form {
        kind: match otp_type {
            OtpType::Totp => FormKind::Totp,
            OtpType::Hotp => FormKind::Hotp,
            OtpType::Steam => FormKind::Steam,
        },
        algorithm: algorithm.into(),
        digits: &digits,
        period: &period,
        counter: &counter,
    };
    match manual::parse(&form) {
        Ok(kind) => ParsedParams {
            params: Some(OtpParams::from(&kind)),
            problems: vec![],
        },
        Err(errors) => ParsedParams {
            params: None,
            problems: errors
                .into_iter()
                .map(|e| FieldProblem {
                    field: match e.field {
                        Field::Digits => FormField::Digits,
                        Field::Period => FormField::Period,
                        Field::Counter => FormField::Counter,
                    },
                    message: e.message,
                })
                .collect(),
        },
    }
}

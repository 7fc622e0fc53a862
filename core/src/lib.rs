//! Twofold core: everything that must be right about one-time passwords lives here.
//!
//! The crate is pure Rust with no FFI and no platform policy. The CLI and the UniFFI crate are
//! thin clients of it.
//!
//! * [`otp`] — HOTP (RFC 4226), TOTP (RFC 6238) and Steam Guard code generation, batch
//!   [`otp::codes_at`].
//! * [`uri`] — the otpauth Key URI Format: parsing, canonical formatting and base32.
//! * [`secret`] — [`Secret`], the zeroizing container for key bytes.
//! * [`vault`] — the encrypted vault: data model, `TWFV` container, key slots, atomic
//!   storage, and the thread-safe [`vault::VaultSession`].
//! * [`sync`] — sync between the user's own devices through a folder or WebDAV.
//! * [`crypto`] — the primitives those formats are built from.

#![forbid(unsafe_code)]

pub mod autolock;
pub mod backup;
pub mod crypto;
pub mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod interop;
pub mod limits;
pub mod otp;
pub mod qr;
pub mod recovery_kit;
pub mod secret;
mod serde_bytes_helpers;
pub mod sync;
pub mod time;
pub mod transfer;
pub mod uri;
pub mod vault;

pub use otp::{Algorithm, Code, OtpKind};
pub use secret::Secret;
pub use uri::{Credential, UriError};

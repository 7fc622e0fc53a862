//! UniFFI bindings of the Twofold core. This crate holds no logic: it converts types, keeps
//! `Arc` handles and maps errors. Secrets enter through explicit parameters (passwords as
//! bytes, secrets being added) and leave only through functions named `export_*` or
//! `generate_platform_key`.

uniffi::setup_scaffolding!();

mod autolock;
mod backup_folder;
mod care;
mod codes;
mod convert;
mod error;
mod exports;
mod interop;
mod manual;
mod recovery;
mod session;
mod sync;
mod transfer;
mod trust;
mod uri;
mod verify;

pub use autolock::*;
pub use backup_folder::*;
pub use care::*;
pub use codes::*;
pub use convert::*;
pub use error::TwofoldError;
pub use exports::*;
pub use interop::*;
pub use manual::*;
pub use recovery::*;
pub use session::VaultSession;
pub use sync::*;
pub use transfer::*;
pub use trust::TrustStore;
pub use uri::*;

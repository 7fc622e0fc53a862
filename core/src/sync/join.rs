//! Joining a device to a sync group through the transfer channel (`docs/sync-protocol.md` §9).
//!
//! 1. The new device makes its keys and shows a **join invite**: `OTPX2J` + Base45 of an
//!    OTPX/2 invite followed by its identity block (version, signing key, X25519 key, name).
//! 2. A member scans it, records a **pending** admission in its vault ([`invite_device`]),
//!    and seals the group's bundle (the roster, where the files are and, if the user allows,
//!    the WebDAV credentials; no group key) with OTPX/2 under its own HPKE `info`, which
//!    commits to the identity block: the frames, the reply and the 6-digit confirmation code
//!    work exactly as for a transfer of accounts.
//! 3. Only when the member's user confirms that both codes match does it sign
//!    `Add(new device)` and start an epoch wrapped to it ([`confirm_device`]); otherwise it
//!    cancels ([`cancel_device`]) and nothing was ever published.
//! 4. The new device takes the bundle only after its user confirmed that both codes match,
//!    checks that the bundle is meant for *its* keys, from a member, and waits: it reads
//!    the storage, and becomes a member when it reads the member's admission and the group
//!    key wrapped to it in the member's next file.

use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::doc::Doc;
use super::engine::ensure_epoch;
use super::roster::{self, Device, DeviceKey, EpochId, Membership, Signed, Statement};
use super::state::{KeyBytes, PendingAdmission, STATE_VERSION, StorageConfig, SyncState};
use super::{SyncError, engine};
use crate::crypto::{self, RandomSource, SigningKey, SlotKeyPair};
use crate::serde_bytes_helpers::array;
use crate::transfer::{self, Invite, Purpose, TransferReceiver, TransferSender};
use crate::vault::VaultSession;

/// Text prefix of a join invite.
pub const JOIN_PREFIX: &str = "OTPX2J";
const BLOCK_VERSION: u8 = 1;
/// Bundle version 2: the admission is not in the bundle, and no group key is; the member
/// publishes both once its user has confirmed the codes. Version 1 bundles (made by an older
/// Twofold, which admitted at once) are still taken.
const BUNDLE_VERSION: u32 = 2;

/// The new device's identity as the invite carries it.
fn identity_block(device: &Device) -> Vec<u8> {
    let mut b = Vec::with_capacity(66 + device.name.len());
    b.push(BLOCK_VERSION);
    b.extend_from_slice(&device.key);
    b.extend_from_slice(&device.kx);
    b.push(device.name.len() as u8);
    b.extend_from_slice(device.name.as_bytes());
    b
}

fn parse_block(b: &[u8]) -> Result<Device, SyncError> {
    let bad = |why: &str| SyncError::Join(format!("not a Twofold join invite: {why}"));
    if b.first() != Some(&BLOCK_VERSION) {
        return Err(bad("unknown identity block"));
    }
    if b.len() < 66 {
        return Err(bad("truncated"));
    }
    let len = usize::from(b[65]);
    if b.len() != 66 + len {
        return Err(bad("wrong length"));
    }
    let name = std::str::from_utf8(&b[66..])
        .map_err(|_| bad("the device name is not text"))?
        .to_owned();
    roster::check_name(&name)?;
    Ok(Device {
        key: b[1..33].try_into().expect("32 bytes"),
        kx: b[33..65].try_into().expect("32 bytes"),
        name,
    })
}

/// A parsed join invite, as the member reads it.
pub struct JoinInvite {
    /// The OTPX/2 invite the new device's receiver made (its session, key, expiry and LAN address).
    pub invite: Invite,
    /// The new device: its keys and the name its user gave it.
    pub device: Device,
    block: Vec<u8>,
}

impl JoinInvite {
    /// Reads a join invite (`OTPX2J…`, as scanned or pasted) at Unix time `now_s` (seconds);
    /// [`SyncError::Join`] or a transfer error for text that is not one, or one expired.
    pub fn parse(text: &str, now_s: u64) -> Result<Self, SyncError> {
        let text = text.trim();
        let body = match transfer::check_prefix(text, 'J') {
            Some(r) => r?,
            None if text.starts_with(transfer::INVITE_PREFIX) => {
                return Err(SyncError::Join(
                    "this is an invite to transfer accounts; to add a device to sync, show the \
                     sync join invite on the new device (`sync join`)"
                        .into(),
                ));
            }
            None => {
                return Err(SyncError::Join(format!(
                    "it does not start with {JOIN_PREFIX}"
                )));
            }
        };
        if body.len() > 2048 {
            return Err(SyncError::Join("the invite is too long".into()));
        }
        let bytes = Zeroizing::new(
            base45::decode(body).map_err(|_| SyncError::Join("the invite is not Base45".into()))?,
        );
        let (invite, used) = Invite::from_bytes_prefix(&bytes, now_s)?;
        let block = bytes[used..].to_vec();
        let device = parse_block(&block)?;
        Ok(JoinInvite {
            invite,
            device,
            block,
        })
    }
}

/// What the member seals for the new device.
#[derive(Serialize, Deserialize)]
struct Bundle {
    version: u32,
    #[serde(with = "array")]
    group: [u8; 16],
    #[serde(with = "array")]
    founder: [u8; 32],
    #[serde(with = "array")]
    inviter: [u8; 32],
    epochs: Vec<(EpochId, KeyBytes)>,
    statements: Vec<Signed>,
    rotations: Vec<Signed>,
    storage: StorageConfig,
    /// Version 2: the device the member is inviting (it must be this one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    device: Option<Device>,
}

/// The new device's side, kept between showing the invite and accepting (the CLI writes it
/// to a 0600 file). Wiped on drop.
pub struct Joiner {
    receiver: TransferReceiver,
    secrets: JoinerSecrets,
}

#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
struct JoinerSecrets {
    #[serde(with = "array")]
    signing_seed: [u8; 32],
    #[serde(with = "array")]
    kx_seed: [u8; 32],
    name: String,
}

#[derive(Serialize, Deserialize)]
struct JoinerFile {
    #[serde(with = "crate::serde_bytes_helpers::bytes")]
    receiver: Vec<u8>,
    secrets: JoinerSecrets,
}

/// What a join bundle shows before the user accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinPreview {
    /// Member names.
    pub devices: Vec<String>,
    /// Name of the member that sent the bundle.
    pub inviter: String,
    /// The sync location, for display (never a password).
    pub storage: String,
    /// WebDAV credentials are included.
    pub with_credentials: bool,
    /// The WebDAV URL and user, when the files are on a WebDAV server.
    pub webdav: Option<(String, Option<String>)>,
}

impl Joiner {
    /// A new join session valid for `ttl_s` seconds: this device's keys and an invite.
    pub fn new(
        name: &str,
        now_s: u64,
        ttl_s: u64,
        lan: Option<String>,
        rng: &dyn RandomSource,
    ) -> Result<Self, SyncError> {
        roster::check_name(name)?;
        let secrets = JoinerSecrets {
            signing_seed: *crypto::random_key(rng)?,
            kx_seed: *crypto::random_key(rng)?,
            name: name.trim().to_owned(),
        };
        let block = identity_block(&secrets.device());
        let receiver = TransferReceiver::new_for(now_s, ttl_s, lan, Purpose::SyncJoin, block, rng)?;
        Ok(Joiner { receiver, secrets })
    }

    /// The invite to show: `OTPX2J…`.
    pub fn invite_text(&self) -> String {
        let mut bytes = self.receiver.invite().to_bytes();
        bytes.extend_from_slice(&identity_block(&self.secrets.device()));
        format!("{JOIN_PREFIX}{}", base45::encode(bytes.as_slice()))
    }

    /// The OTPX/2 receiver (frames, LAN, reply, code).
    pub fn receiver(&mut self) -> &mut TransferReceiver {
        &mut self.receiver
    }

    /// Unix seconds after which the join session is void.
    pub fn expires_at(&self) -> u64 {
        self.receiver.expires_at()
    }

    /// The session as bytes to keep until the bundle arrives (it holds this device's seeds:
    /// wiped on drop; store it only where the user alone can read it).
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let file = JoinerFile {
            receiver: self.receiver.state_bytes().to_vec(),
            secrets: JoinerSecrets {
                signing_seed: self.secrets.signing_seed,
                kx_seed: self.secrets.kx_seed,
                name: self.secrets.name.clone(),
            },
        };
        let out = Zeroizing::new(rmp_serde::to_vec_named(&file).expect("plain data"));
        let JoinerFile { mut receiver, .. } = file;
        receiver.zeroize();
        out
    }

    /// Reads what [`Joiner::to_bytes`] wrote; [`SyncError::Join`] for anything else.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SyncError> {
        let mut file: JoinerFile = rmp_serde::from_slice(bytes)
            .map_err(|_| SyncError::Join("not a sync join session file".into()))?;
        let receiver = TransferReceiver::from_state_bytes(&file.receiver);
        file.receiver.zeroize();
        let receiver = receiver?;
        if receiver.purpose() != Purpose::SyncJoin {
            return Err(SyncError::Join("not a sync join session file".into()));
        }
        Ok(Joiner {
            receiver,
            secrets: file.secrets,
        })
    }

    /// What the bundle holds (once received), before accepting.
    pub fn preview(&self) -> Option<JoinPreview> {
        let bundle: Bundle = rmp_serde::from_slice(self.receiver.raw_preview()?).ok()?;
        let membership = Membership::compute(
            &bundle.group,
            &bundle.founder,
            &bundle.statements.iter().cloned().collect(),
        );
        let mut devices: Vec<String> = membership.active().iter().map(|d| d.name.clone()).collect();
        // Bundle 2: this device, which the member adds once the codes are confirmed.
        if let Some(d) = &bundle.device
            && !membership.members.contains_key(&d.key)
        {
            devices.push(d.name.clone());
        }
        Some(JoinPreview {
            devices,
            inviter: membership.name_of(roster::devtag(&bundle.inviter)),
            storage: bundle.storage.describe(),
            with_credentials: matches!(
                bundle.storage,
                StorageConfig::WebDav {
                    password: Some(_),
                    ..
                }
            ),
            webdav: match &bundle.storage {
                StorageConfig::WebDav { url, user, .. } => Some((url.clone(), user.clone())),
                _ => None,
            },
        })
    }

    /// The user confirmed that the codes match: this vault becomes a member. `storage`
    /// replaces the bundle's location when the app opens it its own way (a SAF tree, a
    /// folder picked on this device) or when the user gives the WebDAV password here.
    pub fn accept(
        self,
        session: &VaultSession,
        storage: Option<StorageConfig>,
    ) -> Result<JoinPreview, SyncError> {
        let preview = self
            .preview()
            .ok_or_else(|| SyncError::Join("the group's data has not arrived yet".into()))?;
        let secrets = JoinerSecrets {
            signing_seed: self.secrets.signing_seed,
            kx_seed: self.secrets.kx_seed,
            name: self.secrets.name.clone(),
        };
        let raw = self.receiver.accept_raw()?;
        let bundle: Bundle = rmp_serde::from_slice(&raw)
            .map_err(|_| SyncError::Join("the group's data is not readable".into()))?;
        if bundle.version != 1 && bundle.version != BUNDLE_VERSION {
            return Err(SyncError::Join(format!(
                "the other device uses a newer sync protocol (bundle {}); update Twofold",
                bundle.version
            )));
        }
        let me = secrets.device();
        let statements: std::collections::BTreeSet<Signed> =
            bundle.statements.iter().cloned().collect();
        let membership = Membership::compute(&bundle.group, &bundle.founder, &statements);
        if !membership.is_active(&bundle.inviter) {
            return Err(SyncError::Join(
                "the device that sent this is not a member of the group".into(),
            ));
        }
        let made_for_me = if bundle.version == 1 {
            matches!(membership.members.get(&me.key),
                Some(d) if d == &me && membership.is_active(&me.key))
        } else {
            bundle.device.as_ref() == Some(&me) && !membership.members.contains_key(&me.key)
        };
        if !made_for_me {
            return Err(SyncError::Join(
                "the group's data does not add this device (it was made for another invite)".into(),
            ));
        }
        let mut state = SyncState {
            version: STATE_VERSION,
            group: bundle.group,
            founder: bundle.founder,
            signing_seed: KeyBytes(secrets.signing_seed),
            kx_seed: KeyBytes(secrets.kx_seed),
            name: secrets.name.clone(),
            epochs: Default::default(),
            statements,
            rotations: Default::default(),
            doc: Doc::default(),
            clock: 0,
            generation: 0,
            seen: Default::default(),
            quarantined: Default::default(),
            storage: storage.unwrap_or_else(|| bundle.storage.clone()),
            warnings: Vec::new(),
            last_sync: None,
            first_sync: true,
            revoked: false,
            unpublished: true,
            pending: Vec::new(),
            awaiting_admission: bundle.version != 1,
        };
        for r in &bundle.rotations {
            if r.open_rotation(&state.group).is_some() {
                state.rotations.insert(r.clone());
            }
        }
        let checks = roster::rotations_by_epoch(&state.group, &state.rotations);
        for (epoch, key) in &bundle.epochs {
            // Only keys the rotations vouch for.
            if checks.get(epoch).is_some_and(|(r, _)| r.check(&key.0)) {
                state.epochs.insert(*epoch, key.clone());
            }
        }
        session.sync_transaction(|txn| -> Result<(), SyncError> {
            if txn.state.is_some() {
                return Err(SyncError::AlreadyInGroup);
            }
            txn.state = Some(state.encode());
            txn.write = true;
            Ok(())
        })?;
        Ok(preview)
    }
}

impl JoinerSecrets {
    fn device(&self) -> Device {
        Device {
            key: SigningKey::from_seed(&self.signing_seed).public(),
            kx: SlotKeyPair::derive(&self.kx_seed, roster::KX_LABEL).public,
            name: self.name.clone(),
        }
    }
}

/// The member's side, step 1: records the invite's device as a **pending** admission in this
/// vault and seals the bundle for it (the group, the roster so far, where the files are and,
/// if `share_credentials`, the WebDAV credentials; no group key, no admission). Nothing is
/// published: the device is admitted only by [`confirm_device`], once the user has compared
/// the codes, and the pending admission lapses when the invite expires.
pub fn invite_device(
    session: &VaultSession,
    invite: JoinInvite,
    share_credentials: bool,
    frame_bytes: usize,
    rng: &dyn RandomSource,
) -> Result<(TransferSender, Device), SyncError> {
    let JoinInvite {
        invite,
        device,
        block,
    } = invite;
    let expires_at = i64::try_from(invite.expires_at)
        .unwrap_or(i64::MAX / 1000)
        .saturating_mul(1000);
    let plaintext = session.sync_transaction(|txn| -> Result<Zeroizing<Vec<u8>>, SyncError> {
        let mut state = engine::decode_state(txn.state.as_deref().map(|s| s.as_slice()))?;
        check_admission(&state, &device)?;
        let storage = match (&state.storage, share_credentials) {
            (StorageConfig::WebDav { url, user, .. }, false) => StorageConfig::WebDav {
                url: url.clone(),
                user: user.clone(),
                password: None,
            },
            (other, _) => other.clone(),
        };
        let bundle = Bundle {
            version: BUNDLE_VERSION,
            group: state.group,
            founder: state.founder,
            inviter: state.me(),
            epochs: Vec::new(),
            statements: state.statements.iter().cloned().collect(),
            rotations: state.rotations.iter().cloned().collect(),
            storage,
            device: Some(device.clone()),
        };
        let bytes = Zeroizing::new(rmp_serde::to_vec_named(&bundle).expect("plain data"));
        let now = txn.now;
        state
            .pending
            .retain(|p| p.device.key != device.key && p.expires_at > now);
        state.pending.push(PendingAdmission {
            device: device.clone(),
            expires_at,
        });
        txn.state = Some(state.encode());
        txn.write = true;
        Ok(bytes)
    })?;
    let sender = TransferSender::new_for(
        invite,
        Purpose::SyncJoin,
        &block,
        &plaintext,
        frame_bytes,
        rng,
    )?;
    Ok((sender, device))
}

/// Whether `device` may be admitted by this member now.
fn check_admission(state: &SyncState, device: &Device) -> Result<(), SyncError> {
    if state.revoked {
        return Err(SyncError::Revoked);
    }
    let membership = state.membership();
    if membership.members.contains_key(&device.key) {
        return Err(SyncError::Join(format!(
            "{} is already in the group (a device that was removed joins with a new invite)",
            device.name
        )));
    }
    if membership
        .active()
        .iter()
        .any(|d| d.name.eq_ignore_ascii_case(&device.name))
    {
        return Err(SyncError::Join(format!(
            "a device named '{}' is already in the group; name the new one differently",
            device.name
        )));
    }
    Ok(())
}

/// The member's side, step 2: the user confirmed that both devices show the same code. The
/// pending admission of `device` becomes a signed `Add` and a new group key wrapped to it,
/// committed to this vault; the next sync publishes them, and the new device reads them.
pub fn confirm_device(
    session: &VaultSession,
    device: &DeviceKey,
    rng: &dyn RandomSource,
) -> Result<Device, SyncError> {
    session.sync_transaction(|txn| -> Result<Device, SyncError> {
        let mut state = engine::decode_state(txn.state.as_deref().map(|s| s.as_slice()))?;
        let now = txn.now;
        let Some(i) = state.pending.iter().position(|p| &p.device.key == device) else {
            return Err(SyncError::Join(
                "no device is waiting to be added (it was cancelled or added already)".into(),
            ));
        };
        let pending = state.pending.remove(i);
        if pending.expires_at <= now {
            // (Dropped from the state by the next sync.)
            return Err(SyncError::Join(format!(
                "the invitation of '{}' expired; show a new join invite on it",
                pending.device.name
            )));
        }
        check_admission(&state, &pending.device)?;
        let add = Statement::Add {
            group: state.group,
            device: pending.device.clone(),
            by: state.me(),
            at: now,
            parents: roster::heads(&state.group, &state.statements),
        };
        state
            .statements
            .insert(Signed::statement(&add, &state.signing_key()));
        ensure_epoch(&mut state, now, rng)?;
        state.unpublished = true;
        txn.state = Some(state.encode());
        txn.write = true;
        Ok(pending.device)
    })
}

/// The member's side, instead of step 2: the codes differ, or the user gave up. The pending
/// admission is dropped; nothing of it was ever published.
pub fn cancel_device(session: &VaultSession, device: &DeviceKey) -> Result<(), SyncError> {
    session.sync_transaction(|txn| -> Result<(), SyncError> {
        let mut state = engine::decode_state(txn.state.as_deref().map(|s| s.as_slice()))?;
        let before = state.pending.len();
        state.pending.retain(|p| &p.device.key != device);
        if state.pending.len() != before {
            txn.state = Some(state.encode());
            txn.write = true;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SystemRandom;
    use crate::sync::storage::MemoryStorage;
    use crate::sync::test_device as device;

    /// A member running the Twofold before bundle 2 admitted at once and sealed its keys: a
    /// new device still joins from such a bundle, and is a member at once.
    #[test]
    fn a_version_1_bundle_from_an_older_member_is_still_taken() {
        let storage = MemoryStorage::new();
        let (a, b) = (device(), device());
        engine::setup(
            &a,
            StorageConfig::App { label: "t".into() },
            &storage,
            "phone",
        )
        .unwrap();
        let rng = SystemRandom::new();
        let now = crate::time::now_s();
        let mut joiner = Joiner::new("desktop", now, 600, None, &rng).unwrap();
        let invite = JoinInvite::parse(&joiner.invite_text(), now).unwrap();
        // What the older member did: add, rotate, commit, and seal everything.
        let plaintext = a
            .sync_transaction(|txn| -> Result<Zeroizing<Vec<u8>>, SyncError> {
                let mut state = engine::decode_state(txn.state.as_deref().map(|s| s.as_slice()))?;
                let add = Statement::Add {
                    group: state.group,
                    device: invite.device.clone(),
                    by: state.me(),
                    at: txn.now,
                    parents: Vec::new(),
                };
                state
                    .statements
                    .insert(Signed::statement(&add, &state.signing_key()));
                ensure_epoch(&mut state, txn.now, &rng)?;
                let bundle = Bundle {
                    version: 1,
                    group: state.group,
                    founder: state.founder,
                    inviter: state.me(),
                    epochs: state.epochs.iter().map(|(e, k)| (*e, k.clone())).collect(),
                    statements: state.statements.iter().cloned().collect(),
                    rotations: state.rotations.iter().cloned().collect(),
                    storage: state.storage.clone(),
                    device: None,
                };
                state.unpublished = true;
                txn.state = Some(state.encode());
                txn.write = true;
                Ok(Zeroizing::new(rmp_serde::to_vec_named(&bundle).unwrap()))
            })
            .unwrap();
        let mut sender = TransferSender::new_for(
            invite.invite,
            Purpose::SyncJoin,
            &invite.block,
            &plaintext,
            800,
            &rng,
        )
        .unwrap();
        joiner.receiver().receive_blob(sender.blob(), now).unwrap();
        sender
            .accept_reply(&joiner.receiver().reply().unwrap(), now)
            .unwrap();
        joiner.accept(&b, None).unwrap();
        let state = engine::state_of(&b).unwrap();
        assert!(!state.awaiting_admission);
        assert!(state.membership().is_active(&state.me()));
        engine::sync(&a, &storage).unwrap();
        let report = engine::sync(&b, &storage).unwrap();
        assert!(report.written.is_some(), "a member at once: it writes");
        let names: Vec<String> = engine::devices(&a)
            .unwrap()
            .into_iter()
            .filter(|d| d.active)
            .map(|d| d.name)
            .collect();
        assert_eq!(names.len(), 2);
    }
}

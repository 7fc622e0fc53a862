#![no_main]
//! Structured format 2 vaults: validly signed files whose slots, endorsements, wraps and body
//! plaintext come from the fuzzer, so the checks after the signatures (endorsement, unwrap,
//! body and seed decoding, the repairs an unlock writes) see hostile input signed by a key the
//! slot does or does not vouch for. Opened through the whole session path in memory.
use libfuzzer_sys::fuzz_target;
use twofold_core::crypto::{Key32, RandomSource, SigningKey};
use twofold_core::fuzzing;
use twofold_core::vault::container::{self, Header, VAULT_MAGIC};
use twofold_core::vault::slots::{self, NewSlot};
use twofold_core::vault::{RecoveryKey, SlotCredential};

struct Fixed;
impl RandomSource for Fixed {
    fn fill(&self, buf: &mut [u8]) -> Result<(), twofold_core::crypto::CryptoError> {
        buf.fill(0x42);
        Ok(())
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let vault_id = [3u8; 16];
    let mk: Key32 = zeroize::Zeroizing::new([5u8; 32]);
    let signer = SigningKey::from_seed(&[9; 32]);
    let recovery = RecoveryKey::from_bytes([7; 16]);
    let (mut slot, secrets) =
        slots::create_slot(VAULT_MAGIC, &vault_id, NewSlot::Recovery(&recovery), &mk, &Fixed)
            .unwrap();
    if flags & 1 == 0 {
        container::endorse(&mut slot, &vault_id, &secrets.endorse_key, signer.public());
    }
    let (tweak, body) = rest.split_at(rest.len().min(8));
    if flags & 2 != 0 && !tweak.is_empty() {
        // Damage the wrap or the endorsement in a fuzzer-chosen place.
        let i = tweak[0] as usize;
        if let Some(e) = slot.endorsement.as_mut() {
            e.mac[i % 32] ^= tweak.get(1).copied().unwrap_or(1);
        }
        let n = slot.wrap.ciphertext.len();
        slot.wrap.ciphertext[i % n] ^= tweak.get(2).copied().unwrap_or(0);
    }
    if flags & 4 != 0 && tweak.len() >= 8 {
        // A second slot with fuzzer-chosen KDF parameters below the floor or above the
        // ceiling: refused before any Argon2id runs (a run would take the fuzzer a second).
        let low = u32::from(tweak[4]) * 64;
        let high = 256 * 1024 + 1 + u32::from_le_bytes([tweak[4], tweak[5], 0, 0]);
        let m = if tweak[3] & 1 == 0 { low } else { high };
        let mut other = slot.clone();
        other.id = [0xee; 16];
        other.kind = twofold_core::vault::SlotKind::Password;
        other.kdf = Some(container::SlotKdf {
            m_kib: m,
            t: u32::from(tweak[6] % 16),
            p: u32::from(tweak[7] % 8),
            salt: vec![1; 16],
        });
        other.endorsement = None;
        slot_list_push(&mut slot, other, &vault_id, &mk, body, &signer);
        return;
    }
    let header = Header {
        vault_id,
        generation: 1,
        origin: None,
        signers: vec![signer.public()],
        succession: None,
        slots: vec![slot],
    };
    let Ok(file) = container::seal_file(VAULT_MAGIC, &header, &mk, body, &[&signer], &Fixed) else {
        return;
    };
    let key = RecoveryKey::from_bytes([7; 16]);
    let _ = fuzzing::open_vault(&file, None, &SlotCredential::Recovery(&key));
});

fn slot_list_push(
    first: &mut container::Slot,
    second: container::Slot,
    vault_id: &[u8; 16],
    mk: &Key32,
    body: &[u8],
    signer: &SigningKey,
) {
    let header = Header {
        vault_id: *vault_id,
        generation: 1,
        origin: None,
        signers: vec![signer.public()],
        succession: None,
        slots: vec![second, first.clone()],
    };
    let Ok(file) = container::seal_file(VAULT_MAGIC, &header, mk, body, &[signer], &Fixed) else {
        return;
    };
    let _ = fuzzing::open_vault(&file, None, &SlotCredential::Password(b"fuzz"));
}

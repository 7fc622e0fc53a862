import Foundation

// Biometric slots of this device, as the models use them (the twin of the Android models'
// Biometrics.kt): which slots are this device's, unlocking through the slot's own key,
// enrolling and re-enrolling with a new key per enrollment, and deleting keys no slot names.

extension Optional where Wrapped == any BiometricKeys {
    /// Whether biometrics can be used on this device now.
    var usable: Bool { self?.available() ?? false }
}

public extension TwofoldVault {
    /// This device's biometric slots (readable while locked).
    func biometricSlots(_ keys: BiometricKeys) async throws -> [SlotView] {
        try await slots().filter { slot in slot.kind == .platform && slot.platformAlias.map(keys.owns) == true }
    }

    /// Biometric unlock (or re-authentication): the first slot of this device, through its key.
    @discardableResult
    func unlockWithBiometrics(_ keys: BiometricKeys) async throws -> UnlockResult {
        try await unlock(with: biometricKeystore(keys))
    }

    /// Face ID / Touch ID re-authentication of the unlocked vault (the core checks in memory).
    func verifyWithBiometrics(_ keys: BiometricKeys) async throws {
        try await verify(with: biometricKeystore(keys))
    }

    private func biometricKeystore(_ keys: BiometricKeys) async throws -> PlatformKeystore {
        guard let alias = try await biometricSlots(keys).first?.platformAlias else {
            throw TwofoldError.NotFound(what: .slot, details: "biometric unlock is not set up on this device")
        }
        return keys.keystore(for: alias)
    }

    /// Turns biometric unlock on, or sets it up again: a new Secure Enclave key under a new
    /// alias wraps a new slot key, and the core replaces the old slot with the new one in one
    /// commit (the first enrollment just adds it). Until that commit the old key keeps working,
    /// so a cancelled prompt or a failed write leaves biometric unlock as it was. Keys no slot
    /// names any more are deleted afterwards. Returns the new slot's id. The vault must be
    /// unlocked.
    @discardableResult
    func enrollBiometrics(_ keys: BiometricKeys, label: String) async throws -> String {
        let ours = try await biometricSlots(keys)
        let fresh = keys.fresh()
        let id: String
        do {
            if let old = ours.first {
                id = try await reenrollPlatform(replacing: old, with: fresh, label: label)
            } else {
                id = try await enrollPlatform(fresh, label: label)
            }
        } catch {
            await pruneBiometricKeys(keys)
            throw error
        }
        for extra in ours.dropFirst() { try await removeSlot(extra.id) }
        await pruneBiometricKeys(keys)
        return id
    }

    /// Turns biometric unlock off: this device's slots are removed, then their keys deleted.
    func disableBiometrics(_ keys: BiometricKeys) async throws {
        for slot in try await biometricSlots(keys) { try await removeSlot(slot.id) }
        await pruneBiometricKeys(keys)
    }

    /// Deletes the biometric keys no slot of this vault names — only while it is unlocked, so
    /// the slots are the vault's own. A key that cannot be deleted now is tried again next time.
    func pruneBiometricKeys(_ keys: BiometricKeys) async {
        guard isUnlocked, let slots = try? await slots() else { return }
        let named = Set(slots.compactMap(\.platformAlias))
        for alias in (try? keys.aliases()) ?? [] where !named.contains(alias) {
            try? keys.delete(alias)
        }
    }
}

import Foundation
import Observation
import TwofoldFFI

/// Security settings: auto-lock, tap-to-reveal, biometric unlock on/off/re-enroll, password
/// change, new recovery key.
@MainActor @Observable
public final class SettingsModel {
    public private(set) var autoLockSeconds: Int
    public private(set) var tapToReveal: Bool
    public var biometricsAvailable: Bool { keystore != nil }
    public private(set) var biometricsEnabled = false
    public private(set) var biometricsNeedReenroll = false
    public private(set) var newPasswordStrength: PasswordStrength?
    public private(set) var newRecoveryKey: String?
    public private(set) var busy = false
    public private(set) var message: String?

    private let vault: TwofoldVault
    private let keystore: PlatformKeystore?
    private let settings: SettingsStore

    public init(vault: TwofoldVault, keystore: PlatformKeystore?, settings: SettingsStore) {
        self.vault = vault
        self.keystore = keystore
        self.settings = settings
        autoLockSeconds = settings.autoLockSeconds
        tapToReveal = settings.tapToReveal
    }

    public func load() async {
        biometricsNeedReenroll = settings.biometricNeedsReenroll
        if let keystore {
            let slots = (try? await vault.platformSlots(keystore)) ?? []
            biometricsEnabled = !slots.isEmpty && !biometricsNeedReenroll
        }
    }

    public func setAutoLock(_ seconds: Int) {
        settings.autoLockSeconds = seconds
        autoLockSeconds = seconds
    }

    public func setTapToReveal(_ on: Bool) {
        settings.tapToReveal = on
        tapToReveal = on
    }

    /// Turns biometric unlock on; a stale slot of this keystore is replaced (re-enrollment).
    public func enableBiometrics() async {
        await run {
            guard let keystore = self.keystore else { throw VaultFailure.notFound("No Face ID or Touch ID") }
            let stale = try await self.vault.platformSlots(keystore).map(\.id)
            let fresh = try await self.vault.enrollPlatform(keystore, label: "Face ID / Touch ID")
            for id in stale where id != fresh { try await self.vault.removeSlot(id) }
            self.settings.biometricNeedsReenroll = false
            return "Biometric unlock is on"
        }
    }

    public func disableBiometrics() async {
        await run {
            if let keystore = self.keystore {
                for slot in try await self.vault.platformSlots(keystore) { try await self.vault.removeSlot(slot.id) }
            }
            self.settings.biometricNeedsReenroll = false
            return "Biometric unlock is off"
        }
    }

    public func newPasswordChanged(_ password: String) {
        newPasswordStrength = passwordStrength(password: password.utf8Data)
    }

    /// Re-authenticates with the current password, then sets the new one.
    public func changePassword(current: String, new: String, confirmation: String) async {
        await run {
            guard new == confirmation else { throw VaultFailure.invalidInput("The new passwords do not match") }
            if let why = passwordStrength(password: new.utf8Data).refusal { throw VaultFailure.invalidInput(why) }
            var currentBytes = current.utf8Data
            do {
                try await self.vault.unlock(password: &currentBytes)
            } catch VaultFailure.wrongCredential {
                throw VaultFailure.invalidInput("The current password is wrong")
            }
            var newBytes = new.utf8Data
            try await self.vault.changePassword(&newBytes)
            return "Password changed"
        }
    }

    /// Replaces the recovery key; the new one is shown once.
    public func rotateRecoveryKey() async {
        await run {
            self.newRecoveryKey = try await self.vault.rotateRecoveryKey()
            return "Write down the new recovery key; the old one no longer works"
        }
    }

    public func recoveryKeyWrittenDown() {
        newRecoveryKey = nil
        message = nil
    }

    private func run(_ body: () async throws -> String) async {
        busy = true
        message = nil
        do {
            message = try await body()
        } catch is BiometricCancelled {
        } catch {
            message = VaultFailure.from(error).message
        }
        busy = false
        await load()
    }
}

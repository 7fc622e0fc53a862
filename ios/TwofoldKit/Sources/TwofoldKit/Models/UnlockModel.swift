import Foundation
import Observation
import TwofoldFFI

/// Unlocking by biometrics (when this device has a slot), password, or recovery key followed
/// by a new password. A Secure Enclave key that is gone (biometry changed) falls back to the
/// password and marks biometrics for re-enrollment — never a lock-out.
@MainActor @Observable
public final class UnlockModel {
    public enum Mode { case password, recoveryKey, newPassword }

    public private(set) var mode: Mode = .password
    public private(set) var biometricAvailable = false
    public private(set) var busy = false
    public private(set) var error: String?
    public private(set) var recoveredFromPrevious = false
    public private(set) var newPasswordStrength: PasswordStrength?

    private let vault: TwofoldVault
    private let keystore: PlatformKeystore?
    private let settings: SettingsStore
    private let onUnlocked: (TwofoldVault) -> Void

    init(vault: TwofoldVault, keystore: PlatformKeystore?, settings: SettingsStore, onUnlocked: @escaping (TwofoldVault) -> Void) {
        self.vault = vault
        self.keystore = keystore
        self.settings = settings
        self.onUnlocked = onUnlocked
    }

    public func load() async {
        guard let keystore, !settings.biometricNeedsReenroll else { biometricAvailable = false; return }
        biometricAvailable = ((try? await vault.platformSlots(keystore)) ?? []).isEmpty == false
    }

    public func unlockWithBiometrics() async {
        guard let keystore else { return }
        await run {
            do {
                let info = try await self.vault.unlock(with: keystore)
                self.finish(info.recoveredFromPrevious)
            } catch VaultFailure.platformKeyInvalidated {
                self.settings.biometricNeedsReenroll = true
                self.biometricAvailable = false
                self.error = "Face ID or Touch ID changed on this iPhone. Unlock with your password; you can then turn biometric unlock on again."
            }
        }
    }

    public func unlock(password: String) async {
        await run {
            var bytes = password.utf8Data
            let info = try await self.vault.unlock(password: &bytes)
            self.finish(info.recoveredFromPrevious)
        }
    }

    public func useRecoveryKey() { mode = .recoveryKey; error = nil }
    public func usePassword() { mode = .password; error = nil }

    public func unlock(recoveryKey: String) async {
        await run {
            let info = try await self.vault.unlock(recoveryKey: recoveryKey)
            self.recoveredFromPrevious = info.recoveredFromPrevious
            self.mode = .newPassword
        }
    }

    public func newPasswordChanged(_ password: String) {
        newPasswordStrength = passwordStrength(password: password.utf8Data)
    }

    public func setNewPassword(_ password: String, confirmation: String) async {
        await run {
            guard password == confirmation else { throw VaultFailure.invalidInput("The passwords do not match") }
            if let why = passwordStrength(password: password.utf8Data).refusal { throw VaultFailure.invalidInput(why) }
            var bytes = password.utf8Data
            try await self.vault.changePassword(&bytes)
            self.finish(self.recoveredFromPrevious)
        }
    }

    private func finish(_ recovered: Bool) {
        recoveredFromPrevious = recovered
        error = nil
        onUnlocked(vault)
    }

    private func run(_ body: () async throws -> Void) async {
        busy = true
        error = nil
        defer { busy = false }
        do {
            try await body()
        } catch is BiometricCancelled {
        } catch VaultFailure.wrongCredential {
            error = mode == .recoveryKey ? "Wrong recovery key" : "Wrong password"
        } catch {
            self.error = VaultFailure.from(error).message
        }
    }
}

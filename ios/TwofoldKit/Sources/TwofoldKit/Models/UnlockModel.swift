import Foundation
import Observation

/// Unlocking by biometrics (when this device has a slot and Face ID / Touch ID can be used
/// now), password, or recovery key followed by a new password. A Secure Enclave key that is
/// gone (biometry changed) falls back to the password and marks biometrics for re-enrollment —
/// never a lock-out. A prompt asked for while the app was not in front (`LAError.notInteractive`
/// after a lock in the background) is asked again when the scene is active.
@MainActor @Observable
public final class UnlockModel {
    public enum Mode { case password, recoveryKey, newPassword }

    public private(set) var mode: Mode = .password
    public private(set) var biometricAvailable = false
    public private(set) var busy = false
    public private(set) var error: String?
    public private(set) var recoveredFromPrevious = false
    public private(set) var newPasswordStrength: PasswordStrength?
    /// The biometric prompt waits for the scene to be active.
    public private(set) var promptWhenActive = false

    private let vault: TwofoldVault
    private let biometrics: BiometricKeys?
    private let settings: SettingsStore
    private let onUnlocked: (TwofoldVault) -> Void

    init(vault: TwofoldVault, biometrics: BiometricKeys?, settings: SettingsStore, onUnlocked: @escaping (TwofoldVault) -> Void) {
        self.vault = vault
        self.biometrics = biometrics
        self.settings = settings
        self.onUnlocked = onUnlocked
    }

    /// Whether to offer biometrics: a slot of this device, biometrics usable now, no pending
    /// re-enrollment. Asked each time the screen shows.
    public func load() async {
        guard let biometrics, biometrics.available(), !settings.biometricNeedsReenroll else {
            biometricAvailable = false
            return
        }
        biometricAvailable = ((try? await vault.biometricSlots(biometrics)) ?? []).isEmpty == false
    }

    /// The unlock screen appeared: offer biometrics at once when the scene is active, or as
    /// soon as it is.
    public func appeared(sceneActive: Bool) async {
        await load()
        guard biometricAvailable else { return }
        if sceneActive { await unlockWithBiometrics() } else { promptWhenActive = true }
    }

    /// The scene became active: a prompt that could not be shown before is shown now.
    public func sceneBecameActive() async {
        guard promptWhenActive else { return }
        promptWhenActive = false
        await load()
        if biometricAvailable { await unlockWithBiometrics() }
    }

    public func unlockWithBiometrics() async {
        guard let biometrics else { return }
        await run {
            do {
                let info = try await self.vault.unlockWithBiometrics(biometrics)
                self.finish(info.recoveredFromPrevious)
            } catch TwofoldError.PlatformKeyInvalidated {
                self.settings.biometricNeedsReenroll = true
                self.biometricAvailable = false
                self.error = "Face ID or Touch ID changed on this iPhone. Unlock with your password; you can then turn biometric unlock on again."
            } catch let cancelled as BiometricCancelled where cancelled.notInteractive {
                self.promptWhenActive = true
            }
        }
    }

    public func unlock(password: SecretBytes) async {
        await run {
            let info = try await self.vault.unlock(password: password)
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

    /// Live feedback while the new password is typed (the bytes are wiped).
    public func newPasswordChanged(_ password: SecretBytes) {
        defer { password.wipe() }
        newPasswordStrength = password.count == 0 ? nil : judgePassword(password)
    }

    /// After a recovery-key unlock: the new password replaces the old one. Both are wiped.
    public func setNewPassword(_ password: SecretBytes, confirmation: SecretBytes) async {
        let same = password.matches(confirmation)
        confirmation.wipe()
        await run {
            guard same else { throw TwofoldError.input(.passwordsDiffer) }
            if let why = judgePassword(password).refusal { throw TwofoldError.input(.passwordRefused, why) }
            try await self.vault.changePassword(password)
            self.finish(self.recoveredFromPrevious)
        }
        password.wipe()
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
        } catch TwofoldError.WrongCredential {
            error = mode == .recoveryKey ? "Wrong recovery key" : "Wrong password"
        } catch {
            self.error = TwofoldError.from(error).userMessage
        }
    }
}

import Foundation
import Observation

/// Security settings: auto-lock, tap-to-reveal, biometric unlock on/off/re-enroll, password
/// change, new recovery key.
@MainActor @Observable
public final class SettingsModel {
    public private(set) var autoLockSeconds: Int
    public private(set) var tapToReveal: Bool
    /// Show the Face ID / Touch ID switch: biometrics usable now, or a slot to turn off.
    public private(set) var biometricsAvailable = false
    public private(set) var biometricsEnabled = false
    public private(set) var biometricsNeedReenroll = false
    public private(set) var newPasswordStrength: PasswordStrength?
    public private(set) var newRecoveryKey: String?
    public private(set) var busy = false
    public private(set) var message: String?

    private let vault: TwofoldVault
    private let biometrics: BiometricKeys?
    private let settings: SettingsStore

    public init(vault: TwofoldVault, biometrics: BiometricKeys?, settings: SettingsStore) {
        self.vault = vault
        self.biometrics = biometrics
        self.settings = settings
        autoLockSeconds = settings.autoLockSeconds
        tapToReveal = settings.tapToReveal
    }

    /// Reads the settings, this device's biometric slots and whether biometrics work now.
    public func load() async {
        biometricsNeedReenroll = settings.biometricNeedsReenroll
        var enrolled = false
        if let biometrics {
            enrolled = ((try? await vault.biometricSlots(biometrics)) ?? []).isEmpty == false
        }
        biometricsEnabled = enrolled && !biometricsNeedReenroll
        biometricsAvailable = biometrics.usable || enrolled
    }

    public func setAutoLock(_ seconds: Int) {
        settings.autoLockSeconds = seconds
        autoLockSeconds = seconds
    }

    public func setTapToReveal(_ on: Bool) {
        settings.tapToReveal = on
        tapToReveal = on
    }

    /// Turns biometric unlock on, or sets it up again after the old key was invalidated: a new
    /// key replaces this device's old slot in one commit, and only then is the old key deleted
    /// (a cancelled prompt leaves the old one working).
    public func enableBiometrics() async {
        await run {
            guard let biometrics = self.biometrics else { throw TwofoldError.input(.biometricsUnavailable, "no Face ID or Touch ID") }
            guard biometrics.available() else {
                throw TwofoldError.input(.biometricsUnavailable, "biometry not enrolled")
            }
            try await self.vault.enrollBiometrics(biometrics, label: "Face ID / Touch ID")
            self.settings.biometricNeedsReenroll = false
            return "Biometric unlock is on"
        }
    }

    public func disableBiometrics() async {
        await run {
            if let biometrics = self.biometrics { try await self.vault.disableBiometrics(biometrics) }
            self.settings.biometricNeedsReenroll = false
            return "Biometric unlock is off"
        }
    }

    /// Live feedback while the new password is typed (the bytes are wiped).
    public func newPasswordChanged(_ password: SecretBytes) {
        defer { password.wipe() }
        newPasswordStrength = password.count == 0 ? nil : judgePassword(password)
    }

    /// Re-authenticates with the current password, then sets the new one. All three are wiped.
    public func changePassword(current: SecretBytes, new: SecretBytes, confirmation: SecretBytes) async {
        let same = new.matches(confirmation)
        confirmation.wipe()
        await run {
            guard same else { throw TwofoldError.input(.passwordsDiffer) }
            if let why = judgePassword(new).refusal { throw TwofoldError.input(.passwordRefused, why) }
            // A wrong current password is `WrongCredential`, shown as such.
            try await self.vault.unlock(password: current)
            try await self.vault.changePassword(new)
            return "Password changed"
        }
        current.wipe()
        new.wipe()
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
            message = TwofoldError.from(error).userMessage
        }
        busy = false
        await load()
    }
}

import Foundation
import Observation

/// Creating a vault: a password judged by the core, the recovery key shown once and typed back
/// (the core checks it opens the recovery slot), then biometric unlock offered.
@MainActor @Observable
public final class OnboardingModel {
    public enum Step: Equatable {
        case choosePassword
        case showRecoveryKey(String)
        case confirmRecoveryKey
        case offerBiometrics
        case done
    }

    public private(set) var step: Step = .choosePassword
    public private(set) var strength: PasswordStrength?
    public private(set) var busy = false
    public private(set) var error: String?
    /// Face ID / Touch ID can be used now (asked each time, not once at launch).
    public var biometricsAvailable: Bool { biometrics.usable }

    private let vaultPath: String
    private let trust: TrustStore
    private let biometrics: BiometricKeys?
    private let kdf: KdfSettings
    private let onDone: (TwofoldVault) -> Void
    private var vault: TwofoldVault?
    private var recoveryKey: String?

    init(vaultPath: String, trust: TrustStore, biometrics: BiometricKeys?, kdf: KdfSettings, onDone: @escaping (TwofoldVault) -> Void) {
        self.trust = trust
        self.vaultPath = vaultPath
        self.biometrics = biometrics
        self.kdf = kdf
        self.onDone = onDone
    }

    /// Live feedback while typing (the bytes are wiped).
    public func passwordChanged(_ password: SecretBytes) {
        defer { password.wipe() }
        strength = password.count == 0 ? nil : judgePassword(password)
        error = nil
    }

    /// Creates the vault when both entries match and the core finds the password acceptable.
    /// Both are wiped.
    public func create(password: SecretBytes, confirmation: SecretBytes) async {
        defer { password.wipe() }
        let same = password.matches(confirmation)
        confirmation.wipe()
        guard same else { error = "The passwords do not match"; return }
        let verdict = judgePassword(password)
        if let why = verdict.refusal {
            strength = verdict
            error = why
            return
        }
        busy = true
        defer { busy = false }
        do {
            let (created, key) = try await TwofoldVault.create(path: vaultPath, password: password, trust: trust, kdf: kdf)
            vault = created
            recoveryKey = key
            strength = nil
            error = nil
            step = .showRecoveryKey(key)
        } catch {
            self.error = TwofoldError.from(error).userMessage
        }
    }

    public func recoveryKeyWrittenDown() {
        step = .confirmRecoveryKey
        error = nil
    }

    public func showRecoveryKeyAgain() {
        if let key = recoveryKey { step = .showRecoveryKey(key) }
    }

    /// The typed key must open the vault's recovery slot.
    public func confirmRecoveryKey(_ typed: String) async {
        guard let vault else { return }
        busy = true
        defer { busy = false }
        do {
            try await vault.unlock(recoveryKey: typed)
            recoveryKey = nil
            error = nil
            if biometrics.usable { step = .offerBiometrics } else { finish(vault) }
        } catch TwofoldError.WrongCredential {
            error = "That is not the recovery key shown before"
        } catch {
            self.error = TwofoldError.from(error).userMessage
        }
    }

    public func enableBiometrics() async {
        guard let vault else { return }
        guard let biometrics else { return finish(vault) }
        busy = true
        defer { busy = false }
        do {
            try await vault.enrollBiometrics(biometrics, label: "Face ID / Touch ID")
            finish(vault)
        } catch is BiometricCancelled {
        } catch {
            self.error = TwofoldError.from(error).userMessage
        }
    }

    public func skipBiometrics() {
        if let vault { finish(vault) }
    }

    private func finish(_ vault: TwofoldVault) {
        step = .done
        onDone(vault)
    }
}

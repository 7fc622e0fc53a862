import Foundation
import Observation
import TwofoldFFI

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
    public var biometricsAvailable: Bool { keystore != nil }

    private let vaultPath: String
    private let trust: TrustStore
    private let keystore: PlatformKeystore?
    private let kdf: KdfSettings
    private let onDone: (TwofoldVault) -> Void
    private var vault: TwofoldVault?
    private var recoveryKey: String?

    init(vaultPath: String, trust: TrustStore, keystore: PlatformKeystore?, kdf: KdfSettings, onDone: @escaping (TwofoldVault) -> Void) {
        self.trust = trust
        self.vaultPath = vaultPath
        self.keystore = keystore
        self.kdf = kdf
        self.onDone = onDone
    }

    public func passwordChanged(_ password: String) {
        strength = password.isEmpty ? nil : passwordStrength(password: password.utf8Data)
        error = nil
    }

    public func create(password: String, confirmation: String) async {
        guard password == confirmation else { error = "The passwords do not match"; return }
        let verdict = passwordStrength(password: password.utf8Data)
        if let why = verdict.refusal {
            strength = verdict
            error = why
            return
        }
        busy = true
        defer { busy = false }
        do {
            var bytes = password.utf8Data
            let (created, key) = try await TwofoldVault.create(path: vaultPath, password: &bytes, trust: trust, kdf: kdf)
            vault = created
            recoveryKey = key
            strength = nil
            error = nil
            step = .showRecoveryKey(key)
        } catch {
            self.error = VaultFailure.from(error).message
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
            if keystore != nil { step = .offerBiometrics } else { finish(vault) }
        } catch VaultFailure.wrongCredential {
            error = "That is not the recovery key shown before"
        } catch {
            self.error = VaultFailure.from(error).message
        }
    }

    public func enableBiometrics() async {
        guard let vault else { return }
        guard let keystore else { return finish(vault) }
        busy = true
        defer { busy = false }
        do {
            try await vault.enrollPlatform(keystore, label: "Face ID / Touch ID")
            finish(vault)
        } catch is BiometricCancelled {
        } catch {
            self.error = VaultFailure.from(error).message
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

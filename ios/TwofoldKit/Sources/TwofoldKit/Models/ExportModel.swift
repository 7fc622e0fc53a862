import Foundation
import Observation

/// Proving it is still the owner before secrets leave (exports, sending a transfer): the
/// password or biometrics, checked by the core against the open vault in memory (the file is
/// not read again, the session not replaced).
public struct Reauthentication: Sendable {
    let vault: TwofoldVault
    let biometrics: BiometricKeys?

    public init(vault: TwofoldVault, biometrics: BiometricKeys?) {
        self.vault = vault
        self.biometrics = biometrics
    }

    func with(password: SecretBytes) async throws {
        try await vault.verify(password: password)
    }

    func withBiometrics() async throws {
        guard let biometrics else { throw TwofoldError.input(.biometricsUnavailable, "no biometric unlock on this device") }
        try await vault.verifyWithBiometrics(biometrics)
    }

    /// A biometric slot of this device exists and Face ID / Touch ID can be used now.
    func hasBiometrics() async -> Bool {
        guard let biometrics, biometrics.available() else { return false }
        return ((try? await vault.biometricSlots(biometrics)) ?? []).isEmpty == false
    }

    enum Outcome: Equatable {
        case confirmed
        /// The user closed the biometric prompt: nothing to report.
        case cancelled
        case refused(String)
    }

    /// Runs one proof (password or biometrics, plus what must follow it) and says how it went.
    @MainActor
    func prove(_ proof: () async throws -> Void) async -> Outcome {
        do {
            try await proof()
            return .confirmed
        } catch is BiometricCancelled {
            return .cancelled
        } catch TwofoldError.WrongCredential {
            return .refused("Wrong password")
        } catch {
            return .refused(TwofoldError.from(error).userMessage)
        }
    }
}

/// The export screen: after re-authentication, a file for the file exporter or Google
/// Authenticator QR codes on screen. The formats, their file names and MIME types, which need
/// a password and which leave the secrets readable, and whether a saved file reads back right,
/// are the core's (`exportCatalogue`, `saveExport`).
@MainActor @Observable
public final class ExportModel {
    public private(set) var authenticated = false
    public private(set) var biometricAvailable = false
    public private(set) var busy = false
    public private(set) var error: String?
    /// Google Authenticator codes, drawn by the core (their text never leaves it).
    public private(set) var googleCodes: [QrMatrix] = []
    public private(set) var skipped: [SkippedEntry] = []
    public private(set) var saved: String?

    private let vault: TwofoldVault
    private let reauth: Reauthentication
    private let clock: () -> Date

    public init(vault: TwofoldVault, reauth: Reauthentication, clock: @escaping () -> Date = { Date() }) {
        self.vault = vault
        self.reauth = reauth
        self.clock = clock
    }

    public func load() async { biometricAvailable = await reauth.hasBiometrics() }

    /// Re-authenticates with the vault password (wiped).
    public func authenticate(password: SecretBytes) async { await authenticate { try await self.reauth.with(password: password) } }

    public func authenticateWithBiometrics() async { await authenticate { try await self.reauth.withBiometrics() } }

    private func authenticate(_ proof: () async throws -> Void) async {
        busy = true
        defer { busy = false }
        let outcome = await reauth.prove(proof)
        authenticated = outcome == .confirmed
        if case let .refused(message) = outcome { error = message } else { error = nil }
    }

    /// The formats to offer, in order, with the file name to suggest (named at `clock`).
    public func formats() -> [ExportFormatInfo] { exportCatalogue(at: clock()) }

    /// The catalogue entry of `format`.
    public func info(_ format: ExportFormat) -> ExportFormatInfo? { formats().first { $0.format == format } }

    /// Produces the export; files go to `write`, which returns what reading the saved file back
    /// gives — the core counts it as saved only when that matches (and, for a backup,
    /// decrypts). `password` (wiped) for the encrypted formats. A `write` that throws
    /// `CancellationError` (the user dismissed the file exporter) is no error.
    public func export(_ format: ExportFormat, password: SecretBytes? = nil, write: ((Data) async throws -> Data)? = nil) async {
        defer { password?.wipe() }
        guard authenticated else { error = "Confirm it is you first"; return }
        busy = true
        defer { busy = false }
        error = nil
        googleCodes = []
        skipped = []
        saved = nil
        do {
            guard let info = self.info(format) else { throw TwofoldError.Internal(details: "unknown export format") }
            if !info.isFile {
                let g = try await vault.exportGoogleMigration()
                googleCodes = g.codes
                skipped = g.skipped
                return
            }
            guard let write else { throw TwofoldError.input(.noDestination) }
            skipped = try await vault.saveExport(format, password: password, at: clock(), write: write)
            saved = info.fileName
        } catch is CancellationError {
            // Not saved, because the user said so: nothing to report.
        } catch {
            self.error = TwofoldError.from(error).userMessage
        }
    }

    /// Leaving the screen ends the re-authentication and drops the codes on screen.
    public func close() {
        authenticated = false
        googleCodes = []
        skipped = []
        saved = nil
        error = nil
    }
}

import Foundation
import TwofoldFFI

/// One recovery code as shown: its bytes are wiped when the screen no longer needs them.
public final class RevealedRecoveryCode {
    public private(set) var code: Data
    public let used: Bool
    /// When it was marked used (ms since the epoch).
    public let usedAt: Int64?

    init(_ view: RecoveryCodeView) {
        code = view.code
        used = view.used
        usedAt = view.usedAt
    }

    public func wipe() { code.wipe() }

    deinit { code.wipe() }
}

/// Never locked out, for one unlocked vault: recovery codes per account, restore drills, the
/// status screen, the security checkup, the exposure ledger, rotation, the printable recovery
/// kit and clock calibration. Every rule is the core's; these calls move work off the main
/// actor, wipe the bytes they pass and map errors to `TwofoldError` (the Kotlin twin is
/// `TwofoldCare` and `TwofoldVault.recoveryKit`).
public extension TwofoldVault {
    /// Adds codes (UTF-8 bytes, each wiped after the call); all or nothing. How many were new.
    func addRecoveryCodes(entryId: String, codes: [SecretBytes]) async throws -> Int {
        try await Self.run { [session] in
            try Int(Self.handOverAll(codes[...], []) { try session.addRecoveryCodes(id: entryId, codes: $0) })
        }
    }

    /// Marks a code used (the code typed, wiped after the call).
    func useRecoveryCode(entryId: String, code: SecretBytes) async throws {
        try await Self.run { [session] in try code.handOver { try session.useRecoveryCode(id: entryId, code: $0) } }
    }

    /// Counts only: nothing revealed.
    func recoveryCodeSummary(entryId: String) async throws -> RecoveryCodeSummary {
        try await Self.run { [session] in try session.recoveryCodeSummary(id: entryId) }
    }

    /// The codes, unused first, handed to `use` and wiped afterwards. Re-authenticate first.
    func revealRecoveryCodes<T>(entryId: String, _ use: ([RevealedRecoveryCode]) throws -> T) async throws -> T {
        let views = try await Self.run { [session] in try session.exportRecoveryCodes(id: entryId) }
        let codes = views.map(RevealedRecoveryCode.init)
        defer { codes.forEach { $0.wipe() } }
        return try use(codes)
    }

    /// A restore drill on a backup file, with the password typed from memory.
    func drill(path: String, password: SecretBytes) async throws -> DrillResult {
        try await Self.run { [session] in
            try password.handOver { try session.restoreDrill(path: path, key: .password(password: $0)) }
        }
    }

    /// A restore drill with the recovery key typed from memory.
    func drill(path: String, recoveryKey: String) async throws -> DrillResult {
        try await Self.run { [session] in try session.restoreDrill(path: path, key: .recoveryKey(key: recoveryKey)) }
    }

    /// A restore drill on bytes read from a document provider.
    func drill(bytes: Data, name: String, password: SecretBytes) async throws -> DrillResult {
        try await Self.run { [session] in
            try password.handOver { try session.restoreDrillBytes(bytes: bytes, name: name, key: .password(password: $0)) }
        }
    }

    /// Backups, drills and exposures at the session's clock ("Last restore drill: 3 weeks ago").
    func careStatus() async throws -> CareStatusView {
        try await Self.run { [session] in try session.careStatus() }
    }

    /// The security checkup's findings, each with a severity and a fix.
    func securityCheckup() async throws -> [FindingView] {
        try await Self.run { [session] in try session.securityCheckup() }
    }

    func checkupSettings() async throws -> CheckupSettingsView {
        try await Self.run { [session] in try session.checkupSettings() }
    }

    func setCheckupSettings(_ settings: CheckupSettingsView) async throws {
        try await Self.run { [session] in try session.setCheckupSettings(settings: settings) }
    }

    /// Where secrets left the vault in copyable form.
    func exposures() async throws -> [ExposureView] {
        try await Self.run { [session] in try session.exposures() }
    }

    /// The entry's URI to show as `way` (recorded in the ledger first), handed to `use` and
    /// wiped after.
    func revealEntryUri<T>(entryId: String, way: ExposureWay, _ use: (Data) throws -> T) async throws -> T {
        var uri = try await Self.run { [session] in try session.exportEntryUriAs(id: entryId, way: way) }
        defer { uri.wipe() }
        return try use(uri)
    }

    /// Rotation: the new URI (wiped) and a code the service accepted; the old entry goes to the
    /// trash and its exposures clear.
    func rotate(entryId: String, newUri: SecretBytes, acceptedCode: String) async throws -> RotationResult {
        try await Self.run { [session] in
            try newUri.handOver { try session.rotateEntry(id: entryId, uri: $0, acceptedCode: acceptedCode) }
        }
    }

    /// The printable recovery kit, made with the recovery key the user just typed (or the one a
    /// rotation just returned); a wrong key is `.WrongCredential` and no kit. `use` gets the PDF
    /// or HTML bytes (a credential: hand them to the print or share sheet), wiped when it returns.
    func recoveryKit<T>(recoveryKey: String, format: RecoveryKitFormat, options: RecoveryKitOptions,
                        _ use: (Data) throws -> T) async throws -> T {
        var kit = try await Self.run { [session] in
            try session.recoveryKit(recoveryKey: recoveryKey, format: format, options: options)
        }
        defer { kit.wipe() }
        return try use(kit)
    }

    /// Sets the clock offset from a code the service of entry `id` just accepted (and the one
    /// it accepted right after, when one code is ambiguous). Nothing changes when no single
    /// time step within ±`windowSeconds` (default 600) matches.
    func calibrateFromAcceptedCode(id: String, code: String, nextCode: String? = nil,
                                   windowSeconds: UInt32? = nil) async throws -> ClockCalibration {
        try await Self.run { [session] in
            try session.calibrateFromAcceptedCode(id: id, code: code, nextCode: nextCode, windowSeconds: windowSeconds)
        }
    }

    /// Hands every secret's bytes to `body` at once; each is wiped when it returns.
    private static func handOverAll<R>(_ items: ArraySlice<SecretBytes>, _ taken: [Data],
                                       _ body: ([Data]) throws -> R) throws -> R {
        guard let first = items.first else { return try body(taken) }
        return try first.handOver { try handOverAll(items.dropFirst(), taken + [$0], body) }
    }
}

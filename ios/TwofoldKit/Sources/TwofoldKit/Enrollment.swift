import Foundation
import TwofoldFFI

/// QR decoding done in the core (photos and screenshots; live camera scanning uses
/// AVFoundation's metadata output and passes the text to `EnrollmentScanner`).
public enum TwofoldQr {
    public static func decode(image: Data) async throws -> String? {
        try await TwofoldVault.run { try decodeQrImage(bytes: image) }
    }

    public static func decode(width: UInt32, height: UInt32, rowStride: UInt32, luma: Data) async throws -> String? {
        try await TwofoldVault.run { try decodeQrLuma(width: width, height: height, rowStride: rowStride, luma: luma) }
    }

    /// Modules for drawing a code (invites, transfer frames, Google export codes).
    public static func matrix(_ text: String, correction: QrErrorCorrection = .medium) throws -> QrMatrix {
        do { return try encodeQr(text: text, correction: correction) } catch { throw VaultFailure.from(error) }
    }
}

/// A camera enrollment: every scanned text goes to `scan`; single accounts and whole Google
/// exports (accumulated across codes, with progress) collect until `add(to:)` confirms them.
public final class EnrollmentScanner: @unchecked Sendable {
    private let enrollment = Enrollment()

    public init() {}

    public func scan(_ text: String) async throws -> ScanResult {
        try await TwofoldVault.run { [enrollment] in try enrollment.scan(text: text) }
    }

    public func accounts() -> [ImportedPreview] { enrollment.accounts() }

    public func remove(at index: Int) { enrollment.remove(index: UInt32(index)) }

    public func add(to vault: TwofoldVault) async throws -> AddResult {
        try await TwofoldVault.run { [enrollment] in try enrollment.addTo(vault: vault.session) }
    }
}

public extension TwofoldVault {
    /// Reads another app's export; the password is wiped after use.
    static func readImport(_ bytes: Data, password: inout Data?, format: String? = nil) async throws -> ImportSession {
        let pw = password
        password?.wipe()
        return try await run { try ImportSession.read(bytes: bytes, format: format, password: pw) }
    }

    func addImported(_ session: ImportSession) async throws -> AddResult {
        try await Self.run { [self] in try session.addTo(vault: self.session) }
    }

    /// Explicit exports (secrets included): re-authenticate first.
    func exportOtpauthList() async throws -> String { try await Self.run { [session] in try session.exportOtpauthList() } }

    func exportAegis(password: inout Data?) async throws -> String {
        let pw = password
        password?.wipe()
        return try await Self.run { [session] in try session.exportAegis(password: pw) }
    }

    func exportGoogleMigration() async throws -> GoogleExport {
        try await Self.run { [session] in try session.exportGoogleMigration() }
    }
}

public extension TwofoldVault {
    /// A backup for the file exporter / a security-scoped folder: `write` stores the bytes
    /// and returns what reading them back gives; the backup counts only if that matches and
    /// decrypts to the vault.
    func backupToDocument(password: inout Data?, name: String, write: (Data) async throws -> Data) async throws -> BackupResult {
        let pw = password
        password?.wipe()
        let pending = try await Self.run { [session] in try session.prepareBackup(password: pw, sealToRecoveryKey: true) }
        let readBack = try await write(pending.bytes())
        return try await Self.run { try pending.confirm(readBack: readBack, name: name) }
    }
}

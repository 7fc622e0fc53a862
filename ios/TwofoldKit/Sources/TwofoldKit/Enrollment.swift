import Foundation
import TwofoldFFI

/// QR decoding done in the core, for transfer invites, frames and replies. Account codes
/// (otpauth, Google exports) are refused here: `EnrollmentScanner.scan(width:…)` and
/// `scan(image:)` decode and enroll them inside the core and return previews only.
public enum TwofoldQr {
    public static func decode(image: Data) async throws -> String? {
        try await TwofoldVault.run { try decodeQrImage(bytes: image) }
    }

    public static func decode(width: UInt32, height: UInt32, rowStride: UInt32, luma: Data) async throws -> String? {
        try await TwofoldVault.run { try decodeQrLuma(width: width, height: height, rowStride: rowStride, lumaBytes: luma) }
    }

    /// Modules for drawing a code (invites, transfer frames, Google export codes).
    public static func matrix(_ text: String, correction: QrErrorCorrection = .medium) throws -> QrMatrix {
        do { return try encodeQr(text: text, correction: correction) } catch { throw TwofoldError.from(error) }
    }
}

/// A camera enrollment: camera frames (their Y plane) and pictures are decoded and enrolled in
/// the core — the secret never becomes a Swift String; single accounts and whole Google exports
/// (accumulated across codes, with progress) collect until `add(to:)` confirms them.
public final class EnrollmentScanner: @unchecked Sendable {
    private let enrollment = Enrollment()

    public init() {}

    /// One camera frame's luma plane; nil when it shows no readable code.
    public func scan(width: UInt32, height: UInt32, rowStride: UInt32, luma: Data) async throws -> ScanResult? {
        try await TwofoldVault.run { [enrollment] in
            try enrollment.scanLuma(width: width, height: height, rowStride: rowStride, lumaBytes: luma)
        }
    }

    /// A PNG or JPEG; nil when it shows no readable code.
    public func scan(image: Data) async throws -> ScanResult? {
        try await TwofoldVault.run { [enrollment] in try enrollment.scanImage(bytes: image) }
    }

    /// A typed or pasted otpauth URI as UTF-8 bytes, wiped after the call.
    public func scan(text: SecretBytes) async throws -> ScanResult {
        try await TwofoldVault.run { [enrollment] in try text.handOver { try enrollment.scanText(text: $0) } }
    }

    public func accounts() -> [ImportedPreview] { enrollment.accounts() }

    public func remove(at index: Int) { enrollment.remove(index: UInt32(index)) }

    public func add(to vault: TwofoldVault) async throws -> AddResult {
        try await TwofoldVault.run { [enrollment] in try enrollment.addTo(vault: vault.session) }
    }
}

public extension TwofoldVault {
    /// Reads another app's export; the password (and a KeePass key file) are wiped after use.
    static func readImport(_ bytes: Data, password: SecretBytes?, format: String? = nil, keyFile: SecretBytes? = nil) async throws -> ImportSession {
        try await run {
            try handOverOptional(password) { pw in
                guard let keyFile else { return try ImportSession.read(bytes: bytes, format: format, password: pw) }
                return try keyFile.handOver { try ImportSession.readWithKeyFile(bytes: bytes, format: format, password: pw, keyFile: $0) }
            }
        }
    }

    func addImported(_ session: ImportSession) async throws -> AddResult {
        try await Self.run { [self] in try session.addTo(vault: self.session) }
    }

    /// Explicit exports (secrets included, UTF-8 bytes): re-authenticate first. `use` gets the
    /// bytes (to write where the user chose); they are wiped when it returns.
    func exportOtpauthList<T>(use: (Data) async throws -> T) async throws -> T {
        var bytes = try await Self.run { [session] in try session.exportOtpauthList() }
        defer { bytes.wipe() }
        return try await use(bytes)
    }

    func exportAegis<T>(password: SecretBytes?, use: (Data) async throws -> T) async throws -> T {
        var bytes = try await Self.run { [session] in try handOverOptional(password) { try session.exportAegis(password: $0) } }
        defer { bytes.wipe() }
        return try await use(bytes)
    }

    /// Google Authenticator codes, drawn by the core (the URIs with the secrets stay there).
    func exportGoogleMigration() async throws -> GoogleExport {
        try await Self.run { [session] in try session.exportGoogleMigration() }
    }
}

public extension TwofoldVault {
    /// A backup for the file exporter / a security-scoped folder: `write` stores the bytes
    /// and returns what reading them back gives; the backup counts only if that matches and
    /// decrypts to the vault.
    func backupToDocument(password: SecretBytes?, name: String, write: (Data) async throws -> Data) async throws -> BackupResult {
        let pending = try await Self.run { [session] in
            try handOverOptional(password) { try session.prepareBackup(password: $0, sealToRecoveryKey: true) }
        }
        let readBack = try await write(pending.bytes())
        return try await Self.run { try pending.confirm(readBack: readBack, name: name) }
    }
}

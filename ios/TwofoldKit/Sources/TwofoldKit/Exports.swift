// The generated bindings' types (records, enums, `TrustStore`, `TwofoldError`) are part of
// TwofoldKit's API: an app that imports TwofoldKit sees them without depending on the
// TwofoldFFI target, which the package does not offer as a product.
@_exported import TwofoldFFI

import Foundation

/// The export catalogue from the core: every format with its name, the file name to suggest,
/// its MIME type, whether it needs a password and whether it leaves the secrets readable.
public func exportCatalogue(at date: Date = Date()) -> [ExportFormatInfo] {
    exportFormats(nowMs: epochMs(date))
}

public extension TwofoldVault {
    /// Saves an export where the user chose (explicit export: re-authenticate first). The
    /// core makes the file (`password`, wiped, for the encrypted formats); `write` stores the
    /// bytes and returns what reading the saved file back gives; the export counts only when
    /// the core confirms that (byte for byte, and for a Twofold backup by decrypting it). The
    /// bytes are wiped after. Returns the accounts the format could not hold.
    func saveExport(
        _ format: ExportFormat, password: SecretBytes?, at date: Date = Date(), write: (Data) async throws -> Data
    ) async throws -> [SkippedEntry] {
        let ms = epochMs(date)
        let pending = try await Self.run { [session] in
            try handOverOptional(password) { try session.prepareExport(format: format, password: $0, nowMs: ms) }
        }
        var bytes = pending.bytes()
        defer { bytes.wipe() }
        var back = try await write(bytes)
        defer { back.wipe() }
        let readBack = back
        try await Self.run { try pending.confirm(readBack: readBack) }
        return pending.skipped()
    }
}

/// Automatic backups into a folder the app opens: the flow is the core's (sealed to the
/// recovery key, written, read back and confirmed, then the oldest automatic backups beyond
/// `keep` deleted — never other files), and so is the rule for requests that arrive while one
/// runs (merged into one more run). The app implements only `BackupFolder` (a security-scoped
/// folder through `NSFileCoordinator`).
public final class FolderBackups: @unchecked Sendable {
    private let backupper: FolderBackupper

    public init(folder: BackupFolder, keep: UInt32 = 10) {
        backupper = FolderBackupper(folder: folder, keep: keep)
    }

    /// Backs up `vault` now; nil when a backup was running (it runs once more for this request
    /// and its caller reports the result). Throws `TwofoldError`.
    public func backupNow(_ vault: TwofoldVault, at date: Date = Date()) async throws -> FolderBackupResult? {
        let ms = epochMs(date)
        return try await TwofoldVault.run { [backupper] in try backupper.backupNow(vault: vault.session, nowMs: ms) }
    }
}

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

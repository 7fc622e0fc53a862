import Foundation
import TwofoldKit
import UIKit
import UniformTypeIdentifiers

/// Codes go on the pasteboard for this device only (no Universal Clipboard) and expire.
final class PasteboardClipboard: Clipboard {
    func copySensitive(_ text: String, expiresAfter seconds: TimeInterval) {
        UIPasteboard.general.setItems(
            [[UTType.plainText.identifier: text]],
            options: [.localOnly: true, .expirationDate: Date().addingTimeInterval(seconds)]
        )
    }
}

/// Non-secret settings in UserDefaults.
final class DefaultsSettings: SettingsStore {
    private let defaults = UserDefaults.standard

    var autoLockSeconds: Int {
        get { defaults.object(forKey: "autoLockSeconds") as? Int ?? 30 }
        set { defaults.set(newValue, forKey: "autoLockSeconds") }
    }
    var tapToReveal: Bool {
        get { defaults.bool(forKey: "tapToReveal") }
        set { defaults.set(newValue, forKey: "tapToReveal") }
    }
    var backupFolderBookmark: Data? {
        get { defaults.data(forKey: "backupFolderBookmark") }
        set { defaults.set(newValue, forKey: "backupFolderBookmark") }
    }
    var backupFolderName: String? {
        get { defaults.string(forKey: "backupFolderName") }
        set { defaults.set(newValue, forKey: "backupFolderName") }
    }
    var lastBackup: BackupStatus? {
        get { defaults.data(forKey: "lastBackup").flatMap { try? JSONDecoder().decode(BackupStatus.self, from: $0) } }
        set { defaults.set(newValue.flatMap { try? JSONEncoder().encode($0) }, forKey: "lastBackup") }
    }
    var lastBackupError: String? {
        get { defaults.string(forKey: "lastBackupError") }
        set { defaults.set(newValue, forKey: "lastBackupError") }
    }
    var biometricNeedsReenroll: Bool {
        get { defaults.bool(forKey: "biometricNeedsReenroll") }
        set { defaults.set(newValue, forKey: "biometricNeedsReenroll") }
    }
}

extension DefaultsSettings: SyncSettings {
    var syncFolderBookmark: Data? {
        get { defaults.data(forKey: "syncFolderBookmark") }
        set { defaults.set(newValue, forKey: "syncFolderBookmark") }
    }
    var syncFolderName: String? {
        get { defaults.string(forKey: "syncFolderName") }
        set { defaults.set(newValue, forKey: "syncFolderName") }
    }
    var syncDeviceName: String? {
        get { defaults.string(forKey: "syncDeviceName") }
        set { defaults.set(newValue, forKey: "syncDeviceName") }
    }
}

/// A folder the user picked with `.fileImporter` (on the device or iCloud Drive: backups are
/// end-to-end encrypted), reached through its security-scoped bookmark.
struct BookmarkFolder: BackupFolder {
    let bookmark: Data

    private func withFolder<T>(_ body: (URL) throws -> T) throws -> T {
        var stale = false
        let url: URL
        do {
            url = try URL(resolvingBookmarkData: bookmark, bookmarkDataIsStale: &stale)
        } catch {
            throw VaultFailure.storage("The backup folder is no longer available; choose it again")
        }
        guard url.startAccessingSecurityScopedResource() else {
            throw VaultFailure.storage("Twofold lost access to the backup folder; choose it again")
        }
        defer { url.stopAccessingSecurityScopedResource() }
        do {
            return try body(url)
        } catch let failure as VaultFailure {
            throw failure
        } catch {
            throw VaultFailure.storage(error.localizedDescription)
        }
    }

    func writeAndReadBack(name: String, bytes: Data) async throws -> Data {
        try withFolder { url in
            let file = url.appendingPathComponent(name)
            try bytes.write(to: file, options: .atomic)
            return try Data(contentsOf: file)
        }
    }

    func list() async throws -> [String] {
        try withFolder { try FileManager.default.contentsOfDirectory(atPath: $0.path) }
    }

    func delete(name: String) async throws {
        try withFolder { try FileManager.default.removeItem(at: $0.appendingPathComponent(name)) }
    }

    /// The bookmark for a folder URL returned by the file importer.
    static func bookmark(for url: URL) throws -> Data {
        guard url.startAccessingSecurityScopedResource() else { throw VaultFailure.storage("No access to this folder") }
        defer { url.stopAccessingSecurityScopedResource() }
        return try url.bookmarkData(options: [], includingResourceValuesForKeys: nil, relativeTo: nil)
    }
}

/// Reads a file picked with `.fileImporter` (import files, backups to check).
func readPickedFile(_ url: URL) throws -> Data {
    let scoped = url.startAccessingSecurityScopedResource()
    defer { if scoped { url.stopAccessingSecurityScopedResource() } }
    return try Data(contentsOf: url)
}

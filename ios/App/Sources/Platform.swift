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
/// UserDefaults is thread-safe, so this may be read from the backup folder's tasks too.
final class DefaultsSettings: SettingsStore, @unchecked Sendable {
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
///
/// - A bookmark that resolves but is stale (the folder moved or was renamed, the volume
///   changed) is made again from the resolved URL and handed to `refreshed`, which keeps it
///   in place of the old one, as Apple asks.
/// - Every read, write, listing and deletion is coordinated with `NSFileCoordinator`: in
///   iCloud Drive the file provider may be downloading, uploading or replacing the same file,
///   and an uncoordinated write can be lost or read back half-done.
/// - Files iCloud has evicted from the device are listed as `.name.icloud` placeholders; they
///   are listed and deleted under their real names.
final class BookmarkFolder: BackupFolder, @unchecked Sendable {
    let bookmark: Data
    let refreshed: @Sendable (Data) -> Void

    init(bookmark: Data, refreshed: @escaping @Sendable (Data) -> Void = { _ in }) {
        self.bookmark = bookmark
        self.refreshed = refreshed
    }

    /// Failures go to the core as `TwofoldError.Storage`, whose text the user sees.
    private func withFolder<T>(_ body: (URL) throws -> T) throws -> T {
        var stale = false
        let url: URL
        do {
            url = try URL(resolvingBookmarkData: bookmark, bookmarkDataIsStale: &stale)
        } catch {
            throw TwofoldError.Storage(details: "The backup folder is no longer available; choose it again")
        }
        guard url.startAccessingSecurityScopedResource() else {
            throw TwofoldError.Storage(details: "Twofold lost access to the backup folder; choose it again")
        }
        defer { url.stopAccessingSecurityScopedResource() }
        if stale, let renewed = try? url.bookmarkData(options: [], includingResourceValuesForKeys: nil, relativeTo: nil) {
            refreshed(renewed)
        }
        do {
            return try body(url)
        } catch let failure as TwofoldError {
            throw failure
        } catch {
            throw TwofoldError.from(error)
        }
    }

    func write(name: String, bytes: Data) throws {
        try withFolder { folder in
            let file = folder.appendingPathComponent(name)
            try coordinated(writing: file, options: .forReplacing) { try bytes.write(to: $0, options: .atomic) }
        }
    }

    /// Reading through the coordinator also downloads a file iCloud has evicted.
    func read(name: String) throws -> Data? {
        try withFolder { folder in
            let file = folder.appendingPathComponent(name)
            let placeholder = folder.appendingPathComponent(".\(name).icloud")
            let fm = FileManager.default
            guard fm.fileExists(atPath: file.path) || fm.fileExists(atPath: placeholder.path) else { return nil }
            return try coordinated(reading: file) { try Data(contentsOf: $0) }
        }
    }

    func list() throws -> [String] {
        try withFolder { folder in
            try coordinated(reading: folder) { url in
                try FileManager.default.contentsOfDirectory(atPath: url.path).map(Self.realName)
            }
        }
    }

    func delete(name: String) throws {
        try withFolder { folder in
            var file = folder.appendingPathComponent(name)
            let placeholder = folder.appendingPathComponent(".\(name).icloud")
            let fm = FileManager.default
            if !fm.fileExists(atPath: file.path) {
                guard fm.fileExists(atPath: placeholder.path) else { return }
                file = placeholder
            }
            try coordinated(writing: file, options: .forDeleting) { try fm.removeItem(at: $0) }
        }
    }

    /// `.twofold-….twfb.icloud` (evicted by iCloud) is `twofold-….twfb`.
    static func realName(_ listed: String) -> String {
        guard listed.hasPrefix("."), listed.hasSuffix(".icloud"), listed.count > ".".count + ".icloud".count else { return listed }
        return String(listed.dropFirst().dropLast(".icloud".count))
    }

    /// The bookmark for a folder URL returned by the file importer.
    static func bookmark(for url: URL) throws -> Data {
        guard url.startAccessingSecurityScopedResource() else { throw TwofoldError.Storage(details: "No access to this folder") }
        defer { url.stopAccessingSecurityScopedResource() }
        return try url.bookmarkData(options: [], includingResourceValuesForKeys: nil, relativeTo: nil)
    }
}

/// Runs `body` with the URL a file coordinator grants for reading `url`.
func coordinated<T>(reading url: URL, options: NSFileCoordinator.ReadingOptions = [], _ body: (URL) throws -> T) throws -> T {
    var coordinationError: NSError?
    var result: Result<T, Error>?
    NSFileCoordinator(filePresenter: nil).coordinate(readingItemAt: url, options: options, error: &coordinationError) { granted in
        result = Result { try body(granted) }
    }
    if let coordinationError { throw coordinationError }
    guard let result else { throw TwofoldError.Storage(details: "The file could not be read") }
    return try result.get()
}

/// Runs `body` with the URL a file coordinator grants for writing (or deleting) `url`.
func coordinated<T>(writing url: URL, options: NSFileCoordinator.WritingOptions, _ body: (URL) throws -> T) throws -> T {
    var coordinationError: NSError?
    var result: Result<T, Error>?
    NSFileCoordinator(filePresenter: nil).coordinate(writingItemAt: url, options: options, error: &coordinationError) { granted in
        result = Result { try body(granted) }
    }
    if let coordinationError { throw coordinationError }
    guard let result else { throw TwofoldError.Storage(details: "The file could not be written") }
    return try result.get()
}

/// Reads a file picked with `.fileImporter` (import files, backups to check, an export read
/// back), coordinated: it may be in iCloud Drive and not downloaded yet.
func readPickedFile(_ url: URL) throws -> Data {
    let scoped = url.startAccessingSecurityScopedResource()
    defer { if scoped { url.stopAccessingSecurityScopedResource() } }
    return try coordinated(reading: url) { try Data(contentsOf: $0) }
}

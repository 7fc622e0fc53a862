import Foundation
import TwofoldFFI

private func nowSeconds() -> UInt64 { UInt64(Date().timeIntervalSince1970) }

/// Sync of one unlocked vault with the user's other devices, through a folder the app opens
/// (`FolderSyncStorage`: a security-scoped folder, iCloud Drive or a Files provider) or a
/// WebDAV server the core reaches itself. The merge, the checks of every file and the keys
/// are the core's (`docs/sync-protocol.md`); this only moves calls off the main actor.
public final class TwofoldSync: @unchecked Sendable {
    let group: SyncGroup

    public init(vault: TwofoldVault, storage: SyncStorage?) {
        group = SyncGroup(vault: vault.session, storage: storage)
    }

    public func isSetUp() async throws -> Bool { try await TwofoldVault.run { [group] in try group.isSetUp() } }

    /// This vault becomes the first device of a new group in the app's folder (`label` is shown).
    public func setUpInAppFolder(label: String, deviceName: String) async throws -> SyncResult {
        try await TwofoldVault.run { [group] in try group.setup(location: .app(label: label), deviceName: deviceName) }
    }

    /// A new group on a WebDAV server (https); `password` (an app password for Nextcloud) is wiped.
    public func setUpWebDav(url: String, user: String?, password: inout Data?, deviceName: String) async throws -> SyncResult {
        let bytes = password
        password?.wipe()
        password = nil
        return try await TwofoldVault.run { [group] in
            try group.setup(location: .webDav(url: url, user: user, password: bytes), deviceName: deviceName)
        }
    }

    /// Reads every device's latest state, merges, writes this device's.
    public func syncNow() async throws -> SyncResult { try await TwofoldVault.run { [group] in try group.syncNow() } }

    public func status() async throws -> SyncStatusView { try await TwofoldVault.run { [group] in try group.status() } }

    public func conflicts() async throws -> [SyncConflict] { try await TwofoldVault.run { [group] in try group.conflicts() } }

    /// Keeps one side of the entry's conflicts (or both); sync afterwards.
    public func resolve(entryId: String, keep: SyncKeep) async throws -> UInt32 {
        try await TwofoldVault.run { [group] in try group.resolve(entryId: entryId, keep: keep) }
    }

    public func devices() async throws -> [SyncDevice] { try await TwofoldVault.run { [group] in try group.devices() } }

    /// Removes a device: it reads nothing written afterwards; its later files are refused.
    public func revoke(_ deviceNameOrTag: String) async throws -> SyncDevice {
        try await TwofoldVault.run { [group] in try group.revoke(deviceNameOrTag: deviceNameOrTag) }
    }

    public func leave() async throws { try await TwofoldVault.run { [group] in try group.leave() } }

    /// A member adds the device whose join invite was scanned; re-authenticate first.
    public func inviteDevice(inviteText: String, shareCredentials: Bool) async throws -> DeviceInvite {
        DeviceInvite(try await TwofoldVault.run { [group] in
            try SyncInviter(group: group, inviteText: inviteText, shareCredentials: shareCredentials, nowSeconds: nowSeconds())
        })
    }
}

/// A member's side of a join: frames to show; the new device's reply gives the code;
/// `confirm()` when both show the same code (only then is the device added), `cancel()` if not.
public final class DeviceInvite: @unchecked Sendable {
    private let inviter: SyncInviter

    init(_ inviter: SyncInviter) { self.inviter = inviter }

    public var deviceName: String { inviter.deviceName() }
    public var sourceFrames: UInt64 { inviter.sourceFrames() }
    public func frame(_ n: UInt64) -> String { inviter.frame(n: n) }

    /// The new device's reply (scanned): the code to compare.
    public func acceptReply(_ replyText: String) async throws -> String {
        try await TwofoldVault.run { [inviter] in try inviter.acceptReply(replyText: replyText, nowSeconds: nowSeconds()) }
    }

    /// Both devices show the same code: adds the device (sync afterwards to publish it).
    public func confirm() async throws {
        try await TwofoldVault.run { [inviter] in try inviter.confirm() }
    }

    /// The codes differ, or the user gave up: the device is not added; nothing stays.
    public func cancel() async throws {
        try await TwofoldVault.run { [inviter] in try inviter.cancel() }
    }
}

/// The new device's side: show `inviteText()` as a QR code, feed the member's frames, show
/// the reply, compare the code, then `accept(into:appFolderLabel:)`.
public final class JoiningDevice: @unchecked Sendable {
    private let joiner: SyncJoiner

    private init(_ joiner: SyncJoiner) { self.joiner = joiner }

    public static func start(deviceName: String, ttlSeconds: UInt64 = 600) async throws -> JoiningDevice {
        JoiningDevice(try await TwofoldVault.run { try SyncJoiner(deviceName: deviceName, nowSeconds: nowSeconds(), ttlSeconds: ttlSeconds) })
    }

    public func inviteText() async throws -> String { try await TwofoldVault.run { [joiner] in try joiner.inviteText() } }

    public func receiveFrame(_ text: String) async throws -> TransferProgress {
        try await TwofoldVault.run { [joiner] in try joiner.receiveFrame(text: text, nowSeconds: nowSeconds()) }
    }

    public func replyText() async throws -> String? { try await TwofoldVault.run { [joiner] in try joiner.replyText() } }
    public func confirmationCode() async throws -> String? { try await TwofoldVault.run { [joiner] in try joiner.confirmationCode() } }
    public func preview() async throws -> SyncJoinPreview? { try await TwofoldVault.run { [joiner] in try joiner.preview() } }

    /// Joins `vault`. `appFolderLabel`: the group's files are in the folder the app opens
    /// (give the same storage to `TwofoldSync`); `nil` keeps the member's location (WebDAV).
    public func accept(into vault: TwofoldVault, appFolderLabel: String?) async throws -> SyncJoinPreview {
        try await TwofoldVault.run { [joiner] in
            try joiner.acceptInto(vault: vault.session, location: appFolderLabel.map { .app(label: $0) })
        }
    }

    public func reject() { joiner.reject() }
}

#if canImport(Darwin)
/// A folder as the sync group's storage: a security-scoped URL (from the folder picker, kept
/// as a bookmark) on iCloud Drive or any Files provider. Every access is wrapped in
/// `startAccessingSecurityScopedResource` and an `NSFileCoordinator`, so iCloud and other
/// presenters see consistent files; iCloud placeholders are downloaded before they are read.
/// Writes create a new file (the core never writes a name twice). Called on a background
/// thread.
public final class FolderSyncStorage: SyncStorage, @unchecked Sendable {
    private let url: URL

    public init(url: URL) { self.url = url }

    /// From a bookmark the app saved; `nil` when it no longer resolves.
    public convenience init?(bookmark: Data) {
        var stale = false
        guard let url = try? URL(resolvingBookmarkData: bookmark, bookmarkDataIsStale: &stale) else { return nil }
        self.init(url: url)
    }

    private func scoped<T>(_ body: () throws -> T) throws -> T {
        let accessing = url.startAccessingSecurityScopedResource()
        defer { if accessing { url.stopAccessingSecurityScopedResource() } }
        return try body()
    }

    private func unavailable(_ error: Error) -> TwofoldError {
        let ns = error as NSError
        let denied = ns.domain == NSCocoaErrorDomain && (ns.code == NSFileReadNoPermissionError || ns.code == NSFileWriteNoPermissionError)
        return .SyncStorage(denied: denied, details: "The sync folder cannot be used: \(ns.localizedDescription)")
    }

    public func list() throws -> [SyncFile] {
        try scoped {
            var out: [SyncFile] = []
            var failure: Error?
            var coordinationError: NSError?
            NSFileCoordinator().coordinate(readingItemAt: url, options: [], error: &coordinationError) { dir in
                do {
                    let items = try FileManager.default.contentsOfDirectory(
                        at: dir, includingPropertiesForKeys: [.fileSizeKey, .isRegularFileKey], options: [])
                    for item in items {
                        var name = item.lastPathComponent
                        // An iCloud placeholder: ".d-….twfs.icloud" stands for "d-….twfs".
                        if name.hasPrefix("."), name.hasSuffix(".icloud") {
                            name = String(name.dropFirst().dropLast(".icloud".count))
                            try? FileManager.default.startDownloadingUbiquitousItem(at: dir.appendingPathComponent(name))
                            out.append(SyncFile(name: name, size: nil))
                            continue
                        }
                        let values = try item.resourceValues(forKeys: [.fileSizeKey, .isRegularFileKey])
                        guard values.isRegularFile == true else { continue }
                        out.append(SyncFile(name: name, size: values.fileSize.map { UInt64($0) }))
                    }
                } catch {
                    failure = error
                }
            }
            if let e = coordinationError ?? failure { throw unavailable(e) }
            return out
        }
    }

    public func read(name: String) throws -> Data? {
        try scoped {
            let file = url.appendingPathComponent(name)
            var result: Data?
            var failure: Error?
            var coordinationError: NSError?
            NSFileCoordinator().coordinate(readingItemAt: file, options: [], error: &coordinationError) { f in
                do {
                    result = try Data(contentsOf: f)
                } catch let e as NSError where e.domain == NSCocoaErrorDomain && e.code == NSFileReadNoSuchFileError {
                    result = nil
                } catch {
                    failure = error
                }
            }
            if let e = coordinationError ?? failure { throw unavailable(e) }
            return result
        }
    }

    public func write(name: String, bytes: Data) throws {
        try scoped {
            let file = url.appendingPathComponent(name)
            var failure: Error?
            var coordinationError: NSError?
            NSFileCoordinator().coordinate(writingItemAt: file, options: [], error: &coordinationError) { f in
                // Whole into a hidden temporary file, then moved into place: `moveItem` fails
                // when the name exists (a name is written once), and no reader sees half a file.
                let tmp = f.deletingLastPathComponent().appendingPathComponent(".\(name).tmp")
                do {
                    try? FileManager.default.removeItem(at: tmp)
                    try bytes.write(to: tmp, options: [.atomic])
                    try FileManager.default.moveItem(at: tmp, to: f)
                } catch {
                    try? FileManager.default.removeItem(at: tmp)
                    failure = error
                }
            }
            if let e = coordinationError ?? failure { throw unavailable(e) }
        }
    }

    public func delete(name: String) throws {
        try scoped {
            let file = url.appendingPathComponent(name)
            var failure: Error?
            var coordinationError: NSError?
            NSFileCoordinator().coordinate(writingItemAt: file, options: .forDeleting, error: &coordinationError) { f in
                do {
                    try FileManager.default.removeItem(at: f)
                } catch let e as NSError where e.domain == NSCocoaErrorDomain && e.code == NSFileNoSuchFileError {
                } catch {
                    failure = error
                }
            }
            if let e = coordinationError ?? failure { throw unavailable(e) }
        }
    }
}
#endif

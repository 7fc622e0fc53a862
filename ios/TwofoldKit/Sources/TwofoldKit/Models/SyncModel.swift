import Foundation
import Observation
import TwofoldFFI

/// Which folder the sync group uses on this device (non-secret; UserDefaults in the app).
public protocol SyncSettings: AnyObject {
    /// A security-scoped bookmark of the group's folder, and its name for display.
    var syncFolderBookmark: Data? { get set }
    var syncFolderName: String? { get set }
    var syncDeviceName: String? { get set }
}

public final class MemorySyncSettings: SyncSettings {
    public var syncFolderBookmark: Data?
    public var syncFolderName: String?
    public var syncDeviceName: String?
    public init() {}
}

/// Keeping this vault in step with the user's other devices through a folder (iCloud Drive,
/// a Files provider) or a WebDAV server. Syncs when the session starts, on return to the
/// foreground, `debounce` seconds after a local change and from background refresh; shows
/// devices, conflicts and warnings; runs both sides of joining a device. Every decision is the
/// core's.
@MainActor @Observable
public final class SyncModel {
    public struct Join: Equatable {
        public var inviteText: String
        public var received: UInt32 = 0
        public var needed: UInt32 = 0
        public var code: String?
        public var reply: String?
        public var preview: SyncJoinPreview?
    }

    public struct Invite: Equatable {
        public var deviceName: String
        public var code: String?
    }

    public private(set) var setUp = false
    public private(set) var folderName: String?
    public private(set) var status: SyncStatusView?
    public private(set) var conflicts: [SyncConflict] = []
    public private(set) var last: SyncResult?
    public private(set) var error: String?
    public private(set) var busy = false
    public private(set) var join: Join?
    public private(set) var invite: Invite?

    private let vault: TwofoldVault
    private let settings: SyncSettings
    private let folderFor: (Data) -> SyncStorage?
    private let debounce: TimeInterval
    private var pending: Task<Void, Never>?
    private var joining: JoiningDevice?
    private var inviting: DeviceInvite?

    public init(vault: TwofoldVault, settings: SyncSettings, folderFor: @escaping (Data) -> SyncStorage?, debounce: TimeInterval = 3) {
        self.vault = vault
        self.settings = settings
        self.folderFor = folderFor
        self.debounce = debounce
        folderName = settings.syncFolderName
    }

    private func group() -> TwofoldSync {
        TwofoldSync(vault: vault, storage: settings.syncFolderBookmark.flatMap(folderFor))
    }

    private func refresh(_ sync: TwofoldSync) async throws {
        setUp = try await sync.isSetUp()
        folderName = settings.syncFolderName
        status = setUp ? try await sync.status() : nil
        conflicts = setUp ? try await sync.conflicts() : []
    }

    private func work(_ body: (TwofoldSync) async throws -> Void) async {
        busy = true
        error = nil
        defer { busy = false }
        let sync = group()
        do {
            try await body(sync)
            try await refresh(sync)
        } catch {
            self.error = TwofoldError.from(error).userMessage
            try? await refresh(sync)
        }
    }

    /// At unlock and on return to the foreground.
    public func start() async {
        await work { sync in if try await sync.isSetUp() { last = try await sync.syncNow() } }
    }

    public func syncNow() async {
        await work { sync in last = try await sync.syncNow() }
    }

    /// Something changed in the vault: sync once things settle.
    public func localChange() {
        guard setUp else { return }
        pending?.cancel()
        let delay = debounce
        pending = Task { [weak self] in
            try? await Task.sleep(nanoseconds: UInt64(delay * 1e9))
            guard !Task.isCancelled else { return }
            await self?.syncNow()
        }
    }

    /// The user picked the group's folder (its security-scoped bookmark) for a new group.
    public func setUp(folderBookmark: Data, folderName: String, deviceName: String) async {
        settings.syncFolderBookmark = folderBookmark
        settings.syncFolderName = folderName
        settings.syncDeviceName = deviceName
        await work { sync in last = try await sync.setUpInAppFolder(label: folderName, deviceName: deviceName) }
    }

    /// A new group on a WebDAV server; the password is wiped.
    public func setUpWebDav(url: String, user: String?, password: inout Data?, deviceName: String) async {
        settings.syncFolderBookmark = nil
        settings.syncFolderName = nil
        settings.syncDeviceName = deviceName
        let sync = group()
        busy = true
        error = nil
        defer { busy = false }
        do {
            last = try await sync.setUpWebDav(url: url, user: user, password: &password, deviceName: deviceName)
            try await refresh(sync)
        } catch {
            self.error = TwofoldError.from(error).userMessage
        }
    }

    /// New device: a join invite to show.
    public func startJoin(deviceName: String) async {
        do {
            let j = try await JoiningDevice.start(deviceName: deviceName)
            joining = j
            settings.syncDeviceName = deviceName
            join = Join(inviteText: try await j.inviteText())
            error = nil
        } catch {
            self.error = TwofoldError.from(error).userMessage
        }
    }

    /// New device: one frame scanned from the member's screen.
    public func joinFrame(_ text: String) async {
        guard let j = joining, var state = join else { return }
        do {
            let p = try await j.receiveFrame(text)
            state.received = p.received
            state.needed = p.needed
            state.code = try await j.confirmationCode()
            state.reply = try await j.replyText()
            state.preview = try await j.preview()
            join = state
        } catch {
            self.error = TwofoldError.from(error).userMessage
        }
    }

    /// New device: the codes match. `folderBookmark`: the group's folder as this device sees
    /// it; `nil` for a WebDAV group whose password the member shared.
    public func acceptJoin(folderBookmark: Data?, folderName: String?) async {
        guard let j = joining else { return }
        if let folderBookmark {
            settings.syncFolderBookmark = folderBookmark
            settings.syncFolderName = folderName
        }
        await work { sync in
            _ = try await j.accept(into: vault, appFolderLabel: folderBookmark == nil ? nil : folderName)
            joining = nil
            join = nil
            last = try await sync.syncNow()
        }
    }

    public func cancelJoin() {
        joining?.reject()
        joining = nil
        join = nil
    }

    /// Member: the new device's join invite was scanned; shows frames (it is not added yet).
    public func startInvite(_ inviteText: String, shareCredentials: Bool = false) async {
        await work { sync in
            let inv = try await sync.inviteDevice(inviteText: inviteText, shareCredentials: shareCredentials)
            inviting = inv
            invite = Invite(deviceName: inv.deviceName)
        }
    }

    /// Member: frame `n` of the endless stream to show.
    public func inviteFrame(_ n: UInt64) -> String? { inviting?.frame(n) }

    /// Member: the new device's reply was scanned; shows the code to compare.
    public func inviteReply(_ replyText: String) async {
        guard let inv = inviting else { return }
        do {
            invite?.code = try await inv.acceptReply(replyText)
        } catch {
            self.error = TwofoldError.from(error).userMessage
        }
    }

    /// Member: the codes matched, so the device is added and the group hears of it; or they
    /// differ (or the user gave up) and the invitation is dropped without a trace.
    public func finishInvite(codesMatched: Bool) async {
        guard let inv = inviting else { return }
        inviting = nil
        invite = nil
        await work { sync in
            if codesMatched {
                try await inv.confirm()
                last = try await sync.syncNow()
            } else {
                try await inv.cancel()
            }
        }
    }

    public func resolve(entryId: String, keep: SyncKeep) async {
        await work { sync in
            _ = try await sync.resolve(entryId: entryId, keep: keep)
            last = try await sync.syncNow()
        }
    }

    public func revoke(_ deviceName: String) async {
        await work { sync in
            _ = try await sync.revoke(deviceName)
            last = try await sync.syncNow()
        }
    }

    public func leave() async {
        await work { sync in
            try await sync.leave()
            settings.syncFolderBookmark = nil
            settings.syncFolderName = nil
            last = nil
        }
    }

    public func stop() {
        pending?.cancel()
        cancelJoin()
        inviting = nil
    }
}

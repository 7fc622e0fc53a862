import Foundation
import Observation
import TwofoldFFI

/// Automatic backups into the folder the user picked, and checking a backup file. The flow is
/// the core's (`FolderBackups`): sealed to the recovery key, written, read back and confirmed,
/// and only then the old automatic backups beyond `keep` deleted; requests while one runs are
/// merged into one more run. This model keeps the folder choice and the status shown.
@MainActor @Observable
public final class BackupModel {
    public private(set) var folderName: String?
    public private(set) var last: BackupStatus?
    public private(set) var lastError: String?
    public private(set) var busy = false
    public private(set) var check: BackupCheck?
    public private(set) var checkError: String?
    public private(set) var checkFile: Data?

    private let vault: TwofoldVault
    private let settings: SettingsStore
    private let folderFor: (Data) throws -> BackupFolder
    private let clock: () -> Date
    private let keep: UInt32
    /// The core's backups into the chosen folder (one per folder, so requests merge).
    @ObservationIgnored private var backups: (bookmark: Data, backups: FolderBackups)?

    public init(vault: TwofoldVault, settings: SettingsStore, folderFor: @escaping (Data) throws -> BackupFolder,
                clock: @escaping () -> Date = { Date() }, keep: UInt32 = 10) {
        self.vault = vault
        self.settings = settings
        self.folderFor = folderFor
        self.clock = clock
        self.keep = keep
        load()
    }

    private func load() {
        folderName = settings.backupFolderName
        last = settings.lastBackup
        lastError = settings.lastBackupError
    }

    /// The user picked a folder (its security-scoped bookmark); backs up at once.
    public func chooseFolder(bookmark: Data, name: String) async {
        settings.backupFolderBookmark = bookmark
        settings.backupFolderName = name
        load()
        await backupNow()
    }

    public func stopAutomaticBackups() {
        settings.backupFolderBookmark = nil
        settings.backupFolderName = nil
        load()
    }

    /// After every change and from the backup screen. A request while a backup runs returns at
    /// once: the core runs that backup once more and its caller shows the result.
    public func backupNow() async {
        guard let bookmark = settings.backupFolderBookmark else { return }
        busy = true
        do {
            let target: FolderBackups
            if let cached = backups, cached.bookmark == bookmark {
                target = cached.backups
            } else {
                target = FolderBackups(folder: try folderFor(bookmark), keep: keep)
                backups = (bookmark, target)
            }
            guard let r = try await target.backupNow(vault, at: clock()) else { return }
            settings.lastBackup = BackupStatus(at: clock(), name: r.name, entryCount: r.entryCount)
            settings.lastBackupError = nil
        } catch {
            settings.lastBackupError = TwofoldError.from(error).userMessage
        }
        busy = false
        load()
    }

    public func pickBackupToVerify(_ bytes: Data) {
        checkFile = bytes
        check = nil
        checkError = nil
    }

    /// Checks the picked file with its password (wiped).
    public func verify(password: SecretBytes) async {
        await verify { bytes in try await self.vault.verifyBackupBytes(bytes, password: password) }
        password.wipe()
    }

    public func verify(recoveryKey: String) async {
        await verify { bytes in try await self.vault.verifyBackupBytes(bytes, recoveryKey: recoveryKey) }
    }

    private func verify(_ body: (Data) async throws -> BackupCheck) async {
        guard let bytes = checkFile else { return }
        busy = true
        checkError = nil
        defer { busy = false }
        do {
            check = try await body(bytes)
        } catch TwofoldError.WrongCredential {
            checkError = "Wrong password or recovery key for this backup"
        } catch {
            checkError = TwofoldError.from(error).userMessage
        }
    }
}

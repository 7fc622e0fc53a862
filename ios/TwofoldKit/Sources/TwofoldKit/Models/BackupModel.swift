import Foundation
import Observation
import TwofoldFFI

/// Automatic backups into the folder the user picked, and checking a backup file. Backups are
/// sealed to the recovery key, written, read back and verified by the core before they count;
/// then the core picks which old automatic backups beyond `keep` to delete.
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
    private var running = false
    private var again = false

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

    /// After every change and from the backup screen. A run already going runs once more after.
    public func backupNow() async {
        guard let bookmark = settings.backupFolderBookmark else { return }
        if running { again = true; return }
        running = true
        busy = true
        defer { running = false; busy = false; load() }
        repeat {
            again = false
            do {
                let folder = try folderFor(bookmark)
                let now = clock()
                let name = autoBackupName(unixMs: Int64(now.timeIntervalSince1970 * 1000))
                let r = try await vault.backupToDocument(password: nil, name: name) { bytes in
                    try await folder.writeAndReadBack(name: name, bytes: bytes)
                }
                settings.lastBackup = BackupStatus(at: now, name: name, entryCount: r.entryCount)
                settings.lastBackupError = nil
                let names = try await folder.list()
                for old in autoBackupsToDelete(names: names, keep: keep, newest: name) {
                    try await folder.delete(name: old)
                }
            } catch {
                settings.lastBackupError = VaultFailure.from(error).message
            }
        } while again
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
        } catch VaultFailure.wrongCredential {
            checkError = "Wrong password or recovery key for this backup"
        } catch {
            checkError = VaultFailure.from(error).message
        }
    }
}

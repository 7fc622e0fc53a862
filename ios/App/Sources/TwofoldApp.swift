import BackgroundTasks
import Combine
import SwiftUI
import TwofoldKit
import UIKit

/// The app: one `AppModel`, the lock on background, and the privacy shield that blanks the
/// UI while the screen is recorded or mirrored and in the app-switcher snapshot.
@main
struct TwofoldApp: App {
    @State private var session = AppSession()
    @Environment(\.scenePhase) private var scenePhase
    @State private var captured = false

    init() {
        BackgroundSync.register()
    }

    var body: some Scene {
        WindowGroup {
            ZStack {
                RootView(session: session)
                    .environment(session.app)
                if scenePhase != .active || captured {
                    // Covers the snapshot iOS takes for the app switcher and any recording.
                    PrivacyShield()
                }
            }
            .task {
                captured = UIApplication.shared.connectedScenes.compactMap { ($0 as? UIWindowScene)?.screen.isCaptured }.contains(true)
                await session.app.start()
            }
            .onReceive(NotificationCenter.default.publisher(for: UIScreen.capturedDidChangeNotification)) { note in
                captured = (note.object as? UIScreen)?.isCaptured ?? false
            }
        }
        .onChange(of: scenePhase) { _, phase in
            switch phase {
            case .background:
                session.app.didEnterBackground()
                BackgroundSync.schedule()
            case .active:
                session.app.willEnterForeground()
                session.syncOnForeground()
            default: break
            }
        }
    }
}

struct PrivacyShield: View {
    var body: some View {
        ZStack {
            Color(uiColor: .systemBackground).ignoresSafeArea()
            Image(systemName: "lock.shield").font(.system(size: 64)).foregroundStyle(.secondary)
        }
    }
}

/// Where the vault lives: Application Support, excluded from iCloud/iTunes backup (Twofold
/// makes its own encrypted backups), with complete file protection.
enum VaultLocation {
    static var path: String {
        let fm = FileManager.default
        var dir = fm.urls(for: .applicationSupportDirectory, in: .userDomainMask)[0].appendingPathComponent("Twofold", isDirectory: true)
        try? fm.createDirectory(at: dir, withIntermediateDirectories: true, attributes: [.protectionKey: FileProtectionType.complete])
        var values = URLResourceValues()
        values.isExcludedFromBackup = true
        try? dir.setResourceValues(values)
        return dir.appendingPathComponent("vault.twofold").path
    }
}

/// Owns the models for the app's lifetime and makes the unlocked session's models after each
/// unlock. Glue only.
@MainActor @Observable
final class AppSession {
    let settings: DefaultsSettings
    /// Always there: whether Face ID / Touch ID can be used is asked each time, not at launch.
    let biometrics = SecureEnclaveKeys()
    let app: AppModel
    // Caches filled while views are built: not observed, so reading them never loops.
    @ObservationIgnored private var onboarding: OnboardingModel?
    @ObservationIgnored private var unlock: (TwofoldVault, UnlockModel)?
    @ObservationIgnored private var unlocked: Unlocked?

    init() {
        let settings = DefaultsSettings()
        self.settings = settings
        // The auto-lock clock is AppModel's default, the continuous clock: it keeps counting
        // while the iPhone sleeps (systemUptime does not, so an hour asleep looked like seconds).
        app = AppModel(
            vaultPath: VaultLocation.path,
            trust: KeychainTrustStore(),
            biometrics: biometrics,
            settings: settings
        )
    }

    func onboardingModel() -> OnboardingModel {
        if let onboarding { return onboarding }
        let m = app.makeOnboarding()
        onboarding = m
        return m
    }

    func unlockModel(_ vault: TwofoldVault) -> UnlockModel {
        if let current = unlock, current.0 === vault { return current.1 }
        let m = app.makeUnlock(vault)
        unlock = (vault, m)
        unlocked = nil
        return m
    }

    func unlockedModels(_ vault: TwofoldVault) -> Unlocked {
        unlock = nil
        if let unlocked, unlocked.vault === vault { return unlocked }
        let u = Unlocked(vault: vault, biometrics: biometrics, settings: settings)
        // The lock stops the session's models before the core forgets the key.
        app.beforeLock { [weak u] in u?.stop() }
        unlocked = u
        BackgroundSync.current = u.sync
        Task { await u.sync.start() }
        return u
    }

    /// Back in the foreground with the vault unlocked: sync.
    func syncOnForeground() {
        guard let sync = unlocked?.sync, case .unlocked = app.route else { return }
        Task { await sync.start() }
    }

    @MainActor
    final class Unlocked {
        let vault: TwofoldVault
        let backup: BackupModel
        let codes: CodesModel
        let enroll: EnrollModel
        let export: ExportModel
        let receive: ReceiveModel
        let send: SendModel
        let security: SettingsModel
        let sync: SyncModel

        init(vault: TwofoldVault, biometrics: SecureEnclaveKeys, settings: DefaultsSettings) {
            self.vault = vault
            let backup = BackupModel(vault: vault, settings: settings, folderFor: { bookmark in
                BookmarkFolder(bookmark: bookmark) { refreshed in
                    // A stale bookmark was made again: keep the new one, unless the user chose
                    // another folder meanwhile.
                    Task { @MainActor in
                        if settings.backupFolderBookmark == bookmark { settings.backupFolderBookmark = refreshed }
                    }
                }
            })
            let sync = SyncModel(vault: vault, settings: settings, folderFor: { FolderSyncStorage(bookmark: $0) })
            self.sync = sync
            let changed: () -> Void = {
                Task { await backup.backupNow() }
                sync.localChange()
            }
            self.backup = backup
            codes = CodesModel(vault: vault, settings: settings, clipboard: PasteboardClipboard(), onChanged: changed)
            enroll = EnrollModel(vault: vault, onChanged: changed)
            let reauth = Reauthentication(vault: vault, biometrics: biometrics)
            export = ExportModel(vault: vault, reauth: reauth)
            receive = ReceiveModel(vault: vault, onChanged: changed)
            send = SendModel(vault: vault, reauth: reauth)
            security = SettingsModel(vault: vault, biometrics: biometrics, settings: settings)
        }

        /// At the lock: tickers and sessions stop, previews and codes are dropped.
        func stop() {
            codes.stop()
            export.close()
            send.finish()
            receive.cancel()
            enroll.cancel()
            sync.stop()
            if BackgroundSync.current === sync { BackgroundSync.current = nil }
        }
    }
}

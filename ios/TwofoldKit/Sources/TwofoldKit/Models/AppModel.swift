import Foundation
import Observation
import TwofoldFFI

/// Which top-level screen the app shows.
public enum Route {
    case loading
    case onboarding
    case locked(TwofoldVault)
    case unlocked(TwofoldVault)
    case failed(String)
}

/// The app's top level: finds the vault, routes between onboarding, unlock and the unlocked
/// screens, and locks after `autoLockSeconds` in the background (timer, plus a check of the
/// elapsed time on return because a suspended app's timers do not run).
@MainActor @Observable
public final class AppModel {
    public private(set) var route: Route = .loading
    public let keystore: PlatformKeystore?
    public let settings: SettingsStore
    private let vaultPath: String
    private let trust: TrustStore
    private let uptime: () -> TimeInterval
    private let sleep: (TimeInterval) async throws -> Void
    private var backgroundedAt: TimeInterval?
    private var lockTask: Task<Void, Never>?

    public init(
        vaultPath: String,
        trust: TrustStore,
        keystore: PlatformKeystore?,
        settings: SettingsStore,
        uptime: @escaping () -> TimeInterval,
        sleep: @escaping (TimeInterval) async throws -> Void = { try await Task.sleep(nanoseconds: UInt64($0 * 1e9)) }
    ) {
        self.vaultPath = vaultPath
        self.trust = trust
        self.keystore = keystore
        self.settings = settings
        self.uptime = uptime
        self.sleep = sleep
    }

    /// Opens the vault, locked; no file means onboarding.
    public func start() async {
        do {
            route = .locked(try await TwofoldVault.open(path: vaultPath, trust: trust))
        } catch VaultFailure.notFound {
            route = .onboarding
        } catch {
            route = .failed(VaultFailure.from(error).message)
        }
    }

    public func makeOnboarding(kdf: KdfSettings = defaultKdf()) -> OnboardingModel {
        OnboardingModel(vaultPath: vaultPath, trust: trust, keystore: keystore, kdf: kdf) { [weak self] vault in self?.unlocked(vault) }
    }

    public func makeUnlock(_ vault: TwofoldVault) -> UnlockModel {
        UnlockModel(vault: vault, keystore: keystore, settings: settings) { [weak self] vault in self?.unlocked(vault) }
    }

    public func unlocked(_ vault: TwofoldVault) {
        route = .unlocked(vault)
    }

    /// Locks now: the core zeroizes the key and the decrypted accounts.
    public func lock() {
        lockTask?.cancel()
        lockTask = nil
        if case let .unlocked(vault) = route {
            vault.lock()
            route = .locked(vault)
        }
    }

    /// scenePhase became `.background`.
    public func didEnterBackground() {
        guard case .unlocked = route else { return }
        let seconds = settings.autoLockSeconds
        if seconds < 0 { return }
        if seconds == 0 { return lock() }
        backgroundedAt = uptime()
        lockTask?.cancel()
        lockTask = Task { [weak self, sleep] in
            do {
                try await sleep(TimeInterval(seconds))
                self?.lock()
            } catch {}
        }
    }

    /// scenePhase became `.active` again.
    public func willEnterForeground() {
        guard let since = backgroundedAt else { return }
        backgroundedAt = nil
        lockTask?.cancel()
        lockTask = nil
        let seconds = settings.autoLockSeconds
        if seconds >= 0 && uptime() - since >= TimeInterval(seconds) { lock() }
    }
}

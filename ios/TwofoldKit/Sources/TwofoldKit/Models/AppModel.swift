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

private let continuousOrigin = ContinuousClock.now

/// Seconds on the continuous clock since the app started: it keeps counting while the device
/// sleeps (`ProcessInfo.systemUptime` and `SuspendingClock` stop then).
public func continuousClockSeconds() -> TimeInterval {
    let elapsed = ContinuousClock.now - continuousOrigin
    return TimeInterval(elapsed.components.seconds) + TimeInterval(elapsed.components.attoseconds) / 1e18
}

/// The app's top level: finds the vault, routes between onboarding, unlock and the unlocked
/// screens, and locks after `autoLockSeconds` in the background (timer, plus a check of the
/// elapsed time on return because a suspended app's timers do not run). `monotonic` must keep
/// counting while the device sleeps — `ContinuousClock`, not `ProcessInfo.systemUptime` or
/// `SuspendingClock`, which stop: a phone asleep for an hour would come back unlocked.
@MainActor @Observable
public final class AppModel {
    public private(set) var route: Route = .loading
    public let biometrics: BiometricKeys?
    public let settings: SettingsStore
    private let vaultPath: String
    private let trust: TrustStore
    private let monotonic: () -> TimeInterval
    private let sleep: (TimeInterval) async throws -> Void
    private var backgroundedAt: TimeInterval?
    private var lockTask: Task<Void, Never>?
    @ObservationIgnored private var lockStops: [() -> Void] = []

    public init(
        vaultPath: String,
        trust: TrustStore,
        biometrics: BiometricKeys?,
        settings: SettingsStore,
        monotonic: @escaping () -> TimeInterval = continuousClockSeconds,
        sleep: @escaping (TimeInterval) async throws -> Void = { try await Task.sleep(for: .seconds($0), clock: .continuous) }
    ) {
        self.vaultPath = vaultPath
        self.trust = trust
        self.biometrics = biometrics
        self.settings = settings
        self.monotonic = monotonic
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
        OnboardingModel(vaultPath: vaultPath, trust: trust, biometrics: biometrics, kdf: kdf) { [weak self] vault in self?.unlocked(vault) }
    }

    public func makeUnlock(_ vault: TwofoldVault) -> UnlockModel {
        UnlockModel(vault: vault, biometrics: biometrics, settings: settings) { [weak self] vault in self?.unlocked(vault) }
    }

    public func unlocked(_ vault: TwofoldVault) {
        route = .unlocked(vault)
    }

    /// `stop` runs at the next lock, before the core forgets the key: the unlocked session's
    /// models stop their tickers and sessions there, so none of them calls a locked vault.
    public func beforeLock(_ stop: @escaping () -> Void) {
        lockStops.append(stop)
    }

    /// Locks now: the session's models stop, then the core zeroizes the key and the accounts.
    public func lock() {
        lockTask?.cancel()
        lockTask = nil
        backgroundedAt = nil
        if case let .unlocked(vault) = route {
            let stops = lockStops
            lockStops.removeAll()
            for stop in stops { stop() }
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
        backgroundedAt = monotonic()
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
        if seconds >= 0 && monotonic() - since >= TimeInterval(seconds) { lock() }
    }
}

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
/// screens, and locks after `autoLockSeconds` in the background. The rule is the core's
/// (`AutoLock`: the delay, checked again on return because a suspended app's timers do not
/// run; not while a system picker the app opened is in front, for up to ten minutes, so its
/// answer reaches an unlocked vault). This model feeds it `monotonic`, which must keep
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
    @ObservationIgnored private let autoLock: AutoLock
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
        self.autoLock = AutoLock(delaySeconds: Int64(settings.autoLockSeconds))
    }

    private var nowMs: Int64 { Int64((monotonic() * 1000).rounded(.down)) }

    /// Opens the vault, locked; no file means onboarding.
    public func start() async {
        do {
            route = .locked(try await TwofoldVault.open(path: vaultPath, trust: trust))
        } catch TwofoldError.NotFound {
            route = .onboarding
        } catch {
            route = .failed(TwofoldError.from(error).userMessage)
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
        autoLock.locked()
        if case let .unlocked(vault) = route {
            let stops = lockStops
            lockStops.removeAll()
            for stop in stops { stop() }
            vault.lock()
            route = .locked(vault)
        }
    }

    /// A system picker the app opened (`.fileImporter`, `.fileExporter`, the photo picker) is
    /// about to be in front.
    public func pickerOpened() { autoLock.pickerOpened() }

    /// Its answer arrived, or it was dismissed.
    public func pickerClosed() { autoLock.pickerClosed() }

    /// scenePhase became `.background`.
    public func didEnterBackground() {
        guard case .unlocked = route else { return }
        autoLock.setDelay(delaySeconds: Int64(settings.autoLockSeconds))
        lockTask?.cancel()
        lockTask = nil
        switch autoLock.backgrounded(nowMs: nowMs) {
        case .lockNow:
            lock()
        case let .lockAfter(ms):
            lockTask = Task { [weak self, sleep] in
                do {
                    try await sleep(TimeInterval(ms) / 1000)
                    guard let self, self.autoLock.timerFired() else { return }
                    self.lock()
                } catch {}
            }
        case .stay:
            break
        }
    }

    /// scenePhase became `.active` again.
    public func willEnterForeground() {
        lockTask?.cancel()
        lockTask = nil
        if autoLock.foregrounded(nowMs: nowMs) { lock() }
    }
}

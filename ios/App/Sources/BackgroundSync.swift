import BackgroundTasks
import TwofoldKit

/// Opportunistic background sync (`BGAppRefreshTask`): iOS decides when, never sooner than
/// asked (about 15 minutes) and for about 30 seconds. It needs the vault unlocked — the keys
/// never leave the vault — so it syncs the unlocked session if there is one and otherwise
/// does nothing (the next unlock and every return to the foreground sync anyway).
enum BackgroundSync {
    static let identifier = "dev.twofold.app.sync"

    /// The unlocked session's sync model (set at unlock).
    @MainActor static weak var current: SyncModel?

    /// Once, before the app finishes launching.
    static func register() {
        BGTaskScheduler.shared.register(forTaskWithIdentifier: identifier, using: nil) { task in
            guard let refresh = task as? BGAppRefreshTask else { return task.setTaskCompleted(success: false) }
            schedule()
            let work = Task { @MainActor in
                if let model = current { await model.syncNow() }
                refresh.setTaskCompleted(success: true)
            }
            refresh.expirationHandler = { work.cancel() }
        }
    }

    /// Asks for the next run (when the app goes to the background).
    static func schedule() {
        let request = BGAppRefreshTaskRequest(identifier: identifier)
        request.earliestBeginDate = Date(timeIntervalSinceNow: 15 * 60)
        try? BGTaskScheduler.shared.submit(request)
    }
}

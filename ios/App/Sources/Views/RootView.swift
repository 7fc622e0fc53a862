import SwiftUI
import TwofoldKit

struct RootView: View {
    let session: AppSession

    var body: some View {
        switch session.app.route {
        case .loading:
            ProgressView()
        case .onboarding:
            OnboardingView(model: session.onboardingModel())
        case let .failed(message):
            Text(message).padding()
        case let .locked(vault):
            UnlockView(model: session.unlockModel(vault))
        case let .unlocked(vault):
            UnlockedView(models: session.unlockedModels(vault), lock: session.app.lock)
        }
    }
}

private struct UnlockedView: View {
    let models: AppSession.Unlocked
    let lock: () -> Void
    @State private var path: [Screen] = []

    var body: some View {
        NavigationStack(path: $path) {
            CodesView(model: models.codes, backup: models.backup, open: { path.append($0) }, lock: lock)
                .navigationDestination(for: Screen.self) { screen in
                    switch screen {
                    case .add: AddView(model: models.enroll)
                    case .backup: BackupView(model: models.backup)
                    case .export: ExportView(model: models.export)
                    case .receive: ReceiveView(model: models.receive)
                    case .send: SendView(model: models.send)
                    case .settings: SettingsView(model: models.security)
                    case .sync: SyncView(model: models.sync)
                    }
                }
        }
    }
}

enum Screen: Hashable {
    case add, backup, export, receive, send, settings, sync
}

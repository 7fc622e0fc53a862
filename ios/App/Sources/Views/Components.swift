import SwiftUI
import TwofoldKit
import UniformTypeIdentifiers

/// A QR code drawn from the core's module matrix (invites, transfer frames, Google export).
struct QRCodeView: View {
    private let matrix: QrMatrix?

    init(text: String) { matrix = try? TwofoldQr.matrix(text) }

    /// A code the core already drew (Google export codes: their text never leaves the core).
    init(matrix: QrMatrix) { self.matrix = matrix }

    var body: some View {
        Canvas { context, size in
            guard let matrix else { return }
            let n = Int(matrix.size)
            let cell = min(size.width, size.height) / CGFloat(n)
            for y in 0..<n {
                for x in 0..<n where matrix.modules[y * n + x] == 1 {
                    context.fill(Path(CGRect(x: CGFloat(x) * cell, y: CGFloat(y) * cell, width: cell + 0.5, height: cell + 0.5)), with: .color(.black))
                }
            }
        }
        .aspectRatio(1, contentMode: .fit)
        .padding(12)
        .background(Color.white)
        .accessibilityLabel("QR code")
    }
}

/// The core's verdict on a new password.
struct StrengthMeter: View {
    let strength: PasswordStrength?

    var body: some View {
        if let strength {
            VStack(alignment: .leading, spacing: 4) {
                ProgressView(value: Double(strength.score) + 1, total: 5)
                Text(["Very weak", "Weak", "Fair", "Strong", "Very strong"][min(4, Int(strength.score))]).font(.caption)
                ForEach(strength.feedback, id: \.self) { Text($0).font(.caption2) }
            }
        }
    }
}

struct ErrorText: View {
    let message: String?

    var body: some View {
        if let message { Text(message).foregroundStyle(.red).font(.callout) }
    }
}

/// Bridges the file exporter to the models' `write` closure: present, wait for the user to
/// pick a place, then read the saved file back so the model can check it.
///
/// Every wait ends: the exporter's answer, its cancellation, a second write (the first one
/// ends with `CancellationError`), leaving the screen (`cancelled()` in `onDisappear`) and the
/// cancellation of the task that waits all resume it — so no export hangs with `busy` on, and
/// the bytes handed to the exporter are dropped each time.
@MainActor @Observable
final class ExportCoordinator {
    var presenting = false
    var document = BytesDocument(data: Data())
    var name = ""
    @ObservationIgnored private var continuation: CheckedContinuation<Data, Error>?

    func write(_ bytes: Data, name: String) async throws -> Data {
        end(throwing: CancellationError())
        document = BytesDocument(data: bytes)
        self.name = name
        presenting = true
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation = $0 }
        } onCancel: {
            Task { @MainActor in self.cancelled() }
        }
    }

    func finished(_ result: Result<URL, Error>) {
        let c = take()
        switch result {
        case let .success(url):
            c?.resume(with: Result { try readPickedFile(url) })
        case let .failure(error):
            c?.resume(throwing: TwofoldError.Storage(details: error.localizedDescription))
        }
    }

    /// The user dismissed the exporter, or the screen went away: not saved, no error.
    func cancelled() {
        presenting = false
        end(throwing: CancellationError())
    }

    private func end(throwing error: Error) {
        take()?.resume(throwing: error)
    }

    /// The waiting continuation, taken so it is resumed exactly once; the bytes are dropped.
    @discardableResult
    private func take() -> CheckedContinuation<Data, Error>? {
        let c = continuation
        continuation = nil
        document = BytesDocument(data: Data())
        return c
    }
}

struct BytesDocument: FileDocument {
    static var readableContentTypes: [UTType] { [.data] }
    var data: Data

    init(data: Data) { self.data = data }
    init(configuration: ReadConfiguration) throws { data = configuration.file.regularFileContents ?? Data() }
    func fileWrapper(configuration: WriteConfiguration) throws -> FileWrapper { FileWrapper(regularFileWithContents: data) }
}

/// Feeds the core's auto-lock rule: while a system picker this app opened (`.fileImporter`,
/// `.fileExporter`) is in front, leaving the app does not lock the vault (see
/// `AppModel.pickerOpened`). The answer then reaches an unlocked vault.
struct PausesAutoLock: ViewModifier {
    @Environment(AppModel.self) private var app
    let presented: Bool

    func body(content: Content) -> some View {
        content.onChange(of: presented) { _, open in
            if open { app.pickerOpened() } else { app.pickerClosed() }
        }
    }
}

extension View {
    /// Auto-lock waits while `presented` (a picker's `isPresented`) is true.
    func pausesAutoLock(while presented: Bool) -> some View {
        modifier(PausesAutoLock(presented: presented))
    }
}

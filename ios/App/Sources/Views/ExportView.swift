import SwiftUI
import TwofoldKit
import UniformTypeIdentifiers

/// Export: confirm it is you, pick a format, save with the file exporter (checked by reading
/// the saved file back) or show Google Authenticator codes.
struct ExportView: View {
    let model: ExportModel
    @State private var coordinator = ExportCoordinator()
    @State private var format = ExportFormat.twofoldBackup
    @State private var password = ""
    @State private var current = ""
    @State private var googleIndex = 0

    var body: some View {
        Form {
            if !model.authenticated {
                Section {
                    Text("Exports contain your secrets. Confirm it is you.")
                    SecureField("Vault password", text: $current)
                    ErrorText(message: model.error)
                    Button("Confirm") {
                        let typed = SecretBytes(utf8: current)
                        current = ""
                        Task { await model.authenticate(password: typed) }
                    }
                    .disabled(current.isEmpty || model.busy)
                    if model.biometricAvailable { Button("Use Face ID / Touch ID") { Task { await model.authenticateWithBiometrics() } } }
                }
            } else {
                Section("Format") {
                    Picker("Format", selection: $format) {
                        ForEach(model.formats(), id: \.format) { Text($0.name).tag($0.format) }
                    }
                    .pickerStyle(.inline)
                    .labelsHidden()
                    let info = model.info(format)
                    if info?.needsPassword == true {
                        SecureField("Password for the file", text: $password)
                    } else if info?.plaintext == true && info?.isFile == true {
                        Text("This file is not encrypted: anyone who gets it can make your codes. Delete it after use.").foregroundStyle(.red)
                    }
                    ErrorText(message: model.error)
                    Button(info?.isFile == false ? "Show QR codes" : "Save…") {
                        let pw = info?.needsPassword == true ? SecretBytes(utf8: password) : nil
                        password = ""
                        let name = info?.fileName ?? ""
                        Task {
                            if info?.isFile == false {
                                await model.export(format)
                                googleIndex = 0
                            } else {
                                await model.export(format, password: pw) { bytes in try await coordinator.write(bytes, name: name) }
                            }
                        }
                    }
                    .disabled(model.busy)
                    if let saved = model.saved { Text("Saved \(saved) and checked by reading it back.") }
                    if !model.skipped.isEmpty {
                        Text("Not included (this format cannot hold them):").font(.headline)
                        ForEach(model.skipped, id: \.label) { Text("\($0.label): \($0.reason)") }
                    }
                }
                if !model.googleCodes.isEmpty {
                    Section("Scan with Google Authenticator: code \(googleIndex + 1) of \(model.googleCodes.count)") {
                        QRCodeView(matrix: model.googleCodes[min(googleIndex, model.googleCodes.count - 1)])
                        HStack {
                            Button("Previous") { googleIndex -= 1 }.disabled(googleIndex == 0)
                            Spacer()
                            Button("Next") { googleIndex += 1 }.disabled(googleIndex >= model.googleCodes.count - 1)
                        }
                        .buttonStyle(.borderless)
                    }
                }
            }
        }
        .navigationTitle("Export")
        .task { await model.load() }
        .onDisappear {
            // A save still waiting for the exporter ends here (its task sees a cancellation).
            coordinator.cancelled()
            model.close()
        }
        .fileExporter(
            isPresented: $coordinator.presenting,
            document: coordinator.document,
            contentType: .data,
            defaultFilename: coordinator.name,
            onCompletion: { coordinator.finished($0) },
            onCancellation: { coordinator.cancelled() }
        )
        .pausesAutoLock(while: coordinator.presenting)
    }
}

import SwiftUI
import TwofoldKit

/// New device: show the invite, scan the old device's frames, compare codes, accept.
struct ReceiveView: View {
    let model: ReceiveModel
    @Environment(\.dismiss) private var dismiss

    var body: some View {
        Form {
            if let result = model.result {
                Text("Added \(result.addedIds.count) account(s)." + (result.duplicates.isEmpty ? "" : " Already here: \(result.duplicates.joined(separator: ", "))."))
                Button("Done") { dismiss() }
            } else if let code = model.confirmationCode {
                if let reply = model.reply {
                    Section("1. On the old phone, scan this reply. Only then does it show its code.") {
                        QRCodeView(text: reply).frame(maxWidth: 220)
                    }
                }
                Section("2. Check that the old phone shows the same code") {
                    Text(code).font(.system(.largeTitle, design: .monospaced))
                    ForEach(Array(model.preview.enumerated()), id: \.offset) { _, p in Text("\(p.issuer) · \(p.account)") }
                    Button(model.busy ? "Adding…" : "Codes match: add \(model.preview.count) account(s)") { Task { await model.accept() } }
                        .disabled(model.busy)
                    Button("Codes differ: cancel", role: .destructive) { model.cancel(); dismiss() }
                }
            } else if model.expired {
                ErrorText(message: model.error)
                Button("Start again") { Task { await model.begin() } }
            } else if let invite = model.invite {
                if let p = model.progress {
                    Text("Receiving… \(p.received) of about \(p.needed) pieces")
                    ProgressView(value: min(1, Double(p.received) / Double(max(1, p.needed))))
                } else {
                    Text("1. On the old phone, open Twofold › Send to another phone and scan this code.")
                    QRCodeView(text: invite)
                    Text("2. Then point this camera at the codes the old phone shows.")
                }
                QRScannerView { text in Task { await model.frame(text) } }
                    .frame(height: 260)
                    .listRowInsets(EdgeInsets())
                ErrorText(message: model.error)
            } else {
                ProgressView()
                ErrorText(message: model.error)
            }
        }
        .navigationTitle("Receive accounts")
        .task { await model.begin() }
        .onDisappear { model.cancel() }
    }
}

/// Old device: confirm it is you, scan the invite, choose accounts, show the frames.
struct SendView: View {
    let model: SendModel
    @Environment(\.dismiss) private var dismiss
    @State private var password = ""

    var body: some View {
        Form {
            if !model.authenticated {
                Section {
                    Text("Your accounts will leave this iPhone, encrypted for the other phone only. Confirm it is you.")
                    SecureField("Vault password", text: $password)
                    Button("Confirm") {
                        let typed = SecretBytes(utf8: password)
                        password = ""
                        Task { await model.authenticate(password: typed) }
                    }
                    .disabled(password.isEmpty || model.busy)
                    if model.biometricAvailable { Button("Use Face ID / Touch ID") { Task { await model.authenticateWithBiometrics() } } }
                }
            } else if model.invite == nil {
                Text("On the new phone, open Twofold › Receive from another phone, and scan the code it shows.")
                QRScannerView { model.inviteScanned($0) }
                    .frame(height: 300)
                    .listRowInsets(EdgeInsets())
            } else if model.sent {
                Text("The new phone accepted the accounts.")
                Button("Done") { model.finish(); dismiss() }
            } else if model.lanWaitingForMatch, let code = model.confirmationCode {
                Section("Does the new phone show this code?") {
                    Text(code).font(.system(.largeTitle, design: .monospaced))
                    Button("Codes match: send") { Task { await model.codesMatch() } }.disabled(model.busy)
                    Button("Codes differ: cancel", role: .destructive) { model.codesDiffer() }
                }
            } else if let code = model.confirmationCode {
                Section("The new phone must show this code") {
                    Text(code).font(.system(.largeTitle, design: .monospaced))
                    Text("If it shows another code, cancel on both phones: someone else may be in between.")
                    Button("Done") { model.finish(); dismiss() }
                }
            } else if model.awaitingReply {
                Section("Hold this screen in front of the new phone's camera") {
                    if let frame = model.frame { QRCodeView(text: frame) }
                }
                Section("When the new phone shows a reply code, scan it here") {
                    QRScannerView { text in Task { await model.scanned(text) } }
                        .frame(height: 200)
                        .listRowInsets(EdgeInsets())
                }
                if let dest = model.lanDestination {
                    Section("Or send over Wi-Fi to \(dest) (the address in the new phone's code)") {
                        Button("Send to \(dest)") { Task { await model.sendOverLan() } }.disabled(model.busy)
                    }
                }
            } else {
                Section("Choose the accounts to send (\(model.selected.count) of \(model.accounts.count))") {
                    ForEach(model.accounts, id: \.id) { e in
                        Toggle("\(e.issuer) · \(e.account)", isOn: Binding(
                            get: { model.selected.contains(e.id) },
                            set: { _ in model.toggle(e.id) }
                        ))
                    }
                    Button("Send") { Task { await model.send() } }.disabled(model.busy || model.selected.isEmpty)
                }
            }
            ErrorText(message: model.error)
        }
        .navigationTitle("Send to another phone")
        .task { await model.load() }
        .onDisappear { model.finish() }
    }
}

import SwiftUI
import TwofoldKit

struct OnboardingView: View {
    @Bindable var model: OnboardingModel
    @State private var password = ""
    @State private var again = ""
    @State private var typed = ""
    @State private var written = false

    var body: some View {
        Form {
            switch model.step {
            case .choosePassword:
                Section {
                    Text("Choose a password for your vault. It encrypts your accounts on this iPhone and cannot be reset by anyone.")
                    SecureField("Password", text: $password)
                        .textContentType(.newPassword)
                        .onChange(of: password) { _, new in model.passwordChanged(SecretBytes(utf8: new)) }
                    StrengthMeter(strength: model.strength)
                    SecureField("Password again", text: $again).textContentType(.newPassword)
                    ErrorText(message: model.error)
                    Button(model.busy ? "Creating…" : "Create vault") {
                        let (typed, confirmation) = (SecretBytes(utf8: password), SecretBytes(utf8: again))
                        Task { await model.create(password: typed, confirmation: confirmation) }
                    }
                    .disabled(model.busy || password.isEmpty)
                }
            case let .showRecoveryKey(key):
                Section("Your recovery key") {
                    Text("If you forget your password, this key is the only way back in. Write it on paper and keep it safe. It is shown only now.")
                    Text(key).font(.system(.title3, design: .monospaced)).textSelection(.disabled)
                    Toggle("I wrote it down", isOn: $written)
                    Button("Continue") { model.recoveryKeyWrittenDown() }.disabled(!written)
                }
            case .confirmRecoveryKey:
                Section {
                    Text("Type the recovery key from your paper, to check it was written correctly.")
                    TextField("Recovery key", text: $typed)
                        .textInputAutocapitalization(.characters)
                        .autocorrectionDisabled()
                    ErrorText(message: model.error)
                    Button("Check") { Task { await model.confirmRecoveryKey(typed) } }.disabled(model.busy || typed.isEmpty)
                    Button("Show the key again") { model.showRecoveryKeyAgain() }
                }
            case .offerBiometrics:
                Section {
                    Text("Unlock with Face ID or Touch ID? The key stays in the Secure Enclave and stops working if your biometrics change; your password always works.")
                    ErrorText(message: model.error)
                    Button("Use Face ID / Touch ID") { Task { await model.enableBiometrics() } }.disabled(model.busy)
                    Button("Not now") { model.skipBiometrics() }
                }
            case .done:
                EmptyView()
            }
        }
        .navigationTitle("Twofold")
    }
}

import SwiftUI
import TwofoldKit

struct SettingsView: View {
    let model: SettingsModel
    @State private var current = ""
    @State private var new = ""
    @State private var again = ""

    var body: some View {
        Form {
            Section("Lock when Twofold is in the background for") {
                Picker("Auto-lock", selection: Binding(get: { model.autoLockSeconds }, set: { model.setAutoLock($0) })) {
                    Text("Immediately").tag(0)
                    Text("30 seconds").tag(30)
                    Text("1 minute").tag(60)
                    Text("5 minutes").tag(300)
                    Text("Never").tag(-1)
                }
                Toggle("Hide codes until tapped", isOn: Binding(get: { model.tapToReveal }, set: { model.setTapToReveal($0) }))
            }
            if model.biometricsAvailable {
                Section("Face ID / Touch ID") {
                    if model.biometricsNeedReenroll {
                        Text("Your biometrics changed, so biometric unlock was turned off.").foregroundStyle(.red)
                        Button("Turn biometric unlock on again") { Task { await model.enableBiometrics() } }
                    } else {
                        Toggle("Unlock with Face ID / Touch ID", isOn: Binding(
                            get: { model.biometricsEnabled },
                            set: { on in Task { if on { await model.enableBiometrics() } else { await model.disableBiometrics() } } }
                        ))
                    }
                }
            }
            Section("Change password") {
                SecureField("Current password", text: $current)
                SecureField("New password", text: $new).onChange(of: new) { _, value in model.newPasswordChanged(SecretBytes(utf8: value)) }
                StrengthMeter(strength: model.newPasswordStrength)
                SecureField("New password again", text: $again)
                Button("Change password") {
                    let (c, n, a) = (SecretBytes(utf8: current), SecretBytes(utf8: new), SecretBytes(utf8: again))
                    current = ""; new = ""; again = ""
                    Task { await model.changePassword(current: c, new: n, confirmation: a) }
                }
                .disabled(model.busy || current.isEmpty || new.isEmpty)
            }
            Section("Recovery key") {
                if let key = model.newRecoveryKey {
                    Text(key).font(.system(.title3, design: .monospaced))
                    Button("I wrote it down") { model.recoveryKeyWrittenDown() }
                } else {
                    Button("Make a new recovery key") { Task { await model.rotateRecoveryKey() } }
                }
            }
            if let message = model.message { Text(message) }
        }
        .navigationTitle("Settings")
        .task { await model.load() }
    }
}

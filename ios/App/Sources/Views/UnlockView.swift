import SwiftUI
import TwofoldKit

struct UnlockView: View {
    @Bindable var model: UnlockModel
    @Environment(\.scenePhase) private var scenePhase
    @State private var password = ""
    @State private var again = ""
    @State private var recoveryKey = ""

    var body: some View {
        Form {
            Section {
                Text("Twofold is locked").font(.title2)
                if model.recoveredFromPrevious {
                    Text("The vault file was damaged; the previous saved version was opened. Check your accounts and make a backup.")
                }
            }
            switch model.mode {
            case .password:
                Section {
                    SecureField("Password", text: $password)
                        .textContentType(.password)
                        .onSubmit(unlock)
                    ErrorText(message: model.error)
                    Button(model.busy ? "Unlocking…" : "Unlock", action: unlock).disabled(model.busy || password.isEmpty)
                    if model.biometricAvailable {
                        Button("Use Face ID / Touch ID") { Task { await model.unlockWithBiometrics() } }
                    }
                    Button("Forgot the password? Use the recovery key") { model.useRecoveryKey() }
                }
            case .recoveryKey:
                Section {
                    Text("Type the recovery key you wrote down when you created the vault.")
                    TextField("Recovery key", text: $recoveryKey)
                        .textInputAutocapitalization(.characters)
                        .autocorrectionDisabled()
                    ErrorText(message: model.error)
                    Button("Unlock") {
                        let typed = recoveryKey
                        recoveryKey = ""
                        Task { await model.unlock(recoveryKey: typed) }
                    }
                    .disabled(model.busy || recoveryKey.isEmpty)
                    Button("Use the password") { model.usePassword() }
                }
            case .newPassword:
                Section("Choose a new password") {
                    SecureField("New password", text: $password)
                        .textContentType(.newPassword)
                        .onChange(of: password) { _, new in model.newPasswordChanged(SecretBytes(utf8: new)) }
                    StrengthMeter(strength: model.newPasswordStrength)
                    SecureField("New password again", text: $again)
                    ErrorText(message: model.error)
                    Button("Set password and unlock") {
                        let (new, confirmation) = (SecretBytes(utf8: password), SecretBytes(utf8: again))
                        password = ""
                        again = ""
                        Task { await model.setNewPassword(new, confirmation: confirmation) }
                    }
                    .disabled(model.busy || password.isEmpty)
                }
            }
        }
        .task {
            // Offer biometrics straight away when this iPhone has a slot — or, when the vault
            // locked in the background, as soon as the scene is active (Face ID cannot prompt
            // before: LAError.notInteractive).
            await model.appeared(sceneActive: scenePhase == .active)
        }
        .onChange(of: scenePhase) { _, phase in
            if phase == .active { Task { await model.sceneBecameActive() } }
        }
    }

    private func unlock() {
        let typed = SecretBytes(utf8: password)
        password = ""
        Task { await model.unlock(password: typed) }
    }
}

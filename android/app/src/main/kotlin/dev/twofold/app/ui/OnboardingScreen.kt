package dev.twofold.app.ui

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.Button
import androidx.compose.material3.Checkbox
import androidx.compose.material3.MaterialTheme
import androidx.compose.foundation.layout.Row
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.setValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.text.font.FontFamily
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import dev.twofold.app.model.OnboardingModel
import dev.twofold.app.model.OnboardingModel.Step

@Composable
fun OnboardingScreen(model: OnboardingModel) {
    val state by model.state.collectAsStateWithLifecycle()
    Column(
        Modifier.fillMaxSize().padding(24.dp).verticalScroll(rememberScrollState()),
        verticalArrangement = Arrangement.spacedBy(12.dp),
    ) {
        Text("Twofold", style = MaterialTheme.typography.headlineMedium)
        when (val step = state.step) {
            Step.ChoosePassword -> {
                var password by remember { mutableStateOf("") }
                var again by remember { mutableStateOf("") }
                Text("Choose a password for your vault. It encrypts your accounts on this phone and cannot be reset by anyone.")
                PasswordField(password, { password = it; model.passwordChanged(it.toCharArray()) }, "Password")
                StrengthMeter(state.strength)
                PasswordField(again, { again = it }, "Password again")
                ErrorText(state.error)
                Button(
                    enabled = !state.busy && password.isNotEmpty(),
                    onClick = { model.create(password.toCharArray(), again.toCharArray()) },
                ) { Text(if (state.busy) "Creating…" else "Create vault") }
            }
            is Step.ShowRecoveryKey -> {
                var written by remember { mutableStateOf(false) }
                Text("Your recovery key", style = MaterialTheme.typography.titleLarge)
                Text("If you forget your password, this key is the only way back in. Write it on paper and keep it safe. It is shown only now.")
                Text(step.recoveryKey, fontFamily = FontFamily.Monospace, style = MaterialTheme.typography.titleMedium)
                Row(verticalAlignment = Alignment.CenterVertically) {
                    Checkbox(written, { written = it })
                    Text("I wrote it down")
                }
                Button(enabled = written, onClick = model::recoveryKeyWrittenDown) { Text("Continue") }
            }
            Step.ConfirmRecoveryKey -> {
                var typed by remember { mutableStateOf("") }
                Text("Type the recovery key from your paper, to check it was written correctly.")
                SecretTextField(typed, { typed = it }, "Recovery key")
                ErrorText(state.error)
                Button(enabled = !state.busy && typed.isNotBlank(), onClick = { model.confirmRecoveryKey(typed) }) { Text("Check") }
                TextButton(onClick = model::showRecoveryKeyAgain) { Text("Show the key again") }
            }
            Step.OfferBiometrics -> {
                Text("Unlock with your fingerprint or face?", style = MaterialTheme.typography.titleLarge)
                Text("The key stays in this phone's secure hardware and stops working if biometrics change; your password always works.")
                ErrorText(state.error)
                Button(enabled = !state.busy, onClick = { model.enableBiometrics() }) { Text("Use biometrics") }
                TextButton(onClick = model::skipBiometrics) { Text("Not now") }
            }
            Step.Done -> Unit
        }
    }
}

package dev.twofold.app.ui

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.padding
import androidx.compose.material3.Button
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.LifecycleStartEffect
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import dev.twofold.app.model.UnlockModel
import dev.twofold.app.model.UnlockModel.Mode

@Composable
fun UnlockScreen(model: UnlockModel) {
    val state by model.state.collectAsStateWithLifecycle()
    // Each time the screen is in front again: is there a slot, and can biometrics be used now
    // (the user may have added or removed a fingerprint meanwhile)?
    LifecycleStartEffect(model) {
        model.load()
        onStopOrDispose { }
    }
    // Offer biometrics straight away when there is a slot for them.
    LaunchedEffect(state.biometricAvailable) { if (state.biometricAvailable) model.unlockWithBiometrics() }
    Column(Modifier.fillMaxSize().padding(24.dp), verticalArrangement = Arrangement.spacedBy(12.dp)) {
        Text("Twofold is locked", style = MaterialTheme.typography.headlineSmall)
        if (state.recoveredFromPrevious) {
            Text("The vault file was damaged; the previous saved version was opened. Check your accounts and make a backup.")
        }
        when (state.mode) {
            Mode.PASSWORD -> {
                var password by remember { mutableStateOf("") }
                PasswordField(password, { password = it }, "Password")
                ErrorText(state.error)
                Button(enabled = !state.busy && password.isNotEmpty(), onClick = {
                    model.unlockWithPassword(password.toCharArray())
                    password = ""
                }) { Text(if (state.busy) "Unlocking…" else "Unlock") }
                if (state.biometricAvailable) {
                    OutlinedButton(onClick = { model.unlockWithBiometrics() }) { Text("Use biometrics") }
                }
                TextButton(onClick = model::useRecoveryKey) { Text("Forgot the password? Use the recovery key") }
            }
            Mode.RECOVERY_KEY -> {
                var key by remember { mutableStateOf("") }
                Text("Type the recovery key you wrote down when you created the vault.")
                SecretTextField(key, { key = it }, "Recovery key")
                ErrorText(state.error)
                Button(enabled = !state.busy && key.isNotBlank(), onClick = { model.unlockWithRecoveryKey(key) }) { Text("Unlock") }
                TextButton(onClick = model::usePassword) { Text("Use the password") }
            }
            Mode.NEW_PASSWORD -> {
                var password by remember { mutableStateOf("") }
                var again by remember { mutableStateOf("") }
                Text("Choose a new password. The old one stops working.")
                PasswordField(password, { password = it; model.newPasswordChanged(it.toCharArray()) }, "New password")
                StrengthMeter(state.newPasswordStrength)
                PasswordField(again, { again = it }, "New password again")
                ErrorText(state.error)
                Button(enabled = !state.busy && password.isNotEmpty(), onClick = {
                    model.setNewPassword(password.toCharArray(), again.toCharArray())
                }) { Text("Set password and unlock") }
            }
        }
    }
}

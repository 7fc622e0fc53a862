package dev.twofold.app.ui

import androidx.compose.foundation.horizontalScroll
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.Button
import androidx.compose.material3.FilterChip
import androidx.compose.material3.HorizontalDivider
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.Switch
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
import androidx.lifecycle.compose.LifecycleStartEffect
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import dev.twofold.app.model.SettingsModel

private val autoLockChoices = listOf(0 to "Immediately", 30 to "30 s", 60 to "1 min", 300 to "5 min", -1 to "Never")

@Composable
fun SettingsScreen(model: SettingsModel, back: () -> Unit) {
    val state by model.state.collectAsStateWithLifecycle()
    // Again on each return: biometrics may have been set up or removed in the phone's settings.
    LifecycleStartEffect(model) {
        model.load()
        onStopOrDispose { }
    }
    Column(Modifier.fillMaxSize().padding(24.dp).verticalScroll(rememberScrollState()), verticalArrangement = Arrangement.spacedBy(12.dp)) {
        Text("Settings", style = MaterialTheme.typography.headlineSmall)
        Text("Lock when Twofold is in the background for")
        Row(Modifier.horizontalScroll(rememberScrollState()), horizontalArrangement = Arrangement.spacedBy(8.dp)) {
            autoLockChoices.forEach { (seconds, label) ->
                FilterChip(state.autoLockSeconds == seconds, { model.setAutoLock(seconds) }, label = { Text(label) })
            }
        }
        Row(Modifier.fillMaxWidth(), verticalAlignment = Alignment.CenterVertically) {
            Text("Hide codes until tapped", Modifier.weight(1f))
            Switch(state.tapToReveal, model::setTapToReveal)
        }
        HorizontalDivider()
        if (state.biometricsAvailable) {
            if (state.biometricsNeedReenroll) {
                Text("Biometrics changed on this phone, so biometric unlock was turned off.", color = MaterialTheme.colorScheme.error)
                Button(onClick = { model.enableBiometrics() }) { Text("Set up biometric unlock again") }
            } else {
                Row(Modifier.fillMaxWidth(), verticalAlignment = Alignment.CenterVertically) {
                    Text("Unlock with biometrics", Modifier.weight(1f))
                    Switch(state.biometricsEnabled, { on -> if (on) model.enableBiometrics() else model.disableBiometrics() })
                }
            }
        }
        HorizontalDivider()
        Text("Change password", style = MaterialTheme.typography.titleMedium)
        var current by remember { mutableStateOf("") }
        var new by remember { mutableStateOf("") }
        var again by remember { mutableStateOf("") }
        PasswordField(current, { current = it }, "Current password")
        PasswordField(new, { new = it; model.newPasswordChanged(it.toCharArray()) }, "New password")
        StrengthMeter(state.newPasswordStrength)
        PasswordField(again, { again = it }, "New password again")
        Button(enabled = !state.busy && current.isNotEmpty() && new.isNotEmpty(), onClick = {
            model.changePassword(current.toCharArray(), new.toCharArray(), again.toCharArray())
            current = ""; new = ""; again = ""
        }) { Text("Change password") }
        HorizontalDivider()
        Text("Recovery key", style = MaterialTheme.typography.titleMedium)
        val key = state.newRecoveryKey
        if (key == null) {
            OutlinedButton(onClick = { model.rotateRecoveryKey() }) { Text("Make a new recovery key") }
        } else {
            Text(key, fontFamily = FontFamily.Monospace, style = MaterialTheme.typography.titleMedium)
            Button(onClick = model::recoveryKeyWrittenDown) { Text("I wrote it down") }
        }
        state.message?.let { Text(it) }
        TextButton(onClick = back) { Text("Back") }
    }
}

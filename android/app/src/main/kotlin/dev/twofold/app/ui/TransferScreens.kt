package dev.twofold.app.ui

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.height
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.Button
import androidx.compose.material3.Checkbox
import androidx.compose.material3.LinearProgressIndicator
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.DisposableEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.setValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.text.font.FontFamily
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import dev.twofold.app.model.ReceiveModel
import dev.twofold.app.model.SendModel

/** New phone: show the invite, scan the old phone's frames, compare codes, accept. */
@Composable
fun ReceiveScreen(model: ReceiveModel, back: () -> Unit) {
    val state by model.state.collectAsStateWithLifecycle()
    DisposableEffect(model) {
        model.begin()
        onDispose { model.cancel() }
    }
    Column(Modifier.fillMaxSize().padding(24.dp).verticalScroll(rememberScrollState()), verticalArrangement = Arrangement.spacedBy(12.dp)) {
        Text("Receive accounts", style = MaterialTheme.typography.headlineSmall)
        val result = state.result
        when {
            result != null -> {
                Text("Added ${result.addedIds.size} account(s)." + if (result.duplicates.isNotEmpty()) " Already here: ${result.duplicates.joinToString()}." else "")
                Button(onClick = back) { Text("Done") }
            }
            state.confirmationCode != null -> {
                state.reply?.let {
                    Text("1. On the old phone, scan this reply code. Only then does it show its code.")
                    QrImage(it, Modifier.fillMaxWidth(0.6f))
                }
                Text("2. Check that the old phone shows the same code:")
                Text(state.confirmationCode!!, style = MaterialTheme.typography.displaySmall, fontFamily = FontFamily.Monospace)
                Text("${state.preview.size} account(s):")
                state.preview.forEach { Text("${it.issuer} · ${it.account}") }
                Button(enabled = !state.busy, onClick = { model.accept() }) { Text(if (state.busy) "Adding…" else "Codes match: add them") }
                OutlinedButton(onClick = { model.cancel(); back() }) { Text("Codes differ: cancel") }
            }
            state.expired -> {
                ErrorText(state.error)
                Button(onClick = { model.begin() }) { Text("Start again") }
            }
            state.invite != null -> {
                val p = state.progress
                if (p == null) {
                    Text("1. On the old phone, open Twofold › Send to another phone and scan this code.")
                    QrImage(state.invite!!, Modifier.fillMaxWidth())
                    Text("2. Then point this camera at the codes the old phone shows.")
                    if (state.lanOffered) {
                        OutlinedButton(enabled = !state.busy, onClick = { model.receiveLan() }) {
                            Text(if (state.busy) "Waiting for the old phone on Wi-Fi…" else "Receive over Wi-Fi instead")
                        }
                    }
                } else {
                    Text("Receiving… ${p.received} of about ${p.needed} pieces")
                    LinearProgressIndicator(
                        progress = { (p.received.toFloat() / p.needed.toFloat().coerceAtLeast(1f)).coerceAtMost(1f) },
                        modifier = Modifier.fillMaxWidth(),
                    )
                }
                // One camera for the whole receive, so it is not rebound when progress starts.
                QrCamera(onText = { model.frame(it) }, modifier = Modifier.fillMaxWidth().height(280.dp))
            }
        }
        if (!state.expired) ErrorText(state.error)
        TextButton(onClick = { model.cancel(); back() }) { Text("Cancel") }
    }
}

/** Old phone: confirm it is you, scan the invite, choose accounts, show the frames. */
@Composable
fun SendScreen(model: SendModel, back: () -> Unit) {
    val state by model.state.collectAsStateWithLifecycle()
    DisposableEffect(model) {
        model.load()
        onDispose { model.finish() }
    }
    Column(Modifier.fillMaxSize().padding(24.dp).verticalScroll(rememberScrollState()), verticalArrangement = Arrangement.spacedBy(12.dp)) {
        Text("Send to another phone", style = MaterialTheme.typography.headlineSmall)
        when {
            !state.authenticated -> {
                var password by remember { mutableStateOf("") }
                Text("Your accounts will leave this phone (encrypted for the other phone only). Confirm it is you.")
                PasswordField(password, { password = it }, "Vault password")
                Button(enabled = password.isNotEmpty() && !state.busy, onClick = { model.authenticateWithPassword(password.toCharArray()); password = "" }) { Text("Confirm") }
                if (state.biometricAvailable) OutlinedButton(onClick = { model.authenticateWithBiometrics() }) { Text("Use biometrics") }
            }
            state.invite == null -> {
                Text("On the new phone, open Twofold › Receive from another phone, and scan the code it shows.")
                QrCamera(onText = model::scanned, modifier = Modifier.fillMaxWidth().height(320.dp))
            }
            state.sent -> {
                Text("The new phone accepted the accounts.")
                Button(onClick = { model.finish(); back() }) { Text("Done") }
            }
            state.lanWaitingForMatch -> {
                Text("Does the new phone show this code?")
                Text(state.confirmationCode!!, style = MaterialTheme.typography.displaySmall, fontFamily = FontFamily.Monospace)
                Button(enabled = !state.busy, onClick = { model.codesMatch() }) { Text("Codes match: send") }
                OutlinedButton(onClick = { model.codesDiffer() }) { Text("Codes differ: cancel") }
            }
            state.awaitingReply -> {
                state.frame?.let { QrImage(it, Modifier.fillMaxWidth()) }
                Text("Hold this screen in front of the new phone's camera. When it shows a reply code, scan it here:")
                QrCamera(onText = model::scanned, modifier = Modifier.fillMaxWidth().height(200.dp))
                state.lanDestination?.let { dest ->
                    Text("Or send over Wi-Fi to $dest (the address in the new phone's code).")
                    OutlinedButton(enabled = !state.busy, onClick = { model.sendOverLan() }) { Text("Send to $dest") }
                }
            }
            state.confirmationCode == null -> {
                Text("Choose the accounts to send (${state.selected.size} of ${state.accounts.size}):")
                state.accounts.forEach { e ->
                    Row(verticalAlignment = Alignment.CenterVertically) {
                        Checkbox(e.id in state.selected, { model.toggle(e.id) })
                        Text("${e.issuer} · ${e.account}")
                    }
                }
                Button(enabled = !state.busy && state.selected.isNotEmpty(), onClick = { model.send() }) { Text("Send") }
            }
            else -> {
                Text("The new phone must show this code:")
                Text(state.confirmationCode!!, style = MaterialTheme.typography.displaySmall, fontFamily = FontFamily.Monospace)
                Text("If it shows another code, cancel on both phones: someone else may be in between.")
                Button(onClick = { model.finish(); back() }) { Text("Done") }
            }
        }
        ErrorText(state.error)
        TextButton(onClick = { model.finish(); back() }) { Text("Cancel") }
    }
}

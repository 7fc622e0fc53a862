package dev.twofold.app.ui

import androidx.activity.result.contract.ActivityResultContracts
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.selection.selectable
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.Button
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.RadioButton
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.DisposableEffect
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableIntStateOf
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.runtime.setValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.platform.LocalContext
import androidx.compose.ui.unit.dp
import dev.twofold.core.QrMatrix
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import dev.twofold.app.model.ExportModel
import dev.twofold.app.platform.deleteDocument
import dev.twofold.app.platform.writeDocument
import kotlinx.coroutines.launch

/** Export: confirm it is you, pick a format, save through the system's file picker. */
@Composable
fun ExportScreen(model: ExportModel, back: () -> Unit) {
    val state by model.state.collectAsStateWithLifecycle()
    val context = LocalContext.current
    DisposableEffect(model) {
        model.load()
        onDispose { model.close() }
    }
    val formats = remember(model) { model.formats() }
    var format by remember { mutableStateOf(formats.first()) }
    var password by remember { mutableStateOf("") }
    val scope = rememberCoroutineScope()
    var pickError by remember { mutableStateOf<String?>(null) }
    val save = rememberPicker(ActivityResultContracts.CreateDocument(format.mimeType), { pickError = "This phone has no app to save files with." }) { uri ->
        if (uri != null) {
            val export = model.export(format.format, password.toCharArray(), format.fileName) { bytes -> context.writeDocument(uri, bytes) }
            password = ""
            // The picker already made the document: one the export did not fill and check
            // (locked, refused, or not reading back the same) is removed, not left empty.
            scope.launch {
                export.join()
                if (model.state.value.saved == null) context.deleteDocument(uri)
            }
        }
    }
    Column(Modifier.fillMaxSize().padding(24.dp).verticalScroll(rememberScrollState()), verticalArrangement = Arrangement.spacedBy(12.dp)) {
        Text("Export", style = MaterialTheme.typography.headlineSmall)
        if (!state.authenticated) {
            var current by remember { mutableStateOf("") }
            Text("Exports contain your secrets. Confirm it is you.")
            PasswordField(current, { current = it }, "Vault password")
            ErrorText(state.error)
            Button(enabled = current.isNotEmpty() && !state.busy, onClick = { model.authenticateWithPassword(current.toCharArray()); current = "" }) { Text("Confirm") }
            if (state.biometricAvailable) OutlinedButton(onClick = { model.authenticateWithBiometrics() }) { Text("Use biometrics") }
            TextButton(onClick = back) { Text("Back") }
            return@Column
        }
        formats.forEach { f ->
            Row(Modifier.fillMaxWidth().selectable(format == f, onClick = { format = f }), verticalAlignment = Alignment.CenterVertically) {
                RadioButton(format == f, { format = f })
                Text(f.name)
            }
        }
        if (format.needsPassword) {
            PasswordField(password, { password = it }, "Password for the file")
        } else if (format.plaintext && format.isFile) {
            Text("This file is not encrypted: anyone who gets it can make your codes. Delete it after use.", color = MaterialTheme.colorScheme.error)
        }
        ErrorText(state.error)
        if (!format.isFile) {
            Button(onClick = { model.export(format.format) }) { Text("Show QR codes") }
        } else {
            Button(enabled = !state.busy, onClick = { pickError = null; save(format.fileName) }) { Text("Save…") }
        }
        ErrorText(pickError)
        state.saved?.let { Text("Saved $it and checked by reading it back.") }
        if (state.skipped.isNotEmpty()) {
            Text("Not included (this format cannot hold them):", style = MaterialTheme.typography.titleSmall)
            state.skipped.forEach { Text("${it.label}: ${it.reason}") }
        }
        if (state.googleCodes.isNotEmpty()) GoogleCodes(state.googleCodes)
        TextButton(onClick = back) { Text("Done") }
    }
}

@Composable
private fun GoogleCodes(codes: List<QrMatrix>) {
    var index by remember(codes) { mutableIntStateOf(0) }
    LaunchedEffect(codes) { index = 0 }
    Text("Scan with Google Authenticator: code ${index + 1} of ${codes.size}")
    QrImage(codes[index], Modifier.fillMaxWidth())
    Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
        OutlinedButton(enabled = index > 0, onClick = { index-- }) { Text("Previous") }
        Button(enabled = index < codes.size - 1, onClick = { index++ }) { Text("Next") }
    }
}

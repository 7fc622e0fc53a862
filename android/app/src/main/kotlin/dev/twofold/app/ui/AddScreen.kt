package dev.twofold.app.ui

import androidx.activity.result.PickVisualMediaRequest
import androidx.activity.result.contract.ActivityResultContracts
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
import androidx.compose.material3.DropdownMenuItem
import androidx.compose.material3.ExperimentalMaterial3Api
import androidx.compose.material3.ExposedDropdownMenuBox
import androidx.compose.material3.ExposedDropdownMenuDefaults
import androidx.compose.material3.ListItem
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.MenuAnchorType
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.ScrollableTabRow
import androidx.compose.material3.Tab
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableIntStateOf
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.platform.LocalContext
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import dev.twofold.app.model.EnrollModel
import dev.twofold.app.model.IMPORT_MIME_TYPES
import dev.twofold.app.platform.readDocument
import dev.twofold.core.HashAlgorithm
import dev.twofold.core.OtpType
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking

private val tabs = listOf("Scan", "Picture", "Link", "Manual", "File")

@Composable
fun AddScreen(model: EnrollModel, done: () -> Unit) {
    val state by model.state.collectAsStateWithLifecycle()
    var tab by remember { mutableIntStateOf(0) }
    Column(Modifier.fillMaxSize()) {
        ScrollableTabRow(selectedTabIndex = tab) {
            tabs.forEachIndexed { i, title -> Tab(selected = tab == i, onClick = { tab = i }, text = { Text(title) }) }
        }
        Column(Modifier.fillMaxSize().padding(16.dp).verticalScroll(rememberScrollState()), verticalArrangement = Arrangement.spacedBy(8.dp)) {
            state.result?.let { r ->
                Text("Added ${r.addedIds.size} account(s)." + if (r.duplicates.isNotEmpty()) " Already in the vault: ${r.duplicates.joinToString()}." else "")
                Button(onClick = { model.cancel(); done() }) { Text("Done") }
            }
            when (tab) {
                0 -> if (state.pending.isEmpty() || state.progress != null) {
                    // Frames go to the core as pixels; the account's secret never becomes a String.
                    QrFrameCamera(
                        onFrame = { w, h, stride, luma -> runBlocking { model.cameraFrame(w, h, stride, luma).join() } },
                        modifier = Modifier.fillMaxWidth().height(320.dp),
                    )
                    state.progress?.let { Text(it.description, style = MaterialTheme.typography.titleMedium) }
                }
                1 -> PictureTab(model)
                2 -> LinkTab(model)
                3 -> ManualTab(model, state.manual)
                4 -> FileTab(model, state)
            }
            ErrorText(state.error)
            state.problems.forEach { Text(it, color = MaterialTheme.colorScheme.error, style = MaterialTheme.typography.bodySmall) }
            if (state.pending.isNotEmpty()) Pending(model, state)
            TextButton(onClick = { model.cancel(); done() }) { Text("Cancel") }
        }
    }
}

@Composable
private fun Pending(model: EnrollModel, state: EnrollModel.State) {
    Text(
        state.importFormat?.let { "From $it: ${state.pending.size} account(s)" } ?: "Found ${state.pending.size} account(s)",
        style = MaterialTheme.typography.titleMedium,
    )
    state.pending.forEachIndexed { i, p ->
        ListItem(
            headlineContent = { Text(p.issuer.ifBlank { p.account }) },
            supportingContent = {
                Text(p.account + " · ${p.params.otpType.name} · ${p.params.digits} digits" + if (p.weakSecret) " · weak secret" else "")
            },
            trailingContent = { TextButton(onClick = { model.removePending(i) }) { Text("Remove") } },
        )
    }
    Button(enabled = !state.busy, onClick = { model.confirm() }) { Text("Add ${state.pending.size} account(s)") }
}

@Composable
private fun PictureTab(model: EnrollModel) {
    val context = LocalContext.current
    val scope = rememberCoroutineScope()
    val pick = rememberPicker(ActivityResultContracts.PickVisualMedia(), { model.unreadable("This phone has no app to pick pictures with.") }) { uri ->
        if (uri != null) scope.launch { read(context, uri, model)?.let { model.picture(it) } }
    }
    Text("Pick a screenshot or photo of a QR code. The picture is read on this phone and not kept.")
    Button(onClick = { pick(PickVisualMediaRequest(ActivityResultContracts.PickVisualMedia.ImageOnly)) }) { Text("Choose picture") }
}

@Composable
private fun LinkTab(model: EnrollModel) {
    var uri by remember { mutableStateOf("") }
    Text("Paste an otpauth:// link.")
    SecretTextField(uri, { uri = it }, "otpauth://…", singleLine = false)
    Button(enabled = uri.isNotBlank(), onClick = { model.addUri(uri.trim().toCharArray()); uri = "" }) { Text("Read link") }
}

@OptIn(ExperimentalMaterial3Api::class)
@Composable
private fun <T> Choice(label: String, value: T, options: List<T>, onPick: (T) -> Unit) {
    var open by remember { mutableStateOf(false) }
    ExposedDropdownMenuBox(open, { open = it }) {
        OutlinedTextField(
            value.toString(), {}, readOnly = true, label = { Text(label) },
            trailingIcon = { ExposedDropdownMenuDefaults.TrailingIcon(open) },
            modifier = Modifier.menuAnchor(MenuAnchorType.PrimaryNotEditable).fillMaxWidth(),
        )
        ExposedDropdownMenu(open, { open = false }) {
            options.forEach { o -> DropdownMenuItem(text = { Text(o.toString()) }, onClick = { onPick(o); open = false }) }
        }
    }
}

@Composable
private fun ManualTab(model: EnrollModel, m: EnrollModel.Manual) {
    OutlinedTextField(m.issuer, { v -> model.editManual { it.copy(issuer = v) } }, label = { Text("Service") }, singleLine = true, modifier = Modifier.fillMaxWidth())
    OutlinedTextField(m.account, { v -> model.editManual { it.copy(account = v) } }, label = { Text("Account") }, singleLine = true, modifier = Modifier.fillMaxWidth())
    SecretTextField(m.secret, { v -> model.editManual { it.copy(secret = v) } }, "Secret key")
    Choice("Type", m.type, OtpType.entries.toList()) { v -> model.editManual { it.copy(type = v) } }
    Choice("Algorithm", m.algorithm, HashAlgorithm.entries.toList()) { v -> model.editManual { it.copy(algorithm = v) } }
    Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
        OutlinedTextField(m.digits, { v -> model.editManual { it.copy(digits = v) } }, label = { Text("Digits") }, singleLine = true, modifier = Modifier.weight(1f))
        if (m.type == OtpType.HOTP) {
            OutlinedTextField(m.counter, { v -> model.editManual { it.copy(counter = v) } }, label = { Text("Counter") }, singleLine = true, modifier = Modifier.weight(1f))
        } else {
            OutlinedTextField(m.period, { v -> model.editManual { it.copy(period = v) } }, label = { Text("Period (s)") }, singleLine = true, modifier = Modifier.weight(1f))
        }
    }
    Button(onClick = { model.addManual() }) { Text("Add account") }
}

@Composable
private fun FileTab(model: EnrollModel, state: EnrollModel.State) {
    val context = LocalContext.current
    val scope = rememberCoroutineScope()
    val open = rememberPicker(ActivityResultContracts.OpenDocument(), { model.unreadable("This phone has no app to pick files with.") }) { uri ->
        if (uri != null) scope.launch { read(context, uri, model)?.let { model.importFile(it) } }
    }
    Text("Import an export from Aegis, 2FAS, Ente Auth, andOTP, Bitwarden, FreeOTP, Proton Authenticator, Google Authenticator, a list of otpauth:// links, or a CXF file. Entries that cannot be read are listed; the rest import.")
    Button(onClick = { open(IMPORT_MIME_TYPES) }) { Text("Choose file") }
    if (state.filePasswordNeeded) {
        var password by remember { mutableStateOf("") }
        Text("This file is encrypted. Enter the password it was exported with.")
        PasswordField(password, { password = it }, "File password")
        Button(enabled = password.isNotEmpty(), onClick = { model.filePassword(password.toCharArray()); password = "" }) { Text("Open") }
    }
}

private suspend fun read(context: android.content.Context, uri: android.net.Uri, model: EnrollModel): ByteArray? =
    try {
        context.readDocument(uri)
    } catch (e: java.io.IOException) {
        model.unreadable("The file could not be read: ${e.message}")
        null
    } catch (e: SecurityException) {
        model.unreadable("Twofold may not read this file")
        null
    }

package dev.twofold.app.ui

import android.text.format.DateUtils
import androidx.activity.result.contract.ActivityResultContracts
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.Button
import androidx.compose.material3.HorizontalDivider
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.platform.LocalContext
import androidx.compose.ui.unit.dp
import androidx.documentfile.provider.DocumentFile
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import dev.twofold.app.AppViewModel
import dev.twofold.app.platform.readDocument
import kotlinx.coroutines.launch

/** Automatic backups (folder, status, back up now) and checking any backup file. */
@Composable
fun BackupScreen(session: AppViewModel.Unlocked, back: () -> Unit) {
    val model = session.backup
    val state by model.state.collectAsStateWithLifecycle()
    val context = LocalContext.current
    val scope = rememberCoroutineScope()
    var pickError by remember { mutableStateOf<String?>(null) }
    val noPicker = { pickError = "This phone has no app to pick files and folders with." }
    val pickFolder = rememberPicker(ActivityResultContracts.OpenDocumentTree(), noPicker) { uri ->
        if (uri != null) {
            val name = DocumentFile.fromTreeUri(context, uri)?.name ?: "the chosen folder"
            pickError = session.chooseBackupFolder(uri, name)
        }
    }
    val pickBackup = rememberPicker(ActivityResultContracts.OpenDocument(), noPicker) { uri ->
        if (uri != null) {
            scope.launch {
                runCatching { context.readDocument(uri) }
                    .onSuccess { pickError = null; model.pickBackupToVerify(it) }
                    .onFailure { pickError = "The file could not be read: ${it.message}" }
            }
        }
    }
    Column(Modifier.fillMaxSize().padding(24.dp).verticalScroll(rememberScrollState()), verticalArrangement = Arrangement.spacedBy(12.dp)) {
        Text("Backups", style = MaterialTheme.typography.headlineSmall)
        Text("After every change Twofold writes an encrypted backup into a folder you choose (on this phone, an SD card or a cloud drive), reads it back and checks it opens. Your recovery key opens these backups. The newest 10 are kept.")
        if (state.folderName == null) {
            Button(onClick = { pickFolder(null) }) { Text("Choose backup folder") }
        } else {
            Text("Folder: ${state.folderName}")
            state.last?.let {
                Text("Last verified backup: ${it.name}, ${DateUtils.getRelativeTimeSpanString(it.atMs)}, ${it.entryCount} accounts")
            }
            ErrorText(state.lastError?.let { "The last backup failed: $it" })
            Button(enabled = !state.busy, onClick = { model.backupNow() }) { Text(if (state.busy) "Backing up…" else "Back up now") }
            OutlinedButton(onClick = { pickFolder(null) }) { Text("Change folder") }
            TextButton(onClick = session::stopAutomaticBackups) { Text("Stop automatic backups") }
        }
        ErrorText(pickError)
        HorizontalDivider()
        Text("Check a backup", style = MaterialTheme.typography.titleMedium)
        Text("Open any Twofold backup to see that it decrypts and how it differs from this vault.")
        OutlinedButton(onClick = { pickBackup(arrayOf("*/*")) }) { Text("Choose backup file") }
        if (state.checkFile != null) {
            var secret by remember { mutableStateOf("") }
            PasswordField(secret, { secret = it }, "Backup password or recovery key")
            Button(enabled = secret.isNotBlank() && !state.busy, onClick = { model.verifyWithPassword(secret.toCharArray()) }) {
                Text("Check with this password")
            }
            OutlinedButton(enabled = secret.isNotBlank() && !state.busy, onClick = { model.verifyWithRecoveryKey(secret) }) {
                Text("Check with this recovery key")
            }
        }
        ErrorText(state.checkError)
        state.check?.let { c ->
            Text("This backup opens: ${c.entryCount} accounts, made ${DateUtils.getRelativeTimeSpanString(c.createdAt)}.")
            val d = c.difference
            if (d == null || (d.missing.isEmpty() && d.changed.isEmpty() && d.extra.isEmpty())) {
                Text("It holds exactly what this vault holds.")
            } else {
                if (d.missing.isNotEmpty()) Text("Not in the backup: ${d.missing.joinToString { it.issuer.ifBlank { it.account } }}")
                if (d.changed.isNotEmpty()) Text("Changed since: ${d.changed.joinToString { it.issuer.ifBlank { it.account } }}")
                if (d.extra.isNotEmpty()) Text("Only in the backup: ${d.extra.joinToString { it.issuer.ifBlank { it.account } }}")
            }
        }
        TextButton(onClick = back) { Text("Back") }
    }
}

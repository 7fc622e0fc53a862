package dev.twofold.app.ui

import android.os.Build
import androidx.activity.compose.rememberLauncherForActivityResult
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
import androidx.compose.material3.AlertDialog
import androidx.compose.material3.Button
import androidx.compose.material3.LinearProgressIndicator
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableLongStateOf
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.platform.LocalContext
import androidx.compose.ui.text.font.FontFamily
import androidx.compose.ui.unit.dp
import androidx.documentfile.provider.DocumentFile
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import dev.twofold.app.AppViewModel
import dev.twofold.core.SyncKeep
import kotlinx.coroutines.delay

/**
 * Keep several devices in step: a folder the user's cloud or sync app replicates, devices,
 * conflicts, adding a device (both sides) and removing one. The model does the work.
 */
@Composable
fun SyncScreen(session: AppViewModel.Unlocked, back: () -> Unit) {
    val model = session.sync
    val state by model.state.collectAsStateWithLifecycle()
    val context = LocalContext.current
    var deviceName by remember { mutableStateOf(Build.MODEL ?: "phone") }
    var addingDevice by remember { mutableStateOf(false) }
    var removing by remember { mutableStateOf<String?>(null) }
    val folderName = { uri: android.net.Uri -> DocumentFile.fromTreeUri(context, uri)?.name ?: "the chosen folder" }
    val pickNewGroupFolder = rememberLauncherForActivityResult(ActivityResultContracts.OpenDocumentTree()) { uri ->
        if (uri != null) session.setUpSync(uri, folderName(uri), deviceName)
    }
    val pickJoinFolder = rememberLauncherForActivityResult(ActivityResultContracts.OpenDocumentTree()) { uri ->
        if (uri != null) session.acceptSyncJoin(uri, folderName(uri))
    }
    Column(Modifier.fillMaxSize().padding(24.dp).verticalScroll(rememberScrollState()), verticalArrangement = Arrangement.spacedBy(12.dp)) {
        Text("Sync with your devices", style = MaterialTheme.typography.headlineSmall)
        if (state.busy) LinearProgressIndicator(Modifier.fillMaxWidth())
        val join = state.join
        val invite = state.invite
        when {
            join != null -> {
                if (join.reply == null) {
                    Text("1. On a device already syncing, open Twofold › Sync › Add a device and scan this code.")
                    QrImage(join.inviteText, Modifier.fillMaxWidth())
                    Text("2. Then point this camera at the codes it shows.")
                    join.progress?.let { Text("Receiving… ${it.received} of about ${it.needed} pieces") }
                    QrCamera(onText = { model.joinFrame(it) }, modifier = Modifier.fillMaxWidth().height(260.dp))
                } else {
                    Text("3. On the other device, scan this reply. Only then does it show its code.")
                    QrImage(join.reply, Modifier.fillMaxWidth(0.6f))
                    Text("4. Check that it shows the same code:")
                    Text(join.code ?: "", style = MaterialTheme.typography.displaySmall, fontFamily = FontFamily.Monospace)
                    join.preview?.let { Text("Group of ${it.inviter}: ${it.devices.joinToString()}. Files in ${it.storage}.") }
                    Text("Then choose, on this phone, the same folder (as your cloud or sync app shows it).")
                    Button(onClick = { pickJoinFolder.launch(null) }) { Text("Codes match: choose the folder") }
                    OutlinedButton(onClick = { model.cancelJoin() }) { Text("Codes differ: cancel") }
                }
            }
            invite != null -> {
                var n by remember { mutableLongStateOf(0L) }
                var frame by remember { mutableStateOf<String?>(null) }
                LaunchedEffect(invite.deviceName) {
                    while (true) {
                        frame = model.inviteFrame(n++)
                        delay(166)
                    }
                }
                if (invite.code == null) {
                    Text("Adding '${invite.deviceName}'. Hold this screen in front of its camera; when it shows a reply code, scan it here:")
                    frame?.let { QrImage(it, Modifier.fillMaxWidth()) }
                    QrCamera(onText = { model.inviteReply(it) }, modifier = Modifier.fillMaxWidth().height(200.dp))
                } else {
                    Text("Does '${invite.deviceName}' show this code?")
                    Text(invite.code, style = MaterialTheme.typography.displaySmall, fontFamily = FontFamily.Monospace)
                    Button(onClick = { model.finishInvite(codesMatched = true); addingDevice = false }) { Text("Codes match") }
                    OutlinedButton(onClick = { model.finishInvite(codesMatched = false); addingDevice = false }) {
                        Text("Codes differ: don't add it")
                    }
                }
            }
            addingDevice -> {
                Text("On the new device, open Twofold › Sync › Join, and scan the code it shows.")
                QrCamera(onText = { model.startInvite(it) }, modifier = Modifier.fillMaxWidth().height(300.dp))
                TextButton(onClick = { addingDevice = false }) { Text("Cancel") }
            }
            !state.setUp -> {
                Text(
                    "Your accounts stay end-to-end encrypted: each device writes its own signed, encrypted file into a " +
                        "folder that your cloud or sync app (Nextcloud, Syncthing, a Drive provider) copies between devices. " +
                        "No account, no server of ours; whoever holds the folder can read nothing and forge nothing.",
                )
                OutlinedTextField(deviceName, { deviceName = it }, label = { Text("This device's name") })
                Button(enabled = deviceName.isNotBlank(), onClick = { pickNewGroupFolder.launch(null) }) { Text("Start syncing in a folder") }
                OutlinedButton(enabled = deviceName.isNotBlank(), onClick = { model.startJoin(deviceName.trim()) }) {
                    Text("Join a device that already syncs")
                }
            }
            else -> {
                val status = state.status
                Text("Folder: ${state.folderName ?: status?.storage ?: ""}")
                status?.let { s ->
                    Text("This device: ${s.deviceName}")
                    if (s.awaitingAdmission) Text("Waiting for the other device to confirm the codes and sync")
                    s.devices.filter { !it.thisDevice }.forEach { d ->
                        Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
                            val seen = d.lastUpdate?.let { android.text.format.DateUtils.getRelativeTimeSpanString(it).toString() } ?: "nothing yet"
                            val what = when {
                                d.revoked -> "removed"
                                d.quarantined -> "ignored: it forked (a copied phone?)"
                                else -> "last update $seen"
                            }
                            Text("${d.name} — $what", Modifier.padding(top = 12.dp))
                            if (d.active) TextButton(onClick = { removing = d.name }) { Text("Remove") }
                        }
                    }
                    s.warnings.forEach { Text(it.message, color = MaterialTheme.colorScheme.error) }
                }
                state.conflicts.forEach { c ->
                    Text("${c.label}: ${c.field} changed on ${c.shownBy} and ${c.otherBy} at once", style = MaterialTheme.typography.titleSmall)
                    Text("Shown: ${c.shown}\nKept for review: ${c.other}")
                    Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
                        TextButton(onClick = { model.resolve(c.entryId, SyncKeep.MINE) }) { Text("Keep mine") }
                        TextButton(onClick = { model.resolve(c.entryId, SyncKeep.THEIRS) }) { Text("Keep theirs") }
                        TextButton(onClick = { model.resolve(c.entryId, SyncKeep.BOTH) }) { Text("Keep both") }
                    }
                }
                state.last?.let { r ->
                    val n = r.changes.size
                    Text(if (n == 0) "Up to date." else "Last sync brought $n change(s).")
                }
                Button(enabled = !state.busy, onClick = { model.syncNow() }) { Text("Sync now") }
                OutlinedButton(onClick = { addingDevice = true }) { Text("Add a device") }
                TextButton(onClick = { model.leave() }) { Text("Stop syncing this phone") }
            }
        }
        ErrorText(state.error)
        TextButton(onClick = back) { Text("Back") }
    }
    removing?.let { name ->
        AlertDialog(
            onDismissRequest = { removing = null },
            title = { Text("Remove $name?") },
            text = { Text("It will not be able to read anything written from now on, and what it writes is refused. It keeps what it already has.") },
            confirmButton = { Button(onClick = { model.revoke(name); removing = null }) { Text("Remove") } },
            dismissButton = { TextButton(onClick = { removing = null }) { Text("Cancel") } },
        )
    }
}

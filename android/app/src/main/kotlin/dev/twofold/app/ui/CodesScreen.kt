package dev.twofold.app.ui

import android.text.format.DateUtils
import androidx.compose.foundation.gestures.detectTapGestures
import androidx.compose.foundation.horizontalScroll
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Box
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.layout.size
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.foundation.rememberScrollState
import androidx.compose.material.icons.Icons
import androidx.compose.material.icons.filled.Add
import androidx.compose.material.icons.filled.Lock
import androidx.compose.material.icons.filled.MoreVert
import androidx.compose.material.icons.filled.Star
import androidx.compose.material.icons.outlined.StarOutline
import androidx.compose.material3.AlertDialog
import androidx.compose.material3.CircularProgressIndicator
import androidx.compose.material3.DropdownMenu
import androidx.compose.material3.DropdownMenuItem
import androidx.compose.material3.ExperimentalMaterial3Api
import androidx.compose.material3.FilterChip
import androidx.compose.material3.FloatingActionButton
import androidx.compose.material3.Icon
import androidx.compose.material3.IconButton
import androidx.compose.material3.ListItem
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Scaffold
import androidx.compose.material3.SnackbarHost
import androidx.compose.material3.SnackbarHostState
import androidx.compose.material3.SnackbarResult
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.material3.TopAppBar
import androidx.compose.runtime.Composable
import androidx.compose.runtime.DisposableEffect
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.setValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.input.pointer.pointerInput
import androidx.compose.ui.text.font.FontFamily
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import dev.twofold.app.model.BackupModel
import dev.twofold.app.model.CodesModel

@OptIn(ExperimentalMaterial3Api::class)
@Composable
fun CodesScreen(model: CodesModel, backup: BackupModel, open: (Screen) -> Unit, lock: () -> Unit) {
    val state by model.state.collectAsStateWithLifecycle()
    val backupState by backup.state.collectAsStateWithLifecycle()
    val snackbar = remember { SnackbarHostState() }
    var menu by remember { mutableStateOf(false) }
    var editing by remember { mutableStateOf<CodesModel.Row?>(null) }

    // Codes tick only while this screen is visible.
    DisposableEffect(model) {
        model.start()
        onDispose { model.stop() }
    }
    LaunchedEffect(state.message, state.undoDeleteId) {
        val message = state.message ?: return@LaunchedEffect
        val undo = state.undoDeleteId != null
        val result = snackbar.showSnackbar(message, actionLabel = if (undo) "Undo" else null)
        if (result == SnackbarResult.ActionPerformed) model.undoDelete() else model.dismissMessage()
    }

    Scaffold(
        topBar = {
            TopAppBar(
                title = { Text("Twofold") },
                actions = {
                    IconButton(onClick = lock) { Icon(Icons.Filled.Lock, "Lock now") }
                    IconButton(onClick = { menu = true }) { Icon(Icons.Filled.MoreVert, "More") }
                    DropdownMenu(menu, { menu = false }) {
                        listOf(
                            "Backups" to Screen.BACKUP,
                            "Sync with your devices" to Screen.SYNC,
                            "Export" to Screen.EXPORT,
                            "Receive from another phone" to Screen.RECEIVE,
                            "Send to another phone" to Screen.SEND,
                            "Settings" to Screen.SETTINGS,
                        ).forEach { (label, screen) ->
                            DropdownMenuItem(text = { Text(label) }, onClick = { menu = false; open(screen) })
                        }
                    }
                },
            )
        },
        floatingActionButton = {
            FloatingActionButton(onClick = { open(Screen.ADD) }) { Icon(Icons.Filled.Add, "Add account") }
        },
        snackbarHost = { SnackbarHost(snackbar) },
    ) { padding ->
        Column(Modifier.padding(padding).fillMaxSize()) {
            state.clockOffsetWarning?.let { offset ->
                Text(
                    "This phone's clock is ${kotlin.math.abs(offset)} s ${if (offset > 0) "behind" else "ahead"}. Codes are corrected, but fix the time in Settings.",
                    color = MaterialTheme.colorScheme.error,
                    modifier = Modifier.padding(horizontal = 16.dp, vertical = 4.dp),
                )
            }
            BackupStatusLine(backupState, onClick = { open(Screen.BACKUP) })
            OutlinedTextField(
                value = state.query,
                onValueChange = { model.search(it) },
                placeholder = { Text("Search") },
                singleLine = true,
                modifier = Modifier.fillMaxWidth().padding(horizontal = 16.dp),
            )
            if (state.groups.isNotEmpty()) {
                Row(Modifier.horizontalScroll(rememberScrollState()).padding(horizontal = 12.dp), horizontalArrangement = Arrangement.spacedBy(8.dp)) {
                    FilterChip(state.selectedGroup == null, { model.selectGroup(null) }, label = { Text("All") })
                    state.groups.forEach { g ->
                        FilterChip(state.selectedGroup == g.id, { model.selectGroup(g.id) }, label = { Text(g.name) })
                    }
                }
            }
            if (state.loaded && state.rows.isEmpty()) {
                Text(
                    if (state.query.isBlank()) "No accounts yet. Tap + to scan a QR code or import from another app." else "Nothing matches.",
                    modifier = Modifier.padding(24.dp),
                )
            }
            LazyColumn(Modifier.fillMaxSize()) {
                items(state.rows, key = { it.id }) { row ->
                    CodeRow(row, model, onEdit = { editing = row })
                }
            }
        }
    }
    editing?.let { row -> EditDialog(row, state.groups, model, dismiss = { editing = null }) }
}

@Composable
private fun BackupStatusLine(state: BackupModel.State, onClick: () -> Unit) {
    val last = state.last
    val text = when {
        state.lastError != null -> "Last backup failed: ${state.lastError}"
        state.folderName == null -> "No automatic backups. Set up a backup folder."
        last != null -> "Backed up to ${state.folderName} ${DateUtils.getRelativeTimeSpanString(last.atMs)} · verified, ${last.entryCount} accounts"
        else -> "Backing up to ${state.folderName}…"
    }
    TextButton(onClick = onClick, modifier = Modifier.padding(horizontal = 8.dp)) {
        Text(text, color = if (state.lastError != null || state.folderName == null) MaterialTheme.colorScheme.error else MaterialTheme.colorScheme.onSurfaceVariant)
    }
}

@Composable
private fun CodeRow(row: CodesModel.Row, model: CodesModel, onEdit: () -> Unit) {
    ListItem(
        modifier = Modifier.pointerInput(row.id, row.hidden) {
            detectTapGestures(
                onTap = { if (row.hidden) model.reveal(row.id) else model.copy(row.id) },
                onLongPress = { model.showNext(row.id) },
                onPress = {
                    tryAwaitRelease()
                    model.showNext(null)
                },
                onDoubleTap = { onEdit() },
            )
        },
        overlineContent = { Text(row.issuer.ifBlank { row.account }) },
        headlineContent = {
            val code = when {
                row.hidden -> "••• •••"
                row.showingNext && row.nextCode != null -> row.nextCode
                else -> row.code ?: if (row.hotp) "Tap ↻ for a code" else "…"
            }
            Text(code, style = MaterialTheme.typography.headlineMedium, fontFamily = FontFamily.Monospace)
        },
        supportingContent = {
            val extra = when {
                row.showingNext -> " · next code"
                row.weakSecret -> " · weak secret"
                else -> ""
            }
            Text(row.account + extra)
        },
        leadingContent = {
            IconButton(onClick = { model.toggleFavorite(row.id) }) {
                Icon(if (row.favorite) Icons.Filled.Star else Icons.Outlined.StarOutline, if (row.favorite) "Unfavorite" else "Favorite")
            }
        },
        trailingContent = {
            if (row.hotp) {
                TextButton(onClick = { model.nextHotp(row.id) }) { Text("↻ Next") }
            } else {
                Box(contentAlignment = Alignment.Center) {
                    CircularProgressIndicator(progress = { row.remainingFraction }, modifier = Modifier.size(36.dp))
                    Text("${(row.remainingMs + 999) / 1000}", style = MaterialTheme.typography.labelSmall)
                }
            }
        },
    )
}

@Composable
private fun EditDialog(row: CodesModel.Row, groups: List<dev.twofold.core.GroupView>, model: CodesModel, dismiss: () -> Unit) {
    var issuer by remember { mutableStateOf(row.issuer) }
    var account by remember { mutableStateOf(row.account) }
    var chosen by remember { mutableStateOf(row.groupIds.toSet()) }
    var newGroup by remember { mutableStateOf("") }
    AlertDialog(
        onDismissRequest = dismiss,
        title = { Text("Edit account") },
        text = {
            Column(verticalArrangement = Arrangement.spacedBy(8.dp)) {
                OutlinedTextField(issuer, { issuer = it }, label = { Text("Service") }, singleLine = true)
                OutlinedTextField(account, { account = it }, label = { Text("Account") }, singleLine = true)
                Text("Groups")
                Row(Modifier.horizontalScroll(rememberScrollState()), horizontalArrangement = Arrangement.spacedBy(8.dp)) {
                    groups.forEach { g ->
                        FilterChip(g.id in chosen, { chosen = if (g.id in chosen) chosen - g.id else chosen + g.id }, label = { Text(g.name) })
                    }
                }
                Row(verticalAlignment = Alignment.CenterVertically) {
                    OutlinedTextField(newGroup, { newGroup = it }, label = { Text("New group") }, singleLine = true, modifier = Modifier.weight(1f))
                    TextButton(enabled = newGroup.isNotBlank(), onClick = { model.addGroup(newGroup.trim()); newGroup = "" }) { Text("Add") }
                }
                TextButton(onClick = { model.delete(row.id); dismiss() }) { Text("Move to trash", color = MaterialTheme.colorScheme.error) }
            }
        },
        confirmButton = {
            TextButton(onClick = {
                if (issuer != row.issuer || account != row.account) model.rename(row.id, issuer, account)
                if (chosen != row.groupIds.toSet()) model.setGroups(row.id, chosen.toList())
                dismiss()
            }) { Text("Save") }
        },
        dismissButton = { TextButton(onClick = dismiss) { Text("Cancel") } },
    )
}

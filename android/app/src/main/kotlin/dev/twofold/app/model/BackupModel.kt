package dev.twofold.app.model

import dev.twofold.userMessage
import dev.twofold.FolderBackups
import dev.twofold.TwofoldVault
import dev.twofold.core.TwofoldException
import dev.twofold.core.BackupCheck
import dev.twofold.core.BackupFolder
import dev.twofold.toWipedUtf8
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.launch

/**
 * Automatic backups into a folder the user picked, and checking a backup file. The flow is
 * the core's ([FolderBackups]): sealed to the vault's recovery key (no password is needed to
 * make one and the recovery key restores it), written, read back and confirmed, and only then
 * the oldest automatic backups beyond [keep] deleted; requests while one runs are merged into
 * one more run. This model keeps the folder choice and the status shown.
 */
class BackupModel(
    private val vault: TwofoldVault,
    private val settings: SettingsStore,
    private val scope: CoroutineScope,
    private val folderFor: (String) -> BackupFolder,
    private val clock: () -> Long = System::currentTimeMillis,
    private val keep: Int = 10,
) {
    data class State(
        val folderName: String? = null,
        val last: BackupStatus? = null,
        val lastError: String? = null,
        val busy: Boolean = false,
        /** Result of checking a backup file on the verify screen. */
        val check: BackupCheck? = null,
        val checkError: String? = null,
        /** The file to check needs a password or the recovery key. */
        val checkFile: ByteArray? = null,
    )

    private val _state = MutableStateFlow(load())
    val state: StateFlow<State> = _state.asStateFlow()
    /** The core's backups into the chosen folder (one per folder, so requests merge). */
    private var backups: Pair<String, FolderBackups>? = null

    private fun backupsFor(uri: String): FolderBackups =
        backups?.takeIf { it.first == uri }?.second
            ?: FolderBackups(folderFor(uri), keep).also { backups = uri to it }

    private fun load() = State(
        folderName = settings.backupFolderName,
        last = settings.lastBackup,
        lastError = settings.lastBackupError,
    )

    /** The user picked a folder (its SAF tree URI and display name); backs up at once. */
    fun chooseFolder(uri: String, name: String): Job {
        settings.backupFolder = uri
        settings.backupFolderName = name
        _state.value = load()
        return backupNow()
    }

    fun stopAutomaticBackups() {
        settings.backupFolder = null
        settings.backupFolderName = null
        _state.value = load()
    }

    /** After every change to the vault, and from the backup screen. No folder: nothing to do. */
    fun backupNow(): Job = scope.launch {
        val uri = settings.backupFolder ?: return@launch
        _state.update { it.copy(busy = true) }
        try {
            // null: a backup was running; it runs once more for this change and reports.
            val result = backupsFor(uri).backupNow(vault, clock()) ?: return@launch
            settings.lastBackup = BackupStatus(clock(), result.name, result.entryCount.toLong())
            settings.lastBackupError = null
            _state.value = load()
        } catch (e: TwofoldException) {
            // Also when the folder could not be opened at all (the grant is gone).
            settings.lastBackupError = e.userMessage
            _state.value = load()
        }
    }

    /** A backup file the user picked to check; asks for its password or recovery key. */
    fun pickBackupToVerify(bytes: ByteArray) = _state.update { it.copy(checkFile = bytes, check = null, checkError = null) }

    fun verifyWithPassword(password: CharArray): Job = verify { bytes -> vault.verifyBackupBytes(bytes, password.toWipedUtf8()) }

    fun verifyWithRecoveryKey(recoveryKey: String): Job =
        verify { bytes -> vault.verifyBackupBytesWithRecoveryKey(bytes, recoveryKey) }

    private fun verify(check: suspend (ByteArray) -> BackupCheck): Job = scope.launch {
        val bytes = _state.value.checkFile ?: return@launch
        _state.update { it.copy(busy = true, checkError = null) }
        try {
            val result = check(bytes)
            _state.update { it.copy(busy = false, check = result) }
        } catch (_: TwofoldException.WrongCredential) {
            _state.update { it.copy(busy = false, checkError = "Wrong password or recovery key for this backup") }
        } catch (e: TwofoldException) {
            _state.update { it.copy(busy = false, checkError = e.userMessage) }
        }
    }
}

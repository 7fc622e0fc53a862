package dev.twofold.app.model

import dev.twofold.userMessage
import dev.twofold.DeviceInvite
import dev.twofold.JoiningDevice
import dev.twofold.TwofoldSync
import dev.twofold.TwofoldVault
import dev.twofold.core.TwofoldException
import dev.twofold.core.SyncConflict
import dev.twofold.core.SyncJoinPreview
import dev.twofold.core.SyncKeep
import dev.twofold.core.SyncResult
import dev.twofold.core.SyncStatusView
import dev.twofold.core.SyncStorage
import dev.twofold.core.TransferProgress
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.launch
import kotlinx.coroutines.sync.Mutex
import kotlinx.coroutines.sync.withLock

/** Which folder the sync group uses on this device (non-secret; SharedPreferences on Android). */
interface SyncSettings {
    /** The SAF tree URI of the group's folder, and its name for display. */
    var syncFolder: String?
    var syncFolderName: String?

    /** What this device is called in the group. */
    var deviceName: String?
}

class MemorySyncSettings : SyncSettings {
    override var syncFolder: String? = null
    override var syncFolderName: String? = null
    override var deviceName: String? = null
}

/**
 * Keeping this vault in step with the user's other devices through a folder the user picked
 * (Nextcloud, Syncthing-Fork, a Drive provider: any SAF tree). Syncs when the session starts,
 * when the app returns to the foreground, [debounceMs] after a local change, and from the
 * background worker; shows devices, conflicts and warnings; runs both sides of joining a
 * device. Every decision (merge, checks, keys) is the core's.
 *
 * Confined to the main thread like the other models.
 */
class SyncModel(
    private val vault: TwofoldVault,
    private val settings: SyncSettings,
    private val scope: CoroutineScope,
    private val folderFor: (String) -> SyncStorage,
    private val io: CoroutineDispatcher = Dispatchers.IO,
    private val debounceMs: Long = 3000,
    private val sleep: suspend (Long) -> Unit = { delay(it) },
) {
    /** The new device's join in progress. */
    data class Join(
        val inviteText: String,
        val progress: TransferProgress? = null,
        val code: String? = null,
        val reply: String? = null,
        val preview: SyncJoinPreview? = null,
    )

    /** A member adding a device. */
    data class Invite(val deviceName: String, val sourceFrames: Long, val code: String? = null)

    data class State(
        val setUp: Boolean = false,
        val folderName: String? = null,
        val status: SyncStatusView? = null,
        val conflicts: List<SyncConflict> = emptyList(),
        val last: SyncResult? = null,
        val error: String? = null,
        val busy: Boolean = false,
        val join: Join? = null,
        val invite: Invite? = null,
    )

    private val _state = MutableStateFlow(State(folderName = settings.syncFolderName))
    val state: StateFlow<State> = _state.asStateFlow()
    private val running = Mutex()
    private var pending: Job? = null
    private var joining: JoiningDevice? = null
    private var inviting: DeviceInvite? = null

    private fun group() = TwofoldSync(vault, settings.syncFolder?.let(folderFor), io)

    private suspend fun refresh(sync: TwofoldSync) {
        val setUp = sync.isSetUp()
        _state.update {
            it.copy(
                setUp = setUp,
                folderName = settings.syncFolderName,
                status = if (setUp) sync.status() else null,
                conflicts = if (setUp) sync.conflicts() else emptyList(),
            )
        }
    }

    private fun work(block: suspend (TwofoldSync) -> Unit): Job = scope.launch {
        running.withLock {
            _state.update { it.copy(busy = true, error = null) }
            val sync = group()
            try {
                block(sync)
                refresh(sync)
            } catch (e: TwofoldException) {
                _state.update { it.copy(error = e.userMessage) }
                runCatching { refresh(sync) }
            } finally {
                _state.update { it.copy(busy = false) }
            }
        }
    }

    /** At unlock and on return to the foreground: shows the state, syncs if set up. */
    fun start(): Job = work { sync -> if (sync.isSetUp()) _state.update { it.copy(last = sync.syncNow()) } }

    fun syncNow(): Job = work { sync -> _state.update { it.copy(last = sync.syncNow()) } }

    /** Something changed in the vault: sync once things settle. */
    fun onLocalChange() {
        if (!_state.value.setUp) return
        pending?.cancel()
        pending = scope.launch {
            sleep(debounceMs)
            syncNow().join()
        }
    }

    /** The user picked the group's folder (its SAF tree URI) for a new group. */
    fun setUp(folderUri: String, folderName: String, deviceName: String): Job {
        settings.syncFolder = folderUri
        settings.syncFolderName = folderName
        settings.deviceName = deviceName
        return work { sync -> _state.update { it.copy(last = sync.setUpInAppFolder(folderName, deviceName)) } }
    }

    /** New device: a join invite to show. */
    fun startJoin(deviceName: String): Job = scope.launch {
        try {
            val j = JoiningDevice.start(deviceName, io = io)
            joining = j
            settings.deviceName = deviceName
            _state.update { it.copy(join = Join(inviteText = j.inviteText()), error = null) }
        } catch (e: TwofoldException) {
            _state.update { it.copy(error = e.userMessage) }
        }
    }

    /** New device: one frame scanned from the member's screen. */
    fun joinFrame(text: String): Job = scope.launch {
        val j = joining ?: return@launch
        try {
            val progress = j.receiveFrame(text)
            _state.update {
                it.copy(
                    join = it.join?.copy(
                        progress = progress,
                        code = j.confirmationCode(),
                        reply = j.replyText(),
                        preview = j.preview(),
                    ),
                )
            }
        } catch (e: TwofoldException) {
            _state.update { it.copy(error = e.userMessage) }
        }
    }

    /**
     * New device: the codes match; the user picked the group's folder on this device
     * ([folderUri]; `null` for a WebDAV group whose password the member shared).
     */
    fun acceptJoin(folderUri: String?, folderName: String?): Job {
        val j = joining ?: return Job().apply { complete() }
        if (folderUri != null) {
            settings.syncFolder = folderUri
            settings.syncFolderName = folderName
        }
        return work { sync ->
            j.acceptInto(vault, folderName?.takeIf { folderUri != null })
            joining = null
            _state.update { it.copy(join = null, last = sync.syncNow()) }
        }
    }

    /** New device: the codes differ, or the user gave up. */
    fun cancelJoin() {
        joining?.reject()
        joining = null
        _state.update { it.copy(join = null) }
    }

    /** Member: the new device's join invite was scanned; shows frames (it is not added yet). */
    fun startInvite(inviteText: String, shareCredentials: Boolean = false): Job = work { sync ->
        val inv = sync.inviteDevice(inviteText, shareCredentials)
        inviting = inv
        _state.update { it.copy(invite = Invite(inv.deviceName, inv.sourceFrames)) }
    }

    /** Member: frame [n] of the endless stream to show. */
    fun inviteFrame(n: Long): String? = inviting?.frame(n)

    /** Member: the new device's reply was scanned; shows the code to compare. */
    fun inviteReply(replyText: String): Job = scope.launch {
        val inv = inviting ?: return@launch
        try {
            val code = inv.acceptReply(replyText)
            _state.update { it.copy(invite = it.invite?.copy(code = code)) }
        } catch (e: TwofoldException) {
            _state.update { it.copy(error = e.userMessage) }
        }
    }

    /**
     * Member: the codes matched, so the device is added and the group hears of it; or they
     * differ (or the user gave up) and the invitation is dropped without a trace.
     */
    fun finishInvite(codesMatched: Boolean): Job {
        val inv = inviting ?: return Job().apply { complete() }
        inviting = null
        _state.update { it.copy(invite = null) }
        return work { sync ->
            if (codesMatched) {
                inv.confirm()
                _state.update { it.copy(last = sync.syncNow()) }
            } else {
                inv.cancel()
            }
        }
    }

    fun resolve(entryId: String, keep: SyncKeep): Job = work { sync ->
        sync.resolve(entryId, keep)
        _state.update { it.copy(last = sync.syncNow()) }
    }

    fun revoke(deviceName: String): Job = work { sync ->
        sync.revoke(deviceName)
        _state.update { it.copy(last = sync.syncNow()) }
    }

    fun leave(): Job = work { sync ->
        sync.leave()
        settings.syncFolder = null
        settings.syncFolderName = null
        _state.update { it.copy(last = null) }
    }

    fun dismissError() = _state.update { it.copy(error = null) }

    fun stop() {
        pending?.cancel()
        cancelJoin()
        inviting = null
    }
}

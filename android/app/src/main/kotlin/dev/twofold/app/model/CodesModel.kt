package dev.twofold.app.model

import dev.twofold.TwofoldVault
import dev.twofold.VaultFailure
import dev.twofold.core.CodeView
import dev.twofold.core.EntryChanges
import dev.twofold.core.EntryView
import dev.twofold.core.GroupView
import dev.twofold.core.OtpType
import dev.twofold.core.displayCode
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.launch

/**
 * The code list: accounts (favorites first, then the vault's order), their current codes from
 * the core's ticker, search (the core's accent- and case-insensitive match), group filter,
 * copy with a clipboard that clears itself, tap-to-reveal, the next code on long press, HOTP's
 * "next code", and a warning when the phone's clock is off (offset measured and applied by
 * the core).
 */
class CodesModel(
    private val vault: TwofoldVault,
    private val settings: SettingsStore,
    private val clipboard: Clipboard,
    private val trustedTime: TrustedTime,
    private val scope: CoroutineScope,
    private val clock: () -> Long = System::currentTimeMillis,
    private val sleep: suspend (Long) -> Unit = { delay(it) },
    /** Called after any change to the vault (automatic backups listen). */
    private val onChanged: () -> Unit = {},
) {
    data class Row(
        val id: String,
        val issuer: String,
        val account: String,
        val favorite: Boolean,
        val groupIds: List<String>,
        val hotp: Boolean,
        val weakSecret: Boolean,
        /** Grouped for reading ("123 456"); null while hidden or, for HOTP, not yet generated. */
        val code: String?,
        /** The code of the next period, shown while the row is long-pressed. */
        val nextCode: String?,
        val showingNext: Boolean,
        val hidden: Boolean,
        val periodSeconds: Int,
        val remainingMs: Long,
    ) {
        /** For the countdown ring: 1 at the start of a period, 0 at its end. */
        val remainingFraction: Float
            get() = if (periodSeconds == 0) 0f else remainingMs.toFloat() / (periodSeconds * 1000f)
    }

    data class State(
        val rows: List<Row> = emptyList(),
        val query: String = "",
        val groups: List<GroupView> = emptyList(),
        val selectedGroup: String? = null,
        /** The phone's clock is off by this many seconds (codes are corrected); null when fine. */
        val clockOffsetWarning: Long? = null,
        val message: String? = null,
        /** Set after a delete, to offer undo. */
        val undoDeleteId: String? = null,
        val loaded: Boolean = false,
    )

    private val _state = MutableStateFlow(State())
    val state: StateFlow<State> = _state.asStateFlow()

    private var entries: List<EntryView> = emptyList()
    private var codes: Map<String, CodeView> = emptyMap()
    private val revealed = mutableSetOf<String>()
    private val hotpCodes = mutableMapOf<String, String>()
    private var longPressed: String? = null
    private var ticker: Job? = null
    private var clipboardClear: Job? = null
    private var clockChecked = false

    /**
     * While the list is on screen: codes tick; entries load; the clock is checked once a session.
     * The vault may lock under a running ticker (the app locks from the main thread while a
     * fetch is on the I/O pool): the list then simply stops — nothing escapes the coroutine,
     * which has no handler and would take the process down.
     */
    fun start(): Job {
        ticker?.cancel()
        val job = scope.launch {
            try {
                checkClock()
                reload()
                vault.codes(clock).collect { list ->
                    codes = list.associateBy { it.entryId }
                    publish()
                }
            } catch (_: VaultFailure.Locked) {
                // Locked: the unlock screen replaces this list.
            } catch (e: VaultFailure) {
                _state.update { it.copy(message = e.message) }
            }
        }
        ticker = job
        return job
    }

    /** Leaving the list, or locking (before the core forgets the key): the codes stop. */
    fun stop() {
        ticker?.cancel()
        ticker = null
        revealed.clear()
        hotpCodes.clear()
    }

    private suspend fun checkClock() {
        if (clockChecked) return
        clockChecked = true
        val trusted = trustedTime.nowMs() ?: return
        val status = runCatching { vault.recordTimeSample(clock(), trusted) }.getOrNull() ?: return
        _state.update { it.copy(clockOffsetWarning = if (status.warn) status.offsetSeconds else null) }
    }

    /** Loads entries and groups again (after a change or a new search). */
    suspend fun reload() {
        val query = _state.value.query
        entries = if (query.isBlank()) vault.entries() else vault.search(query)
        val groups = vault.groups()
        if (codes.isEmpty()) codes = vault.codesAt(clock()).associateBy { it.entryId }
        _state.update { it.copy(groups = groups, loaded = true) }
        publish()
    }

    fun search(query: String): Job {
        _state.update { it.copy(query = query) }
        return scope.launch { guarded { reload() } }
    }

    fun selectGroup(groupId: String?) {
        _state.update { it.copy(selectedGroup = groupId) }
        publish()
    }

    /** Tap: copy the current code (revealing it when hidden) and schedule clearing. */
    fun copy(id: String): Job = scope.launch {
        guarded {
            val row = _state.value.rows.firstOrNull { it.id == id } ?: return@guarded
            if (row.hidden) {
                revealed += id
                publish()
            }
            val code = (if (row.hotp) hotpCodes[id] else codes[id]?.code) ?: return@guarded
            clipboard.copySensitive(code)
            vault.recordUse(id)
            _state.update { it.copy(message = "Copied; the clipboard clears in ${CLIPBOARD_SECONDS} s") }
            clipboardClear?.cancel()
            clipboardClear = scope.launch {
                sleep(CLIPBOARD_SECONDS * 1000L)
                clipboard.clearIfStillOurs()
            }
        }
    }

    /** Tap-to-reveal mode: show one code (hidden again when the list is left). */
    fun reveal(id: String) {
        revealed += id
        publish()
    }

    /** Long press shows the next code; release hides it. */
    fun showNext(id: String?) {
        longPressed = id
        publish()
    }

    /** HOTP: advance the counter (saved first) and show the new code. */
    fun nextHotp(id: String): Job = scope.launch {
        guarded {
            hotpCodes[id] = vault.nextHotp(id)
            revealed += id
            publish()
            onChanged()
        }
    }

    fun toggleFavorite(id: String): Job = scope.launch {
        guarded {
            val entry = entries.firstOrNull { it.id == id } ?: return@guarded
            vault.update(id, EntryChanges(null, null, null, null, null, !entry.favorite, null))
            changed()
        }
    }

    /** Sets the groups of an entry. */
    fun setGroups(id: String, groupIds: List<String>): Job = scope.launch {
        guarded {
            vault.update(id, EntryChanges(null, null, null, null, groupIds, null, null))
            changed()
        }
    }

    fun rename(id: String, issuer: String, account: String): Job = scope.launch {
        guarded {
            vault.update(id, EntryChanges(issuer, account, null, null, null, null, null))
            changed()
        }
    }

    fun addGroup(name: String): Job = scope.launch {
        guarded {
            vault.addGroup(name)
            changed()
        }
    }

    /** Moves to the trash (kept by the core for its retention time), with undo. */
    fun delete(id: String): Job = scope.launch {
        guarded {
            vault.delete(id)
            _state.update { it.copy(undoDeleteId = id, message = "Moved to trash") }
            changed()
        }
    }

    fun undoDelete(): Job = scope.launch {
        val id = _state.value.undoDeleteId ?: return@launch
        guarded {
            vault.restore(id)
            _state.update { it.copy(undoDeleteId = null, message = null) }
            changed()
        }
    }

    fun dismissMessage() = _state.update { it.copy(message = null, undoDeleteId = null) }

    private suspend fun changed() {
        reload()
        onChanged()
    }

    private suspend fun guarded(block: suspend () -> Unit) {
        try {
            block()
        } catch (e: VaultFailure) {
            _state.update { it.copy(message = e.message) }
        }
    }

    private fun publish() {
        val s = _state.value
        val hide = settings.tapToReveal
        val visible = entries.filter { s.selectedGroup == null || s.selectedGroup in it.groupIds }
        val ordered = visible.filter { it.favorite } + visible.filterNot { it.favorite }
        val rows = ordered.map { e ->
            val view = codes[e.id]
            val hotp = e.params.otpType == OtpType.HOTP
            val hidden = hide && e.id !in revealed
            val raw = if (hotp) hotpCodes[e.id] else view?.code
            Row(
                id = e.id,
                issuer = e.issuer,
                account = e.account,
                favorite = e.favorite,
                groupIds = e.groupIds,
                hotp = hotp,
                weakSecret = e.weakSecret,
                code = if (hidden) null else raw?.let(::displayCode),
                nextCode = if (hidden || hotp) null else view?.nextCode?.let(::displayCode),
                showingNext = longPressed == e.id && !hidden && !hotp,
                hidden = hidden,
                periodSeconds = view?.period?.toInt() ?: 0,
                remainingMs = view?.remainingMs?.toLong() ?: 0,
            )
        }
        _state.update { it.copy(rows = rows) }
    }

    companion object {
        const val CLIPBOARD_SECONDS = 30
    }
}

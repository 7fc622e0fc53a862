package dev.twofold.app.model

import dev.twofold.userMessage
import dev.twofold.TwofoldCodes
import dev.twofold.TwofoldVault
import dev.twofold.core.TwofoldException
import dev.twofold.codeList
import dev.twofold.core.CodeRow
import dev.twofold.core.CodeRows
import dev.twofold.core.EntryChanges
import dev.twofold.core.GroupView
import dev.twofold.core.OtpType
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.launch
import kotlinx.coroutines.sync.Mutex
import kotlinx.coroutines.sync.withLock

/**
 * The code list. The rules — which rows, their order (favourites first, then the vault's
 * order), search, group filter, tap-to-reveal, HOTP codes on demand, when the next change is
 * due — are the core's ([TwofoldCodes]); this model holds the published state, one ticker
 * that sleeps until the core says something changes, the long-press "next code" gesture, the
 * clipboard timer and the clock check (offset measured and applied by the core).
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

    private val list: TwofoldCodes by lazy { vault.codeList() }
    /** Rows are computed and published under this lock only: the last published is the newest. */
    private val publishing = Mutex()
    private var last: CodeRows? = null
    private var longPressed: String? = null
    private var ticker: Job? = null
    private var clipboardClear: Job? = null
    private var clockChecked = false

    /**
     * While the list is on screen: the clock is checked once a session, groups load, and one
     * ticker publishes the core's rows whenever the core says something changes. The vault may
     * lock under the running ticker (the app locks from the main thread while a fetch is on the
     * I/O pool): the list then simply stops — nothing escapes the coroutine, which has no
     * handler and would take the process down.
     */
    fun start(): Job {
        ticker?.cancel()
        val job = scope.launch {
            try {
                checkClock()
                reload()
                while (true) {
                    val rows = refresh()
                    delay(rows.refreshInMs.toLong().coerceAtLeast(1))
                }
            } catch (_: TwofoldException.Locked) {
                // Locked: the unlock screen replaces this list.
            } catch (e: TwofoldException) {
                _state.update { it.copy(message = e.userMessage) }
            }
        }
        ticker = job
        return job
    }

    /** Leaving the list, or locking (before the core forgets the key): the codes stop. */
    fun stop() {
        ticker?.cancel()
        ticker = null
        list.hideAll()
    }

    private suspend fun checkClock() {
        if (clockChecked) return
        clockChecked = true
        val trusted = trustedTime.nowMs() ?: return
        val status = runCatching { vault.recordTimeSample(clock(), trusted) }.getOrNull() ?: return
        _state.update { it.copy(clockOffsetWarning = if (status.warn) status.offsetSeconds else null) }
    }

    /** Loads the groups and the rows again (after a change). */
    suspend fun reload() {
        list.setTapToReveal(settings.tapToReveal)
        val groups = vault.groups()
        _state.update { it.copy(groups = groups, loaded = true) }
        refresh()
    }

    /**
     * Asks the core for the rows for the filter as it is now, and publishes them. Only here,
     * under one lock: the list published last was computed last, for the newest filter.
     */
    private suspend fun refresh(): CodeRows = publishing.withLock {
        val s = _state.value
        val rows = list.rows(s.query, s.selectedGroup, clock())
        last = rows
        publish(rows)
        rows
    }

    fun search(query: String): Job {
        _state.update { it.copy(query = query) }
        return scope.launch { guarded { refresh() } }
    }

    fun selectGroup(groupId: String?): Job {
        _state.update { it.copy(selectedGroup = groupId) }
        return scope.launch { guarded { refresh() } }
    }

    /** Tap: copy the current code (revealing it when hidden) and schedule clearing. */
    fun copy(id: String): Job = scope.launch {
        guarded {
            val code = list.copyCode(id, clock())
            refresh()
            if (code == null) return@guarded
            clipboard.copySensitive(code)
            _state.update { it.copy(message = "Copied; the clipboard clears in ${CLIPBOARD_SECONDS} s") }
            clipboardClear?.cancel()
            clipboardClear = scope.launch {
                sleep(CLIPBOARD_SECONDS * 1000L)
                clipboard.clearIfStillOurs()
            }
        }
    }

    /** Tap-to-reveal mode: show one code (hidden again when the list is left). */
    fun reveal(id: String): Job = scope.launch {
        guarded {
            list.reveal(id)
            refresh()
        }
    }

    /** Long press shows the next code; release hides it (a gesture: no core call). */
    fun showNext(id: String?) {
        longPressed = id
        last?.let(::publish)
    }

    /** HOTP: advance the counter (saved first) and show the new code. */
    fun nextHotp(id: String): Job = scope.launch {
        guarded {
            list.nextHotp(id, clock())
            refresh()
            onChanged()
        }
    }

    fun toggleFavorite(id: String): Job = scope.launch {
        guarded {
            val row = _state.value.rows.firstOrNull { it.id == id } ?: return@guarded
            vault.update(id, EntryChanges(null, null, null, null, null, !row.favorite, null))
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
        } catch (e: TwofoldException) {
            _state.update { it.copy(message = e.userMessage) }
        }
    }

    private fun publish(rows: CodeRows) {
        val shown = rows.rows.map { r -> r.toRow(showingNext = longPressed == r.entryId && r.nextCodeDisplay != null) }
        _state.update { it.copy(rows = shown, clockOffsetWarning = it.clockOffsetWarning ?: rows.clockWarningSeconds()) }
    }

    private fun CodeRows.clockWarningSeconds(): Long? = if (clockWarning) clockOffsetSeconds else null

    private fun CodeRow.toRow(showingNext: Boolean) = Row(
        id = entryId,
        issuer = issuer,
        account = account,
        favorite = favorite,
        groupIds = groupIds,
        hotp = otpType == OtpType.HOTP,
        weakSecret = weakSecret,
        code = codeDisplay,
        nextCode = nextCodeDisplay,
        showingNext = showingNext,
        hidden = hidden,
        periodSeconds = period.toInt(),
        remainingMs = remainingMs.toLong(),
    )

    companion object {
        const val CLIPBOARD_SECONDS = 30
    }
}

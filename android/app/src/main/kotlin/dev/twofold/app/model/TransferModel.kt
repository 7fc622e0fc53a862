package dev.twofold.app.model

import dev.twofold.IncomingTransfer
import dev.twofold.OutgoingTransfer
import dev.twofold.TwofoldVault
import dev.twofold.VaultFailure
import dev.twofold.core.AddResult
import dev.twofold.core.EntryView
import dev.twofold.core.ImportedPreview
import dev.twofold.core.TransferProgress
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.launch
import kotlinx.coroutines.sync.Mutex
import kotlinx.coroutines.sync.withLock

/**
 * The new phone's side of a transfer: show the invite QR, scan the old phone's animated
 * frames (any order, any loss up to what the fountain code repairs), compare the confirmation
 * code, preview, accept. Everything about the protocol is the core's.
 */
class ReceiveModel(
    private val vault: TwofoldVault,
    private val scope: CoroutineScope,
    private val start: suspend () -> IncomingTransfer = { IncomingTransfer.start() },
    private val onChanged: () -> Unit = {},
) {
    data class State(
        val invite: String? = null,
        val progress: TransferProgress? = null,
        val confirmationCode: String? = null,
        val preview: List<ImportedPreview> = emptyList(),
        val result: AddResult? = null,
        val expired: Boolean = false,
        val error: String? = null,
    )

    private val _state = MutableStateFlow(State())
    val state: StateFlow<State> = _state.asStateFlow()
    private var transfer: IncomingTransfer? = null
    private val lock = Mutex()

    /** A new session (also after expiry): a fresh invite to show. */
    fun begin(): Job = scope.launch {
        lock.withLock {
            transfer?.close()
            try {
                val t = start()
                transfer = t
                _state.value = State(invite = t.inviteText())
            } catch (e: VaultFailure) {
                _state.value = State(error = e.message)
            }
        }
    }

    /** One frame text from the camera. */
    fun frame(text: String): Job = scope.launch {
        lock.withLock {
            val t = transfer ?: return@launch
            if (_state.value.confirmationCode != null) return@launch
            try {
                val p = t.receiveFrame(text)
                _state.update { it.copy(progress = p, error = null) }
                if (p.complete) {
                    val code = t.confirmationCode()
                    val preview = t.preview()
                    _state.update { it.copy(confirmationCode = code, preview = preview) }
                }
            } catch (_: VaultFailure.TransferExpired) {
                _state.update { it.copy(expired = true, error = "This transfer code expired; show a new one") }
            } catch (e: VaultFailure.TransferRejected) {
                // A stray code (another session's, a normal account QR): say so, keep scanning.
                _state.update { it.copy(error = e.message) }
            } catch (e: VaultFailure) {
                _state.update { it.copy(error = e.message) }
            }
        }
    }

    /** Both phones show the same code: add the accounts. */
    fun accept(): Job = scope.launch {
        lock.withLock {
            val t = transfer ?: return@launch
            try {
                val r = t.acceptInto(vault)
                _state.update { it.copy(result = r, error = null) }
                t.close()
                transfer = null
                onChanged()
            } catch (e: VaultFailure) {
                _state.update { it.copy(error = e.message) }
            }
        }
    }

    /** The codes differ, or the user gave up: nothing is added. */
    fun cancel() {
        transfer?.close()
        transfer = null
        _state.value = State()
    }
}

/**
 * The old phone's side: after re-authentication, scan the new phone's invite, choose accounts,
 * then show the animated frames and the confirmation code until the new phone has them.
 */
class SendModel(
    private val vault: TwofoldVault,
    private val reauth: Reauthentication,
    private val scope: CoroutineScope,
    private val framesPerSecond: Int = 6,
) {
    data class State(
        val authenticated: Boolean = false,
        val invite: String? = null,
        val accounts: List<EntryView> = emptyList(),
        val selected: Set<String> = emptySet(),
        val confirmationCode: String? = null,
        /** The frame to draw now (changes [framesPerSecond] times a second). */
        val frame: String? = null,
        val framesShown: Long = 0,
        val busy: Boolean = false,
        val error: String? = null,
    )

    private val _state = MutableStateFlow(State())
    val state: StateFlow<State> = _state.asStateFlow()
    private var transfer: OutgoingTransfer? = null
    private var frames: Job? = null

    fun authenticateWithPassword(password: CharArray): Job = authenticate { withPassword(password) }

    fun authenticateWithBiometrics(): Job = authenticate { withBiometrics() }

    private fun authenticate(proof: suspend Reauthentication.() -> Unit): Job = scope.launch {
        _state.update { it.copy(busy = true, error = null) }
        var all = emptyList<EntryView>()
        val outcome = reauth.prove {
            proof()
            all = vault.entries()
        }
        val confirmed = outcome == Reauthentication.Outcome.Confirmed
        _state.update {
            it.copy(
                busy = false,
                authenticated = confirmed,
                accounts = all,
                selected = all.map { e -> e.id }.toSet(),
                error = (outcome as? Reauthentication.Outcome.Refused)?.message,
            )
        }
    }

    /** The new phone's invite, read by the camera (the core checks it when sending starts). */
    fun inviteScanned(text: String) {
        if (_state.value.invite == null) _state.update { it.copy(invite = text, error = null) }
    }

    fun toggle(id: String) = _state.update {
        it.copy(selected = if (id in it.selected) it.selected - id else it.selected + id)
    }

    /** Seals the chosen accounts for the invite and starts showing frames. */
    fun send(): Job = scope.launch {
        val s = _state.value
        val invite = s.invite ?: return@launch
        if (!s.authenticated) return@launch
        if (s.selected.isEmpty()) {
            _state.update { it.copy(error = "Choose at least one account") }
            return@launch
        }
        _state.update { it.copy(busy = true, error = null) }
        try {
            val ids = s.accounts.map { it.id }.filter { it in s.selected }
            val t = OutgoingTransfer.start(vault, invite, ids)
            transfer = t
            _state.update { it.copy(busy = false, confirmationCode = t.confirmationCode) }
            frames = scope.launch {
                t.frames(framesPerSecond).collect { f -> _state.update { it.copy(frame = f, framesShown = it.framesShown + 1) } }
            }
        } catch (e: VaultFailure) {
            // An invalid or expired invite: scan the new phone's code again.
            _state.update { it.copy(busy = false, invite = null, error = e.message) }
        }
    }

    /** The new phone accepted (or the user stopped): stop showing frames, drop the sealed data. */
    fun finish() {
        frames?.cancel()
        frames = null
        transfer?.close()
        transfer = null
        _state.value = State()
    }
}

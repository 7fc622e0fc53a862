package dev.twofold.app.model

import dev.twofold.userMessage
import dev.twofold.IncomingTransfer
import dev.twofold.OutgoingTransfer
import dev.twofold.TwofoldVault
import dev.twofold.core.TwofoldException
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
 * frames (any order, any loss up to what the fountain code repairs), then show the reply QR
 * for the old phone and the confirmation code, preview, and accept only when the user says
 * both codes match. Everything about the protocol is the core's.
 */
class ReceiveModel(
    private val vault: TwofoldVault,
    private val scope: CoroutineScope,
    /** This phone's Wi-Fi address and a port ("192.168.1.20:47000") to offer the LAN, or null. */
    private val lanAddress: () -> String? = { null },
    private val start: suspend () -> IncomingTransfer = { IncomingTransfer.start(lan = lanAddress()) },
    private val onChanged: () -> Unit = {},
) {
    data class State(
        val invite: String? = null,
        /** The invite also offers the LAN: [receiveLan] may be used. */
        val lanOffered: Boolean = false,
        val progress: TransferProgress? = null,
        /** Once the old phone's data arrived: show it as a QR code for the old phone to scan. */
        val reply: String? = null,
        val confirmationCode: String? = null,
        val preview: List<ImportedPreview> = emptyList(),
        val result: AddResult? = null,
        val expired: Boolean = false,
        /** Waiting for the old phone over the LAN, or adding the accounts. */
        val busy: Boolean = false,
        val error: String? = null,
    )

    private val _state = MutableStateFlow(State())
    val state: StateFlow<State> = _state.asStateFlow()

    /**
     * One transfer session. Calls on it run under its own lock and so does closing it, so no
     * call reaches a closed object; a cancelled session is closed once the call still running
     * on it returns (a LAN wait cannot be interrupted: it ends at its timeout), while the screen
     * is already free for a new one.
     */
    private class Session(val transfer: IncomingTransfer) {
        val lock = Mutex()
        var closed = false

        fun close() {
            if (closed) return
            closed = true
            transfer.close()
        }
    }

    private var session: Session? = null
    private var generation = 0

    private val Session.current: Boolean get() = session === this

    private suspend fun withSession(block: suspend (Session) -> Unit) {
        val s = session ?: return
        s.lock.withLock { if (s.current) block(s) }
    }

    /** Rejects and closes [s] once no call runs on it (nothing when it was accepted and closed). */
    private fun retire(s: Session): Job = scope.launch {
        s.lock.withLock {
            if (s.closed) return@withLock
            try {
                s.transfer.reject()
            } catch (_: TwofoldException) {
            }
            s.close()
        }
    }

    /** A new session (also after expiry): a fresh invite to show. */
    fun begin(): Job {
        drop()
        val gen = ++generation
        return scope.launch {
            try {
                val t = start()
                if (gen != generation) {
                    t.close()
                    return@launch
                }
                val s = Session(t)
                session = s
                s.lock.withLock {
                    val invite = t.inviteText()
                    if (s.current) _state.value = State(invite = invite, lanOffered = lanAddress() != null)
                }
            } catch (e: TwofoldException) {
                if (gen == generation) _state.value = State(error = e.userMessage)
            }
        }
    }

    /** One frame text from the camera. */
    fun frame(text: String): Job = scope.launch {
        withSession { s ->
            if (_state.value.confirmationCode != null) return@withSession
            try {
                val f = s.transfer.receiveFrame(text)
                if (!s.current) return@withSession
                // Complete: the code, reply and preview come with the frame, from the core.
                _state.update {
                    it.copy(progress = f.progress, error = null, confirmationCode = f.confirmationCode, reply = f.replyText, preview = f.preview)
                }
            } catch (_: TwofoldException.TransferExpired) {
                if (s.current) _state.update { it.copy(expired = true, error = "This transfer code expired; show a new one") }
            } catch (e: TwofoldException.TransferRejected) {
                // A stray code (another session's, a normal account QR): say so, keep scanning.
                if (s.current) _state.update { it.copy(error = e.userMessage) }
            } catch (e: TwofoldException) {
                if (s.current) _state.update { it.copy(error = e.userMessage) }
            }
        }
    }

    private suspend fun showReceived(s: Session) {
        val code = s.transfer.confirmationCode()
        val reply = s.transfer.replyText()
        val preview = s.transfer.preview()
        if (s.current) _state.update { it.copy(confirmationCode = code, reply = reply, preview = preview) }
    }

    /**
     * Receive over the local network instead (the invite must name this phone's address):
     * waits up to [timeoutMillis] for the old phone; then the code and preview show.
     */
    fun receiveLan(timeoutMillis: Long = 120_000): Job = scope.launch {
        withSession { s ->
            _state.update { it.copy(busy = true, error = null) }
            try {
                s.transfer.receiveLan(timeoutMillis)
                if (!s.current) return@withSession
                _state.update { it.copy(busy = false, error = null) }
                showReceived(s)
            } catch (_: TwofoldException.TransferExpired) {
                if (s.current) _state.update { it.copy(busy = false, expired = true, error = "This transfer code expired; show a new one") }
            } catch (e: TwofoldException) {
                if (s.current) _state.update { it.copy(busy = false, error = e.userMessage) }
            }
        }
    }

    /** Both phones show the same code: add the accounts. */
    fun accept(): Job = scope.launch {
        withSession { s ->
            if (_state.value.busy) return@withSession
            _state.update { it.copy(busy = true, error = null) }
            try {
                val r = s.transfer.acceptInto(vault)
                // Added even if the user cancelled meanwhile: backups must hear of it.
                onChanged()
                if (s.current) {
                    session = null
                    _state.update { it.copy(busy = false, result = r, error = null) }
                }
                s.close()
            } catch (e: TwofoldException) {
                if (s.current) _state.update { it.copy(busy = false, error = e.userMessage) }
            }
        }
    }

    /**
     * The codes differ, or the user gave up: nothing is added (a LAN sender hears no). The
     * screen is free at once; the session is rejected and closed when no call runs on it.
     */
    fun cancel(): Job {
        val retired = drop()
        generation++
        _state.value = State()
        return retired ?: scope.launch { }
    }

    private fun drop(): Job? {
        val s = session ?: return null
        session = null
        return retire(s)
    }
}

/**
 * The old phone's side: after re-authentication, scan the new phone's invite, choose accounts,
 * then show the animated frames until the new phone shows its reply; scan the reply, and only
 * then show the confirmation code. Over the LAN: show where the accounts would go and ask
 * first, then the code, and send only when the user says both codes match.
 */
class SendModel(
    private val vault: TwofoldVault,
    private val reauth: Reauthentication,
    private val scope: CoroutineScope,
    private val framesPerSecond: Int = 6,
) {
    data class State(
        val authenticated: Boolean = false,
        /** Offer biometrics for the re-authentication (see [load]). */
        val biometricAvailable: Boolean = false,
        val invite: String? = null,
        val accounts: List<EntryView> = emptyList(),
        val selected: Set<String> = emptySet(),
        /** Shown only after the new phone's reply was scanned (or arrived over the LAN). */
        val confirmationCode: String? = null,
        /** Frames are on screen: the camera waits for the new phone's reply. */
        val awaitingReply: Boolean = false,
        /** The frame to draw now (changes [framesPerSecond] times a second). */
        val frame: String? = null,
        val framesShown: Long = 0,
        /** The invite's LAN address: show it and ask before [sendOverLan]. */
        val lanDestination: String? = null,
        /** LAN: the code is on screen, the accounts wait for "the codes match". */
        val lanWaitingForMatch: Boolean = false,
        val sent: Boolean = false,
        val busy: Boolean = false,
        val error: String? = null,
    )

    private val _state = MutableStateFlow(State())
    val state: StateFlow<State> = _state.asStateFlow()

    /** One sealed transfer; calls on it and closing it run under its lock (see [ReceiveModel]). */
    private class Session(val transfer: OutgoingTransfer) {
        val lock = Mutex()
        var closed = false

        fun close() {
            if (closed) return
            closed = true
            transfer.close()
        }
    }

    private var session: Session? = null
    private var generation = 0
    private var frames: Job? = null

    private val Session.current: Boolean get() = session === this

    private suspend fun withSession(block: suspend (Session) -> Unit) {
        val s = session ?: return
        s.lock.withLock { if (s.current) block(s) }
    }

    /** Whether to offer biometrics: a slot of this phone exists and biometrics work now. */
    fun load(): Job = scope.launch {
        val bio = runCatching { reauth.hasBiometrics() }.getOrDefault(false)
        _state.update { it.copy(biometricAvailable = bio) }
    }

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

    /** Whatever the camera reads: the invite first, then (with frames showing) the reply. */
    fun scanned(text: String) {
        if (_state.value.invite == null) inviteScanned(text) else if (_state.value.awaitingReply) replyScanned(text)
    }

    /** The new phone's reply: checked by the core; then the code to compare shows. */
    fun replyScanned(text: String): Job = scope.launch {
        withSession { s ->
            if (_state.value.confirmationCode != null) return@withSession
            try {
                val code = s.transfer.acceptReply(text)
                if (!s.current) return@withSession
                frames?.cancel()
                frames = null
                _state.update { it.copy(confirmationCode = code, awaitingReply = false, frame = null, error = null) }
            } catch (e: TwofoldException.TransferRejected) {
                // Another sender reached the new phone, or a forged reply: say it plainly.
                if (s.current) _state.update { it.copy(error = e.userMessage) }
            } catch (e: TwofoldException) {
                if (s.current) _state.update { it.copy(error = e.userMessage) }
            }
        }
    }

    fun toggle(id: String) = _state.update {
        it.copy(selected = if (id in it.selected) it.selected - id else it.selected + id)
    }

    /** Seals the chosen accounts for the invite and starts showing frames. */
    fun send(): Job = scope.launch {
        val st = _state.value
        val invite = st.invite ?: return@launch
        if (!st.authenticated || session != null) return@launch
        if (st.selected.isEmpty()) {
            _state.update { it.copy(error = "Choose at least one account") }
            return@launch
        }
        val gen = generation
        _state.update { it.copy(busy = true, error = null) }
        try {
            val ids = st.accounts.map { it.id }.filter { it in st.selected }
            val t = OutgoingTransfer.start(vault, invite, ids)
            if (gen != generation) {
                t.close()
                return@launch
            }
            val s = Session(t)
            session = s
            _state.update { it.copy(busy = false, awaitingReply = true, lanDestination = t.lanDestination) }
            frames = scope.launch {
                t.frames(framesPerSecond).collect { f -> _state.update { it.copy(frame = f, framesShown = it.framesShown + 1) } }
            }
        } catch (e: TwofoldException) {
            // An invalid or expired invite: scan the new phone's code again.
            if (gen == generation) _state.update { it.copy(busy = false, invite = null, error = e.userMessage) }
        }
    }

    /**
     * The user saw [State.lanDestination] and agreed to send there: connects, and shows the
     * code once the new phone answered. Nothing is sent before [codesMatch].
     */
    fun sendOverLan(timeoutMillis: Long = 120_000): Job = scope.launch {
        if (_state.value.lanDestination == null) return@launch
        withSession { s ->
            frames?.cancel()
            frames = null
            _state.update { it.copy(busy = true, awaitingReply = false, frame = null, error = null) }
            try {
                val code = s.transfer.connectLan(timeoutMillis)
                if (s.current) _state.update { it.copy(busy = false, confirmationCode = code, lanWaitingForMatch = true) }
            } catch (e: TwofoldException) {
                if (s.current) _state.update { it.copy(busy = false, error = e.userMessage) }
            }
        }
    }

    /** LAN: both phones show the same code; send the accounts. */
    fun codesMatch(): Job = scope.launch {
        withSession { s ->
            if (!_state.value.lanWaitingForMatch) return@withSession
            _state.update { it.copy(busy = true, error = null) }
            try {
                s.transfer.finishLan()
                if (s.current) _state.update { it.copy(busy = false, lanWaitingForMatch = false, sent = true) }
            } catch (e: TwofoldException) {
                if (s.current) _state.update { it.copy(busy = false, lanWaitingForMatch = false, error = e.userMessage) }
            }
        }
    }

    /** The codes differ: send nothing, and tell the user someone may be in between. */
    fun codesDiffer(): Job {
        val done = stop(cancelLan = true)
        _state.value = State(error = "The codes differ: nothing was sent. Start again, and make sure you scan the new phone's own screen.")
        return done
    }

    /** The new phone accepted (or the user stopped): stop showing frames, drop the sealed data. */
    fun finish(): Job {
        val done = stop(cancelLan = false)
        _state.value = State()
        return done
    }

    private fun stop(cancelLan: Boolean): Job {
        frames?.cancel()
        frames = null
        generation++
        val s = session
        session = null
        return scope.launch {
            s?.lock?.withLock {
                if (cancelLan && !s.closed) s.transfer.cancelLan()
                s.close()
            }
        }
    }
}

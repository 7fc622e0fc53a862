package dev.twofold.app.model

import dev.twofold.userMessage
import dev.twofold.EnrollmentScanner
import dev.twofold.TwofoldVault
import dev.twofold.core.TwofoldException
import dev.twofold.core.AddResult
import dev.twofold.core.EntryInput
import dev.twofold.core.ExportProgress
import dev.twofold.core.HashAlgorithm
import dev.twofold.core.ImportItemError
import dev.twofold.core.ImportSession
import dev.twofold.core.ImportedPreview
import dev.twofold.core.OtpType
import dev.twofold.core.FormField
import dev.twofold.core.parseCodeParameters
import dev.twofold.core.ScanResult
import dev.twofold.readImport
import dev.twofold.toWipedUtf8
import kotlinx.coroutines.CoroutineDispatcher
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
 * Adding accounts: QR codes from the camera (each frame's Y plane goes to the core, which
 * decodes and enrolls it — the secret never becomes a Kotlin String) or a picture, Google's
 * multi-code exports with progress, an otpauth URI typed or pasted (as characters, wiped),
 * manual entry, and other apps' export files. Everything scanned or read is previewed (no
 * secrets leave the core) and added only when the user confirms. The core validates and explains.
 */
class EnrollModel(
    private val vault: TwofoldVault,
    private val scope: CoroutineScope,
    private val io: CoroutineDispatcher,
    private val onChanged: () -> Unit = {},
) {
    /** Fields of the manual-entry form, as typed. */
    data class Manual(
        val issuer: String = "",
        val account: String = "",
        val secret: String = "",
        val type: OtpType = OtpType.TOTP,
        val algorithm: HashAlgorithm = HashAlgorithm.SHA1,
        val digits: String = "6",
        val period: String = "30",
        val counter: String = "0",
    )

    data class State(
        /** Accounts scanned or read and waiting for confirmation. */
        val pending: List<ImportedPreview> = emptyList(),
        /** Google multi-code export: "2 of 3 codes scanned" and which are missing. */
        val progress: ExportProgress? = null,
        /** Why scanned codes or file items could not be read (the rest still import). */
        val problems: List<String> = emptyList(),
        /** An import file is encrypted: ask for its password. */
        val filePasswordNeeded: Boolean = false,
        val importFormat: String? = null,
        val busy: Boolean = false,
        val error: String? = null,
        /** Manual entry: what is wrong with each parameter field (the core's words). */
        val fieldProblems: Map<FormField, String> = emptyMap(),
        val result: AddResult? = null,
        val manual: Manual = Manual(),
    )

    private val _state = MutableStateFlow(State())
    val state: StateFlow<State> = _state.asStateFlow()

    /**
     * What one adding session holds in the core: the scanner, the import file read, and an
     * encrypted file waiting for its password. Every call on them runs under [lock], and
     * [close] takes the lock too, so no call ever reaches a closed object — whatever the user
     * taps while a scan, an import or an add is still running.
     */
    private inner class Session {
        val lock = Mutex()
        val scanner = EnrollmentScanner(io)
        var import: ImportSession? = null
        var pendingFile: ByteArray? = null

        val current: Boolean get() = session === this

        fun close() {
            import?.close()
            import = null
            pendingFile?.fill(0)
            pendingFile = null
            scanner.close()
        }
    }

    private var session: Session? = Session()
    private var closed = false

    /** Runs [block] under the current session's lock; skipped when it was replaced meanwhile. */
    private suspend fun withSession(block: suspend (Session) -> Unit) {
        val s = session ?: return
        s.lock.withLock { if (s.current) block(s) }
    }

    private fun took(s: Session, r: ScanResult) = _state.update {
        it.copy(
            pending = s.scanner.accounts(),
            progress = r.progress ?: it.progress,
            problems = (it.problems + r.errors).distinct(),
            error = null,
            result = null,
        )
    }

    private fun problem(e: TwofoldException) =
        _state.update { it.copy(problems = (it.problems + e.userMessage).distinct()) }

    /**
     * One camera frame's Y plane (called for every analysed frame; frames without a code are
     * ignored, repeats of a code already scanned are harmless).
     */
    fun cameraFrame(width: Int, height: Int, rowStride: Int, luma: ByteArray): Job = scope.launch {
        withSession { s ->
            try {
                s.scanner.scanLuma(width, height, rowStride, luma)?.let { if (s.current) took(s, it) }
            } catch (e: TwofoldException) {
                if (s.current) problem(e)
            }
        }
    }

    /** A photo or screenshot (PNG/JPEG bytes). */
    fun picture(bytes: ByteArray): Job = scope.launch {
        withSession { s ->
            try {
                val r = s.scanner.scanImage(bytes)
                if (!s.current) return@withSession
                if (r == null) _state.update { it.copy(error = "No QR code found in this picture") } else took(s, r)
            } catch (e: TwofoldException) {
                if (s.current) _state.update { it.copy(error = e.userMessage) }
            }
        }
    }

    /** Untick one scanned or imported account before adding. */
    fun removePending(index: Int): Job = scope.launch {
        withSession { s ->
            val imported = s.import
            val left = if (imported != null) {
                imported.remove(index.toUInt())
                imported.accounts()
            } else {
                s.scanner.remove(index)
                s.scanner.accounts()
            }
            _state.update { it.copy(pending = left) }
        }
    }

    /** Adds the scanned accounts, or the accounts of the read file. */
    fun confirm(): Job = scope.launch {
        withSession { s ->
            _state.update { it.copy(busy = true, error = null) }
            try {
                val imported = s.import
                val result = if (imported != null) vault.addImported(imported) else s.scanner.addTo(vault)
                imported?.close()
                s.import = null
                // Added, even if the user cancelled meanwhile (a commit is not undone halfway):
                // backups must hear of it either way.
                onChanged()
                if (s.current) _state.update { State(result = result) }
            } catch (e: TwofoldException) {
                if (s.current) _state.update { it.copy(busy = false, error = e.userMessage) }
            }
        }
    }

    /**
     * An otpauth:// URI typed or pasted (the field's characters, wiped here): validated and
     * previewed by the core, then pending like a scanned code.
     */
    fun addUri(uri: CharArray): Job {
        val bytes = uri.toWipedUtf8()
        return scope.launch {
            try {
                withSession { s ->
                    try {
                        val r = s.scanner.scanText(bytes)
                        if (s.current) took(s, r)
                    } catch (e: TwofoldException) {
                        if (s.current) _state.update { it.copy(error = e.userMessage) }
                    }
                }
            } finally {
                bytes.fill(0)
            }
        }
    }

    fun editManual(change: (Manual) -> Manual) =
        _state.update { it.copy(manual = change(it.manual), error = null, fieldProblems = emptyMap()) }

    /** Adds the manual entry; the core checks the secret and parameters and says what is wrong. */
    fun addManual(allowDuplicate: Boolean = false): Job = scope.launch {
        val s = session ?: return@launch
        val m = _state.value.manual
        // The core reads the fields the kind uses and says what is wrong with each.
        val parsed = parseCodeParameters(m.type, m.algorithm, m.digits, m.period, m.counter)
        val params = parsed.params
        if (params == null) {
            _state.update {
                it.copy(error = parsed.problems.joinToString(". ") { p -> p.message }, fieldProblems = parsed.problems.associate { p -> p.field to p.message })
            }
            return@launch
        }
        val input = EntryInput(
            params = params,
            secret = m.secret.toByteArray(Charsets.UTF_8),
            issuer = m.issuer.trim(),
            account = m.account.trim(),
            note = "",
            groupIds = emptyList(),
            favorite = false,
            icon = null,
        )
        _state.update { it.copy(busy = true, error = null) }
        try {
            // The facade wipes input.secret after the call.
            val added = vault.add(input, allowDuplicate)
            onChanged()
            if (s.current) _state.update { State(result = AddResult(listOf(added.id), emptyList())) }
        } catch (e: TwofoldException) {
            if (s.current) _state.update { it.copy(busy = false, error = e.userMessage) }
        }
    }

    /** Another app's export file (read through the Storage Access Framework). */
    fun importFile(bytes: ByteArray, password: CharArray? = null): Job {
        val pw = password?.toWipedUtf8()
        return scope.launch {
            try {
                withSession { s -> read(s, bytes, pw) }
            } finally {
                pw?.fill(0)
            }
        }
    }

    private suspend fun read(s: Session, bytes: ByteArray, password: ByteArray?) {
        _state.update { it.copy(busy = true, error = null) }
        try {
            val read = readImport(bytes, password, io = io)
            if (!s.current) return read.close()
            s.import?.close()
            s.import = read
            s.pendingFile?.fill(0)
            s.pendingFile = null
            _state.update {
                it.copy(
                    busy = false,
                    filePasswordNeeded = false,
                    importFormat = read.format(),
                    pending = read.accounts(),
                    problems = read.errors().map(::describe),
                )
            }
        } catch (_: TwofoldException.PasswordRequired) {
            if (!s.current) return
            s.pendingFile = bytes
            _state.update { it.copy(busy = false, filePasswordNeeded = true) }
        } catch (_: TwofoldException.WrongCredential) {
            if (!s.current) return
            s.pendingFile = bytes
            _state.update { it.copy(busy = false, filePasswordNeeded = true, error = "Wrong password for this file") }
        } catch (e: TwofoldException) {
            if (s.current) _state.update { it.copy(busy = false, error = e.userMessage) }
        }
    }

    /** The password for the encrypted file read last. */
    fun filePassword(password: CharArray): Job {
        val bytes = session?.pendingFile ?: run {
            password.fill('\u0000')
            return scope.launch { }
        }
        return importFile(bytes, password)
    }

    /** The platform could not read the picked file or picture. */
    fun unreadable(message: String) = _state.update { it.copy(busy = false, error = message) }

    /**
     * Starts over: the screen is reset at once, and what the core held for the old session
     * (previews, a read import file) is closed as soon as a call still running on it returns.
     */
    fun cancel(): Job {
        val old = session
        session = if (closed) null else Session()
        _state.value = State()
        return scope.launch { old?.let { s -> s.lock.withLock { s.close() } } }
    }

    /** The unlocked session ends (the app locks): closes everything; the model is not used again. */
    fun close(): Job {
        closed = true
        return cancel()
    }

    private fun describe(e: ImportItemError): String =
        "#${e.index.toInt() + 1} ${e.label.ifBlank { "(no name)" }}: ${e.reason}"
}

/**
 * What the import file picker offers: every kind of file the core reads (JSON, text and XML
 * exports, ZIP archives, SQLite databases, KeePass databases, and files without a known type
 * such as `.maFile`, `.1pux` or an app's data folder files). The core decides from the contents.
 */
val IMPORT_MIME_TYPES: Array<String> = arrayOf(
    "*/*",
    "application/json",
    "text/plain",
    "text/xml",
    "application/xml",
    "application/zip",
    "application/x-zip-compressed",
    "application/vnd.sqlite3",
    "application/x-sqlite3",
    "application/x-keepass2",
    "application/octet-stream",
)

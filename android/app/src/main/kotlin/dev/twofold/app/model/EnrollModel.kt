package dev.twofold.app.model

import dev.twofold.EnrollmentScanner
import dev.twofold.TwofoldVault
import dev.twofold.VaultFailure
import dev.twofold.core.AddResult
import dev.twofold.core.EntryInput
import dev.twofold.core.ExportProgress
import dev.twofold.core.HashAlgorithm
import dev.twofold.core.ImportItemError
import dev.twofold.core.ImportSession
import dev.twofold.core.ImportedPreview
import dev.twofold.core.OtpParams
import dev.twofold.core.OtpType
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
        val result: AddResult? = null,
        val manual: Manual = Manual(),
    )

    private val _state = MutableStateFlow(State())
    val state: StateFlow<State> = _state.asStateFlow()

    private val scanner = EnrollmentScanner(io)
    private var import: ImportSession? = null
    private var pendingFile: ByteArray? = null
    private val scanLock = Mutex()

    private fun took(r: ScanResult) = _state.update {
        it.copy(
            pending = scanner.accounts(),
            progress = r.progress ?: it.progress,
            problems = (it.problems + r.errors).distinct(),
            error = null,
            result = null,
        )
    }

    private fun problem(e: VaultFailure) =
        _state.update { it.copy(problems = (it.problems + (e.message ?: "Unreadable code")).distinct()) }

    /**
     * One camera frame's Y plane (called for every analysed frame; frames without a code are
     * ignored, repeats of a code already scanned are harmless).
     */
    fun cameraFrame(width: Int, height: Int, rowStride: Int, luma: ByteArray): Job = scope.launch {
        scanLock.withLock {
            try {
                scanner.scanLuma(width, height, rowStride, luma)?.let(::took)
            } catch (e: VaultFailure) {
                problem(e)
            }
        }
    }

    /** A photo or screenshot (PNG/JPEG bytes). */
    fun picture(bytes: ByteArray): Job = scope.launch {
        scanLock.withLock {
            try {
                val r = scanner.scanImage(bytes)
                if (r == null) _state.update { it.copy(error = "No QR code found in this picture") } else took(r)
            } catch (e: VaultFailure) {
                _state.update { it.copy(error = e.message) }
            }
        }
    }

    /** Untick one scanned or imported account before adding. */
    fun removePending(index: Int) {
        val session = import
        val left = if (session != null) {
            session.remove(index.toUInt())
            session.accounts()
        } else {
            scanner.remove(index)
            scanner.accounts()
        }
        _state.update { it.copy(pending = left) }
    }

    /** Adds the scanned accounts, or the accounts of the read file. */
    fun confirm(): Job = scope.launch {
        _state.update { it.copy(busy = true, error = null) }
        try {
            val session = import
            val result = if (session != null) vault.addImported(session) else scanner.addTo(vault)
            import?.close()
            import = null
            _state.update { State(result = result) }
            onChanged()
        } catch (e: VaultFailure) {
            _state.update { it.copy(busy = false, error = e.message) }
        }
    }

    /**
     * An otpauth:// URI typed or pasted (the field's characters, wiped here): validated and
     * previewed by the core, then pending like a scanned code.
     */
    fun addUri(uri: CharArray): Job = scope.launch {
        val bytes = uri.toWipedUtf8()
        scanLock.withLock {
            try {
                took(scanner.scanText(bytes))
            } catch (e: VaultFailure) {
                _state.update { it.copy(error = e.message) }
            } finally {
                bytes.fill(0)
            }
        }
    }

    fun editManual(change: (Manual) -> Manual) = _state.update { it.copy(manual = change(it.manual), error = null) }

    /** Adds the manual entry; the core checks the secret and parameters and says what is wrong. */
    fun addManual(allowDuplicate: Boolean = false): Job = scope.launch {
        val m = _state.value.manual
        val digits = m.digits.toUByteOrNull()
        val period = m.period.toUIntOrNull()
        val counter = m.counter.toULongOrNull()
        val fieldError = when {
            digits == null -> "Digits must be a number"
            period == null -> "The period must be a number of seconds"
            counter == null -> "The counter must be a whole number"
            else -> null
        }
        if (fieldError != null) {
            _state.update { it.copy(error = fieldError) }
            return@launch
        }
        val input = EntryInput(
            params = OtpParams(m.type, m.algorithm, digits!!, period!!, counter!!),
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
            _state.update { State(result = AddResult(listOf(added.id), emptyList())) }
            onChanged()
        } catch (e: VaultFailure) {
            _state.update { it.copy(busy = false, error = e.message) }
        }
    }

    /** Another app's export file (read through the Storage Access Framework). */
    fun importFile(bytes: ByteArray, password: CharArray? = null): Job = scope.launch {
        _state.update { it.copy(busy = true, error = null) }
        try {
            val session = readImport(bytes, password?.toWipedUtf8(), io = io)
            import?.close()
            import = session
            pendingFile?.fill(0)
            pendingFile = null
            _state.update {
                it.copy(
                    busy = false,
                    filePasswordNeeded = false,
                    importFormat = session.format(),
                    pending = session.accounts(),
                    problems = session.errors().map(::describe),
                )
            }
        } catch (_: VaultFailure.PasswordRequired) {
            pendingFile = bytes
            _state.update { it.copy(busy = false, filePasswordNeeded = true) }
        } catch (_: VaultFailure.WrongCredential) {
            pendingFile = bytes
            _state.update { it.copy(busy = false, filePasswordNeeded = true, error = "Wrong password for this file") }
        } catch (e: VaultFailure) {
            _state.update { it.copy(busy = false, error = e.message) }
        }
    }

    /** The password for the encrypted file read last. */
    fun filePassword(password: CharArray): Job {
        val bytes = pendingFile ?: return scope.launch { }
        return importFile(bytes, password)
    }

    /** The platform could not read the picked file or picture. */
    fun unreadable(message: String) = _state.update { it.copy(busy = false, error = message) }

    fun cancel() {
        import?.close()
        import = null
        pendingFile?.fill(0)
        pendingFile = null
        for (i in scanner.accounts().indices.reversed()) scanner.remove(i)
        _state.value = State()
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

package dev.twofold.app.model

import dev.twofold.TwofoldVault
import dev.twofold.VaultFailure
import dev.twofold.core.QrMatrix
import dev.twofold.core.SkippedEntry
import dev.twofold.core.autoBackupName
import dev.twofold.toWipedUtf8
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.launch

/**
 * Proving it is still the owner before secrets leave the vault (exports, sending a transfer):
 * the password or biometrics must open the vault again.
 */
class Reauthentication(private val vault: TwofoldVault, private val biometrics: BiometricKeys?) {
    suspend fun withPassword(password: CharArray) {
        vault.unlockWithPassword(password.toWipedUtf8())
    }

    suspend fun withBiometrics() {
        val keys = biometrics ?: throw VaultFailure.NotFound("No biometric unlock on this phone")
        vault.unlockWithBiometrics(keys)
    }

    /** A biometric slot of this phone exists and biometrics can be used now. */
    suspend fun hasBiometrics(): Boolean {
        val keys = biometrics ?: return false
        return keys.usable() && runCatching { vault.biometricSlots(keys).isNotEmpty() }.getOrDefault(false)
    }

    sealed interface Outcome {
        data object Confirmed : Outcome

        /** The user closed the biometric prompt: nothing to report. */
        data object Cancelled : Outcome

        data class Refused(val message: String) : Outcome
    }

    /** Runs one proof (password or biometrics, plus what must follow it) and says how it went. */
    suspend fun prove(proof: suspend Reauthentication.() -> Unit): Outcome =
        try {
            proof()
            Outcome.Confirmed
        } catch (_: BiometricCancelled) {
            Outcome.Cancelled
        } catch (_: VaultFailure.WrongCredential) {
            Outcome.Refused("Wrong password")
        } catch (e: VaultFailure) {
            Outcome.Refused(e.message ?: "Not confirmed")
        }
}

/**
 * The export screen: after re-authentication, the accounts leave in the format the user picks
 * — a file for the Storage Access Framework to save, or Google Authenticator QR codes drawn on
 * screen. What a format cannot hold is listed, never dropped silently.
 */
class ExportModel(
    private val vault: TwofoldVault,
    private val reauth: Reauthentication,
    private val scope: CoroutineScope,
    private val clock: () -> Long = System::currentTimeMillis,
) {
    enum class Format(val label: String) {
        TWOFOLD_BACKUP("Twofold backup (encrypted)"),
        AEGIS_ENCRYPTED("Aegis (encrypted)"),
        AEGIS_PLAIN("Aegis (not encrypted)"),
        OTPAUTH_LIST("otpauth:// links (not encrypted)"),
        CXF("Credential Exchange (CXF, not encrypted)"),
        GOOGLE_QR("Google Authenticator QR codes"),
    }

    data class State(
        val authenticated: Boolean = false,
        val biometricAvailable: Boolean = false,
        val busy: Boolean = false,
        val error: String? = null,
        /** Google Authenticator export: the codes to draw on screen, one after another. */
        val googleCodes: List<QrMatrix> = emptyList(),
        /** Accounts the chosen format cannot hold (listed, never dropped silently). */
        val skipped: List<SkippedEntry> = emptyList(),
        /** The file name of the export just saved and checked. */
        val saved: String? = null,
    )

    private val _state = MutableStateFlow(State())
    val state: StateFlow<State> = _state.asStateFlow()

    fun load(): Job = scope.launch {
        val bio = runCatching { reauth.hasBiometrics() }.getOrDefault(false)
        _state.update { it.copy(biometricAvailable = bio) }
    }

    fun authenticateWithPassword(password: CharArray): Job = authenticate { withPassword(password) }

    fun authenticateWithBiometrics(): Job = authenticate { withBiometrics() }

    private fun authenticate(proof: suspend Reauthentication.() -> Unit): Job = scope.launch {
        _state.update { it.copy(busy = true, error = null) }
        val outcome = reauth.prove(proof)
        _state.update {
            it.copy(
                busy = false,
                authenticated = outcome == Reauthentication.Outcome.Confirmed,
                error = (outcome as? Reauthentication.Outcome.Refused)?.message,
            )
        }
    }

    /** The name to suggest in the system's "save as" dialog. */
    fun fileName(format: Format): String = when (format) {
        Format.TWOFOLD_BACKUP -> autoBackupName(clock()).replaceFirst("twofold-", "twofold-export-")
        Format.AEGIS_ENCRYPTED, Format.AEGIS_PLAIN -> "aegis-export.json"
        Format.OTPAUTH_LIST -> "twofold-accounts.txt"
        Format.CXF -> "twofold-export.cxf.json"
        Format.GOOGLE_QR -> ""
    }

    fun mimeType(format: Format): String = when (format) {
        Format.TWOFOLD_BACKUP -> "application/octet-stream"
        Format.OTPAUTH_LIST -> "text/plain"
        else -> "application/json"
    }

    /**
     * Produces the export. Files go to [write] (the document the user chose), which returns
     * what reading it back gives: the export counts as saved only when that matches (and, for
     * a Twofold backup, decrypts to the vault). [password] (wiped) for the encrypted formats.
     */
    fun export(
        format: Format,
        password: CharArray? = null,
        name: String = fileName(format),
        write: (suspend (ByteArray) -> ByteArray)? = null,
    ): Job = scope.launch {
        val pw = password?.toWipedUtf8()
        if (!_state.value.authenticated) {
            pw?.fill(0)
            _state.update { it.copy(error = "Confirm it is you first") }
            return@launch
        }
        _state.update { it.copy(busy = true, error = null, googleCodes = emptyList(), skipped = emptyList(), saved = null) }
        try {
            val needsPassword = format == Format.TWOFOLD_BACKUP || format == Format.AEGIS_ENCRYPTED
            if (needsPassword && (pw == null || pw.isEmpty())) throw VaultFailure.InvalidInput("Choose a password for the exported file")
            if (format == Format.GOOGLE_QR) {
                val g = vault.exportGoogleMigration()
                _state.update { it.copy(busy = false, googleCodes = g.codes, skipped = g.skipped) }
                return@launch
            }
            val sink = write ?: throw VaultFailure.InvalidInput("Choose where to save the file")
            if (format == Format.TWOFOLD_BACKUP) {
                vault.backupToDocument(pw, name, sink)
                _state.update { it.copy(busy = false, saved = name) }
                return@launch
            }
            var skipped = emptyList<SkippedEntry>()
            // The facade hands the export's bytes to the writer and wipes them afterwards.
            val save: suspend (ByteArray) -> Unit = { bytes ->
                val back = sink(bytes)
                try {
                    if (!back.contentEquals(bytes)) throw VaultFailure.Storage("The saved file does not read back the same; save it again")
                } finally {
                    back.fill(0)
                }
            }
            when (format) {
                Format.AEGIS_ENCRYPTED, Format.AEGIS_PLAIN -> vault.exportAegis(pw?.takeIf { format == Format.AEGIS_ENCRYPTED }, save)
                Format.OTPAUTH_LIST -> vault.exportOtpauthList(save)
                else -> vault.exportCxf(clock()) { bytes, left -> skipped = left; save(bytes) }
            }
            _state.update { it.copy(busy = false, skipped = skipped, saved = name) }
        } catch (e: VaultFailure) {
            _state.update { it.copy(busy = false, error = e.message) }
        } catch (e: java.io.IOException) {
            _state.update { it.copy(busy = false, error = "The file could not be saved: ${e.message}") }
        } finally {
            pw?.fill(0)
        }
    }

    /** Leaving the screen ends the re-authentication and drops the codes on screen. */
    fun close() {
        _state.value = State()
    }
}

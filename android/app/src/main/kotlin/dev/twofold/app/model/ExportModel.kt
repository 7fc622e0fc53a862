package dev.twofold.app.model

import dev.twofold.core.InputProblem
import dev.twofold.inputFailure
import dev.twofold.userMessage
import dev.twofold.TwofoldVault
import dev.twofold.core.TwofoldException
import dev.twofold.core.ExportFormat
import dev.twofold.core.ExportFormatInfo
import dev.twofold.core.QrMatrix
import dev.twofold.core.SkippedEntry
import dev.twofold.exportFormats
import dev.twofold.saveExport
import dev.twofold.toWipedUtf8
import dev.twofold.verifyPassword
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.launch

/**
 * Proving it is still the owner before secrets leave the vault (exports, sending a transfer):
 * the password or biometrics, checked by the core against the open vault in memory (the file
 * is not read again, the session not replaced).
 */
class Reauthentication(private val vault: TwofoldVault, private val biometrics: BiometricKeys?) {
    suspend fun withPassword(password: CharArray) {
        vault.verifyPassword(password.toWipedUtf8())
    }

    suspend fun withBiometrics() {
        val keys = biometrics ?: throw inputFailure(InputProblem.BiometricsUnavailable, "no biometric unlock on this phone")
        vault.verifyWithBiometrics(keys)
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
        } catch (_: TwofoldException.WrongCredential) {
            Outcome.Refused("Wrong password")
        } catch (e: TwofoldException) {
            Outcome.Refused(e.userMessage)
        }
}

/**
 * The export screen: after re-authentication, the accounts leave in the format the user picks
 * — a file for the Storage Access Framework to save, or Google Authenticator QR codes drawn on
 * screen. The formats, their file names and MIME types, which need a password and which leave
 * the secrets readable, and whether a saved file reads back right, are the core's
 * ([exportFormats], [saveExport]). What a format cannot hold is listed, never dropped silently.
 */
class ExportModel(
    private val vault: TwofoldVault,
    private val reauth: Reauthentication,
    private val scope: CoroutineScope,
    private val clock: () -> Long = System::currentTimeMillis,
) {
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

    /** The formats to offer, in order, with the file name to suggest (named at [clock]). */
    fun formats(): List<ExportFormatInfo> = exportFormats(clock())

    /** The catalogue entry of [format]. */
    fun info(format: ExportFormat): ExportFormatInfo = formats().first { it.format == format }

    /**
     * Produces the export. Files go to [write] (the document the user chose), which returns
     * what reading it back gives: the core counts the export as saved only when that matches
     * (and, for a Twofold backup, decrypts to the vault). [password] (wiped) for the
     * encrypted formats.
     */
    fun export(
        format: ExportFormat,
        password: CharArray? = null,
        name: String = info(format).fileName,
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
            if (!info(format).isFile) {
                val g = vault.exportGoogleMigration()
                _state.update { it.copy(busy = false, googleCodes = g.codes, skipped = g.skipped) }
                return@launch
            }
            val sink = write ?: throw inputFailure(InputProblem.NoDestination)
            val skipped = vault.saveExport(format, pw, clock(), sink)
            _state.update { it.copy(busy = false, skipped = skipped, saved = name) }
        } catch (e: TwofoldException) {
            _state.update { it.copy(busy = false, error = e.userMessage) }
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

package dev.twofold.app.model

import dev.twofold.core.InputProblem
import dev.twofold.inputFailure
import dev.twofold.userMessage
import dev.twofold.TwofoldVault
import dev.twofold.core.TwofoldException
import dev.twofold.core.PasswordStrength
import dev.twofold.toWipedUtf8
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.launch

/**
 * Unlocking: biometrics when this phone has a biometric slot and can use biometrics now, the
 * password, or the recovery key (after which a new password must be set). A keystore key that
 * no longer unwraps (invalidated by a new biometric enrollment, or refused by the keystore in
 * any other way) falls back to the password and marks biometrics for re-enrollment — never a
 * lock-out. There is no attempt limit: the core's key derivation is the throttle.
 */
class UnlockModel(
    private val vault: TwofoldVault,
    private val biometrics: BiometricKeys?,
    private val settings: SettingsStore,
    private val scope: CoroutineScope,
    private val io: CoroutineDispatcher,
    private val onUnlocked: (TwofoldVault) -> Unit,
) {
    enum class Mode { PASSWORD, RECOVERY_KEY, NEW_PASSWORD }

    data class State(
        val mode: Mode = Mode.PASSWORD,
        val biometricAvailable: Boolean = false,
        val busy: Boolean = false,
        val error: String? = null,
        /** The vault's current file was damaged; the previous generation was opened. */
        val recoveredFromPrevious: Boolean = false,
        val newPasswordStrength: PasswordStrength? = null,
    )

    private val _state = MutableStateFlow(State())
    val state: StateFlow<State> = _state.asStateFlow()

    /**
     * Reads the slots (possible while locked) and asks the phone whether biometrics can be used
     * now, to know whether to offer them. Called each time the unlock screen shows.
     */
    fun load(): Job = scope.launch {
        val keys = biometrics
        val offer = keys != null && keys.usable() && !settings.biometricNeedsReenroll &&
            runCatching { vault.biometricSlots(keys).isNotEmpty() }.getOrDefault(false)
        _state.update { it.copy(biometricAvailable = offer) }
    }

    fun unlockWithBiometrics(): Job = attempt {
        val keys = biometrics ?: return@attempt
        try {
            finish(vault.unlockWithBiometrics(keys).recoveredFromPrevious)
        } catch (e: TwofoldException.PlatformKeyInvalidated) {
            settings.biometricNeedsReenroll = true
            _state.update {
                it.copy(biometricAvailable = false, error = "Biometrics changed on this phone. Unlock with your password; you can then set up biometric unlock again.")
            }
        }
    }

    fun unlockWithPassword(password: CharArray): Job {
        val bytes = password.toWipedUtf8()
        return attempt { finish(vault.unlockWithPassword(bytes).recoveredFromPrevious) }
    }

    fun useRecoveryKey() = _state.update { it.copy(mode = Mode.RECOVERY_KEY, error = null) }

    fun usePassword() = _state.update { it.copy(mode = Mode.PASSWORD, error = null) }

    /** Unlocks with the recovery key, then asks for a new password (the old one is forgotten). */
    fun unlockWithRecoveryKey(typed: String): Job = attempt {
        val info = vault.unlockWithRecoveryKey(typed)
        _state.update { it.copy(mode = Mode.NEW_PASSWORD, busy = false, recoveredFromPrevious = info.recoveredFromPrevious) }
    }

    private val feedback = PasswordFeedback(scope, io) { s -> _state.update { it.copy(newPasswordStrength = s, error = null) } }

    fun newPasswordChanged(password: CharArray): Job = feedback.typed(password)

    /** After a recovery-key unlock: the new password replaces the old one. */
    fun setNewPassword(password: CharArray, confirmation: CharArray): Job {
        val same = password.contentEquals(confirmation)
        confirmation.fill('\u0000')
        val bytes = password.toWipedUtf8()
        return attempt {
            if (!same) {
                bytes.fill(0)
                throw inputFailure(InputProblem.PasswordsDiffer)
            }
            judgePassword(bytes, io).refusal?.let {
                bytes.fill(0)
                throw inputFailure(InputProblem.PasswordRefused, it)
            }
            vault.changePassword(bytes)
            finish(_state.value.recoveredFromPrevious)
        }
    }

    private fun finish(recovered: Boolean) {
        _state.update { it.copy(busy = false, error = null, recoveredFromPrevious = recovered) }
        onUnlocked(vault)
    }

    private fun attempt(block: suspend () -> Unit): Job = scope.launch {
        _state.update { it.copy(busy = true, error = null) }
        try {
            block()
        } catch (_: BiometricCancelled) {
        } catch (e: TwofoldException.WrongCredential) {
            val what = if (_state.value.mode == Mode.RECOVERY_KEY) "recovery key" else "password"
            _state.update { it.copy(error = "Wrong $what") }
        } catch (e: TwofoldException) {
            _state.update { it.copy(error = e.userMessage) }
        } finally {
            _state.update { it.copy(busy = false) }
        }
    }
}

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
 * Security settings: auto-lock delay, tap-to-reveal, biometric unlock on/off and re-enrollment
 * after the keystore invalidated its key, password change, and a new recovery key.
 */
class SettingsModel(
    private val vault: TwofoldVault,
    private val biometrics: BiometricKeys?,
    private val settings: SettingsStore,
    private val scope: CoroutineScope,
    private val io: CoroutineDispatcher,
) {
    data class State(
        val autoLockSeconds: Int = 30,
        val tapToReveal: Boolean = false,
        val biometricsAvailable: Boolean = false,
        val biometricsEnabled: Boolean = false,
        val biometricsNeedReenroll: Boolean = false,
        val newPasswordStrength: PasswordStrength? = null,
        /** A new recovery key, shown once. */
        val newRecoveryKey: String? = null,
        val busy: Boolean = false,
        val message: String? = null,
    )

    private val _state = MutableStateFlow(State())
    val state: StateFlow<State> = _state.asStateFlow()

    /** Reads the settings, this phone's biometric slots, and whether biometrics can be used now. */
    fun load(): Job = scope.launch {
        val keys = biometrics
        val enabled = keys != null && runCatching { vault.biometricSlots(keys).isNotEmpty() }.getOrDefault(false)
        val usable = keys.usable()
        _state.update {
            it.copy(
                autoLockSeconds = settings.autoLockSeconds,
                tapToReveal = settings.tapToReveal,
                biometricsAvailable = usable || enabled,
                biometricsEnabled = enabled && !settings.biometricNeedsReenroll,
                biometricsNeedReenroll = settings.biometricNeedsReenroll,
            )
        }
    }

    fun setAutoLock(seconds: Int) {
        settings.autoLockSeconds = seconds
        _state.update { it.copy(autoLockSeconds = seconds) }
    }

    fun setTapToReveal(on: Boolean) {
        settings.tapToReveal = on
        _state.update { it.copy(tapToReveal = on) }
    }

    /**
     * Turns biometric unlock on, or sets it up again after the old key was invalidated: a new
     * key replaces this phone's old slot in one commit, and only then is the old key deleted
     * (a cancelled prompt leaves the old one working).
     */
    fun enableBiometrics(): Job = run {
        val keys = biometrics ?: throw inputFailure(InputProblem.BiometricsUnavailable, "this phone has no biometric hardware")
        if (!keys.usable()) throw inputFailure(InputProblem.BiometricsUnavailable, "no fingerprint or face enrolled")
        vault.enrollBiometrics(keys, "Biometric unlock")
        settings.biometricNeedsReenroll = false
        "Biometric unlock is on"
    }

    fun disableBiometrics(): Job = run {
        biometrics?.let { vault.disableBiometrics(it) }
        settings.biometricNeedsReenroll = false
        "Biometric unlock is off"
    }

    private val feedback = PasswordFeedback(scope, io) { s -> _state.update { it.copy(newPasswordStrength = s) } }

    fun newPasswordChanged(password: CharArray): Job = feedback.typed(password)

    /** Re-authenticates with the current password, then sets the new one. */
    fun changePassword(current: CharArray, new: CharArray, confirmation: CharArray): Job {
        val same = new.contentEquals(confirmation)
        confirmation.fill('\u0000')
        val currentBytes = current.toWipedUtf8()
        val newBytes = new.toWipedUtf8()
        return run {
            try {
                if (!same) throw inputFailure(InputProblem.PasswordsDiffer)
                judgePassword(newBytes, io).refusal?.let { throw inputFailure(InputProblem.PasswordRefused, it) }
                // A wrong current password is `WrongCredential`, shown as such.
                vault.unlockWithPassword(currentBytes)
                vault.changePassword(newBytes)
                "Password changed"
            } finally {
                currentBytes.fill(0)
                newBytes.fill(0)
            }
        }
    }

    /** Replaces the recovery key (the old one stops working); the new one is shown once. */
    fun rotateRecoveryKey(): Job = run {
        val key = vault.rotateRecoveryKey()
        _state.update { it.copy(newRecoveryKey = key) }
        "Write down the new recovery key; the old one no longer works"
    }

    fun recoveryKeyWrittenDown() = _state.update { it.copy(newRecoveryKey = null, message = null) }

    private fun run(block: suspend () -> String): Job = scope.launch {
        _state.update { it.copy(busy = true, message = null) }
        val message = try {
            block()
        } catch (_: BiometricCancelled) {
            null
        } catch (e: TwofoldException) {
            e.userMessage
        }
        _state.update { it.copy(busy = false, message = message) }
        load().join()
    }
}

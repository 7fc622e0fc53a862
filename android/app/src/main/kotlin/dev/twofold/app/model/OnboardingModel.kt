package dev.twofold.app.model

import dev.twofold.userMessage
import dev.twofold.TwofoldVault
import dev.twofold.core.TwofoldException
import dev.twofold.core.KdfSettings
import dev.twofold.core.TrustStore
import dev.twofold.core.PasswordStrength
import dev.twofold.core.defaultKdf
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
 * Creating a vault: choose a password (strength judged by the core), see the recovery key
 * once, prove it was written down by typing it back (the core checks it opens the vault's
 * recovery slot), then optionally enroll biometric unlock.
 */
class OnboardingModel(
    private val vaultPath: String,
    private val trust: TrustStore,
    private val biometrics: BiometricKeys?,
    private val scope: CoroutineScope,
    private val io: CoroutineDispatcher,
    private val onDone: (TwofoldVault) -> Unit,
    private val kdf: KdfSettings = defaultKdf(),
) {
    sealed interface Step {
        data object ChoosePassword : Step

        /** Shown once; the key is dropped from memory when this step is left. */
        data class ShowRecoveryKey(val recoveryKey: String) : Step

        data object ConfirmRecoveryKey : Step

        data object OfferBiometrics : Step

        data object Done : Step
    }

    data class State(
        val step: Step = Step.ChoosePassword,
        val strength: PasswordStrength? = null,
        val busy: Boolean = false,
        val error: String? = null,
        val biometricsAvailable: Boolean = false,
    )

    private val _state = MutableStateFlow(State(biometricsAvailable = biometrics.usable()))
    val state: StateFlow<State> = _state.asStateFlow()

    private var vault: TwofoldVault? = null
    private var recoveryKey: String? = null

    /** Live feedback while typing; [password] is wiped. */
    private val feedback = PasswordFeedback(scope, io) { s -> _state.update { it.copy(strength = s, error = null) } }

    fun passwordChanged(password: CharArray): Job = feedback.typed(password)

    /** Creates the vault when both entries match and the core finds the password acceptable. */
    fun create(password: CharArray, confirmation: CharArray): Job = scope.launch {
        val same = password.contentEquals(confirmation)
        confirmation.fill('\u0000')
        if (!same) {
            password.fill('\u0000')
            _state.update { it.copy(error = "The passwords do not match") }
            return@launch
        }
        val bytes = password.toWipedUtf8()
        val strength = judgePassword(bytes, io)
        val why = strength.refusal
        if (why != null) {
            bytes.fill(0)
            _state.update { it.copy(strength = strength, error = why) }
            return@launch
        }
        _state.update { it.copy(busy = true, error = null) }
        try {
            val (created, key) = TwofoldVault.create(vaultPath, bytes, trust, kdf, io)
            vault = created
            recoveryKey = key
            _state.update { it.copy(step = Step.ShowRecoveryKey(key), busy = false, strength = null) }
        } catch (e: TwofoldException) {
            _state.update { it.copy(busy = false, error = e.userMessage) }
        }
    }

    /** "I wrote it down": ask for it back. */
    fun recoveryKeyWrittenDown() {
        _state.update { it.copy(step = Step.ConfirmRecoveryKey, error = null) }
    }

    /** Back to the key (the user had not written it down after all). */
    fun showRecoveryKeyAgain() {
        val key = recoveryKey ?: return
        _state.update { it.copy(step = Step.ShowRecoveryKey(key), error = null) }
    }

    /** The typed key must open the vault's recovery slot. */
    fun confirmRecoveryKey(typed: String): Job = scope.launch {
        val v = vault ?: return@launch
        _state.update { it.copy(busy = true, error = null) }
        try {
            v.unlockWithRecoveryKey(typed)
            recoveryKey = null
            // Asked now, not at launch: the user may have set up a fingerprint meanwhile.
            val next = if (biometrics.usable()) Step.OfferBiometrics else Step.Done
            _state.update { it.copy(step = next, busy = false) }
            if (next == Step.Done) onDone(v)
        } catch (e: TwofoldException.RecoveryKeyTypo) {
            _state.update { it.copy(busy = false, error = e.userMessage) }
        } catch (_: TwofoldException.WrongCredential) {
            _state.update { it.copy(busy = false, error = "That is not the recovery key shown before") }
        } catch (e: TwofoldException) {
            _state.update { it.copy(busy = false, error = e.userMessage) }
        }
    }

    /** Adds a biometric slot (the keystore shows the prompt). */
    fun enableBiometrics(): Job = scope.launch {
        val v = vault ?: return@launch
        val keys = biometrics ?: return@launch finish(v)
        _state.update { it.copy(busy = true, error = null) }
        try {
            v.enrollBiometrics(keys, "Biometric unlock")
            finish(v)
        } catch (_: BiometricCancelled) {
            _state.update { it.copy(busy = false) }
        } catch (e: TwofoldException) {
            _state.update { it.copy(busy = false, error = e.userMessage) }
        }
    }

    fun skipBiometrics() {
        vault?.let(::finish)
    }

    private fun finish(v: TwofoldVault) {
        _state.update { it.copy(step = Step.Done, busy = false) }
        onDone(v)
    }
}

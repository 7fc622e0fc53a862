package dev.twofold.app.model

import dev.twofold.PlatformKeystore
import dev.twofold.TwofoldVault
import dev.twofold.VaultFailure
import dev.twofold.core.KdfSettings
import dev.twofold.core.TrustStore
import dev.twofold.core.defaultKdf
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.launch

/** Which top-level screen the app shows. */
sealed interface Route {
    data object Loading : Route

    /** No vault yet: create one. */
    data object Onboarding : Route

    data class Locked(val vault: TwofoldVault) : Route

    data class Unlocked(val vault: TwofoldVault) : Route

    /** The vault could not even be opened (permissions, storage); [message] says why. */
    data class Failed(val message: String) : Route
}

/**
 * The app's top level: finds the vault, routes between onboarding, unlock and the unlocked
 * screens, and locks after the app spent [SettingsStore.autoLockSeconds] in the background.
 * The lock timer runs while backgrounded and is checked again on return (the process may have
 * been frozen, so the timer alone is not trusted).
 *
 * Like every model here it is confined to one thread: [scope] runs on the main thread and
 * the glue calls it from there.
 */
class AppModel(
    private val vaultPath: String,
    /** Where this device keeps its record of the vault (Keystore-protected storage). */
    private val trust: TrustStore,
    val keystore: PlatformKeystore?,
    val settings: SettingsStore,
    private val scope: CoroutineScope,
    private val monotonicMs: () -> Long,
    private val sleep: suspend (Long) -> Unit = { delay(it) },
    private val io: CoroutineDispatcher = Dispatchers.IO,
) {
    private val _route = MutableStateFlow<Route>(Route.Loading)
    val route: StateFlow<Route> = _route.asStateFlow()

    private var backgroundedAt: Long? = null
    private var lockJob: Job? = null

    /** Opens the vault file, locked; no file means onboarding. */
    fun start(): Job = scope.launch {
        _route.value = try {
            Route.Locked(TwofoldVault.open(vaultPath, trust, io))
        } catch (_: VaultFailure.NotFound) {
            Route.Onboarding
        } catch (e: VaultFailure) {
            Route.Failed(e.message ?: "The vault could not be opened")
        }
    }

    fun onboarding(kdf: KdfSettings = defaultKdf()): OnboardingModel =
        OnboardingModel(vaultPath, trust, keystore, scope, io, onDone = ::onUnlocked, kdf = kdf)

    fun unlock(vault: TwofoldVault): UnlockModel = UnlockModel(vault, keystore, settings, scope, io, onUnlocked = ::onUnlocked)

    /** Called by onboarding and unlock once the vault is open. */
    fun onUnlocked(vault: TwofoldVault) {
        _route.value = Route.Unlocked(vault)
    }

    /** Locks now: the core zeroizes the key and the decrypted accounts. */
    fun lock() {
        lockJob?.cancel()
        lockJob = null
        val current = _route.value
        if (current is Route.Unlocked) {
            current.vault.lock()
            _route.value = Route.Locked(current.vault)
        }
    }

    /** The app left the screen (Activity stopped). */
    fun onBackground() {
        if (_route.value !is Route.Unlocked) return
        val seconds = settings.autoLockSeconds
        if (seconds < 0) return
        if (seconds == 0) return lock()
        backgroundedAt = monotonicMs()
        lockJob?.cancel()
        lockJob = scope.launch {
            sleep(seconds * 1000L)
            lock()
        }
    }

    /** The app is visible again. */
    fun onForeground() {
        val since = backgroundedAt ?: return
        backgroundedAt = null
        lockJob?.cancel()
        lockJob = null
        val seconds = settings.autoLockSeconds
        if (seconds >= 0 && monotonicMs() - since >= seconds * 1000L) lock()
    }
}

package dev.twofold.app.model

import dev.twofold.userMessage
import dev.twofold.TwofoldVault
import dev.twofold.core.AutoLock
import dev.twofold.core.AutoLockAction
import dev.twofold.core.TwofoldException
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
 * The rule is the core's ([AutoLock]: the delay, checked again on return because the process
 * may have been frozen; not while a system picker the app opened is in front, for up to ten
 * minutes, so the picker's answer reaches an unlocked vault). This model feeds it
 * [monotonicMs], which must keep counting while the phone sleeps (Android's
 * `SystemClock.elapsedRealtime`), and runs the timer it asks for.
 *
 * Like every model here it is confined to one thread: [scope] runs on the main thread and
 * the glue calls it from there.
 */
class AppModel(
    private val vaultPath: String,
    /** Where this device keeps its record of the vault (Keystore-protected storage). */
    private val trust: TrustStore,
    val biometrics: BiometricKeys?,
    val settings: SettingsStore,
    private val scope: CoroutineScope,
    private val monotonicMs: () -> Long,
    private val sleep: suspend (Long) -> Unit = { delay(it) },
    private val io: CoroutineDispatcher = Dispatchers.IO,
) {
    private val _route = MutableStateFlow<Route>(Route.Loading)
    val route: StateFlow<Route> = _route.asStateFlow()

    private val autoLock = AutoLock(settings.autoLockSeconds.toLong())
    private var lockJob: Job? = null
    private val beforeLock = mutableListOf<() -> Unit>()

    /** Opens the vault file, locked; no file means onboarding. */
    fun start(): Job = scope.launch {
        _route.value = try {
            Route.Locked(TwofoldVault.open(vaultPath, trust, io))
        } catch (_: TwofoldException.NotFound) {
            Route.Onboarding
        } catch (e: TwofoldException) {
            Route.Failed(e.userMessage)
        }
    }

    fun onboarding(kdf: KdfSettings = defaultKdf()): OnboardingModel =
        OnboardingModel(vaultPath, trust, biometrics, scope, io, onDone = ::onUnlocked, kdf = kdf)

    fun unlock(vault: TwofoldVault): UnlockModel = UnlockModel(vault, biometrics, settings, scope, io, onUnlocked = ::onUnlocked)

    /** Called by onboarding and unlock once the vault is open. */
    fun onUnlocked(vault: TwofoldVault) {
        _route.value = Route.Unlocked(vault)
    }

    /**
     * [stop] runs at the next lock, before the core forgets the key: the unlocked session's
     * models stop their tickers and close their sessions there, so none of them calls a locked
     * vault. Registered once per unlocked session.
     */
    fun beforeLock(stop: () -> Unit) {
        beforeLock += stop
    }

    /** Locks now: the session's models stop, then the core zeroizes the key and the accounts. */
    fun lock() {
        lockJob?.cancel()
        lockJob = null
        autoLock.locked()
        val current = _route.value
        if (current is Route.Unlocked) {
            val stops = beforeLock.toList()
            beforeLock.clear()
            for (stop in stops) stop()
            current.vault.lock()
            _route.value = Route.Locked(current.vault)
        }
    }

    /** A system picker the app opened is now in front (call before launching it). */
    fun pickerOpened() = autoLock.pickerOpened()

    /** Its answer arrived (or it was dismissed). */
    fun pickerClosed() = autoLock.pickerClosed()

    /** The app left the screen (Activity stopped). */
    fun onBackground() {
        if (_route.value !is Route.Unlocked) return
        autoLock.setDelay(settings.autoLockSeconds.toLong())
        lockJob?.cancel()
        lockJob = null
        when (val action = autoLock.backgrounded(monotonicMs())) {
            is AutoLockAction.LockNow -> lock()
            is AutoLockAction.LockAfter -> lockJob = scope.launch {
                sleep(action.ms.toLong())
                if (autoLock.timerFired()) lock()
            }
            is AutoLockAction.Stay -> {}
        }
    }

    /** The app is visible again. */
    fun onForeground() {
        lockJob?.cancel()
        lockJob = null
        if (autoLock.foregrounded(monotonicMs())) lock()
    }
}

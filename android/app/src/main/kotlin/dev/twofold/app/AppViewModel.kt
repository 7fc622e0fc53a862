package dev.twofold.app

import android.app.Application
import android.content.Intent
import android.net.Uri
import android.os.SystemClock
import androidx.fragment.app.FragmentActivity
import androidx.lifecycle.AndroidViewModel
import androidx.lifecycle.DefaultLifecycleObserver
import androidx.lifecycle.LifecycleOwner
import androidx.lifecycle.ProcessLifecycleOwner
import androidx.lifecycle.viewModelScope
import dev.twofold.TwofoldVault
import dev.twofold.app.model.AppModel
import dev.twofold.app.model.BackupModel
import dev.twofold.app.model.CodesModel
import dev.twofold.app.model.EnrollModel
import dev.twofold.app.model.ExportModel
import dev.twofold.app.model.Reauthentication
import dev.twofold.app.model.ReceiveModel
import dev.twofold.app.model.SendModel
import dev.twofold.app.model.SettingsModel
import dev.twofold.app.model.SyncModel
import dev.twofold.app.model.UnlockModel
import dev.twofold.app.platform.AndroidClipboard
import dev.twofold.app.platform.AndroidBiometricKeys
import dev.twofold.app.platform.NetworkTime
import dev.twofold.app.platform.KeystoreTrustStore
import dev.twofold.app.platform.PrefsSettings
import dev.twofold.app.platform.PrefsSyncSettings
import dev.twofold.app.platform.SafBackupFolder
import dev.twofold.app.platform.SafSyncStorage
import dev.twofold.app.platform.SyncSessions
import dev.twofold.app.platform.SyncWorker
import kotlinx.coroutines.Dispatchers
import java.io.File
import java.lang.ref.WeakReference

/**
 * Glue: owns the plain-Kotlin models for the lifetime of the app's task, runs them on the main
 * thread's scope, and connects them to Android services. No decisions are made here.
 */
class AppViewModel(application: Application) : AndroidViewModel(application) {
    private var activity = WeakReference<FragmentActivity>(null)
    private val settings = PrefsSettings(application)
    private val syncSettings = PrefsSyncSettings(application)

    /** One for the app's lifetime (codes copied in one unlocked session are cleared in the next). */
    private val clipboard = AndroidClipboard(application)

    /** Always there: whether biometrics can be used is asked each time, not at launch. */
    private val biometrics = AndroidBiometricKeys(application) { activity.get() }

    val app = AppModel(
        vaultPath = File(application.noBackupFilesDir, "vault.twofold").path,
        trust = KeystoreTrustStore(application),
        biometrics = biometrics,
        settings = settings,
        scope = viewModelScope,
        monotonicMs = SystemClock::elapsedRealtime,
    )

    private val lifecycle = object : DefaultLifecycleObserver {
        override fun onStop(owner: LifecycleOwner) = app.onBackground()

        override fun onStart(owner: LifecycleOwner) {
            app.onForeground()
            unlocked?.sync?.start()
        }
    }

    init {
        ProcessLifecycleOwner.get().lifecycle.addObserver(lifecycle)
        app.start()
        SyncWorker.schedule(application)
    }

    fun attach(host: FragmentActivity) {
        activity = WeakReference(host)
    }

    /**
     * The window has the focus again: only now may the app read the clipboard (Android 10+),
     * so a clearing that had to wait while Twofold was in the background happens here.
     */
    fun windowFocused() {
        clipboard.onFocus()
    }

    /** Kept here, not in the composition, so a rotation never loses a step (or the recovery key). */
    val onboarding by lazy { app.onboarding() }

    private var unlock: Pair<TwofoldVault, UnlockModel>? = null

    fun unlockModel(vault: TwofoldVault): UnlockModel =
        unlock?.takeIf { it.first === vault }?.second ?: app.unlock(vault).also {
            it.load()
            unlock = vault to it
        }

    /**
     * The models of one unlocked session; made again after every unlock. The app's lock stops
     * them before the core forgets the key, so no ticker or session calls a locked vault.
     */
    inner class Unlocked(val vault: TwofoldVault) {
        private val context = getApplication<Application>()
        private val reauth = Reauthentication(vault, biometrics)
        val backup = BackupModel(vault, settings, viewModelScope, { uri -> SafBackupFolder(context, uri) })
        val sync = SyncModel(vault, syncSettings, viewModelScope, { uri -> SafSyncStorage(context, uri) })
        private val changed: () -> Unit = {
            backup.backupNow()
            sync.onLocalChange()
        }
        val codes = CodesModel(vault, settings, clipboard, NetworkTime, viewModelScope, onChanged = changed)
        val enroll = EnrollModel(vault, viewModelScope, Dispatchers.IO, onChanged = changed)
        val export = ExportModel(vault, reauth, viewModelScope)
        val receive = ReceiveModel(vault, viewModelScope, onChanged = changed)
        val send = SendModel(vault, reauth, viewModelScope)
        val security = SettingsModel(vault, biometrics, settings, viewModelScope, Dispatchers.IO)

        init {
            app.beforeLock(::stop)
            SyncSessions.current = sync
            sync.start()
            // Grants left over from folders chosen before (older versions kept them all).
            releaseGrantsExcept(settings.backupFolder?.let(Uri::parse))
        }

        private fun stop() {
            codes.stop()
            export.close()
            send.finish()
            receive.cancel()
            enroll.close()
            sync.stop()
            SyncSessions.current = null
        }

        /** A new sync group in the folder the user picked (access kept across restarts). */
        fun setUpSync(uri: Uri, name: String, deviceName: String) {
            keepAccess(uri)
            sync.setUp(uri.toString(), name, deviceName)
        }

        /** Joining: the user picked the group's folder as this phone sees it. */
        fun acceptSyncJoin(uri: Uri, name: String) {
            keepAccess(uri)
            sync.acceptJoin(uri.toString(), name)
        }

        private fun keepAccess(uri: Uri) {
            context.contentResolver.takePersistableUriPermission(
                uri,
                Intent.FLAG_GRANT_READ_URI_PERMISSION or Intent.FLAG_GRANT_WRITE_URI_PERMISSION,
            )
        }

        /**
         * Keeps access to the folder the user picked across restarts, and gives back the grant
         * of the folder it replaces (Android caps the grants an app may hold). Returns why the
         * folder cannot be used, or null.
         */
        fun chooseBackupFolder(uri: Uri, name: String): String? {
            try {
                keepAccess(uri)
            } catch (_: SecurityException) {
                return "This folder cannot be kept for automatic backups; choose another one."
            }
            backup.chooseFolder(uri.toString(), name)
            releaseGrantsExcept(uri)
            return null
        }

        /** No more automatic backups: the folder's grant is given back too. */
        fun stopAutomaticBackups() {
            backup.stopAutomaticBackups()
            releaseGrantsExcept(null)
        }

        /** Releases every persisted document grant but [keep]'s and the sync folder's. */
        private fun releaseGrantsExcept(keep: Uri?) {
            val resolver = context.contentResolver
            for (grant in resolver.persistedUriPermissions) {
                if (grant.uri == keep || grant.uri.toString() == syncSettings.syncFolder) continue
                val flags = (if (grant.isReadPermission) Intent.FLAG_GRANT_READ_URI_PERMISSION else 0) or
                    (if (grant.isWritePermission) Intent.FLAG_GRANT_WRITE_URI_PERMISSION else 0)
                runCatching { resolver.releasePersistableUriPermission(grant.uri, flags) }
            }
        }
    }

    private var unlocked: Unlocked? = null

    fun unlocked(vault: TwofoldVault): Unlocked {
        unlock = null // the next lock starts with a fresh unlock screen
        return unlocked?.takeIf { it.vault === vault } ?: Unlocked(vault).also { unlocked = it }
    }

    /** Forget the unlocked session's models on lock (the lock already stopped them). */
    fun locked() {
        unlocked = null
    }

    /** The task is finishing (the user left the app with Back): lock before the models go. */
    override fun onCleared() {
        ProcessLifecycleOwner.get().lifecycle.removeObserver(lifecycle)
        app.lock()
        locked()
    }
}

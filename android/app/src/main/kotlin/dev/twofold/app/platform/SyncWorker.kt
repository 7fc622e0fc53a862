package dev.twofold.app.platform

import android.content.Context
import androidx.work.CoroutineWorker
import androidx.work.ExistingPeriodicWorkPolicy
import androidx.work.PeriodicWorkRequestBuilder
import androidx.work.WorkManager
import androidx.work.WorkerParameters
import dev.twofold.app.model.SyncModel
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.withContext
import java.util.concurrent.TimeUnit

/**
 * Background sync (WorkManager, every 15 minutes at the earliest; Doze and battery savers
 * delay it). It needs the vault unlocked — the keys never leave the vault — so it syncs the
 * session the app holds and does nothing while the vault is locked (the next unlock syncs).
 * No network constraint: the folder's own app (Nextcloud, Syncthing) moves the files, and the
 * app holds no network permission.
 */
class SyncWorker(context: Context, params: WorkerParameters) : CoroutineWorker(context, params) {
    override suspend fun doWork(): Result {
        val model = SyncSessions.current ?: return Result.success()
        withContext(Dispatchers.Main) { model.syncNow() }.join()
        return Result.success()
    }

    companion object {
        private const val NAME = "twofold-sync"

        fun schedule(context: Context) {
            val request = PeriodicWorkRequestBuilder<SyncWorker>(15, TimeUnit.MINUTES).build()
            WorkManager.getInstance(context).enqueueUniquePeriodicWork(NAME, ExistingPeriodicWorkPolicy.KEEP, request)
        }
    }
}

/** The unlocked session's sync model, for the worker (set at unlock, cleared at lock). */
object SyncSessions {
    @Volatile
    var current: SyncModel? = null
}

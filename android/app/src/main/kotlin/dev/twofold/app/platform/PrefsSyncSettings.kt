package dev.twofold.app.platform

import android.content.Context
import dev.twofold.app.model.SyncSettings

/** Which folder the sync group uses, in SharedPreferences (not secret: the keys are in the vault). */
class PrefsSyncSettings(context: Context) : SyncSettings {
    private val prefs = context.getSharedPreferences("twofold-sync", Context.MODE_PRIVATE)

    override var syncFolder: String?
        get() = prefs.getString("folder", null)
        set(v) = prefs.edit().putString("folder", v).apply()

    override var syncFolderName: String?
        get() = prefs.getString("folderName", null)
        set(v) = prefs.edit().putString("folderName", v).apply()

    override var deviceName: String?
        get() = prefs.getString("deviceName", null)
        set(v) = prefs.edit().putString("deviceName", v).apply()
}

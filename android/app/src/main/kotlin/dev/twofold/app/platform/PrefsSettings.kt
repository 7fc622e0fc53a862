package dev.twofold.app.platform

import android.content.Context
import androidx.core.content.edit
import dev.twofold.app.model.BackupStatus
import dev.twofold.app.model.SettingsStore

/** [SettingsStore] in SharedPreferences: nothing secret is kept here. */
class PrefsSettings(context: Context) : SettingsStore {
    private val prefs = context.getSharedPreferences("twofold-settings", Context.MODE_PRIVATE)

    override var autoLockSeconds: Int
        get() = prefs.getInt("auto_lock_seconds", 30)
        set(v) = prefs.edit { putInt("auto_lock_seconds", v) }

    override var tapToReveal: Boolean
        get() = prefs.getBoolean("tap_to_reveal", false)
        set(v) = prefs.edit { putBoolean("tap_to_reveal", v) }

    override var backupFolder: String?
        get() = prefs.getString("backup_folder", null)
        set(v) = prefs.edit { putString("backup_folder", v) }

    override var backupFolderName: String?
        get() = prefs.getString("backup_folder_name", null)
        set(v) = prefs.edit { putString("backup_folder_name", v) }

    override var lastBackup: BackupStatus?
        get() {
            val name = prefs.getString("last_backup_name", null) ?: return null
            return BackupStatus(prefs.getLong("last_backup_at", 0), name, prefs.getLong("last_backup_entries", 0))
        }
        set(v) = prefs.edit {
            if (v == null) {
                remove("last_backup_name")
            } else {
                putString("last_backup_name", v.name)
                putLong("last_backup_at", v.atMs)
                putLong("last_backup_entries", v.entryCount)
            }
        }

    override var lastBackupError: String?
        get() = prefs.getString("last_backup_error", null)
        set(v) = prefs.edit { putString("last_backup_error", v) }

    override var biometricNeedsReenroll: Boolean
        get() = prefs.getBoolean("biometric_needs_reenroll", false)
        set(v) = prefs.edit { putBoolean("biometric_needs_reenroll", v) }
}

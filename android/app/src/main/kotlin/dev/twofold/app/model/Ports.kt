package dev.twofold.app.model

import dev.twofold.PlatformKeystore

/**
 * What the view models need from the platform, as small interfaces. The Android glue in
 * `dev.twofold.app.platform` implements them (ClipboardManager, SharedPreferences, the Storage
 * Access Framework, the network time clock); the JVM tests use in-memory versions. None of them
 * makes a decision about secrets, formats or time: those are the core's.
 */

/** The system clipboard. */
interface Clipboard {
    /** Copies [text], marked sensitive so the system neither previews nor syncs it. */
    fun copySensitive(text: String)

    /** Clears the clipboard if it still holds what [copySensitive] put there last. */
    fun clearIfStillOurs()
}

/** Non-secret app settings (SharedPreferences on Android). */
interface SettingsStore {
    /** Seconds in the background before the vault locks; 0 locks at once, -1 never. */
    var autoLockSeconds: Int

    /** Hide codes until tapped. */
    var tapToReveal: Boolean

    /** The backup folder the user picked (a SAF tree URI), and its name for display. */
    var backupFolder: String?
    var backupFolderName: String?

    /** The last backup that was written and verified by reading it back. */
    var lastBackup: BackupStatus?

    /** Why the last automatic backup failed, until one succeeds. */
    var lastBackupError: String?

    /** The user was told biometric unlock must be set up again (invalidated key). */
    var biometricNeedsReenroll: Boolean
}

data class BackupStatus(val atMs: Long, val name: String, val entryCount: Long)

/** A time the system trusts more than the user-settable clock (network time), or null. */
fun interface TrustedTime {
    fun nowMs(): Long?
}

/** The user dismissed the biometric prompt: not an error, nothing to report. */
class BiometricCancelled : Exception("Cancelled")

/**
 * The phone's biometric hardware keys, one per enrollment. Each biometric slot names its key
 * ([dev.twofold.core.SlotView.platformAlias]), so re-enrolling makes a new key under a new
 * alias and the old key keeps opening the old slot until the vault has swapped the two in one
 * commit; only then is the old key deleted. The Android glue keeps them in the Android
 * Keystore behind BiometricPrompt; the JVM tests use javax.crypto keys.
 */
interface BiometricKeys {
    /** Whether strong biometrics can be used now (asked each time: fingerprints come and go). */
    fun available(): Boolean

    /** Whether [alias] names one of this app's biometric keys (not a PIN's device key). */
    fun owns(alias: String): Boolean

    /** The keystore of the key an existing slot names. */
    fun forAlias(alias: String): PlatformKeystore

    /** A keystore under a new alias: its `wrap` creates a new key and leaves every other alone. */
    fun fresh(): PlatformKeystore

    /** The aliases of every biometric key this app holds. */
    fun aliases(): List<String>

    /** Deletes the key behind [alias]; nothing happens when it is already gone. */
    fun delete(alias: String)
}

/** A plain in-memory [SettingsStore], for tests and previews. */
class MemorySettings : SettingsStore {
    override var autoLockSeconds = 30
    override var tapToReveal = false
    override var backupFolder: String? = null
    override var backupFolderName: String? = null
    override var lastBackup: BackupStatus? = null
    override var lastBackupError: String? = null
    override var biometricNeedsReenroll = false
}

package dev.twofold

import dev.twofold.core.Missing
import dev.twofold.core.AddResult
import dev.twofold.core.BackupCheck
import dev.twofold.core.BackupKey
import dev.twofold.core.BackupResult
import dev.twofold.core.ClockCalibration
import dev.twofold.core.ClockStatus
import dev.twofold.core.CodeView
import dev.twofold.core.EntryChanges
import dev.twofold.core.EntryInput
import dev.twofold.core.EntryView
import dev.twofold.core.GoogleExport
import dev.twofold.core.GroupView
import dev.twofold.core.ImportSession
import dev.twofold.core.KdfSettings
import dev.twofold.core.RecoveryKitFormat
import dev.twofold.core.RecoveryKitOptions
import dev.twofold.core.RestoreMode
import dev.twofold.core.RestoreResult
import dev.twofold.core.SlotKind
import dev.twofold.core.SlotView
import dev.twofold.core.SkippedEntry
import dev.twofold.core.TrustStore
import dev.twofold.core.TwofoldException
import dev.twofold.core.UnlockResult
import dev.twofold.core.UriPreview
import dev.twofold.core.VaultSession
import dev.twofold.core.generatePlatformKey
import dev.twofold.core.parseOtpauthUri
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.withContext

/**
 * The idiomatic Kotlin face of one vault. Every call runs on [io] (never the main thread:
 * key derivation takes a few hundred milliseconds, storage does fsyncs) and maps core errors
 * to [TwofoldException]. Byte arrays given as passwords, PINs or keys are zero-filled after use.
 * Holds no logic of its own: decisions about secrets, formats and time are the core's.
 */
class TwofoldVault private constructor(
    internal val session: VaultSession,
    internal val io: CoroutineDispatcher,
) : AutoCloseable {
    companion object {
        /**
         * Creates a vault and returns it unlocked with its recovery key (show it once).
         * [trust] is where the app keeps this device's record of the vault (Keystore- or
         * Keychain-protected, never next to the vault file).
         */
        suspend fun create(
            path: String,
            password: ByteArray,
            trust: TrustStore,
            kdf: KdfSettings = dev.twofold.core.defaultKdf(),
            io: CoroutineDispatcher = Dispatchers.IO,
        ): Pair<TwofoldVault, String> = withContext(io) {
            val session = password.useThenWipe { VaultSession.create(path, it, kdf, trust) }
            val recovery = session.takeRecoveryKey() ?: throw TwofoldException.Internal("no recovery key after create")
            TwofoldVault(session, io) to recovery
        }

        /**
         * Opens an existing vault, locked. Files older than [trust]'s record, or not written with
         * keys descending from it, are refused at unlock ([TwofoldException.RolledBack],
         * [TwofoldException.Forged]); wrong PINs are counted there.
         */
        suspend fun open(path: String, trust: TrustStore, io: CoroutineDispatcher = Dispatchers.IO): TwofoldVault =
            withContext(io) { TwofoldVault(VaultSession.open(path, trust), io) }

        /**
         * What an otpauth URI (UTF-8 bytes, wiped after the call) holds — no secret — or
         * [TwofoldException.InvalidInput] with the reason.
         */
        fun previewUri(uri: ByteArray): UriPreview = uri.useThenWipe { parseOtpauthUri(it) }
    }


    val isUnlocked: Boolean get() = session.isUnlocked()

    // ----- unlock and lock -----

    suspend fun unlockWithPassword(password: ByteArray): UnlockResult =
        withContext(io) { password.useThenWipe { session.unlockWithPassword(it) } }

    /**
     * Opens a file this device would refuse (rolled back, foreign, or made by Twofold 0.1)
     * because the user confirmed it is theirs; it is rewritten under fresh keys.
     */
    suspend fun unlockWithPasswordAcceptingUntrusted(password: ByteArray): UnlockResult =
        withContext(io) { password.useThenWipe { session.unlockWithPasswordAcceptingUntrusted(it) } }

    suspend fun unlockWithRecoveryKey(recoveryKey: String): UnlockResult =
        withContext(io) { session.unlockWithRecoveryKey(recoveryKey) }

    /** Checks a recovery key typed from paper against the unlocked vault. */
    suspend fun confirmRecoveryKey(recoveryKey: String) = withContext(io) { session.confirmRecoveryKey(recoveryKey) }

    /** Wrong PINs in a row for the PIN slot (at 5 it is locked). */
    suspend fun pinFailures(slotId: String): Int = withContext(io) { session.pinFailures(slotId).toInt() }

    /** Slots; readable while locked (biometric unlock reads its blob here). */
    suspend fun slots(): List<SlotView> = withContext(io) { session.slots() }

    /** The biometric slots the given keystore can open. */
    suspend fun platformSlots(keystore: PlatformKeystore): List<SlotView> =
        slots().filter { it.kind == SlotKind.PLATFORM && it.platformAlias == keystore.alias }

    /**
     * The pull API in one call: read the slot's blob, let [keystore] unwrap it (this is where
     * the biometric prompt appears), hand the key to the core, wipe it.
     */
    suspend fun unlockWithPlatform(keystore: PlatformKeystore): UnlockResult {
        val slot = platformSlots(keystore).firstOrNull() ?: throw TwofoldException.NotFound(Missing.SLOT, "no biometric slot")
        val key = keystore.unwrap(slot.platformBlob ?: throw TwofoldException.Corrupt("a platform slot without its wrapped key"))
        return unlockWithPlatformKey(slot.id, key)
    }

    /** Second half of the pull API for apps that run the keystore themselves. */
    suspend fun unlockWithPlatformKey(slotId: String, key: ByteArray): UnlockResult =
        withContext(io) { key.useThenWipe { session.unlockWithPlatformKey(slotId, it) } }

    suspend fun unlockWithPin(slotId: String, pin: ByteArray, deviceKey: ByteArray): UnlockResult =
        withContext(io) { pin.useThenWipe { p -> deviceKey.useThenWipe { d -> session.unlockWithPin(slotId, p, d) } } }

    /**
     * PIN unlock through [deviceKeystore], whose key needs the device credential: it unwraps
     * the slot's device key (the lock-screen prompt appears there), the core checks PIN and
     * device key together. Wrong PINs are counted in the trust store; the fifth locks the slot.
     */
    suspend fun unlockWithPin(pin: ByteArray, deviceKeystore: PlatformKeystore): UnlockResult {
        val slot = slots().firstOrNull { it.kind == SlotKind.PIN && it.platformAlias == deviceKeystore.alias }
            ?: run { pin.fill(0); throw TwofoldException.NotFound(Missing.SLOT, "no PIN set up") }
        val deviceKey = try {
            deviceKeystore.unwrap(slot.platformBlob ?: throw TwofoldException.Corrupt("a platform slot without its wrapped key"))
        } catch (e: Throwable) {
            pin.fill(0)
            throw e
        }
        return unlockWithPin(slot.id, pin, deviceKey)
    }

    /** Zeroizes the master key and decrypted entries in the core. */
    fun lock() = session.lock()

    // ----- slots -----

    /** Enrolls biometric unlock: a fresh key from the core, wrapped by [keystore]. */
    suspend fun enrollPlatform(keystore: PlatformKeystore, label: String): String {
        val key = withContext(io) { generatePlatformKey() }
        return key.useThenWipe { k ->
            val blob = keystore.wrap(k)
            withContext(io) { session.addPlatformSlot(keystore.alias, label, k, blob) }
        }
    }

    /**
     * Biometric re-enrollment: a fresh key wrapped by [keystore] (a new hardware key, so the
     * old one keeps working until this returns) replaces [old] in one commit. The caller
     * deletes the old hardware key only afterwards. Returns the new slot id.
     */
    suspend fun reenrollPlatform(old: SlotView, keystore: PlatformKeystore, label: String): String {
        val key = withContext(io) { generatePlatformKey() }
        return key.useThenWipe { k ->
            val blob = keystore.wrap(k)
            withContext(io) { session.replacePlatformSlot(old.id, keystore.alias, label, k, blob) }
        }
    }

    /**
     * A device-bound PIN (six digits or more): a fresh device key wrapped by [deviceKeystore]
     * (a keystore key that needs the device credential), combined with the PIN in the core.
     */
    suspend fun enrollPin(pin: ByteArray, deviceKeystore: PlatformKeystore, kdf: KdfSettings = dev.twofold.core.defaultKdf()): String {
        val deviceKey = withContext(io) { generatePlatformKey() }
        return pin.useThenWipe { p ->
            deviceKey.useThenWipe { d ->
                val blob = deviceKeystore.wrap(d)
                withContext(io) { session.addPinSlot(deviceKeystore.alias, p, d, blob, kdf) }
            }
        }
    }

    suspend fun removeSlot(slotId: String) = withContext(io) { session.removeSlot(slotId) }

    suspend fun changePassword(newPassword: ByteArray, kdf: KdfSettings = dev.twofold.core.defaultKdf()) =
        withContext(io) { newPassword.useThenWipe { session.changePassword(it, kdf) } }

    suspend fun rotateRecoveryKey(): String = withContext(io) { session.rotateRecoveryKey() }

    // ----- entries -----

    suspend fun entries(): List<EntryView> = withContext(io) { session.entries() }

    suspend fun search(query: String): List<EntryView> = withContext(io) { session.search(query) }

    suspend fun trash(): List<EntryView> = withContext(io) { session.trash() }

    /** Adds an account; [EntryInput.secret] (base32 text as UTF-8 bytes) is wiped after the call. */
    suspend fun add(input: EntryInput, allowDuplicate: Boolean = false): EntryView =
        withContext(io) { input.secret.useThenWipe { session.addEntry(input, allowDuplicate) } }

    /** An otpauth URI as UTF-8 bytes, wiped after the call. */
    suspend fun addFromUri(uri: ByteArray, allowDuplicate: Boolean = false): EntryView =
        withContext(io) { uri.useThenWipe { session.addEntryFromUri(it, allowDuplicate) } }

    suspend fun update(id: String, changes: EntryChanges): EntryView = withContext(io) { session.updateEntry(id, changes) }

    suspend fun delete(id: String) = withContext(io) { session.deleteEntry(id) }

    suspend fun restore(id: String) = withContext(io) { session.restoreEntry(id) }

    suspend fun purge(id: String) = withContext(io) { session.purgeEntry(id) }

    suspend fun reorder(ids: List<String>) = withContext(io) { session.reorder(ids) }

    suspend fun groups(): List<GroupView> = withContext(io) { session.groups() }

    suspend fun addGroup(name: String): GroupView = withContext(io) { session.addGroup(name) }

    suspend fun deleteGroup(id: String) = withContext(io) { session.deleteGroup(id) }

    // ----- codes -----

    suspend fun codesAt(unixMs: Long): List<CodeView> = withContext(io) { session.codesAt(unixMs) }

    /** Saves the advanced counter, then returns the HOTP code. */
    suspend fun nextHotp(id: String): String = withContext(io) { session.nextHotp(id) }

    suspend fun recordUse(id: String) = withContext(io) { session.recordUse(id) }

    suspend fun recordTimeSample(localMs: Long, trustedMs: Long): ClockStatus =
        withContext(io) { session.recordTimeSample(localMs, trustedMs) }

    /**
     * Sets the clock offset from a [code] the service of entry [id] just accepted (and the
     * [nextCode] it accepted right after, when one code is ambiguous). Nothing changes when no
     * single time step within ±[windowSeconds] (default 600) matches: [TwofoldException.InvalidInput].
     */
    suspend fun calibrateFromAcceptedCode(
        id: String,
        code: String,
        nextCode: String? = null,
        windowSeconds: UInt? = null,
    ): ClockCalibration = withContext(io) { session.calibrateFromAcceptedCode(id, code, nextCode, windowSeconds) }

    /**
     * The printable recovery kit, made with the recovery key the user just typed (or the one
     * [rotateRecoveryKey] just returned); a wrong key is [TwofoldException.WrongCredential] and no kit.
     * [use] gets the PDF or HTML bytes (a credential: hand them to the print or share sheet),
     * wiped when it returns.
     */
    suspend fun <T> recoveryKit(
        recoveryKey: String,
        format: RecoveryKitFormat,
        options: RecoveryKitOptions,
        use: suspend (ByteArray) -> T,
    ): T = withContext(io) { session.recoveryKit(recoveryKey, format, options) }.useThenWipeSuspending(use)

    // The code screen's list, its order and its ticking: [codeList] (Codes.kt).

    // ----- exports and backups -----

    /**
     * Explicit export of one account's otpauth URI (secret included, UTF-8 bytes): re-authenticate
     * first. [use] gets the bytes, which are wiped when it returns.
     */
    suspend fun <T> exportEntryUri(id: String, use: suspend (ByteArray) -> T): T =
        withContext(io) { session.exportEntryUri(id) }.useThenWipeSuspending(use)

    suspend fun createBackup(path: String, password: ByteArray?, sealToRecoveryKey: Boolean = true): BackupResult =
        withContext(io) {
            if (password == null) session.createBackup(path, null, sealToRecoveryKey)
            else password.useThenWipe { session.createBackup(path, it, sealToRecoveryKey) }
        }

    suspend fun autoBackup(directory: String, password: ByteArray?, keep: Int = 10): BackupResult =
        withContext(io) {
            if (password == null) session.autoBackup(directory, null, keep.toUInt())
            else password.useThenWipe { session.autoBackup(directory, it, keep.toUInt()) }
        }

    suspend fun verifyBackup(path: String, password: ByteArray): BackupCheck =
        withContext(io) { password.useThenWipe { session.verifyBackup(path, BackupKey.Password(it)) } }

    suspend fun verifyBackupWithRecoveryKey(path: String, recoveryKey: String): BackupCheck =
        withContext(io) { session.verifyBackup(path, BackupKey.RecoveryKey(recoveryKey)) }

    /**
     * A backup for a document provider (Storage Access Framework): [write] stores the bytes and
     * returns what reading the document back gives; the backup counts only if that matches and
     * decrypts to the vault.
     */
    suspend fun backupToDocument(password: ByteArray?, name: String, write: suspend (ByteArray) -> ByteArray): BackupResult {
        val pending = withContext(io) { if (password == null) session.prepareBackup(null, true) else password.useThenWipe { session.prepareBackup(it, true) } }
        return pending.use { p ->
            val readBack = write(p.bytes())
            withContext(io) { p.confirm(readBack, name) }
        }
    }

    suspend fun verifyBackupBytes(bytes: ByteArray, password: ByteArray): BackupCheck =
        withContext(io) { password.useThenWipe { session.verifyBackupBytes(bytes, BackupKey.Password(it)) } }

    suspend fun verifyBackupBytesWithRecoveryKey(bytes: ByteArray, recoveryKey: String): BackupCheck =
        withContext(io) { session.verifyBackupBytes(bytes, BackupKey.RecoveryKey(recoveryKey)) }

    /**
     * Restores a backup. One that cannot be authenticated ([BackupCheck.authenticated] false)
     * fails with [TwofoldException.Unverified] unless [acceptUnverified] (the user confirmed).
     */
    suspend fun restoreBackup(path: String, password: ByteArray, mode: RestoreMode, acceptUnverified: Boolean = false): RestoreResult =
        withContext(io) { password.useThenWipe { session.restoreBackup(path, BackupKey.Password(it), mode, acceptUnverified) } }

    /**
     * otpauth:// URIs of every account, one per line (explicit export: re-authenticate first).
     * [use] gets the UTF-8 bytes, wiped when it returns.
     */
    suspend fun <T> exportOtpauthList(use: suspend (ByteArray) -> T): T =
        withContext(io) { session.exportOtpauthList() }.useThenWipeSuspending(use)

    /** Aegis JSON (UTF-8 bytes to [use], then wiped), encrypted when [password] is given. */
    suspend fun <T> exportAegis(password: ByteArray?, use: suspend (ByteArray) -> T): T =
        withContext(io) { if (password == null) session.exportAegis(null) else password.useThenWipe { session.exportAegis(it) } }
            .useThenWipeSuspending(use)

    /** Google Authenticator transfer codes (drawn; the URIs stay in the core). */
    suspend fun exportGoogleMigration(): GoogleExport = withContext(io) { session.exportGoogleMigration() }

    /** FIDO CXF JSON: [use] gets the bytes (wiped when it returns) and what was left out. */
    suspend fun <T> exportCxf(nowMs: Long = System.currentTimeMillis(), use: suspend (ByteArray, List<SkippedEntry>) -> T): T {
        val export = withContext(io) { session.exportCxf(nowMs) }
        return export.content.useThenWipeSuspending { use(it, export.skipped) }
    }

    /** Adds the accounts an import read (duplicates reported, not doubled). */
    suspend fun addImported(import: ImportSession): AddResult = withContext(io) { import.addTo(session) }

    override fun close() = session.close()
}

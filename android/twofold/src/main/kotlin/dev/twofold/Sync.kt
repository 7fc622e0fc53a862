package dev.twofold

import dev.twofold.core.SyncConflict
import dev.twofold.core.SyncDevice
import dev.twofold.core.SyncFile
import dev.twofold.core.SyncGroup
import dev.twofold.core.SyncInviter
import dev.twofold.core.SyncJoinPreview
import dev.twofold.core.SyncJoiner
import dev.twofold.core.SyncKeep
import dev.twofold.core.SyncLocation
import dev.twofold.core.SyncResult
import dev.twofold.core.SyncStatusView
import dev.twofold.core.SyncStorage
import dev.twofold.core.TransferProgress
import dev.twofold.core.TwofoldException
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.withContext
import java.io.File
import java.io.IOException


private fun nowSeconds(): Long = System.currentTimeMillis() / 1000

/**
 * Sync of one unlocked vault with the user's other devices, through a folder the app opens
 * ([storage]: a SAF tree on Android) or a WebDAV server the core reaches itself. The merge,
 * the checks of every file and the keys are the core's (`docs/sync-protocol.md`); this class
 * only moves calls off the main thread and turns errors into [TwofoldException]s.
 */
class TwofoldSync(
    vault: TwofoldVault,
    storage: SyncStorage?,
    private val io: CoroutineDispatcher = Dispatchers.IO,
) {
    internal val group = SyncGroup(vault.session, storage)

    suspend fun isSetUp(): Boolean = withContext(io) { group.isSetUp() }

    /** This vault becomes the first device of a new group in the app's folder ([label] is shown). */
    suspend fun setUpInAppFolder(label: String, deviceName: String): SyncResult =
        withContext(io) { group.setup(SyncLocation.App(label), deviceName) }

    /** A new group on a WebDAV server; [password] (an app password for Nextcloud) is wiped. */
    suspend fun setUpWebDav(url: String, user: String?, password: CharArray?, deviceName: String): SyncResult {
        val bytes = password?.toWipedUtf8()
        return try {
            withContext(io) { group.setup(SyncLocation.WebDav(url, user, bytes), deviceName) }
        } finally {
            bytes?.fill(0)
        }
    }

    /** Reads every device's latest state, merges, writes this device's. */
    suspend fun syncNow(): SyncResult = withContext(io) { group.syncNow() }

    suspend fun status(): SyncStatusView = withContext(io) { group.status() }

    suspend fun conflicts(): List<SyncConflict> = withContext(io) { group.conflicts() }

    /** Keeps one side of the entry's conflicts (or both); sync afterwards. */
    suspend fun resolve(entryId: String, keep: SyncKeep): Int = withContext(io) { group.resolve(entryId, keep).toInt() }

    suspend fun devices(): List<SyncDevice> = withContext(io) { group.devices() }

    /** Removes a device: it reads nothing written afterwards; its later files are refused. */
    suspend fun revoke(deviceNameOrTag: String): SyncDevice = withContext(io) { group.revoke(deviceNameOrTag) }

    suspend fun leave(): Unit = withContext(io) { group.leave() }

    /**
     * A member invites the device whose join invite was scanned; re-authenticate first. The
     * device is added only by [DeviceInvite.confirm], after the codes were compared.
     */
    suspend fun inviteDevice(inviteText: String, shareCredentials: Boolean): DeviceInvite =
        withContext(io) { DeviceInvite(SyncInviter(group, inviteText, shareCredentials, nowSeconds().toULong()), io) }
}

/**
 * A member's side of a join: frames to show, then the new device's reply gives the code;
 * [confirm] when both show the same code (only then is the device added), [cancel] if not.
 */
class DeviceInvite internal constructor(private val inviter: SyncInviter, private val io: CoroutineDispatcher) {
    val deviceName: String get() = inviter.deviceName()

    val sourceFrames: Long get() = inviter.sourceFrames().toLong()

    fun frame(n: Long): String = inviter.frame(n.toULong())

    /** The new device's reply (scanned): the code to compare. */
    suspend fun acceptReply(replyText: String): String =
        withContext(io) { inviter.acceptReply(replyText, nowSeconds().toULong()) }

    /** Both devices show the same code: adds the device (sync afterwards to publish it). */
    suspend fun confirm(): Unit = withContext(io) { inviter.confirm() }

    /** The codes differ, or the user gave up: the device is not added; nothing stays. */
    suspend fun cancel(): Unit = withContext(io) { inviter.cancel() }
}

/**
 * The new device's side: show [inviteText] as a QR code, feed the member's frames, show the
 * reply and compare the code; [acceptInto] once the user confirmed they match.
 */
class JoiningDevice private constructor(private val joiner: SyncJoiner, private val io: CoroutineDispatcher) {
    companion object {
        suspend fun start(deviceName: String, ttlSeconds: Long = 600, io: CoroutineDispatcher = Dispatchers.IO): JoiningDevice =
            withContext(io) { JoiningDevice(SyncJoiner(deviceName, nowSeconds().toULong(), ttlSeconds.toULong()), io) }
    }

    suspend fun inviteText(): String = withContext(io) { joiner.inviteText() }

    suspend fun receiveFrame(text: String): TransferProgress = withContext(io) { joiner.receiveFrame(text, nowSeconds().toULong()) }

    suspend fun replyText(): String? = withContext(io) { joiner.replyText() }

    suspend fun confirmationCode(): String? = withContext(io) { joiner.confirmationCode() }

    suspend fun preview(): SyncJoinPreview? = withContext(io) { joiner.preview() }

    /**
     * Joins [vault] to the group. [appFolderLabel]: the group's files are in the folder the
     * app opens (pass the same [SyncStorage] to [TwofoldSync]); `null` keeps the location the
     * member sent (WebDAV).
     */
    suspend fun acceptInto(vault: TwofoldVault, appFolderLabel: String?): SyncJoinPreview =
        withContext(io) { joiner.acceptInto(vault.session, appFolderLabel?.let { SyncLocation.App(it) }) }

    fun reject() = joiner.reject()
}

/**
 * A plain directory as a [SyncStorage] (desktop JVMs and tests; Android uses a SAF tree).
 * Writes go through a hidden temporary file renamed into place.
 */
class DirectorySyncStorage(private val dir: File) : SyncStorage {
    override fun list(): List<SyncFile> =
        (dir.listFiles() ?: throw TwofoldException.SyncStorage(false, "cannot list ${dir.path}"))
            .filter { it.isFile }
            .map { SyncFile(it.name, it.length().toULong()) }

    override fun read(name: String): ByteArray? {
        val f = File(dir, name)
        if (f.parentFile != dir) return null
        return try {
            f.readBytes()
        } catch (_: java.io.FileNotFoundException) {
            null
        } catch (e: IOException) {
            throw TwofoldException.SyncStorage(false, "cannot read $name: ${e.message}")
        }
    }

    override fun write(name: String, bytes: ByteArray) {
        val tmp = File(dir, ".$name.tmp")
        try {
            tmp.outputStream().use { out ->
                out.write(bytes)
                out.fd.sync()
            }
            if (!tmp.renameTo(File(dir, name))) throw IOException("rename failed")
        } catch (e: IOException) {
            tmp.delete()
            throw TwofoldException.SyncStorage(false, "cannot write $name: ${e.message}")
        }
    }

    override fun delete(name: String) {
        File(dir, name).delete()
    }
}

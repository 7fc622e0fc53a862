package dev.twofold

import dev.twofold.core.BackupFolder
import dev.twofold.core.FolderBackupResult
import dev.twofold.core.FolderBackupper
import dev.twofold.core.TwofoldException
import kotlinx.coroutines.withContext
import java.io.File
import java.io.IOException

/**
 * Automatic backups into a folder the app opens: the flow is the core's (sealed to the
 * recovery key, written, read back and confirmed, then the oldest automatic backups beyond
 * [keep] deleted — never other files), and so is the rule for requests that arrive while one
 * runs (merged into one more run). The app implements only [BackupFolder] (SAF on Android).
 */
class FolderBackups(folder: BackupFolder, keep: Int = 10) : AutoCloseable {
    private val inner = FolderBackupper(folder, keep.toUInt())

    /**
     * Backs up [vault] now; null when a backup was running (it runs once more for this
     * request and its caller reports the result). Failures are [TwofoldException]s.
     */
    suspend fun backupNow(vault: TwofoldVault, nowMs: Long = System.currentTimeMillis()): FolderBackupResult? =
        withContext(vault.io) { inner.backupNow(vault.session, nowMs) }

    override fun close() = inner.close()
}

/** A plain directory as a backup folder (desktops, the JVM tests). */
class DirectoryBackupFolder(private val dir: File) : BackupFolder {
    private fun file(name: String): File? = File(dir, name).takeIf { it.parentFile == dir && !name.startsWith(".") }

    override fun list(): List<String> =
        (dir.listFiles() ?: throw TwofoldException.Storage("cannot list ${dir.path}"))
            .filter { it.isFile && !it.name.startsWith(".") }
            .map { it.name }

    override fun read(name: String): ByteArray? {
        val f = file(name) ?: return null
        return try {
            f.readBytes()
        } catch (_: java.io.FileNotFoundException) {
            null
        } catch (e: IOException) {
            throw TwofoldException.Storage("cannot read $name: ${e.message}")
        }
    }

    override fun write(name: String, bytes: ByteArray) {
        val target = file(name) ?: throw TwofoldException.Storage("not a file name: $name")
        val tmp = File(dir, ".$name.tmp")
        try {
            tmp.outputStream().use { out ->
                out.write(bytes)
                out.fd.sync()
            }
            if (!tmp.renameTo(target)) throw IOException("rename failed")
        } catch (e: IOException) {
            tmp.delete()
            throw TwofoldException.Storage("cannot write $name: ${e.message}")
        }
    }

    override fun delete(name: String) {
        file(name)?.delete()
    }
}

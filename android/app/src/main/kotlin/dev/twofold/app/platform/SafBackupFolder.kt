package dev.twofold.app.platform

import android.content.Context
import android.net.Uri
import android.provider.DocumentsContract
import androidx.documentfile.provider.DocumentFile
import dev.twofold.core.BackupFolder
import dev.twofold.core.TwofoldException
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.withContext
import java.io.IOException

/**
 * A Storage Access Framework folder (the tree URI the user granted persistently) as the
 * core's backup folder: the core writes, reads back, confirms and prunes; this only opens
 * documents. Called on a background thread by the core.
 */
class SafBackupFolder(private val context: Context, treeUri: String) : BackupFolder {
    private val tree: DocumentFile = DocumentFile.fromTreeUri(context, Uri.parse(treeUri))
        ?: throw TwofoldException.Storage(GONE)

    private inline fun <T> io(what: String, block: () -> T): T =
        try {
            block()
        } catch (_: SecurityException) {
            throw TwofoldException.Storage(LOST)
        } catch (e: IOException) {
            throw TwofoldException.Storage("$what: ${e.message}")
        }

    override fun list(): List<String> = io("The backup folder cannot be listed") { tree.listFiles().mapNotNull { it.name } }

    override fun read(name: String): ByteArray? = io("Cannot read $name") {
        val doc = tree.findFile(name) ?: return@io null
        context.contentResolver.openInputStream(doc.uri)?.use { it.readBytes() }
    }

    override fun write(name: String, bytes: ByteArray) = io("Cannot write $name") {
        val doc = tree.createFile("application/octet-stream", name)
            ?: throw TwofoldException.Storage("The backup folder refused a new file; choose it again")
        context.contentResolver.openOutputStream(doc.uri, "wt")?.use { it.write(bytes) }
            ?: throw IOException("no output stream")
        Unit
    }

    override fun delete(name: String) {
        io("Cannot delete $name") { tree.findFile(name)?.delete() }
    }

    private companion object {
        const val GONE = "The backup folder is no longer available; choose it again"
        const val LOST = "Twofold lost access to the backup folder; choose it again"
    }
}

/** Reads a whole document the user picked (import files, backups to verify). */
suspend fun Context.readDocument(uri: Uri): ByteArray = withContext(Dispatchers.IO) {
    contentResolver.openInputStream(uri)?.use { it.readBytes() } ?: throw IOException("Cannot read the file")
}

/** Removes a document the user created (an export that was not written and checked); best effort. */
suspend fun Context.deleteDocument(uri: Uri) {
    withContext(Dispatchers.IO) { runCatching { DocumentsContract.deleteDocument(contentResolver, uri) } }
}

/** Writes a document the user created and returns what reading it back gives. */
suspend fun Context.writeDocument(uri: Uri, bytes: ByteArray): ByteArray = withContext(Dispatchers.IO) {
    contentResolver.openOutputStream(uri, "wt")?.use { it.write(bytes) } ?: throw IOException("Cannot write the file")
    contentResolver.openInputStream(uri)?.use { it.readBytes() } ?: throw IOException("Cannot read the file back")
}

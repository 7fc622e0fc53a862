package dev.twofold.app.platform

import android.content.Context
import android.net.Uri
import android.provider.DocumentsContract
import androidx.documentfile.provider.DocumentFile
import dev.twofold.app.model.BackupFolder
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.withContext
import java.io.IOException

/** A Storage Access Framework folder (the tree URI the user granted persistently). */
class SafBackupFolder(private val context: Context, treeUri: String) : BackupFolder {
    private val tree: DocumentFile = DocumentFile.fromTreeUri(context, Uri.parse(treeUri))
        ?: throw IOException("The backup folder is no longer available; choose it again")

    override suspend fun writeAndReadBack(name: String, bytes: ByteArray): ByteArray = withContext(Dispatchers.IO) {
        val doc = tree.createFile("application/octet-stream", name)
            ?: throw IOException("The backup folder refused a new file; choose it again")
        val resolver = context.contentResolver
        resolver.openOutputStream(doc.uri, "wt")?.use { it.write(bytes) } ?: throw IOException("Cannot write ${doc.name}")
        resolver.openInputStream(doc.uri)?.use { it.readBytes() } ?: throw IOException("Cannot read ${doc.name} back")
    }

    override suspend fun list(): List<String> = withContext(Dispatchers.IO) { tree.listFiles().mapNotNull { it.name } }

    override suspend fun delete(name: String) {
        withContext(Dispatchers.IO) { tree.findFile(name)?.delete() }
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

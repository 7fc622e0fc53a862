package dev.twofold.app.platform

import android.content.Context
import android.net.Uri
import android.provider.DocumentsContract
import dev.twofold.core.SyncFile
import dev.twofold.core.SyncStorage
import dev.twofold.core.TwofoldException
import java.io.FileNotFoundException
import java.io.IOException

/**
 * The sync group's folder as a Storage Access Framework tree (the URI the user granted
 * persistently): Nextcloud, Syncthing-Fork, a Drive or Dropbox provider, a local folder.
 *
 * The core writes each name once and never rewrites a file, so this needs no rename: a new
 * document is created and written with mode "wt" (a plain "w" does not truncate on Android
 * 10+). Providers may rename a document to avoid a clash ("name (1)"); such a document is
 * deleted again and the write fails. Called on the core's background thread.
 */
class SafSyncStorage(private val context: Context, treeUri: String) : SyncStorage {
    private val tree = Uri.parse(treeUri)
    private val treeDocument = DocumentsContract.buildDocumentUriUsingTree(tree, DocumentsContract.getTreeDocumentId(tree))
    private val resolver get() = context.contentResolver

    private fun unavailable(e: Exception): TwofoldException = when (e) {
        is SecurityException -> TwofoldException.SyncStorage(true, "The sync folder no longer allows access; choose it again")
        else -> TwofoldException.SyncStorage(false, "The sync folder cannot be reached: ${e.message}")
    }

    private data class Child(val id: String, val name: String, val size: Long?)

    private fun children(): List<Child> {
        val uri = DocumentsContract.buildChildDocumentsUriUsingTree(tree, DocumentsContract.getTreeDocumentId(tree))
        val columns = arrayOf(
            DocumentsContract.Document.COLUMN_DOCUMENT_ID,
            DocumentsContract.Document.COLUMN_DISPLAY_NAME,
            DocumentsContract.Document.COLUMN_SIZE,
            DocumentsContract.Document.COLUMN_MIME_TYPE,
        )
        val out = mutableListOf<Child>()
        try {
            resolver.query(uri, columns, null, null, null)?.use { c ->
                while (c.moveToNext()) {
                    if (c.getString(3) == DocumentsContract.Document.MIME_TYPE_DIR) continue
                    val name = c.getString(1) ?: continue
                    out += Child(c.getString(0), name, if (c.isNull(2)) null else c.getLong(2))
                }
            } ?: throw IOException("the provider returned nothing")
        } catch (e: Exception) {
            throw unavailable(e)
        }
        return out
    }

    private fun documentOf(name: String): Uri? =
        children().firstOrNull { it.name == name }?.let { DocumentsContract.buildDocumentUriUsingTree(tree, it.id) }

    override fun list(): List<SyncFile> = children().map { SyncFile(it.name, it.size?.toULong()) }

    override fun read(name: String): ByteArray? {
        val doc = documentOf(name) ?: return null
        return try {
            resolver.openInputStream(doc)?.use { input ->
                // Never more than the core accepts (it refuses anything larger anyway).
                val limit = 32 * 1024 * 1024 + 1
                val out = java.io.ByteArrayOutputStream()
                val buffer = ByteArray(64 * 1024)
                while (out.size() < limit) {
                    val n = input.read(buffer, 0, minOf(buffer.size, limit - out.size()))
                    if (n < 0) break
                    out.write(buffer, 0, n)
                }
                out.toByteArray()
            }
        } catch (_: FileNotFoundException) {
            null
        } catch (e: Exception) {
            throw unavailable(e)
        }
    }

    override fun write(name: String, bytes: ByteArray) {
        if (documentOf(name) != null) throw TwofoldException.SyncStorage(false, "$name exists already; not overwritten")
        val doc = try {
            DocumentsContract.createDocument(resolver, treeDocument, "application/octet-stream", name)
        } catch (e: Exception) {
            throw unavailable(e)
        } ?: throw TwofoldException.SyncStorage(false, "The sync folder refused a new file")
        try {
            val given = resolver.query(doc, arrayOf(DocumentsContract.Document.COLUMN_DISPLAY_NAME), null, null, null)
                ?.use { if (it.moveToFirst()) it.getString(0) else null }
            if (given != name) throw IOException("the provider named the file $given")
            resolver.openOutputStream(doc, "wt")?.use { it.write(bytes) } ?: throw IOException("cannot open $name")
        } catch (e: Exception) {
            runCatching { DocumentsContract.deleteDocument(resolver, doc) }
            throw unavailable(e)
        }
    }

    override fun delete(name: String) {
        val doc = documentOf(name) ?: return
        try {
            DocumentsContract.deleteDocument(resolver, doc)
        } catch (_: FileNotFoundException) {
        } catch (e: Exception) {
            throw unavailable(e)
        }
    }
}

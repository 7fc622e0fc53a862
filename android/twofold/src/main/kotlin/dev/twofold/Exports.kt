package dev.twofold

import dev.twofold.core.ExportFormat
import dev.twofold.core.ExportFormatInfo
import dev.twofold.core.SkippedEntry
import kotlinx.coroutines.withContext

/**
 * The export catalogue from the core: every format with its name, the file name to suggest,
 * its MIME type, whether it needs a password and whether it leaves the secrets readable.
 */
fun exportFormats(nowMs: Long = System.currentTimeMillis()): List<ExportFormatInfo> =
    dev.twofold.core.exportFormats(nowMs)

/**
 * Saves an export where the user chose (explicit export: re-authenticate first). The core
 * makes the file ([password], wiped, for the encrypted formats); [write] stores the bytes and
 * returns what reading the document back gives; the export counts only when the core confirms
 * that (byte for byte, and for a Twofold backup by decrypting it). The bytes are wiped after.
 * Returns the accounts the format could not hold.
 */
suspend fun TwofoldVault.saveExport(
    format: ExportFormat,
    password: ByteArray?,
    nowMs: Long = System.currentTimeMillis(),
    write: suspend (ByteArray) -> ByteArray,
): List<SkippedEntry> {
    val pending = withContext(io) {
        if (password == null) session.prepareExport(format, null, nowMs)
        else password.useThenWipe { session.prepareExport(format, it, nowMs) }
    }
    return pending.use { p ->
        val bytes = p.bytes()
        try {
            val back = write(bytes)
            try {
                withContext(io) { p.confirm(back) }
            } finally {
                back.fill(0)
            }
            p.skipped()
        } finally {
            bytes.fill(0)
        }
    }
}

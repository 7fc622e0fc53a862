package dev.twofold

import dev.twofold.core.AddResult
import dev.twofold.core.Enrollment
import dev.twofold.core.ImportSession
import dev.twofold.core.ImportedPreview
import dev.twofold.core.QrErrorCorrection
import dev.twofold.core.QrMatrix
import dev.twofold.core.ScanResult
import dev.twofold.core.TwofoldException
import dev.twofold.core.decodeQrImage
import dev.twofold.core.decodeQrLuma
import dev.twofold.core.encodeQr
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.withContext


/**
 * QR decoding for transfer invites, frames and replies, done in the core (works without Play
 * services). Account codes (otpauth, Google exports) are refused here: they hold secrets, so
 * [EnrollmentScanner.scanLuma] / [EnrollmentScanner.scanImage] decode and enroll them inside
 * the core and return previews only.
 */
object TwofoldQr {
    /** The text of the (non-account) QR code in a camera frame's Y plane, or null. */
    suspend fun decodeLuma(
        width: Int,
        height: Int,
        rowStride: Int,
        luma: ByteArray,
        io: CoroutineDispatcher = Dispatchers.Default,
    ): String? = withContext(io) { decodeQrLuma(width.toUInt(), height.toUInt(), rowStride.toUInt(), luma) }

    /** The text of the (non-account) QR code in a PNG or JPEG, or null. */
    suspend fun decodeImage(bytes: ByteArray, io: CoroutineDispatcher = Dispatchers.Default): String? =
        withContext(io) { decodeQrImage(bytes) }

    /** Modules of a QR code for drawing (invites, transfer frames, Google export codes). */
    fun matrix(text: String, correction: QrErrorCorrection = QrErrorCorrection.MEDIUM): QrMatrix =
        encodeQr(text, correction)
}

/**
 * A camera enrollment: camera frames ([scanLuma]) and pictures ([scanImage]) are decoded and
 * enrolled in the core — the secret never becomes a Kotlin String; single accounts and whole
 * Google exports (accumulated across codes, with progress) collect until [addTo] confirms them.
 */
class EnrollmentScanner(private val io: CoroutineDispatcher = Dispatchers.Default) : AutoCloseable {
    private val enrollment = Enrollment()

    /** One camera frame's Y plane; null when it shows no readable code. */
    suspend fun scanLuma(width: Int, height: Int, rowStride: Int, luma: ByteArray): ScanResult? =
        withContext(io) { enrollment.scanLuma(width.toUInt(), height.toUInt(), rowStride.toUInt(), luma) }

    /** A PNG or JPEG; null when it shows no readable code. */
    suspend fun scanImage(bytes: ByteArray): ScanResult? = withContext(io) { enrollment.scanImage(bytes) }

    /** A typed or pasted otpauth URI as UTF-8 bytes, wiped after the call. */
    suspend fun scanText(uri: ByteArray): ScanResult = withContext(io) { uri.useThenWipe { enrollment.scanText(it) } }

    fun accounts(): List<ImportedPreview> = enrollment.accounts()

    fun remove(index: Int) = enrollment.remove(index.toUInt())

    suspend fun addTo(vault: TwofoldVault): AddResult = withContext(vault.io) { enrollment.addTo(vault.session) }

    override fun close() = enrollment.close()
}

/**
 * Reads another app's export; [password] (wiped after use) for encrypted ones, [keyFile]
 * (wiped after use) for a KeePass database unlocked with a key file.
 */
suspend fun readImport(
    bytes: ByteArray,
    password: ByteArray? = null,
    format: String? = null,
    keyFile: ByteArray? = null,
    io: CoroutineDispatcher = Dispatchers.IO,
): ImportSession = withContext(io) {
    try {
        when {
            keyFile != null -> ImportSession.readWithKeyFile(bytes, format, password, keyFile)
            password == null -> ImportSession.read(bytes, format, null)
            else -> ImportSession.read(bytes, format, password)
        }
    } finally {
        password?.fill(0)
        keyFile?.fill(0)
    }
}

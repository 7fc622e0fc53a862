package dev.twofold.app.platform

import androidx.camera.core.ImageAnalysis
import androidx.camera.core.ImageProxy
import dev.twofold.TwofoldQr
import dev.twofold.VaultFailure
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.runBlocking

/**
 * CameraX analysis: hands each frame's Y plane (with its row stride) to the core's QR decoder
 * on the analysis thread; decoded texts go to [onText]. Works without Play services.
 */
class QrAnalyzer(private val onText: (String) -> Unit) : ImageAnalysis.Analyzer {
    private var luma = ByteArray(0)

    override fun analyze(image: ImageProxy) {
        image.use {
            val plane = it.planes[0]
            val buffer = plane.buffer
            if (luma.size != buffer.remaining()) luma = ByteArray(buffer.remaining())
            buffer.get(luma)
            val text = try {
                // Already on CameraX's analysis executor: decode right here.
                runBlocking { TwofoldQr.decodeLuma(it.width, it.height, plane.rowStride, luma, Dispatchers.Unconfined) }
            } catch (_: VaultFailure) {
                null
            }
            if (text != null) onText(text)
        }
    }
}

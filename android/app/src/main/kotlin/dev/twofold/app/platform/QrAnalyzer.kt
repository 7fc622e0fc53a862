package dev.twofold.app.platform

import androidx.camera.core.ImageAnalysis
import androidx.camera.core.ImageProxy

/**
 * CameraX analysis: hands each frame's Y plane (width, height, row stride, bytes) to [onFrame]
 * on the analysis thread. The buffer is reused for the next frame, so [onFrame] works on it
 * before returning: the Add screen enrolls it in the core (`EnrollmentScanner.scanLuma`, the
 * secret never becomes a String), the transfer screens decode invites, frames and replies
 * (`TwofoldQr.decodeLuma`). Works without Play services.
 */
class QrAnalyzer(private val onFrame: (width: Int, height: Int, rowStride: Int, luma: ByteArray) -> Unit) : ImageAnalysis.Analyzer {
    private var luma = ByteArray(0)

    override fun analyze(image: ImageProxy) {
        image.use {
            val plane = it.planes[0]
            val buffer = plane.buffer
            if (luma.size != buffer.remaining()) luma = ByteArray(buffer.remaining())
            buffer.get(luma)
            onFrame(it.width, it.height, plane.rowStride, luma)
        }
    }
}

package dev.twofold.app.ui

import android.Manifest
import android.content.pm.PackageManager
import androidx.activity.compose.rememberLauncherForActivityResult
import androidx.activity.result.contract.ActivityResultContracts
import androidx.camera.core.CameraSelector
import androidx.camera.core.ImageAnalysis
import androidx.camera.core.Preview
import androidx.camera.lifecycle.ProcessCameraProvider
import androidx.camera.view.PreviewView
import androidx.compose.foundation.Canvas
import androidx.compose.foundation.background
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.aspectRatio
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.text.KeyboardOptions
import androidx.compose.material3.Button
import androidx.compose.material3.LinearProgressIndicator
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.DisposableEffect
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.rememberUpdatedState
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.geometry.Offset
import androidx.compose.ui.geometry.Size
import androidx.compose.ui.graphics.Color
import androidx.compose.ui.platform.LocalContext
import androidx.compose.ui.text.input.KeyboardType
import androidx.compose.ui.text.input.PasswordVisualTransformation
import androidx.compose.ui.unit.dp
import androidx.compose.ui.viewinterop.AndroidView
import dev.twofold.VaultFailure
import dev.twofold.core.QrMatrix
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.runBlocking
import androidx.core.content.ContextCompat
import androidx.lifecycle.compose.LocalLifecycleOwner
import dev.twofold.TwofoldQr
import dev.twofold.app.platform.QrAnalyzer
import dev.twofold.core.PasswordStrength
import java.util.concurrent.Executors

/** A password field; the text goes to the model as a CharArray the model wipes. */
@Composable
fun PasswordField(value: String, onChange: (String) -> Unit, label: String, modifier: Modifier = Modifier) {
    OutlinedTextField(
        value = value,
        onValueChange = onChange,
        label = { Text(label) },
        singleLine = true,
        visualTransformation = PasswordVisualTransformation(),
        keyboardOptions = KeyboardOptions(keyboardType = KeyboardType.Password, autoCorrectEnabled = false),
        modifier = modifier.fillMaxWidth(),
    )
}

/** The core's verdict on a new password: a bar and its feedback lines. */
@Composable
fun StrengthMeter(strength: PasswordStrength?) {
    if (strength == null) return
    Column(Modifier.padding(vertical = 4.dp)) {
        LinearProgressIndicator(progress = { (strength.score.toInt() + 1) / 5f }, modifier = Modifier.fillMaxWidth())
        val verdict = listOf("Very weak", "Weak", "Fair", "Strong", "Very strong")[strength.score.toInt().coerceIn(0, 4)]
        Text(verdict, style = MaterialTheme.typography.labelMedium)
        strength.feedback.forEach { Text(it, style = MaterialTheme.typography.bodySmall) }
    }
}

@Composable
fun ErrorText(message: String?) {
    if (message != null) Text(message, color = MaterialTheme.colorScheme.error, modifier = Modifier.padding(vertical = 4.dp))
}

/** A QR code drawn from the core's module matrix (invites, transfer frames, Google export). */
@Composable
fun QrImage(text: String, modifier: Modifier = Modifier) {
    QrImage(remember(text) { TwofoldQr.matrix(text) }, modifier)
}

/** A QR code the core already drew (Google export codes: their text never leaves the core). */
@Composable
fun QrImage(matrix: QrMatrix, modifier: Modifier = Modifier) {
    Canvas(modifier.aspectRatio(1f).background(Color.White).padding(12.dp)) {
        val n = matrix.size.toInt()
        val cell = size.minDimension / n
        for (y in 0 until n) for (x in 0 until n) {
            if (matrix.modules[y * n + x] == 1.toByte()) {
                drawRect(Color.Black, Offset(x * cell, y * cell), Size(cell + 0.5f, cell + 0.5f))
            }
        }
    }
}

/**
 * The camera for transfer invites, frames and replies: every decoded text goes to [onText] on
 * the main thread (the core refuses to hand out account codes as text).
 */
@Composable
fun QrCamera(onText: (String) -> Unit, modifier: Modifier = Modifier) {
    val context = LocalContext.current
    val mainExecutor = remember { ContextCompat.getMainExecutor(context) }
    val latest by rememberUpdatedState(onText)
    QrFrameCamera(onFrame = { w, h, stride, luma ->
        val text = try {
            // Already on CameraX's analysis executor: decode right here.
            runBlocking { TwofoldQr.decodeLuma(w, h, stride, luma, Dispatchers.Unconfined) }
        } catch (_: VaultFailure) {
            null
        }
        if (text != null) mainExecutor.execute { latest(text) }
    }, modifier = modifier)
}

/**
 * The camera with every frame's Y plane handed to [onFrame] on the analysis thread (the buffer
 * is reused after it returns). Asks for the permission first and explains what it is for.
 */
@Composable
fun QrFrameCamera(onFrame: (width: Int, height: Int, rowStride: Int, luma: ByteArray) -> Unit, modifier: Modifier = Modifier) {
    val context = LocalContext.current
    val owner = LocalLifecycleOwner.current
    var granted by remember {
        mutableStateOf(ContextCompat.checkSelfPermission(context, Manifest.permission.CAMERA) == PackageManager.PERMISSION_GRANTED)
    }
    val ask = rememberLauncherForActivityResult(ActivityResultContracts.RequestPermission()) { granted = it }
    LaunchedEffect(Unit) { if (!granted) ask.launch(Manifest.permission.CAMERA) }
    if (!granted) {
        Column(modifier.padding(16.dp)) {
            Text("Twofold uses the camera only to read QR codes. Nothing is recorded or sent anywhere.")
            Button(onClick = { ask.launch(Manifest.permission.CAMERA) }) { Text("Allow the camera") }
        }
        return
    }
    val latest by rememberUpdatedState(onFrame)
    val analysisThread = remember { Executors.newSingleThreadExecutor() }
    val mainExecutor = remember { ContextCompat.getMainExecutor(context) }
    val providerFuture = remember { ProcessCameraProvider.getInstance(context) }
    AndroidView(
        modifier = modifier,
        factory = { ctx ->
            val view = PreviewView(ctx)
            providerFuture.addListener({
                val provider = providerFuture.get()
                val preview = Preview.Builder().build().also { it.setSurfaceProvider(view.surfaceProvider) }
                val analysis = ImageAnalysis.Builder()
                    .setBackpressureStrategy(ImageAnalysis.STRATEGY_KEEP_ONLY_LATEST)
                    .build()
                    .also { it.setAnalyzer(analysisThread, QrAnalyzer { w, h, stride, luma -> latest(w, h, stride, luma) }) }
                provider.unbindAll()
                provider.bindToLifecycle(owner, CameraSelector.DEFAULT_BACK_CAMERA, preview, analysis)
            }, mainExecutor)
            view
        },
    )
    DisposableEffect(Unit) {
        onDispose {
            if (providerFuture.isDone) providerFuture.get().unbindAll()
            analysisThread.shutdown()
        }
    }
}

package dev.twofold.app.ui

import android.Manifest
import android.content.ActivityNotFoundException
import android.content.pm.PackageManager
import androidx.activity.compose.rememberLauncherForActivityResult
import androidx.activity.result.contract.ActivityResultContract
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
import androidx.compose.material.icons.Icons
import androidx.compose.material.icons.filled.Visibility
import androidx.compose.material.icons.filled.VisibilityOff
import androidx.compose.material3.Button
import androidx.compose.material3.Icon
import androidx.compose.material3.IconButton
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
import androidx.compose.runtime.saveable.rememberSaveable
import androidx.compose.runtime.setValue
import androidx.compose.runtime.staticCompositionLocalOf
import androidx.compose.ui.Modifier
import androidx.compose.ui.geometry.Offset
import androidx.compose.ui.geometry.Size
import androidx.compose.ui.graphics.Color
import androidx.compose.ui.platform.LocalContext
import androidx.compose.ui.text.input.KeyboardCapitalization
import androidx.compose.ui.text.input.KeyboardType
import androidx.compose.ui.text.input.PasswordVisualTransformation
import androidx.compose.ui.text.input.VisualTransformation
import androidx.compose.ui.unit.dp
import androidx.compose.ui.viewinterop.AndroidView
import dev.twofold.core.TwofoldException
import dev.twofold.core.QrMatrix
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.runBlocking
import androidx.core.content.ContextCompat
import androidx.lifecycle.compose.LocalLifecycleOwner
import dev.twofold.TwofoldQr
import dev.twofold.app.model.AppModel
import dev.twofold.app.platform.QrAnalyzer
import dev.twofold.core.PasswordStrength
import java.util.concurrent.Executors

/**
 * What a password keyboard is told: no suggestions, no autocorrection, no learning (keyboards
 * such as Gboard keep nothing typed into a password field). For every field that takes a
 * password, a recovery key, an otpauth link or an account secret.
 */
val SecretKeyboard = KeyboardOptions(
    capitalization = KeyboardCapitalization.None,
    autoCorrectEnabled = false,
    keyboardType = KeyboardType.Password,
)

/** A password field, hidden unless the eye is tapped; the text goes to the model as a CharArray it wipes. */
@Composable
fun PasswordField(value: String, onChange: (String) -> Unit, label: String, modifier: Modifier = Modifier) {
    var shown by rememberSaveable { mutableStateOf(false) }
    OutlinedTextField(
        value = value,
        onValueChange = onChange,
        label = { Text(label) },
        singleLine = true,
        visualTransformation = if (shown) VisualTransformation.None else PasswordVisualTransformation(),
        keyboardOptions = SecretKeyboard,
        trailingIcon = {
            IconButton(onClick = { shown = !shown }) {
                Icon(if (shown) Icons.Filled.VisibilityOff else Icons.Filled.Visibility, if (shown) "Hide" else "Show")
            }
        },
        modifier = modifier.fillMaxWidth(),
    )
}

/**
 * A field for a secret the user reads while typing it (a recovery key from paper, an otpauth
 * link, an account's secret key): shown, but the keyboard is a password keyboard that
 * suggests, corrects and learns nothing.
 */
@Composable
fun SecretTextField(value: String, onChange: (String) -> Unit, label: String, modifier: Modifier = Modifier, singleLine: Boolean = true) {
    OutlinedTextField(
        value = value,
        onValueChange = onChange,
        label = { Text(label) },
        singleLine = singleLine,
        keyboardOptions = SecretKeyboard,
        modifier = modifier.fillMaxWidth(),
    )
}

/** The app's top-level model, for the pickers below to pause auto-lock. */
val LocalAutoLock = staticCompositionLocalOf<AppModel?> { null }

/**
 * A launcher for a system picker the app opens (a folder, a file, a picture, "save as"). While
 * it is in front the app is in the background, but auto-lock waits ([AppModel.pickerOpened]),
 * so the answer reaches an unlocked vault. Returns the function that opens it; a phone with
 * no app for the request calls [onUnavailable] instead.
 */
@Composable
fun <I, O> rememberPicker(contract: ActivityResultContract<I, O>, onUnavailable: () -> Unit = {}, onResult: (O) -> Unit): (I) -> Unit {
    val app = LocalAutoLock.current
    val result by rememberUpdatedState(onResult)
    val unavailable by rememberUpdatedState(onUnavailable)
    val launcher = rememberLauncherForActivityResult(contract) { answer ->
        app?.pickerClosed()
        result(answer)
    }
    return remember(launcher, app) {
        { input: I ->
            app?.pickerOpened()
            try {
                launcher.launch(input)
            } catch (_: ActivityNotFoundException) {
                app?.pickerClosed()
                unavailable()
            }
        }
    }
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
        } catch (_: TwofoldException) {
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
    val previewView = remember { PreviewView(context) }
    var failure by remember { mutableStateOf<String?>(null) }
    DisposableEffect(owner, previewView) {
        // The provider's listener and onDispose both run on the main thread, in either order:
        // the provider may become ready after the screen was left, and then nothing is bound
        // (a late bind would hold the camera for a screen that is gone, with its analyzer on
        // an executor already shut down).
        var disposed = false
        var bound: ProcessCameraProvider? = null
        val analysisThread = Executors.newSingleThreadExecutor()
        val preview = Preview.Builder().build()
        val analysis = ImageAnalysis.Builder()
            .setBackpressureStrategy(ImageAnalysis.STRATEGY_KEEP_ONLY_LATEST)
            .build()
            .also { it.setAnalyzer(analysisThread, QrAnalyzer { w, h, stride, luma -> latest(w, h, stride, luma) }) }
        val future = ProcessCameraProvider.getInstance(context)
        future.addListener({
            if (disposed) return@addListener
            try {
                val provider = future.get()
                preview.setSurfaceProvider(previewView.surfaceProvider)
                provider.bindToLifecycle(owner, CameraSelector.DEFAULT_BACK_CAMERA, preview, analysis)
                bound = provider
            } catch (e: java.util.concurrent.ExecutionException) {
                failure = "The camera could not be started (${e.cause?.message ?: "no camera service"})."
            } catch (_: IllegalArgumentException) {
                failure = "This phone has no back camera Twofold can use."
            } catch (_: IllegalStateException) {
                failure = "The camera is in use by another app."
            } catch (_: InterruptedException) {
                Thread.currentThread().interrupt()
            }
        }, ContextCompat.getMainExecutor(context))
        onDispose {
            disposed = true
            // Only this screen's use cases: another camera screen may be binding its own.
            bound?.unbind(preview, analysis)
            analysis.clearAnalyzer()
            analysisThread.shutdown()
        }
    }
    val problem = failure
    if (problem != null) {
        Text(problem, modifier.padding(16.dp))
    } else {
        AndroidView(modifier = modifier, factory = { previewView })
    }
}

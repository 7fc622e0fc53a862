package dev.twofold.app.platform

import android.content.ClipData
import android.content.ClipDescription
import android.content.ClipboardManager
import android.content.Context
import android.os.Build
import android.os.PersistableBundle
import dev.twofold.app.model.Clipboard

/**
 * Copies codes marked sensitive (Android 13+ hides them from the copy preview and keyboard
 * suggestions) and clears them later unless something else was copied in between (noticed
 * while the app is in front; in the background Android does not let apps look).
 */
class AndroidClipboard(context: Context) : Clipboard {
    private val manager = context.getSystemService(ClipboardManager::class.java)
    private var token = 0L
    private var ours = false

    init {
        manager.addPrimaryClipChangedListener {
            val extras = runCatching { manager.primaryClipDescription?.extras }.getOrNull()
            ours = extras?.getLong(MARKER, -1L) == token
        }
    }

    override fun copySensitive(text: String) {
        token = System.nanoTime()
        val clip = ClipData.newPlainText("Twofold code", text)
        clip.description.extras = PersistableBundle().apply {
            if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.TIRAMISU) {
                putBoolean(ClipDescription.EXTRA_IS_SENSITIVE, true)
            } else {
                putBoolean("android.content.extra.IS_SENSITIVE", true)
            }
            putLong(MARKER, token)
        }
        ours = true
        manager.setPrimaryClip(clip)
    }

    override fun clearIfStillOurs() {
        if (ours) manager.clearPrimaryClip()
        ours = false
    }

    private companion object {
        const val MARKER = "dev.twofold.copy"
    }
}

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
 * suggestions) and clears them later — but only a clip that is still Twofold's: each copy
 * carries a marker, and the clip on the clipboard is looked at when it is time to clear, so
 * something the user copied since is never wiped.
 *
 * Android 10 and newer let only the app in front read the clipboard. When the time comes while
 * Twofold is in the background, it cannot tell whose the clip is, so it leaves it and decides
 * when its window has the focus again ([onFocus]); a code is short-lived, the user's own
 * clipboard is not (Android 13+ also clears the clipboard itself after an hour).
 *
 * One instance for the app's lifetime, with no listener to register or leak.
 */
class AndroidClipboard(context: Context) : Clipboard {
    private val manager = context.getSystemService(ClipboardManager::class.java)

    /** The marker of the last copy still to be cleared; 0 when there is none. */
    private var token = 0L

    /** The clearing came while the clipboard could not be read. */
    private var clearWhenFocused = false

    override fun copySensitive(text: String) {
        token = System.nanoTime().coerceAtLeast(1)
        clearWhenFocused = false
        val clip = ClipData.newPlainText("Twofold code", text)
        clip.description.extras = PersistableBundle().apply {
            if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.TIRAMISU) {
                putBoolean(ClipDescription.EXTRA_IS_SENSITIVE, true)
            } else {
                putBoolean("android.content.extra.IS_SENSITIVE", true)
            }
            putLong(MARKER, token)
        }
        manager.setPrimaryClip(clip)
    }

    override fun clearIfStillOurs() {
        if (token == 0L) return
        // Null when this app may not read the clipboard now (not in front), or it is empty.
        val description = runCatching { manager.primaryClipDescription }.getOrNull()
        val readable = description != null || runCatching { manager.hasPrimaryClip() }.getOrDefault(false)
        when {
            description == null && !readable -> clearWhenFocused = true
            description?.extras?.getLong(MARKER, -1L) == token -> {
                manager.clearPrimaryClip()
                token = 0L
                clearWhenFocused = false
            }
            else -> {
                // Something else is on the clipboard now: it is the user's, leave it.
                token = 0L
                clearWhenFocused = false
            }
        }
    }

    /** Twofold's window has the focus: a clearing that had to wait happens now. */
    fun onFocus() {
        if (!clearWhenFocused) return
        clearWhenFocused = false
        clearIfStillOurs()
        if (clearWhenFocused) {
            // Readable now and still nothing there: the clipboard is empty.
            clearWhenFocused = false
            token = 0L
        }
    }

    private companion object {
        const val MARKER = "dev.twofold.copy"
    }
}

package dev.twofold.app

import android.os.Bundle
import android.view.WindowManager
import androidx.activity.compose.setContent
import androidx.activity.enableEdgeToEdge
import androidx.activity.viewModels
import androidx.fragment.app.FragmentActivity
import dev.twofold.app.ui.TwofoldRoot

/**
 * The only activity. FLAG_SECURE for the whole window: every screen of the app shows codes,
 * secrets, recovery keys or transfer QR codes, so none may be captured or appear in Recents.
 * A FragmentActivity because BiometricPrompt needs one.
 */
class MainActivity : FragmentActivity() {
    private val model: AppViewModel by viewModels()

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        window.setFlags(WindowManager.LayoutParams.FLAG_SECURE, WindowManager.LayoutParams.FLAG_SECURE)
        enableEdgeToEdge()
        model.attach(this)
        setContent { TwofoldRoot(model) }
    }

    override fun onWindowFocusChanged(hasFocus: Boolean) {
        super.onWindowFocusChanged(hasFocus)
        if (hasFocus) model.windowFocused()
    }
}

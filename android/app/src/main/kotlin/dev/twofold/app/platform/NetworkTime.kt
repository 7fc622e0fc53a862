package dev.twofold.app.platform

import android.os.Build
import android.os.SystemClock
import dev.twofold.app.model.TrustedTime
import java.time.DateTimeException

/**
 * The system's network time (Android 13+: NITZ/NTP kept by the OS, no INTERNET permission
 * needed). Null when the phone has none; the core decides what an offset means.
 */
object NetworkTime : TrustedTime {
    override fun nowMs(): Long? =
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.TIRAMISU) {
            try {
                SystemClock.currentNetworkTimeClock().millis()
            } catch (_: DateTimeException) {
                null
            }
        } else {
            null
        }
}

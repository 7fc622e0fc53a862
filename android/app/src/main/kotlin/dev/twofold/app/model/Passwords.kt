package dev.twofold.app.model

import dev.twofold.core.PasswordStrength
import dev.twofold.core.passwordStrength
import dev.twofold.toWipedUtf8
import dev.twofold.useThenWipe
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.launch
import kotlinx.coroutines.withContext

/** The core's verdict on [password] (UTF-8, left as it is; the copy handed over is wiped). */
suspend fun judgePassword(password: ByteArray, io: CoroutineDispatcher): PasswordStrength =
    withContext(io) { password.copyOf().useThenWipe { passwordStrength(it) } }

/**
 * Live feedback while a new password is typed: each keystroke's check replaces the one still
 * running, so a slow earlier verdict never lands after a newer one. Null for an empty field.
 */
class PasswordFeedback(
    private val scope: CoroutineScope,
    private val io: CoroutineDispatcher,
    private val publish: (PasswordStrength?) -> Unit,
) {
    private var running: Job? = null

    /** [password] is wiped. */
    fun typed(password: CharArray): Job {
        val bytes = password.toWipedUtf8()
        running?.cancel()
        return scope.launch {
            bytes.useThenWipe { publish(if (it.isEmpty()) null else judgePassword(it, io)) }
        }.also { running = it }
    }
}

/** Null when the core accepts the password; otherwise what to tell the user. */
val PasswordStrength.refusal: String?
    get() = if (acceptable) null else feedback.firstOrNull() ?: "Choose a longer password"

package dev.twofold.app.model

import dev.twofold.core.PasswordStrength
import dev.twofold.core.passwordStrength
import dev.twofold.toWipedUtf8
import dev.twofold.useThenWipe
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.withContext

/** The core's verdict on [password] (UTF-8, left as it is; the copy handed over is wiped). */
suspend fun judgePassword(password: ByteArray, io: CoroutineDispatcher): PasswordStrength =
    withContext(io) { password.copyOf().useThenWipe { passwordStrength(it) } }

/** Live feedback while a new password is typed; [password] is wiped. Null for an empty field. */
suspend fun passwordFeedback(password: CharArray, io: CoroutineDispatcher): PasswordStrength? =
    password.toWipedUtf8().useThenWipe { if (it.isEmpty()) null else judgePassword(it, io) }

/** Null when the core accepts the password; otherwise what to tell the user. */
val PasswordStrength.refusal: String?
    get() = if (acceptable) null else feedback.firstOrNull() ?: "Choose a longer password"

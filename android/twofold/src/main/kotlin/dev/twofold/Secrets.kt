package dev.twofold

/**
 * Runs [block] with [bytes] and zero-fills them afterwards, whatever happens. Passwords, PINs
 * and platform keys go to the core as byte arrays and are wiped here, never kept as Strings.
 */
inline fun <T> ByteArray.useThenWipe(block: (ByteArray) -> T): T =
    try {
        block(this)
    } finally {
        fill(0)
    }

/** UTF-8 bytes of typed characters, wiping the character array (from a password field). */
fun CharArray.toWipedUtf8(): ByteArray {
    val buffer = Charsets.UTF_8.encode(java.nio.CharBuffer.wrap(this))
    val out = ByteArray(buffer.remaining())
    buffer.get(out)
    if (buffer.hasArray()) buffer.array().fill(0)
    fill('\u0000')
    return out
}

/** [useThenWipe] for suspending blocks (exports handed to a file writer). */
suspend fun <T> ByteArray.useThenWipeSuspending(block: suspend (ByteArray) -> T): T =
    try {
        block(this)
    } finally {
        fill(0)
    }

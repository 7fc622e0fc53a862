package dev.twofold

/**
 * The app's hardware keystore, as the facade needs it: wrap a fresh 32-byte slot key when a
 * biometric slot is enrolled, unwrap it again to unlock. On Android this is an Android
 * Keystore AES-256-GCM key behind BiometricPrompt; on the JVM tests a javax.crypto key.
 * Implementations throw [TwofoldException.PlatformKeyInvalidated] when the key is gone.
 */
interface PlatformKeystore {
    /** The keystore alias the wrapped blob belongs to. */
    val alias: String

    /** Wraps [key] (32 bytes, not modified); returns the blob to store in the vault's slot. */
    suspend fun wrap(key: ByteArray): ByteArray

    /** Unwraps a blob produced by [wrap]; returns the 32-byte key. */
    suspend fun unwrap(blob: ByteArray): ByteArray
}

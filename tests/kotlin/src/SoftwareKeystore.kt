package dev.twofold.tests

import dev.twofold.PlatformKeystore
import dev.twofold.VaultFailure
import javax.crypto.AEADBadTagException
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec

/**
 * A test stand-in for the Android Keystore: a real AES-256-GCM key from javax.crypto wraps
 * the core's 32-byte slot key exactly as the app's keystore key does (blob = IV ‖ ciphertext
 * ‖ tag). [invalidate] simulates a new biometric enrollment destroying the key.
 */
class SoftwareKeystore(override val alias: String) : PlatformKeystore {
    private var key: SecretKey? = KeyGenerator.getInstance("AES").apply { init(256) }.generateKey()
    var unwrapCalls = 0
        private set

    fun invalidate() {
        key = null
    }

    override suspend fun wrap(key: ByteArray): ByteArray {
        val k = this.key ?: throw VaultFailure.PlatformKeyInvalidated()
        val cipher = Cipher.getInstance("AES/GCM/NoPadding")
        cipher.init(Cipher.ENCRYPT_MODE, k)
        return cipher.iv + cipher.doFinal(key)
    }

    override suspend fun unwrap(blob: ByteArray): ByteArray {
        unwrapCalls++
        val k = this.key ?: throw VaultFailure.PlatformKeyInvalidated()
        val cipher = Cipher.getInstance("AES/GCM/NoPadding")
        cipher.init(Cipher.DECRYPT_MODE, k, GCMParameterSpec(128, blob, 0, 12))
        return try {
            cipher.doFinal(blob, 12, blob.size - 12)
        } catch (e: AEADBadTagException) {
            throw VaultFailure.PlatformKeyInvalidated(e)
        }
    }
}

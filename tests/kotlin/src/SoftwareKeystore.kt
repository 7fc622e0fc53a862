package dev.twofold.tests

import dev.twofold.PlatformKeystore
import dev.twofold.core.TwofoldException
import dev.twofold.app.model.BiometricKeys
import javax.crypto.AEADBadTagException
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec

/**
 * A test stand-in for the Android Keystore: a real AES-256-GCM key from javax.crypto wraps
 * the core's 32-byte slot key exactly as the app's keystore key does (blob = IV ‖ ciphertext
 * ‖ tag). [invalidate] simulates a new biometric enrollment destroying the key; [failure], when
 * set, is thrown by every wrap and unwrap as the platform's keystore would throw it.
 */
class SoftwareKeystore(override val alias: String) : PlatformKeystore {
    private var key: SecretKey? = KeyGenerator.getInstance("AES").apply { init(256) }.generateKey()
    var failure: Throwable? = null
    var unwrapCalls = 0
        private set

    val valid: Boolean get() = key != null

    fun invalidate() {
        key = null
    }

    override suspend fun wrap(key: ByteArray): ByteArray {
        failure?.let { throw it }
        val k = this.key ?: throw TwofoldException.PlatformKeyInvalidated()
        val cipher = Cipher.getInstance("AES/GCM/NoPadding")
        cipher.init(Cipher.ENCRYPT_MODE, k)
        return cipher.iv + cipher.doFinal(key)
    }

    override suspend fun unwrap(blob: ByteArray): ByteArray {
        unwrapCalls++
        failure?.let { throw it }
        val k = this.key ?: throw TwofoldException.PlatformKeyInvalidated()
        val cipher = Cipher.getInstance("AES/GCM/NoPadding")
        cipher.init(Cipher.DECRYPT_MODE, k, GCMParameterSpec(128, blob, 0, 12))
        return try {
            cipher.doFinal(blob, 12, blob.size - 12)
        } catch (e: AEADBadTagException) {
            throw TwofoldException.PlatformKeyInvalidated().apply { initCause(e) }
        }
    }
}

/**
 * The app's biometric keys as the Android glue keeps them — one Keystore key per enrollment,
 * named by the slot — with javax.crypto keys. [events] records every key made and deleted, in
 * order; [onDelete] runs just before a key is deleted (tests look at the vault there).
 */
class SoftwareBiometricKeys(private val prefix: String = "twofold-biometric") : BiometricKeys {
    private val keys = linkedMapOf<String, SoftwareKeystore>()
    private var next = 0
    var usable = true
    val events = mutableListOf<String>()
    var onDelete: (String) -> Unit = {}

    /** Thrown by the next fresh key's wrap, after the key was made (a dismissed prompt, a refusal). */
    var nextWrapFailure: Throwable? = null

    /** Thrown by every unwrap (the keystore refusing in some way). */
    var unwrapFailure: Throwable? = null
        set(value) {
            field = value
            keys.values.forEach { it.failure = value }
        }

    override fun available(): Boolean = usable

    override fun owns(alias: String): Boolean = alias.startsWith(prefix)

    override fun forAlias(alias: String): PlatformKeystore =
        keys[alias] ?: SoftwareKeystore(alias).also { it.invalidate() }

    override fun fresh(): PlatformKeystore {
        val alias = "$prefix-${next++}"
        return object : PlatformKeystore {
            override val alias = alias

            override suspend fun wrap(key: ByteArray): ByteArray {
                val made = SoftwareKeystore(alias)
                keys[alias] = made
                events += "create $alias"
                nextWrapFailure?.let {
                    nextWrapFailure = null
                    throw it
                }
                val blob = made.wrap(key)
                made.failure = unwrapFailure
                return blob
            }

            override suspend fun unwrap(blob: ByteArray): ByteArray = forAlias(alias).unwrap(blob)
        }
    }

    override fun aliases(): List<String> = keys.keys.toList()

    override fun delete(alias: String) {
        onDelete(alias)
        events += "delete $alias"
        keys.remove(alias)
    }

    /** A new fingerprint was enrolled: every key stops working. */
    fun invalidateAll() = keys.values.forEach { it.invalidate() }

    fun held(alias: String): Boolean = keys[alias]?.valid == true
}

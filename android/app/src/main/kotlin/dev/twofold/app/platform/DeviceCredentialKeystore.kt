package dev.twofold.app.platform

import dev.twofold.core.InputProblem
import dev.twofold.inputFailure
import android.os.Build
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyProperties
import androidx.biometric.BiometricManager.Authenticators.DEVICE_CREDENTIAL
import androidx.biometric.BiometricPrompt
import androidx.core.content.ContextCompat
import androidx.fragment.app.FragmentActivity
import dev.twofold.PlatformKeystore
import dev.twofold.core.TwofoldException
import dev.twofold.app.model.BiometricCancelled
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.suspendCancellableCoroutine
import dev.twofold.app.model.keystoreOperation
import kotlinx.coroutines.withContext
import java.security.KeyStore
import java.util.UUID
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec
import kotlin.coroutines.resume
import kotlin.coroutines.resumeWithException

/**
 * The key behind a PIN slot's device key: an Android Keystore AES-256-GCM key that needs the
 * device credential (the phone's lock-screen PIN, pattern or password) for every use, and is
 * destroyed when the lock screen is removed. It wraps the core's 32-byte device key (blob =
 * IV ‖ ciphertext ‖ tag). So the vault file alone never yields a PIN oracle: an attacker
 * needs this phone, unlocked through its own lock screen, for each unwrap — and after the
 * unwrap, the core still counts wrong PINs (five lock the slot).
 *
 * Needs Android 11 (API 30) for per-use device-credential keys with a CryptoObject; on older
 * versions [fresh] and [forAlias] return null and the app offers no PIN.
 */
class DeviceCredentialKeystore(override val alias: String, private val activity: () -> FragmentActivity?) : PlatformKeystore {
    companion object {
        /** Every alias starts so: one key per PIN enrollment, named by its slot. */
        const val PREFIX = "twofold-pin-device-key"
        private const val TAG_BITS = 128
        private const val IV_BYTES = 12

        /**
         * A keystore under a new alias for a new PIN slot (its wrap makes the key; no other
         * key is touched), or null before Android 11.
         */
        fun fresh(activity: () -> FragmentActivity?): DeviceCredentialKeystore? =
            if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.R) DeviceCredentialKeystore("$PREFIX-${UUID.randomUUID()}", activity) else null

        /** The keystore of an existing PIN slot (its `platformAlias`). */
        fun forAlias(alias: String, activity: () -> FragmentActivity?): DeviceCredentialKeystore? =
            if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.R && alias.startsWith(PREFIX)) DeviceCredentialKeystore(alias, activity) else null
    }

    private val keyStore: KeyStore get() = KeyStore.getInstance("AndroidKeyStore").apply { load(null) }

    private fun newKey(): SecretKey {
        val spec = KeyGenParameterSpec.Builder(alias, KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT)
            .setBlockModes(KeyProperties.BLOCK_MODE_GCM)
            .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_NONE)
            .setKeySize(256)
            .setUserAuthenticationRequired(true)
            .apply {
                if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.R) {
                    setUserAuthenticationParameters(0, KeyProperties.AUTH_DEVICE_CREDENTIAL)
                }
            }
            .build()
        val generator = KeyGenerator.getInstance(KeyProperties.KEY_ALGORITHM_AES, "AndroidKeyStore")
        generator.init(spec)
        return generator.generateKey()
    }

    override suspend fun wrap(key: ByteArray): ByteArray {
        val cipher = keystoreCall(unwrapping = false) {
            Cipher.getInstance("AES/GCM/NoPadding").apply { init(Cipher.ENCRYPT_MODE, newKey()) }
        }
        val authorized = prompt(cipher, "Set up your Twofold PIN")
        return keystoreCall(unwrapping = false) { authorized.iv + authorized.doFinal(key) }
    }

    override suspend fun unwrap(blob: ByteArray): ByteArray {
        if (blob.size <= IV_BYTES) throw TwofoldException.Corrupt("The PIN slot is damaged")
        val cipher = keystoreCall(unwrapping = true) {
            val key = keyStore.getKey(alias, null) as? SecretKey ?: throw TwofoldException.PlatformKeyInvalidated()
            Cipher.getInstance("AES/GCM/NoPadding").apply {
                init(Cipher.DECRYPT_MODE, key, GCMParameterSpec(TAG_BITS, blob, 0, IV_BYTES))
            }
        }
        val authorized = prompt(cipher, "Unlock Twofold with your PIN")
        return keystoreCall(unwrapping = true) { authorized.doFinal(blob, IV_BYTES, blob.size - IV_BYTES) }
    }

    /**
     * Keystore failures of any kind become [TwofoldException]s the models handle: a key that
     * cannot unwrap is invalidated (password, then a new PIN), one that cannot be made says so.
     */
    private suspend fun <T> keystoreCall(unwrapping: Boolean, block: () -> T): T =
        keystoreOperation(unwrapping) { withContext(Dispatchers.IO) { block() } }

    /** Deletes this PIN's key once its slot is gone (a key that cannot be deleted now stays). */
    fun delete() {
        runCatching { keyStore.apply { if (containsAlias(alias)) deleteEntry(alias) } }
    }

    private suspend fun prompt(cipher: Cipher, title: String): Cipher {
        val host = activity() ?: throw TwofoldException.Internal("No screen to show the lock-screen prompt on")
        return withContext(Dispatchers.Main) {
            // BiometricPrompt silently ignores a request once the activity saved its state
            // (the app went to the background): the wait would never end. Treat it as a cancel;
            // the unlock screen offers the prompt again when it is in front.
            if (host.supportFragmentManager.isStateSaved) throw BiometricCancelled()
            suspendCancellableCoroutine { cont ->
                val callback = object : BiometricPrompt.AuthenticationCallback() {
                    override fun onAuthenticationSucceeded(result: BiometricPrompt.AuthenticationResult) {
                        val c = result.cryptoObject?.cipher
                        if (c == null) cont.resumeWithException(TwofoldException.Internal("The prompt returned no cipher"))
                        else cont.resume(c)
                    }

                    override fun onAuthenticationError(errorCode: Int, errString: CharSequence) {
                        val e = when (errorCode) {
                            BiometricPrompt.ERROR_USER_CANCELED, BiometricPrompt.ERROR_CANCELED -> BiometricCancelled()
                            else -> inputFailure(InputProblem.SystemPrompt, errString.toString())
                        }
                        cont.resumeWithException(e)
                    }
                }
                val prompt = BiometricPrompt(host, ContextCompat.getMainExecutor(host), callback)
                val info = BiometricPrompt.PromptInfo.Builder()
                    .setTitle(title)
                    .setSubtitle("Confirm with your phone's screen lock")
                    .setAllowedAuthenticators(DEVICE_CREDENTIAL)
                    .build()
                prompt.authenticate(info, BiometricPrompt.CryptoObject(cipher))
                cont.invokeOnCancellation { prompt.cancelAuthentication() }
            }
        }
    }
}

package dev.twofold.app.platform

import android.os.Build
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyPermanentlyInvalidatedException
import android.security.keystore.KeyProperties
import androidx.biometric.BiometricManager.Authenticators.DEVICE_CREDENTIAL
import androidx.biometric.BiometricPrompt
import androidx.core.content.ContextCompat
import androidx.fragment.app.FragmentActivity
import dev.twofold.PlatformKeystore
import dev.twofold.VaultFailure
import dev.twofold.app.model.BiometricCancelled
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.suspendCancellableCoroutine
import kotlinx.coroutines.withContext
import java.security.GeneralSecurityException
import java.security.KeyStore
import java.security.ProviderException
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
 * versions [availableOn] returns null and the app offers no PIN.
 */
class DeviceCredentialKeystore(private val activity: () -> FragmentActivity?) : PlatformKeystore {
    override val alias: String = ALIAS

    companion object {
        const val ALIAS = "twofold-pin-device-key"
        private const val TAG_BITS = 128
        private const val IV_BYTES = 12

        fun availableOn(activity: () -> FragmentActivity?): DeviceCredentialKeystore? =
            if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.R) DeviceCredentialKeystore(activity) else null
    }

    private val keyStore: KeyStore get() = KeyStore.getInstance("AndroidKeyStore").apply { load(null) }

    private fun newKey(): SecretKey {
        val spec = KeyGenParameterSpec.Builder(ALIAS, KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT)
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
        val cipher = keystoreCall {
            Cipher.getInstance("AES/GCM/NoPadding").apply { init(Cipher.ENCRYPT_MODE, newKey()) }
        }
        val authorized = prompt(cipher, "Set up your Twofold PIN")
        return keystoreCall { authorized.iv + authorized.doFinal(key) }
    }

    override suspend fun unwrap(blob: ByteArray): ByteArray {
        if (blob.size <= IV_BYTES) throw VaultFailure.Corrupt("The PIN slot is damaged")
        val cipher = keystoreCall {
            val key = keyStore.getKey(ALIAS, null) as? SecretKey ?: throw VaultFailure.PlatformKeyInvalidated()
            Cipher.getInstance("AES/GCM/NoPadding").apply {
                init(Cipher.DECRYPT_MODE, key, GCMParameterSpec(TAG_BITS, blob, 0, IV_BYTES))
            }
        }
        val authorized = prompt(cipher, "Unlock Twofold with your PIN")
        return keystoreCall { authorized.doFinal(blob, IV_BYTES, blob.size - IV_BYTES) }
    }

    /** Keystore failures of any kind become [VaultFailure]s the models handle. */
    private suspend fun <T> keystoreCall(block: () -> T): T = withContext(Dispatchers.IO) {
        try {
            block()
        } catch (e: KeyPermanentlyInvalidatedException) {
            throw VaultFailure.PlatformKeyInvalidated(e)
        } catch (e: GeneralSecurityException) {
            throw VaultFailure.PlatformKeyInvalidated(e)
        } catch (e: ProviderException) {
            throw VaultFailure.PlatformKeyInvalidated(e)
        }
    }

    private suspend fun prompt(cipher: Cipher, title: String): Cipher {
        val host = activity() ?: throw VaultFailure.Internal("No screen to show the lock-screen prompt on")
        return withContext(Dispatchers.Main) {
            suspendCancellableCoroutine { cont ->
                val callback = object : BiometricPrompt.AuthenticationCallback() {
                    override fun onAuthenticationSucceeded(result: BiometricPrompt.AuthenticationResult) {
                        val c = result.cryptoObject?.cipher
                        if (c == null) cont.resumeWithException(VaultFailure.Internal("The prompt returned no cipher"))
                        else cont.resume(c)
                    }

                    override fun onAuthenticationError(errorCode: Int, errString: CharSequence) {
                        val e = when (errorCode) {
                            BiometricPrompt.ERROR_USER_CANCELED, BiometricPrompt.ERROR_CANCELED -> BiometricCancelled()
                            else -> VaultFailure.InvalidInput("$errString. Use your password.")
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

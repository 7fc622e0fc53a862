package dev.twofold.app.platform

import android.content.Context
import android.os.Build
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyPermanentlyInvalidatedException
import android.security.keystore.KeyProperties
import android.security.keystore.StrongBoxUnavailableException
import androidx.biometric.BiometricManager
import androidx.biometric.BiometricManager.Authenticators.BIOMETRIC_STRONG
import androidx.biometric.BiometricPrompt
import androidx.core.content.ContextCompat
import androidx.fragment.app.FragmentActivity
import dev.twofold.PlatformKeystore
import dev.twofold.VaultFailure
import dev.twofold.app.model.BiometricCancelled
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.suspendCancellableCoroutine
import kotlinx.coroutines.withContext
import java.security.KeyStore
import java.security.UnrecoverableKeyException
import javax.crypto.AEADBadTagException
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec
import kotlin.coroutines.resume
import kotlin.coroutines.resumeWithException

/**
 * The biometric slot's hardware key: an Android Keystore AES-256-GCM key that needs a strong
 * biometric for every single use, is invalidated by a new biometric enrollment, and lives in
 * StrongBox when the phone has one. It wraps the core's 32-byte platform key (blob = IV ‖
 * ciphertext ‖ tag); BiometricPrompt unlocks the Cipher through a CryptoObject.
 *
 * [activity] gives the activity currently on screen (the prompt needs one).
 */
class BiometricKeystore(private val activity: () -> FragmentActivity?) : PlatformKeystore {
    override val alias: String = ALIAS

    companion object {
        const val ALIAS = "twofold-biometric-slot"
        private const val TAG_BITS = 128
        private const val IV_BYTES = 12

        /** Null when the phone cannot do strong biometrics (then the app offers only the password). */
        fun availableOn(context: Context, activity: () -> FragmentActivity?): BiometricKeystore? =
            if (BiometricManager.from(context).canAuthenticate(BIOMETRIC_STRONG) == BiometricManager.BIOMETRIC_SUCCESS) {
                BiometricKeystore(activity)
            } else {
                null
            }
    }

    private val keyStore: KeyStore get() = KeyStore.getInstance("AndroidKeyStore").apply { load(null) }

    /** A new key each enrollment, so re-enrolling after invalidation starts clean. */
    private fun newKey(): SecretKey {
        fun spec(strongBox: Boolean) = KeyGenParameterSpec.Builder(ALIAS, KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT)
            .setBlockModes(KeyProperties.BLOCK_MODE_GCM)
            .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_NONE)
            .setKeySize(256)
            .setUserAuthenticationRequired(true)
            .setInvalidatedByBiometricEnrollment(true)
            .apply {
                if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.R) {
                    setUserAuthenticationParameters(0, KeyProperties.AUTH_BIOMETRIC_STRONG)
                } else {
                    @Suppress("DEPRECATION")
                    setUserAuthenticationValidityDurationSeconds(-1)
                }
                if (strongBox) setIsStrongBoxBacked(true)
            }
            .build()
        keyStore.deleteEntry(ALIAS)
        val generator = KeyGenerator.getInstance(KeyProperties.KEY_ALGORITHM_AES, "AndroidKeyStore")
        return try {
            generator.init(spec(strongBox = true))
            generator.generateKey()
        } catch (_: StrongBoxUnavailableException) {
            generator.init(spec(strongBox = false))
            generator.generateKey()
        }
    }

    override suspend fun wrap(key: ByteArray): ByteArray {
        val cipher = withContext(Dispatchers.IO) {
            Cipher.getInstance("AES/GCM/NoPadding").apply { init(Cipher.ENCRYPT_MODE, newKey()) }
        }
        val authorized = prompt(cipher, "Turn on biometric unlock")
        return authorized.iv + authorized.doFinal(key)
    }

    override suspend fun unwrap(blob: ByteArray): ByteArray {
        if (blob.size <= IV_BYTES) throw VaultFailure.Corrupt("The biometric slot is damaged")
        val cipher = withContext(Dispatchers.IO) {
            try {
                val key = keyStore.getKey(ALIAS, null) as? SecretKey ?: throw VaultFailure.PlatformKeyInvalidated()
                Cipher.getInstance("AES/GCM/NoPadding").apply {
                    init(Cipher.DECRYPT_MODE, key, GCMParameterSpec(TAG_BITS, blob, 0, IV_BYTES))
                }
            } catch (e: KeyPermanentlyInvalidatedException) {
                throw VaultFailure.PlatformKeyInvalidated(e)
            } catch (e: UnrecoverableKeyException) {
                throw VaultFailure.PlatformKeyInvalidated(e)
            }
        }
        val authorized = prompt(cipher, "Unlock Twofold")
        return try {
            authorized.doFinal(blob, IV_BYTES, blob.size - IV_BYTES)
        } catch (e: AEADBadTagException) {
            throw VaultFailure.PlatformKeyInvalidated(e)
        }
    }

    /** Shows BiometricPrompt bound to [cipher]; returns the cipher once the user authenticated. */
    private suspend fun prompt(cipher: Cipher, title: String): Cipher {
        val host = activity() ?: throw VaultFailure.Internal("No screen to show the biometric prompt on")
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
                            BiometricPrompt.ERROR_USER_CANCELED, BiometricPrompt.ERROR_NEGATIVE_BUTTON,
                            BiometricPrompt.ERROR_CANCELED -> BiometricCancelled()
                            else -> VaultFailure.InvalidInput("$errString. Use your password.")
                        }
                        cont.resumeWithException(e)
                    }
                    // onAuthenticationFailed (a finger not recognised) keeps the prompt open.
                }
                val prompt = BiometricPrompt(host, ContextCompat.getMainExecutor(host), callback)
                val info = BiometricPrompt.PromptInfo.Builder()
                    .setTitle(title)
                    .setSubtitle("Confirm with your fingerprint or face")
                    .setNegativeButtonText("Use password")
                    .setAllowedAuthenticators(BIOMETRIC_STRONG)
                    .build()
                prompt.authenticate(info, BiometricPrompt.CryptoObject(cipher))
                cont.invokeOnCancellation { prompt.cancelAuthentication() }
            }
        }
    }
}

package dev.twofold.app.platform

import dev.twofold.core.InputProblem
import dev.twofold.inputFailure
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
import dev.twofold.core.TwofoldException
import dev.twofold.app.model.BiometricCancelled
import dev.twofold.app.model.BiometricKeys
import dev.twofold.app.model.keystoreOperation
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.suspendCancellableCoroutine
import kotlinx.coroutines.withContext
import java.security.KeyStore
import java.util.UUID
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec
import kotlin.coroutines.resume
import kotlin.coroutines.resumeWithException

private fun androidKeyStore(): KeyStore = KeyStore.getInstance("AndroidKeyStore").apply { load(null) }

/**
 * The biometric keys of this app in the Android Keystore, one per enrollment: each biometric
 * slot of the vault names its key's alias, so setting biometrics up again makes a new key and
 * the old one keeps working until the vault has swapped the slots (the models delete the old
 * key afterwards). Whether strong biometrics can be used is asked every time, never cached:
 * the user adds and removes fingerprints while the app runs.
 *
 * [activity] gives the activity currently on screen (the prompt needs one).
 */
class AndroidBiometricKeys(private val context: Context, private val activity: () -> FragmentActivity?) : BiometricKeys {
    companion object {
        /** Every alias starts so; the first versions used the fixed "twofold-biometric-slot". */
        const val PREFIX = "twofold-biometric"
    }

    override fun available(): Boolean =
        BiometricManager.from(context).canAuthenticate(BIOMETRIC_STRONG) == BiometricManager.BIOMETRIC_SUCCESS

    override fun owns(alias: String): Boolean = alias.startsWith(PREFIX)

    override fun forAlias(alias: String): PlatformKeystore = BiometricKeystore(alias, activity)

    override fun fresh(): PlatformKeystore = BiometricKeystore("$PREFIX-${UUID.randomUUID()}", activity)

    override fun aliases(): List<String> = androidKeyStore().aliases().toList().filter(::owns)

    override fun delete(alias: String) {
        val store = androidKeyStore()
        if (store.containsAlias(alias)) store.deleteEntry(alias)
    }
}

/**
 * One biometric slot's hardware key: an Android Keystore AES-256-GCM key under [alias] that
 * needs a strong biometric for every single use, is invalidated by a new biometric enrollment,
 * and lives in StrongBox when the phone has one. It wraps the core's 32-byte platform key
 * (blob = IV ‖ ciphertext ‖ tag); BiometricPrompt unlocks the Cipher through a CryptoObject.
 * [wrap] makes the key (a fresh alias each enrollment, so no other key is touched).
 *
 * Everything the keystore throws becomes a [TwofoldException]: a key that cannot unwrap is
 * [TwofoldException.PlatformKeyInvalidated] (password, then re-enrollment), a key that cannot be
 * made says so ([keystoreOperation]).
 */
class BiometricKeystore(override val alias: String, private val activity: () -> FragmentActivity?) : PlatformKeystore {
    private companion object {
        const val TAG_BITS = 128
        const val IV_BYTES = 12
    }

    private fun newKey(): SecretKey {
        fun spec(strongBox: Boolean) = KeyGenParameterSpec.Builder(alias, KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT)
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
        val cipher = keystoreOperation(unwrapping = false) {
            withContext(Dispatchers.IO) { Cipher.getInstance("AES/GCM/NoPadding").apply { init(Cipher.ENCRYPT_MODE, newKey()) } }
        }
        val authorized = prompt(cipher, "Turn on biometric unlock")
        return keystoreOperation(unwrapping = false) { authorized.iv + authorized.doFinal(key) }
    }

    override suspend fun unwrap(blob: ByteArray): ByteArray {
        if (blob.size <= IV_BYTES) throw TwofoldException.Corrupt("The biometric slot is damaged")
        val cipher = keystoreOperation(unwrapping = true) {
            withContext(Dispatchers.IO) {
                try {
                    val key = androidKeyStore().getKey(alias, null) as? SecretKey ?: throw TwofoldException.PlatformKeyInvalidated()
                    Cipher.getInstance("AES/GCM/NoPadding").apply {
                        init(Cipher.DECRYPT_MODE, key, GCMParameterSpec(TAG_BITS, blob, 0, IV_BYTES))
                    }
                } catch (e: KeyPermanentlyInvalidatedException) {
                    throw TwofoldException.PlatformKeyInvalidated().apply { initCause(e) }
                }
            }
        }
        val authorized = prompt(cipher, "Unlock Twofold")
        // AEADBadTagException (the key no longer matches the blob), IllegalBlockSizeException
        // and the rest: this key cannot open the slot.
        return keystoreOperation(unwrapping = true) { authorized.doFinal(blob, IV_BYTES, blob.size - IV_BYTES) }
    }

    /** Shows BiometricPrompt bound to [cipher]; returns the cipher once the user authenticated. */
    private suspend fun prompt(cipher: Cipher, title: String): Cipher {
        val host = activity() ?: throw TwofoldException.Internal("No screen to show the biometric prompt on")
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
                            BiometricPrompt.ERROR_USER_CANCELED, BiometricPrompt.ERROR_NEGATIVE_BUTTON,
                            BiometricPrompt.ERROR_CANCELED -> BiometricCancelled()
                            else -> inputFailure(InputProblem.SystemPrompt, errString.toString())
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
                try {
                    prompt.authenticate(info, BiometricPrompt.CryptoObject(cipher))
                } catch (e: IllegalArgumentException) {
                    // The prompt refuses this cipher or these authenticators on this phone.
                    cont.resumeWithException(inputFailure(InputProblem.BiometricsUnavailable, "this phone cannot show the biometric prompt"))
                }
                cont.invokeOnCancellation { prompt.cancelAuthentication() }
            }
        }
    }
}

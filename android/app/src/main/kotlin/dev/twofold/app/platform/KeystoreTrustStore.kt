package dev.twofold.app.platform

import android.content.Context
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyProperties
import android.util.AtomicFile
import dev.twofold.core.TrustStore
import dev.twofold.core.TwofoldException
import java.io.File
import java.security.GeneralSecurityException
import java.security.KeyStore
import java.security.ProviderException
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec

/**
 * This device's record of the vault (last generation and signing key seen, HOTP high-water
 * marks, wrong-PIN counts; no secret), kept where a replaced vault file cannot reset it: a file
 * in no-backup storage, encrypted and authenticated with an Android Keystore AES-256-GCM key
 * (hardware-backed, never exportable, no user authentication — it is read before unlock),
 * written atomically with [AtomicFile]. Code running as the app can still change it; the
 * threat model says so.
 */
class KeystoreTrustStore(context: Context, private val alias: String = ALIAS) : TrustStore {
    companion object {
        const val ALIAS = "twofold-trust-record"
        private const val TAG_BITS = 128
        private const val IV_BYTES = 12
    }

    private val file = AtomicFile(File(context.noBackupFilesDir, "vault.trust"))

    private val keyStore: KeyStore get() = KeyStore.getInstance("AndroidKeyStore").apply { load(null) }

    private fun key(create: Boolean): SecretKey? {
        (keyStore.getKey(alias, null) as? SecretKey)?.let { return it }
        if (!create) return null
        val generator = KeyGenerator.getInstance(KeyProperties.KEY_ALGORITHM_AES, "AndroidKeyStore")
        generator.init(
            KeyGenParameterSpec.Builder(alias, KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT)
                .setBlockModes(KeyProperties.BLOCK_MODE_GCM)
                .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_NONE)
                .setKeySize(256)
                .setUserAuthenticationRequired(false)
                .build(),
        )
        return generator.generateKey()
    }

    override fun load(): ByteArray? {
        if (!file.baseFile.exists()) return null
        return try {
            val blob = file.readFully()
            val key = key(create = false) ?: return null
            if (blob.size <= IV_BYTES) return null
            val cipher = Cipher.getInstance("AES/GCM/NoPadding")
            cipher.init(Cipher.DECRYPT_MODE, key, GCMParameterSpec(TAG_BITS, blob, 0, IV_BYTES))
            cipher.doFinal(blob, IV_BYTES, blob.size - IV_BYTES)
        } catch (e: GeneralSecurityException) {
            // A record this key cannot open (keystore reset): the core treats it as absent.
            null
        } catch (e: ProviderException) {
            null
        } catch (e: java.io.IOException) {
            throw TwofoldException.Storage("The trust record cannot be read: ${e.message}")
        }
    }

    override fun store(record: ByteArray) {
        val out = try {
            val cipher = Cipher.getInstance("AES/GCM/NoPadding")
            cipher.init(Cipher.ENCRYPT_MODE, key(create = true))
            cipher.iv + cipher.doFinal(record)
        } catch (e: GeneralSecurityException) {
            throw TwofoldException.Storage("The trust record cannot be sealed: ${e.javaClass.simpleName}")
        } catch (e: ProviderException) {
            throw TwofoldException.Storage("The trust record cannot be sealed: ${e.javaClass.simpleName}")
        } catch (e: java.io.IOException) {
            throw TwofoldException.Storage("The trust record cannot be sealed: ${e.javaClass.simpleName}")
        }
        val stream = try {
            file.startWrite()
        } catch (e: java.io.IOException) {
            throw TwofoldException.Storage("The trust record cannot be written: ${e.message}")
        }
        try {
            stream.write(out)
            file.finishWrite(stream)
        } catch (e: java.io.IOException) {
            file.failWrite(stream)
            throw TwofoldException.Storage("The trust record cannot be written: ${e.message}")
        }
    }
}

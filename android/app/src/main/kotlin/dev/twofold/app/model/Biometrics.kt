package dev.twofold.app.model

import dev.twofold.core.InputProblem
import dev.twofold.core.Missing
import dev.twofold.inputFailure
import dev.twofold.PlatformKeystore
import dev.twofold.TwofoldVault
import dev.twofold.core.TwofoldException
import dev.twofold.verifyPlatform
import dev.twofold.core.SlotKind
import dev.twofold.core.SlotView
import dev.twofold.core.UnlockResult
import java.security.GeneralSecurityException
import java.security.InvalidParameterException
import java.security.ProviderException

/**
 * Runs one operation of a platform keystore so that whatever its crypto throws reaches the
 * models as a [TwofoldException] (or [BiometricCancelled]), never as an exception no model catches.
 * Android's keystore throws many kinds — `KeyPermanentlyInvalidatedException`,
 * `UserNotAuthenticatedException`, `InvalidKeyException`, `IllegalBlockSizeException`,
 * `AEADBadTagException`, `InvalidAlgorithmParameterException`, `UnrecoverableKeyException`,
 * `KeyStoreException`, `ProviderException`, `StrongBoxUnavailableException` — from key
 * generation, `KeyStore.load`, `Cipher.init` and `doFinal` alike.
 *
 * A key that cannot unwrap its slot ([unwrapping]) is [TwofoldException.PlatformKeyInvalidated]
 * whatever the reason: the password still opens the vault and biometrics can be set up again,
 * never a lock-out. A key that cannot be made or cannot wrap is a message to show.
 */
suspend fun <T> keystoreOperation(unwrapping: Boolean, block: suspend () -> T): T =
    try {
        block()
    } catch (e: GeneralSecurityException) {
        throw keystoreFailure(unwrapping, e)
    } catch (e: ProviderException) {
        throw keystoreFailure(unwrapping, e)
    } catch (e: InvalidParameterException) {
        throw keystoreFailure(unwrapping, e)
    } catch (e: java.io.IOException) {
        // KeyStore.load declares it; the Android keystore does not read files, but say so if it did.
        throw keystoreFailure(unwrapping, e)
    }

private fun keystoreFailure(unwrapping: Boolean, cause: Exception): TwofoldException =
    if (unwrapping) {
        TwofoldException.PlatformKeyInvalidated().apply { initCause(cause) }
    } else {
        inputFailure(InputProblem.KeystoreRefused, "the keystore refused the key", cause)
    }

/** [keystore] with every failure mapped by [keystoreOperation]. */
class GuardedKeystore(private val keystore: PlatformKeystore) : PlatformKeystore {
    override val alias: String get() = keystore.alias

    override suspend fun wrap(key: ByteArray): ByteArray = keystoreOperation(unwrapping = false) { keystore.wrap(key) }

    override suspend fun unwrap(blob: ByteArray): ByteArray = keystoreOperation(unwrapping = true) { keystore.unwrap(blob) }
}

/** Whether biometrics can be used on this phone now; a keystore that fails to say is a no. */
fun BiometricKeys?.usable(): Boolean = this != null && runCatching { available() }.getOrDefault(false)

/** This phone's biometric slots (readable while locked). */
suspend fun TwofoldVault.biometricSlots(keys: BiometricKeys): List<SlotView> =
    slots().filter { slot -> slot.kind == SlotKind.PLATFORM && slot.platformAlias?.let(keys::owns) == true }

/** Biometric unlock: the first slot of this phone, through its own key. */
suspend fun TwofoldVault.unlockWithBiometrics(keys: BiometricKeys): UnlockResult =
    unlockWithPlatform(biometricKeystore(keys))

/** Biometric re-authentication of the unlocked vault (the core checks in memory). */
suspend fun TwofoldVault.verifyWithBiometrics(keys: BiometricKeys) = verifyPlatform(biometricKeystore(keys))

private suspend fun TwofoldVault.biometricKeystore(keys: BiometricKeys): PlatformKeystore {
    val alias = biometricSlots(keys).firstOrNull()?.platformAlias
        ?: throw TwofoldException.NotFound(Missing.SLOT, "biometric unlock is not set up on this phone")
    return GuardedKeystore(keystoreOperation(unwrapping = true) { keys.forAlias(alias) })
}

/**
 * Turns biometric unlock on, or sets it up again: a new hardware key under a new alias wraps a
 * new slot key, and the core replaces the old slot with the new one in one commit (the first
 * enrollment just adds it). Until that commit the old key keeps working, so a cancelled prompt
 * or a failed write leaves biometric unlock as it was. Keys no slot names any more — the old
 * one, or the new one of an attempt that did not finish — are deleted afterwards. Returns the
 * new slot's id. The vault must be unlocked.
 */
suspend fun TwofoldVault.enrollBiometrics(keys: BiometricKeys, label: String): String {
    val ours = biometricSlots(keys)
    val fresh = GuardedKeystore(keystoreOperation(unwrapping = false) { keys.fresh() })
    val id = try {
        ours.firstOrNull()?.let { old -> reenrollPlatform(old, fresh, label) } ?: enrollPlatform(fresh, label)
    } catch (e: Throwable) {
        runCatching { pruneBiometricKeys(keys) }
        throw e
    }
    // Older extra slots of this phone (there should be none) go too; each removal is a commit.
    for (extra in ours.drop(1)) removeSlot(extra.id)
    pruneBiometricKeys(keys)
    return id
}

/** Turns biometric unlock off: this phone's slots are removed, then their keys deleted. */
suspend fun TwofoldVault.disableBiometrics(keys: BiometricKeys) {
    for (slot in biometricSlots(keys)) removeSlot(slot.id)
    pruneBiometricKeys(keys)
}

/**
 * Deletes the biometric keys no slot of this vault names. Only ever called while the vault is
 * unlocked, so the slots are the vault's own (a replaced file read while locked could name
 * none of them). A key that cannot be deleted now is tried again next time.
 */
suspend fun TwofoldVault.pruneBiometricKeys(keys: BiometricKeys) {
    if (!isUnlocked) return
    val named = slots().mapNotNull { it.platformAlias }.toSet()
    val held = runCatching { keys.aliases() }.getOrDefault(emptyList())
    for (alias in held) if (alias !in named) runCatching { keys.delete(alias) }
}

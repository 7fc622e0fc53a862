package dev.twofold

import kotlinx.coroutines.withContext

/*
 * Re-authentication before exports and transfers: the core checks the credential against the
 * unlocked vault in memory — the file is not read again and the session is not replaced (a
 * file swapped on disk proves nothing). [VaultFailure.WrongCredential] when it does not match.
 */

/** The vault password (UTF-8 bytes, wiped after the call). */
suspend fun TwofoldVault.verifyPassword(password: ByteArray) =
    withContext(io) { TwofoldVault.call { password.useThenWipe { session.verifyPassword(it) } } }

/** The recovery key as typed. */
suspend fun TwofoldVault.verifyRecoveryKey(recoveryKey: String) =
    withContext(io) { TwofoldVault.call { session.verifyRecoveryKey(recoveryKey) } }

/** Through [keystore] (where the biometric prompt appears): its slot's key, wiped after. */
suspend fun TwofoldVault.verifyPlatform(keystore: PlatformKeystore) {
    val slot = platformSlots(keystore).firstOrNull() ?: throw VaultFailure.NotFound("No biometric slot")
    val key = keystore.unwrap(slot.platformBlob ?: throw VaultFailure.Corrupt("Slot without blob"))
    withContext(io) { TwofoldVault.call { key.useThenWipe { session.verifyPlatformKey(slot.id, it) } } }
}

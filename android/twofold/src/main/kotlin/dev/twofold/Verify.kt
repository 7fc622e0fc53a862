package dev.twofold

import dev.twofold.core.Missing
import dev.twofold.core.TwofoldException
import kotlinx.coroutines.withContext

/*
 * Re-authentication before exports and transfers: the core checks the credential against the
 * unlocked vault in memory — the file is not read again and the session is not replaced (a
 * file swapped on disk proves nothing). [TwofoldException.WrongCredential] when it does not match.
 */

/** The vault password (UTF-8 bytes, wiped after the call). */
suspend fun TwofoldVault.verifyPassword(password: ByteArray) =
    withContext(io) { password.useThenWipe { session.verifyPassword(it) } }

/** The recovery key as typed. */
suspend fun TwofoldVault.verifyRecoveryKey(recoveryKey: String) =
    withContext(io) { session.verifyRecoveryKey(recoveryKey) }

/** Through [keystore] (where the biometric prompt appears): its slot's key, wiped after. */
suspend fun TwofoldVault.verifyPlatform(keystore: PlatformKeystore) {
    val slot = platformSlots(keystore).firstOrNull() ?: throw TwofoldException.NotFound(Missing.SLOT, "no biometric slot")
    val key = keystore.unwrap(slot.platformBlob ?: throw TwofoldException.Corrupt("a platform slot without its wrapped key"))
    withContext(io) { key.useThenWipe { session.verifyPlatformKey(slot.id, it) } }
}

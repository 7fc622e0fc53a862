package dev.twofold

import dev.twofold.core.TwofoldException

/**
 * What can go wrong, as the UI acts on it. Every core error arrives as one of these; the
 * messages never contain secrets.
 */
sealed class VaultFailure(message: String, cause: Throwable? = null) : Exception(message, cause) {
    /** Password, PIN, recovery key or platform key is wrong: ask again. */
    class WrongCredential(cause: Throwable? = null) : VaultFailure("Wrong password or key", cause)

    /** A typed recovery key has a typo: point at the input, do not count it as a wrong try. */
    class RecoveryKeyTypo(message: String, cause: Throwable? = null) : VaultFailure(message, cause)

    /**
     * The keystore key behind a biometric slot is gone (new fingerprint enrolled, lock screen
     * removed). Fall back to the password and offer to re-enroll — never a lock-out.
     */
    class PlatformKeyInvalidated(cause: Throwable? = null) :
        VaultFailure("Biometric unlock must be set up again", cause)

    /** An encrypted import file needs its password: ask for it. */
    class PasswordRequired(cause: Throwable? = null) : VaultFailure("This file is encrypted: enter its password", cause)

    /** The file (and its previous generation) is damaged: offer restore from a backup. */
    class Corrupt(message: String, cause: Throwable? = null) : VaultFailure(message, cause)

    /** Not a Twofold file, or one from a newer version. */
    class UnsupportedFile(message: String, cause: Throwable? = null) : VaultFailure(message, cause)

    /**
     * The vault file was not written with this vault's keys (or not by keys descending from
     * those this device last saw): someone may have replaced it. Nothing was opened or
     * changed; offer a backup restore, or — if the user is sure it is theirs — the password
     * path that accepts it ([TwofoldVault.unlockWithPasswordAcceptingUntrusted]).
     */
    class Forged(message: String, cause: Throwable? = null) : VaultFailure(message, cause)

    /**
     * The vault file is older ([found]) than the one this device last opened ([expected]):
     * an old copy was put back. Nothing was changed; the user may accept it with the password.
     */
    class RolledBack(val found: Long, val expected: Long, message: String, cause: Throwable? = null) :
        VaultFailure(message, cause)

    /**
     * The file opened but cannot be shown to be this vault's (made by Twofold 0.1, or a key
     * not confirmed since): ask the user, then accept it with the password; for a backup,
     * restore with `acceptUnverified = true`.
     */
    class Unverified(message: String, cause: Throwable? = null) : VaultFailure(message, cause)

    /** A file asks for more work or memory than any real one: refused before doing it. */
    class HostileFile(message: String, cause: Throwable? = null) : VaultFailure(message, cause)

    /** Too many wrong PINs: unlock with the password or biometrics (the PIN is then removed). */
    class PinLocked(cause: Throwable? = null) : VaultFailure("Too many wrong PINs: use your password", cause)

    /** The session is locked: unlock first. */
    class Locked(cause: Throwable? = null) : VaultFailure("The vault is locked", cause)

    /** The account is already in the vault. */
    class Duplicate(val existingId: String, cause: Throwable? = null) :
        VaultFailure("This account is already in the vault", cause)

    /** Input the user can fix; [message] says how (including otpauth URI reasons). */
    class InvalidInput(message: String, cause: Throwable? = null) : VaultFailure(message, cause)

    /** Not found: vault file, entry, group or slot. */
    class NotFound(message: String, cause: Throwable? = null) : VaultFailure(message, cause)

    /** Storage failed or another program changed the vault; nothing was lost. */
    class Storage(message: String, cause: Throwable? = null) : VaultFailure(message, cause)

    /** The transfer invite expired: show a new one. */
    class TransferExpired(cause: Throwable? = null) : VaultFailure("The transfer code expired; show a new one", cause)

    /** A scanned frame or invite was refused (another session, altered, a second sender). */
    class TransferRejected(message: String, cause: Throwable? = null) : VaultFailure(message, cause)

    /** The transfer failed (did not decrypt, network, timeout); start again. */
    class TransferFailed(message: String, cause: Throwable? = null) : VaultFailure(message, cause)

    /** This vault is not in a sync group: offer to set one up or to join one. */
    class SyncNotSetUp(message: String, cause: Throwable? = null) : VaultFailure(message, cause)

    /** This device was removed from its sync group on another device; it no longer syncs. */
    class SyncRevoked(message: String, cause: Throwable? = null) : VaultFailure(message, cause)

    /**
     * The sync folder or server cannot be reached (try later), or refuses this device
     * ([denied]: choose the folder again, or fix the credentials).
     */
    class SyncStorage(val denied: Boolean, message: String, cause: Throwable? = null) : VaultFailure(message, cause)

    /** A sync step was refused (another group's folder, a wrong invite, …): [message] says why. */
    class SyncRefused(message: String, cause: Throwable? = null) : VaultFailure(message, cause)

    /** A bug: report it. */
    class Internal(message: String, cause: Throwable? = null) : VaultFailure(message, cause)

    companion object {
        /** Maps the generated binding's exception to the UI's. */
        fun from(e: TwofoldException): VaultFailure = when (e) {
            is TwofoldException.WrongCredential -> WrongCredential(e)
            is TwofoldException.RecoveryKeyTypo -> RecoveryKeyTypo(e.details, e)
            is TwofoldException.PlatformKeyInvalidated -> PlatformKeyInvalidated(e)
            is TwofoldException.PasswordRequired -> PasswordRequired(e)
            is TwofoldException.Corrupt -> Corrupt(e.details, e)
            is TwofoldException.Forged -> Forged(e.details, e)
            is TwofoldException.RolledBack -> RolledBack(e.found.toLong(), e.expected.toLong(), e.details, e)
            is TwofoldException.Unverified -> Unverified(e.details, e)
            is TwofoldException.HostileFile -> HostileFile(e.details, e)
            is TwofoldException.UnsupportedFile -> UnsupportedFile(e.details, e)
            is TwofoldException.PinLocked -> PinLocked(e)
            is TwofoldException.Locked -> Locked(e)
            is TwofoldException.Conflict -> Storage("The vault changed elsewhere; unlock again", e)
            is TwofoldException.Duplicate -> Duplicate(e.existingId, e)
            is TwofoldException.InvalidInput -> InvalidInput(e.details, e)
            is TwofoldException.NotFound -> NotFound(e.details, e)
            is TwofoldException.Storage -> Storage(e.details, e)
            is TwofoldException.TransferExpired -> TransferExpired(e)
            is TwofoldException.TransferRejected -> TransferRejected(e.details, e)
            is TwofoldException.TransferFailed -> TransferFailed(e.details, e)
            is TwofoldException.SyncNotSetUp -> SyncNotSetUp(e.details, e)
            is TwofoldException.SyncRevoked -> SyncRevoked(e.details, e)
            is TwofoldException.SyncStorage -> SyncStorage(e.denied, e.details, e)
            is TwofoldException.SyncRefused -> SyncRefused(e.details, e)
            is TwofoldException.Internal -> Internal(e.details, e)
        }
    }
}

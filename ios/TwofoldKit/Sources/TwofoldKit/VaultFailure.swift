import Foundation
import TwofoldFFI

/// What can go wrong, as the UI acts on it. Every core error arrives as one of these; no
/// message contains a secret.
public enum VaultFailure: Error, Equatable, Sendable {
    /// Wrong password, PIN, recovery key or platform key: ask again.
    case wrongCredential
    /// A typed recovery key has a typo: point at the input.
    case recoveryKeyTypo(String)
    /// The Secure Enclave key behind biometric unlock is gone (biometry changed): fall back
    /// to the password and offer to re-enroll — never a lock-out.
    case platformKeyInvalidated
    /// An encrypted import file needs its password.
    case passwordRequired
    /// The file and its previous generation are damaged: offer a restore from backup.
    case corrupt(String)
    /// Not a Twofold file, a newer format, or unsafe parameters.
    case unsupportedFile(String)
    /// The vault file was not written with this vault's keys (or not by keys descending
    /// from those this device last saw): someone may have replaced it. Nothing was changed;
    /// offer a restore, or the password path that accepts it (`unlockAcceptingUntrusted`).
    case forged(String)
    /// The vault file is older than the one this device last opened: an old copy was put
    /// back. Nothing was changed; the user may accept it with the password.
    case rolledBack(found: UInt64, expected: UInt64, String)
    /// It opened but cannot be shown to be this vault's (made by Twofold 0.1, or a key not
    /// confirmed since): ask, then accept with the password; for backups `acceptUnverified`.
    case unverified(String)
    /// A file asks for more work or memory than any real one: refused before doing it.
    case hostileFile(String)
    /// Too many wrong PINs: use the password or Face ID (the PIN is then removed).
    case pinLocked
    case locked
    case duplicate(existingId: String)
    /// Input the user can fix; the text says how (including otpauth URI reasons).
    case invalidInput(String)
    case notFound(String)
    /// Storage failed or the vault changed elsewhere; nothing was lost.
    case storage(String)
    /// The transfer invite expired: show a new one.
    case transferExpired
    /// A scanned frame or invite was refused (another session, altered, a second sender).
    case transferRejected(String)
    /// The transfer failed (did not decrypt, network, timeout).
    case transferFailed(String)
    /// This vault is not in a sync group: offer to set one up or to join one.
    case syncNotSetUp(String)
    /// This device was removed from its sync group on another device; it no longer syncs.
    case syncRevoked(String)
    /// The sync folder or server cannot be reached (try later), or refuses this device
    /// (`denied`: choose the folder again, or fix the credentials).
    case syncStorage(denied: Bool, String)
    /// A sync step was refused (another group's folder, a wrong invite, plain HTTP, …).
    case syncRefused(String)
    case `internal`(String)

    /// Maps a generated-binding error (or anything else) to the UI's failure.
    public static func from(_ error: Error) -> VaultFailure {
        if let failure = error as? VaultFailure { return failure }
        guard let e = error as? TwofoldError else { return .internal(String(describing: error)) }
        switch e {
        case .WrongCredential: return .wrongCredential
        case let .RecoveryKeyTypo(details): return .recoveryKeyTypo(details)
        case .PlatformKeyInvalidated: return .platformKeyInvalidated
        case .PasswordRequired: return .passwordRequired
        case let .Corrupt(details): return .corrupt(details)
        case let .Forged(details): return .forged(details)
        case let .RolledBack(found, expected, details): return .rolledBack(found: found, expected: expected, details)
        case let .Unverified(details): return .unverified(details)
        case let .HostileFile(details): return .hostileFile(details)
        case let .UnsupportedFile(details): return .unsupportedFile(details)
        case .PinLocked: return .pinLocked
        case .Locked: return .locked
        case .Conflict: return .storage("The vault changed elsewhere; unlock again")
        case let .Duplicate(existingId): return .duplicate(existingId: existingId)
        case let .InvalidInput(_, details): return .invalidInput(details)
        case let .NotFound(_, details): return .notFound(details)
        case let .Storage(details): return .storage(details)
        case .TransferExpired: return .transferExpired
        case let .TransferRejected(details): return .transferRejected(details)
        case let .TransferFailed(details): return .transferFailed(details)
        case let .SyncNotSetUp(details): return .syncNotSetUp(details)
        case let .SyncRevoked(details): return .syncRevoked(details)
        case let .SyncStorage(denied, details): return .syncStorage(denied: denied, details)
        case let .SyncRefused(details): return .syncRefused(details)
        case let .Internal(details): return .internal(details)
        }
    }
}

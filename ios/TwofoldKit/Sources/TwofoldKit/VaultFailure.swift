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
    case `internal`(String)

    /// Maps a generated-binding error (or anything else) to the UI's failure.
    public static func from(_ error: Error) -> VaultFailure {
        if let failure = error as? VaultFailure { return failure }
        guard let e = error as? TwofoldError else { return .internal(String(describing: error)) }
        switch e {
        case .WrongCredential: return .wrongCredential
        case let .RecoveryKeyTypo(details): return .recoveryKeyTypo(details)
        case let .VaultCorrupt(details): return .corrupt(details)
        case let .VaultForged(details): return .forged(details)
        case let .VaultRolledBack(found, expected, details): return .rolledBack(found: found, expected: expected, details)
        case let .Unverified(details): return .unverified(details)
        case .PinLocked: return .pinLocked
        case let .NotATwofoldFile(details): return .unsupportedFile(details)
        case let .UnsupportedVersion(version): return .unsupportedFile("Made by a newer Twofold (format \(version))")
        case let .WeakOrHostileKdf(details): return .unsupportedFile(details)
        case let .VaultNotFound(path): return .notFound("No vault at \(path)")
        case let .VaultExists(path): return .invalidInput("A vault already exists at \(path)")
        case .Locked: return .locked
        case .NoSuchEntry: return .notFound("No such entry")
        case .NoSuchGroup: return .notFound("No such group")
        case .NoSuchSlot: return .notFound("No key slot for this credential")
        case let .Duplicate(existingId): return .duplicate(existingId: existingId)
        case let .InvalidInput(details): return .invalidInput(details)
        case let .InvalidUri(reason): return .invalidInput(reason)
        case .LastPasswordSlot: return .invalidInput("The vault must keep a password")
        case .CounterExhausted: return .invalidInput("This counter cannot advance")
        case .Conflict: return .storage("The vault changed elsewhere; unlock again")
        case let .Storage(details): return .storage(details)
        case .FilePasswordRequired: return .passwordRequired
        case let .DamagedFile(details): return .corrupt(details)
        case let .UnsupportedFormat(details): return .unsupportedFile(details)
        case let .HostileFile(details): return .unsupportedFile(details)
        case .TransferExpired: return .transferExpired
        case let .TransferRejected(details): return .transferRejected(details)
        case let .TransferFailed(details): return .transferFailed(details)
        case let .Internal(details): return .internal(details)
        }
    }
}

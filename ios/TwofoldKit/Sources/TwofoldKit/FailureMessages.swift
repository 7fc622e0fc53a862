import Foundation
import TwofoldFFI

// The message catalogue: the sentence a user reads for each failure, keyed by the generated
// `TwofoldError` case (and for `.InvalidInput` by its `InputProblem`). The core's failure type
// is the app's: nothing maps it again. Both switches are exhaustive, so a case added to the
// Rust enum does not compile here until it has its sentence; each is localisable
// (`String(localized:defaultValue:)`, key `failure.<case>`), English by default.
//
// The `details` the core attaches are English for logs; they are shown only where they are the
// reason itself (an otpauth URI's fault, the password judge's verdict, a refused transfer).
// The generated type's own `errorDescription` is `String(reflecting:)`, for logs. Numbers are
// interpolated as text so every default value is a plain string interpolation.

extension TwofoldError {
    /// Any error as the core's failure: a `TwofoldError` unchanged; anything else (an error
    /// of the bindings or of platform code) as `.Internal`.
    public static func from(_ error: Error) -> TwofoldError {
        (error as? TwofoldError) ?? .Internal(details: String(describing: error))
    }

    /// A failure the app raises itself, for a rule only it can check.
    public static func input(_ problem: InputProblem, _ details: String = "") -> TwofoldError {
        .InvalidInput(problem: problem, details: details)
    }

    /// The sentence to show.
    public var userMessage: String {
        switch self {
        case .WrongCredential:
            return String(localized: "failure.wrongCredential", defaultValue: "Wrong password or key")
        case let .RecoveryKeyTypo(details):
            return String(localized: "failure.recoveryKeyTypo", defaultValue: "The recovery key is mistyped: \(details)")
        case .PlatformKeyInvalidated:
            return String(
                localized: "failure.platformKeyInvalidated",
                defaultValue: "Face ID or Touch ID unlock must be set up again. Use your password.")
        case .PasswordRequired:
            return String(localized: "failure.passwordRequired", defaultValue: "This file is encrypted: enter its password")
        case .Corrupt:
            return String(localized: "failure.corrupt", defaultValue: "The file is damaged. Restore from a backup.")
        case .Forged:
            return String(
                localized: "failure.forged",
                defaultValue: "This vault file was not written with your vault's keys: someone may have replaced it. Nothing was opened or changed.")
        case let .RolledBack(found, expected, _):
            return String(
                localized: "failure.rolledBack",
                defaultValue: "This vault file is an older copy (generation \(String(found)); this device last saw \(String(expected))). Nothing was changed.")
        case .Unverified:
            return String(
                localized: "failure.unverified",
                defaultValue: "This file opened, but it cannot be shown to be yours. Accept it only if you are sure.")
        case .HostileFile:
            return String(
                localized: "failure.hostileFile",
                defaultValue: "This file asks for more work or memory than any real one, so it was refused")
        case let .UnsupportedFile(details):
            return String(localized: "failure.unsupportedFile", defaultValue: "Twofold cannot read this file: \(details)")
        case .PinLocked:
            return String(localized: "failure.pinLocked", defaultValue: "Too many wrong PINs: use your password")
        case .Locked:
            return String(localized: "failure.locked", defaultValue: "The vault is locked")
        case .Conflict:
            return String(localized: "failure.conflict", defaultValue: "The vault changed elsewhere; unlock again")
        case .Duplicate:
            return String(localized: "failure.duplicate", defaultValue: "This account is already in the vault")
        case let .InvalidInput(problem, details):
            return problem.userMessage(details: details)
        case let .NotFound(what, _):
            switch what {
            case .vault: return String(localized: "failure.notFound.vault", defaultValue: "There is no vault here")
            case .entry: return String(localized: "failure.notFound.entry", defaultValue: "That account is not in the vault")
            case .group: return String(localized: "failure.notFound.group", defaultValue: "That group does not exist")
            case .slot: return String(localized: "failure.notFound.slot", defaultValue: "That way of unlocking is not set up")
            }
        case let .Storage(details):
            return String(localized: "failure.storage", defaultValue: "Storage failed: \(details). Nothing was lost.")
        case .TransferExpired:
            return String(localized: "failure.transferExpired", defaultValue: "The transfer code expired; show a new one")
        case let .TransferRejected(details):
            return String(localized: "failure.transferRejected", defaultValue: "That code was refused: \(details)")
        case let .TransferFailed(details):
            return String(localized: "failure.transferFailed", defaultValue: "The transfer failed: \(details). Start again.")
        case .SyncNotSetUp:
            return String(
                localized: "failure.syncNotSetUp", defaultValue: "This vault does not sync yet: set up sync or join a group")
        case .SyncRevoked:
            return String(
                localized: "failure.syncRevoked", defaultValue: "This device was removed from its sync group; it no longer syncs")
        case let .SyncStorage(denied, _):
            return denied
                ? String(
                    localized: "failure.syncStorage.denied",
                    defaultValue: "The sync folder or server refused this device: choose the folder again or check the sign-in")
                : String(
                    localized: "failure.syncStorage.unreachable",
                    defaultValue: "The sync folder or server cannot be reached; Twofold will try again")
        case let .SyncRefused(details):
            return String(localized: "failure.syncRefused", defaultValue: "Sync refused: \(details)")
        case let .Internal(details):
            return String(
                localized: "failure.internal", defaultValue: "Something went wrong inside Twofold; please report it (\(details))")
        }
    }
}

extension InputProblem {
    /// The sentence for input the user can fix; `details` is shown only where it is the reason.
    public func userMessage(details: String) -> String {
        switch self {
        case let .nameTooLong(field, max):
            return String(localized: "failure.input.nameTooLong", defaultValue: "The \(field.label) is longer than \(String(max)) characters")
        case .emptyGroupName: return String(localized: "failure.input.emptyGroupName", defaultValue: "Give the group a name")
        case .emptyPassword: return String(localized: "failure.input.emptyPassword", defaultValue: "Enter a password")
        case let .pinTooShort(min):
            return String(localized: "failure.input.pinTooShort", defaultValue: "A PIN has at least \(String(min)) digits")
        case .pinKdfTooWeak: return String(localized: "failure.input.pinKdfTooWeak", defaultValue: "That PIN setting is too weak")
        case .needsTrustStore:
            return String(localized: "failure.input.needsTrustStore", defaultValue: "PIN unlock is not available in this app")
        case .codeParameters:
            return String(localized: "failure.input.codeParameters", defaultValue: "Those code settings are out of range: \(details)")
        case let .tooManyEntries(max):
            return String(localized: "failure.input.tooManyEntries", defaultValue: "A vault holds at most \(String(max)) accounts")
        case let .tooManySlots(max):
            return String(localized: "failure.input.tooManySlots", defaultValue: "A vault has at most \(String(max)) ways to unlock it")
        case .notHotp:
            return String(localized: "failure.input.notHotp", defaultValue: "Only counter-based (HOTP) accounts have a counter")
        case .clockOffsetTooLarge:
            return String(localized: "failure.input.clockOffsetTooLarge", defaultValue: "A clock correction is at most a year")
        case .keystoreDataTooLong:
            return String(localized: "failure.input.keystoreDataTooLong", defaultValue: "The keystore's data is too large")
        case .headerTooLarge:
            return String(localized: "failure.input.headerTooLarge", defaultValue: "This vault has too many ways to unlock it")
        case .backupNeedsCredential:
            return String(
                localized: "failure.input.backupNeedsCredential", defaultValue: "Seal the backup with a password or the recovery key")
        case .recoveryCode:
            return String(localized: "failure.input.recoveryCode", defaultValue: "Recovery code refused: \(details)")
        case .rotationCodeMismatch:
            return String(
                localized: "failure.input.rotationCodeMismatch",
                defaultValue: "That code is not what the new secret gives now; nothing changed")
        case .rotationSameSecret:
            return String(
                localized: "failure.input.rotationSameSecret", defaultValue: "The new secret is the one the account already has")
        case .checkupSetting:
            return String(localized: "failure.input.checkupSetting", defaultValue: "That checkup setting is out of range")
        case .calibrationNotTimeBased:
            return String(
                localized: "failure.input.calibrationNotTimeBased", defaultValue: "Only time-based accounts can set the clock")
        case .calibrationBadCode:
            return String(localized: "failure.input.calibrationBadCode", defaultValue: "That is not a code of this account")
        case .calibrationNoMatch:
            return String(localized: "failure.input.calibrationNoMatch", defaultValue: "No time near now gives that code")
        case let .calibrationAmbiguous(matches):
            return String(
                localized: "failure.input.calibrationAmbiguous",
                defaultValue: "That code fits \(String(matches)) moments: enter the next code too")
        case .calibrationSecondCodeMismatch:
            return String(
                localized: "failure.input.calibrationSecondCodeMismatch",
                defaultValue: "The second code is not the one after the first")
        case .calibrationWindow:
            return String(localized: "failure.input.calibrationWindow", defaultValue: "The search window is out of range")
        case let .kitTooLarge(bytes, max):
            return String(
                localized: "failure.input.kitTooLarge",
                defaultValue: "These accounts do not fit on a printed kit (\(String(bytes)) bytes, at most \(String(max)))")
        case .kitNotAPart:
            return String(localized: "failure.input.kitNotAPart", defaultValue: "That is not a part of a recovery kit")
        case .kitMixedParts:
            return String(localized: "failure.input.kitMixedParts", defaultValue: "Those parts come from different kits")
        case let .kitMissingParts(missing):
            let list = missing.map(String.init).joined(separator: ", ")
            return String(localized: "failure.input.kitMissingParts", defaultValue: "Parts still missing: \(list)")
        case .kitChecksum:
            return String(
                localized: "failure.input.kitChecksum", defaultValue: "The parts do not add up to a backup: scan them again")
        case .lastPasswordSlot:
            return String(
                localized: "failure.input.lastPasswordSlot",
                defaultValue: "Keep at least one password: removing the last one could lock you out")
        case .counterExhausted:
            return String(localized: "failure.input.counterExhausted", defaultValue: "This account's counter cannot go any higher")
        case .vaultExists: return String(localized: "failure.input.vaultExists", defaultValue: "A vault already exists here")
        case .uri:
            return String(localized: "failure.input.uri", defaultValue: "Not an account link Twofold can use: \(details)")
        case .secret: return String(localized: "failure.input.secret", defaultValue: "Not a valid secret: \(details)")
        case .notAnAuthenticatorCode:
            return String(localized: "failure.input.notAnAuthenticatorCode", defaultValue: "That is not an authenticator code")
        case .accountCodeNotHere:
            return String(
                localized: "failure.input.accountCodeNotHere", defaultValue: "Scan account codes from the add-account screen")
        case .image: return String(localized: "failure.input.image", defaultValue: "That picture cannot be read")
        case .notAnId: return String(localized: "failure.input.notAnId", defaultValue: "That item is not in this vault")
        case .keyLength:
            return String(localized: "failure.input.keyLength", defaultValue: "The keystore returned a key of the wrong size")
        case .notUtf8: return String(localized: "failure.input.notUtf8", defaultValue: "That text cannot be read")
        case .transferState:
            return String(localized: "failure.input.transferState", defaultValue: "That step of the transfer is not possible now")
        case .exportNotAFile:
            return String(
                localized: "failure.input.exportNotAFile", defaultValue: "That format is shown as QR codes, not saved as a file")
        case .passwordsDiffer:
            return String(localized: "failure.input.passwordsDiffer", defaultValue: "The passwords do not match")
        case .passwordRefused:
            // The password judge's own sentence.
            return details
        case .biometricsUnavailable:
            return String(
                localized: "failure.input.biometricsUnavailable",
                defaultValue: "Turn on Face ID or Touch ID in the Settings app first")
        case .keystoreRefused:
            return String(
                localized: "failure.input.keystoreRefused",
                defaultValue: "Face ID or Touch ID unlock could not be set up: the Secure Enclave refused the key. Your password still works.")
        case .noDestination:
            return String(localized: "failure.input.noDestination", defaultValue: "Choose where to save the file")
        case .systemPrompt:
            return String(localized: "failure.input.systemPrompt", defaultValue: "\(details). Use your password.")
        }
    }
}

extension NameKind {
    /// How the field is called in a sentence.
    var label: String {
        switch self {
        case .issuer: return String(localized: "field.issuer", defaultValue: "service name")
        case .account: return String(localized: "field.account", defaultValue: "account name")
        case .note: return String(localized: "field.note", defaultValue: "note")
        case .groupName: return String(localized: "field.groupName", defaultValue: "group name")
        }
    }
}

package dev.twofold

import dev.twofold.core.InputProblem
import dev.twofold.core.Missing
import dev.twofold.core.NameKind
import dev.twofold.core.TwofoldException

/**
 * The message catalogue: the sentence a user reads for each failure, keyed by the generated
 * [TwofoldException] variant (and for [TwofoldException.InvalidInput] by its [InputProblem]).
 * The core's failure type is the app's: nothing maps it again. Both `when`s are exhaustive, so
 * a variant added to the Rust enum does not compile here until it has its sentence, and
 * `CatalogueTests` checks each sentence is filled in.
 *
 * The `details` the core attaches are English for logs; they are shown only where they are the
 * reason itself (an otpauth URI's fault, the password judge's verdict, a refused transfer).
 */
val TwofoldException.userMessage: String
    get() = when (this) {
        is TwofoldException.WrongCredential -> "Wrong password or key"
        is TwofoldException.RecoveryKeyTypo -> "The recovery key is mistyped: $details"
        is TwofoldException.PlatformKeyInvalidated -> "Biometric unlock must be set up again. Use your password."
        is TwofoldException.PasswordRequired -> "This file is encrypted: enter its password"
        is TwofoldException.Corrupt -> "The file is damaged. Restore from a backup."
        is TwofoldException.Forged ->
            "This vault file was not written with your vault's keys: someone may have replaced it. Nothing was opened or changed."
        is TwofoldException.RolledBack ->
            "This vault file is an older copy (generation $found; this device last saw $expected). Nothing was changed."
        is TwofoldException.Unverified ->
            "This file opened, but it cannot be shown to be yours. Accept it only if you are sure."
        is TwofoldException.HostileFile -> "This file asks for more work or memory than any real one, so it was refused"
        is TwofoldException.UnsupportedFile -> "Twofold cannot read this file: $details"
        is TwofoldException.PinLocked -> "Too many wrong PINs: use your password"
        is TwofoldException.Locked -> "The vault is locked"
        is TwofoldException.Conflict -> "The vault changed elsewhere; unlock again"
        is TwofoldException.Duplicate -> "This account is already in the vault"
        is TwofoldException.InvalidInput -> problem.userMessage(details)
        is TwofoldException.NotFound -> when (what) {
            Missing.VAULT -> "There is no vault here"
            Missing.ENTRY -> "That account is not in the vault"
            Missing.GROUP -> "That group does not exist"
            Missing.SLOT -> "That way of unlocking is not set up"
        }
        is TwofoldException.Storage -> "Storage failed: $details. Nothing was lost."
        is TwofoldException.TransferExpired -> "The transfer code expired; show a new one"
        is TwofoldException.TransferRejected -> "That code was refused: $details"
        is TwofoldException.TransferFailed -> "The transfer failed: $details. Start again."
        is TwofoldException.SyncNotSetUp -> "This vault does not sync yet: set up sync or join a group"
        is TwofoldException.SyncRevoked -> "This device was removed from its sync group; it no longer syncs"
        is TwofoldException.SyncStorage ->
            if (denied) {
                "The sync folder or server refused this device: choose the folder again or check the sign-in"
            } else {
                "The sync folder or server cannot be reached; Twofold will try again"
            }
        is TwofoldException.SyncRefused -> "Sync refused: $details"
        is TwofoldException.Internal -> "Something went wrong inside Twofold; please report it ($details)"
    }

/** The sentence for input the user can fix; [details] is shown only where it is the reason. */
fun InputProblem.userMessage(details: String): String = when (this) {
    is InputProblem.NameTooLong -> "The ${field.label} is longer than $max characters"
    InputProblem.EmptyGroupName -> "Give the group a name"
    InputProblem.EmptyPassword -> "Enter a password"
    is InputProblem.PinTooShort -> "A PIN has at least $min digits"
    InputProblem.PinKdfTooWeak -> "That PIN setting is too weak"
    InputProblem.NeedsTrustStore -> "PIN unlock is not available in this app"
    InputProblem.CodeParameters -> "Those code settings are out of range: $details"
    is InputProblem.TooManyEntries -> "A vault holds at most $max accounts"
    is InputProblem.TooManySlots -> "A vault has at most $max ways to unlock it"
    InputProblem.NotHotp -> "Only counter-based (HOTP) accounts have a counter"
    InputProblem.ClockOffsetTooLarge -> "A clock correction is at most a year"
    InputProblem.KeystoreDataTooLong -> "The keystore's data is too large"
    InputProblem.HeaderTooLarge -> "This vault has too many ways to unlock it"
    InputProblem.BackupNeedsCredential -> "Seal the backup with a password or the recovery key"
    InputProblem.RecoveryCode -> "Recovery code refused: $details"
    InputProblem.RotationCodeMismatch -> "That code is not what the new secret gives now; nothing changed"
    InputProblem.RotationSameSecret -> "The new secret is the one the account already has"
    InputProblem.CheckupSetting -> "That checkup setting is out of range"
    InputProblem.CalibrationNotTimeBased -> "Only time-based accounts can set the clock"
    InputProblem.CalibrationBadCode -> "That is not a code of this account"
    InputProblem.CalibrationNoMatch -> "No time near now gives that code"
    is InputProblem.CalibrationAmbiguous -> "That code fits $matches moments: enter the next code too"
    InputProblem.CalibrationSecondCodeMismatch -> "The second code is not the one after the first"
    InputProblem.CalibrationWindow -> "The search window is out of range"
    is InputProblem.KitTooLarge -> "These accounts do not fit on a printed kit ($bytes bytes, at most $max)"
    InputProblem.KitNotAPart -> "That is not a part of a recovery kit"
    InputProblem.KitMixedParts -> "Those parts come from different kits"
    is InputProblem.KitMissingParts -> "Parts still missing: ${missing.joinToString(", ")}"
    InputProblem.KitChecksum -> "The parts do not add up to a backup: scan them again"
    InputProblem.LastPasswordSlot -> "Keep at least one password: removing the last one could lock you out"
    InputProblem.CounterExhausted -> "This account's counter cannot go any higher"
    InputProblem.VaultExists -> "A vault already exists here"
    InputProblem.Uri -> "Not an account link Twofold can use: $details"
    InputProblem.Secret -> "Not a valid secret: $details"
    InputProblem.NotAnAuthenticatorCode -> "That is not an authenticator code"
    InputProblem.AccountCodeNotHere -> "Scan account codes from the add-account screen"
    InputProblem.Image -> "That picture cannot be read"
    InputProblem.NotAnId -> "That item is not in this vault"
    InputProblem.KeyLength -> "The keystore returned a key of the wrong size"
    InputProblem.NotUtf8 -> "That text cannot be read"
    InputProblem.TransferState -> "That step of the transfer is not possible now"
    InputProblem.ExportNotAFile -> "That format is shown as QR codes, not saved as a file"
    InputProblem.PasswordsDiffer -> "The passwords do not match"
    InputProblem.PasswordRefused -> details
    InputProblem.BiometricsUnavailable -> "Set up a fingerprint or face unlock in the phone's settings first"
    InputProblem.KeystoreRefused ->
        "Biometric unlock could not be set up: this phone's keystore refused the key. Your password still works."
    InputProblem.NoDestination -> "Choose where to save the file"
    InputProblem.SystemPrompt -> "$details. Use your password."
}

/** How a name field is called in a sentence. */
val NameKind.label: String
    get() = when (this) {
        NameKind.ISSUER -> "service name"
        NameKind.ACCOUNT -> "account name"
        NameKind.NOTE -> "note"
        NameKind.GROUP_NAME -> "group name"
    }

/** A failure the app raises itself, for a rule only it can check. */
fun inputFailure(problem: InputProblem, details: String = "", cause: Throwable? = null): TwofoldException =
    TwofoldException.InvalidInput(problem, details).also { if (cause != null) it.initCause(cause) }

package dev.twofold.tests

import dev.twofold.core.EntryChanges
import dev.twofold.core.InputProblem
import dev.twofold.core.Missing
import dev.twofold.core.NameKind
import dev.twofold.core.TwofoldException
import dev.twofold.userMessage

/** One of every failure variant, with fields a user could see. */
private fun everyFailure(): List<TwofoldException> = listOf(
    TwofoldException.WrongCredential(),
    TwofoldException.RecoveryKeyTypo("group 3 has a typo"),
    TwofoldException.PlatformKeyInvalidated(),
    TwofoldException.PasswordRequired(),
    TwofoldException.Corrupt("bad tag"),
    TwofoldException.Forged("not signed by this vault"),
    TwofoldException.RolledBack(4uL, 9uL, "older"),
    TwofoldException.Unverified("format 1"),
    TwofoldException.HostileFile("memory cost 4 GiB"),
    TwofoldException.UnsupportedFile("written by a newer Twofold"),
    TwofoldException.PinLocked(),
    TwofoldException.Locked(),
    TwofoldException.Conflict(),
    TwofoldException.Duplicate("3b7c9a7e-0000-4000-8000-000000000000"),
    TwofoldException.InvalidInput(InputProblem.EmptyGroupName, "empty"),
    TwofoldException.NotFound(Missing.ENTRY, "no such entry"),
    TwofoldException.Storage("disk full"),
    TwofoldException.TransferExpired(),
    TwofoldException.TransferRejected("a frame of another session"),
    TwofoldException.TransferFailed("did not decrypt"),
    TwofoldException.SyncNotSetUp("not in a group"),
    TwofoldException.SyncRevoked("removed by phone"),
    TwofoldException.SyncStorage(true, "401"),
    TwofoldException.SyncRefused("another group's folder"),
    TwofoldException.Internal("bug"),
)

/** One of every input problem. */
private fun everyProblem(): List<InputProblem> = listOf(
    InputProblem.NameTooLong(NameKind.ISSUER, 256u),
    InputProblem.EmptyGroupName,
    InputProblem.EmptyPassword,
    InputProblem.PinTooShort(6u),
    InputProblem.PinKdfTooWeak,
    InputProblem.NeedsTrustStore,
    InputProblem.CodeParameters,
    InputProblem.TooManyEntries(100000u),
    InputProblem.TooManySlots(64u),
    InputProblem.NotHotp,
    InputProblem.ClockOffsetTooLarge,
    InputProblem.KeystoreDataTooLong,
    InputProblem.HeaderTooLarge,
    InputProblem.BackupNeedsCredential,
    InputProblem.RecoveryCode,
    InputProblem.RotationCodeMismatch,
    InputProblem.RotationSameSecret,
    InputProblem.CheckupSetting,
    InputProblem.CalibrationNotTimeBased,
    InputProblem.CalibrationBadCode,
    InputProblem.CalibrationNoMatch,
    InputProblem.CalibrationAmbiguous(2u),
    InputProblem.CalibrationSecondCodeMismatch,
    InputProblem.CalibrationWindow,
    InputProblem.KitTooLarge(9000uL, 6000uL),
    InputProblem.KitNotAPart,
    InputProblem.KitMixedParts,
    InputProblem.KitMissingParts(listOf(2u, 5u)),
    InputProblem.KitChecksum,
    InputProblem.LastPasswordSlot,
    InputProblem.CounterExhausted,
    InputProblem.VaultExists,
    InputProblem.Uri,
    InputProblem.Secret,
    InputProblem.NotAnAuthenticatorCode,
    InputProblem.AccountCodeNotHere,
    InputProblem.Image,
    InputProblem.NotAnId,
    InputProblem.KeyLength,
    InputProblem.NotUtf8,
    InputProblem.TransferState,
    InputProblem.ExportNotAFile,
    InputProblem.PasswordsDiffer,
    InputProblem.PasswordRefused,
    InputProblem.BiometricsUnavailable,
    InputProblem.KeystoreRefused,
    InputProblem.NoDestination,
    InputProblem.SystemPrompt,
)

/** Subclasses of a generated sealed class, found in its bytecode (what the Rust enum has). */
private fun variantsOf(base: Class<*>): Set<String> =
    base.declaredClasses.filter { base.isAssignableFrom(it) && it != base }.map { it.simpleName }.toSet()

private const val NOT_AN_ID = "not-an-id"

fun registerFailureTests(suite: Suite) {
    suite.test("the message catalogue has a sentence for every failure and input problem the core has") {
        val failures = everyFailure()
        assertEquals(variantsOf(TwofoldException::class.java), failures.map { it.javaClass.simpleName }.toSet(), "failure variants covered")
        val problems = everyProblem()
        assertEquals(variantsOf(InputProblem::class.java), problems.map { it.javaClass.simpleName }.toSet(), "input problems covered")
        val sentences = failures.map { it.userMessage } + problems.map { it.userMessage("the reason") }
        for (s in sentences) {
            check(s.isNotBlank()) { "a blank sentence" }
            // The generated `message` is `field=value` text for logs: never what a user reads.
            check(!s.contains("details=") && !s.contains("problem=")) { "log text shown to the user: $s" }
        }
        // Structured fields reach the sentence.
        check(TwofoldException.RolledBack(4uL, 9uL, "").userMessage.contains("4")) { "generation shown" }
        check(InputProblem.NameTooLong(NameKind.NOTE, 4096u).userMessage("").contains("note is longer than 4096")) { "name limit" }
        check(InputProblem.KitMissingParts(listOf(2u, 5u)).userMessage("").contains("2, 5")) { "missing parts" }
        check(!TwofoldException.SyncStorage(true, "").userMessage.contains("cannot be reached")) { "denied is not unreachable" }
        // A reason that is the message itself is shown; a log detail is not.
        check(InputProblem.Uri.userMessage("the secret is not base32").contains("not base32")) { "URI reason" }
        check(!TwofoldException.Corrupt("AEAD tag mismatch at 0x40").userMessage.contains("0x40")) { "log detail hidden" }
    }

    suite.test("an id that is not one is refused before the call runs, typed, and nothing changes") {
        val (vault, _) = newVault()
        val a = vault.addFromUri("otpauth://totp/A:a?secret=$RFC_SHA1").id
        val b = vault.addFromUri("otpauth://totp/B:b?secret=$RFC_SHA256").id
        val session = vault.session
        fun notAnId(what: String, block: () -> Unit) {
            val e = assertThrows<TwofoldException.InvalidInput>(block)
            check(e.problem == InputProblem.NotAnId) { "$what: ${e.problem}" }
        }
        notAnId("entry") { session.entry(NOT_AN_ID) }
        notAnId("delete") { session.deleteEntry("") }
        // One bad id in a list refuses the whole call: the order is unchanged.
        notAnId("reorder") { session.reorder(listOf(b, NOT_AN_ID)) }
        assertEquals(listOf(a, b), session.entries().map { it.id }, "order unchanged")
        // Inside a record: the group ids of a change.
        notAnId("update") { session.updateEntry(a, EntryChanges(note = "kept?", groupIds = listOf(NOT_AN_ID))) }
        assertEquals("", session.entry(a).note, "the change was not applied")
        notAnId("slot") { session.unlockWithPlatformKey("zz", ByteArray(32)) }
        notAnId("code list group") { session.codeList().rows("", NOT_AN_ID, 0L) }
        // A well-formed id that is not in the vault is a different failure.
        val missing = assertThrows<TwofoldException.NotFound> { session.entry("3b7c9a7e-0000-4000-8000-000000000000") }
        assertEquals(Missing.ENTRY, missing.what, "not found")
    }
}

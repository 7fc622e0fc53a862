package dev.twofold.tests

import dev.twofold.TwofoldCare
import dev.twofold.core.TwofoldException
import dev.twofold.core.DrillCredentialKind
import dev.twofold.core.ExposureWay
import dev.twofold.core.FindingSeverity
import dev.twofold.core.RecoveryCodesFor
import java.io.File

private const val GITHUB_URI = "otpauth://totp/GitHub:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DP&issuer=GitHub"
private const val NEW_GITHUB_URI = "otpauth://totp/GitHub:alice?secret=KRSXG5CTMVRXEZLUKRSXG5CT&issuer=GitHub"

private fun b(text: String) = text.toByteArray(Charsets.UTF_8)

fun registerRecoveryTests(suite: Suite) {
    suite.test("recovery codes: added as wiped bytes, counted without revealing, revealed unused first, bad input refused") {
        val (vault, _) = newVault()
        val care = TwofoldCare(vault)
        val id = vault.addFromUri(b(GITHUB_URI)).id
        val codes = listOf(b("aaaa-1111"), b("bbbb-2222"), b("cccc-3333"))
        assertEquals(3, care.addRecoveryCodes(id, codes), "added")
        check(codes.all { c -> c.all { it == 0.toByte() } }) { "code bytes wiped" }
        assertEquals(0, care.addRecoveryCodes(id, listOf(b("AAAA 1111"))), "the same code again")
        val used = b("bbbb2222")
        care.useRecoveryCode(id, used)
        check(used.all { it == 0.toByte() }) { "used code wiped" }
        val summary = care.recoveryCodeSummary(id)
        assertEquals(3u, summary.total, "total")
        assertEquals(2u, summary.unused, "unused")
        val shown = care.revealRecoveryCodes(id) { list ->
            list.map { String(it.code) to it.used }
        }
        assertEquals(listOf("aaaa-1111" to false, "cccc-3333" to false, "bbbb-2222" to true), shown, "unused first")
        // Malformed: typed failures, nothing added.
        val empty = assertThrowsSuspend<TwofoldException.InvalidInput> { care.addRecoveryCodes(id, listOf(b("ok-1234"), b(" "))) }
        check(empty.message!!.contains("empty")) { empty.message!! }
        assertThrowsSuspend<TwofoldException.InvalidInput> { care.addRecoveryCodes(id, listOf(b("x".repeat(129)))) }
        assertThrowsSuspend<TwofoldException.InvalidInput> { care.addRecoveryCodes(id, listOf(b("bell\u0007"))) }
        assertThrowsSuspend<TwofoldException.InvalidInput> { care.useRecoveryCode(id, b("zzzz-0000")) }
        assertThrowsSuspend<TwofoldException.NotFound> { care.recoveryCodeSummary("00000000-0000-4000-8000-000000000000") }
        assertEquals(3u, care.recoveryCodeSummary(id).total, "nothing changed by the refusals")
    }

    suite.test("restore drill: the wrong password records nothing, the right one and the recovery key are recorded") {
        val dir = tempDir()
        val (vault, recovery) = newVault(dir)
        val care = TwofoldCare(vault)
        vault.addFromUri(b(GITHUB_URI))
        val status0 = care.status()
        check(status0.drillDue && status0.lastDrill == null && status0.newestVerifiedBackup == null) { "$status0" }
        val path = File(dir, "backup.twfb").path
        vault.createBackup(path, pw("backup password"))
        check(care.status().newestVerifiedBackup != null) { "a created backup counts as verified" }
        assertThrowsSuspend<TwofoldException.WrongCredential> { care.drillWithPassword(path, pw("not it")) }
        assertEquals(null, care.status().lastDrill, "a failed drill records nothing")
        val ok = care.drillWithPassword(path, pw("backup password"))
        check(ok.drill.complete && ok.authenticated) { "$ok" }
        assertEquals(DrillCredentialKind.PASSWORD, ok.drill.credential, "credential")
        val status = care.status()
        check(!status.drillDue) { "a drill just ran" }
        assertEquals(null, status.recoveryKeyConfirmedAt, "not yet")
        val byKey = care.drillWithRecoveryKey(path, recovery)
        assertEquals(DrillCredentialKind.RECOVERY_KEY, byKey.drill.credential, "credential")
        check(care.status().recoveryKeyConfirmedAt != null) { "the recovery key was typed" }
        // Bytes from a document provider.
        val bytes = File(path).readBytes()
        assertEquals("provider.twfb", care.drillBytesWithPassword(bytes, "provider.twfb", pw("backup password")).drill.file, "name")
    }

    suite.test("securityCheckup: findings with severity and fix; settings stored; exposures until rotated") {
        val (vault, _) = newVault()
        val care = TwofoldCare(vault)
        val id = vault.addFromUri(b(GITHUB_URI)).id
        vault.addFromUri(b("otpauth://totp/Old:dave?secret=MFRGGZDFMZTWQ&issuer=Old"))
        val findings = care.securityCheckup()
        val kinds = findings.map { it.kind }
        for (k in listOf("backup-none", "drill-none", "recovery-key-unconfirmed", "weak-secret")) {
            check(k in kinds) { "$k missing from $kinds" }
        }
        assertEquals(FindingSeverity.CRITICAL, findings.first().severity, "most severe first")
        check(findings.all { it.message.isNotEmpty() && it.fix.isNotEmpty() }) { "every finding has a fix" }
        // Settings.
        val s = care.settings()
        care.setSettings(s.copy(recoveryCodesFor = RecoveryCodesFor.ALL, backupMaxAgeDays = 14u))
        assertEquals(14u, care.settings().backupMaxAgeDays, "stored")
        check("no-recovery-codes" in care.securityCheckup().map { it.kind }) { "all accounts need codes now" }
        assertThrowsSuspend<TwofoldException.InvalidInput> { care.setSettings(s.copy(drillIntervalDays = 0u)) }
        assertEquals(14u, care.settings().backupMaxAgeDays, "a refused setting changes nothing")

        // Exposures: an unencrypted export and a shown QR code.
        vault.exportOtpauthList { it.size }
        val qr = care.revealEntryUri(id, ExposureWay.QR_SHOWN) { String(it, Charsets.UTF_8) }
        check(qr.startsWith("otpauth://")) { "uri for the QR" }
        val ledger = care.exposures()
        check(ledger.any { it.entryId == id && it.way == ExposureWay.QR_SHOWN }) { "$ledger" }
        check(ledger.any { it.entryId == id && it.way == ExposureWay.OTPAUTH_EXPORT }) { "$ledger" }
        check(ledger.none { it.description.contains("JBSWY3DP") }) { "no secret in the ledger" }
        check(care.securityCheckup().count { it.kind == "exposed" } == 2) { "both exported accounts" }
        assertEquals(2u, care.status().exposedEntries, "status")

        // Rotation: a wrong code changes nothing; the code the service accepted rotates.
        assertThrowsSuspend<TwofoldException.InvalidInput> { care.rotate(id, b(NEW_GITHUB_URI), "000000") }
        check(vault.entries().any { it.id == id }) { "still there" }
        val (probe, _) = newVault()
        probe.addFromUri(b(NEW_GITHUB_URI))
        val code = probe.codesAt(System.currentTimeMillis()).single().code!!
        val newUri = b(NEW_GITHUB_URI)
        val r = care.rotate(id, newUri, code)
        check(newUri.all { it == 0.toByte() }) { "new URI wiped" }
        assertEquals(1u, r.clearedExposures.coerceAtMost(1u), "exposures cleared")
        check(care.exposures().none { it.entryId == id }) { "ledger cleared for the rotated entry" }
        check(vault.trash().any { it.id == id }) { "old entry in the trash" }
        assertEquals("GitHub", r.newEntry.issuer, "names kept")
    }
}

package dev.twofold.tests

import dev.twofold.core.TwofoldException
import dev.twofold.core.InputProblem
import dev.twofold.core.RecoveryKitFormat
import dev.twofold.core.RecoveryKitOptions
import dev.twofold.core.joinRecoveryKitParts
import java.io.File

private const val KIT_GITHUB = "otpauth://totp/GitHub:alice?secret=JBSWY3DPEHPK3PXP&issuer=GitHub"

/** Runs a tool and returns its standard output lines (stderr discarded). */
private fun run(vararg command: String): List<String> {
    val p = ProcessBuilder(*command).redirectError(ProcessBuilder.Redirect.DISCARD).start()
    val out = p.inputStream.bufferedReader().readLines()
    p.waitFor()
    return out.filter { it.isNotBlank() }
}

/** Every QR text zbarimg reads on a rendered page. */
private fun zbar(png: File) = run("zbarimg", "--raw", "-q", "-Sdisable", "-Sqrcode.enable", png.path)

private fun problem(e: Throwable): InputProblem? = (e as? TwofoldException.InvalidInput)?.problem

fun registerRecoveryKitTests(suite: Suite) {
    suite.test("recovery kit: the printed PDF gives back the key, and its accounts codes open with the key alone") {
        val dir = tempDir()
        val (vault, key) = newVault(dir)
        vault.addFromUri(KIT_GITHUB)
        vault.add(totp(RFC_SHA1, "RFC"))
        val options = RecoveryKitOptions(withAccounts = true, backupLocation = "Google Drive, folder Twofold")
        val pdf = File(dir, "kit.pdf")
        // The key typed in lower case with spaces is the same key.
        vault.recoveryKit(key.lowercase().replace('-', ' '), RecoveryKitFormat.PDF, options) { pdf.writeBytes(it) }
        check(pdf.readBytes().copyOfRange(0, 5).toString(Charsets.US_ASCII) == "%PDF-") { "a PDF" }
        val render = ProcessBuilder("pdftoppm", "-r", "200", "-gray", "-png", pdf.path, File(dir, "page").path)
            .redirectErrorStream(true).start()
        check(render.waitFor() == 0) { "pdftoppm (poppler-utils) renders the kit" }
        val pages = dir.listFiles { f -> f.name.startsWith("page") }!!.sortedBy { it.name }
        check(pages.size >= 2) { "${pages.size} pages" }
        assertEquals(listOf(key), zbar(pages[0]), "the key's QR code")
        val parts = pages.drop(1).flatMap { zbar(it) }
        check(parts.isNotEmpty() && parts.all { it.startsWith("TK1:") }) { "accounts codes: $parts" }
        val backup = joinRecoveryKitParts(parts.reversed())
        val checked = vault.verifyBackupBytesWithRecoveryKey(backup, key)
        assertEquals(2uL, checked.entryCount, "accounts on paper")
        check(checked.authenticated) { "made with this vault's keys" }
        val diff = checked.difference!!
        check(diff.missing.isEmpty() && diff.changed.isEmpty() && diff.extra.isEmpty()) { "same as the vault: $diff" }
        // The vault password does not open the paper backup.
        assertThrowsSuspend<TwofoldException> { vault.verifyBackupBytes(backup, pw()) }
        if (parts.size > 1) {
            val e = assertThrows<TwofoldException.InvalidInput> { joinRecoveryKitParts(parts.drop(1)) }
            check(e.problem is InputProblem.KitMissingParts) { "missing parts named: ${e.problem}" }
        }
        val e = assertThrows<TwofoldException.InvalidInput> { joinRecoveryKitParts(listOf(KIT_GITHUB)) }
        assertEquals(InputProblem.KitNotAPart, e.problem, "a code that is not a kit part")
    }

    suite.test("recovery kit: HTML is self-contained; a wrong or mistyped key makes no kit") {
        val (vault, key) = newVault()
        vault.addFromUri(KIT_GITHUB)
        val html = vault.recoveryKit(key, RecoveryKitFormat.HTML, RecoveryKitOptions(false, null)) {
            it.toString(Charsets.UTF_8)
        }
        check(html.startsWith("<!DOCTYPE html>") && html.contains(key) && html.contains("<svg")) { "the sheet" }
        check(!html.contains("src=") && !html.contains("href=")) { "nothing loaded from elsewhere" }
        val (_, otherKey) = newVault()
        var called = false
        assertThrowsSuspend<TwofoldException.WrongCredential> {
            vault.recoveryKit(otherKey, RecoveryKitFormat.PDF, RecoveryKitOptions(false, null)) { called = true }
        }
        val typo = (if (key[0] == 'A') "B" else "A") + key.substring(1)
        assertThrowsSuspend<TwofoldException.RecoveryKeyTypo> {
            vault.recoveryKit(typo, RecoveryKitFormat.PDF, RecoveryKitOptions(false, null)) { called = true }
        }
        check(!called) { "no kit bytes were handed out" }
        // A freshly rotated key makes a kit; the old one no longer does.
        val rotated = vault.rotateRecoveryKey()
        vault.recoveryKit(rotated, RecoveryKitFormat.HTML, RecoveryKitOptions(false, null)) {
            check(it.toString(Charsets.UTF_8).contains(rotated)) { "the new key" }
        }
        assertThrowsSuspend<TwofoldException.WrongCredential> {
            vault.recoveryKit(key, RecoveryKitFormat.HTML, RecoveryKitOptions(false, null)) { }
        }
    }

    suite.test("clock calibration: a code the service accepted sets the offset; no match changes nothing") {
        val (vault, _) = newVault()
        val entry = vault.addFromUri(KIT_GITHUB)
        val now = System.currentTimeMillis()
        // The service's clock is 5 minutes ahead of this device's.
        suspend fun code(atMs: Long) = vault.codesAt(atMs).first { it.entryId == entry.id }.code!!
        val accepted = code(now + 300_000)
        val next = code(now + 330_000)
        val c = vault.calibrateFromAcceptedCode(entry.id, accepted, next)
        check(kotlin.math.abs(c.offsetSeconds - 330) <= 17) { "offset ${c.offsetSeconds}" }
        assertEquals(15u, c.uncertaintySeconds, "± half the period")
        check(c.warn) { "5 minutes off deserves the clock warning" }
        assertEquals(c.offsetSeconds, vault.session.clockOffset(), "stored")
        val far = code(now + 7_200_000)
        val e = assertThrowsSuspend<TwofoldException.InvalidInput> {
            vault.calibrateFromAcceptedCode(entry.id, far, null, 60u)
        }
        check(problem(e) == InputProblem.CalibrationNoMatch || problem(e) is InputProblem.CalibrationAmbiguous) {
            "typed reason: ${problem(e)}"
        }
        val bad = assertThrowsSuspend<TwofoldException.InvalidInput> { vault.calibrateFromAcceptedCode(entry.id, "12x456") }
        assertEquals(InputProblem.CalibrationBadCode, problem(bad), "malformed code")
        assertEquals(c.offsetSeconds, vault.session.clockOffset(), "unchanged by the failures")
    }
}

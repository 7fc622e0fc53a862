package dev.twofold.tests

import dev.twofold.DirectoryBackupFolder
import dev.twofold.FolderBackups
import dev.twofold.core.TwofoldException
import dev.twofold.verifyPassword
import dev.twofold.verifyRecoveryKey
import dev.twofold.core.BackupFolder
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.coroutineScope
import java.io.File

/** A folder whose provider hands back something else than what was written. */
private class DamagingFolder(private val inner: BackupFolder) : BackupFolder by inner {
    override fun read(name: String): ByteArray? = inner.read(name)?.also { it[it.size / 2] = (it[it.size / 2].toInt() xor 1).toByte() }
}

fun registerBackupFolderTests(suite: Suite) {
    suite.test("folder backups (core flow over a directory): written, read back, confirmed, pruned; other files kept") {
        val (vault, recovery) = newVault()
        vault.addFromUri("otpauth://totp/GitHub:alice?secret=JBSWY3DPEHPK3PXP&issuer=GitHub".toByteArray())
        val dir = tempDir()
        File(dir, "notes.txt").writeText("mine")
        val backups = FolderBackups(DirectoryBackupFolder(dir), keep = 3)
        val t0 = 1_700_000_000_000L
        val first = backups.backupNow(vault, t0)!!
        assertEquals("twofold-20231114-221320.twfb", first.name, "the core's name")
        assertEquals(1uL, first.entryCount, "entries")
        for (i in 1..4) backups.backupNow(vault, t0 + i * 60_000L)
        val names = dir.list()!!.sorted()
        assertEquals(
            listOf("notes.txt", "twofold-20231114-221520.twfb", "twofold-20231114-221620.twfb", "twofold-20231114-221720.twfb"),
            names,
            "the newest 3 kept, other files untouched",
        )
        val check = vault.verifyBackupBytesWithRecoveryKey(File(dir, names.last()).readBytes(), recovery)
        assertEquals(1uL, check.entryCount, "opens with the recovery key")

        val damaging = FolderBackups(DamagingFolder(DirectoryBackupFolder(dir)), keep = 1)
        val failure = runCatching { damaging.backupNow(vault, t0 + 600_000L) }.exceptionOrNull()
        check(failure is TwofoldException.Corrupt) { "a backup that does not read back fails: $failure" }
        assertEquals(names, dir.list()!!.sorted(), "the bad copy removed, nothing pruned")
        backups.close()
        damaging.close()
    }

    suite.test("folder backups requested at once from many coroutines: merged, never two at a time, all confirmed") {
        val (vault, recovery) = newVault()
        vault.addFromUri("otpauth://totp/GitHub:alice?secret=JBSWY3DPEHPK3PXP&issuer=GitHub".toByteArray())
        val dir = tempDir()
        val backups = FolderBackups(DirectoryBackupFolder(dir), keep = 50)
        val t0 = 1_700_000_000_000L
        val results = coroutineScope {
            (0 until 8).map { i -> async(Dispatchers.IO) { backups.backupNow(vault, t0 + i * 1000L) } }.awaitAll()
        }
        val reported = results.filterNotNull()
        check(reported.isNotEmpty()) { "at least one caller reports" }
        val files = dir.list()!!.filter { it.endsWith(".twfb") }
        check(files.size in reported.size..8) { "merged requests: ${files.size} files for 8 requests" }
        for (f in files) assertEquals(1uL, vault.verifyBackupBytesWithRecoveryKey(File(dir, f).readBytes(), recovery).entryCount, "$f confirmed")
        backups.close()
    }
}

fun registerVerifyTests(suite: Suite) {
    suite.test("re-authentication checks in memory: a swapped file's password proves nothing, nothing is replaced") {
        val dir = tempDir()
        val path = File(dir, "vault.twofold").path
        val (vault, recovery) = dev.twofold.TwofoldVault.create(path, pw(), FLOOR)
        val github = vault.addFromUri("otpauth://totp/GitHub:alice?secret=JBSWY3DPEHPK3PXP&issuer=GitHub".toByteArray())
        vault.recordUse(github.id)
        // Someone swaps the file for one whose password they know.
        val theirs = File(dir, "theirs.twofold").path
        dev.twofold.TwofoldVault.create(theirs, "attacker knows this".toByteArray(), FLOOR).first.close()
        File(theirs).copyTo(File(path), overwrite = true)
        val refused = runCatching { vault.verifyPassword("attacker knows this".toByteArray()) }.exceptionOrNull()
        check(refused is TwofoldException.WrongCredential) { "the swapped file's password is refused: $refused" }
        val secret = pw()
        vault.verifyPassword(secret)
        check(secret.all { it == 0.toByte() }) { "the password bytes are wiped" }
        vault.verifyRecoveryKey(recovery)
        assertEquals(1uL, vault.entries().single().useCount, "the open session is the same")
        vault.lock()
        check(runCatching { vault.verifyPassword(pw()) }.exceptionOrNull() is TwofoldException.Locked) { "locked" }
    }
}

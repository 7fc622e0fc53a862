package dev.twofold.tests

import dev.twofold.TwofoldVault
import dev.twofold.core.TwofoldException
import dev.twofold.codeList
import dev.twofold.core.EntryInput
import dev.twofold.core.HashAlgorithm
import dev.twofold.core.KdfSettings
import dev.twofold.core.OtpParams
import dev.twofold.core.OtpType
import dev.twofold.core.SlotKind
import dev.twofold.core.displayCode
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.withTimeout
import java.io.File
import java.nio.file.Files

/** The cheapest parameters a file may carry: keeps the tests fast. */
val FLOOR = KdfSettings(19456u, 2u, 1u)
const val PASSWORD = "correct horse battery staple"
const val RFC_SHA1 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
const val RFC_SHA256 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA"
const val RFC_SHA512 =
    "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNA"

fun tempDir(): File = Files.createTempDirectory("twofold-kt").toFile().apply { deleteOnExit() }

fun pw(text: String = PASSWORD) = text.toByteArray(Charsets.UTF_8)

fun totp(secret: String, issuer: String, algorithm: HashAlgorithm = HashAlgorithm.SHA1, digits: Int = 8) =
    EntryInput(
        params = OtpParams(OtpType.TOTP, algorithm, digits.toUByte(), 30u, 0uL),
        secret = secret.toByteArray(Charsets.UTF_8),
        issuer = issuer,
        account = "rfc6238",
        note = "",
        groupIds = emptyList(),
        favorite = false,
        icon = null,
    )

suspend fun newVault(dir: File = tempDir()): Pair<TwofoldVault, String> =
    TwofoldVault.create(File(dir, "vault.twofold").path, pw(), FLOOR)

fun main() {
    val suite = Suite()

    suite.test("create, lock and unlock with a password; the password bytes are wiped") {
        val dir = tempDir()
        val (vault, recovery) = newVault(dir)
        check(recovery.matches(Regex("([A-Z2-7]{4}-){6}[A-Z2-7]{4}"))) { "recovery key format: $recovery" }
        vault.addFromUri("otpauth://totp/GitHub:alice?secret=JBSWY3DPEHPK3PXP&issuer=GitHub")
        vault.lock()
        check(!vault.isUnlocked) { "locked" }
        assertThrowsSuspend<TwofoldException.Locked> { vault.entries() }
        val reopened = TwofoldVault.open(File(dir, "vault.twofold").path)
        val bytes = pw()
        val result = reopened.unlockWithPassword(bytes)
        check(bytes.all { it == 0.toByte() }) { "password array was not zero-filled" }
        check(!result.recoveredFromPrevious) { "clean file" }
        val entries = reopened.entries()
        assertEquals(1, entries.size, "entries")
        assertEquals("GitHub", entries[0].issuer, "issuer")
        // The recovery key opens it too.
        reopened.lock()
        reopened.unlockWithRecoveryKey(recovery.lowercase())
        assertEquals(1, reopened.entries().size, "entries after recovery unlock")
    }

    suite.test("platform-key pull flow with a javax.crypto AES-GCM keystore; invalidation falls back") {
        val dir = tempDir()
        val (vault, _) = newVault(dir)
        vault.addFromUri("otpauth://totp/A:a?secret=$RFC_SHA1")
        val keystore = SoftwareKeystore("twofold.biometric")
        val slotId = vault.enrollPlatform(keystore, "test fingerprint")
        vault.lock()
        val reopened = TwofoldVault.open(File(dir, "vault.twofold").path)
        val slot = reopened.slots().single { it.kind == SlotKind.PLATFORM }
        assertEquals(slotId, slot.id, "slot id")
        assertEquals("twofold.biometric", slot.platformAlias, "alias")
        check((slot.platformBlob?.size ?: 0) == 12 + 32 + 16) { "blob is IV ‖ wrapped key ‖ tag" }
        reopened.unlockWithPlatform(keystore)
        assertEquals(1, keystore.unwrapCalls, "one keystore unwrap")
        assertEquals(1, reopened.entries().size, "entries")
        reopened.lock()
        // A wrong 32-byte key is a wrong credential; the keystore key gone is its own failure.
        assertThrowsSuspend<TwofoldException.WrongCredential> { reopened.unlockWithPlatformKey(slotId, ByteArray(32) { 1 }) }
        keystore.invalidate()
        assertThrowsSuspend<TwofoldException.PlatformKeyInvalidated> { reopened.unlockWithPlatform(keystore) }
        // Never a lock-out: the password still opens it, and biometrics can be enrolled again.
        reopened.unlockWithPassword(pw())
        reopened.removeSlot(slotId)
        val fresh = SoftwareKeystore("twofold.biometric")
        reopened.enrollPlatform(fresh, "re-enrolled")
        reopened.lock()
        reopened.unlockWithPlatform(fresh)
        check(reopened.isUnlocked) { "unlocked after re-enrollment" }
    }

    suite.test("wrong password, corrupt file and bad URIs are typed failures") {
        val dir = tempDir()
        val path = File(dir, "vault.twofold")
        val (vault, _) = newVault(dir)
        vault.addFromUri("otpauth://totp/A:a?secret=$RFC_SHA1")
        vault.lock()
        val reopened = TwofoldVault.open(path.path)
        assertThrowsSuspend<TwofoldException.WrongCredential> { reopened.unlockWithPassword(pw("not it")) }
        assertThrowsSuspend<TwofoldException.RecoveryKeyTypo> { reopened.unlockWithRecoveryKey("AAAA-BBBB") }
        // Damage the encrypted body of both generations.
        for (file in listOf(path, File(dir, "vault.twofold.prev"))) {
            val bytes = file.readBytes()
            bytes[bytes.size - 5] = (bytes[bytes.size - 5].toInt() xor 0x40).toByte()
            file.writeBytes(bytes)
        }
        assertThrowsSuspend<TwofoldException.Corrupt> { TwofoldVault.open(path.path).unlockWithPassword(pw()) }
        path.writeBytes("PK\u0003\u0004 a zip".toByteArray())
        assertThrowsSuspend<TwofoldException.UnsupportedFile> { TwofoldVault.open(path.path).unlockWithPassword(pw()) }
        assertThrowsSuspend<TwofoldException.NotFound> { TwofoldVault.open(File(dir, "none").path) }
        val e = assertThrows<TwofoldException.InvalidInput> { TwofoldVault.previewUri("otpauth://totp/x?secret=JBSW1") }
        check(e.message!!.contains("character 5")) { "reason: ${e.message}" }
        val preview = TwofoldVault.previewUri("otpauth://hotp/Bank:bob?secret=JBSWY3DPEHPK3PXP&counter=7")
        assertEquals(OtpType.HOTP, preview.params.otpType, "type")
        assertEquals(7uL, preview.params.counter, "counter")
        check(preview.weakSecret) { "80-bit secret flagged" }
        val uri = String(dev.twofold.core.formatOtpauthUri(totp(RFC_SHA1, "Acme Co")), Charsets.UTF_8)
        check(uri.startsWith("otpauth://totp/Acme%20Co:rfc6238?secret=$RFC_SHA1")) { uri }
    }

    suite.test("a file put back is RolledBack, a foreign one Forged; the password accepts it on purpose") {
        val dir = tempDir()
        val path = File(dir, "vault.twofold")
        val (vault, _) = newVault(dir)
        val h = vault.addFromUri("otpauth://hotp/Bank:bob?secret=$RFC_SHA1&counter=0")
        val old = path.readBytes()
        assertEquals("755224", vault.nextHotp(h.id), "first code")
        vault.lock()
        path.writeBytes(old)
        val reopened = TwofoldVault.open(path.path)
        val e = assertThrowsSuspend<TwofoldException.RolledBack> { reopened.unlockWithPassword(pw()) }
        check(e.found < e.expected) { "generations ${e.found} < ${e.expected}" }
        val info = reopened.unlockWithPasswordAcceptingUntrusted(pw())
        check(info.acceptedUntrusted) { "accepted" }
        assertEquals("287082", reopened.nextHotp(h.id), "the counter did not go back")
        reopened.lock()
        // Another vault's file in its place: foreign to this device.
        val otherDir = tempDir()
        val (stranger, _) = newVault(otherDir)
        stranger.lock()
        File(otherDir, "vault.twofold").copyTo(path, overwrite = true)
        assertThrowsSuspend<TwofoldException.Forged> { TwofoldVault.open(path.path).unlockWithPassword(pw()) }
    }

    suite.test("a Twofold 0.1 vault is Unverified until accepted, then opens as format 2") {
        val dir = tempDir()
        val path = File(dir, "vault.twofold")
        File(System.getProperty("twofold.root", "."), "core/tests/fixtures/v1/vault.twofold").copyTo(path)
        val vault = TwofoldVault.open(path.path)
        val pw1 = "v1 fixture password"
        assertThrowsSuspend<TwofoldException.Unverified> { vault.unlockWithPassword(pw(pw1)) }
        val info = vault.unlockWithPasswordAcceptingUntrusted(pw(pw1))
        assertEquals(1.toUShort(), info.upgradedFrom, "upgraded from format 1")
        assertEquals(3, vault.entries().size, "accounts")
        vault.confirmRecoveryKey("ZPIU-EG6Q-O62B-YQGD-G7FD-TFVK-XYO2")
        vault.lock()
        TwofoldVault.open(path.path).unlockWithRecoveryKey("ZPIU-EG6Q-O62B-YQGD-G7FD-TFVK-XYO2")
    }

    suite.test("PIN through a device-credential keystore: five wrong PINs lock it, the password removes it") {
        val dir = tempDir()
        val path = File(dir, "vault.twofold")
        val (vault, _) = newVault(dir)
        val device = SoftwareKeystore("twofold-pin-device-key")
        assertThrowsSuspend<TwofoldException.InvalidInput> { vault.enrollPin(pw("12345"), device) }
        val pin = "246810".toByteArray()
        val slot = vault.enrollPin(pin, device)
        check(pin.all { it == 0.toByte() }) { "PIN wiped" }
        vault.lock()
        val locked = TwofoldVault.open(path.path)
        locked.unlockWithPin(pw("246810"), device)
        locked.lock()
        repeat(4) { assertThrowsSuspend<TwofoldException.WrongCredential> { locked.unlockWithPin(pw("000000"), device) } }
        assertThrowsSuspend<TwofoldException.PinLocked> { locked.unlockWithPin(pw("000000"), device) }
        assertEquals(5, locked.pinFailures(slot), "failures counted")
        assertThrowsSuspend<TwofoldException.PinLocked> { locked.unlockWithPin(pw("246810"), device) }
        val info = locked.unlockWithPassword(pw())
        assertEquals(1u, info.removedPinSlots, "PIN slot removed")
        check(locked.slots().none { it.kind == SlotKind.PIN }) { "no PIN slot left" }
    }

    suite.test("biometric re-enrollment swaps the slot in one commit") {
        val dir = tempDir()
        val path = File(dir, "vault.twofold")
        val (vault, _) = newVault(dir)
        val first = SoftwareKeystore("bio-1")
        vault.enrollPlatform(first, "Pixel")
        val old = vault.platformSlots(first).single()
        val second = SoftwareKeystore("bio-2")
        val newId = vault.reenrollPlatform(old, second, "Pixel")
        vault.lock()
        val reopened = TwofoldVault.open(path.path)
        assertThrowsSuspend<TwofoldException.NotFound> { reopened.unlockWithPlatform(first) }
        reopened.unlockWithPlatform(second)
        assertEquals(newId, reopened.platformSlots(second).single().id, "the new slot")
    }

    suite.test("codes match the RFC 6238 vectors") {
        val (vault, _) = newVault()
        val sha1 = vault.add(totp(RFC_SHA1, "SHA1"))
        val sha256 = vault.add(totp(RFC_SHA256, "SHA256", HashAlgorithm.SHA256))
        val sha512 = vault.add(totp(RFC_SHA512, "SHA512", HashAlgorithm.SHA512))
        val vectors = mapOf(
            59L to listOf("94287082", "46119246", "90693936"),
            1111111109L to listOf("07081804", "68084774", "25091201"),
            1234567890L to listOf("89005924", "91819424", "93441116"),
            2000000000L to listOf("69279037", "90698825", "38618901"),
        )
        for ((t, expected) in vectors) {
            val codes = vault.codesAt(t * 1000).associateBy { it.entryId }
            assertEquals(expected[0], codes[sha1.id]!!.code, "SHA1 at $t")
            assertEquals(expected[1], codes[sha256.id]!!.code, "SHA256 at $t")
            assertEquals(expected[2], codes[sha512.id]!!.code, "SHA512 at $t")
        }
        val at59 = vault.codesAt(59_000).first { it.entryId == sha1.id }
        assertEquals(1000uL, at59.remainingMs, "remaining")
        assertEquals("9428 7082", displayCode(at59.code!!), "display grouping")
    }

    suite.test("HOTP codes come only from nextHotp, counter saved first") {
        val dir = tempDir()
        val (vault, _) = newVault(dir)
        val h = vault.addFromUri("otpauth://hotp/RFC:h?secret=$RFC_SHA1&counter=0")
        assertEquals(null, vault.codesAt(0).single().code, "no code without asking")
        val expected = listOf("755224", "287082", "359152", "969429", "338314")
        for (code in expected) assertEquals(code, vault.nextHotp(h.id), "HOTP")
        val other = TwofoldVault.open(File(dir, "vault.twofold").path)
        other.unlockWithPassword(pw())
        assertEquals(5uL, other.entries().single().params.counter, "counter on disk")
    }

    suite.test("backup create and verify, with a diff against the vault") {
        val dir = tempDir()
        val (vault, recovery) = newVault(dir)
        vault.addFromUri("otpauth://totp/A:a?secret=$RFC_SHA1")
        val file = File(dir, "backup.twfb").path
        val created = vault.createBackup(file, pw("backup pass"))
        assertEquals(1uL, created.entryCount, "entries in backup")
        assertEquals(262144u, created.kdf!!.memoryKib, "backup KDF memory")
        val check1 = vault.verifyBackup(file, pw("backup pass"))
        assertEquals(1uL, check1.entryCount, "verified entries")
        check(check1.difference!!.missing.isEmpty()) { "no difference yet" }
        val added = vault.addFromUri("otpauth://totp/B:b?secret=$RFC_SHA256")
        val check2 = vault.verifyBackupWithRecoveryKey(file, recovery)
        assertEquals(listOf(added.id), check2.difference!!.missing.map { it.id }, "missing from backup")
        assertThrowsSuspend<TwofoldException.WrongCredential> { vault.verifyBackup(file, pw("nope")) }
        val bytes = File(file).readBytes()
        bytes[bytes.size - 3] = (bytes[bytes.size - 3].toInt() xor 1).toByte()
        File(file).writeBytes(bytes)
        assertThrowsSuspend<TwofoldException.Corrupt> { vault.verifyBackup(file, pw("backup pass")) }
    }

    suite.test("a backup written through a document provider is confirmed from what was read back") {
        val (vault, _) = newVault()
        vault.addFromUri("otpauth://totp/A:a?secret=$RFC_SHA1")
        var stored = ByteArray(0)
        val result = vault.backupToDocument(pw("doc pass"), "content://backups/twofold.twfb") { bytes -> stored = bytes.copyOf(); stored.copyOf() }
        assertEquals(1uL, result.entryCount, "confirmed")
        assertEquals(1uL, vault.verifyBackupBytes(stored, pw("doc pass")).entryCount, "verifies from bytes")
        assertThrowsSuspend<TwofoldException.Corrupt> {
            vault.backupToDocument(pw("doc pass"), "content://x") { bytes -> bytes.copyOf(bytes.size - 1) }
        }
    }

    suite.test("many coroutines call at once") {
        val (vault, _) = newVault()
        val h = vault.addFromUri("otpauth://hotp/Shared:h?secret=$RFC_SHA1&counter=0")
        val workers = 48
        val codes = coroutineScope {
            (0 until workers).map { i ->
                async(Dispatchers.IO) {
                    vault.add(totp(RFC_SHA1, "worker $i"), allowDuplicate = true)
                    check(vault.codesAt(59_000).isNotEmpty()) { "codes" }
                    vault.nextHotp(h.id)
                }
            }.awaitAll()
        }
        assertEquals(workers, codes.toSet().size, "every HOTP code handed out once")
        assertEquals(workers + 1, vault.entries().size, "entries")
        assertEquals(workers.toULong(), vault.entries().first { it.id == h.id }.params.counter, "counter")
    }

    suite.test("the core's code list says when the next code is due, and it is there then") {
        val (vault, _) = newVault()
        vault.add(totp(RFC_SHA1, "SHA1", digits = 6))
        // A clock 400 ms before a 30-second boundary.
        val real = System.currentTimeMillis()
        val shift = 30_000 - Math.floorMod(real, 30_000L) - 400
        val clock = { System.currentTimeMillis() + shift }
        val list = vault.codeList()
        val first = list.rows("", null, clock())
        check(first.refreshInMs in 1uL..400uL) { "wake at the boundary, not a second later: ${first.refreshInMs}" }
        kotlinx.coroutines.delay(first.refreshInMs.toLong())
        val changed = list.rows("", null, clock()).rows.single()
        assertEquals(first.rows.single().nextCodeDisplay, changed.codeDisplay, "the previewed next code arrives")
        check(changed.remainingMs > 29_000uL) { "a fresh period: ${changed.remainingMs}" }
        list.close()
    }

    registerInteropTests(suite)
    suite.test("secret inputs and explicit exports cross as byte arrays the facade wipes") {
        val (vault, _) = newVault()
        val input = totp(RFC_SHA1, "Wipe")
        val secret = input.secret
        vault.add(input)
        check(secret.all { it == 0.toByte() }) { "EntryInput.secret wiped after add" }
        val uri = "otpauth://totp/U:u?secret=$RFC_SHA256".toByteArray(Charsets.UTF_8)
        vault.addFromUri(uri, false)
        check(uri.all { it == 0.toByte() }) { "URI bytes wiped after addFromUri" }
        var seen: ByteArray? = null
        val list = vault.exportOtpauthList { seen = it; String(it, Charsets.UTF_8) }
        check(list.contains(RFC_SHA1) && list.contains(RFC_SHA256)) { "export has the secrets" }
        check(seen!!.all { it == 0.toByte() }) { "otpauth export wiped after use" }
        seen = null
        vault.exportAegis(null) { seen = it }
        check(seen!!.isNotEmpty() && seen!!.all { it == 0.toByte() }) { "Aegis export wiped after use" }
        seen = null
        vault.exportCxf { bytes, _ -> seen = bytes }
        check(seen!!.all { it == 0.toByte() }) { "CXF export wiped after use" }
        seen = null
        val one = vault.exportEntryUri(vault.entries().first().id) { seen = it; String(it, Charsets.UTF_8) }
        check(one.startsWith("otpauth://")) { one }
        check(seen!!.all { it == 0.toByte() }) { "entry URI wiped after use" }
        val preview = "otpauth://totp/P:p?secret=$RFC_SHA1".toByteArray(Charsets.UTF_8)
        TwofoldVault.previewUri(preview)
        check(preview.all { it == 0.toByte() }) { "preview input wiped" }
    }

    registerImportFormatTests(suite)
    registerTransferTests(suite)
    registerAppTests(suite)
    registerSyncTests(suite)
    registerAppRobustnessTests(suite)
    registerRecoveryTests(suite)
    registerRecoveryKitTests(suite)
    registerBackupFolderTests(suite)
    registerVerifyTests(suite)
    registerFailureTests(suite)
    exitWith(suite.run())
}

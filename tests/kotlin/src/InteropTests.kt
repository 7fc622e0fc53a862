package dev.twofold.tests

import dev.twofold.EnrollmentScanner
import dev.twofold.TwofoldQr
import dev.twofold.core.TwofoldException
import dev.twofold.readImport
import dev.twofold.core.QrMatrix
import kotlinx.coroutines.async
import java.io.File

/** Renders a QR matrix into a camera-like Y plane: 4 px per module, padded rows, grey border. */
fun lumaFrame(modules: ByteArray, size: Int, width: Int, height: Int, rowStride: Int): ByteArray {
    val frame = ByteArray(rowStride * height) { 0x90.toByte() }
    val scale = 4
    val side = (size + 8) * scale
    val x0 = (width - side) / 2
    val y0 = (height - side) / 2
    for (y in 0 until side) for (x in 0 until side) {
        val mx = x / scale - 4
        val my = y / scale - 4
        val dark = mx in 0 until size && my in 0 until size && modules[my * size + mx] == 1.toByte()
        frame[(y0 + y) * rowStride + x0 + x] = if (dark) 0x10 else 0xE0.toByte()
    }
    return frame
}

/** A 1280×720 camera frame (row stride 1280) showing the code. */
fun cameraFrame(m: QrMatrix): ByteArray = lumaFrame(m.modules, m.size.toInt(), 1280, 720, 1280)

fun registerInteropTests(suite: Suite) {
    suite.test("decode_qr_luma reads a CameraX-style Y plane with row padding; account codes stay in the core") {
        val invite = "OTPX2RABCDEFGH0123456789"
        val m = TwofoldQr.matrix(invite)
        val frame = lumaFrame(m.modules, m.size.toInt(), 640, 480, 704)
        assertEquals(invite, TwofoldQr.decodeLuma(640, 480, 704, frame), "decoded text")
        // An account QR code never comes back as text: only the enrollment scanner reads it.
        val uri = "otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXP&issuer=Example"
        val account = TwofoldQr.matrix(uri)
        val accountFrame = lumaFrame(account.modules, account.size.toInt(), 640, 480, 704)
        val refused = assertThrowsSuspend<TwofoldException.InvalidInput> { TwofoldQr.decodeLuma(640, 480, 704, accountFrame) }
        check(!refused.message!!.contains("JBSWY3DPEHPK3PXP")) { "no secret in the error" }
        val scanner = EnrollmentScanner()
        val r = scanner.scanLuma(640, 480, 704, accountFrame)!!
        assertEquals("Example", r.newAccounts.single().issuer, "enrolled from the pixels, preview only")
        assertEquals(null, scanner.scanLuma(640, 480, 704, ByteArray(704 * 480) { 0x80.toByte() }), "no code in the frame")
        assertEquals(null, TwofoldQr.decodeLuma(640, 480, 704, ByteArray(704 * 480) { 0x80.toByte() }), "blank frame")
        assertThrowsSuspend<TwofoldException.InvalidInput> { TwofoldQr.decodeLuma(640, 480, 600, frame) }
    }

    suite.test("enrollment accumulates a multi-QR Google export and reports duplicates") {
        val (source, _) = newVault()
        for (i in 0 until 12) {
            source.addFromUri("otpauth://totp/Service$i:user?secret=${"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".substring(i, i + 16)}AAAAAAAA")
        }
        val export = source.exportGoogleMigration()
        assertEquals(2, export.codes.size, "12 accounts in codes of 10")
        val scanner = EnrollmentScanner()
        val first = scanner.scanLuma(1280, 720, 1280, cameraFrame(export.codes[0]))!!
        assertEquals("1 of 2 codes scanned (missing: 2)", first.progress!!.description, "progress")
        check(first.newAccounts.isEmpty()) { "nothing until the export is complete" }
        scanner.scanLuma(1280, 720, 1280, cameraFrame(export.codes[0]))
        val second = scanner.scanLuma(1280, 720, 1280, cameraFrame(export.codes[1]))!!
        assertEquals(12, second.newAccounts.size, "all accounts once complete")
        val (target, _) = newVault()
        assertEquals(12, scanner.addTo(target).addedIds.size, "added")
        val typed = "otpauth://totp/Service0:user?secret=ABCDEFGHIJKLMNOPAAAAAAAA".toByteArray(Charsets.UTF_8)
        scanner.scanText(typed)
        check(typed.all { it == 0.toByte() }) { "typed URI wiped" }
        assertEquals(listOf("Service0 (user)"), scanner.addTo(target).duplicates, "duplicate reported")
        assertThrowsSuspend<TwofoldException.InvalidInput> { scanner.scanText("https://example.com".toByteArray()) }
    }

    suite.test("import an encrypted Aegis export: password required, wrong password, then accounts") {
        val (source, _) = newVault()
        source.addFromUri("otpauth://totp/A:a?secret=$RFC_SHA1")
        source.addFromUri("otpauth://hotp/B:b?secret=$RFC_SHA256&counter=3")
        val bytes = source.exportAegis(pw("file password")) { it.copyOf() }
        assertThrowsSuspend<TwofoldException.PasswordRequired> { readImport(bytes) }
        assertThrowsSuspend<TwofoldException.WrongCredential> { readImport(bytes, pw("nope")) }
        val password = pw("file password")
        val import = readImport(bytes, password)
        check(password.all { it == 0.toByte() }) { "file password wiped" }
        assertEquals("aegis", import.format(), "detected format")
        assertEquals(listOf("A", "B"), import.accounts().map { it.issuer }, "previews")
        val (target, _) = newVault()
        assertEquals(2, target.addImported(import).addedIds.size, "added")
        val garbage = File.createTempFile("junk", ".bin").apply { writeBytes(byteArrayOf(1, 2, 3)) }
        assertThrowsSuspend<TwofoldException.UnsupportedFile> { readImport(garbage.readBytes()) }
    }
}

/** One fixture of each format of the second wave (core/tests/fixtures/import), its password. */
private val NEW_FORMAT_FIXTURES = listOf(
    Triple("authy_encrypted.xml", "authy", 3),
    Triple("stratum_encrypted.bin", "authenticator-pro", 4),
    Triple("stratum.db3", "authenticator-pro-db", 4),
    Triple("freeotp_backup.xml", "freeotp", 3),
    Triple("totp_authenticator.bin", "totp-authenticator", 3),
    Triple("battlenet_prefs.xml", "battlenet", 1),
    Triple("duo_accounts.json", "duo", 2),
    Triple("steam_sda_encrypted.zip", "steam", 2),
    Triple("winauth.zip", "winauth", 5),
    Triple("authplus_aes.zip", "authenticator-plus", 4),
    Triple("google_authenticator.db", "google-db", 3),
    Triple("microsoft_authenticator.db", "microsoft-authenticator", 2),
    Triple("keepass4.kdbx", "keepass", 6),
    Triple("lastpass.json", "lastpass", 2),
    Triple("raivo.zip", "raivo", 3),
    Triple("onepassword.1pux", "1password", 2),
    Triple("protonpass.zip", "proton-pass", 3),
)

fun registerImportFormatTests(suite: Suite) {
    val dir = File("core/tests/fixtures/import")
    val passwords = Regex("\"([^\"]+)\": \"([^\"]*)\"").findAll(File(dir, "PASSWORDS.json").readText())
        .associate { it.groupValues[1] to it.groupValues[2] }

    suite.test("ImportSession reads one file of each new format (17 formats)") {
        val (target, _) = newVault()
        for ((file, format, count) in NEW_FORMAT_FIXTURES) {
            val bytes = File(dir, file).readBytes()
            val password = passwords[file]
            if (password != null) {
                assertThrowsSuspend<TwofoldException.PasswordRequired> { readImport(bytes) }
                assertThrowsSuspend<TwofoldException.WrongCredential> { readImport(bytes, pw("not the password")) }
            }
            val import = readImport(bytes, password?.let { pw(it) })
            assertEquals(format, import.format(), "$file: format")
            assertEquals(count, import.accounts().size, "$file: accounts")
            target.addImported(import)
        }
        check(target.entries().isNotEmpty()) { "accounts added" }
    }

    suite.test("ImportSession: a Microsoft push-only account and mOTP/Yandex entries are reported, not dropped") {
        val ms = readImport(File(dir, "microsoft_authenticator.db").readBytes())
        check(ms.errors().single().reason.contains("push")) { "push-only account reported" }
        val stratum = readImport(File(dir, "stratum_plain.json").readBytes())
        assertEquals(listOf("MobileOTP:dave", "Yandex:erin"), stratum.errors().map { it.label }, "reported by name")
    }

    suite.test("ImportSession: a KeePass key file, and a hostile file refused") {
        val db = File(dir, "keepass_keyfile.kdbx").readBytes()
        val keyFile = File(dir, "keepass.keyx").readBytes()
        assertThrowsSuspend<TwofoldException.WrongCredential> { readImport(db, pw(passwords.getValue("keepass_keyfile.kdbx"))) }
        val key = keyFile.copyOf()
        val import = readImport(db, pw(passwords.getValue("keepass_keyfile.kdbx")), keyFile = key)
        check(key.all { it == 0.toByte() }) { "key file wiped" }
        assertEquals(6, import.accounts().size, "KeePass accounts")
        val refused = runCatching { readImport(File(dir, "hostile/microsoft_big_value.db").readBytes()) }.exceptionOrNull()
        check(refused is TwofoldException.HostileFile && refused.message!!.contains("refused")) { "hostile file: $refused" }
        check(dev.twofold.app.model.IMPORT_MIME_TYPES.contains("application/zip")) { "the picker offers ZIP files" }
    }
}

fun registerTransferTests(suite: Suite) {
    suite.test("a full OTPX/2 transfer between two vault sessions, a quarter of the frames lost, with the reply") {
        val (old, _) = newVault()
        for (i in 0 until 40) {
            val alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
            val secret = "JBSWY3DPEHPK3P" + alphabet[i % 32] + alphabet[i / 32]
            old.addFromUri("otpauth://totp/Service$i:me?secret=$secret", allowDuplicate = true)
        }
        val (new, _) = newVault()
        val incoming = dev.twofold.IncomingTransfer.start(ttlSeconds = 120)
        val outgoing = dev.twofold.OutgoingTransfer.start(old, incoming.inviteText())
        var n = 0L
        var received = incoming.receiveFrame(outgoing.frame(n++))
        while (!received.progress.complete) {
            check(received.confirmationCode == null && received.preview.isEmpty()) { "nothing shown before complete" }
            val frame = outgoing.frame(n++)
            if (n % 4 == 0L) continue
            received = incoming.receiveFrame(frame)
            check(n < 10_000) { "never completed" }
        }
        assertEquals(incoming.confirmationCode(), received.confirmationCode, "the completing frame carries the code")
        assertEquals(incoming.replyText(), received.replyText, "and the reply")
        assertEquals(40, received.preview.size, "and the preview")
        assertEquals(null, outgoing.confirmationCode, "the old device has no code before the reply")
        val reply = incoming.replyText()!!
        check(reply.startsWith("OTPX2R")) { reply }
        val code = outgoing.acceptReply(reply)
        assertEquals(code, incoming.confirmationCode(), "both screens show the same code")
        assertEquals(40, incoming.preview().size, "preview")
        check(new.entries().isEmpty()) { "nothing imported before accept" }
        assertEquals(40, incoming.acceptInto(new).addedIds.size, "accepted")
        assertEquals(old.codesAt(59_000).mapNotNull { it.code }.sorted(), new.codesAt(59_000).mapNotNull { it.code }.sorted(), "same codes on both devices")
        // A frame of this finished session offered to a fresh one is refused as another session's.
        val other = dev.twofold.IncomingTransfer.start()
        assertThrowsSuspend<TwofoldException.TransferRejected> { other.receiveFrame(outgoing.frame(0)) }
        assertThrowsSuspend<TwofoldException.TransferExpired> { other.receiveFrame(outgoing.frame(0), nowSeconds = System.currentTimeMillis() / 1000 + 3600) }
        // An OTPX/1 invite (from the committed fixtures) is refused: update the other device.
        val otpx1 = File("core/tests/fixtures/otpx1/invite.txt").readText().trim()
        val old1 = assertThrowsSuspend<TwofoldException.TransferRejected> { dev.twofold.OutgoingTransfer.start(old, otpx1) }
        check(old1.message!!.contains("update Twofold on the other device")) { "${old1.message}" }
        // The reply of another session is refused by the old device.
        assertThrowsSuspend<TwofoldException.TransferRejected> { outgoing.acceptReply("OTPX2R" + reply.substring(6).reversed()) }
    }

    suite.test("OTPX/2 over the LAN on loopback: destination shown, codes before the accounts leave, accept") {
        val (old, _) = newVault()
        old.addFromUri("otpauth://totp/Lan:me?secret=JBSWY3DPEHPK3PXP")
        val (new, _) = newVault()
        val port = java.net.ServerSocket(0).use { it.localPort }
        val incoming = dev.twofold.IncomingTransfer.start(lan = "127.0.0.1:$port")
        val outgoing = dev.twofold.OutgoingTransfer.start(old, incoming.inviteText())
        assertEquals("127.0.0.1:$port", outgoing.lanDestination, "the destination to show before sending")
        kotlinx.coroutines.coroutineScope {
            val received = async(kotlinx.coroutines.Dispatchers.IO) { incoming.receiveLan(15_000) }
            var code: String? = null
            for (attempt in 0 until 50) {
                code = try {
                    outgoing.connectLan(15_000)
                } catch (e: TwofoldException) {
                    kotlinx.coroutines.delay(100)
                    null
                }
                if (code != null) break
            }
            val finished = async(kotlinx.coroutines.Dispatchers.IO) { outgoing.finishLan() }
            received.await()
            assertEquals(code, incoming.confirmationCode(), "same code on both devices")
            assertEquals(1, incoming.acceptInto(new).addedIds.size, "accepted")
            finished.await()
        }
        // A phishing invite with a public address is refused when it is made.
        assertThrowsSuspend<TwofoldException.TransferRejected> { dev.twofold.IncomingTransfer.start(lan = "8.8.8.8:53") }
    }
}

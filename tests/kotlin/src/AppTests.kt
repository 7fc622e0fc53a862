package dev.twofold.tests

import dev.twofold.core.TwofoldException
import dev.twofold.TwofoldQr
import dev.twofold.TwofoldVault
import dev.twofold.app.model.AppModel
import dev.twofold.app.model.BackupModel
import dev.twofold.app.model.Clipboard
import dev.twofold.app.model.CodesModel
import dev.twofold.app.model.EnrollModel
import dev.twofold.app.model.ExportModel
import dev.twofold.core.ExportFormat
import dev.twofold.app.model.MemorySettings
import dev.twofold.app.model.OnboardingModel
import dev.twofold.app.model.Reauthentication
import dev.twofold.app.model.ReceiveModel
import dev.twofold.app.model.Route
import dev.twofold.app.model.SendModel
import dev.twofold.app.model.SettingsModel
import dev.twofold.app.model.UnlockModel
import dev.twofold.core.OtpType
import dev.twofold.core.QrErrorCorrection
import dev.twofold.core.SlotKind
import dev.twofold.app.model.biometricSlots
import dev.twofold.app.model.enrollBiometrics
import kotlinx.coroutines.CoroutineExceptionHandler
import dev.twofold.core.encodeQrPng
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.ExperimentalCoroutinesApi
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.newSingleThreadContext
import kotlinx.coroutines.withTimeout
import java.io.File

/**
 * A single-threaded scope, like Android's main thread that runs the view models. Like Android's
 * `viewModelScope` it has no place for an exception to go: on a phone one escaping a model's
 * coroutine kills the app, so here it fails the test.
 */
@OptIn(ExperimentalCoroutinesApi::class, kotlinx.coroutines.DelicateCoroutinesApi::class)
suspend fun withMainScope(body: suspend (CoroutineScope) -> Unit) {
    val main = newSingleThreadContext("test-main")
    val escaped = java.util.Collections.synchronizedList(mutableListOf<Throwable>())
    val scope = CoroutineScope(SupervisorJob() + main + CoroutineExceptionHandler { _, e -> escaped += e })
    try {
        body(scope)
        // Let what the last steps launched finish before looking.
        scope.onMain { }
    } finally {
        scope.cancel()
        main.close()
    }
    if (escaped.isNotEmpty()) {
        throw AssertionFailed("an exception escaped a model's coroutine (the app would crash): ${escaped.first()}").apply {
            escaped.forEach { addSuppressed(it) }
        }
    }
}

/** Runs [block] on the scope's thread: the models, like Android's, are called from one thread. */
suspend fun <T> CoroutineScope.onMain(block: () -> T): T =
    kotlinx.coroutines.withContext(coroutineContext[kotlin.coroutines.ContinuationInterceptor]!!) { block() }

suspend fun <T> StateFlow<T>.await(what: String, predicate: (T) -> Boolean): T =
    try {
        withTimeout(20_000) { first(predicate) }
    } catch (e: kotlinx.coroutines.TimeoutCancellationException) {
        throw AssertionFailed("timed out waiting for $what; state is $value")
    }

/** A clock the test moves by hand, and a sleep that returns only when the test lets it. */
class ManualTime(var nowMs: Long) {
    val sleeps = Channel<Pair<Long, CompletableDeferred<Unit>>>(Channel.UNLIMITED)

    suspend fun sleep(ms: Long) {
        val gate = CompletableDeferred<Unit>()
        sleeps.send(ms to gate)
        gate.await()
    }

    /** Waits for the model to start sleeping; returns how long it asked for and its gate. */
    suspend fun nextSleep(what: String): Pair<Long, CompletableDeferred<Unit>> =
        try {
            withTimeout(10_000) { sleeps.receive() }
        } catch (e: kotlinx.coroutines.TimeoutCancellationException) {
            throw AssertionFailed("no sleep started: $what")
        }
}

class RecordingClipboard : Clipboard {
    var content: String? = null
    var sensitive = false

    override fun copySensitive(text: String) {
        content = text
        sensitive = true
    }

    override fun clearIfStillOurs() {
        content = null
    }
}

/** A backup folder in memory; [damage] flips a byte of what is read back (a bad provider). */
class MemoryFolder(var damage: Boolean = false) : dev.twofold.core.BackupFolder {
    val files = java.util.Collections.synchronizedSortedMap(sortedMapOf<String, ByteArray>())

    override fun list(): List<String> = synchronized(files) { files.keys.toList() }

    override fun read(name: String): ByteArray? =
        files[name]?.copyOf()?.also { if (damage) it[it.size / 2] = (it[it.size / 2] + 1).toByte() }

    override fun write(name: String, bytes: ByteArray) {
        files[name] = bytes.copyOf()
    }

    override fun delete(name: String) {
        files.remove(name)
    }
}

private const val GITHUB = "otpauth://totp/GitHub:alice@example.com?secret=JBSWY3DPEHPK3PXP&issuer=GitHub"
private const val STRONG = "violet-anchor-tundra-93-orbit"

fun registerAppTests(suite: Suite) {
    suite.test("app: onboarding judges the password, shows the recovery key once, checks it, enrolls biometrics") {
        withMainScope { scope ->
            val path = File(tempDir(), "vault.twofold").path
            val keys = SoftwareBiometricKeys()
            val app = AppModel(path, trustFor(path), keys, MemorySettings(), scope, monotonicMs = { 0 })
            app.start().join()
            assertEquals(Route.Onboarding, app.route.value, "no vault: onboarding")
            val m = app.onboarding(FLOOR)
            m.passwordChanged("password1".toCharArray()).join()
            check(m.state.value.strength!!.score < 2u) { "a common password scores low" }
            // Typing fast: only the last keystroke's verdict stays.
            val burst = (1..STRONG.length).map { n -> m.passwordChanged(STRONG.take(n).toCharArray()) }
            burst.last().join()
            check(m.state.value.strength!!.acceptable) { "the verdict is the full password's: ${m.state.value.strength}" }
            m.passwordChanged(CharArray(0)).join()
            assertEquals(null, m.state.value.strength, "an empty field shows no verdict")
            m.create("password1".toCharArray(), "password1".toCharArray()).join()
            check(m.state.value.error != null && m.state.value.step == OnboardingModel.Step.ChoosePassword) { "weak password refused: ${m.state.value}" }
            m.create(STRONG.toCharArray(), "$STRONG!".toCharArray()).join()
            assertEquals("The passwords do not match", m.state.value.error, "mismatch")
            m.create(STRONG.toCharArray(), STRONG.toCharArray()).join()
            val shown = m.state.value.step as OnboardingModel.Step.ShowRecoveryKey
            m.recoveryKeyWrittenDown()
            assertEquals(OnboardingModel.Step.ConfirmRecoveryKey, m.state.value.step, "asked to type it back")
            m.confirmRecoveryKey("AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA").join()
            check(m.state.value.error != null && m.state.value.step == OnboardingModel.Step.ConfirmRecoveryKey) { "a wrong key is refused" }
            val typo = shown.recoveryKey.dropLast(1) + if (shown.recoveryKey.last() == 'A') "B" else "A"
            m.confirmRecoveryKey(typo).join()
            check(m.state.value.step == OnboardingModel.Step.ConfirmRecoveryKey) { "a typo is refused" }
            m.confirmRecoveryKey(shown.recoveryKey.lowercase().replace("-", " ")).join()
            assertEquals(OnboardingModel.Step.OfferBiometrics, m.state.value.step, "then biometrics are offered")
            m.enableBiometrics().join()
            val route = app.route.value as Route.Unlocked
            assertEquals(1, route.vault.biometricSlots(keys).size, "one biometric slot")
            check(route.vault.slots().any { it.kind == SlotKind.RECOVERY }) { "recovery slot" }
        }
    }

    suite.test("app: unlock by password and biometrics; invalidated biometrics fall back and re-enroll") {
        withMainScope { scope ->
            val dir = tempDir()
            val path = File(dir, "vault.twofold").path
            val keys = SoftwareBiometricKeys()
            TwofoldVault.create(path, pw(), FLOOR).first.apply { enrollBiometrics(keys, "bio") }.close()
            val settings = MemorySettings()
            val app = AppModel(path, trustFor(path), keys, settings, scope, monotonicMs = { 0 })
            app.start().join()
            val locked = app.route.value as Route.Locked
            val unlock = app.unlock(locked.vault)
            unlock.load().join()
            check(unlock.state.value.biometricAvailable) { "biometrics offered" }
            unlock.unlockWithPassword("wrong".toCharArray()).join()
            assertEquals("Wrong password", unlock.state.value.error, "wrong password")
            check(app.route.value is Route.Locked) { "still locked" }
            unlock.unlockWithBiometrics().join()
            check(app.route.value is Route.Unlocked) { "biometric unlock" }
            scope.onMain { app.lock() }
            check(!locked.vault.isUnlocked) { "locked in the core" }

            keys.invalidateAll() // a new fingerprint was enrolled
            unlock.unlockWithBiometrics().join()
            check(unlock.state.value.error!!.contains("password")) { "told to use the password: ${unlock.state.value.error}" }
            check(!unlock.state.value.biometricAvailable && settings.biometricNeedsReenroll) { "biometrics marked for re-enrollment" }
            unlock.unlockWithPassword(PASSWORD.toCharArray()).join()
            val vault = (app.route.value as Route.Unlocked).vault
            val settingsModel = SettingsModel(vault, keys, settings, scope, Dispatchers.IO)
            settingsModel.load().join()
            check(settingsModel.state.value.biometricsNeedReenroll) { "settings offer re-enrollment" }
            settingsModel.enableBiometrics().join()
            assertEquals(1, vault.biometricSlots(keys).size, "the stale slot was replaced")
            assertEquals(listOf(vault.biometricSlots(keys).single().platformAlias), keys.aliases(), "the dead key was deleted")
            check(!settings.biometricNeedsReenroll) { "flag cleared" }
            scope.onMain { app.lock() }
            val again = app.unlock(vault)
            again.load().join()
            check(again.state.value.biometricAvailable) { "offered again" }
        }
    }

    suite.test("app: recovery-key unlock requires a new password, which then works") {
        withMainScope { scope ->
            val path = File(tempDir(), "vault.twofold").path
            val (created, recovery) = TwofoldVault.create(path, pw(), FLOOR)
            created.addFromUri(GITHUB)
            created.close()
            val app = AppModel(path, trustFor(path), null, MemorySettings(), scope, monotonicMs = { 0 })
            app.start().join()
            val vault = (app.route.value as Route.Locked).vault
            val unlock = app.unlock(vault)
            unlock.useRecoveryKey()
            unlock.unlockWithRecoveryKey(recovery).join()
            assertEquals(UnlockModel.Mode.NEW_PASSWORD, unlock.state.value.mode, "asks for a new password")
            check(app.route.value is Route.Locked) { "not in before the new password is set" }
            unlock.setNewPassword("short".toCharArray(), "short".toCharArray()).join()
            check(unlock.state.value.error != null) { "weak new password refused" }
            unlock.setNewPassword(STRONG.toCharArray(), STRONG.toCharArray()).join()
            check(app.route.value is Route.Unlocked) { "unlocked" }
            vault.lock()
            assertThrowsSuspend<dev.twofold.core.TwofoldException.WrongCredential> { vault.unlockWithPassword(pw()) }
            vault.unlockWithPassword(pw(STRONG))
            assertEquals(1, vault.entries().size, "accounts kept")
        }
    }

    suite.test("app: auto-lock after the delay in the background, also when the process was frozen") {
        withMainScope { scope ->
            val path = File(tempDir(), "vault.twofold").path
            TwofoldVault.create(path, pw(), FLOOR).first.close()
            val time = ManualTime(0)
            val settings = MemorySettings().apply { autoLockSeconds = 60 }
            val app = AppModel(path, trustFor(path), null, settings, scope, monotonicMs = { time.nowMs }, sleep = time::sleep)
            app.start().join()
            app.unlock((app.route.value as Route.Locked).vault).unlockWithPassword(PASSWORD.toCharArray()).join()
            check(app.route.value is Route.Unlocked) { "unlocked" }

            scope.onMain { app.onBackground() }
            val (asked, gate) = time.nextSleep("first lock timer")
            assertEquals(60_000L, asked, "lock timer")
            time.nowMs += 10_000
            scope.onMain { app.onForeground() }
            check(app.route.value is Route.Unlocked) { "back within the delay: still unlocked" }
            gate.complete(Unit)
            check(app.route.value is Route.Unlocked) { "the cancelled timer does not lock" }

            scope.onMain { app.onBackground() }
            val (_, gate2) = time.nextSleep("second lock timer")
            gate2.complete(Unit)
            app.route.await("locked by the timer") { it is Route.Locked }

            app.unlock((app.route.value as Route.Locked).vault).unlockWithPassword(PASSWORD.toCharArray()).join()
            scope.onMain { app.onBackground() }
            time.nextSleep("third lock timer") // it never fires: the process was frozen
            time.nowMs += 61_000
            scope.onMain { app.onForeground() }
            check(app.route.value is Route.Locked) { "locked on return after the delay" }
        }
    }

    suite.test("app: code list groups digits, orders favorites, searches, filters groups, shows next code") {
        withMainScope { scope ->
            val (vault, _) = newVault()
            vault.add(totp(RFC_SHA1, "Zeta"))
            vault.addFromUri("otpauth://totp/Ébay:bob?secret=$RFC_SHA256&issuer=%C3%89bay&digits=6")
            vault.addFromUri("otpauth://hotp/Bank:carol?secret=$RFC_SHA1&counter=0&issuer=Bank")
            val clip = RecordingClipboard()
            val time = ManualTime(59_000)
            val codes = CodesModel(vault, MemorySettings(), clip, { null }, scope, clock = { time.nowMs }, sleep = time::sleep)
            codes.start()
            var s = codes.state.await("codes") { st -> st.rows.size == 3 && st.rows.first().code != null }
            val zeta = s.rows.first { it.issuer == "Zeta" }
            assertEquals("9428 7082", zeta.code, "RFC 6238 SHA-1 at 59 s, grouped")
            assertEquals(1000L, zeta.remainingMs, "one second left")
            val bank = s.rows.first { it.issuer == "Bank" }
            check(bank.hotp && bank.code == null) { "HOTP shows no code until asked" }

            scope.onMain { codes.showNext(zeta.id) }
            s = codes.state.await("next code") { st -> st.rows.first { it.id == zeta.id }.showingNext }
            assertEquals(displayOf(vault, zeta.id, 60_000), s.rows.first { it.id == zeta.id }.nextCode, "next code = code of the next period")

            codes.toggleFavorite(s.rows.first { it.issuer == "Bank" }.id).join()
            assertEquals("Bank", codes.state.value.rows.first().issuer, "favorite first")

            codes.search("ebay").join()
            assertEquals(listOf("Ébay"), codes.state.value.rows.map { it.issuer }, "accent-insensitive search by the core")
            codes.search("").join()

            codes.addGroup("Work").join()
            val work = codes.state.value.groups.single()
            codes.setGroups(zeta.id, listOf(work.id)).join()
            codes.selectGroup(work.id).join()
            assertEquals(listOf("Zeta"), codes.state.value.rows.map { it.issuer }, "group filter")
            codes.selectGroup(null).join()
            codes.nextHotp(bank.id).join()
            assertEquals("755 224", codes.state.value.rows.first { it.id == bank.id }.code, "RFC 4226 counter 0")
            codes.nextHotp(bank.id).join()
            assertEquals("287 082", codes.state.value.rows.first { it.id == bank.id }.code, "RFC 4226 counter 1")

            codes.delete(zeta.id).join()
            check(codes.state.value.rows.none { it.id == zeta.id }) { "deleted" }
            codes.undoDelete().join()
            check(codes.state.value.rows.any { it.id == zeta.id }) { "undo restores" }
            scope.onMain { codes.stop() }
        }
    }

    suite.test("app: the ticking list and fast typing never leave a list for an older search on screen") {
        withMainScope { scope ->
            val (vault, _) = newVault()
            for (name in listOf("Alpha", "Beta", "Gamma", "Delta")) vault.add(totp(RFC_SHA1, name), allowDuplicate = true)
            val codes = CodesModel(vault, MemorySettings(), RecordingClipboard(), { null }, scope)
            codes.start()
            codes.state.await("rows") { it.rows.size == 4 }
            // Searches fired faster than the core answers, while the ticker runs; the earlier
            // ones match more rows than the last.
            val typed = listOf("a", "ta", "lta", "delta").map { q -> scope.onMain { codes.search(q) } }
            typed.forEach { it.join() }
            assertEquals(listOf("Delta"), codes.state.value.rows.map { it.issuer }, "the last search is what shows")
            kotlinx.coroutines.delay(1_100) // a tick later, still the same filter
            assertEquals(listOf("Delta"), codes.state.value.rows.map { it.issuer }, "the ticker uses the newest filter")
            scope.onMain { codes.stop() }
        }
    }

    suite.test("app: copy puts the raw code on a sensitive clipboard and clears it after 30 s; tap to reveal") {
        withMainScope { scope ->
            val (vault, _) = newVault()
            val id = vault.add(totp(RFC_SHA1, "Zeta")).id
            val clip = RecordingClipboard()
            val time = ManualTime(59_000)
            val settings = MemorySettings().apply { tapToReveal = true }
            val codes = CodesModel(vault, settings, clip, { null }, scope, clock = { time.nowMs }, sleep = time::sleep)
            codes.start()
            val row = codes.state.await("row") { it.rows.isNotEmpty() }.rows.single()
            check(row.hidden && row.code == null && row.nextCode == null) { "hidden until tapped: $row" }
            codes.copy(id).join()
            assertEquals("94287082", clip.content, "copied without the grouping space")
            check(clip.sensitive) { "marked sensitive" }
            check(!codes.state.value.rows.single().hidden) { "copy reveals" }
            assertEquals(1uL, vault.entries().single().useCount, "use recorded")
            val (delay, gate) = time.nextSleep("clipboard timer")
            assertEquals(30_000L, delay, "clears after 30 s")
            gate.complete(Unit)
            withTimeout(5_000) { while (clip.content != null) kotlinx.coroutines.delay(10) }
            scope.onMain { codes.stop() }
        }
    }

    suite.test("app: a clock that is off is measured against trusted time and warned about") {
        withMainScope { scope ->
            val (vault, _) = newVault()
            vault.add(totp(RFC_SHA1, "Zeta"))
            val local = 59_000L - 120_000L // the phone is two minutes slow
            val codes = CodesModel(vault, MemorySettings(), RecordingClipboard(), { 59_000L }, scope, clock = { local })
            codes.start()
            val s = codes.state.await("warning and code") { it.clockOffsetWarning != null && it.rows.firstOrNull()?.code != null }
            assertEquals(120L, s.clockOffsetWarning, "offset in seconds")
            assertEquals("9428 7082", s.rows.single().code, "the core corrects the code")
            scope.onMain { codes.stop() }
        }
    }

    suite.test("app: enrollment by camera frame, picture, Google multi-QR, URI and manual entry, with core messages") {
        withMainScope { scope ->
            val (vault, _) = newVault()
            val m = EnrollModel(vault, scope, Dispatchers.IO)
            val github = TwofoldQr.matrix(GITHUB)
            m.cameraFrame(1280, 720, 1280, cameraFrame(github)).join()
            m.cameraFrame(1280, 720, 1280, cameraFrame(github)).join() // the camera sees the same code every frame
            m.cameraFrame(1280, 720, 1280, ByteArray(1280 * 720) { 0x80.toByte() }).join() // and frames without one
            assertEquals(1, m.state.value.pending.size, "one preview")
            assertEquals("GitHub", m.state.value.pending.single().issuer, "preview")
            check(vault.entries().isEmpty()) { "nothing added before confirming" }
            m.confirm().join()
            assertEquals(1, m.state.value.result!!.addedIds.size, "added")

            val png = encodeQrPng("otpauth://totp/Pic:me?secret=$RFC_SHA256&issuer=Pic", QrErrorCorrection.MEDIUM, 4u)
            m.picture(png).join()
            assertEquals("Pic", m.state.value.pending.single().issuer, "decoded from a picture")
            m.confirm().join()

            val (source, _) = newVault()
            for (i in 0 until 12) source.addFromUri("otpauth://totp/S$i:u?secret=${"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".substring(i, i + 16)}")
            val google = source.exportGoogleMigration().codes
            m.cameraFrame(1280, 720, 1280, cameraFrame(google[1])).join()
            assertEquals("1 of 2 codes scanned (missing: 1)", m.state.value.progress!!.description, "progress")
            m.cameraFrame(1280, 720, 1280, cameraFrame(google[0])).join()
            assertEquals(12, m.state.value.pending.size, "complete export")
            scope.onMain { m.removePending(0) }.join()
            m.confirm().join()
            assertEquals(11, m.state.value.result!!.addedIds.size, "unticked one left out")

            m.addUri("otpauth://totp/X?secret=not-base32!".toCharArray()).join()
            check(m.state.value.error!!.isNotBlank() && m.state.value.pending.isEmpty()) { "bad URI explained: ${m.state.value}" }

            m.editManual { it.copy(issuer = "Manual", account = "me", secret = "ab!") }
            m.addManual().join()
            val secretError = m.state.value.error
            check(secretError != null && secretError.contains("secret", ignoreCase = true)) { "core says the secret is wrong: $secretError" }
            m.editManual { it.copy(digits = "x", period = "0") }
            m.addManual().join()
            assertEquals(setOf(dev.twofold.core.FormField.DIGITS, dev.twofold.core.FormField.PERIOD), m.state.value.fieldProblems.keys, "both fields named by the core")
            assertEquals("Use 6 to 10 digits", m.state.value.fieldProblems[dev.twofold.core.FormField.DIGITS])
            m.editManual { it.copy(digits = "12", period = "30", secret = RFC_SHA1) }
            m.addManual().join()
            check(m.state.value.error!!.contains("digit", ignoreCase = true)) { "core refuses 12 digits: ${m.state.value.error}" }
            check(m.state.value.fieldProblems.keys == setOf(dev.twofold.core.FormField.DIGITS)) { "only digits: ${m.state.value.fieldProblems}" }
            m.editManual { it.copy(digits = "6", type = OtpType.HOTP, counter = "5", secret = "jbsw y3dp ehpk 3pxp") }
            m.addManual().join()
            assertEquals(1, m.state.value.result!!.addedIds.size, "manual entry added")
            assertEquals(1 + 1 + 11 + 1, vault.entries().size, "all accounts in the vault")
        }
    }

    suite.test("app: importing an encrypted file asks for its password, previews, unticks, reports duplicates") {
        withMainScope { scope ->
            val (source, _) = newVault()
            source.addFromUri(GITHUB)
            source.addFromUri("otpauth://totp/B:b?secret=$RFC_SHA256")
            source.addFromUri("otpauth://totp/C:c?secret=$RFC_SHA1&issuer=C")
            val file = source.exportAegis(pw("file password")) { it.copyOf() }
            val (vault, _) = newVault()
            vault.addFromUri(GITHUB)
            val m = EnrollModel(vault, scope, Dispatchers.IO)
            m.importFile(file).join()
            check(m.state.value.filePasswordNeeded) { "asks for the file's password" }
            m.filePassword("nope".toCharArray()).join()
            assertEquals("Wrong password for this file", m.state.value.error, "wrong password")
            m.filePassword("file password".toCharArray()).join()
            assertEquals("aegis", m.state.value.importFormat, "format")
            assertEquals(listOf("GitHub", "B", "C"), m.state.value.pending.map { it.issuer }, "preview")
            scope.onMain { m.removePending(2) }.join()
            assertEquals(listOf("GitHub", "B"), m.state.value.pending.map { it.issuer }, "C unticked")
            m.confirm().join()
            val r = m.state.value.result!!
            assertEquals(1, r.addedIds.size, "one new")
            assertEquals(1, r.duplicates.size, "one duplicate reported, not doubled")
            check(vault.entries().none { it.issuer == "C" }) { "the unticked account was not added" }
            m.importFile(byteArrayOf(1, 2, 3)).join()
            check(m.state.value.error != null) { "garbage file refused with a message" }
        }
    }

    suite.test("app: automatic backups are verified, pruned by the core, and failures are shown") {
        withMainScope { scope ->
            val (vault, recovery) = newVault()
            vault.addFromUri(GITHUB)
            val settings = MemorySettings()
            val folder = MemoryFolder()
            folder.files["notes.txt"] = byteArrayOf(1)
            var now = 1_700_000_000_000L
            val m = BackupModel(vault, settings, scope, { folder }, clock = { now })
            m.backupNow().join()
            check(folder.files.size == 1) { "no folder chosen: nothing written" }
            m.chooseFolder("content://tree/backups", "Backups").join()
            val last = m.state.value.last!!
            assertEquals("twofold-20231114-221320.twfb", last.name, "name from the core")
            assertEquals(1L, last.entryCount, "entries")
            repeat(11) {
                now += 60_000
                m.backupNow().join()
            }
            assertEquals(11, folder.files.size, "10 automatic backups kept, other files untouched")
            check("notes.txt" in folder.files && "twofold-20231114-221320.twfb" !in folder.files) { "oldest removed" }

            folder.damage = true
            now += 60_000
            m.backupNow().join()
            check(m.state.value.lastError != null) { "a backup that does not read back is a failure" }
            assertEquals(last.name.let { m.state.value.last!!.name }, settings.lastBackup!!.name, "the last good backup is still shown")
            check(m.state.value.last!!.atMs < now) { "last good backup unchanged" }

            m.pickBackupToVerify(folder.files.getValue(settings.lastBackup!!.name))
            m.verifyWithRecoveryKey("AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA").join()
            check(m.state.value.checkError != null) { "wrong key" }
            m.verifyWithRecoveryKey(recovery).join()
            assertEquals(1uL, m.state.value.check!!.entryCount, "verified")
        }
    }

    suite.test("app: exports need re-authentication and are checked after saving") {
        withMainScope { scope ->
            val (vault, _) = newVault()
            vault.addFromUri(GITHUB)
            vault.addFromUri("otpauth://hotp/H:h?secret=$RFC_SHA1&counter=2")
            val m = ExportModel(vault, Reauthentication(vault, null), scope)
            var saved: ByteArray? = null
            val sink: suspend (ByteArray) -> ByteArray = { b -> saved = b.copyOf(); saved!!.copyOf() }
            m.export(ExportFormat.OTPAUTH_LIST, write = sink).join()
            check(saved == null && m.state.value.error != null) { "not before re-authentication" }
            m.authenticateWithPassword("wrong".toCharArray()).join()
            check(!m.state.value.authenticated) { "wrong password" }
            m.authenticateWithPassword(PASSWORD.toCharArray()).join()
            check(m.state.value.authenticated) { "re-authenticated" }
            m.export(ExportFormat.OTPAUTH_LIST, write = sink).join()
            assertEquals(2, String(saved!!).lines().count { it.startsWith("otpauth://") }, "two URIs")
            assertEquals("twofold-accounts.txt", m.state.value.saved, "saved")

            m.export(ExportFormat.TWOFOLD_BACKUP, write = sink).join()
            check(m.state.value.error != null) { "an exported backup needs a password" }
            m.export(ExportFormat.TWOFOLD_BACKUP, "export pw".toCharArray(), write = sink).join()
            check(m.state.value.saved!!.startsWith("twofold-export-")) { "backup saved: ${m.state.value}" }
            assertEquals(2uL, vault.verifyBackupBytes(saved!!, pw("export pw")).entryCount, "the exported backup opens")

            m.export(ExportFormat.GOOGLE_QR).join()
            assertEquals(1, m.state.value.googleCodes.size, "one Google code")
            m.export(ExportFormat.CXF, write = sink).join()
            assertEquals(1, m.state.value.skipped.size, "CXF skips HOTP, and says so")

            m.export(ExportFormat.AEGIS_PLAIN, write = { b -> b.copyOf(b.size - 1) }).join()
            check(m.state.value.error!!.contains("read back")) { "a truncated save is reported: ${m.state.value.error}" }
            check(m.state.value.saved == null) { "and not counted as saved" }
            m.export(ExportFormat.TWOFOLD_BACKUP, "export pw".toCharArray(), write = { b -> b.copyOf().also { it[it.size - 5] = (it[it.size - 5].toInt() xor 1).toByte() } }).join()
            check(m.state.value.error != null && m.state.value.saved == null) { "a backup that does not read back is refused: ${m.state.value}" }

            // The catalogue is the core's: names, file names, MIME types, password, plaintext.
            val formats = m.formats()
            assertEquals(ExportFormat.values().toList(), formats.map { it.format }, "every format, once, in order")
            check(formats.all { it.needsPassword != it.plaintext }) { "encrypted with a password, or plaintext" }
            assertEquals("text/plain", m.info(ExportFormat.OTPAUTH_LIST).mimeType)
            check(!m.info(ExportFormat.GOOGLE_QR).isFile) { "Google codes are drawn" }
            m.close()
            check(!m.state.value.authenticated) { "leaving ends the re-authentication" }
        }
    }

    suite.test("app: transfer between two phones: invite, re-auth, selection, frames, matching codes, accept") {
        withMainScope { scope ->
            val (old, _) = newVault()
            for (i in 0 until 6) old.addFromUri("otpauth://totp/Svc$i:me?secret=${"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".substring(i, i + 16)}")
            val (new, _) = newVault()
            val receive = ReceiveModel(new, scope)
            receive.begin().join()
            val invite = receive.state.value.invite!!
            val send = SendModel(old, Reauthentication(old, null), scope, framesPerSecond = 200)
            scope.onMain { send.inviteScanned(invite) }
            send.send().join()
            check(send.state.value.confirmationCode == null) { "nothing sent before re-authentication" }
            send.authenticateWithPassword(PASSWORD.toCharArray()).join()
            assertEquals(6, send.state.value.selected.size, "all selected")
            scope.onMain { send.toggle(send.state.value.accounts.first().id) }
            send.send().join()
            check(send.state.value.awaitingReply && send.state.value.confirmationCode == null) { "no code before the reply" }
            receive.frame(GITHUB).join()
            check(receive.state.value.error != null) { "a stray QR is refused, scanning goes on" }
            var last: String? = null
            while (receive.state.value.confirmationCode == null) {
                val f = send.state.await("a new frame") { it.frame != null && it.frame != last }.frame!!
                last = f
                receive.frame(f).join()
            }
            val reply = receive.state.value.reply!!
            send.replyScanned(reply).join()
            val code = send.state.value.confirmationCode!!
            assertEquals(code, receive.state.value.confirmationCode, "both phones show the same code")
            assertEquals(null, send.state.value.frame, "frames stop once the reply is in")
            assertEquals(5, receive.state.value.preview.size, "preview of the chosen accounts")
            check(new.entries().isEmpty()) { "nothing added before accept" }
            receive.accept().join()
            assertEquals(5, receive.state.value.result!!.addedIds.size, "accepted")
            scope.onMain { send.finish() }
        }
    }

    suite.test("app: transfer over the LAN: the destination is shown first, the accounts leave only after 'codes match'") {
        withMainScope { scope ->
            val (old, _) = newVault()
            old.addFromUri("otpauth://totp/Lan:me?secret=JBSWY3DPEHPK3PXP")
            val (new, _) = newVault()
            val port = java.net.ServerSocket(0).use { it.localPort }
            val receive = ReceiveModel(new, scope, lanAddress = { "127.0.0.1:$port" })
            receive.begin().join()
            check(receive.state.value.lanOffered) { "the invite offers the LAN" }
            val send = SendModel(old, Reauthentication(old, null), scope, framesPerSecond = 50)
            send.authenticateWithPassword(PASSWORD.toCharArray()).join()
            scope.onMain { send.scanned(receive.state.value.invite!!) }
            send.send().join()
            assertEquals("127.0.0.1:$port", send.state.value.lanDestination, "the destination to show and ask about")
            check(send.state.value.confirmationCode == null) { "no code before the new phone answers" }
            val waiting = receive.receiveLan(15_000)
            send.sendOverLan(15_000).join()
            val code = send.state.value.confirmationCode!!
            check(send.state.value.lanWaitingForMatch && new.entries().isEmpty()) { "nothing sent before the user says the codes match" }
            val sending = send.codesMatch()
            waiting.join()
            assertEquals(code, receive.state.value.confirmationCode, "same code on both phones")
            receive.accept().join()
            sending.join()
            check(send.state.value.sent) { "the old phone hears the new phone accepted: ${send.state.value}" }
            assertEquals(1, new.entries().size, "added")
        }
    }
}

private suspend fun displayOf(vault: TwofoldVault, id: String, atMs: Long): String =
    dev.twofold.core.displayCode(vault.codesAt(atMs).first { it.entryId == id }.code!!)

package dev.twofold.tests

import dev.twofold.TwofoldVault
import dev.twofold.core.TwofoldException
import dev.twofold.app.model.AppModel
import dev.twofold.app.model.BiometricCancelled
import dev.twofold.app.model.CodesModel
import dev.twofold.app.model.EnrollModel
import dev.twofold.app.model.ExportModel
import dev.twofold.app.model.MemorySettings
import dev.twofold.app.model.Reauthentication
import dev.twofold.app.model.ReceiveModel
import dev.twofold.app.model.Route
import dev.twofold.app.model.SendModel
import dev.twofold.app.model.SettingsModel
import dev.twofold.app.model.UnlockModel
import dev.twofold.app.model.biometricSlots
import dev.twofold.app.model.enrollBiometrics
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import java.io.File

private const val GITHUB_URI = "otpauth://totp/GitHub:alice@example.com?secret=JBSWY3DPEHPK3PXP&issuer=GitHub"

/** Unlocks [app]'s vault with the test password through its unlock screen; returns the vault. */
private suspend fun unlockApp(app: AppModel): TwofoldVault {
    val locked = app.route.await("locked") { it is Route.Locked } as Route.Locked
    app.unlock(locked.vault).unlockWithPassword(PASSWORD.toCharArray()).join()
    return (app.route.await("unlocked") { it is Route.Unlocked } as Route.Unlocked).vault
}

/** The kinds of exception Android's keystore throws from key generation, Cipher.init and doFinal. */
private fun keystoreExceptions(): List<Throwable> = listOf(
    java.security.ProviderException("Keystore operation failed"),
    java.security.InvalidAlgorithmParameterException("At least one biometric must be enrolled"),
    javax.crypto.IllegalBlockSizeException("Key user not authenticated"),
    java.security.InvalidKeyException("Key permanently invalidated"),
    java.security.UnrecoverableKeyException("Failed to obtain information about key"),
    java.security.KeyStoreException("System error"),
    javax.crypto.AEADBadTagException("Tag mismatch"),
    javax.crypto.BadPaddingException("Bad padding"),
    java.security.NoSuchAlgorithmException("AES/GCM/NoPadding"),
    java.security.InvalidParameterException("Unsupported key size"),
)

fun registerAppRobustnessTests(suite: Suite) {
    suite.test("app: locking while codes tick stops the tickers first; a ticker the lock did not stop ends quietly") {
        withMainScope { scope ->
            val path = File(tempDir(), "vault.twofold").path
            TwofoldVault.create(path, pw(), FLOOR).first.apply { addFromUri(GITHUB_URI) }.close()
            val time = ManualTime(0)
            val settings = MemorySettings().apply { autoLockSeconds = 60 }
            val app = AppModel(path, trustFor(path), null, settings, scope, monotonicMs = { time.nowMs }, sleep = time::sleep)
            app.start().join()
            val vault = unlockApp(app)
            // The list as the app shows it, stopped by the lock, and one nobody stops: its
            // next tick finds the vault locked.
            val shown = CodesModel(vault, settings, RecordingClipboard(), { null }, scope)
            val stray = CodesModel(vault, settings, RecordingClipboard(), { null }, scope)
            var unlockedWhenStopped: Boolean? = null
            scope.onMain {
                app.beforeLock {
                    unlockedWhenStopped = vault.isUnlocked
                    shown.stop()
                }
            }
            val shownTicker = shown.start()
            val strayTicker = stray.start()
            shown.state.await("codes") { s -> s.rows.singleOrNull()?.code != null }
            stray.state.await("codes") { s -> s.rows.singleOrNull()?.code != null }

            scope.onMain { app.onBackground() }
            time.nextSleep("the lock timer").second.complete(Unit)
            app.route.await("locked by the timer") { it is Route.Locked }
            assertEquals(true, unlockedWhenStopped, "the tickers stop before the core forgets the key")
            check(shownTicker.isCancelled) { "the shown list's ticker was stopped" }
            withTimeout(10_000) { strayTicker.join() }
            check(!strayTicker.isCancelled) { "the stray ticker ended on its own at its next tick" }
            // withMainScope fails the test if Locked escaped either coroutine.
        }
    }

    suite.test("app: keystore exceptions of every kind fall back to the password and never escape a model") {
        withMainScope { scope ->
            for (failure in keystoreExceptions()) {
                val what = failure.javaClass.simpleName
                val path = File(tempDir(), "vault.twofold").path
                val keys = SoftwareBiometricKeys()
                TwofoldVault.create(path, pw(), FLOOR).first.apply { enrollBiometrics(keys, "bio") }.close()
                val settings = MemorySettings()
                val app = AppModel(path, trustFor(path), keys, settings, scope, monotonicMs = { 0 })
                app.start().join()
                val locked = (app.route.value as Route.Locked).vault
                val enrolled = keys.aliases().single()

                keys.unwrapFailure = failure
                val unlock = app.unlock(locked)
                unlock.load().join()
                check(unlock.state.value.biometricAvailable) { "$what: offered before the failure" }
                unlock.unlockWithBiometrics().join()
                check(app.route.value is Route.Locked) { "$what: not unlocked" }
                check(unlock.state.value.error?.contains("password") == true) { "$what: told to use the password: ${unlock.state.value.error}" }
                check(!unlock.state.value.biometricAvailable && settings.biometricNeedsReenroll) { "$what: marked for re-enrollment" }
                unlock.unlockWithPassword(PASSWORD.toCharArray()).join()
                val vault = (app.route.value as Route.Unlocked).vault

                val export = ExportModel(vault, Reauthentication(vault, keys), scope)
                export.authenticateWithBiometrics().join()
                check(!export.state.value.authenticated && export.state.value.error != null) { "$what: re-authentication refused with a message" }

                // Setting biometrics up again while the keystore refuses to make keys.
                keys.unwrapFailure = null
                keys.nextWrapFailure = failure
                val security = SettingsModel(vault, keys, settings, scope, Dispatchers.IO)
                security.enableBiometrics().join()
                check(security.state.value.message != null) { "$what: the failure is shown" }
                assertEquals(listOf(enrolled), vault.biometricSlots(keys).map { it.platformAlias }, "$what: the old slot stays")
                assertEquals(listOf(enrolled), keys.aliases(), "$what: the key made for the failed attempt was deleted")
                security.enableBiometrics().join()
                assertEquals("Biometric unlock is on", security.state.value.message, "$what: works once the keystore does")
                check(!settings.biometricNeedsReenroll) { "$what: flag cleared" }
                scope.onMain { app.lock() }
            }
        }
    }

    suite.test("app: cancelling while an add or an accept runs resets the screen; the next session works") {
        withMainScope { scope ->
            // Adding: cancel while the accounts of an import are being added.
            val (source, _) = newVault()
            val base32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
            for (i in 0 until 40) source.addFromUri("otpauth://totp/S$i:u?secret=JBSWY3DPEHPK3P${base32[i / 32]}${base32[i % 32]}&issuer=S$i")
            val file = source.exportAegis(null) { it.copyOf() }
            val (vault, _) = newVault()
            val enroll = EnrollModel(vault, scope, Dispatchers.IO)
            enroll.importFile(file).join()
            assertEquals(40, enroll.state.value.pending.size, "previewed")
            val adding = enroll.confirm()
            enroll.state.await("adding") { it.busy }
            scope.onMain { enroll.cancel() }.join()
            adding.join()
            assertEquals(EnrollModel.State(), enroll.state.value, "the screen is reset, not overwritten by the add that finished after")
            assertEquals(40, vault.entries().size, "the add already running finished")
            enroll.addUri(GITHUB_URI.toCharArray()).join()
            assertEquals(listOf("GitHub"), enroll.state.value.pending.map { it.issuer }, "the next session scans")
            enroll.removePending(0).join()
            assertEquals(0, enroll.state.value.pending.size, "and unticks")
            scope.onMain { enroll.close() }.join()
            enroll.addUri(GITHUB_URI.toCharArray()).join()
            assertEquals(0, enroll.state.value.pending.size, "a closed model does nothing (and touches nothing closed)")

            // Receiving: cancel while the accounts are being accepted.
            val (old, _) = newVault()
            for (i in 0 until 5) old.addFromUri("otpauth://totp/Svc$i:me?secret=${"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".substring(i, i + 16)}")
            val (new, _) = newVault()
            val receive = ReceiveModel(new, scope)
            receive.begin().join()
            val invite = receive.state.value.invite!!
            val send = SendModel(old, Reauthentication(old, null), scope, framesPerSecond = 200)
            send.authenticateWithPassword(PASSWORD.toCharArray()).join()
            scope.onMain { send.inviteScanned(invite) }
            send.send().join()
            var last: String? = null
            while (receive.state.value.confirmationCode == null) {
                val f = send.state.await("a new frame") { it.frame != null && it.frame != last }.frame!!
                last = f
                receive.frame(f).join()
            }
            val accepting = receive.accept()
            receive.state.await("accepting") { it.busy }
            scope.onMain { receive.cancel() }
            accepting.join()
            assertEquals(ReceiveModel.State(), receive.state.value, "the screen is reset")
            assertEquals(5, new.entries().size, "the accept already running finished")
            receive.begin().join()
            val again = receive.state.value.invite
            check(again != null && again != invite) { "a new session starts" }
            scope.onMain { send.finish() }.join()
            scope.onMain { receive.cancel() }.join()
        }
    }

    suite.test("app: a LAN wait that cannot be interrupted does not hold up the next transfer") {
        withMainScope { scope ->
            val (vault, _) = newVault()
            val port = java.net.ServerSocket(0).use { it.localPort }
            val receive = ReceiveModel(vault, scope, lanAddress = { "127.0.0.1:$port" })
            receive.begin().join()
            val first = receive.state.value.invite!!
            val waiting = receive.receiveLan(3_000)
            receive.state.await("waiting on the LAN") { it.busy }
            scope.onMain { receive.cancel() }
            receive.begin().join()
            val second = receive.state.value.invite
            check(second != null && second != first) { "a new invite" }
            check(waiting.isActive) { "it came while the old wait was still running" }
            waiting.join()
            assertEquals(second, receive.state.value.invite, "the old wait's end changes nothing on screen")
            check(receive.state.value.error == null) { "no error from the old session: ${receive.state.value.error}" }
        }
    }

    suite.test("app: a system picker the app opened pauses auto-lock, within a grace period") {
        withMainScope { scope ->
            val path = File(tempDir(), "vault.twofold").path
            TwofoldVault.create(path, pw(), FLOOR).first.close()
            val time = ManualTime(0)
            val settings = MemorySettings().apply { autoLockSeconds = 0 }
            val app = AppModel(path, trustFor(path), null, settings, scope, monotonicMs = { time.nowMs }, sleep = time::sleep)
            app.start().join()
            unlockApp(app)

            // "Lock immediately", and the export's "save as" dialog covers the app.
            scope.onMain {
                app.pickerOpened()
                app.onBackground()
            }
            check(app.route.value is Route.Unlocked) { "not locked by the app's own picker" }
            val (asked, _) = time.nextSleep("the grace timer")
            assertEquals(dev.twofold.core.autoLockPickerGraceSeconds() * 1000L, asked, "the picker's grace period")
            time.nowMs += 90_000
            scope.onMain {
                app.onForeground()
                app.pickerClosed()
            }
            check(app.route.value is Route.Unlocked) { "the answer reaches an unlocked vault" }
            scope.onMain { app.onBackground() }
            check(app.route.value is Route.Locked) { "without a picker, leaving locks at once" }

            unlockApp(app)
            settings.autoLockSeconds = 30
            scope.onMain {
                app.pickerOpened()
                app.onBackground()
            }
            time.nextSleep("the grace timer")
            time.nowMs += dev.twofold.core.autoLockPickerGraceSeconds() * 1000L + 1_000
            scope.onMain { app.onForeground() }
            check(app.route.value is Route.Locked) { "a picker left open past the grace period still locks" }
            scope.onMain { app.pickerClosed() }
        }
    }

    suite.test("app: biometric re-enrollment keeps the old key until the new slot is committed; a cancelled prompt changes nothing") {
        withMainScope { scope ->
            val path = File(tempDir(), "vault.twofold").path
            val keys = SoftwareBiometricKeys()
            TwofoldVault.create(path, pw(), FLOOR).first.apply {
                addFromUri(GITHUB_URI)
                enrollBiometrics(keys, "bio")
            }.close()
            val first = keys.aliases().single()
            val settings = MemorySettings()
            val app = AppModel(path, trustFor(path), keys, settings, scope, monotonicMs = { 0 })
            app.start().join()
            val vault = unlockApp(app)
            val security = SettingsModel(vault, keys, settings, scope, Dispatchers.IO)

            keys.nextWrapFailure = BiometricCancelled()
            security.enableBiometrics().join()
            assertEquals(null, security.state.value.message, "a dismissed prompt is no error")
            assertEquals(listOf(first), vault.biometricSlots(keys).map { it.platformAlias }, "the old slot stays")
            check(keys.held(first)) { "and its key" }
            assertEquals(listOf(first), keys.aliases(), "the key made for the cancelled attempt is gone")
            scope.onMain { app.lock() }
            val unlock = app.unlock(vault)
            unlock.load().join()
            unlock.unlockWithBiometrics().join()
            check(app.route.value is Route.Unlocked) { "biometric unlock still works after the cancelled re-enrollment" }

            val seenAtDelete = mutableMapOf<String, List<String?>>()
            keys.onDelete = { alias -> seenAtDelete[alias] = runBlocking { vault.slots() }.map { it.platformAlias } }
            security.enableBiometrics().join()
            assertEquals("Biometric unlock is on", security.state.value.message, "re-enrolled")
            val second = vault.biometricSlots(keys).single().platformAlias!!
            check(second != first) { "a new alias for the new enrollment" }
            val atDelete = seenAtDelete.getValue(first)
            check(second in atDelete && first !in atDelete) { "the old key was deleted only after the new slot replaced it: $atDelete" }
            assertEquals(listOf(second), keys.aliases(), "one key left")
            assertEquals(
                listOf("create $first", "create ${keys.events[1].removePrefix("create ")}", "delete ${keys.events[1].removePrefix("create ")}", "create $second", "delete $first"),
                keys.events,
                "keys made and deleted, in order",
            )
            scope.onMain { app.lock() }
            val again = app.unlock(vault)
            again.load().join()
            again.unlockWithBiometrics().join()
            check(app.route.value is Route.Unlocked) { "the new key unlocks" }
        }
    }

    suite.test("app: biometrics are offered only when this phone has a slot and can use biometrics now") {
        withMainScope { scope ->
            val path = File(tempDir(), "vault.twofold").path
            val keys = SoftwareBiometricKeys()
            TwofoldVault.create(path, pw(), FLOOR).first.close()
            val settings = MemorySettings()
            val app = AppModel(path, trustFor(path), keys, settings, scope, monotonicMs = { 0 })
            app.start().join()
            val vault = unlockApp(app)
            val export = ExportModel(vault, Reauthentication(vault, keys), scope)
            val send = SendModel(vault, Reauthentication(vault, keys), scope)
            val security = SettingsModel(vault, keys, settings, scope, Dispatchers.IO)
            suspend fun offered(): List<Boolean> {
                export.load().join()
                send.load().join()
                security.load().join()
                return listOf(export.state.value.biometricAvailable, send.state.value.biometricAvailable, security.state.value.biometricsEnabled)
            }
            assertEquals(listOf(false, false, false), offered(), "hardware but no slot: not offered")
            check(security.state.value.biometricsAvailable) { "settings offer to turn it on" }
            security.enableBiometrics().join()
            assertEquals(listOf(true, true, true), offered(), "a slot of this phone: offered")

            keys.usable = false // the user removed every fingerprint while the app ran
            assertEquals(listOf(false, false, true), offered(), "biometrics unusable now: not offered")
            check(security.state.value.biometricsAvailable) { "settings still show the switch, to turn it off" }
            scope.onMain { app.lock() }
            val unlock = app.unlock(vault)
            unlock.load().join()
            check(!unlock.state.value.biometricAvailable) { "the unlock screen asks the phone, not a flag from launch" }
            keys.usable = true
            unlock.load().join()
            check(unlock.state.value.biometricAvailable) { "and offers them again when they work" }

            // Another app's (or a PIN's) platform slot is not this phone's biometric slot.
            unlock.unlockWithPassword(PASSWORD.toCharArray()).join()
            security.disableBiometrics().join()
            vault.enrollPlatform(SoftwareKeystore("twofold-pin-device-key-1"), "PIN device key")
            assertEquals(listOf(false, false, false), offered(), "a slot of another keystore is not offered")
            assertThrowsSuspend<TwofoldException.NotFound> { Reauthentication(vault, keys).withBiometrics() }
        }
    }
}

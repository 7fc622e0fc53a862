import Foundation
import XCTest
@testable import TwofoldKit

private let github = "otpauth://totp/GitHub:alice@example.com?secret=JBSWY3DPEHPK3PXP&issuer=GitHub"
private let strong = "violet-anchor-tundra-93-orbit"
private let testPassword = "correct horse battery staple"

final class RecordingClipboard: Clipboard {
    var content: String?
    var expiry: TimeInterval?
    func copySensitive(_ text: String, expiresAfter seconds: TimeInterval) {
        content = text
        expiry = seconds
    }
}

/// A backup folder in memory (the core's `BackupFolder`); `damage` flips a byte of what is
/// read back (a bad provider).
final class MemoryFolder: BackupFolder, @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String: Data] = [:]
    var damage = false
    var files: [String: Data] {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
    func list() throws -> [String] { Array(files.keys) }
    func read(name: String) throws -> Data? {
        guard var back = files[name] else { return nil }
        if damage { back[back.count / 2] ^= 1 }
        return back
    }
    func write(name: String, bytes: Data) throws { files[name] = bytes }
    func delete(name: String) throws { files[name] = nil }
}

/// Waits (polling the main actor) until `condition` holds; fails after 20 s.
@MainActor
func eventually(_ what: String, _ condition: () -> Bool) async throws {
    for _ in 0..<4000 {
        if condition() { return }
        try await Task.sleep(nanoseconds: 5_000_000)
    }
    XCTFail("timed out waiting for \(what)")
}

/// The view models, driven as their screens drive them, against the real core.
@MainActor
final class ViewModelTests: XCTestCase {
    private func unlocked(_ app: AppModel) async throws -> TwofoldVault {
        guard case let .locked(vault) = app.route else { throw TwofoldError.Internal(details: "not locked") }
        await app.makeUnlock(vault).unlock(password: password())
        guard case let .unlocked(open) = app.route else { throw TwofoldError.Internal(details: "not unlocked") }
        return open
    }

    func testOnboardingChecksPasswordAndRecoveryKey() async throws {
        let app = AppModel(vaultPath: tempPath(), trust: MemoryTrust(), biometrics: nil, settings: MemorySettings(), monotonic: { 0 })
        await app.start()
        guard case .onboarding = app.route else { return XCTFail("no vault: onboarding") }
        let m = app.makeOnboarding(kdf: floorKdf)
        let weak = SecretBytes(utf8: "password1")
        await m.create(password: weak, confirmation: SecretBytes(utf8: "password1"))
        XCTAssertEqual(m.step, .choosePassword)
        XCTAssertNotNil(m.error, "a weak password is refused")
        XCTAssertTrue(weak.isWiped, "and wiped all the same")
        await m.create(password: SecretBytes(utf8: strong), confirmation: SecretBytes(utf8: strong + "!"))
        XCTAssertEqual(m.error, "The passwords do not match")
        await m.create(password: SecretBytes(utf8: strong), confirmation: SecretBytes(utf8: strong))
        guard case let .showRecoveryKey(key) = m.step else { return XCTFail("recovery key shown") }
        m.recoveryKeyWrittenDown()
        await m.confirmRecoveryKey("AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA")
        XCTAssertEqual(m.step, .confirmRecoveryKey)
        XCTAssertNotNil(m.error)
        await m.confirmRecoveryKey(key.lowercased())
        XCTAssertEqual(m.step, .done, "no biometrics: done after the check")
        guard case .unlocked = app.route else { return XCTFail("unlocked") }
    }

    func testAutoLockAfterDelayAndAfterFrozenApp() async throws {
        let path = tempPath()
        _ = try await TwofoldVault.create(path: path, password: password(), kdf: floorKdf)
        var now: TimeInterval = 0
        let settings = MemorySettings()
        settings.autoLockSeconds = 60
        let app = AppModel(vaultPath: path, trust: trustFor(path), biometrics: nil, settings: settings, monotonic: { now },
                           sleep: { _ in try await Task.sleep(nanoseconds: 3_600_000_000_000) })
        await app.start()
        guard case let .locked(vault) = app.route else { return XCTFail("locked") }
        await app.makeUnlock(vault).unlock(password: password("wrong"))
        guard case .locked = app.route else { return XCTFail("wrong password keeps it locked") }
        await app.makeUnlock(vault).unlock(password: password())
        guard case .unlocked = app.route else { return XCTFail("unlocked") }
        app.didEnterBackground()
        now += 10
        app.willEnterForeground()
        guard case .unlocked = app.route else { return XCTFail("back within the delay") }
        app.didEnterBackground()
        // The device slept for a minute: the clock AppModel is given must count that.
        now += 61
        app.willEnterForeground()
        guard case .locked = app.route else { return XCTFail("locked after the delay") }
        XCTAssertFalse(vault.isUnlocked)

        // The app's own picker (the core's rule, as on Android): "immediately" waits for it.
        settings.autoLockSeconds = 0
        await app.makeUnlock(vault).unlock(password: password())
        app.pickerOpened()
        app.didEnterBackground()
        guard case .unlocked = app.route else { return XCTFail("not locked by the app's own picker") }
        now += 90
        app.willEnterForeground()
        app.pickerClosed()
        guard case .unlocked = app.route else { return XCTFail("the picker's answer reaches an unlocked vault") }
        app.didEnterBackground()
        guard case .locked = app.route else { return XCTFail("without a picker, leaving locks at once") }
        await app.makeUnlock(vault).unlock(password: password())
        app.pickerOpened()
        app.didEnterBackground()
        now += TimeInterval(autoLockPickerGraceSeconds()) + 1
        app.willEnterForeground()
        guard case .locked = app.route else { return XCTFail("a picker left open past the grace still locks") }
    }

    func testTheDefaultAutoLockClockIsTheContinuousOne() async throws {
        // ContinuousClock keeps counting while the device sleeps (SuspendingClock and
        // systemUptime do not); the default must be monotonic and in seconds.
        let a = continuousClockSeconds()
        try await Task.sleep(nanoseconds: 20_000_000)
        let b = continuousClockSeconds()
        XCTAssertGreaterThan(b - a, 0.015)
        XCTAssertLessThan(b - a, 5)
    }

    func testCodesGroupedFavoritesSearchCopyAndHotp() async throws {
        let (vault, _) = try await newVault()
        try await vault.add(totp(rfcSha1, "Zeta"))
        try await vault.add(uri: "otpauth://hotp/Bank:carol?secret=\(rfcSha1)&counter=0&issuer=Bank")
        let clip = RecordingClipboard()
        let codes = CodesModel(vault: vault, settings: MemorySettings(), clipboard: clip, clock: { Date(timeIntervalSince1970: 59) })
        await codes.reload()
        let zeta = try XCTUnwrap(codes.rows.first { $0.issuer == "Zeta" })
        XCTAssertEqual(zeta.code, "9428 7082")
        let bank = try XCTUnwrap(codes.rows.first { $0.issuer == "Bank" })
        XCTAssertNil(bank.code, "HOTP shows no code until asked")
        await codes.toggleFavorite(bank.id)
        XCTAssertEqual(codes.rows.first?.issuer, "Bank", "favorite first")
        await codes.copy(zeta.id)
        XCTAssertEqual(clip.content, "94287082")
        XCTAssertEqual(clip.expiry, 30)
        await codes.nextHotp(bank.id)
        XCTAssertEqual(codes.rows.first { $0.id == bank.id }?.code, "755 224")
        await codes.search("zet")
        XCTAssertEqual(codes.rows.map(\.issuer), ["Zeta"])
    }

    func testLockingWhileCodesTickStopsTheTickerQuietly() async throws {
        let path = tempPath()
        let (created, _) = try await TwofoldVault.create(path: path, password: password(), kdf: floorKdf)
        try await created.add(uri: github)
        let settings = MemorySettings()
        let app = AppModel(vaultPath: path, trust: trustFor(path), biometrics: nil, settings: settings, monotonic: { 0 })
        await app.start()
        let vault = try await unlocked(app)
        let shown = CodesModel(vault: vault, settings: settings, clipboard: RecordingClipboard())
        let stray = CodesModel(vault: vault, settings: settings, clipboard: RecordingClipboard())
        var unlockedWhenStopped: Bool?
        app.beforeLock {
            unlockedWhenStopped = vault.isUnlocked
            shown.stop()
        }
        let shownRun = Task { await shown.run() }
        let strayRun = Task { await stray.run() }
        try await eventually("codes") { shown.rows.first?.code != nil && stray.rows.first?.code != nil }
        app.lock()
        XCTAssertEqual(unlockedWhenStopped, true, "the ticker stops before the core forgets the key")
        await shownRun.value
        await strayRun.value
        XCTAssertNil(shown.message, "the stopped list says nothing")
        XCTAssertNil(stray.message, "the list the lock did not stop ends quietly at its next tick")
    }

    func testBackupsVerifiedPrunedAndFailuresShown() async throws {
        let (vault, recovery) = try await newVault()
        try await vault.add(uri: github)
        let folder = MemoryFolder()
        folder.files["notes.txt"] = Data([1])
        var now = Date(timeIntervalSince1970: 1_700_000_000)
        let settings = MemorySettings()
        let m = BackupModel(vault: vault, settings: settings, folderFor: { _ in folder }, clock: { now })
        await m.chooseFolder(bookmark: Data([0]), name: "Backups")
        XCTAssertEqual(m.last?.name, "twofold-20231114-221320.twfb")
        for _ in 0..<11 {
            now += 60
            await m.backupNow()
        }
        XCTAssertEqual(folder.files.count, 11, "10 backups kept, other files untouched")
        folder.damage = true
        now += 60
        await m.backupNow()
        XCTAssertNotNil(m.lastError)
        let good = try XCTUnwrap(folder.files[try XCTUnwrap(m.last?.name)])
        m.pickBackupToVerify(good)
        await m.verify(recoveryKey: recovery)
        XCTAssertEqual(m.check?.entryCount, 1)
    }

    func testExportNeedsReauthentication() async throws {
        let (vault, _) = try await newVault()
        try await vault.add(uri: github)
        let m = ExportModel(vault: vault, reauth: Reauthentication(vault: vault, biometrics: nil))
        var saved = Data()
        let sink: (Data) async throws -> Data = { saved = $0; return $0 }
        await m.export(.otpauthList, write: sink)
        XCTAssertNotNil(m.error)
        XCTAssertTrue(saved.isEmpty)
        await m.authenticate(password: password())
        await m.export(.otpauthList, write: sink)
        XCTAssertTrue(String(decoding: saved, as: UTF8.self).hasPrefix("otpauth://"))
        let exportPassword = SecretBytes(utf8: "export pw")
        await m.export(.twofoldBackup, password: exportPassword, write: sink)
        XCTAssertNotNil(m.saved)
        XCTAssertTrue(exportPassword.isWiped)
        let check = try await vault.verifyBackupBytes(saved, password: SecretBytes(utf8: "export pw"))
        XCTAssertEqual(check.entryCount, 1)
        // The user dismissed the file exporter: not saved, and no error to show.
        await m.export(.otpauthList, write: { _ in throw CancellationError() })
        XCTAssertNil(m.saved)
        XCTAssertNil(m.error)
        // A save that does not read back the same is reported and not counted.
        await m.export(.aegisPlain, write: { $0.prefix($0.count - 1) })
        XCTAssertNil(m.saved)
        XCTAssertTrue(m.error?.contains("read back") == true, m.error ?? "")
        // The catalogue is the core's.
        let formats = m.formats()
        XCTAssertEqual(formats.map(\.format), [.twofoldBackup, .aegisEncrypted, .aegisPlain, .otpauthList, .cxf, .googleQr])
        XCTAssertTrue(formats.allSatisfy { $0.needsPassword != $0.plaintext })
        XCTAssertEqual(m.info(.otpauthList)?.mimeType, "text/plain")
        XCTAssertEqual(m.info(.googleQr)?.isFile, false)
    }

    func testCancelWhileAddingOrAcceptingResetsTheScreen() async throws {
        // Adding: cancel while the accounts of an import are being added.
        let (source, _) = try await newVault()
        let base32 = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        for i in 0..<40 {
            try await source.add(uri: "otpauth://totp/S\(i):u?secret=JBSWY3DPEHPK3P\(base32[i / 32])\(base32[i % 32])&issuer=S\(i)")
        }
        let file = try await source.exportAegis(password: nil) { $0 }
        let (vault, _) = try await newVault()
        let enroll = EnrollModel(vault: vault)
        await enroll.importFile(file)
        XCTAssertEqual(enroll.pending.count, 40)
        let adding = Task { await enroll.confirm() }
        try await eventually("adding") { enroll.busy }
        enroll.cancel()
        await adding.value
        XCTAssertNil(enroll.result, "the screen is reset, not overwritten by the add that finished after")
        XCTAssertTrue(enroll.pending.isEmpty)
        let entries = try await vault.entries()
        XCTAssertEqual(entries.count, 40, "the add already running finished")
        await enroll.add(uri: SecretBytes(utf8: github))
        XCTAssertEqual(enroll.pending.map(\.issuer), ["GitHub"], "the next session scans")

        // Receiving: cancel while the accounts are being accepted.
        let (old, _) = try await newVault()
        for i in 0..<4 {
            try await old.add(uri: "otpauth://totp/Svc\(i):me?secret=\(String(base32[i..<(i + 16)]))")
        }
        let (new, _) = try await newVault()
        let receive = ReceiveModel(vault: new)
        await receive.begin()
        let invite = try XCTUnwrap(receive.invite)
        let send = SendModel(vault: old, reauth: Reauthentication(vault: old, biometrics: nil), framesPerSecond: 200)
        await send.authenticate(password: password())
        send.inviteScanned(invite)
        await send.send()
        var last: String?
        try await eventually("all frames") {
            if let f = send.frame, f != last {
                last = f
                Task { await receive.frame(f) }
            }
            return receive.confirmationCode != nil
        }
        let accepting = Task { await receive.accept() }
        try await eventually("accepting") { receive.busy }
        receive.cancel()
        await accepting.value
        XCTAssertNil(receive.result, "the screen is reset")
        XCTAssertNil(receive.confirmationCode)
        let received = try await new.entries()
        XCTAssertEqual(received.count, 4, "the accept already running finished")
        await receive.begin()
        XCTAssertNotNil(receive.invite)
        XCTAssertNotEqual(receive.invite, invite, "a new session starts")
        send.finish()
        receive.cancel()
    }

    func testTransferBetweenTwoVaults() async throws {
        let (old, _) = try await newVault()
        for i in 0..<4 {
            let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
            try await old.add(uri: "otpauth://totp/Svc\(i):me?secret=\(String(alphabet[i..<(i + 16)]))")
        }
        let (new, _) = try await newVault()
        let receive = ReceiveModel(vault: new)
        await receive.begin()
        let send = SendModel(vault: old, reauth: Reauthentication(vault: old, biometrics: nil), framesPerSecond: 200)
        send.inviteScanned(try XCTUnwrap(receive.invite))
        await send.send()
        XCTAssertNil(send.confirmationCode, "nothing is sent before re-authentication")
        await send.authenticate(password: password())
        send.toggle(try XCTUnwrap(send.accounts.first?.id))
        await send.send()
        XCTAssertTrue(send.awaitingReply)
        XCTAssertNil(send.confirmationCode, "no code before the new device's reply")
        await receive.frame(github)
        XCTAssertNotNil(receive.error, "a stray QR is refused; scanning goes on")
        // The camera's job in the app: read each new frame the sender shows.
        var last: String?
        var polls = 0
        while receive.confirmationCode == nil {
            if let f = send.frame, f != last {
                last = f
                await receive.frame(f)
            }
            try await Task.sleep(nanoseconds: 2_000_000)
            polls += 1
            guard polls < 10_000 else { return XCTFail("never completed") }
        }
        await send.replyScanned(try XCTUnwrap(receive.reply))
        let code = try XCTUnwrap(send.confirmationCode)
        XCTAssertEqual(receive.confirmationCode, code, "both devices show the same code")
        XCTAssertEqual(receive.preview.count, 3)
        await receive.accept()
        XCTAssertEqual(receive.result?.addedIds.count, 3)
        send.finish()
        XCTAssertNil(send.frame)
    }

    #if canImport(CryptoKit)
    func testBiometricReenrollmentKeepsTheOldKeyUntilTheNewSlotIsCommitted() async throws {
        let path = tempPath()
        let keys = SoftwareBiometricKeys()
        let (created, _) = try await TwofoldVault.create(path: path, password: password(), kdf: floorKdf)
        try await created.add(uri: github)
        try await created.enrollBiometrics(keys, label: "Face ID")
        let first = try XCTUnwrap(try keys.aliases().first)
        let settings = MemorySettings()
        let app = AppModel(vaultPath: path, trust: trustFor(path), biometrics: keys, settings: settings, monotonic: { 0 })
        await app.start()
        let vault = try await unlocked(app)
        let security = SettingsModel(vault: vault, biometrics: keys, settings: settings)

        keys.nextWrapFailure = BiometricCancelled()
        await security.enableBiometrics()
        XCTAssertNil(security.message, "a dismissed prompt is no error")
        let afterCancel = try await vault.biometricSlots(keys).map(\.platformAlias)
        XCTAssertEqual(afterCancel, [first], "the old slot stays")
        XCTAssertTrue(keys.held(first), "and its key")
        XCTAssertEqual(try keys.aliases(), [first], "the key made for the cancelled attempt is gone")
        app.lock()
        let unlock = app.makeUnlock(vault)
        await unlock.load()
        await unlock.unlockWithBiometrics()
        guard case .unlocked = app.route else { return XCTFail("biometric unlock still works after the cancelled re-enrollment") }

        final class Seen: @unchecked Sendable { var slots: [String: [String?]] = [:] }
        let atDelete = Seen()
        keys.onDelete = { alias in
            // What the vault holds at the moment the key goes (read on another task; the
            // deletion runs off the main actor, so waiting here blocks nothing the read needs).
            let done = DispatchSemaphore(value: 0)
            Task.detached {
                atDelete.slots[alias] = ((try? await vault.slots()) ?? []).map(\.platformAlias)
                done.signal()
            }
            done.wait()
        }
        await security.enableBiometrics()
        XCTAssertEqual(security.message, "Biometric unlock is on")
        let current = try await vault.biometricSlots(keys)
        let second = try XCTUnwrap(current.first?.platformAlias)
        XCTAssertNotEqual(second, first, "a new alias for the new enrollment")
        let seen = try XCTUnwrap(atDelete.slots[first])
        XCTAssertTrue(seen.contains(second) && !seen.contains(first), "the old key was deleted only after the new slot replaced it: \(seen)")
        XCTAssertEqual(try keys.aliases(), [second], "one key left")
        app.lock()
        let again = app.makeUnlock(vault)
        await again.load()
        await again.unlockWithBiometrics()
        guard case .unlocked = app.route else { return XCTFail("the new key unlocks") }
    }

    func testKeystoreFailuresFallBackToThePassword() async throws {
        let path = tempPath()
        let keys = SoftwareBiometricKeys()
        let (created, _) = try await TwofoldVault.create(path: path, password: password(), kdf: floorKdf)
        try await created.enrollBiometrics(keys, label: "Face ID")
        let settings = MemorySettings()
        let app = AppModel(vaultPath: path, trust: trustFor(path), biometrics: keys, settings: settings, monotonic: { 0 })
        await app.start()
        guard case let .locked(vault) = app.route else { return XCTFail("locked") }
        keys.invalidateAll() // biometry changed
        let unlock = app.makeUnlock(vault)
        await unlock.load()
        XCTAssertTrue(unlock.biometricAvailable)
        await unlock.unlockWithBiometrics()
        guard case .locked = app.route else { return XCTFail("not unlocked") }
        XCTAssertTrue(unlock.error?.contains("password") == true)
        XCTAssertTrue(settings.biometricNeedsReenroll && !unlock.biometricAvailable, "marked for re-enrollment")
        await unlock.unlock(password: password())
        guard case .unlocked = app.route else { return XCTFail("the password works") }
        // A keystore that refuses with an error of its own (CryptoKit's, the Security framework's).
        keys.unwrapFailure = CocoaError(.coderInvalidValue)
        let export = ExportModel(vault: vault, reauth: Reauthentication(vault: vault, biometrics: keys))
        await export.authenticateWithBiometrics()
        XCTAssertFalse(export.authenticated)
        XCTAssertNotNil(export.error)
    }

    func testFaceIDAskedInTheBackgroundAsksAgainWhenActive() async throws {
        let path = tempPath()
        let keys = SoftwareBiometricKeys()
        let (created, _) = try await TwofoldVault.create(path: path, password: password(), kdf: floorKdf)
        try await created.enrollBiometrics(keys, label: "Face ID")
        let app = AppModel(vaultPath: path, trust: trustFor(path), biometrics: keys, settings: MemorySettings(), monotonic: { 0 })
        await app.start()
        guard case let .locked(vault) = app.route else { return XCTFail("locked") }
        let unlock = app.makeUnlock(vault)
        // The vault locked in the background and the unlock screen appeared there.
        await unlock.appeared(sceneActive: false)
        XCTAssertTrue(unlock.promptWhenActive, "no prompt in the background")
        guard case .locked = app.route else { return XCTFail("still locked") }
        // Or the prompt was refused with LAError.notInteractive: a cancel, not an error.
        keys.unwrapFailure = BiometricCancelled(notInteractive: true)
        await unlock.sceneBecameActive()
        XCTAssertNil(unlock.error)
        XCTAssertTrue(unlock.promptWhenActive, "asked again at the next activation")
        keys.unwrapFailure = nil
        await unlock.sceneBecameActive()
        guard case .unlocked = app.route else { return XCTFail("unlocked once the scene is active") }
    }

    func testBiometricsOfferedOnlyWithASlotOfThisDeviceAndUsableBiometrics() async throws {
        let path = tempPath()
        let keys = SoftwareBiometricKeys()
        _ = try await TwofoldVault.create(path: path, password: password(), kdf: floorKdf)
        let settings = MemorySettings()
        let app = AppModel(vaultPath: path, trust: trustFor(path), biometrics: keys, settings: settings, monotonic: { 0 })
        await app.start()
        let vault = try await unlocked(app)
        let export = ExportModel(vault: vault, reauth: Reauthentication(vault: vault, biometrics: keys))
        let send = SendModel(vault: vault, reauth: Reauthentication(vault: vault, biometrics: keys))
        let security = SettingsModel(vault: vault, biometrics: keys, settings: settings)
        func offered() async -> [Bool] {
            await export.load()
            await send.load()
            await security.load()
            return [export.biometricAvailable, send.biometricAvailable, security.biometricsEnabled]
        }
        var now = await offered()
        XCTAssertEqual(now, [false, false, false], "hardware but no slot: not offered")
        XCTAssertTrue(security.biometricsAvailable, "settings offer to turn it on")
        await security.enableBiometrics()
        now = await offered()
        XCTAssertEqual(now, [true, true, true], "a slot of this device: offered")
        keys.usable = false // Face ID turned off in the Settings app while Twofold ran
        now = await offered()
        XCTAssertEqual(now, [false, false, true], "biometrics unusable now: not offered")
        app.lock()
        let unlock = app.makeUnlock(vault)
        await unlock.load()
        XCTAssertFalse(unlock.biometricAvailable, "the unlock screen asks the device, not a flag from launch")
        keys.usable = true
        await unlock.load()
        XCTAssertTrue(unlock.biometricAvailable, "and offers them again when they work")
    }
    #endif
}

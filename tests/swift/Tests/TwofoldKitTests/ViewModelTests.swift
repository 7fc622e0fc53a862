import Foundation
import XCTest
@testable import TwofoldKit

private let github = "otpauth://totp/GitHub:alice@example.com?secret=JBSWY3DPEHPK3PXP&issuer=GitHub"
private let strong = "violet-anchor-tundra-93-orbit"

final class RecordingClipboard: Clipboard {
    var content: String?
    var expiry: TimeInterval?
    func copySensitive(_ text: String, expiresAfter seconds: TimeInterval) {
        content = text
        expiry = seconds
    }
}

final class MemoryFolder: BackupFolder, @unchecked Sendable {
    var files: [String: Data] = [:]
    var damage = false
    func writeAndReadBack(name: String, bytes: Data) async throws -> Data {
        files[name] = bytes
        var back = bytes
        if damage { back[back.count / 2] ^= 1 }
        return back
    }
    func list() async throws -> [String] { Array(files.keys) }
    func delete(name: String) async throws { files[name] = nil }
}

/// The view models, driven as their screens drive them, against the real core.
@MainActor
final class ViewModelTests: XCTestCase {
    func testOnboardingChecksPasswordAndRecoveryKey() async throws {
        let app = AppModel(vaultPath: tempPath(), trust: MemoryTrust(), keystore: nil, settings: MemorySettings(), uptime: { 0 })
        await app.start()
        guard case .onboarding = app.route else { return XCTFail("no vault: onboarding") }
        let m = app.makeOnboarding(kdf: floorKdf)
        await m.create(password: "password1", confirmation: "password1")
        XCTAssertEqual(m.step, .choosePassword)
        XCTAssertNotNil(m.error, "a weak password is refused")
        await m.create(password: strong, confirmation: strong + "!")
        XCTAssertEqual(m.error, "The passwords do not match")
        await m.create(password: strong, confirmation: strong)
        guard case let .showRecoveryKey(key) = m.step else { return XCTFail("recovery key shown") }
        m.recoveryKeyWrittenDown()
        await m.confirmRecoveryKey("AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA")
        XCTAssertEqual(m.step, .confirmRecoveryKey)
        XCTAssertNotNil(m.error)
        await m.confirmRecoveryKey(key.lowercased())
        XCTAssertEqual(m.step, .done, "no keystore: done after the check")
        guard case .unlocked = app.route else { return XCTFail("unlocked") }
    }

    func testAutoLockAfterDelayAndAfterFrozenApp() async throws {
        let path = tempPath()
        var pw = password()
        _ = try await TwofoldVault.create(path: path, password: &pw, kdf: floorKdf)
        var now: TimeInterval = 0
        let settings = MemorySettings()
        settings.autoLockSeconds = 60
        let app = AppModel(vaultPath: path, trust: trustFor(path), keystore: nil, settings: settings, uptime: { now }, sleep: { _ in try await Task.sleep(nanoseconds: 3_600_000_000_000) })
        await app.start()
        guard case let .locked(vault) = app.route else { return XCTFail("locked") }
        await app.makeUnlock(vault).unlock(password: "wrong")
        guard case .locked = app.route else { return XCTFail("wrong password keeps it locked") }
        await app.makeUnlock(vault).unlock(password: "correct horse battery staple")
        guard case .unlocked = app.route else { return XCTFail("unlocked") }
        app.didEnterBackground()
        now += 10
        app.willEnterForeground()
        guard case .unlocked = app.route else { return XCTFail("back within the delay") }
        app.didEnterBackground()
        now += 61
        app.willEnterForeground()
        guard case .locked = app.route else { return XCTFail("locked after the delay") }
        XCTAssertFalse(vault.isUnlocked)
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
        let m = ExportModel(vault: vault, reauth: Reauthentication(vault: vault, keystore: nil))
        var saved = Data()
        let sink: (Data) async throws -> Data = { saved = $0; return $0 }
        await m.export(.otpauthList, write: sink)
        XCTAssertNotNil(m.error)
        XCTAssertTrue(saved.isEmpty)
        await m.authenticate(password: "correct horse battery staple")
        await m.export(.otpauthList, write: sink)
        XCTAssertTrue(String(decoding: saved, as: UTF8.self).hasPrefix("otpauth://"))
        await m.export(.twofoldBackup, password: "export pw", write: sink)
        XCTAssertNotNil(m.saved)
        var pw = Data("export pw".utf8)
        let check = try await vault.verifyBackupBytes(saved, password: &pw)
        XCTAssertEqual(check.entryCount, 1)
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
        let send = SendModel(vault: old, reauth: Reauthentication(vault: old, keystore: nil), framesPerSecond: 200)
        send.inviteScanned(try XCTUnwrap(receive.invite))
        await send.send()
        XCTAssertNil(send.confirmationCode, "nothing is sent before re-authentication")
        await send.authenticate(password: "correct horse battery staple")
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
}

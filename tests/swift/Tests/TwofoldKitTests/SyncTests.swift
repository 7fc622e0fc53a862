import Foundation
import XCTest
@testable import TwofoldKit
import TwofoldFFI

/// The group's folder in memory (the app uses `FolderSyncStorage` over a security-scoped folder).
final class MemorySyncStorage: SyncStorage, @unchecked Sendable {
    private let lock = NSLock()
    private var files: [String: Data] = [:]
    func list() throws -> [SyncFile] { lock.withLock { files.map { SyncFile(name: $0.key, size: UInt64($0.value.count)) } } }
    func read(name: String) throws -> Data? { lock.withLock { files[name] } }
    func write(name: String, bytes: Data) throws { lock.withLock { files[name] = bytes } }
    func delete(name: String) throws { lock.withLock { _ = files.removeValue(forKey: name) } }
}

final class SyncTests: XCTestCase {
    private func vault() async throws -> TwofoldVault {
        var pw = password()
        return try await TwofoldVault.create(path: tempPath(), password: &pw, kdf: floorKdf).vault
    }

    func testTwoVaultsJoinAndExchangeEdits() async throws {
        let storage = MemorySyncStorage()
        let phone = try await vault()
        let pad = try await vault()
        let a = TwofoldSync(vault: phone, storage: storage)
        let b = TwofoldSync(vault: pad, storage: storage)
        do {
            _ = try await a.syncNow()
            XCTFail("not set up")
        } catch TwofoldError.SyncNotSetUp {}
        var uri = Data("otpauth://totp/GitHub:alice?secret=JBSWY3DPEHPK3PXP&issuer=GitHub".utf8)
        _ = try await phone.add(uri: &uri)
        _ = try await a.setUpInAppFolder(label: "iCloud Drive/Twofold", deviceName: "phone")
        let joining = try await JoiningDevice.start(deviceName: "iPad")
        let invite = try await a.inviteDevice(inviteText: try await joining.inviteText(), shareCredentials: false)
        XCTAssertEqual(invite.deviceName, "iPad")
        var n: UInt64 = 0
        while try await joining.replyText() == nil {
            _ = try await joining.receiveFrame(invite.frame(n))
            n += 1
            XCTAssertLessThan(n, 100)
        }
        let code = try await invite.acceptReply(try await joining.replyText()!)
        let joinCode = try await joining.confirmationCode()
        XCTAssertEqual(code, joinCode)
        try await invite.confirm()
        _ = try await joining.accept(into: pad, appFolderLabel: "iCloud Drive/Twofold")
        _ = try await a.syncNow()
        let got = try await b.syncNow()
        XCTAssertTrue(got.changes.contains { $0.kind == "added" })
        let padEntries = try await pad.entries()
        XCTAssertEqual(padEntries.count, 1)
        let devices = try await a.devices()
        XCTAssertEqual(devices.map(\.name), ["phone", "iPad"])
        _ = try await a.revoke("iPad")
        _ = try await a.syncNow()
        do {
            _ = try await b.syncNow()
            XCTFail("revoked")
        } catch TwofoldError.SyncRevoked {}
    }

    func testWebDavOverPlainHttpToAnotherHostIsRefusedAndThePasswordWiped() async throws {
        let sync = TwofoldSync(vault: try await vault(), storage: nil)
        var pw: Data? = Data("app password".utf8)
        do {
            _ = try await sync.setUpWebDav(url: "http://cloud.example/dav", user: "alice", password: &pw, deviceName: "phone")
            XCTFail("refused")
        } catch TwofoldError.SyncRefused {}
        XCTAssertNil(pw)
    }

    @MainActor
    func testModelSyncsAfterALocalChange() async throws {
        let storage = MemorySyncStorage()
        let phone = try await vault()
        let settings = MemorySyncSettings()
        let model = SyncModel(vault: phone, settings: settings, folderFor: { _ in storage }, debounce: 0)
        await model.setUp(folderBookmark: Data([1]), folderName: "Twofold", deviceName: "phone")
        XCTAssertTrue(model.setUp)
        XCTAssertNil(model.error)
        var uri = Data("otpauth://totp/Bank:bob?secret=GEZDGNBVGY3TQOJQ&issuer=Bank".utf8)
        _ = try await phone.add(uri: &uri)
        model.localChange()
        for _ in 0..<500 where model.last?.localChanges != 1 { try await Task.sleep(nanoseconds: 10_000_000) }
        XCTAssertEqual(model.last?.localChanges, 1)
    }

    #if canImport(Darwin)
    func testFolderSyncStorageWritesOnceAndListsWhatItWrote() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let folder = FolderSyncStorage(url: dir)
        try folder.write(name: "d-0123456789abcdef-1.twfs", bytes: Data([1, 2, 3]))
        XCTAssertThrowsError(try folder.write(name: "d-0123456789abcdef-1.twfs", bytes: Data([4])))
        XCTAssertEqual(try folder.read(name: "d-0123456789abcdef-1.twfs"), Data([1, 2, 3]))
        XCTAssertEqual(try folder.list().map(\.name), ["d-0123456789abcdef-1.twfs"])
        XCTAssertNil(try folder.read(name: "missing"))
        try folder.delete(name: "d-0123456789abcdef-1.twfs")
        try folder.delete(name: "d-0123456789abcdef-1.twfs")
        XCTAssertTrue(try folder.list().isEmpty)
    }
    #endif
}

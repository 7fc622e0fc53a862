import Foundation
import XCTest
#if canImport(CryptoKit)
import CryptoKit
#endif
@testable import TwofoldKit

let floorKdf = KdfSettings(memoryKib: 19456, passes: 2, parallelism: 1)
let rfcSha1 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
let rfcSha256 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA"

func tempPath(_ name: String = "vault.twofold") -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.appendingPathComponent(name).path
}

func password(_ text: String = "correct horse battery staple") -> Data { Data(text.utf8) }

func totp(_ secret: String, _ issuer: String, _ algorithm: HashAlgorithm = .sha1, digits: UInt8 = 8) -> EntryInput {
    EntryInput(
        params: OtpParams(otpType: .totp, algorithm: algorithm, digits: digits, period: 30, counter: 0),
        secret: Data(secret.utf8), issuer: issuer, account: "rfc6238", note: "", groupIds: [], favorite: false, icon: nil
    )
}

/// A device's trust record kept in memory (the app keeps it in the Keychain).
final class MemoryTrust: TrustStore, @unchecked Sendable {
    private let lock = NSLock()
    private var record: Data?
    func load() throws -> Data? { lock.withLock { record } }
    func store(record: Data) throws { lock.withLock { self.record = record } }
}

private let trustLock = NSLock()
nonisolated(unsafe) private var trustByPath: [String: MemoryTrust] = [:]

/// One device's trust record per vault path, for the whole test run.
func trustFor(_ path: String) -> MemoryTrust {
    trustLock.withLock {
        if let t = trustByPath[path] { return t }
        let t = MemoryTrust()
        trustByPath[path] = t
        return t
    }
}

/// Tests open and create vaults on "this device": the trust record of the path.
extension TwofoldVault {
    static func open(path: String) async throws -> TwofoldVault {
        try await open(path: path, trust: trustFor(path))
    }

    static func create(path: String, password: inout Data, kdf: KdfSettings) async throws
        -> (vault: TwofoldVault, recoveryKey: String)
    {
        try await create(path: path, password: &password, trust: trustFor(path), kdf: kdf)
    }
}

/// Tests write accounts and URIs as literals; the facade takes bytes and wipes them.
extension TwofoldVault {
    @discardableResult
    func add(_ input: EntryInput, allowDuplicate: Bool = false) async throws -> EntryView {
        var copy = input
        return try await add(&copy, allowDuplicate: allowDuplicate)
    }

    @discardableResult
    func add(uri: String, allowDuplicate: Bool = false) async throws -> EntryView {
        var bytes = Data(uri.utf8)
        return try await add(uri: &bytes, allowDuplicate: allowDuplicate)
    }

    static func previewUri(_ uri: String) throws -> UriPreview {
        var bytes = Data(uri.utf8)
        return try previewUri(&bytes)
    }
}

/// A new vault at a fresh path, unlocked, with its recovery key.
func newVault() async throws -> (TwofoldVault, String) {
    var pw = password()
    let (vault, key) = try await TwofoldVault.create(path: tempPath(), password: &pw, kdf: floorKdf)
    return (vault, key)
}

#if canImport(CryptoKit)
/// Test stand-in for the Secure Enclave: a CryptoKit AES-GCM key wraps the slot key.
final class SoftwareKeystore: PlatformKeystore, @unchecked Sendable {
    let alias: String
    var key: SymmetricKey? = SymmetricKey(size: .bits256)
    init(alias: String) { self.alias = alias }
    func wrap(_ key: Data) async throws -> Data {
        guard let k = self.key else { throw VaultFailure.platformKeyInvalidated }
        return try AES.GCM.seal(key, using: k).combined!
    }
    func unwrap(_ blob: Data) async throws -> Data {
        guard let k = self.key else { throw VaultFailure.platformKeyInvalidated }
        return try AES.GCM.open(AES.GCM.SealedBox(combined: blob), using: k)
    }
}
#endif

final class TwofoldVaultTests: XCTestCase {
    func testCreateLockUnlockAndWipe() async throws {
        let path = tempPath()
        var pw = password()
        let (vault, recovery) = try await TwofoldVault.create(path: path, password: &pw, kdf: floorKdf)
        XCTAssertTrue(pw.allSatisfy { $0 == 0 }, "password wiped")
        XCTAssertNotNil(recovery.range(of: #"^([A-Z2-7]{4}-){6}[A-Z2-7]{4}$"#, options: .regularExpression))
        try await vault.add(uri: "otpauth://totp/GitHub:alice?secret=JBSWY3DPEHPK3PXP&issuer=GitHub")
        vault.lock()
        do {
            _ = try await vault.entries()
            XCTFail("locked")
        } catch let failure as VaultFailure {
            XCTAssertEqual(failure, .locked)
        }
        let reopened = try await TwofoldVault.open(path: path)
        var again = password()
        try await reopened.unlock(password: &again)
        let issuers = try await reopened.entries().map(\.issuer)
        XCTAssertEqual(issuers, ["GitHub"])
        reopened.lock()
        try await reopened.unlock(recoveryKey: recovery.lowercased())
        let afterRecovery = try await reopened.entries()
        XCTAssertEqual(afterRecovery.count, 1)
    }

    func testWrongPasswordAndBadUriAreTyped() async throws {
        let path = tempPath()
        var pw = password()
        _ = try await TwofoldVault.create(path: path, password: &pw, kdf: floorKdf)
        let reopened = try await TwofoldVault.open(path: path)
        var wrong = password("nope")
        do {
            try await reopened.unlock(password: &wrong)
            XCTFail("opened with a wrong password")
        } catch let failure as VaultFailure {
            XCTAssertEqual(failure, .wrongCredential)
        }
        XCTAssertThrowsError(try TwofoldVault.previewUri("otpauth://totp/x?secret=JBSW1")) { error in
            guard case let .invalidInput(reason) = error as? VaultFailure else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("character 5"), reason)
        }
    }

    func testSecretInputsAndExportsAreWipedByTheFacade() async throws {
        let (vault, _) = try await newVault()
        var input = totp(rfcSha1, "Wipe")
        try await vault.add(&input)
        XCTAssertTrue(input.secret.allSatisfy { $0 == 0 }, "EntryInput.secret wiped")
        var uri = Data("otpauth://totp/U:u?secret=\(rfcSha256)".utf8)
        try await vault.add(uri: &uri)
        XCTAssertTrue(uri.allSatisfy { $0 == 0 }, "URI bytes wiped")
        let text = try await vault.exportOtpauthList { String(decoding: $0, as: UTF8.self) }
        XCTAssertTrue(text.contains(rfcSha1))
    }

    func testCodesMatchRfc6238() async throws {
        var pw = password()
        let (vault, _) = try await TwofoldVault.create(path: tempPath(), password: &pw, kdf: floorKdf)
        let sha1 = try await vault.add(totp(rfcSha1, "SHA1"))
        let sha256 = try await vault.add(totp(rfcSha256, "SHA256", .sha256))
        for (t, expected) in [(59.0, ["94287082", "46119246"]), (1111111109.0, ["07081804", "68084774"]),
                              (2000000000.0, ["69279037", "90698825"])] {
            let codes = try await vault.codes(at: Date(timeIntervalSince1970: t))
            XCTAssertEqual(codes.first { $0.entryId == sha1.id }?.code, expected[0])
            XCTAssertEqual(codes.first { $0.entryId == sha256.id }?.code, expected[1])
        }
        XCTAssertEqual(displayCode(code: "94287082"), "9428 7082")
    }

    func testHotpOnlyThroughNextHotp() async throws {
        var pw = password()
        let (vault, _) = try await TwofoldVault.create(path: tempPath(), password: &pw, kdf: floorKdf)
        let h = try await vault.add(uri: "otpauth://hotp/RFC:h?secret=\(rfcSha1)&counter=0")
        let before = try await vault.codes(at: Date())
        XCTAssertNil(before.first?.code)
        for expected in ["755224", "287082", "359152"] {
            let code = try await vault.nextHotp(h.id)
            XCTAssertEqual(code, expected)
        }
    }

    func testBackupCreateAndVerify() async throws {
        let path = tempPath()
        var pw = password()
        let (vault, recovery) = try await TwofoldVault.create(path: path, password: &pw, kdf: floorKdf)
        try await vault.add(uri: "otpauth://totp/A:a?secret=\(rfcSha1)")
        let file = (path as NSString).deletingLastPathComponent + "/backup.twfb"
        var backupPassword: Data? = password("backup pass")
        let result = try await vault.createBackup(path: file, password: &backupPassword)
        XCTAssertEqual(result.entryCount, 1)
        var check = password("backup pass")
        let byPassword = try await vault.verifyBackup(path: file, password: &check)
        XCTAssertEqual(byPassword.entryCount, 1)
        let byRecoveryKey = try await vault.verifyBackup(path: file, recoveryKey: recovery)
        XCTAssertEqual(byRecoveryKey.entryCount, 1)
    }

    func testManyTasksAtOnce() async throws {
        var pw = password()
        let (vault, _) = try await TwofoldVault.create(path: tempPath(), password: &pw, kdf: floorKdf)
        let h = try await vault.add(uri: "otpauth://hotp/Shared:h?secret=\(rfcSha1)&counter=0")
        let codes = try await withThrowingTaskGroup(of: String.self) { group in
            for i in 0..<32 {
                group.addTask {
                    try await vault.add(totp(rfcSha1, "worker \(i)"), allowDuplicate: true)
                    _ = try await vault.codes(at: Date())
                    return try await vault.nextHotp(h.id)
                }
            }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        XCTAssertEqual(Set(codes).count, 32, "every HOTP code handed out once")
        let entries = try await vault.entries()
        XCTAssertEqual(entries.count, 33)
    }

    func testCodeStreamEmitsAtThePeriodBoundary() async throws {
        var pw = password()
        let (vault, _) = try await TwofoldVault.create(path: tempPath(), password: &pw, kdf: floorKdf)
        try await vault.add(totp(rfcSha1, "SHA1", digits: 6))
        let now = Date().timeIntervalSince1970
        let shift = 30 - now.truncatingRemainder(dividingBy: 30) - 0.4
        var iterator = vault.codes(clock: { Date().addingTimeInterval(shift) }).makeAsyncIterator()
        let first = try await iterator.next()![0]
        XCTAssertLessThanOrEqual(first.remainingMs, 400)
        var changed: CodeView?
        while changed == nil, let batch = try await iterator.next() {
            if batch[0].code != first.code { changed = batch[0] }
        }
        XCTAssertEqual(changed?.code, first.nextCode)
        XCTAssertGreaterThan(changed?.remainingMs ?? 0, 29_000)
    }

    func testPlatformKeyPullFlow() async throws {
        #if canImport(CryptoKit)
        let path = tempPath()
        var pw = password()
        let (vault, _) = try await TwofoldVault.create(path: path, password: &pw, kdf: floorKdf)
        let keystore = SoftwareKeystore(alias: "twofold.biometric")
        let slotId = try await vault.enrollPlatform(keystore, label: "Face ID")
        vault.lock()
        let reopened = try await TwofoldVault.open(path: path)
        try await reopened.unlock(with: keystore)
        XCTAssertTrue(reopened.isUnlocked)
        reopened.lock()
        keystore.key = nil
        do {
            try await reopened.unlock(with: keystore)
            XCTFail("unlocked without the keystore key")
        } catch let failure as VaultFailure {
            XCTAssertEqual(failure, .platformKeyInvalidated)
        }
        var again = password()
        try await reopened.unlock(password: &again)
        try await reopened.removeSlot(slotId)
        #else
        throw XCTSkip("CryptoKit is not available on this platform")
        #endif
    }
}

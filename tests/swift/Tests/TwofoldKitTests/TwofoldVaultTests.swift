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

/// The test password as the facade takes it: bytes in a buffer the facade wipes.
func password(_ text: String = "correct horse battery staple") -> SecretBytes { SecretBytes(utf8: text) }

func totp(_ secret: String, _ issuer: String, _ algorithm: HashAlgorithm = .sha1, digits: UInt8 = 8) -> (EntryInput, SecretBytes) {
    let input = EntryInput(
        params: OtpParams(otpType: .totp, algorithm: algorithm, digits: digits, period: 30, counter: 0),
        secret: Data(), issuer: issuer, account: "rfc6238", note: "", groupIds: [], favorite: false, icon: nil
    )
    return (input, SecretBytes(utf8: secret))
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

    static func create(path: String, password: SecretBytes, kdf: KdfSettings) async throws
        -> (vault: TwofoldVault, recoveryKey: String)
    {
        try await create(path: path, password: password, trust: trustFor(path), kdf: kdf)
    }
}

/// Tests write accounts and URIs as literals; the facade takes bytes and wipes them.
extension TwofoldVault {
    @discardableResult
    func add(_ account: (EntryInput, SecretBytes), allowDuplicate: Bool = false) async throws -> EntryView {
        try await add(account.0, secret: account.1, allowDuplicate: allowDuplicate)
    }

    @discardableResult
    func add(uri: String, allowDuplicate: Bool = false) async throws -> EntryView {
        try await add(uri: SecretBytes(utf8: uri), allowDuplicate: allowDuplicate)
    }

    static func previewUri(_ uri: String) throws -> UriPreview {
        try previewUri(SecretBytes(utf8: uri))
    }
}

/// A new vault at a fresh path, unlocked, with its recovery key.
func newVault() async throws -> (TwofoldVault, String) {
    let (vault, key) = try await TwofoldVault.create(path: tempPath(), password: password(), kdf: floorKdf)
    return (vault, key)
}

#if canImport(CryptoKit)
/// Test stand-in for the Secure Enclave: a CryptoKit AES-GCM key wraps the slot key. `failure`,
/// when set, is thrown by wrap and unwrap as a platform keystore would throw it.
final class SoftwareKeystore: PlatformKeystore, @unchecked Sendable {
    let alias: String
    var key: SymmetricKey? = SymmetricKey(size: .bits256)
    var failure: Error?
    init(alias: String) { self.alias = alias }
    func wrap(_ key: SecretBytes) async throws -> Data {
        if let failure { throw failure }
        guard let k = self.key else { throw TwofoldError.PlatformKeyInvalidated }
        return try key.withUnsafeBytes { try AES.GCM.seal($0, using: k).combined! }
    }
    func unwrap(_ blob: Data) async throws -> SecretBytes {
        if let failure { throw failure }
        guard let k = self.key else { throw TwofoldError.PlatformKeyInvalidated }
        var opened = try AES.GCM.open(AES.GCM.SealedBox(combined: blob), using: k)
        return SecretBytes(taking: &opened)
    }
}

/// The app's biometric keys as the Secure Enclave keeps them — one key per enrollment, named
/// by its slot — with CryptoKit keys. `events` records every key made and deleted, in order.
final class SoftwareBiometricKeys: BiometricKeys, @unchecked Sendable {
    private var keys: [String: SoftwareKeystore] = [:]
    private var order: [String] = []
    private var next = 0
    var usable = true
    var events: [String] = []
    var onDelete: (String) -> Void = { _ in }
    /// Thrown by the next fresh key's wrap, after the key was made (a dismissed prompt).
    var nextWrapFailure: Error?
    /// Thrown by every unwrap.
    var unwrapFailure: Error? {
        didSet { keys.values.forEach { $0.failure = unwrapFailure } }
    }

    func available() -> Bool { usable }
    func owns(_ alias: String) -> Bool { alias.hasPrefix("dev.twofold.biometric-slot") }
    func keystore(for alias: String) -> PlatformKeystore {
        if let k = keys[alias] { return k }
        let gone = SoftwareKeystore(alias: alias)
        gone.key = nil
        return gone
    }
    func fresh() -> PlatformKeystore {
        let alias = "dev.twofold.biometric-slot.\(next)"
        next += 1
        return FreshKey(alias: alias, keys: self)
    }
    func aliases() throws -> [String] { order.filter { keys[$0] != nil } }
    func delete(_ alias: String) throws {
        onDelete(alias)
        events.append("delete \(alias)")
        keys[alias] = nil
    }
    func held(_ alias: String) -> Bool { keys[alias]?.key != nil }
    func invalidateAll() { keys.values.forEach { $0.key = nil } }

    fileprivate func made(_ alias: String) -> SoftwareKeystore {
        let k = SoftwareKeystore(alias: alias)
        keys[alias] = k
        order.append(alias)
        events.append("create \(alias)")
        return k
    }

    private final class FreshKey: PlatformKeystore, @unchecked Sendable {
        let alias: String
        let keys: SoftwareBiometricKeys
        init(alias: String, keys: SoftwareBiometricKeys) {
            self.alias = alias
            self.keys = keys
        }
        func wrap(_ key: SecretBytes) async throws -> Data {
            let made = keys.made(alias)
            if let failure = keys.nextWrapFailure {
                keys.nextWrapFailure = nil
                throw failure
            }
            let blob = try await made.wrap(key)
            made.failure = keys.unwrapFailure
            return blob
        }
        func unwrap(_ blob: Data) async throws -> SecretBytes { try await keys.keystore(for: alias).unwrap(blob) }
    }
}
#endif

final class TwofoldVaultTests: XCTestCase {
    func testCreateLockUnlockAndWipe() async throws {
        let path = tempPath()
        let pw = password()
        let (vault, recovery) = try await TwofoldVault.create(path: path, password: pw, kdf: floorKdf)
        XCTAssertTrue(pw.isWiped, "password wiped")
        XCTAssertNotNil(recovery.range(of: #"^([A-Z2-7]{4}-){6}[A-Z2-7]{4}$"#, options: .regularExpression))
        try await vault.add(uri: "otpauth://totp/GitHub:alice?secret=JBSWY3DPEHPK3PXP&issuer=GitHub")
        vault.lock()
        do {
            _ = try await vault.entries()
            XCTFail("locked")
        } catch let failure as TwofoldError {
            XCTAssertEqual(failure, .Locked)
        }
        let reopened = try await TwofoldVault.open(path: path)
        try await reopened.unlock(password: password())
        let issuers = try await reopened.entries().map(\.issuer)
        XCTAssertEqual(issuers, ["GitHub"])
        reopened.lock()
        try await reopened.unlock(recoveryKey: recovery.lowercased())
        let afterRecovery = try await reopened.entries()
        XCTAssertEqual(afterRecovery.count, 1)
    }

    /// The bindings lower a `Data` argument by reading its bytes (FfiConverterData.write in
    /// TwofoldFFI.swift). The buffer they read must be the buffer that is wiped — not a
    /// copy-on-write copy, which is what `let bytes = password; password.wipe()` zeroed.
    func testTheBufferHandedToTheCoreIsTheOneWiped() async throws {
        let path = tempPath()
        let long = "a passphrase longer than Data keeps inline"
        let pw = password(long)
        let (vault, _) = try await TwofoldVault.create(path: path, password: pw, kdf: floorKdf)
        XCTAssertEqual(pw.handedOverAddress, pw.bufferAddress, "the Data given to the bindings reads this very buffer")
        XCTAssertTrue(pw.isWiped, "and that buffer is zero after the call")
        vault.lock()
        // The core got the bytes before they were wiped: the same password opens the vault.
        let again = password(long)
        try await vault.unlock(password: again)
        XCTAssertEqual(again.handedOverAddress, again.bufferAddress)
        XCTAssertTrue(again.isWiped)
        // A failed call wipes too.
        let wrong = password("not the password of this vault at all")
        vault.lock()
        do {
            try await vault.unlock(password: wrong)
            XCTFail("opened with a wrong password")
        } catch let failure as TwofoldError {
            XCTAssertEqual(failure, .WrongCredential)
        }
        XCTAssertTrue(wrong.isWiped, "wiped after a refused call")
        // Handed over once: a second use is refused rather than sending zeros.
        do {
            try await vault.unlock(password: again)
            XCTFail("a wiped secret was used again")
        } catch let failure as TwofoldError {
            guard case .Internal = failure else { return XCTFail("\(failure)") }
        }
    }

    func testSecretBytesTakeSlicesAndShortSecretsWithoutTrapping() throws {
        // `resetBytes(in: 0..<count)` traps on a slice (its indices do not start at 0).
        let whole = Data("xxxx246810yyyy-and-more-than-fourteen".utf8)
        var slice = whole[4..<10]
        let pin = SecretBytes(taking: &slice)
        XCTAssertEqual(pin.count, 6)
        XCTAssertTrue(slice.allSatisfy { $0 == 0 }, "the slice reads zeros (and wiping it did not trap)")
        XCTAssertTrue(pin.matches(SecretBytes(utf8: "246810")))
        XCTAssertFalse(pin.matches(SecretBytes(utf8: "246811")))
        let seen = try pin.handOver { String(decoding: $0, as: UTF8.self) }
        XCTAssertEqual(seen, "246810", "a short secret reaches the call whole")
        XCTAssertTrue(pin.isWiped)
        var empty = Data()
        XCTAssertEqual(SecretBytes(taking: &empty).count, 0)
    }

    func testWrongPasswordAndBadUriAreTyped() async throws {
        let path = tempPath()
        _ = try await TwofoldVault.create(path: path, password: password(), kdf: floorKdf)
        let reopened = try await TwofoldVault.open(path: path)
        do {
            try await reopened.unlock(password: password("nope"))
            XCTFail("opened with a wrong password")
        } catch let failure as TwofoldError {
            XCTAssertEqual(failure, .WrongCredential)
        }
        XCTAssertThrowsError(try TwofoldVault.previewUri("otpauth://totp/x?secret=JBSW1")) { error in
            guard case let .InvalidInput(_, reason) = error as? TwofoldError else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("character 5"), reason)
        }
    }

    func testSecretInputsAndExportsAreWipedByTheFacade() async throws {
        let (vault, _) = try await newVault()
        let account = totp(rfcSha1, "Wipe")
        try await vault.add(account)
        XCTAssertTrue(account.1.isWiped, "the account's secret wiped")
        let uri = SecretBytes(utf8: "otpauth://totp/U:u?secret=\(rfcSha256)")
        try await vault.add(uri: uri)
        XCTAssertTrue(uri.isWiped, "URI bytes wiped")
        XCTAssertEqual(uri.handedOverAddress, uri.bufferAddress, "the URI the core read is the buffer wiped")
        let text = try await vault.exportOtpauthList { String(decoding: $0, as: UTF8.self) }
        XCTAssertTrue(text.contains(rfcSha1))
    }

    func testCodesMatchRfc6238() async throws {
        let (vault, _) = try await newVault()
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
        let (vault, _) = try await newVault()
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
        let (vault, recovery) = try await TwofoldVault.create(path: path, password: password(), kdf: floorKdf)
        try await vault.add(uri: "otpauth://totp/A:a?secret=\(rfcSha1)")
        let file = (path as NSString).deletingLastPathComponent + "/backup.twfb"
        let backupPassword = password("backup pass")
        let result = try await vault.createBackup(path: file, password: backupPassword)
        XCTAssertEqual(result.entryCount, 1)
        XCTAssertTrue(backupPassword.isWiped)
        let byPassword = try await vault.verifyBackup(path: file, password: password("backup pass"))
        XCTAssertEqual(byPassword.entryCount, 1)
        let byRecoveryKey = try await vault.verifyBackup(path: file, recoveryKey: recovery)
        XCTAssertEqual(byRecoveryKey.entryCount, 1)
    }

    func testManyTasksAtOnce() async throws {
        let (vault, _) = try await newVault()
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

    func testReauthenticationChecksInMemoryAndASwappedFileProvesNothing() async throws {
        let path = tempPath()
        let (vault, recovery) = try await TwofoldVault.create(path: path, password: password(), kdf: floorKdf)
        try await vault.add(uri: "otpauth://totp/GitHub:alice?secret=JBSWY3DPEHPK3PXP&issuer=GitHub")
        let theirs = tempPath()
        _ = try await TwofoldVault.create(path: theirs, password: SecretBytes(utf8: "attacker knows this"), kdf: floorKdf)
        try FileManager.default.removeItem(atPath: path)
        try FileManager.default.copyItem(atPath: theirs, toPath: path)
        do {
            try await vault.verify(password: SecretBytes(utf8: "attacker knows this"))
            XCTFail("the swapped file's password must not verify")
        } catch TwofoldError.WrongCredential {}
        let mine = password()
        try await vault.verify(password: mine)
        XCTAssertTrue(mine.isWiped)
        try await vault.verify(recoveryKey: recovery)
        let entries = try await vault.entries()
        XCTAssertEqual(entries.count, 1, "the open session is the same")
    }

    func testTheCodeListSaysWhenTheNextCodeIsDueAndItIsThereThen() async throws {
        let (vault, _) = try await newVault()
        try await vault.add(totp(rfcSha1, "SHA1", digits: 6))
        let now = Date().timeIntervalSince1970
        let shift = 30 - now.truncatingRemainder(dividingBy: 30) - 0.4
        let clock = { Date().addingTimeInterval(shift) }
        let list = vault.codeList()
        let first = try await list.rows(at: clock())
        XCTAssertGreaterThanOrEqual(first.refreshInMs, 1)
        XCTAssertLessThanOrEqual(first.refreshInMs, 400, "wake at the boundary, not a second later")
        try await Task.sleep(nanoseconds: first.refreshInMs * 1_000_000)
        let changed = try await list.rows(at: clock())
        XCTAssertEqual(changed.rows.first?.codeDisplay, first.rows.first?.nextCodeDisplay)
        XCTAssertGreaterThan(changed.rows.first?.remainingMs ?? 0, 29_000)
    }

    func testPlatformKeyPullFlow() async throws {
        #if canImport(CryptoKit)
        let path = tempPath()
        let (vault, _) = try await TwofoldVault.create(path: path, password: password(), kdf: floorKdf)
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
        } catch let failure as TwofoldError {
            XCTAssertEqual(failure, .PlatformKeyInvalidated)
        }
        try await reopened.unlock(password: password())
        try await reopened.removeSlot(slotId)
        #else
        throw XCTSkip("CryptoKit is not available on this platform")
        #endif
    }

    func testReenrollmentSwapsTheSlotInOneCommit() async throws {
        #if canImport(CryptoKit)
        let path = tempPath()
        let (vault, _) = try await TwofoldVault.create(path: path, password: password(), kdf: floorKdf)
        let first = SoftwareKeystore(alias: "bio-1")
        try await vault.enrollPlatform(first, label: "iPhone")
        let old = try await vault.platformSlots(first)
        let second = SoftwareKeystore(alias: "bio-2")
        let newId = try await vault.reenrollPlatform(replacing: old[0], with: second, label: "iPhone")
        vault.lock()
        let reopened = try await TwofoldVault.open(path: path)
        do {
            try await reopened.unlock(with: first)
            XCTFail("the old slot is gone")
        } catch let failure as TwofoldError {
            guard case .NotFound = failure else { return XCTFail("\(failure)") }
        }
        try await reopened.unlock(with: second)
        let slots = try await reopened.platformSlots(second)
        XCTAssertEqual(slots.map(\.id), [newId])
        #else
        throw XCTSkip("CryptoKit is not available on this platform")
        #endif
    }
}

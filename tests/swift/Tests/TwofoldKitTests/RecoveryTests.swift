import Foundation
import XCTest
@testable import TwofoldKit

/// Never locked out through the Swift facade, in step with tests/kotlin/src/RecoveryTests.kt:
/// recovery codes handed over as wiped bytes, the checkup's findings, the exposure ledger.
final class RecoveryTests: XCTestCase {
    private let github = "otpauth://totp/GitHub:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=GitHub"

    func testRecoveryCodesAreWipedCountedAndRevealedUnusedFirst() async throws {
        let (vault, _) = try await newVault()
        let id = try await vault.add(uri: github).id
        let codes = ["aaaa-1111", "bbbb-2222", "cccc-3333"].map { SecretBytes(utf8: $0) }
        let added = try await vault.addRecoveryCodes(entryId: id, codes: codes)
        XCTAssertEqual(added, 3)
        XCTAssertTrue(codes.allSatisfy { $0.isWiped }, "code bytes wiped")
        let again = try await vault.addRecoveryCodes(entryId: id, codes: [SecretBytes(utf8: "AAAA 1111")])
        XCTAssertEqual(again, 0, "the same code again")
        let used = SecretBytes(utf8: "bbbb2222")
        try await vault.useRecoveryCode(entryId: id, code: used)
        XCTAssertTrue(used.isWiped, "used code wiped")
        let summary = try await vault.recoveryCodeSummary(entryId: id)
        XCTAssertEqual(summary.total, 3)
        XCTAssertEqual(summary.unused, 2)
        let shown = try await vault.revealRecoveryCodes(entryId: id) { list in
            list.map { (String(decoding: $0.code, as: UTF8.self), $0.used) }
        }
        XCTAssertEqual(shown.map(\.0), ["aaaa-1111", "cccc-3333", "bbbb-2222"], "unused first")
        XCTAssertEqual(shown.map(\.1), [false, false, true])
        do {
            _ = try await vault.addRecoveryCodes(entryId: id, codes: [SecretBytes(utf8: "ok-1234"), SecretBytes(utf8: " ")])
            XCTFail("an empty code is refused")
        } catch let TwofoldError.InvalidInput(_, message) {
            XCTAssertTrue(message.contains("empty"), message)
        }
        let after = try await vault.recoveryCodeSummary(entryId: id)
        XCTAssertEqual(after.total, 3, "a refused call adds nothing")
    }

    func testShownAndExportedSecretsAreLedgeredWithoutTheSecret() async throws {
        let (vault, _) = try await newVault()
        let id = try await vault.add(uri: github).id
        let uri = try await vault.revealEntryUri(entryId: id, way: .qrShown) { String(decoding: $0, as: UTF8.self) }
        XCTAssertTrue(uri.hasPrefix("otpauth://"))
        let ledger = try await vault.exposures()
        XCTAssertTrue(ledger.contains { $0.entryId == id && $0.way == .qrShown }, "\(ledger)")
        XCTAssertFalse(ledger.contains { $0.description.contains("JBSWY3DP") }, "no secret in the ledger")
        let findings = try await vault.securityCheckup()
        XCTAssertTrue(findings.contains { $0.kind == "exposed" }, "\(findings.map(\.kind))")
        XCTAssertTrue(findings.allSatisfy { !$0.message.isEmpty && !$0.fix.isEmpty }, "every finding has a fix")
    }
}

import TwofoldFFI
import XCTest

@testable import TwofoldKit

/// The Swift twin of `FailureTests.kt`: every failure reads as a sentence, never as log text.
final class FailureMessagesTests: XCTestCase {
    func testEveryFailureHasASentenceAndNoLogText() {
        let failures: [TwofoldError] = [
            .WrongCredential, .RecoveryKeyTypo(details: "group 3"), .PlatformKeyInvalidated, .PasswordRequired,
            .Corrupt(details: "tag at 0x40"), .Forged(details: "x"), .RolledBack(found: 4, expected: 9, details: "x"),
            .Unverified(details: "x"), .HostileFile(details: "x"), .UnsupportedFile(details: "newer"), .PinLocked, .Locked,
            .Conflict, .Duplicate(existingId: "x"), .InvalidInput(problem: .emptyGroupName, details: "x"),
            .NotFound(what: .entry, details: "x"), .Storage(details: "disk full"), .TransferExpired,
            .TransferRejected(details: "x"), .TransferFailed(details: "x"), .SyncNotSetUp(details: "x"),
            .SyncRevoked(details: "x"), .SyncStorage(denied: true, details: "401"), .SyncRefused(details: "x"),
            .Internal(details: "bug"),
        ]
        for f in failures {
            XCTAssertFalse(f.userMessage.isEmpty, "\(f)")
            XCTAssertFalse(f.userMessage.contains("details:"), f.userMessage)
        }
        XCTAssertTrue(TwofoldError.RolledBack(found: 4, expected: 9, details: "").userMessage.contains("4"))
        XCTAssertFalse(TwofoldError.Corrupt(details: "tag at 0x40").userMessage.contains("0x40"))
        XCTAssertTrue(InputProblem.kitMissingParts(missing: [2, 5]).userMessage(details: "").contains("2, 5"))
        XCTAssertEqual(TwofoldError.from(CocoaError(.fileNoSuchFile)).userMessage.isEmpty, false)
    }
}

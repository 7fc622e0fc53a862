import Foundation
import TwofoldFFI

/// Milliseconds since the epoch, as the core counts time.
func epochMs(_ date: Date) -> Int64 {
    Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
}

/// One code screen's list, kept by the core (`vault::codes`): which rows (search, group),
/// their order (favourites first, then the vault's order), hidden and revealed rows, HOTP codes
/// asked for, and `CodeRows.refreshInMs`, the wait until something on screen changes. Calls
/// run off the main actor and throw `TwofoldError` (`.Locked` once the vault locks).
public final class TwofoldCodes: @unchecked Sendable {
    let list: CodeList

    init(list: CodeList) {
        self.list = list
    }

    /// The visible rows at `date` (wall clock): entries of `group` (nil: all) matching
    /// `query`. The filter comes with each call, so a list always matches the filter it shows.
    public func rows(query: String = "", group: String? = nil, at date: Date) async throws -> CodeRows {
        let ms = epochMs(date)
        return try await TwofoldVault.run { [list] in try list.rows(query: query, groupId: group, nowMs: ms) }
    }

    public func setTapToReveal(_ on: Bool) async throws {
        try await TwofoldVault.run { [list] in list.setTapToReveal(on: on) }
    }

    public func reveal(_ id: String) async throws {
        try await TwofoldVault.run { [list] in try list.reveal(id: id) }
    }

    /// Leaving the screen or locking: every row hidden, HOTP codes forgotten (no I/O).
    public func hideAll() {
        list.hideAll()
    }

    /// Saves the advanced HOTP counter, then shows the code on its row and returns it.
    @discardableResult
    public func nextHotp(_ id: String, at date: Date) async throws -> String {
        let ms = epochMs(date)
        return try await TwofoldVault.run { [list] in try list.nextHotp(id: id, nowMs: ms) }
    }

    /// The code to copy (no spaces), the row revealed and the use recorded; nil if none.
    public func copyCode(_ id: String, at date: Date) async throws -> String? {
        let ms = epochMs(date)
        return try await TwofoldVault.run { [list] in try list.copyCode(id: id, nowMs: ms) }
    }
}

extension TwofoldVault {
    /// A code list over this vault (no search, all groups, codes shown).
    public func codeList() -> TwofoldCodes {
        TwofoldCodes(list: session.codeList())
    }
}

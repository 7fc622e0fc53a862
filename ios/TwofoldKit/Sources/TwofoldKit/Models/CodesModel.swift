import Foundation
import Observation
import TwofoldFFI

/// The code list. The rules — which rows, their order (favourites first, then the vault's
/// order), search, group filter, tap-to-reveal, HOTP codes on demand, when the next change is
/// due — are the core's (`TwofoldCodes`); this model holds the published state, one ticker
/// that sleeps until the core says something changes, the long-press "next code" gesture, the
/// local-only pasteboard item that expires, and the clock check.
@MainActor @Observable
public final class CodesModel {
    public struct Row: Identifiable, Equatable {
        public let id: String
        public let issuer: String
        public let account: String
        public let favorite: Bool
        public let groupIds: [String]
        public let hotp: Bool
        public let weakSecret: Bool
        /// Grouped ("123 456"); nil while hidden or, for HOTP, not generated yet.
        public let code: String?
        public let nextCode: String?
        public let showingNext: Bool
        public let hidden: Bool
        public let periodSeconds: Int
        public let remainingMs: UInt64

        /// For the countdown ring: 1 at the start of a period, 0 at its end.
        public var remainingFraction: Double {
            periodSeconds == 0 ? 0 : Double(remainingMs) / Double(periodSeconds * 1000)
        }
    }

    public static let clipboardSeconds: TimeInterval = 30

    public private(set) var rows: [Row] = []
    public private(set) var groups: [GroupView] = []
    public private(set) var query = ""
    public private(set) var selectedGroup: String?
    /// The device clock is off by this many seconds (codes are corrected); nil when fine.
    public private(set) var clockOffsetWarning: Int64?
    public var message: String?
    public private(set) var undoDeleteId: String?
    public private(set) var loaded = false

    private let vault: TwofoldVault
    private let list: TwofoldCodes
    private let settings: SettingsStore
    private let clipboard: Clipboard
    private let trustedTime: () -> Date?
    private let clock: @Sendable () -> Date
    private let onChanged: () -> Void
    private var last: CodeRows?
    private var longPressed: String?
    private var clockChecked = false
    /// Each refresh takes a ticket before it asks the core; only a newer ticket publishes, so
    /// an older answer arriving late never replaces a newer list.
    @ObservationIgnored private var issued = 0
    @ObservationIgnored private var published = 0
    @ObservationIgnored private var stopped = false

    public init(
        vault: TwofoldVault,
        settings: SettingsStore,
        clipboard: Clipboard,
        trustedTime: @escaping () -> Date? = { nil },
        clock: @escaping @Sendable () -> Date = { Date() },
        onChanged: @escaping () -> Void = {}
    ) {
        self.vault = vault
        self.list = vault.codeList()
        self.settings = settings
        self.clipboard = clipboard
        self.trustedTime = trustedTime
        self.clock = clock
        self.onChanged = onChanged
    }

    /// Run while the list is visible (`.task { await model.run() }`); ends when cancelled or
    /// stopped. One ticker: it publishes the core's rows and sleeps until the core says
    /// something changes. The vault may lock under it: the list then ends quietly.
    public func run() async {
        stopped = false
        await checkClock()
        do {
            try await list.setTapToReveal(settings.tapToReveal)
            try await loadGroups()
            while !stopped && !Task.isCancelled {
                let rows = try await refresh()
                try await Task.sleep(nanoseconds: max(1, rows.refreshInMs) * 1_000_000)
            }
        } catch is CancellationError {
            // Left the screen.
        } catch TwofoldError.Locked {
            // Locked: the unlock screen replaces this list.
        } catch {
            if !stopped { message = TwofoldError.from(error).userMessage }
        }
        list.hideAll()
    }

    /// Locking (before the core forgets the key): the ticker stops at its next tick and the
    /// core hides every row and forgets HOTP codes.
    public func stop() {
        stopped = true
        list.hideAll()
    }

    /// Once a session: recording the sample writes the vault.
    private func checkClock() async {
        guard !clockChecked else { return }
        clockChecked = true
        guard let trusted = trustedTime(),
              let status = try? await vault.recordTimeSample(local: clock(), trusted: trusted) else { return }
        clockOffsetWarning = status.warn ? status.offsetSeconds : nil
    }

    private func loadGroups() async throws {
        groups = try await vault.groups()
        loaded = true
    }

    /// Asks the core for the rows for the filter as it is now and publishes them unless a
    /// newer answer already was: the list shown last is the newest, for the newest filter.
    @discardableResult
    private func refresh() async throws -> CodeRows {
        issued += 1
        let ticket = issued
        let rows = try await list.rows(query: query, group: selectedGroup, at: clock())
        if ticket > published {
            published = ticket
            last = rows
            publish(rows)
        }
        return rows
    }

    /// Groups and rows again (after a change).
    public func reload() async {
        await guarded {
            try await self.list.setTapToReveal(self.settings.tapToReveal)
            try await self.loadGroups()
            try await self.refresh()
        }
    }

    public func search(_ text: String) async {
        query = text
        await guarded { try await self.refresh() }
    }

    public func select(group: String?) async {
        selectedGroup = group
        await guarded { try await self.refresh() }
    }

    /// Tap: copy the current code (revealing it when hidden).
    public func copy(_ id: String) async {
        await guarded {
            let code = try await self.list.copyCode(id, at: self.clock())
            try await self.refresh()
            guard let code else { return }
            self.clipboard.copySensitive(code, expiresAfter: Self.clipboardSeconds)
            self.message = "Copied; it disappears from the clipboard in \(Int(Self.clipboardSeconds)) s"
        }
    }

    public func reveal(_ id: String) async {
        await guarded {
            try await self.list.reveal(id)
            try await self.refresh()
        }
    }

    /// Long press shows the next code; release hides it (a gesture: no core call).
    public func showNext(_ id: String?) {
        longPressed = id
        if let last { publish(last) }
    }

    public func nextHotp(_ id: String) async {
        await guarded {
            try await self.list.nextHotp(id, at: self.clock())
            try await self.refresh()
            self.onChanged()
        }
    }

    public func toggleFavorite(_ id: String) async {
        guard let row = rows.first(where: { $0.id == id }) else { return }
        await change { _ = try await self.vault.update(id, EntryChanges(issuer: nil, account: nil, note: nil, params: nil, groupIds: nil, favorite: !row.favorite, icon: nil)) }
    }

    public func setGroups(_ id: String, _ groupIds: [String]) async {
        await change { _ = try await self.vault.update(id, EntryChanges(issuer: nil, account: nil, note: nil, params: nil, groupIds: groupIds, favorite: nil, icon: nil)) }
    }

    public func rename(_ id: String, issuer: String, account: String) async {
        await change { _ = try await self.vault.update(id, EntryChanges(issuer: issuer, account: account, note: nil, params: nil, groupIds: nil, favorite: nil, icon: nil)) }
    }

    public func addGroup(_ name: String) async {
        await change { _ = try await self.vault.addGroup(name) }
    }

    /// Moves to the trash, with undo.
    public func delete(_ id: String) async {
        await change {
            try await self.vault.delete(id)
            self.undoDeleteId = id
            self.message = "Moved to trash"
        }
    }

    public func undoDelete() async {
        guard let id = undoDeleteId else { return }
        await change {
            try await self.vault.restore(id)
            self.undoDeleteId = nil
            self.message = nil
        }
    }

    public func dismissMessage() {
        message = nil
        undoDeleteId = nil
    }

    private func change(_ body: () async throws -> Void) async {
        await guarded {
            try await body()
            await self.reload()
            self.onChanged()
        }
    }

    private func guarded(_ body: () async throws -> Void) async {
        if let failure = await attempt(body) { message = failure }
    }

    private func publish(_ listed: CodeRows) {
        if listed.clockWarning && clockOffsetWarning == nil { clockOffsetWarning = listed.clockOffsetSeconds }
        rows = listed.rows.map { r in
            Row(
                id: r.entryId,
                issuer: r.issuer,
                account: r.account,
                favorite: r.favorite,
                groupIds: r.groupIds,
                hotp: r.otpType == .hotp,
                weakSecret: r.weakSecret,
                code: r.codeDisplay,
                nextCode: r.nextCodeDisplay,
                showingNext: longPressed == r.entryId && r.nextCodeDisplay != nil,
                hidden: r.hidden,
                periodSeconds: Int(r.period),
                remainingMs: r.remainingMs
            )
        }
    }
}

import Foundation
import Observation
import TwofoldFFI

/// The code list: accounts (favorites first, then the vault's order) with their codes from the
/// core's ticker, search (the core's), group filter, copy to a local-only pasteboard item that
/// expires, tap-to-reveal, next code on long press, HOTP "next", and a clock-skew warning.
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
    private let settings: SettingsStore
    private let clipboard: Clipboard
    private let trustedTime: () -> Date?
    private let clock: @Sendable () -> Date
    private let onChanged: () -> Void
    private var entries: [EntryView] = []
    private var codes: [String: CodeView] = [:]
    private var revealed: Set<String> = []
    private var hotpCodes: [String: String] = [:]
    private var longPressed: String?
    private var clockChecked = false
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
        self.settings = settings
        self.clipboard = clipboard
        self.trustedTime = trustedTime
        self.clock = clock
        self.onChanged = onChanged
    }

    /// Run while the list is visible (`.task { await model.run() }`); ends when cancelled or
    /// stopped. The vault may lock under a running ticker: the list then ends quietly.
    public func run() async {
        stopped = false
        await checkClock()
        await reload()
        do {
            for try await list in vault.codes(clock: clock) {
                if stopped || Task.isCancelled { break }
                codes = Dictionary(uniqueKeysWithValues: list.map { ($0.entryId, $0) })
                publish()
            }
        } catch VaultFailure.locked {
            // Locked: the unlock screen replaces this list.
        } catch {
            if !stopped { message = VaultFailure.from(error).message }
        }
        revealed.removeAll()
        hotpCodes.removeAll()
    }

    /// Locking (before the core forgets the key): the ticker stops at its next tick and the
    /// revealed and HOTP codes are dropped.
    public func stop() {
        stopped = true
        revealed.removeAll()
        hotpCodes.removeAll()
    }

    /// Once a session: recording the sample writes the vault.
    private func checkClock() async {
        guard !clockChecked else { return }
        clockChecked = true
        guard let trusted = trustedTime(),
              let status = try? await vault.recordTimeSample(local: clock(), trusted: trusted) else { return }
        clockOffsetWarning = status.warn ? status.offsetSeconds : nil
    }

    public func reload() async {
        do {
            if query.trimmingCharacters(in: .whitespaces).isEmpty {
                entries = try await vault.entries()
            } else {
                entries = try await vault.search(query)
            }
            groups = try await vault.groups()
            if codes.isEmpty {
                let list = try await vault.codes(at: clock())
                codes = Dictionary(uniqueKeysWithValues: list.map { ($0.entryId, $0) })
            }
            loaded = true
            publish()
        } catch {
            message = VaultFailure.from(error).message
        }
    }

    public func search(_ text: String) async {
        query = text
        await reload()
    }

    public func select(group: String?) {
        selectedGroup = group
        publish()
    }

    /// Tap: copy the current code (revealing it when hidden).
    public func copy(_ id: String) async {
        guard let row = rows.first(where: { $0.id == id }) else { return }
        if row.hidden {
            revealed.insert(id)
            publish()
        }
        guard let code = row.hotp ? hotpCodes[id] : codes[id]?.code else { return }
        clipboard.copySensitive(code, expiresAfter: Self.clipboardSeconds)
        try? await vault.recordUse(id)
        message = "Copied; it disappears from the clipboard in \(Int(Self.clipboardSeconds)) s"
    }

    public func reveal(_ id: String) {
        revealed.insert(id)
        publish()
    }

    /// Long press shows the next code; release hides it.
    public func showNext(_ id: String?) {
        longPressed = id
        publish()
    }

    public func nextHotp(_ id: String) async {
        await guarded {
            self.hotpCodes[id] = try await self.vault.nextHotp(id)
            self.revealed.insert(id)
            self.publish()
            self.onChanged()
        }
    }

    public func toggleFavorite(_ id: String) async {
        guard let entry = entries.first(where: { $0.id == id }) else { return }
        await change { _ = try await self.vault.update(id, EntryChanges(issuer: nil, account: nil, note: nil, params: nil, groupIds: nil, favorite: !entry.favorite, icon: nil)) }
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

    private func publish() {
        let hide = settings.tapToReveal
        let visible = entries.filter { selectedGroup == nil || $0.groupIds.contains(selectedGroup!) }
        let ordered = visible.filter(\.favorite) + visible.filter { !$0.favorite }
        rows = ordered.map { e in
            let view = codes[e.id]
            let hotp = e.params.otpType == .hotp
            let hidden = hide && !revealed.contains(e.id)
            let raw = hotp ? hotpCodes[e.id] : view?.code
            return Row(
                id: e.id,
                issuer: e.issuer,
                account: e.account,
                favorite: e.favorite,
                groupIds: e.groupIds,
                hotp: hotp,
                weakSecret: e.weakSecret,
                code: hidden ? nil : raw.map { displayCode(code: $0) },
                nextCode: hidden || hotp ? nil : view?.nextCode.map { displayCode(code: $0) },
                showingNext: longPressed == e.id && !hidden && !hotp,
                hidden: hidden,
                periodSeconds: Int(view?.period ?? 0),
                remainingMs: view?.remainingMs ?? 0
            )
        }
    }
}

import SwiftUI
import TwofoldKit

struct CodesView: View {
    @Bindable var model: CodesModel
    let backup: BackupModel
    let open: (Screen) -> Void
    let lock: () -> Void
    @State private var query = ""
    @State private var editing: CodesModel.Row?

    var body: some View {
        List {
            if let offset = model.clockOffsetWarning {
                Text("This iPhone's clock is \(abs(offset)) s \(offset > 0 ? "behind" : "ahead"). Codes are corrected, but set the time automatically in Settings.")
                    .foregroundStyle(.red)
            }
            Button { open(.backup) } label: { BackupStatusLine(model: backup) }
            if !model.groups.isEmpty {
                ScrollView(.horizontal, showsIndicators: false) {
                    HStack {
                        chip("All", selected: model.selectedGroup == nil) { Task { await model.select(group: nil) } }
                        ForEach(model.groups, id: \.id) { g in
                            chip(g.name, selected: model.selectedGroup == g.id) { Task { await model.select(group: g.id) } }
                        }
                    }
                }
            }
            if model.loaded && model.rows.isEmpty {
                Text(query.isEmpty ? "No accounts yet. Tap + to scan a QR code or import from another app." : "Nothing matches.")
            }
            ForEach(model.rows) { row in
                CodeRowView(row: row, model: model)
                    .swipeActions {
                        Button("Trash", role: .destructive) { Task { await model.delete(row.id) } }
                        Button("Edit") { editing = row }
                    }
            }
        }
        .searchable(text: $query)
        .onChange(of: query) { _, text in Task { await model.search(text) } }
        .navigationTitle("Twofold")
        .toolbar {
            ToolbarItem(placement: .topBarLeading) { Button("Lock", systemImage: "lock", action: lock) }
            ToolbarItemGroup(placement: .topBarTrailing) {
                Menu {
                    Button("Backups") { open(.backup) }
                    Button("Sync with your devices") { open(.sync) }
                    Button("Export") { open(.export) }
                    Button("Receive from another phone") { open(.receive) }
                    Button("Send to another phone") { open(.send) }
                    Button("Settings") { open(.settings) }
                } label: { Image(systemName: "ellipsis.circle") }
                Button { open(.add) } label: { Image(systemName: "plus") }.accessibilityLabel("Add account")
            }
        }
        // Codes tick only while the list is on screen.
        .task { await model.run() }
        .overlay(alignment: .bottom) {
            if let message = model.message {
                HStack {
                    Text(message)
                    if model.undoDeleteId != nil { Button("Undo") { Task { await model.undoDelete() } } }
                }
                .padding()
                .background(.thinMaterial, in: Capsule())
                .task {
                    try? await Task.sleep(nanoseconds: 4_000_000_000)
                    model.dismissMessage()
                }
            }
        }
        .sheet(item: $editing) { row in EditSheet(row: row, groups: model.groups, model: model) }
    }

    private func chip(_ title: String, selected: Bool, action: @escaping () -> Void) -> some View {
        Button(title, action: action).buttonStyle(.bordered).tint(selected ? .accentColor : .secondary)
    }
}

private struct BackupStatusLine: View {
    let model: BackupModel

    var body: some View {
        if let error = model.lastError {
            Text("Last backup failed: \(error)").foregroundStyle(.red)
        } else if model.folderName == nil {
            Text("No automatic backups. Set up a backup folder.").foregroundStyle(.red)
        } else if let last = model.last {
            Text("Backed up to \(model.folderName ?? "") \(last.at, style: .relative) ago · verified, \(last.entryCount) accounts")
                .foregroundStyle(.secondary)
        } else {
            Text("Backing up…").foregroundStyle(.secondary)
        }
    }
}

private struct CodeRowView: View {
    let row: CodesModel.Row
    let model: CodesModel

    var body: some View {
        HStack {
            Button { Task { await model.toggleFavorite(row.id) } } label: {
                Image(systemName: row.favorite ? "star.fill" : "star")
            }
            .buttonStyle(.borderless)
            .accessibilityLabel(row.favorite ? "Unfavorite" : "Favorite")
            VStack(alignment: .leading) {
                Text(row.issuer.isEmpty ? row.account : row.issuer).font(.caption)
                Text(displayed).font(.system(.title, design: .monospaced))
                Text(row.account + (row.showingNext ? " · next code" : row.weakSecret ? " · weak secret" : ""))
                    .font(.caption2).foregroundStyle(.secondary)
            }
            Spacer()
            if row.hotp {
                Button("Next") { Task { await model.nextHotp(row.id) } }.buttonStyle(.bordered)
            } else {
                ZStack {
                    Circle().stroke(.quaternary, lineWidth: 3)
                    Circle().trim(from: 0, to: row.remainingFraction).stroke(.tint, lineWidth: 3).rotationEffect(.degrees(-90))
                    Text("\((row.remainingMs + 999) / 1000)").font(.caption2)
                }
                .frame(width: 34, height: 34)
            }
        }
        .contentShape(Rectangle())
        .onTapGesture {
            if row.hidden { Task { await model.reveal(row.id) } } else { Task { await model.copy(row.id) } }
        }
        .onLongPressGesture(minimumDuration: 0.4, perform: {}, onPressingChanged: { pressing in
            model.showNext(pressing ? row.id : nil)
        })
    }

    private var displayed: String {
        if row.hidden { return "••• •••" }
        if row.showingNext, let next = row.nextCode { return next }
        return row.code ?? (row.hotp ? "Tap Next" : "…")
    }
}

private struct EditSheet: View {
    let row: CodesModel.Row
    let groups: [GroupView]
    let model: CodesModel
    @Environment(\.dismiss) private var dismiss
    @State private var issuer = ""
    @State private var account = ""
    @State private var chosen: Set<String> = []
    @State private var newGroup = ""

    var body: some View {
        NavigationStack {
            Form {
                TextField("Service", text: $issuer)
                TextField("Account", text: $account)
                Section("Groups") {
                    ForEach(groups, id: \.id) { g in
                        Toggle(g.name, isOn: Binding(
                            get: { chosen.contains(g.id) },
                            set: { on in if on { chosen.insert(g.id) } else { chosen.remove(g.id) } }
                        ))
                    }
                    HStack {
                        TextField("New group", text: $newGroup)
                        Button("Add") { Task { await model.addGroup(newGroup); newGroup = "" } }.disabled(newGroup.isEmpty)
                    }
                }
            }
            .toolbar {
                ToolbarItem(placement: .cancellationAction) { Button("Cancel") { dismiss() } }
                ToolbarItem(placement: .confirmationAction) {
                    Button("Save") {
                        Task {
                            if issuer != row.issuer || account != row.account { await model.rename(row.id, issuer: issuer, account: account) }
                            if chosen != Set(row.groupIds) { await model.setGroups(row.id, Array(chosen)) }
                            dismiss()
                        }
                    }
                }
            }
            .onAppear {
                issuer = row.issuer
                account = row.account
                chosen = Set(row.groupIds)
            }
        }
    }
}

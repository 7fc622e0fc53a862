import PhotosUI
import SwiftUI
import TwofoldKit
import UniformTypeIdentifiers

struct AddView: View {
    @Bindable var model: EnrollModel
    @Environment(\.dismiss) private var dismiss
    @State private var tab = 0
    @State private var photo: PhotosPickerItem?
    @State private var importing = false
    @State private var link = ""
    @State private var filePassword = ""

    var body: some View {
        Form {
            Picker("Add by", selection: $tab) {
                Text("Scan").tag(0)
                Text("Picture").tag(1)
                Text("Link").tag(2)
                Text("Manual").tag(3)
                Text("File").tag(4)
            }
            .pickerStyle(.segmented)

            if let r = model.result {
                Section {
                    Text("Added \(r.addedIds.count) account(s)." + (r.duplicates.isEmpty ? "" : " Already in the vault: \(r.duplicates.joined(separator: ", "))."))
                    Button("Done") { model.cancel(); dismiss() }
                }
            }

            switch tab {
            case 0:
                if model.pending.isEmpty || model.progress != nil {
                    // Frames go to the core as pixels: the account's secret never becomes a String.
                    FrameScannerView { width, height, stride, luma in
                        await model.cameraFrame(width: width, height: height, rowStride: stride, luma: luma)
                    }
                        .frame(height: 300)
                        .listRowInsets(EdgeInsets())
                    if let p = model.progress { Text(p.description).font(.headline) }
                }
            case 1:
                Section {
                    Text("Pick a screenshot or photo of a QR code. It is read on this iPhone and not kept.")
                    PhotosPicker("Choose picture", selection: $photo, matching: .images)
                }
            case 2:
                Section {
                    TextField("otpauth://…", text: $link, axis: .vertical).autocorrectionDisabled().textInputAutocapitalization(.never)
                    Button("Read link") {
                        let uri = SecretBytes(utf8: link.trimmingCharacters(in: .whitespacesAndNewlines))
                        link = ""
                        Task { await model.add(uri: uri) }
                    }
                    .disabled(link.isEmpty)
                }
            case 3:
                Section {
                    TextField("Service", text: $model.manual.issuer)
                    TextField("Account", text: $model.manual.account).textInputAutocapitalization(.never)
                    TextField("Secret key", text: $model.manual.secret).autocorrectionDisabled().textInputAutocapitalization(.characters)
                    Picker("Type", selection: $model.manual.type) {
                        Text("TOTP").tag(OtpType.totp)
                        Text("HOTP").tag(OtpType.hotp)
                        Text("Steam").tag(OtpType.steam)
                    }
                    Picker("Algorithm", selection: $model.manual.algorithm) {
                        Text("SHA-1").tag(HashAlgorithm.sha1)
                        Text("SHA-256").tag(HashAlgorithm.sha256)
                        Text("SHA-512").tag(HashAlgorithm.sha512)
                    }
                    TextField("Digits", text: $model.manual.digits).keyboardType(.numberPad)
                    if model.manual.type == .hotp {
                        TextField("Counter", text: $model.manual.counter).keyboardType(.numberPad)
                    } else {
                        TextField("Period (seconds)", text: $model.manual.period).keyboardType(.numberPad)
                    }
                    Button("Add account") { Task { await model.addManual() } }
                }
            default:
                Section {
                    Text("Import an export from Aegis, 2FAS, Ente Auth, andOTP, Bitwarden, FreeOTP, Proton Authenticator, Google Authenticator, a list of otpauth:// links, or a CXF file. Entries that cannot be read are listed; the rest import.")
                    Button("Choose file") { importing = true }
                    if model.filePasswordNeeded {
                        Text("This file is encrypted. Enter the password it was exported with.")
                        SecureField("File password", text: $filePassword)
                        Button("Open") {
                            let pw = SecretBytes(utf8: filePassword)
                            filePassword = ""
                            Task { await model.filePassword(pw) }
                        }
                        .disabled(filePassword.isEmpty)
                    }
                }
            }

            ErrorText(message: model.error)
            ForEach(model.problems, id: \.self) { Text($0).font(.caption).foregroundStyle(.red) }

            if !model.pending.isEmpty {
                Section(model.importFormat.map { "From \($0): \(model.pending.count) account(s)" } ?? "Found \(model.pending.count) account(s)") {
                    ForEach(Array(model.pending.enumerated()), id: \.offset) { i, p in
                        HStack {
                            VStack(alignment: .leading) {
                                Text(p.issuer.isEmpty ? p.account : p.issuer)
                                Text("\(p.account) · \(p.params.digits) digits\(p.weakSecret ? " · weak secret" : "")").font(.caption)
                            }
                            Spacer()
                            Button("Remove") { model.removePending(at: i) }.buttonStyle(.borderless)
                        }
                    }
                    Button("Add \(model.pending.count) account(s)") { Task { await model.confirm() } }.disabled(model.busy)
                }
            }
        }
        .navigationTitle("Add account")
        .onChange(of: photo) { _, item in
            guard let item else { return }
            Task {
                // Photos may be HEIC: hand the core a PNG.
                if let data = try? await item.loadTransferable(type: Data.self), let png = UIImage(data: data)?.pngData() {
                    await model.picture(png)
                } else {
                    model.error = "The picture could not be read"
                }
                photo = nil
            }
        }
        // Every file the core reads: JSON, text and XML exports, ZIP archives, SQLite and KeePass
        // databases, and typeless files (.maFile, .1pux, app data files) — all conform to .data.
        .fileImporter(isPresented: $importing, allowedContentTypes: [.data, .json, .plainText, .xml, .zip, .database]) { result in
            switch result {
            case let .success(url):
                do {
                    let bytes = try readPickedFile(url)
                    Task { await model.importFile(bytes) }
                } catch {
                    model.error = "The file could not be read: \(error.localizedDescription)"
                }
            case let .failure(error):
                model.error = error.localizedDescription
            }
        }
        .pausesAutoLock(while: importing)
    }
}

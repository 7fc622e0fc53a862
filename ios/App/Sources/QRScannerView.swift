import AVFoundation
import SwiftUI
import UIKit

/// Live QR scanning with AVFoundation's metadata output, for transfer invites, frames and
/// replies; every decoded text goes to `onText` on the main actor. Account codes are not read
/// this way (their text would be a Swift String): the Add screen uses `FrameScannerView`.
/// Asks for camera access first and explains what it is for.
struct QRScannerView: View {
    let onText: (String) -> Void
    @State private var status = AVCaptureDevice.authorizationStatus(for: .video)

    var body: some View {
        Group {
            switch status {
            case .authorized:
                CameraPreview(onText: onText)
            case .notDetermined:
                ProgressView().task {
                    _ = await AVCaptureDevice.requestAccess(for: .video)
                    status = AVCaptureDevice.authorizationStatus(for: .video)
                }
            default:
                VStack(spacing: 12) {
                    Text("Twofold uses the camera only to read QR codes. Allow it in Settings, or add the account from a picture or by hand.")
                    Button("Open Settings") {
                        if let url = URL(string: UIApplication.openSettingsURLString) { UIApplication.shared.open(url) }
                    }
                }
                .padding()
            }
        }
    }
}

private struct CameraPreview: UIViewControllerRepresentable {
    let onText: (String) -> Void

    func makeUIViewController(context: Context) -> ScannerController {
        let controller = ScannerController()
        controller.onText = onText
        return controller
    }

    func updateUIViewController(_ controller: ScannerController, context: Context) {
        controller.onText = onText
    }
}

final class ScannerController: UIViewController, AVCaptureMetadataOutputObjectsDelegate {
    var onText: ((String) -> Void)?
    private let session = AVCaptureSession()
    private let queue = DispatchQueue(label: "dev.twofold.camera")
    private var preview: AVCaptureVideoPreviewLayer?

    override func viewDidLoad() {
        super.viewDidLoad()
        view.backgroundColor = .black
        guard let device = AVCaptureDevice.default(.builtInWideAngleCamera, for: .video, position: .back),
              let input = try? AVCaptureDeviceInput(device: device),
              session.canAddInput(input)
        else { return }
        session.addInput(input)
        let output = AVCaptureMetadataOutput()
        guard session.canAddOutput(output) else { return }
        session.addOutput(output)
        output.setMetadataObjectsDelegate(self, queue: .main)
        output.metadataObjectTypes = [.qr]
        let layer = AVCaptureVideoPreviewLayer(session: session)
        layer.videoGravity = .resizeAspectFill
        view.layer.addSublayer(layer)
        preview = layer
    }

    override func viewDidLayoutSubviews() {
        super.viewDidLayoutSubviews()
        preview?.frame = view.bounds
    }

    override func viewWillAppear(_ animated: Bool) {
        super.viewWillAppear(animated)
        queue.async { [session] in session.startRunning() }
    }

    override func viewWillDisappear(_ animated: Bool) {
        super.viewWillDisappear(animated)
        queue.async { [session] in session.stopRunning() }
    }

    func metadataOutput(_ output: AVCaptureMetadataOutput, didOutput objects: [AVMetadataObject], from connection: AVCaptureConnection) {
        for case let code as AVMetadataMachineReadableCodeObject in objects {
            if let text = code.stringValue { onText?(text) }
        }
    }
}

/// Live camera frames for enrollment: each frame's luma plane (width, height, row stride,
/// bytes) goes to `onFrame`, which hands it to the core (`EnrollmentScanner`); the next frame
/// waits until it returns. Asks for camera access first.
struct FrameScannerView: View {
    let onFrame: @MainActor (UInt32, UInt32, UInt32, Data) async -> Void
    @State private var status = AVCaptureDevice.authorizationStatus(for: .video)

    var body: some View {
        Group {
            switch status {
            case .authorized:
                FramePreview(onFrame: onFrame)
            case .notDetermined:
                ProgressView().task {
                    _ = await AVCaptureDevice.requestAccess(for: .video)
                    status = AVCaptureDevice.authorizationStatus(for: .video)
                }
            default:
                Text("Twofold uses the camera only to read QR codes. Allow it in Settings, or add the account from a picture or by hand.")
                    .padding()
            }
        }
    }
}

private struct FramePreview: UIViewControllerRepresentable {
    let onFrame: @MainActor (UInt32, UInt32, UInt32, Data) async -> Void

    func makeUIViewController(context: Context) -> FrameScannerController {
        let controller = FrameScannerController()
        controller.onFrame = onFrame
        return controller
    }

    func updateUIViewController(_ controller: FrameScannerController, context: Context) {
        controller.onFrame = onFrame
    }
}

final class FrameScannerController: UIViewController, AVCaptureVideoDataOutputSampleBufferDelegate {
    var onFrame: (@MainActor (UInt32, UInt32, UInt32, Data) async -> Void)?
    private let session = AVCaptureSession()
    private let queue = DispatchQueue(label: "dev.twofold.camera.frames")
    private var preview: AVCaptureVideoPreviewLayer?

    override func viewDidLoad() {
        super.viewDidLoad()
        view.backgroundColor = .black
        session.sessionPreset = .hd1280x720
        guard let device = AVCaptureDevice.default(.builtInWideAngleCamera, for: .video, position: .back),
              let input = try? AVCaptureDeviceInput(device: device),
              session.canAddInput(input)
        else { return }
        session.addInput(input)
        let output = AVCaptureVideoDataOutput()
        output.videoSettings = [kCVPixelBufferPixelFormatTypeKey as String: kCVPixelFormatType_420YpCbCr8BiPlanarFullRange]
        output.alwaysDiscardsLateVideoFrames = true
        output.setSampleBufferDelegate(self, queue: queue)
        guard session.canAddOutput(output) else { return }
        session.addOutput(output)
        let layer = AVCaptureVideoPreviewLayer(session: session)
        layer.videoGravity = .resizeAspectFill
        view.layer.addSublayer(layer)
        preview = layer
    }

    override func viewDidLayoutSubviews() {
        super.viewDidLayoutSubviews()
        preview?.frame = view.bounds
    }

    override func viewWillAppear(_ animated: Bool) {
        super.viewWillAppear(animated)
        queue.async { [session] in session.startRunning() }
    }

    override func viewWillDisappear(_ animated: Bool) {
        super.viewWillDisappear(animated)
        queue.async { [session] in session.stopRunning() }
    }

    func captureOutput(_ output: AVCaptureOutput, didOutput sampleBuffer: CMSampleBuffer, from connection: AVCaptureConnection) {
        guard let buffer = CMSampleBufferGetImageBuffer(sampleBuffer), let onFrame else { return }
        CVPixelBufferLockBaseAddress(buffer, .readOnly)
        let width = UInt32(CVPixelBufferGetWidthOfPlane(buffer, 0))
        let height = UInt32(CVPixelBufferGetHeightOfPlane(buffer, 0))
        let stride = UInt32(CVPixelBufferGetBytesPerRowOfPlane(buffer, 0))
        var luma = Data()
        if let base = CVPixelBufferGetBaseAddressOfPlane(buffer, 0) {
            luma = Data(bytes: base, count: Int(stride) * Int(height))
        }
        CVPixelBufferUnlockBaseAddress(buffer, .readOnly)
        guard !luma.isEmpty else { return }
        // Wait for the core before taking the next frame (late frames are discarded).
        let done = DispatchSemaphore(value: 0)
        Task { @MainActor in
            await onFrame(width, height, stride, luma)
            done.signal()
        }
        done.wait()
    }
}

import Foundation
import TwofoldFFI

/// A stream of code lists that ticks once a second (for countdowns) and wakes exactly at the
/// next period boundary, so a new code appears on time. `fetch` asks the core for the codes
/// at a moment; `clock` is the wall clock. Cancelling the consuming task ends the stream.
public func codeTicker(
    clock: @escaping @Sendable () -> Date,
    fetch: @escaping @Sendable (Date) async throws -> [CodeView]
) -> AsyncThrowingStream<[CodeView], Error> {
    AsyncThrowingStream { continuation in
        let task = Task {
            do {
                while !Task.isCancelled {
                    let now = clock()
                    let codes = try await fetch(now)
                    continuation.yield(codes)
                    let ms = Int64((now.timeIntervalSince1970 * 1000).rounded(.down))
                    let toNextSecond = 1000 - ((ms % 1000) + 1000) % 1000
                    let toBoundary = codes.filter { $0.period > 0 }.map { Int64($0.remainingMs) }.min() ?? Int64.max
                    let wait = max(1, min(toNextSecond, toBoundary))
                    try await Task.sleep(nanoseconds: UInt64(wait) * 1_000_000)
                }
                continuation.finish()
            } catch is CancellationError {
                continuation.finish()
            } catch {
                continuation.finish(throwing: VaultFailure.from(error))
            }
        }
        continuation.onTermination = { _ in task.cancel() }
    }
}

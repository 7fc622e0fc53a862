package dev.twofold.bench

import dev.twofold.core.VaultSession
import dev.twofold.core.clockOffsetNeedsWarning

/**
 * FFI costs seen from Kotlin: a trivial call (`clockOffsetNeedsWarning`, no work on either
 * side beyond the crossing) and `codesAt` for the vault given as the first argument (its
 * password is the second). Prints one JSON object. Driven by scripts/bench_ffi.py.
 */
fun main(args: Array<String>) {
    val trust = object : dev.twofold.core.TrustStore {
        private var record: ByteArray? = null
        override fun load(): ByteArray? = record
        override fun store(record: ByteArray) {
            this.record = record
        }
    }
    val session = VaultSession.open(args[0], trust)
    session.unlockWithPassword(args[1].toByteArray())

    var sink = false
    repeat(200_000) { sink = sink xor clockOffsetNeedsWarning(it.toLong()) }
    val calls = 2_000_000
    val t0 = System.nanoTime()
    for (i in 0 until calls) sink = sink xor clockOffsetNeedsWarning(i.toLong())
    val trivialNs = (System.nanoTime() - t0).toDouble() / calls

    val now = 1_700_000_000_000L
    repeat(100) { session.codesAt(now) }
    val times = DoubleArray(1000) { i ->
        val start = System.nanoTime()
        val codes = session.codesAt(now + i)
        if (codes.isEmpty()) sink = !sink
        (System.nanoTime() - start) / 1000.0
    }
    times.sort()
    val entries = session.entries().size
    println("""{"trivial_call_ns": ${"%.1f".format(trivialNs)}, "codes_at_median_us": ${"%.1f".format(times[times.size / 2])}, "entries": $entries, "sink": $sink}""")
}

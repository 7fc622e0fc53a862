package dev.twofold.tests

import kotlinx.coroutines.runBlocking
import kotlin.system.exitProcess

/** A minimal test runner: each test is a suspend block; prints `N passed, N failed`. */
class Suite {
    private val tests = mutableListOf<Pair<String, suspend () -> Unit>>()

    /** TWOFOLD_KOTLIN_ONLY=text runs only the tests whose name contains it (for debugging). */
    fun test(name: String, body: suspend () -> Unit) {
        val only = System.getenv("TWOFOLD_KOTLIN_ONLY")
        if (only == null || name.contains(only)) tests += name to body
    }

    fun run(): Int {
        var passed = 0
        var failed = 0
        for ((name, body) in tests) {
            val start = System.nanoTime()
            try {
                runBlocking { body() }
                passed++
                println("PASS  $name (${(System.nanoTime() - start) / 1_000_000} ms)")
            } catch (t: Throwable) {
                failed++
                println("FAIL  $name: $t")
                t.printStackTrace(System.out)
            }
        }
        println("$passed passed, $failed failed")
        return failed
    }
}

class AssertionFailed(message: String) : AssertionError(message)

fun check(condition: Boolean, message: () -> String) {
    if (!condition) throw AssertionFailed(message())
}

fun <T> assertEquals(expected: T, actual: T, what: String = "value") {
    if (expected != actual) throw AssertionFailed("$what: expected <$expected>, got <$actual>")
}

inline fun <reified E : Throwable> assertThrows(block: () -> Unit): E {
    try {
        block()
    } catch (e: Throwable) {
        if (e is E) return e
        throw AssertionFailed("expected ${E::class.simpleName}, got $e")
    }
    throw AssertionFailed("expected ${E::class.simpleName}, nothing was thrown")
}

suspend inline fun <reified E : Throwable> assertThrowsSuspend(crossinline block: suspend () -> Unit): E {
    try {
        block()
    } catch (e: Throwable) {
        if (e is E) return e
        throw AssertionFailed("expected ${E::class.simpleName}, got $e")
    }
    throw AssertionFailed("expected ${E::class.simpleName}, nothing was thrown")
}

fun exitWith(failures: Int): Nothing = exitProcess(if (failures == 0) 0 else 1)

/** Tests write URIs as literals; the facade takes the bytes (and wipes them). */
suspend fun dev.twofold.TwofoldVault.addFromUri(uri: String, allowDuplicate: Boolean = false) =
    addFromUri(uri.toByteArray(Charsets.UTF_8), allowDuplicate)

fun dev.twofold.TwofoldVault.Companion.previewUri(uri: String) = previewUri(uri.toByteArray(Charsets.UTF_8))

/** A device's trust record kept in memory (the app keeps it in Keystore-protected storage). */
class MemoryTrust : dev.twofold.core.TrustStore {
    @Volatile private var record: ByteArray? = null

    override fun load(): ByteArray? = record?.copyOf()

    override fun store(record: ByteArray) {
        this.record = record.copyOf()
    }
}

private val trustByPath = java.util.concurrent.ConcurrentHashMap<String, MemoryTrust>()

/** One device's trust record per vault path, for the whole test run. */
fun trustFor(path: String): MemoryTrust = trustByPath.getOrPut(java.io.File(path).absolutePath) { MemoryTrust() }

/** Tests open and create vaults on "this device": the trust record of the path. */
suspend fun dev.twofold.TwofoldVault.Companion.open(path: String) = open(path, trustFor(path))

suspend fun dev.twofold.TwofoldVault.Companion.create(
    path: String,
    password: ByteArray,
    kdf: dev.twofold.core.KdfSettings,
) = create(path, password, trustFor(path), kdf)

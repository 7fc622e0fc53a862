// :twofold — the Android library that packages the Rust core for the app:
//   1. `cargo ndk` builds libtwofold_ffi.so for arm64-v8a, armeabi-v7a and x86_64 into
//      build/rustJniLibs (packed as jniLibs);
//   2. the pinned uniffi-bindgen generates the Kotlin bindings with the Android config
//      (bindings/ffi/uniffi-android.toml: android = true) into build/generated/uniffi;
//   3. those bindings and the facade in src/main/kotlin compile into the AAR.
import org.gradle.api.tasks.Exec

plugins {
    id("com.android.library")
    id("org.jetbrains.kotlin.android")
}

val repoRoot: File = rootDir.parentFile
val rustJniLibs = layout.buildDirectory.dir("rustJniLibs")
val generatedBindings = layout.buildDirectory.dir("generated/uniffi")
val abis = listOf("arm64-v8a", "armeabi-v7a", "x86_64")

android {
    namespace = "dev.twofold"
    compileSdk = 35

    defaultConfig {
        minSdk = 26
        consumerProguardFiles("consumer-rules.pro")
        ndk { abiFilters += abis }
    }

    sourceSets["main"].java.srcDirs("src/main/kotlin", generatedBindings)
    sourceSets["main"].jniLibs.srcDir(rustJniLibs)

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
}

kotlin {
    jvmToolchain(17)
}

dependencies {
    // JNA for Android ships its native dispatch library in the AAR.
    implementation("net.java.dev.jna:jna:5.15.0@aar")
    // The bindings generated with `android = true` (bindings/ffi/uniffi-android.toml) use
    // android.os.Build and androidx.annotation.RequiresApi for Android 14's SystemCleaner.
    implementation("androidx.annotation:annotation:1.9.1")
    implementation("org.jetbrains.kotlinx:kotlinx-coroutines-android:1.9.0")
}

val cargoNdk by tasks.registering(Exec::class) {
    description = "Builds libtwofold_ffi.so for every Android ABI with cargo-ndk"
    workingDir = repoRoot
    val args = mutableListOf("cargo", "ndk", "--platform", "26")
    abis.forEach { args += listOf("-t", it) }
    args += listOf("-o", rustJniLibs.get().asFile.path, "build", "--release", "--locked", "-p", "twofold-ffi")
    commandLine(args)
}

val generateUniffiBindings by tasks.registering(Exec::class) {
    description = "Generates the Kotlin bindings (Android config) from the built library"
    dependsOn(cargoNdk)
    workingDir = repoRoot
    commandLine(
        "cargo", "run", "--locked", "-q", "-p", "uniffi-bindgen", "--",
        "generate", "--no-format",
        "--library", rustJniLibs.get().file("arm64-v8a/libtwofold_ffi.so").asFile.path,
        "--language", "kotlin",
        "--config", "bindings/ffi/uniffi-android.toml",
        "--out-dir", generatedBindings.get().asFile.path,
    )
}

tasks.named("preBuild") { dependsOn(generateUniffiBindings) }

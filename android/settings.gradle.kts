// Twofold for Android. Modules:
//   :twofold  Kotlin facade over the UniFFI bindings of the Rust core (plain Kotlin; the same
//             sources are compiled and tested on the JVM by tests/kotlin/run.sh)
// Build: see android/README.md (needs the Android SDK + NDK and cargo-ndk).
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}

dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()
        mavenCentral()
    }
}

rootProject.name = "Twofold"
include(":twofold")

// Twofold for Android. Modules:
//   :twofold  Kotlin facade over the UniFFI bindings of the Rust core (plain Kotlin; the same
//             sources are compiled and tested on the JVM by tests/kotlin/run.sh)
//   :app      the Compose app; its view models (app/src/main/kotlin/dev/twofold/app/model) are
//             plain Kotlin over :twofold and are tested on the JVM the same way
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
include(":twofold", ":app")

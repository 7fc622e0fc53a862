// The generated bindings' types (records, enums, `TrustStore`, `TwofoldError`) are part of
// TwofoldKit's API: an app that imports TwofoldKit sees them without depending on the
// TwofoldFFI target, which the package does not offer as a product.
@_exported import TwofoldFFI

//! Host-side helpers shared by the integration tests and `cargo xtask`.

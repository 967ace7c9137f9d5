//! Installing what the commands need: rustup targets, Debian packages, CLIs.

//! The integration tests, linked into one binary (as ripgrep and uv do): the crate and
//! the harness are compiled and linked once, not once per file. Each module is one area;
//! the `*_support` modules and `common` are the shared harness.
//!
//! `tests/relay_memory.rs` is the one test outside: it installs a counting global
//! allocator, which must not see the other tests' allocations.

// A test binary has no outside: its helpers are `pub` for the other modules.
#![allow(unreachable_pub)]

mod common;
mod connect_support;
mod editor_support;
mod needs;
mod relay_support;

mod architecture;
mod cli;
mod config;
mod connect_claude;
mod connect_codex;
mod connect_crash;
mod connect_editors_prop;
mod connect_engine;
mod connect_entries_prop;
mod connect_helpers;
mod connect_preflight;
mod connect_safety;
mod connect_sequences_prop;
mod connect_shell;
mod connect_tools;
mod connect_vscode;
mod connect_yaml;
mod doctor;
mod env;
mod gateways;
mod generated;
mod keyring;
mod login;
#[cfg(unix)]
mod pty;
mod pty_sso;
mod readme;
mod references;
mod relay;
mod relay_attacks;
mod relay_cli;
mod relay_fast_path;
mod relay_tls;
mod run;
mod shells;
mod sso;
mod statusline;
mod token;

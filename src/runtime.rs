//! The async runtime, built here and only here. A command that needs one builds it once
//! (`anyray gateway`, `doctor`, `run --relay`, and the discovery request of `connect`,
//! `env`, `status` and `run`); everything below the commands is async and never builds
//! or blocks on a runtime of its own.

use std::future::Future;

use anyhow::{Context, Result};

/// How many threads run the runtime's tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Threads {
    /// The calling thread alone: one request and done.
    Current,
    /// That many worker threads beside the calling one (the relay, doctor's checks).
    Workers(usize),
}

/// Runs `future` to completion on a new runtime, on this thread. Once it is done
/// nothing is left to wait for: a DNS lookup or a keyring call still stuck on a
/// blocking thread does not hold up the exit.
pub(crate) fn block_on<F: Future>(threads: Threads, future: F) -> Result<F::Output> {
    let mut builder = match threads {
        Threads::Current => tokio::runtime::Builder::new_current_thread(),
        Threads::Workers(n) => {
            let mut builder = tokio::runtime::Builder::new_multi_thread();
            builder.worker_threads(n);
            builder
        }
    };
    let runtime = builder
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let output = runtime.block_on(future);
    runtime.shutdown_background();
    Ok(output)
}

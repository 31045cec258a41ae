//! Launching a command for `anyray run`: it behaves like the command it wraps.
//! Without a relay anyray execs the command in its place (Unix); with one it runs the
//! command as a child, passes on every signal that would otherwise end anyray (so the
//! child is never left without its relay), and passes the exit code through.

use std::ffi::OsString;
use std::io;
use std::process::Command;

use crate::error::UserError;

/// A command line with environment changes layered over the current environment.
#[derive(Debug, Clone, Default)]
pub(crate) struct Launch {
    pub program: OsString,
    pub args: Vec<OsString>,
    pub env: Vec<(OsString, OsString)>,
}

impl Launch {
    fn command(&self) -> Command {
        let mut command = Command::new(&self.program);
        command
            .args(&self.args)
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        command
    }

    /// Replaces this process with the command. Returns only if that failed.
    #[cfg(unix)]
    pub(crate) fn exec(&self) -> anyhow::Error {
        use std::os::unix::process::CommandExt;
        spawn_error(&self.program, self.command().exec())
    }

    /// Runs the command as a child until it exits; anyray lives as long as it does.
    /// Every signal that would end anyray is caught and passed on to the child (see
    /// [`Signals`]), and on Linux the child gets SIGTERM if anyray dies anyway (SIGKILL).
    /// Returns the code to exit with: the child's, or 128 + the signal that killed it.
    ///
    /// Await it on the thread that lives as long as the process (the one in
    /// `runtime::block_on`, not a spawned task): the Linux parent-death signal follows
    /// the thread that started the child.
    pub(crate) async fn run(&self) -> anyhow::Result<u8> {
        // Handlers go in before the child exists: a signal in between would otherwise
        // kill anyray and orphan the command.
        #[cfg(unix)]
        let signals = Signals::install()?;
        let mut command = self.command();
        #[cfg(any(target_os = "linux", target_os = "android"))]
        die_with_parent(&mut command);
        let mut child = tokio::process::Command::from(command)
            .spawn()
            .map_err(|e| spawn_error(&self.program, e))?;
        #[cfg(unix)]
        let forwarder = child.id().map(|pid| tokio::spawn(signals.forward(pid)));
        let status = child.wait().await?;
        #[cfg(unix)]
        if let Some(task) = forwarder {
            task.abort();
        }
        Ok(exit_code(status))
    }
}

/// The shell convention: 127 when the command is not found, 126 when it cannot run.
fn spawn_error(program: &OsString, err: io::Error) -> anyhow::Error {
    let name = program.to_string_lossy();
    match err.kind() {
        io::ErrorKind::NotFound => UserError::new(
            crate::error::ExitStatus::Problem,
            format!("command not found: {name}"),
        )
        .with_hint("check the spelling, or that it is on PATH")
        .into_code(127),
        io::ErrorKind::PermissionDenied => UserError::new(
            crate::error::ExitStatus::Problem,
            format!("permission denied: {name}"),
        )
        .into_code(126),
        _ => anyhow::Error::new(err).context(format!("cannot run {name}")),
    }
}

fn exit_code(status: std::process::ExitStatus) -> u8 {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return 128u8.saturating_add(u8::try_from(signal).unwrap_or(127));
        }
    }
    status
        .code()
        .map_or(1, |c| u8::try_from(c & 0xff).unwrap_or(1))
}

/// The child gets SIGTERM when anyray dies, even by SIGKILL, which no handler sees.
#[cfg(any(target_os = "linux", target_os = "android"))]
#[allow(unsafe_code)] // pre_exec and libc calls
fn die_with_parent(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    let parent = libc::pid_t::try_from(std::process::id()).unwrap_or(0);
    // SAFETY: the closure runs in the child between fork and exec, and only makes
    // async-signal-safe calls (prctl, getppid, raise).
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                return Err(io::Error::last_os_error());
            }
            // anyray died before the prctl: no signal would come any more.
            if libc::getppid() != parent {
                libc::raise(libc::SIGTERM);
            }
            Ok(())
        });
    }
}

/// Every catchable signal whose default would end anyray (or that the child may want),
/// each with whether to pass it on. SIGINT, SIGQUIT and SIGWINCH come from a terminal,
/// which already sends them to the child's process group: there anyray ignores its own
/// copy (a second Ctrl-C would look like a double one). Not caught: SIGKILL and SIGSTOP
/// (impossible), the faults (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS, SIGABRT:
/// anyray itself is broken then, and the parent-death signal still ends the child), job
/// control (SIGTSTP, SIGTTIN, SIGTTOU, SIGCONT: a terminal stops both together), SIGCHLD
/// (the child's own exit), SIGPIPE (ignored by Rust) and SIGURG (ignored by default).
#[cfg(unix)]
fn forwarded_signals(on_terminal: bool) -> Vec<(libc::c_int, bool)> {
    let from_terminal = [libc::SIGINT, libc::SIGQUIT, libc::SIGWINCH];
    let skipped = [
        libc::SIGKILL,
        libc::SIGSTOP,
        libc::SIGSEGV,
        libc::SIGBUS,
        libc::SIGILL,
        libc::SIGFPE,
        libc::SIGTRAP,
        libc::SIGSYS,
        libc::SIGABRT,
        libc::SIGTSTP,
        libc::SIGTTIN,
        libc::SIGTTOU,
        libc::SIGCONT,
        libc::SIGCHLD,
        libc::SIGPIPE,
        libc::SIGURG,
    ];
    // Linux: every standard signal not skipped (SIGPWR, SIGSTKFLT, SIGIO, … included) and
    // the real-time ones; glibc keeps the two below SIGRTMIN() for its threads.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let all: Vec<libc::c_int> = (1..32).chain(libc::SIGRTMIN()..=libc::SIGRTMAX()).collect();
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let all: Vec<libc::c_int> = vec![
        libc::SIGHUP,
        libc::SIGINT,
        libc::SIGQUIT,
        libc::SIGUSR1,
        libc::SIGUSR2,
        libc::SIGALRM,
        libc::SIGTERM,
        libc::SIGVTALRM,
        libc::SIGPROF,
        libc::SIGXCPU,
        libc::SIGXFSZ,
        libc::SIGWINCH,
        libc::SIGIO,
    ];
    all.into_iter()
        .filter(|sig| !skipped.contains(sig))
        .map(|sig| (sig, !(on_terminal && from_terminal.contains(&sig))))
        .collect()
}

/// The signal handlers `run` holds while the child lives.
#[cfg(unix)]
struct Signals {
    streams: Vec<(libc::c_int, bool, tokio::signal::unix::Signal)>,
}

#[cfg(unix)]
impl Signals {
    fn install() -> io::Result<Self> {
        use std::io::IsTerminal;
        use tokio::signal::unix::{SignalKind, signal};
        let on_terminal = std::io::stdin().is_terminal();
        let streams = forwarded_signals(on_terminal)
            .into_iter()
            .map(|(sig, forward)| Ok((sig, forward, signal(SignalKind::from_raw(sig))?)))
            .collect::<io::Result<_>>()?;
        Ok(Self { streams })
    }

    async fn forward(mut self, pid: u32) {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return;
        };
        loop {
            let (sig, forward) = std::future::poll_fn(|cx| {
                for (sig, forward, stream) in &mut self.streams {
                    if stream.poll_recv(cx).is_ready() {
                        return std::task::Poll::Ready((*sig, *forward));
                    }
                }
                std::task::Poll::Pending
            })
            .await;
            if forward {
                #[allow(unsafe_code)] // a libc call
                // SAFETY: kill(2) has no memory-safety preconditions; a stale pid only fails.
                unsafe {
                    libc::kill(pid, sig);
                }
            }
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn sh(script: &str) -> Launch {
        Launch {
            program: "sh".into(),
            args: vec!["-c".into(), script.into()],
            env: vec![],
        }
    }

    fn run(launch: &Launch) -> anyhow::Result<u8> {
        crate::runtime::block_on(crate::runtime::Threads::Current, launch.run()).unwrap()
    }

    #[test]
    fn passes_exit_codes_through() {
        assert_eq!(run(&sh("exit 0")).unwrap(), 0);
        assert_eq!(run(&sh("exit 3")).unwrap(), 3);
        assert_eq!(run(&sh("kill -INT $$")).unwrap(), 130);
    }

    #[test]
    fn layers_env_over_the_current_one() {
        let mut launch = sh("test \"$ANYRAY_TEST_VAR\" = 'a b' && test -n \"$PATH\"");
        launch.env.push(("ANYRAY_TEST_VAR".into(), "a b".into()));
        assert_eq!(run(&launch).unwrap(), 0);
    }

    #[test]
    fn missing_command_is_127() {
        let launch = Launch {
            program: "/no/such/command".into(),
            ..Launch::default()
        };
        let err = run(&launch).unwrap_err();
        let outcome = crate::error::classify(&err);
        assert_eq!(outcome.code, 127);
        assert!(
            err.to_string()
                .contains("command not found: /no/such/command")
        );
    }
}

/// What a bounded run of a small command ([`run_bounded`]) gave.
#[derive(Debug)]
pub(crate) struct Finished {
    pub status: std::process::ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub took: std::time::Duration,
}

/// Runs a small command to its end (`codex --version`, a tool's credential helper):
/// stdin closed, both outputs read on threads of their own (so a chatty command cannot
/// block on a full pipe), killed after `limit`. `Err` says why it did not finish.
pub(crate) fn run_bounded(
    mut cmd: Command,
    limit: std::time::Duration,
) -> Result<Finished, String> {
    use std::io::Read;
    use std::process::Stdio;
    use std::time::{Duration, Instant};
    let started = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start it: {e}"))?;
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as _));
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as _));
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() < limit => std::thread::sleep(Duration::from_millis(5)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("timed out after {} s", limit.as_secs_f32()));
            }
            Err(e) => return Err(format!("cannot wait for it: {e}")),
        }
    };
    Ok(Finished {
        status,
        took: started.elapsed(),
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    })
}

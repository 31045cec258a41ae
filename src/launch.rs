//! Launching a command for `anyray run`: it behaves like the command it wraps.
//! Without a relay anyray execs the command in its place (Unix); with one it runs the
//! command as a child, forwards termination signals and passes the exit code through.

use std::ffi::OsString;
use std::io;
use std::process::Command;

use crate::error::UserError;

/// A command line with environment changes layered over the current environment.
#[derive(Debug, Clone, Default)]
pub struct Launch {
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
    pub fn exec(&self) -> anyhow::Error {
        use std::os::unix::process::CommandExt;
        spawn_error(&self.program, self.command().exec())
    }

    /// Runs the command as a child until it exits, forwarding SIGTERM and SIGHUP (and
    /// SIGINT when there is no terminal: on a terminal, Ctrl-C already reaches the
    /// child's process group, and a second copy would look like a double Ctrl-C).
    /// Returns the code to exit with: the child's, or 128 + the signal that killed it.
    pub async fn run(&self) -> anyhow::Result<u8> {
        let mut child = tokio::process::Command::from(self.command())
            .spawn()
            .map_err(|e| spawn_error(&self.program, e))?;
        #[cfg(unix)]
        let forwarder = child.id().map(|pid| tokio::spawn(forward_signals(pid)));
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

#[cfg(unix)]
async fn forward_signals(pid: u32) {
    use std::io::IsTerminal;
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut hup), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
        signal(SignalKind::interrupt()),
    ) else {
        return;
    };
    let forward_int = !std::io::stdin().is_terminal();
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return;
    };
    loop {
        let sig = tokio::select! {
            _ = term.recv() => libc::SIGTERM,
            _ = hup.recv() => libc::SIGHUP,
            _ = int.recv() => {
                if !forward_int { continue }
                libc::SIGINT
            }
        };
        // SAFETY: kill(2) has no memory-safety preconditions; a stale pid only fails.
        unsafe {
            libc::kill(pid, sig);
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
        crate::http::block_on(launch.run()).unwrap()
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

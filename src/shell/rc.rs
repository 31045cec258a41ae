//! Which shell startup files get anyray's sourcing line, what the line is, and how it is
//! added and removed without touching anything else in the file (rustup style).
//!
//! Which files, and why:
//! - **bash**: a login bash (macOS terminals, ssh, `bash -l`) reads only the first of
//!   `~/.bash_profile`, `~/.bash_login`, `~/.profile`; an interactive non-login bash (a new
//!   terminal tab on Linux) reads only `~/.bashrc`. So both get the line: `~/.bashrc`, and
//!   the login file bash actually reads (the first that exists). When none exists we
//!   create `~/.profile`, never `~/.bash_profile`: that would hide an existing setup in a
//!   `.profile` created later. Sourcing twice (a login file that sources `.bashrc`) is
//!   harmless: the env file only sets variables.
//! - **zsh**: `.zshenv` is read by every zsh (login, interactive or a script), in
//!   `$ZDOTDIR` (default `$HOME`). `ZDOTDIR` is often set inside `~/.zshenv` itself, so
//!   every `.zshenv` that exists of `$ZDOTDIR/.zshenv` and `~/.zshenv` gets the line;
//!   when neither exists, `$ZDOTDIR/.zshenv` is created.
//! - **fish**: a drop-in `conf.d/anyray.fish` (in `$XDG_CONFIG_HOME/fish`, default
//!   `~/.config/fish`) that anyray owns: fish reads every file there at startup, in name
//!   order and before `config.fish`, so a value the user sets in `config.fish` still wins.
//! - **PowerShell**: `$PROFILE` (current user, current host): `~/.config/powershell/`
//!   (following `XDG_CONFIG_HOME`) on Linux and macOS, `Documents\PowerShell\` on Windows.
//!   Windows PowerShell 5.1's `Documents\WindowsPowerShell\` profile is only edited when
//!   it exists: its default execution policy refuses to run profile scripts, and a new
//!   profile would print an error in every window.
//!
//! A shell is included when it is installed (on `PATH`) or its startup file already
//! exists; for a shell that is not installed only existing files are edited. On Windows
//! `bash.exe` on `PATH` is usually WSL's launcher into another home, so POSIX shells
//! there count only through existing files (Git Bash users have a `.bashrc`).

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::Syntax;
use crate::envvars;
use crate::paths;

/// The marker that ends every line anyray adds to a file it does not own.
pub(crate) const MARKER: &str = "# anyray";

/// The shells whose startup files anyray edits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    #[serde(rename = "pwsh")]
    PowerShell,
}

impl Shell {
    pub const ALL: [Shell; 4] = [Shell::Bash, Shell::Zsh, Shell::Fish, Shell::PowerShell];

    pub fn name(self) -> &'static str {
        match self {
            Shell::Bash => "bash",
            Shell::Zsh => "zsh",
            Shell::Fish => "fish",
            Shell::PowerShell => "pwsh",
        }
    }

    /// The env file this shell sources.
    pub fn syntax(self) -> Syntax {
        match self {
            Shell::Bash | Shell::Zsh => Syntax::Posix,
            Shell::Fish => Syntax::Fish,
            Shell::PowerShell => Syntax::PowerShell,
        }
    }
}

/// How a startup file is changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RcKind {
    /// A file the user owns: add (and later remove) one line, with
    /// [`crate::edit::lines::add_line`] and [`crate::edit::lines::remove_line`].
    Line,
    /// A file anyray owns: write it whole, delete it on disconnect.
    DropIn,
}

/// One startup file to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RcTarget {
    pub shell: Shell,
    pub path: PathBuf,
    pub kind: RcKind,
    /// The line to add ([`RcKind::Line`]) or the whole file ([`RcKind::DropIn`]).
    pub text: String,
}

/// What [`rc_targets`] needs to know about the machine, gathered once by [`ShellProbe::detect`]
/// so the decision itself is a pure function of it (and of which files exist).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShellProbe {
    pub home: PathBuf,
    /// `$ZDOTDIR`, when set.
    pub zdotdir: Option<PathBuf>,
    /// `$XDG_CONFIG_HOME`, when set to an absolute path (the XDG spec ignores others).
    pub xdg_config_home: Option<PathBuf>,
    /// The Documents folder (Windows PowerShell profiles live there).
    pub documents: Option<PathBuf>,
    pub windows: bool,
    /// Shells whose program is on `PATH`.
    pub installed: Vec<Shell>,
}

impl ShellProbe {
    /// Reads HOME, `ZDOTDIR`, `XDG_CONFIG_HOME`, the Documents folder and `PATH`.
    pub(crate) fn detect() -> anyhow::Result<Self> {
        let windows = cfg!(windows);
        let installed = Shell::ALL
            .into_iter()
            .filter(|&shell| !windows || shell == Shell::PowerShell)
            .filter(|shell| on_path(shell.name()))
            .collect();
        let absolute = |var: &str| {
            envvars::get(var)
                .map(PathBuf::from)
                .filter(|p| p.is_absolute())
        };
        Ok(Self {
            home: paths::home_dir()?,
            zdotdir: absolute(envvars::ZDOTDIR),
            xdg_config_home: absolute("XDG_CONFIG_HOME"),
            documents: dirs::document_dir(),
            windows,
            installed,
        })
    }

    fn installed(&self, shell: Shell) -> bool {
        self.installed.contains(&shell)
    }

    fn config_home(&self) -> PathBuf {
        self.xdg_config_home
            .clone()
            .unwrap_or_else(|| self.home.join(".config"))
    }
}

/// Whether `program` is an executable file in a `PATH` directory.
pub fn on_path(program: &str) -> bool {
    find_on_path(program).is_some()
}

/// The first executable file named `program` in a `PATH` directory, as PATH names it
/// (a symlink is not resolved).
pub fn find_on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    let name = if cfg!(windows) {
        format!("{program}.exe")
    } else {
        program.to_string()
    };
    std::env::split_paths(&path)
        .map(|dir| dir.join(&name))
        .find(|candidate| is_executable(candidate))
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

/// The startup files to change so that every shell sources the env file in `env_dir`
/// (anyray's config dir), in a stable order. See the module docs for the choice of files.
pub fn rc_targets(probe: &ShellProbe, env_dir: &Path) -> Vec<RcTarget> {
    let mut targets = Vec::new();
    for shell in Shell::ALL {
        let env_file = env_dir.join(shell.syntax().file_name());
        let (paths, kind) = match shell {
            Shell::Bash => (bash_files(probe), RcKind::Line),
            Shell::Zsh => (zsh_files(probe), RcKind::Line),
            Shell::Fish => (fish_drop_in(probe).into_iter().collect(), RcKind::DropIn),
            Shell::PowerShell => (powershell_profiles(probe), RcKind::Line),
        };
        let text = match kind {
            RcKind::Line => source_line(shell.syntax(), &env_file),
            RcKind::DropIn => fish_drop_in_contents(&env_file),
        };
        targets.extend(paths.into_iter().map(|path| RcTarget {
            shell,
            path,
            kind,
            text: text.clone(),
        }));
    }
    targets
}

/// `~/.bashrc` and the login file bash reads; only existing ones when bash is not installed.
fn bash_files(probe: &ShellProbe) -> Vec<PathBuf> {
    let home = &probe.home;
    let login = [".bash_profile", ".bash_login", ".profile"]
        .map(|name| home.join(name))
        .into_iter()
        .find(|p| p.exists())
        .unwrap_or_else(|| home.join(".profile"));
    let files = [home.join(".bashrc"), login];
    if probe.installed(Shell::Bash) {
        files.to_vec()
    } else if files[0].exists()
        || [".bash_profile", ".bash_login"]
            .iter()
            .any(|n| home.join(n).exists())
    {
        // bash is configured here without being on PATH: edit what exists.
        files.into_iter().filter(|p| p.exists()).collect()
    } else {
        Vec::new()
    }
}

/// Every existing `.zshenv` zsh may read, else `$ZDOTDIR/.zshenv` when zsh is installed.
fn zsh_files(probe: &ShellProbe) -> Vec<PathBuf> {
    let dotdir = probe.zdotdir.as_ref().unwrap_or(&probe.home);
    let mut candidates = vec![dotdir.join(".zshenv"), probe.home.join(".zshenv")];
    candidates.dedup();
    let existing: Vec<PathBuf> = candidates.iter().filter(|p| p.exists()).cloned().collect();
    if !existing.is_empty() {
        existing
    } else if probe.installed(Shell::Zsh) || dotdir.join(".zshrc").exists() {
        vec![candidates.swap_remove(0)]
    } else {
        Vec::new()
    }
}

/// `{config}/fish/conf.d/anyray.fish`, when fish is installed or configured.
fn fish_drop_in(probe: &ShellProbe) -> Option<PathBuf> {
    let fish_dir = probe.config_home().join("fish");
    (probe.installed(Shell::Fish) || fish_dir.is_dir())
        .then(|| fish_dir.join("conf.d").join("anyray.fish"))
}

fn powershell_profiles(probe: &ShellProbe) -> Vec<PathBuf> {
    const PROFILE: &str = "Microsoft.PowerShell_profile.ps1";
    let mut profiles = Vec::new();
    let core = if probe.windows {
        probe
            .documents
            .as_ref()
            .map(|d| d.join("PowerShell").join(PROFILE))
    } else {
        Some(probe.config_home().join("powershell").join(PROFILE))
    };
    if let Some(core) = core
        && (probe.installed(Shell::PowerShell) || core.exists())
    {
        profiles.push(core);
    }
    if probe.windows
        && let Some(documents) = &probe.documents
    {
        let legacy = documents.join("WindowsPowerShell").join(PROFILE);
        if legacy.exists() {
            profiles.push(legacy);
        }
    }
    profiles
}

/// The marked line that sources `env_file` when it exists (a removed config dir must not
/// break shell startup).
pub fn source_line(syntax: Syntax, env_file: &Path) -> String {
    let path = syntax.quote(&env_file.to_string_lossy());
    match syntax {
        Syntax::Posix => format!("if [ -f {path} ]; then . {path}; fi {MARKER}"),
        Syntax::Fish => format!("test -f {path}; and source {path} {MARKER}"),
        Syntax::PowerShell => {
            format!("if (Test-Path -LiteralPath {path}) {{ . {path} }} {MARKER}")
        }
    }
}

/// The fish `conf.d` drop-in: anyray owns the whole file.
pub(crate) fn fish_drop_in_contents(env_file: &Path) -> String {
    let path = Syntax::Fish.quote(&env_file.to_string_lossy());
    format!(
        "# {}\nif test -f {path}\n    source {path}\nend\n",
        super::HEADER
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(home: &Path) -> ShellProbe {
        ShellProbe {
            home: home.to_path_buf(),
            zdotdir: None,
            xdg_config_home: None,
            documents: None,
            windows: false,
            installed: Shell::ALL.to_vec(),
        }
    }

    fn paths(targets: &[RcTarget], home: &Path) -> Vec<(Shell, String)> {
        targets
            .iter()
            .map(|t| {
                let rel = t.path.strip_prefix(home).unwrap_or(&t.path);
                (t.shell, rel.to_string_lossy().replace('\\', "/"))
            })
            .collect()
    }

    #[test]
    fn installed_shells_on_a_fresh_home() {
        let home = tempfile::tempdir().unwrap();
        let h = home.path();
        let targets = rc_targets(&probe(h), &h.join("cfg"));
        assert_eq!(
            paths(&targets, h),
            [
                (Shell::Bash, ".bashrc".into()),
                (Shell::Bash, ".profile".into()),
                (Shell::Zsh, ".zshenv".into()),
                (Shell::Fish, ".config/fish/conf.d/anyray.fish".into()),
                (
                    Shell::PowerShell,
                    ".config/powershell/Microsoft.PowerShell_profile.ps1".into()
                ),
            ]
        );
        let env_sh = h.join("cfg/env.sh");
        assert_eq!(targets[0].text, source_line(Syntax::Posix, &env_sh));
        assert_eq!(targets[3].kind, RcKind::DropIn);
        assert!(targets[3].text.contains("source '"));
    }

    #[test]
    fn bash_login_file_is_the_one_bash_reads() {
        let home = tempfile::tempdir().unwrap();
        let h = home.path();
        std::fs::write(h.join(".profile"), "").unwrap();
        std::fs::write(h.join(".bash_login"), "").unwrap();
        assert_eq!(
            bash_files(&probe(h)),
            [h.join(".bashrc"), h.join(".bash_login")]
        );
        std::fs::write(h.join(".bash_profile"), "").unwrap();
        assert_eq!(
            bash_files(&probe(h)),
            [h.join(".bashrc"), h.join(".bash_profile")]
        );

        // Not installed: only the files that exist.
        let mut absent = probe(h);
        absent.installed.clear();
        assert_eq!(bash_files(&absent), [h.join(".bash_profile")]);
        std::fs::remove_file(h.join(".bash_profile")).unwrap();
        std::fs::remove_file(h.join(".bash_login")).unwrap();
        assert!(
            bash_files(&absent).is_empty(),
            "a lone .profile does not mean bash"
        );
    }

    #[test]
    fn zsh_honours_zdotdir() {
        let home = tempfile::tempdir().unwrap();
        let h = home.path();
        let dot = h.join("zdot");
        std::fs::create_dir(&dot).unwrap();
        let mut p = probe(h);
        p.zdotdir = Some(dot.clone());
        assert_eq!(zsh_files(&p), [dot.join(".zshenv")]);
        std::fs::write(h.join(".zshenv"), "export ZDOTDIR=~/zdot\n").unwrap();
        assert_eq!(zsh_files(&p), [h.join(".zshenv")]);
        std::fs::write(dot.join(".zshenv"), "").unwrap();
        assert_eq!(zsh_files(&p), [dot.join(".zshenv"), h.join(".zshenv")]);
        p.installed.clear();
        p.zdotdir = None;
        std::fs::remove_file(h.join(".zshenv")).unwrap();
        assert!(zsh_files(&p).is_empty());
    }

    #[test]
    fn fish_and_pwsh_follow_xdg_and_presence() {
        let home = tempfile::tempdir().unwrap();
        let h = home.path();
        let mut p = probe(h);
        p.xdg_config_home = Some(h.join("xdg"));
        assert_eq!(
            fish_drop_in(&p),
            Some(h.join("xdg/fish/conf.d/anyray.fish"))
        );
        assert_eq!(
            powershell_profiles(&p),
            [h.join("xdg/powershell/Microsoft.PowerShell_profile.ps1")]
        );
        p.installed.clear();
        assert_eq!(fish_drop_in(&p), None);
        assert!(powershell_profiles(&p).is_empty());
        std::fs::create_dir_all(h.join("xdg/fish")).unwrap();
        assert!(
            fish_drop_in(&p).is_some(),
            "a fish config dir means fish is used"
        );
    }

    #[test]
    fn windows_powershell_profiles() {
        let home = tempfile::tempdir().unwrap();
        let docs = home.path().join("Documents");
        let mut p = probe(home.path());
        p.windows = true;
        p.documents = Some(docs.clone());
        let core = docs.join("PowerShell/Microsoft.PowerShell_profile.ps1");
        assert_eq!(powershell_profiles(&p), std::slice::from_ref(&core));
        let legacy = docs.join("WindowsPowerShell/Microsoft.PowerShell_profile.ps1");
        std::fs::create_dir_all(legacy.parent().unwrap()).unwrap();
        std::fs::write(&legacy, "").unwrap();
        assert_eq!(powershell_profiles(&p), [core, legacy]);
    }

    #[test]
    fn source_lines_quote_the_path() {
        let path = Path::new("/home/o'neil/my dir/env.sh");
        assert_eq!(
            source_line(Syntax::Posix, path),
            r"if [ -f '/home/o'\''neil/my dir/env.sh' ]; then . '/home/o'\''neil/my dir/env.sh'; fi # anyray"
        );
        assert_eq!(
            source_line(Syntax::PowerShell, Path::new("C:\\Users\\o'neil\\env.ps1")),
            r"if (Test-Path -LiteralPath 'C:\Users\o''neil\env.ps1') { . 'C:\Users\o''neil\env.ps1' } # anyray"
        );
    }
}

//! Targets that are a declaration: which files a tool reads, in which format, which keys
//! to set there to which gateway URL, and how the tool is detected. [`Declared`] turns
//! that into the engine's [`FileSpec`]s, reads the endpoint the tool will use, and says
//! what the gateway must serve. A tool module (`opencode.rs`, `aider.rs`, …) is then a
//! `static` plus the knowledge that really is the tool's own: where its files live, and
//! the sources the keys come from.
//!
//! Three kinds of value:
//! - [`Value::Url`]: a provider's route with a suffix (`{gw}/v1`), optionally after a
//!   prefix (aider's `set-env: [ANTHROPIC_API_BASE={gw}]`). Written only when the gateway
//!   serves that provider; the key is the tool's endpoint for `status`.
//! - [`Value::Text`]: a fixed string (a provider type, the *name* of an env variable that
//!   holds the key). Written with the URL keys of the same provider (`when`), or always.
//! - [`Value::Seed`]: a value the tool needs present (Continue's `name`/`version`, a model
//!   id) but the user may choose: written only where the file has none, never overwritten,
//!   and not part of `status`.

use std::path::PathBuf;

use anyhow::Result;

use super::{Ctx, Detection, Effective, Target, TargetPlan, detect};
use crate::connect::{self, FileSpec, Format, TargetName, Want};
use crate::edit::lines::OwnedDoc;
use crate::edit::{Editor, KeyPath, Seg};
use crate::gateway_url::{Provider, Routes};

/// One step of a declared key path (see [`Seg`]).
#[derive(Debug, Clone, Copy)]
pub(super) enum Step {
    Key(&'static str),
    Named(&'static str),
    Prefixed(&'static str),
    /// The list entry whose field (first) holds the value (second).
    Entry(&'static str, &'static str),
}

/// What goes at a key.
#[derive(Debug, Clone, Copy)]
pub(super) enum Value {
    /// `prefix` + the provider's route + `suffix`.
    Url {
        provider: Provider,
        prefix: &'static str,
        suffix: &'static str,
    },
    Text(&'static str),
    Seed(&'static str),
    /// A whole file anyray owns (the key is [`OwnedDoc::key`]), made from the routes.
    Document(fn(&Routes) -> Option<String>),
}

/// A key and its value. `when`: the provider whose route this key belongs to (a `Url`
/// value's own provider when `None`); without a provider the key is always written.
#[derive(Debug, Clone, Copy)]
pub(super) struct Key {
    pub(super) path: &'static [Step],
    pub(super) value: Value,
    pub(super) when: Option<Provider>,
}

impl Key {
    /// The gateway's `provider` route + `suffix` at `path`.
    pub(super) const fn url(
        path: &'static [Step],
        provider: Provider,
        suffix: &'static str,
    ) -> Self {
        Self {
            path,
            value: Value::Url {
                provider,
                prefix: "",
                suffix,
            },
            when: None,
        }
    }

    /// A fixed string, written with `provider`'s keys (always, when `None`).
    pub(super) const fn text(
        path: &'static [Step],
        text: &'static str,
        when: Option<Provider>,
    ) -> Self {
        Self {
            path,
            value: Value::Text(text),
            when,
        }
    }

    /// A value written only where the file has none (see the module docs).
    pub(super) const fn seed(
        path: &'static [Step],
        text: &'static str,
        when: Option<Provider>,
    ) -> Self {
        Self {
            path,
            value: Value::Seed(text),
            when,
        }
    }

    fn provider(&self) -> Option<Provider> {
        match self.value {
            Value::Url { provider, .. } => Some(provider),
            _ => self.when,
        }
    }

    fn key_path(&self) -> KeyPath {
        if let Value::Document(_) = self.value {
            return OwnedDoc::key();
        }
        KeyPath(
            self.path
                .iter()
                .map(|step| match *step {
                    Step::Key(k) => Seg::Key(k.into()),
                    Step::Named(n) => Seg::Named(n.into()),
                    Step::Prefixed(p) => Seg::Prefixed(p.into()),
                    Step::Entry(field, value) => Seg::Entry {
                        field: field.into(),
                        value: value.into(),
                    },
                })
                .collect(),
        )
    }
}

/// One file a tool reads.
pub(super) struct File {
    pub(super) path: fn() -> Result<PathBuf>,
    pub(super) format: Format,
    pub(super) keys: &'static [Key],
}

/// A tool described by its files and keys.
pub(super) struct Declared {
    pub(super) name: TargetName,
    /// Commands whose presence on PATH means the tool is installed (the first is named).
    pub(super) bins: &'static [&'static str],
    /// The tool's config dir (or file), whose existence also means installed.
    pub(super) home: fn() -> Result<PathBuf>,
    /// The providers the tool can use through the gateway; the target is skipped when
    /// the gateway serves none of them.
    pub(super) providers: &'static [Provider],
    pub(super) files: &'static [File],
    /// Where the tool goes when no file sets a URL.
    pub(super) default_endpoint: &'static str,
    /// What the user should know (credentials, shadowing files).
    pub(super) notes: &'static [&'static str],
    /// The endpoint the tool uses, when no declared URL key says it (`None`: the first
    /// URL key found in the files, else `default_endpoint`).
    pub(super) effective: Option<fn() -> Result<Effective>>,
}

impl Declared {
    fn serves(&self, routes: &Routes, key: &Key) -> bool {
        key.provider()
            .is_none_or(|provider| routes.get(provider).is_some())
    }

    /// The wanted value of `key` on this gateway (`None` for a seed or an unserved route).
    fn wanted(&self, routes: &Routes, key: &Key) -> Option<String> {
        if !self.serves(routes, key) {
            return None;
        }
        match key.value {
            Value::Url {
                provider,
                prefix,
                suffix,
            } => routes
                .get(provider)
                .map(|url| format!("{prefix}{url}{suffix}")),
            Value::Text(text) => Some(text.into()),
            Value::Seed(_) => None,
            Value::Document(make) => make(routes),
        }
    }

    /// The first file's keys with their values on `routes` (seeds left out), as a new
    /// compact JSON document: what `anyray run` hands a tool that takes an inline config
    /// (opencode's `OPENCODE_CONFIG_CONTENT`). `None` when no key applies.
    pub(super) fn inline_json(&self, routes: &Routes) -> Option<String> {
        let mut doc = crate::edit::json::parse("", crate::edit::json::Dialect::Strict).ok()?;
        let mut any = false;
        for key in self.files.first()?.keys {
            if let Some(value) = self.wanted(routes, key) {
                doc.set(&key.key_path(), &value).ok()?;
                any = true;
            }
        }
        let value: serde_json::Value = serde_json::from_str(&doc.render()).ok()?;
        any.then(|| value.to_string())
    }
}

impl Target for Declared {
    fn name(&self) -> TargetName {
        self.name
    }

    fn detect(&self) -> Detection {
        let found = self
            .bins
            .iter()
            .find(|bin| crate::shell::rc::on_path(bin))
            .unwrap_or(&self.bins[0]);
        detect(found, (self.home)())
    }

    fn plan(&self, ctx: &Ctx) -> Result<TargetPlan> {
        let mut plan = TargetPlan {
            notes: self.notes.iter().map(|n| (*n).to_string()).collect(),
            ..TargetPlan::default()
        };
        if !self.providers.iter().any(|p| ctx.routes.get(*p).is_some()) {
            let names: Vec<&str> = self.providers.iter().map(|p| p.key()).collect();
            plan.skip = Some(format!(
                "the gateway serves no {} route",
                names.join(" or ")
            ));
            return Ok(plan);
        }
        for file in self.files {
            let path = (file.path)()?;
            // A seed is written where the file has none, in its declared place.
            let seeds: Vec<KeyPath> = file
                .keys
                .iter()
                .filter(|key| matches!(key.value, Value::Seed(_)))
                .map(Key::key_path)
                .collect();
            let mut present = connect::read_values(&path, file.format, &seeds)?
                .into_iter()
                .map(|value| value.is_some());
            let mut wants = Vec::new();
            for key in file.keys {
                let want = match key.value {
                    Value::Seed(text) => {
                        let absent = !present.next().unwrap_or(true);
                        (absent && self.serves(&ctx.routes, key))
                            .then(|| Want::seed(key.key_path(), text))
                    }
                    _ => self
                        .wanted(&ctx.routes, key)
                        .map(|value| Want::new(key.key_path(), value)),
                };
                wants.extend(want);
            }
            if !wants.is_empty() {
                plan.files.push(FileSpec {
                    path,
                    format: file.format,
                    wants,
                });
            }
        }
        Ok(plan)
    }

    fn effective(&self, _ctx: &Ctx) -> Result<Effective> {
        if let Some(effective) = self.effective {
            return effective();
        }
        for file in self.files {
            let keys: Vec<KeyPath> = file
                .keys
                .iter()
                .filter(|key| matches!(key.value, Value::Url { .. }))
                .map(Key::key_path)
                .collect();
            let prefixes = file.keys.iter().filter_map(|key| match key.value {
                Value::Url { prefix, .. } => Some(prefix),
                _ => None,
            });
            let values = connect::read_values(&(file.path)()?, file.format, &keys)?;
            if let Some(url) = values
                .into_iter()
                .zip(prefixes)
                .find_map(|(value, prefix)| Some(value?.strip_prefix(prefix)?.to_string()))
            {
                return Ok(Effective {
                    endpoint: Some(url),
                    overridden_by: None,
                });
            }
        }
        Ok(Effective {
            endpoint: Some(self.default_endpoint.into()),
            overridden_by: None,
        })
    }
}

/// `$XDG_CONFIG_HOME` when set to an absolute path (the XDG spec ignores others), else
/// `~/.config`, on every OS: what Node's `xdg-basedir` and Go tools using it read.
pub(super) fn xdg_config_home() -> Result<PathBuf> {
    match crate::envvars::get(crate::envvars::XDG_CONFIG_HOME).map(PathBuf::from) {
        Some(dir) if dir.is_absolute() => Ok(dir),
        _ => Ok(crate::paths::home_dir()?.join(".config")),
    }
}

/// `$var` when set, else `default()`: the many tools whose home dir an env var moves.
pub(super) fn env_dir(var: &str, default: impl FnOnce() -> Result<PathBuf>) -> Result<PathBuf> {
    match crate::envvars::get(var) {
        Some(dir) => Ok(PathBuf::from(dir)),
        None => default(),
    }
}

//! The environment variables doctor looks at, read once so that the checks are pure
//! functions of their inputs (and testable without touching the process env).

use std::collections::BTreeMap;

use crate::envvars;

/// A snapshot of the proxy, CA and provider variables (empty values count as unset).
#[derive(Debug, Clone, Default)]
pub(crate) struct Env(BTreeMap<String, String>);

impl Env {
    pub(crate) fn from_process() -> Self {
        let names = envvars::PROXY_VARS
            .iter()
            .chain(envvars::CA_VARS)
            .chain(envvars::PROVIDER_VARS);
        Self(
            names
                .filter_map(|&name| envvars::get(name).map(|v| (name.to_string(), v)))
                .collect(),
        )
    }

    #[cfg(test)]
    pub(crate) fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Self(
            pairs
                .into_iter()
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// The first of `names` that is set, with its name.
    pub(crate) fn first(&self, names: &[&'static str]) -> Option<(&'static str, &str)> {
        names
            .iter()
            .find_map(|&name| self.get(name).map(|value| (name, value)))
    }
}

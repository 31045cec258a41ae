//! Which checks a run includes: `--only` and `--skip` entries ([`Select`]: an id or a
//! group), resolved against [`CheckId::ALL`].

use super::finding::{CheckId, Group};

/// One `--only`/`--skip` entry: a check or a group of them. clap accepts exactly
/// [`CheckId::ALL`]'s ids, then the groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Select {
    Check(CheckId),
    Group(Group),
}

impl Select {
    const ALL: [Select; CheckId::ALL.len() + 3] = {
        let mut all = [Select::Group(Group::Net); CheckId::ALL.len() + 3];
        let mut i = 0;
        while i < CheckId::ALL.len() {
            all[i] = Select::Check(CheckId::ALL[i]);
            i += 1;
        }
        all[i + 1] = Select::Group(Group::Gateway);
        all[i + 2] = Select::Group(Group::Tools);
        all
    };

    fn selects(self, check: CheckId) -> bool {
        match self {
            Select::Check(id) => id == check,
            Select::Group(group) => check.group() == Some(group),
        }
    }
}

impl clap::ValueEnum for Select {
    fn value_variants<'a>() -> &'a [Self] {
        &Self::ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        match self {
            Select::Check(id) => Some(clap::builder::PossibleValue::new(id.as_str())),
            Select::Group(group) => group.to_possible_value(),
        }
    }
}

/// Which checks `--only` / `--skip` select. An entry is an id or a group: `net`
/// selects `net.dns`, `net.tcp`, ….
#[derive(Debug, Clone, Default)]
pub(crate) struct Selection {
    only: Vec<Select>,
    skip: Vec<Select>,
}

impl Selection {
    pub(crate) fn new(only: &[Select], skip: &[Select]) -> Self {
        Self {
            only: only.to_vec(),
            skip: skip.to_vec(),
        }
    }

    pub(crate) fn includes(&self, check: CheckId) -> bool {
        let selects = |sel: &Select| sel.selects(check);
        (self.only.is_empty() || self.only.iter().any(selects)) && !self.skip.iter().any(selects)
    }

    /// The selected checks, in report order.
    pub(crate) fn checks(&self) -> Vec<CheckId> {
        CheckId::ALL
            .into_iter()
            .filter(|&c| self.includes(c))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use clap::ValueEnum;

    use super::*;

    #[test]
    fn clap_accepts_the_ids_in_report_order_then_the_groups() {
        let names: Vec<String> = Select::value_variants()
            .iter()
            .map(|s| s.to_possible_value().unwrap().get_name().to_string())
            .collect();
        let mut expected: Vec<String> = CheckId::ALL.iter().map(|c| c.to_string()).collect();
        expected.extend(["net", "gateway", "tools"].map(String::from));
        assert_eq!(names, expected);
    }

    #[test]
    fn selection_by_id_and_group() {
        let parse = |l: &[&str]| -> Vec<Select> {
            l.iter()
                .map(|x| Select::from_str(x, false).unwrap())
                .collect()
        };
        let s = |only: &[&str], skip: &[&str]| -> Vec<&'static str> {
            Selection::new(&parse(only), &parse(skip))
                .checks()
                .into_iter()
                .map(CheckId::as_str)
                .collect()
        };
        assert_eq!(s(&[], &[]).len(), CheckId::ALL.len());
        assert_eq!(s(&["net.tcp"], &[]), ["net.tcp"]);
        assert_eq!(
            s(&["net"], &["net.tls"]),
            ["net.dns", "net.tcp", "net.http", "net.proxy"]
        );
        assert!(
            s(&["gateway"], &[])
                .iter()
                .all(|c| c.starts_with("gateway."))
        );
        assert!(!s(&[], &["tools"]).iter().any(|c| c.starts_with("tools")));
        assert_eq!(s(&["relay", "config"], &[]), ["config", "relay"]);
    }
}

//! `anyray env`.

use anyhow::Result;

use super::Context;
use crate::cli::EnvArgs;

pub fn run(_args: &EnvArgs, _ctx: &Context) -> Result<()> {
    super::not_implemented("env")
}

//! `anyray run`.

use anyhow::Result;

use super::Context;
use crate::cli::RunArgs;

pub fn run(_args: &RunArgs, _ctx: &Context) -> Result<()> {
    super::not_implemented("run")
}

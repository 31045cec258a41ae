//! `anyray status`.

use anyhow::Result;

use super::Context;
use crate::cli::StatusArgs;

pub fn run(_args: &StatusArgs, _ctx: &Context) -> Result<()> {
    super::not_implemented("status")
}

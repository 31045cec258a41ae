//! `anyray disconnect`.

use anyhow::Result;

use super::Context;
use crate::cli::DisconnectArgs;

pub fn run(_args: &DisconnectArgs, _ctx: &Context) -> Result<()> {
    super::not_implemented("disconnect")
}

//! `anyray generate`.

use anyhow::Result;

use super::Context;
use crate::cli::GenerateArgs;

pub fn run(_args: &GenerateArgs, _ctx: &Context) -> Result<()> {
    super::not_implemented("generate")
}

//! `anyray gateway`.

use anyhow::Result;

use super::Context;
use crate::cli::GatewayArgs;

pub fn run(_args: &GatewayArgs, _ctx: &Context) -> Result<()> {
    super::not_implemented("gateway")
}

//! `anyray connect`.

use anyhow::Result;

use super::Context;
use crate::cli::ConnectArgs;

pub fn run(_args: &ConnectArgs, _ctx: &Context) -> Result<()> {
    super::not_implemented("connect")
}

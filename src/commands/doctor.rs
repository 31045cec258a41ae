//! `anyray doctor`.

use anyhow::Result;

use super::Context;
use crate::cli::DoctorArgs;

pub fn run(_args: &DoctorArgs, _ctx: &Context) -> Result<()> {
    super::not_implemented("doctor")
}

//! Gemini CLI and the Google GenAI SDK read only the environment:
//! `GOOGLE_GEMINI_BASE_URL = {gw}/gemini`. That variable is in the shell env files, so
//! connecting gemini is connecting the shell target (its files are recorded as the
//! shell's), and it is skipped when the gateway serves no gemini route.
//!
//! Installed: `gemini` on PATH, or `~/.gemini` exists.

use anyhow::Result;

use super::shell::ShellTarget;
use super::{Ctx, Detection, Effective, Target, TargetPlan, detect};
use crate::connect::TargetName;
use crate::gateway_url::Provider;

pub(super) struct Gemini;

impl Target for Gemini {
    fn name(&self) -> TargetName {
        TargetName::Gemini
    }

    fn owner(&self) -> TargetName {
        TargetName::Shell
    }

    fn detect(&self) -> Detection {
        detect(
            "gemini",
            crate::paths::home_dir().map(|home| home.join(".gemini")),
        )
    }

    fn plan(&self, ctx: &Ctx) -> Result<TargetPlan> {
        if ctx.routes.get(Provider::Gemini).is_none() {
            return Ok(TargetPlan {
                skip: Some("the gateway serves no gemini route".into()),
                ..TargetPlan::default()
            });
        }
        let mut plan = ShellTarget.plan(ctx)?;
        plan.notes = vec![
            "Gemini CLI reads GOOGLE_GEMINI_BASE_URL from the shell env file: start it from a \
             new terminal"
                .into(),
        ];
        Ok(plan)
    }

    fn effective(&self, _ctx: &Ctx) -> Result<Effective> {
        super::shell::new_terminal_endpoint("GOOGLE_GEMINI_BASE_URL")
    }
}

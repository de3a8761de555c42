//! The funnel stages, named once: `click`, `visit`, `lead_magnet`, `cta`, `activation`, in
//! funnel order. The `event_name` of an event row is a stage name (or [`REVENUE`]).
//!
//! The YAML checks (an activation name must not be a stage), the funnel, the command line
//! (`leads --stage`) and the MCP tools all use this one [`Stage`]: serde and [`FromStr`] read
//! the names, [`Stage::as_str`] and [`fmt::Display`] write them.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The server-side revenue signal: an event name that is not a funnel stage.
pub const REVENUE: &str = "revenue";
/// `event_name` of a payment from Stripe (`crate::collector::stripe`).
pub const PAYMENT: &str = "payment";
/// `event_name` of a refund from Stripe (negative amount, pointing at its payment).
pub const REFUND: &str = "refund";
/// The attribution rule of a refund whose charge no stored payment has.
pub const UNKNOWN_CHARGE: &str = "unknown_charge";

/// Is this a payment or refund row (read by the revenue section, not the funnel)?
pub fn is_money_row(event_name: &str) -> bool {
    event_name == PAYMENT || event_name == REFUND
}

/// A funnel stage, in funnel order. Stages sort in that order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// The partner link was followed (the server-side redirect `/go/<code>`).
    Click = 0,
    /// The landing page was viewed.
    Visit = 1,
    /// The lead magnet was taken.
    LeadMagnet = 2,
    /// The call to action (a demo, a newsletter...) was taken.
    Cta = 3,
    /// The product reported the partner's activation event.
    Activation = 4,
}

impl Stage {
    /// Every stage, in funnel order.
    pub const ALL: [Stage; 5] = [
        Stage::Click,
        Stage::Visit,
        Stage::LeadMagnet,
        Stage::Cta,
        Stage::Activation,
    ];

    /// The stage's name, as stored in `event_name`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Stage::Click => "click",
            Stage::Visit => "visit",
            Stage::LeadMagnet => "lead_magnet",
            Stage::Cta => "cta",
            Stage::Activation => "activation",
        }
    }

    /// The stage named `s`, if it is one.
    pub fn from_name(s: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// The stage names in funnel order, for messages: `click, visit, lead_magnet, cta, activation`.
    pub fn names() -> String {
        Stage::ALL.map(Stage::as_str).join(", ")
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The MCP tools' input schema: the names as an enum, named and described as it always was
/// (derived, the variants' docs would turn it into a `oneOf`).
impl schemars::JsonSchema for Stage {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "StageName".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A funnel stage, in funnel order.",
            "enum": Stage::ALL.map(Stage::as_str),
            "type": "string",
        })
    }
}

/// A name that is not a funnel stage.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a funnel stage (stages in funnel order: {names})", names = Stage::names())]
pub struct UnknownStage(pub String);

impl FromStr for Stage {
    type Err = UnknownStage;

    fn from_str(s: &str) -> Result<Stage, UnknownStage> {
        Stage::from_name(s).ok_or_else(|| UnknownStage(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_every_reader_and_writer() {
        for s in Stage::ALL {
            assert_eq!(s.as_str().parse::<Stage>(), Ok(s));
            assert_eq!(s.to_string(), s.as_str());
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
            assert_eq!(serde_json::from_str::<Stage>(&json).unwrap(), s);
        }
        assert_eq!(
            Stage::ALL.map(Stage::as_str),
            ["click", "visit", "lead_magnet", "cta", "activation"]
        );
        assert!(Stage::ALL.windows(2).all(|w| w[0] < w[1]));
        let e = "revenue".parse::<Stage>().unwrap_err().to_string();
        assert!(
            e.contains("`revenue` is not a funnel stage") && e.contains("lead_magnet"),
            "{e}"
        );
        assert!(Stage::from_name(REVENUE).is_none());
    }
}

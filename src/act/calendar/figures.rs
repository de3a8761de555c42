//! What the calendar reads of each partner's funnel: stage rates with their intervals and
//! bands, campaign counts, the funnel's action and the experiment's verdict.

use super::wording::pct;
use chrono::NaiveDate;
use serde::Serialize;

/// One stage of a partner's funnel as the planner reads it: a share of the visitors old enough
/// to be judged on it, with its 95% Wilson interval, the band and the verdict the funnel gave.
#[derive(Debug, Clone, Serialize, PartialEq, Default, schemars::JsonSchema)]
pub struct StageFigures {
    /// The stage: `lead_magnet`, `cta` or `activation`.
    pub stage: String,
    /// Human label: `lead magnet`, `CTA`, `activation`.
    pub label: String,
    /// Visitors old enough who reached the stage within its horizon.
    pub count: u64,
    /// Visitors old enough to be judged on the stage (the base of the rate).
    pub of: u64,
    /// Its rate over the visitors old enough for it.
    pub rate: f64,
    /// Lower end of the 95% interval.
    pub low: f64,
    /// Upper end of the 95% interval.
    pub high: f64,
    /// The funnel's verdict (`below`, `within`, `above`, `too_early`, `insufficient`).
    pub verdict: String,
    /// Lower end of the stage's band.
    pub band_low: f64,
    /// Upper end of the stage's band.
    pub band_high: f64,
    /// Days a visitor is given to reach the stage (its maturity horizon).
    pub horizon_days: u32,
    /// `too_early`: the day the whole cohort is old enough (`YYYY-MM-DD`).
    #[schemars(pattern(crate::json_schema::DATE))]
    pub ready: Option<String>,
}

impl StageFigures {
    /// The figures as the funnel's explanation writes them:
    /// `2 of 290 visitors: 0.7% [0.2–2.5%] (band 20–35%)`.
    pub fn cite(&self) -> String {
        format!(
            "{} of {} visitors: {} (band {}–{})",
            self.count,
            self.of,
            crate::funnel::stats::Proportion::new(self.count, self.of).display(),
            pct(self.band_low),
            pct(self.band_high)
        )
    }

    /// [`StageFigures::ready`] as a date.
    pub fn ready_date(&self) -> Option<NaiveDate> {
        self.ready
            .as_deref()
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
    }
}

/// One campaign's counts, to pick the campaign a partner should push next.
#[derive(Debug, Clone, Serialize, PartialEq, Default, schemars::JsonSchema)]
pub struct CampaignFigures {
    /// The campaign's name.
    pub name: String,
    /// Its distinct visitors.
    pub visitors: u64,
    /// Its lead magnets taken.
    pub lead_magnets: u64,
    /// Its activations.
    pub activations: u64,
}

/// The funnel's recommended action for the partner: its rule, what to do and why.
#[derive(Debug, Clone, Serialize, PartialEq, Default, schemars::JsonSchema)]
pub struct ActionFigures {
    /// The funnel rule's name.
    pub rule: String,
    /// What to do.
    pub action: String,
    /// Why, with the figures.
    pub because: String,
    /// With a test: the funnel rule once the test is over (empty without a test).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub without_test: String,
}

/// One variant of a partner's test at the stage that decided it.
#[derive(Debug, Clone, Serialize, PartialEq, Default, schemars::JsonSchema)]
pub struct ArmFigures {
    /// The variant's id.
    pub variant: String,
    /// The promise the variant shows (the partner's own when it does not override it).
    pub promise: String,
    /// Visitors who saw it.
    pub visitors: u64,
    /// Those of them who converted at the deciding stage.
    pub conversions: u64,
}

/// The verdict of a partner's experiment, as the planner reads it.
#[derive(Debug, Clone, Serialize, PartialEq, Default, schemars::JsonSchema)]
pub struct ExperimentFigures {
    /// `winner`, `stop_equivalent`, `invalid_split` or `no_difference_yet`.
    pub verdict: String,
    /// The winning variant (`winner` only).
    pub winner: Option<String>,
    /// The control: the first variant.
    pub control: String,
    /// The stage whose test gave the verdict.
    pub stage: String,
    /// The test's own explanation, with its figures.
    pub because: String,
    /// Every variant's visitors and conversions at that stage.
    pub arms: Vec<ArmFigures>,
}

/// What the calendar reads of one partner's funnel.
#[derive(Debug, Clone, Serialize, PartialEq, Default, schemars::JsonSchema)]
pub struct PartnerFigures {
    /// The partner's code.
    pub code: String,
    /// Distinct visitors in the window.
    pub visitors: u64,
    /// Distinct visitors who clicked the partner link.
    pub clicks: u64,
    /// `lead_magnet`, `cta`, `activation`, in funnel order.
    pub stages: Vec<StageFigures>,
    /// Per campaign, for the campaign to push next.
    pub campaigns: Vec<CampaignFigures>,
    /// The funnel's recommended action.
    pub action: ActionFigures,
    /// The partner's experiment, when it runs one.
    pub experiment: Option<ExperimentFigures>,
}

impl PartnerFigures {
    /// The figures of a stage by name.
    pub fn stage(&self, name: &str) -> Option<&StageFigures> {
        self.stages.iter().find(|s| s.stage == name)
    }
}

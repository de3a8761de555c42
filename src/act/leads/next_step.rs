//! Decision stage of `leads`: the next step for one lead, from a table of named rules.
//!
//! Takes: where a journey got to (the time each stage was reached), its partner and "now".
//! Gives: a [`NextStep`] naming the first rule of [`RULES`] that applies, the action to take and
//! the facts that triggered it. The table is data so docs, tests and agents can list it.

use crate::events::Ts;
use crate::funnel::Reached;
use crate::partner::{CtaKind, Partner};
use serde::Serialize;

/// Days after the lead magnet without a CTA before the nurture email goes out.
pub const NURTURE_AFTER_DAYS: i64 = 3;
/// Days after the CTA without activation before a personal follow-up.
pub const FOLLOW_UP_AFTER_DAYS: i64 = 7;
/// Hours after a click without a landing-page view before we suspect the page.
pub const CLICK_NO_VISIT_AFTER_HOURS: i64 = 1;

/// The next step for one lead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct NextStep {
    /// The rule's name, stable for scripts (`nurture_email`).
    #[schemars(schema_with = "rule_names")]
    pub rule: &'static str,
    /// What to do, in one sentence, with the partner's own words filled in.
    pub action: String,
    /// The facts that triggered the rule.
    pub because: String,
}

/// The schema of a rule's name: one of [`RULES`].
fn rule_names(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let names: Vec<&str> = RULES.iter().map(|r| r.name).collect();
    schemars::json_schema!({ "type": "string", "enum": names })
}

/// One named rule: when it applies, and what to do then.
pub struct Rule {
    /// The rule's name, as `next_step.rule` gives it.
    pub name: &'static str,
    /// The condition in words (for docs and `because`).
    pub when: &'static str,
    decide: Decide,
}

/// A rule's test: `Some((action, because))` when it applies.
type Decide = fn(&Reached, &Partner, Ts) -> Option<(String, String)>;

/// The rules that ask someone to contact the lead: without a user id they become `anonymous`.
pub const CONTACT_RULES: [&str; 3] = ["hand_to_sales", "follow_up_cta", "nurture_email"];

/// The rules, first match wins. The last one always applies.
pub static RULES: &[Rule] = &[
    Rule {
        name: "anonymous",
        when: "a rule that asks to contact the lead applies (hand_to_sales, follow_up_cta, nurture_email) but the journey carries no user id",
        // Applied by `next_step` in place of those rules; never by itself.
        decide: |_, _, _| None,
    },
    Rule {
        name: "hand_to_sales",
        when: "reached activation",
        decide: |r, p, _| {
            let at = r.activation?;
            // No commission here: leads reach agents (MCP), and the terms are private to the
            // partner's kit.
            Some((
                format!(
                    "Hand to sales as a lead referred by {}; credit the partner",
                    p.name
                ),
                format!("{} at {}", p.activation.event, ts(at)),
            ))
        },
    },
    Rule {
        name: "follow_up_cta",
        when: "reached the CTA, no activation after 7 days",
        decide: |r, p, now| {
            let at = r.cta?;
            let days = whole_days(at, now);
            (days >= FOLLOW_UP_AFTER_DAYS).then(|| {
                let what = match p.cta.kind {
                    CtaKind::Demo => "Follow up on the demo".to_string(),
                    CtaKind::Newsletter => {
                        "Send a personal follow-up to the newsletter sign-up".to_string()
                    }
                    CtaKind::Tutorial | CtaKind::Download => {
                        format!("Follow up on \"{}\"", p.cta.label)
                    }
                };
                (
                    format!("{what}: help them reach \"{}\"", p.activation.description),
                    format!(
                        "cta at {}, no {} after {days} days (rule: {FOLLOW_UP_AFTER_DAYS})",
                        ts(at),
                        p.activation.event
                    ),
                )
            })
        },
    },
    Rule {
        name: "wait_for_activation",
        when: "reached the CTA less than 7 days ago",
        decide: |r, p, now| {
            let at = r.cta?;
            Some((
                format!(
                    "Wait for \"{}\"; follow up from {}",
                    p.activation.description,
                    ts(at.plus_days(FOLLOW_UP_AFTER_DAYS))
                ),
                format!(
                    "cta at {}, {}",
                    ts(at),
                    crate::text::days_ago(whole_days(at, now))
                ),
            ))
        },
    },
    Rule {
        name: "nurture_email",
        when: "downloaded the lead magnet, no CTA after 3 days",
        decide: |r, p, now| {
            let at = r.lead_magnet?;
            let days = whole_days(at, now);
            (days >= NURTURE_AFTER_DAYS).then(|| {
                (
                    format!(
                        "Send the {} nurture email: build on \"{}\" and invite them to \"{}\"",
                        p.name, p.promise, p.cta.label
                    ),
                    format!(
                        "lead_magnet at {}, no cta after {days} days (rule: {NURTURE_AFTER_DAYS})",
                        ts(at)
                    ),
                )
            })
        },
    },
    Rule {
        name: "wait_for_cta",
        when: "downloaded the lead magnet less than 3 days ago",
        decide: |r, p, now| {
            let at = r.lead_magnet?;
            Some((
                format!(
                    "Wait for \"{}\"; the nurture email goes out from {}",
                    p.cta.label,
                    ts(at.plus_days(NURTURE_AFTER_DAYS))
                ),
                format!(
                    "lead_magnet at {}, {}",
                    ts(at),
                    crate::text::days_ago(whole_days(at, now))
                ),
            ))
        },
    },
    Rule {
        name: "check_landing_page",
        when: "clicked the partner link, no landing-page view after 1 hour",
        decide: |r, p, now| {
            let at = r.click?;
            if r.visit.is_some() || now.0 - at.0 < CLICK_NO_VISIT_AFTER_HOURS * 3_600_000 {
                return None;
            }
            Some((
                format!(
                    "Check that the landing page {} loads and the beacon fires (the visitor clicked but never landed)",
                    p.landing_path()
                ),
                format!("click at {}, no visit", ts(at)),
            ))
        },
    },
    Rule {
        name: "no_action",
        when: "anything else (a visit without a download, or a click under an hour old)",
        decide: |r, _, _| {
            let because = match (r.visit, r.click) {
                (Some(at), _) => format!("visit at {}, nothing after", ts(at)),
                (None, Some(at)) => format!("click at {}, under an hour ago", ts(at)),
                (None, None) => "no stage reached".to_string(),
            };
            Some((
                "No per-lead action: the landing page's lead-magnet rate is a partner-level question (see `report`)".to_string(),
                because,
            ))
        },
    },
];

/// The next step for a lead: the first rule of [`RULES`] that applies; a rule that asks to
/// contact the lead only when it has a user id (`contactable`), else `anonymous`.
pub fn next_step(reached: &Reached, partner: &Partner, now: Ts, contactable: bool) -> NextStep {
    for rule in RULES {
        if let Some((action, because)) = (rule.decide)(reached, partner, now) {
            if !contactable && CONTACT_RULES.contains(&rule.name) {
                return NextStep {
                    rule: "anonymous",
                    action: "Anonymous lead: no user id, so no one to contact; it counts in the \
                             partner's figures (see `report`)"
                        .to_string(),
                    because: format!("{because}; no user id on the journey"),
                };
            }
            return NextStep {
                rule: rule.name,
                action,
                because,
            };
        }
    }
    // `no_action` always applies; this keeps the function total without a panic.
    NextStep {
        rule: "no_action",
        action: String::new(),
        because: String::new(),
    }
}

/// Whole days from `from` to `to` (0 when `to` is earlier).
fn whole_days(from: Ts, to: Ts) -> i64 {
    ((to.0 - from.0) / 86_400_000).max(0)
}

/// Times as the rest of the JSON writes them.
fn ts(t: Ts) -> String {
    t.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn partner() -> Partner {
        serde_saphyr::from_str(
            "name: SEO network\ncode: seo\naudience: a\npromise: QA checklist\n\
             landing: { headline: h, proof: p }\nlead_magnet: { label: Get it, url: /x }\n\
             cta: { label: Book a demo, kind: demo, url: /demo }\n\
             activation: { event: runs_first_audit, description: Runs first audit, trigger: { server: true } }\n\
             commission: 20%\n",
        )
        .unwrap()
    }

    fn t(s: &str) -> Ts {
        Ts::parse(s).unwrap()
    }

    #[test]
    fn each_rule_fires_on_its_own_case() {
        let now = t("2026-11-20T00:00:00Z");
        let p = partner();
        let cases = [
            (
                Reached {
                    visit: Some(t("2026-11-01T00:00:00Z")),
                    activation: Some(t("2026-11-02T00:00:00Z")),
                    ..Default::default()
                },
                "hand_to_sales",
            ),
            (
                Reached {
                    cta: Some(t("2026-11-10T00:00:00Z")),
                    ..Default::default()
                },
                "follow_up_cta",
            ),
            (
                Reached {
                    cta: Some(t("2026-11-15T00:00:00Z")),
                    ..Default::default()
                },
                "wait_for_activation",
            ),
            (
                Reached {
                    lead_magnet: Some(t("2026-11-16T23:00:00Z")),
                    ..Default::default()
                },
                "nurture_email",
            ),
            (
                Reached {
                    lead_magnet: Some(t("2026-11-17T01:00:00Z")),
                    ..Default::default()
                },
                "wait_for_cta",
            ),
            (
                Reached {
                    click: Some(t("2026-11-19T22:00:00Z")),
                    ..Default::default()
                },
                "check_landing_page",
            ),
            (
                Reached {
                    click: Some(t("2026-11-19T23:30:00Z")),
                    ..Default::default()
                },
                "no_action",
            ),
            (
                Reached {
                    visit: Some(t("2026-11-01T00:00:00Z")),
                    ..Default::default()
                },
                "no_action",
            ),
        ];
        for (reached, rule) in cases {
            assert_eq!(next_step(&reached, &p, now, true).rule, rule, "{reached:?}");
        }
    }

    #[test]
    fn hand_to_sales_names_the_partner_not_the_commission() {
        let r = Reached {
            activation: Some(t("2026-11-02T00:00:00Z")),
            ..Default::default()
        };
        let step = next_step(&r, &partner(), t("2026-11-03T00:00:00Z"), true);
        assert!(step.action.contains("SEO network"), "{}", step.action);
        assert!(
            p_has_commission(),
            "the test partner has a commission to leave out"
        );
        assert!(!step.action.contains("20%"), "{}", step.action);
        assert_eq!(step.because, "runs_first_audit at 2026-11-02T00:00:00.000Z");
    }

    fn p_has_commission() -> bool {
        partner().commission.is_some_and(|c| c.contains("20%"))
    }

    #[test]
    fn rule_names_are_unique() {
        let mut names: Vec<_> = RULES.iter().map(|r| r.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), RULES.len());
    }
}

use super::*;
use crate::config::Maturity;
use crate::events::Ts;
use crate::funnel::count::{Counts, Matured};
use crate::funnel::stats::Proportion;

/// A partner's figures, every visitor old enough for every stage unless `young` says how
/// many are old enough for CTA and activation.
fn figures(clicks: u64, visitors: u64, lm: u64, cta: u64, act: u64, young: Option<u64>) -> Figures {
    let old = young.unwrap_or(visitors);
    let m = |reached: u64, of: u64| Matured {
        visitors: of,
        reached: reached.min(of),
    };
    let c = Counts {
        journeys: clicks.max(visitors),
        clicks,
        clicks_with_visit: visitors.min(clicks),
        visitors,
        lead_magnet: lm,
        cta,
        activation: act,
        mature: crate::funnel::count::MatureCounts {
            lead_magnet: m(lm, visitors),
            cta: m(cta, old),
            activation: m(act, old),
        },
        newest_start: 0,
        ..Counts::default()
    };
    let as_of = if young.is_some() {
        Ts(0)
    } else {
        Ts(i64::MAX / 2)
    };
    Figures::new(c, &Bands::default(), &Maturity::default(), as_of)
}

/// Every stage figure an explanation cites is written in it as `count of base visitors:
/// rate [interval]`, from the same numbers; and clicks and visitors as counted.
fn assert_cites_its_figures(a: &Action) {
    for s in BANDED {
        let k = s.as_str();
        if let (Some(n), Some(of)) = (a.figures.get(k), a.figures.get(&format!("{k}_of"))) {
            let p = Proportion::new(*n as u64, *of as u64);
            let text = format!("{} of {} visitors: {}", *n as u64, *of as u64, p.display());
            assert!(
                a.because.contains(&text),
                "{}: {text:?} not in {:?}",
                a.rule,
                a.because
            );
        }
    }
    for k in ["clicks", "visitors"] {
        if let Some(n) = a.figures.get(k) {
            assert!(
                a.because.contains(&format!("{} {k}", *n as u64))
                    || a.because.contains(&format!("{} visitor", *n as u64)),
                "{}: {k} {n} not in {:?}",
                a.rule,
                a.because
            );
        }
    }
}

/// (case, figures, average clicks, average visitors, rule, words the action must contain)
type Case<'a> = (&'a str, Figures, f64, f64, &'a str, &'a [&'a str]);

#[test]
fn each_rule_fires_on_its_case_and_explains_it_with_its_figures() {
    let cases: Vec<Case<'_>> = vec![
        (
            "partner A: 300 clicks, 2 downloads",
            figures(300, 250, 2, 1, 0, None),
            170.0,
            144.0,
            "many_clicks_weak_lead_magnet",
            &["headline", "proof block"],
        ),
        (
            "partner B: 40 clicks, 9 activations",
            figures(40, 38, 14, 11, 9, None),
            170.0,
            144.0,
            "few_visits_strong_activation",
            &["guest post", "webinar", "higher commission"],
        ),
        (
            "too little traffic",
            figures(60, 50, 15, 4, 1, None),
            60.0,
            50.0,
            "insufficient_data",
            &["Collect more traffic", "50 more visitors"],
        ),
        (
            "clicks lost before the page",
            figures(400, 200, 60, 16, 4, None),
            1000.0,
            1000.0,
            "weak_click_to_visit",
            &["/go redirect"],
        ),
        (
            "weak lead magnet, little traffic",
            figures(210, 200, 20, 16, 4, None),
            1000.0,
            1000.0,
            "weak_lead_magnet",
            &["headline", "proof block"],
        ),
        (
            "weak CTA",
            figures(410, 400, 100, 4, 8, None),
            1000.0,
            1000.0,
            "weak_cta",
            &["one clear next step"],
        ),
        (
            "weak activation",
            figures(1010, 1000, 250, 80, 1, None),
            2000.0,
            2000.0,
            "weak_activation",
            &["onboarding", "runs_first_audit"],
        ),
        (
            "lead magnet far above its band",
            figures(310, 300, 150, 24, 6, None),
            300.0,
            300.0,
            "above_band",
            &["guest post", "webinar", "co-marketing", "higher commission"],
        ),
        (
            "too young for CTA and activation",
            figures(310, 300, 80, 2, 0, Some(40)),
            300.0,
            300.0,
            "too_early",
            &["Wait", "1970-01-08 (CTA)", "1970-01-15 (activation)"],
        ),
        (
            "an interval crossing a band edge",
            figures(410, 400, 110, 32, 8, None),
            400.0,
            400.0,
            "open_question",
            &["Change nothing yet", "unclear", "settled at about"],
        ),
        (
            "every step within its band",
            figures(3010, 3000, 810, 240, 60, None),
            3000.0,
            3000.0,
            "within_bands",
            &["Keep the page"],
        ),
    ];
    let bands = Bands::default();
    let mut fired: Vec<&str> = cases.iter().map(|c| c.4).collect();
    fired.extend(TEST_RULES);
    fired.sort_unstable();
    let mut all: Vec<&str> = RULES.iter().map(|r| r.name.as_str()).collect();
    all.sort_unstable();
    assert_eq!(fired, all, "one case per rule");
    for (case, f, avg_clicks, avg_visitors, rule, words) in cases {
        let a = recommend(&RuleInput {
            figures: &f,
            bands: &bands,
            avg_clicks,
            avg_visitors,
            activation_event: "runs_first_audit",
            test: None,
            beacon_stop: None,
        });
        assert_eq!(a.rule, rule, "{case}: {a:?}");
        for w in words {
            assert!(a.action.contains(w), "{case}: {w:?} not in {:?}", a.action);
        }
        assert_cites_its_figures(&a);
        // Text never claims a verdict the figures do not have.
        for s in BANDED {
            let v = f.rates.get(s).unwrap().verdict;
            if a.because
                .contains(&format!("within the band: {}", label(s)))
            {
                assert_eq!(v, Verdict::Within, "{case}");
            }
            // A fix only for a stage whose verdict is below.
            if a.rule.fixes() == Some(s) {
                assert_eq!(v, Verdict::Below, "{case}");
            }
        }
    }
}

/// The rules checked in `a_test_decides_before_the_band_rules_...`.
const TEST_RULES: [&str; 6] = [
    "beacon_stopped",
    "invalid_split",
    "promote_winner",
    "end_test",
    "test_running",
    "stage_never_fires",
];

#[test]
fn a_test_decides_before_the_band_rules_and_a_broken_handoff_before_traffic() {
    let bands = Bands::default();
    let weak = figures(410, 400, 20, 4, 1, None);
    let state = |verdict, winner: Option<&str>| TestState {
        verdict,
        winner: winner.map(str::to_string),
        control: "control".into(),
        stage: Some(Stage::LeadMagnet),
        under_test: vec![Stage::LeadMagnet, Stage::Cta, Stage::Activation],
        because: "the figures".into(),
    };
    let decide = |f: &Figures, t: Option<&TestState>| {
        recommend(&RuleInput {
            figures: f,
            bands: &bands,
            avg_clicks: 400.0,
            avg_visitors: 400.0,
            activation_event: "runs_first_audit",
            test: t,
            beacon_stop: None,
        })
    };
    for (t, rule) in [
        (state(TestVerdict::InvalidSplit, None), "invalid_split"),
        (state(TestVerdict::Winner, Some("speed")), "promote_winner"),
        (state(TestVerdict::StopEquivalent, None), "end_test"),
        (state(TestVerdict::NoDifferenceYet, None), "test_running"),
    ] {
        let d = decide(&weak, Some(&t));
        assert_eq!(d.rule, rule, "{d:?}");
        assert_eq!(
            d.without_test.and_then(Rule::fixes),
            Some(Stage::LeadMagnet)
        );
        assert!(!d.action.contains("Keep the page"), "{}", d.action);
        assert_eq!(d.fixes(), None, "no copy change while a test decides");
    }
    assert!(
        decide(&weak, Some(&state(TestVerdict::Winner, Some("speed"))))
            .action
            .contains("\"speed\"")
    );
    // 120 clicks, 60 visits: a broken redirect, not "collect more traffic".
    let lost = figures(120, 60, 15, 4, 1, None);
    let d = decide(&lost, None);
    assert_eq!(d.rule, "weak_click_to_visit", "{d:?}");
    assert!(d.handoff.broken && !d.traffic.enough);
    assert!(d.action.contains("/go redirect"));
    // Even at 40 clicks and 10 visits; but 20 clicks are not enough to call it.
    assert_eq!(
        decide(&figures(40, 10, 3, 1, 0, None), None).rule,
        "weak_click_to_visit"
    );
    assert_eq!(
        decide(&figures(20, 5, 1, 0, 0, None), None).rule,
        "insufficient_data"
    );
    // A lead magnet that never fires while CTAs do: the beacon, not the copy.
    let silent = figures(410, 400, 0, 30, 8, None);
    let d = decide(&silent, None);
    assert_eq!(d.rule, "stage_never_fires", "{d:?}");
    assert_eq!(d.handoff.silent, vec![Stage::LeadMagnet]);
}

#[test]
fn rule_names_are_unique() {
    let mut names: Vec<&str> = RULES.iter().map(|r| r.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), RULES.len());
    // Every rule of the enum is in the table, and the schema lists the same names.
    let schema = serde_json::to_value(schemars::schema_for!(Rule)).unwrap();
    let mut listed: Vec<String> = schema["enum"]
        .as_array()
        .map(|a| a.iter().map(|v| v.as_str().unwrap().to_string()).collect())
        .unwrap_or_default();
    if listed.is_empty() {
        listed = schema["oneOf"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["const"].as_str().unwrap().to_string())
            .collect();
    }
    listed.sort_unstable();
    assert_eq!(listed, names);
}

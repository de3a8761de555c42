//! The calendar's words: stage labels, what a partner's visitors did, when a measurement is
//! readable, email subjects and the one-sentence reason of every task (each names the figures
//! behind it).

use super::assemble::Ctx;
use super::{plan, ArmFigures, ExperimentFigures, PartnerFigures, StageFigures};
use crate::partner::Partner;
use chrono::NaiveDate;

use crate::text::words::base_form;
pub use crate::text::words::{lower_first, possessive, regular_plural as plural};

/// Human label of a stage, for titles and sentences.
pub fn stage_label(stage: &str) -> &str {
    match stage {
        "lead_magnet" => "lead magnet",
        "cta" => "CTA",
        "activation" => "activation",
        "visit" => "visit",
        other => other,
    }
}

/// Rates as the report writes them: `0.0067` -> `0.7%`, `0.2` -> `20%`.
pub(crate) use crate::funnel::stats::pct;

/// What reaching a stage means for this partner's visitors, after "N of M visitors":
/// `took the Content QA checklist`, `went on to book a demo`, `went on to import a first
/// client site`.
pub(crate) fn did(partner: &Partner, stage: &str) -> String {
    match stage {
        "lead_magnet" => format!("took the {}", partner.promise),
        "cta" => format!("went on to {}", lower_first(&partner.cta.label)),
        "activation" => match base_form(&partner.activation.description) {
            Some(b) => format!("went on to {b}"),
            None => format!(
                "reached the first result ({})",
                lower_first(&partner.activation.description)
            ),
        },
        _ => "visited the page".into(),
    }
}

/// `36 of 140 visitors took the Cost reduction guide (26%)`.
pub(crate) fn did_figures(partner: &Partner, s: &StageFigures) -> String {
    format!(
        "{} of {} visitors {} ({})",
        s.count,
        s.of,
        did(partner, &s.stage),
        pct(s.rate)
    )
}

/// When a measurement can be read: `on <date>`, with a warning past eight weeks (at that pace
/// the change cannot be measured soon: more traffic comes first), or `once it has traffic`.
fn readable_text(ready: Option<NaiveDate>, since: NaiveDate) -> String {
    match ready {
        None => "once it has traffic".into(),
        Some(d) if (d - since).num_days() > 56 => format!(
            "on {}, more than eight weeks away at this pace: ask the partner for more traffic before counting on this measurement",
            d.format("%Y-%m-%d")
        ),
        Some(d) => format!("on {}", d.format("%Y-%m-%d")),
    }
}

/// The winner's (or the control's) promise and figures, and the other arms'.
fn arm<'a>(x: &'a ExperimentFigures, id: &str) -> Option<&'a ArmFigures> {
    x.arms.iter().find(|a| a.variant == id)
}

pub(crate) fn arm_rate(a: &ArmFigures) -> String {
    if a.visitors == 0 {
        "–".into()
    } else {
        pct(a.conversions as f64 / a.visitors as f64)
    }
}

/// The email's subject: the partner's own figures and what converted, never a thank-you for
/// nothing.
pub(super) fn subject(
    ctx: &Ctx<'_>,
    spec: &plan::Spec,
    follows: Option<NaiveDate>,
    followed_stage: Option<&str>,
) -> String {
    let p = ctx.partner;
    let f = ctx.f;
    let best = plan::strongest(f);
    match (spec.rule, spec.phase) {
        (plan::RULE_FIX_HANDOFF, _) if f.action.rule == "beacon_stopped" => {
            "Your page stopped recording visits: we are fixing it, your link is fine".to_string()
        }
        (plan::RULE_FIX_HANDOFF, _) => {
            "Clicks on your link are not all reaching the page: can you check the link you use?"
                .to_string()
        }
        (plan::RULE_PROMOTE, _) => {
            let x = f.experiment.as_ref();
            let w = x.and_then(|x| x.winner.as_deref().and_then(|id| arm(x, id)));
            let others: Vec<String> = x
                .map(|x| {
                    x.arms
                        .iter()
                        .filter(|a| Some(a.variant.as_str()) != x.winner.as_deref())
                        .map(arm_rate)
                        .collect()
                })
                .unwrap_or_default();
            let what = match spec.target_stage.as_deref() {
                Some("lead_magnet") => "took the free resource".to_string(),
                Some(st) => did(p, st),
                None => "converted".into(),
            };
            match w {
                Some(w) => format!(
                    "\"{}\" converted best on your page: {} of its visitors {what}, against {}",
                    w.promise,
                    arm_rate(w),
                    others.join(" and ")
                ),
                None => "The test on your page has a winner".into(),
            }
        }
        (plan::RULE_END_TEST, _) => {
            let rates: Vec<String> = f
                .experiment
                .as_ref()
                .map(|x| x.arms.iter().map(arm_rate).collect())
                .unwrap_or_default();
            format!(
                "Both promises on your page converted alike ({}): we keep \"{}\"",
                rates.join(" and "),
                p.promise
            )
        }
        (plan::RULE_CO_MARKETING, plan::PHASE_FOLLOW_UP) => {
            let s = plan::above_stages(f);
            match s.first() {
                Some(s) => format!(
                    "A webinar for your audience ({} of {} visitors {}): a date, and your commission",
                    s.count,
                    s.of,
                    did(p, &s.stage)
                ),
                None => "A webinar for your audience: a date, and your commission".into(),
            }
        }
        (plan::RULE_CO_MARKETING, _) => {
            let s = plan::above_stages(f);
            match s.first() {
                Some(s) => format!(
                    "{} of {} visitors from your link {}: a guest post, a webinar or a higher commission?",
                    s.count,
                    s.of,
                    did(p, &s.stage)
                ),
                None => "Your audience converts: a guest post, a webinar or a higher commission?"
                    .into(),
            }
        }
        (plan::RULE_COLLECT, plan::PHASE_LAUNCH) => format!(
            "Your {} page is live: the link to share with {}",
            p.promise,
            lower_first(&p.audience)
        ),
        (plan::RULE_COLLECT, _) => format!(
            "{} from your {} link so far: one more share this week?",
            plural(f.visitors, "visitor"),
            p.promise
        ),
        (plan::RULE_WAIT, _) => format!(
            "{} from your link so far; your first results on {}",
            plural(f.visitors, "visitor"),
            wait_ready(f).map_or("the next report".into(), |d| d.format("%b %-d").to_string())
        ),
        (_, plan::PHASE_FOLLOW_UP) => {
            let since = follows.map_or("this month".into(), |d| d.format("%b %-d").to_string());
            let changed = followed_stage.map_or("a change", short_change);
            let so_far = best.map_or_else(|| plural(f.visitors, "visitor"), |s| did_figures(p, s));
            match spec.target_stage.as_deref() {
                Some(next) if spec.rule == plan::RULE_FIX && Some(next) != followed_stage => format!(
                    "Since {since} your {} page has {changed}; next, {} ({so_far} so far)",
                    p.promise,
                    short_change(next)
                ),
                _ => format!(
                    "Since {since} your {} page has {changed}: {so_far} so far, and the link to share next",
                    p.promise
                ),
            }
        }
        (plan::RULE_STRENGTH, _) => match best {
            Some(s) => format!(
                "{} from your link: what converted, and the link to share next",
                did_figures(p, s)
            ),
            None => format!(
                "{} from your link: what converted, and the link to share next",
                plural(f.visitors, "visitor")
            ),
        },
        _ => {
            let weak = ctx
                .stage(spec)
                .map_or("", |s| stage_label(&s.stage))
                .to_string();
            match best {
                Some(s) => format!(
                    "{} from your link; next we improve the {weak} step",
                    did_figures(p, s)
                ),
                None => {
                    let lm = f.stage("lead_magnet").map_or(0, |s| s.count);
                    format!(
                        "{} from your link, {lm} took the {}: we are fixing our page",
                        plural(f.visitors, "visitor"),
                        p.promise
                    )
                }
            }
        }
    }
}

/// A change to a stage's part of the page, in a few words: `a new headline`.
pub(crate) fn short_change(stage: &str) -> &'static str {
    match stage {
        "lead_magnet" => "a new headline",
        "cta" => "a clearer call to action",
        "activation" => "a pointer to the first step after signup",
        _ => "a change",
    }
}

/// The day the last too-young stage of `f` is ready.
fn wait_ready(f: &PartnerFigures) -> Option<NaiveDate> {
    f.stages
        .iter()
        .filter(|s| s.verdict == "too_early")
        .filter_map(StageFigures::ready_date)
        .max()
}

/// One sentence with the figures behind the task, and the day its figures are readable.
pub(super) fn reason(
    ctx: &Ctx<'_>,
    week: u32,
    spec: &plan::Spec,
    follows: Option<NaiveDate>,
) -> (String, Option<String>) {
    let p = ctx.partner;
    let f = ctx.f;
    let name = &p.name;
    let min = ctx.bands.min_visitors;
    let date = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
    let since = follows.unwrap_or_else(|| ctx.date(week, spec.kind, spec.rule));
    let stage = ctx.stage(spec);
    let stage_name = stage_label(spec.target_stage.as_deref().unwrap_or("visit")).to_string();
    match (spec.rule, spec.phase) {
        (plan::RULE_KEEP_MEASURING, plan::PHASE_READ) => (
            format!(
                "{name}: run `report --partner {}` again and read the open stages: {}",
                p.code, f.action.action
            ),
            None,
        ),
        (plan::RULE_FIX_HANDOFF, plan::PHASE_ACT)
        | (plan::RULE_LET_TEST_RUN, plan::PHASE_WAIT)
        | (plan::RULE_KEEP_MEASURING, _) => (
            format!("{name}: {} Why: {}.", f.action.action, f.action.because),
            None,
        ),
        (plan::RULE_FIX_HANDOFF, _) => {
            let ready = ctx.readable(since, 0);
            (
                format!(
                    "{name}: count only the clicks made after the fix of {}: the share of them that reaches the page, against the 80% floor (before the fix: {}). Readable {}: {min} visitors at {}.",
                    date(since),
                    f.action.because,
                    readable_text(ready, since),
                    ctx.pace_text()
                ),
                ready.map(date),
            )
        }
        (plan::RULE_LET_TEST_RUN, _) => (
            format!(
                "{name}: run `report --partner {}` and read the test's verdict; the next `calendar` run turns it into tasks (promote the winner, or end the test).",
                p.code
            ),
            None,
        ),
        (plan::RULE_FIX_SPLIT, _) => (
            format!(
                "{name}: the test's split is broken: {}. Check the variant weights in the partner file, the cookie and the Worker's assignment before reading any difference.",
                f.experiment.as_ref().map_or("", |x| x.because.as_str())
            ),
            None,
        ),
        (plan::RULE_PROMOTE, _) => {
            let x = f.experiment.as_ref();
            (
                format!(
                    "{name}: the {} test has a winner, `{}`: {}. Its copy becomes the partner's own and the test ends.",
                    stage_label(x.map_or("", |x| x.stage.as_str())),
                    x.and_then(|x| x.winner.as_deref()).unwrap_or("?"),
                    x.map_or("", |x| x.because.as_str())
                ),
                None,
            )
        }
        (plan::RULE_END_TEST, _) => {
            let x = f.experiment.as_ref();
            (
                format!(
                    "{name}: the {} test is settled without a winner: {}. End it and keep the control `{}`.",
                    stage_label(x.map_or("", |x| x.stage.as_str())),
                    x.map_or("", |x| x.because.as_str()),
                    x.map_or("", |x| x.control.as_str())
                ),
                None,
            )
        }
        (_, plan::PHASE_REPLAN) => (
            format!(
                "{name}: this plan was made from the funnel of {} to {}; the weeks since brought new data, including the cohorts of any change it made. Run `calendar` again with it for the next weeks.",
                ctx.opts.window.since.format("%Y-%m-%d"),
                ctx.opts.window.until.format("%Y-%m-%d")
            ),
            None,
        ),
        (plan::RULE_CO_MARKETING, plan::PHASE_MEASURE) => {
            let campaign = spec
                .follows
                .map(|(w, _)| ctx.campaign_of(w, spec.format.unwrap_or("guest-post")))
                .unwrap_or_default();
            let horizon = f.stage("activation").map_or(14, |s| s.horizon_days);
            let ready = ctx.readable(since, horizon);
            (
                format!(
                    "{name}: measure the `{campaign}` campaign added on {}: its visitors and activations against the partner's activation {}. Readable {}: {min} visitors at {}, plus the {horizon}-day activation horizon.",
                    date(since),
                    f.stage("activation").map_or(String::new(), StageFigures::cite),
                    readable_text(ready, since),
                    ctx.pace_text()
                ),
                ready.map(date),
            )
        }
        (plan::RULE_CO_MARKETING, plan::PHASE_FOLLOW_UP) => (
            format!(
                "{name}: follow up the webinar slot of {}: a date, and the commission talk; the figures are those of the offer ({}).",
                follows.map_or(String::new(), date),
                plan::above_stages(f)
                    .iter()
                    .map(|s| format!("{} {}", s.label, s.cite()))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            None,
        ),
        (plan::RULE_CO_MARKETING, plan::PHASE_NEXT) => (
            format!(
                "{name}: the second slot for a qualified audience, a webinar, tracked as its own campaign so its visitors and activations can be read apart."
            ),
            None,
        ),
        (plan::RULE_CO_MARKETING, _) => {
            let cites: Vec<String> = plan::above_stages(f)
                .iter()
                .map(|s| format!("{} {}", s.label, s.cite()))
                .collect();
            (
                format!(
                    "{name}: {} clicks, {} visitors; above the band: {}. The audience is qualified: offer more inventory (a guest post, a webinar, a co-marketing slot or a higher commission).",
                    f.clicks,
                    f.visitors,
                    cites.join("; ")
                ),
                None,
            )
        }
        (plan::RULE_COLLECT, plan::PHASE_MEASURE) => {
            let need = min.saturating_sub(f.visitors);
            let ready = ctx.readable(since, 0).map(|_| {
                let days = (need as f64 / ctx.pace()).ceil() as u64;
                plan::add_days(since, days)
            });
            (
                match ready {
                    Some(d) => format!(
                        "{name}: count the visitors since the email of {}: {need} more are needed for a verdict ({min} in all), which at {} comes on {}. If none arrived, check that the link was shared and that /go/{} redirects; do not ask again by email.",
                        date(since),
                        ctx.pace_text(),
                        date(d),
                        p.code
                    ),
                    None => format!(
                        "{name}: count the first visitors since the launch email of {}: none came in the {} days before {}. If none arrived, check that /go/{} redirects and that the partner published the link; do not ask again by email.",
                        date(since),
                        ctx.opts.window.days(),
                        ctx.opts.window.until.format("%Y-%m-%d"),
                        p.code
                    ),
                },
                ready.map(date),
            )
        }
        (plan::RULE_COLLECT, plan::PHASE_FOLLOW_UP) => (
            format!(
                "{name}: {} so far, under the {min} a verdict needs; instead of a second ask, a post the partner can link to for {}.",
                if f.visitors == 0 {
                    "no visitor".to_string()
                } else {
                    plural(f.visitors, "visitor")
                },
                lower_first(&p.audience)
            ),
            None,
        ),
        (plan::RULE_COLLECT, plan::PHASE_LAUNCH) => (
            format!(
                "{name}: no visitor in the {} days before {}: the link has not been shared yet. One launch email with the tracked link; no content change.",
                ctx.opts.window.days(),
                ctx.opts.window.until.format("%Y-%m-%d")
            ),
            None,
        ),
        (plan::RULE_COLLECT, _) => (
            format!(
                "{name}: {} visitors ({} clicks) is under the {min} needed for a verdict; one ask for more traffic, no content change on so few visitors.",
                f.visitors, f.clicks
            ),
            None,
        ),
        (plan::RULE_WAIT, plan::PHASE_WAIT) => {
            let parts: Vec<String> = f
                .stages
                .iter()
                .filter(|s| s.verdict == "too_early")
                .map(|s| {
                    format!(
                        "{}: {} of {} visitors are old enough ({}; all ready {})",
                        s.label,
                        s.of,
                        f.visitors,
                        plural(u64::from(s.horizon_days), "day"),
                        s.ready.as_deref().unwrap_or("now")
                    )
                })
                .collect();
            let ready = wait_ready(f);
            (
                format!(
                    "{name}: too young to judge: {}. Wait until {} before changing the page: a verdict on a cohort that had no time to convert would be wrong.",
                    parts.join("; "),
                    ready.map_or("the cohort is old enough".into(), date)
                ),
                ready.map(date),
            )
        }
        (plan::RULE_WAIT, plan::PHASE_READ) => {
            let ready = wait_ready(f);
            (
                format!(
                    "{name}: on or after {}, run `report --partner {}` for the cohort that was too young on {}; act on its verdict (the next `calendar` run turns it into tasks).",
                    ready.map_or("the ready date".into(), date),
                    p.code,
                    ctx.opts.window.until.format("%Y-%m-%d")
                ),
                ready.map(date),
            )
        }
        (plan::RULE_WAIT, _) => (
            format!(
                "{name}: {} so far; the first verdict comes on {}. Tell the partner where things stand, without a verdict yet.",
                plural(f.visitors, "visitor"),
                wait_ready(f).map_or("the next report".into(), date)
            ),
            wait_ready(f).map(date),
        ),
        (plan::RULE_STRENGTH, plan::PHASE_MEASURE) => {
            let horizon = stage.map_or(7, |s| s.horizon_days);
            let ready = ctx.readable(since, horizon);
            (
                format!(
                    "{name}: measure the `{}` campaign pushed in the email of {}: its visitors and its {stage_name} rate against {}. Readable {}: {min} visitors at {}.",
                    plan::next_campaign(f),
                    date(since),
                    stage.map_or(String::new(), StageFigures::cite),
                    readable_text(ready, since),
                    ctx.pace_text()
                ),
                ready.map(date),
            )
        }
        (plan::RULE_STRENGTH, plan::PHASE_FOLLOW_UP) => (
            format!(
                "{name}: {stage_name} converts best ({}); more content on it while the change is measured.",
                stage.map_or(String::new(), StageFigures::cite)
            ),
            None,
        ),
        (plan::RULE_STRENGTH, _) => {
            let steps: Vec<String> = f
                .stages
                .iter()
                .map(|s| format!("{} {}", s.label, pct(s.rate)))
                .collect();
            (
                format!(
                    "{name}: every judged step is within its band ({} of {} visitors); the funnel says keep the page, so the content builds on {stage_name} ({}).",
                    steps.join(", "),
                    f.visitors,
                    stage.map_or(String::new(), StageFigures::cite)
                ),
                None,
            )
        }
        (_, plan::PHASE_MEASURE) if spec.follows_prior && ctx.since.is_some() => {
            measurement(ctx, since, ctx.since.unwrap_or_else(|| unreachable!()))
        }
        (_, plan::PHASE_MEASURE) => {
            let horizon = stage.map_or(7, |s| s.horizon_days);
            let ready = ctx.readable(since, horizon);
            (
                format!(
                    "{name}: measure the {stage_name} change of {}: the {stage_name} rate of visitors who arrived on or after that day (visitors since {}: none yet, the change comes that day), against the baseline {}. Readable {}: {min} visitors at {}, plus the {horizon}-day {stage_name} horizon.",
                    date(since),
                    date(since),
                    stage.map_or(String::new(), StageFigures::cite),
                    readable_text(ready, since),
                    ctx.pace_text()
                ),
                ready.map(date),
            )
        }
        (_, plan::PHASE_FOLLOW_UP) => (
            format!(
                "{name}: tell the partner what changed on {} and which campaign to push next (`{}`); the figures of the window are those from before the change, which is measured only on the visitors who arrive after it.",
                follows.map_or(String::new(), date),
                plan::next_campaign(f)
            ),
            None,
        ),
        (_, phase) => match stage {
            Some(s) => (
                format!(
                    "{name}: {} step {} (verdict {}); {}",
                    s.label,
                    s.cite(),
                    if s.verdict.is_empty() { "n/a" } else { &s.verdict },
                    if phase == plan::PHASE_NEXT {
                        "the next weak step, once the first fix is in."
                    } else {
                        "the weakest step gets the fix first."
                    }
                ),
                None,
            ),
            None => (format!("{name}: no stage figures yet."), None),
        },
    }
}

/// The measurement of a change an earlier run made, from the visitors who arrived on or after
/// its day only: written when at least `min_visitors` of them are old enough for the stage;
/// before that, the day it will be readable (about, at the partner's pace) and nothing else.
fn measurement(
    ctx: &Ctx<'_>,
    since: NaiveDate,
    s: &super::SinceChange,
) -> (String, Option<String>) {
    let name = &ctx.partner.name;
    let min = ctx.bands.min_visitors;
    let date = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
    let st = &s.stage;
    let baseline = ctx
        .f
        .stage(&st.stage)
        .map_or(String::new(), StageFigures::cite);
    let head = format!(
        "{name}: the {} change of {} is measured on the visitors who arrived on or after that day only (visitors since {}: {})",
        st.label,
        date(since),
        date(since),
        s.visitors
    );
    if st.of >= min {
        return (
            format!(
                "{head}: {} {} of them old enough ({}): {} (verdict {}), against the baseline {baseline} of the whole window.",
                st.label,
                st.cite(),
                plural(u64::from(st.horizon_days), "day"),
                pct(st.rate),
                if st.verdict.is_empty() { "n/a" } else { &st.verdict },
            ),
            None,
        );
    }
    // Visitors still to come, at the partner's pace, then the stage's horizon for the last.
    let need = min - st.of;
    let until = ctx.opts.window.until.date_naive();
    let pace = ctx.pace();
    let ready = (pace > 0.0)
        .then(|| {
            let waiting = s.visitors.saturating_sub(st.of);
            let more = need.saturating_sub(waiting);
            let days = (more as f64 / pace).ceil() as u64 + u64::from(st.horizon_days);
            plan::add_days(until, days)
        })
        .into_iter()
        .chain(ctx.readable(since, st.horizon_days))
        .max();
    (
        format!(
            "{head}, {} of them old enough for the {} ({}): a measurement needs {min}, so none is written yet. Readable {}: at {}.",
            st.of,
            st.label,
            plural(u64::from(st.horizon_days), "day"),
            readable_text(ready, since),
            ctx.pace_text()
        ),
        ready.map(date),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_measurement_readable_only_months_away_says_so() {
        let since = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        let soon = NaiveDate::from_ymd_opt(2026, 12, 23).unwrap();
        let late = NaiveDate::from_ymd_opt(2027, 2, 26).unwrap();
        assert_eq!(readable_text(Some(soon), since), "on 2026-12-23");
        let text = readable_text(Some(late), since);
        assert!(
            text.starts_with("on 2027-02-26, more than eight weeks away"),
            "{text}"
        );
        assert_eq!(readable_text(None, since), "once it has traffic");
    }
}

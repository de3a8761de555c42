//! From a partner's schedule to its tasks: ids, dates, titles, files, objections and the
//! campaign to push, with the wording of [`super::wording`].

use super::wording::{lower_first, possessive, reason, stage_label, subject};
use super::{plan, PartnerFigures, PlanOptions, StageFigures, Task, TaskKind, Window};
use crate::config::Bands;
use crate::partner::Partner;
use chrono::NaiveDate;

/// What the planner knows while it turns one partner's schedule into tasks.
pub(super) struct Ctx<'a> {
    pub(super) partner: &'a Partner,
    /// The site's content folder (`content_dir`), relative to the site root.
    pub(super) content_dir: &'a str,
    pub(super) f: &'a PartnerFigures,
    pub(super) bands: &'a Bands,
    pub(super) opts: &'a PlanOptions,
    pub(super) standing: &'a plan::Standing,
    pub(super) schedule: &'a plan::Schedule,
    /// The earlier run's task a `follows_prior` task follows: its date and kind.
    pub(super) prior: Option<(NaiveDate, &'static str)>,
    /// The change being measured, counted on the visitors who arrived since it.
    pub(super) since: Option<&'a super::SinceChange>,
}

/// The day a cohort that starts on `from` has `min_visitors` visitors old enough for a stage
/// of `horizon_days`, at the partner's pace over `window`; `None` without traffic.
pub(super) fn readable_from(
    f: &PartnerFigures,
    bands: &Bands,
    window: &Window,
    from: NaiveDate,
    horizon_days: u32,
) -> Option<NaiveDate> {
    let pace = f.visitors as f64 / window.days() as f64;
    if pace <= 0.0 {
        return None;
    }
    let days = (bands.min_visitors as f64 / pace).ceil() as u64;
    Some(plan::add_days(from, days + u64::from(horizon_days)))
}

impl Ctx<'_> {
    pub(super) fn date(&self, week: u32, kind: TaskKind, rule: &str) -> NaiveDate {
        plan::task_date(self.opts.start, week, kind, rule)
    }

    /// The spec of `kind` in 0-based `week`, if any.
    pub(super) fn spec(&self, week: u32, kind: TaskKind) -> Option<&plan::Spec> {
        self.schedule
            .get(week as usize)
            .and_then(|w| w.iter().find(|s| s.kind == kind))
    }

    pub(super) fn id(&self, week: u32, spec: &plan::Spec) -> String {
        let ds = self.date(week, spec.kind, spec.rule).format("%Y-%m-%d");
        let code = &self.partner.code;
        match spec.kind {
            TaskKind::Check => format!("{ds}-{code}-check-{}", spec.phase),
            k => format!("{ds}-{code}-{}", k.as_str()),
        }
    }

    /// Visitors a day at this partner's pace over the window.
    pub(super) fn pace(&self) -> f64 {
        self.f.visitors as f64 / self.opts.window.days() as f64
    }

    /// `about 72 a week, from 290 in the 28 days before 2026-11-24`.
    pub(super) fn pace_text(&self) -> String {
        format!(
            "about {:.0} a week, from {} in the {} days before {}",
            self.pace() * 7.0,
            self.f.visitors,
            self.opts.window.days(),
            self.opts.window.until.format("%Y-%m-%d")
        )
    }

    /// The day a cohort that starts on `from` has `min_visitors` visitors old enough for
    /// `stage`, at this partner's pace; `None` without traffic.
    pub(super) fn readable(&self, from: NaiveDate, horizon_days: u32) -> Option<NaiveDate> {
        readable_from(self.f, self.bands, &self.opts.window, from, horizon_days)
    }

    pub(super) fn stage(&self, spec: &plan::Spec) -> Option<&StageFigures> {
        spec.target_stage.as_deref().and_then(|s| self.f.stage(s))
    }

    pub(super) fn campaign_of(&self, week: u32, format: &str) -> String {
        format!(
            "{format}-{}",
            self.date(week, TaskKind::Proposal, plan::RULE_CO_MARKETING)
                .format("%Y-%m-%d")
        )
    }
}

pub(super) fn make_task(ctx: &Ctx<'_>, week: u32, spec: &plan::Spec) -> Task {
    let partner = ctx.partner;
    let f = ctx.f;
    let date = ctx.date(week, spec.kind, spec.rule);
    let ds = date.format("%Y-%m-%d").to_string();
    let code = &partner.code;
    let name = &partner.name;
    let stage = spec.target_stage.clone();
    let stage_name = stage_label(stage.as_deref().unwrap_or("visit")).to_string();
    let format_label = spec.format.map(|f| f.replace('-', " "));
    let follows = spec
        .follows
        .map(|(w, k)| (w, k, ctx.spec(w, k)))
        .and_then(|(w, _, s)| s.map(|s| (w, s)));
    let prior = ctx.prior.filter(|_| spec.follows_prior);
    let follows_id = follows
        .map(|(w, s)| ctx.id(w, s))
        .or_else(|| prior.map(|(d, kind)| format!("{}-{code}-{kind}", d.format("%Y-%m-%d"))));
    let follows_date = follows
        .map(|(w, s)| ctx.date(w, s.kind, s.rule))
        .or(prior.map(|(d, _)| d));
    let (reason, ready) = reason(ctx, week, spec, follows_date);
    let followed_stage = follows.and_then(|(_, s)| s.target_stage.as_deref());
    let subject =
        (spec.kind == TaskKind::Email).then(|| subject(ctx, spec, follows_date, followed_stage));
    let title = match spec.kind {
        TaskKind::Email => format!(
            "Email {name}: {}",
            subject.as_deref().unwrap_or("an update")
        ),
        TaskKind::Brief => match (spec.rule, spec.phase) {
            (plan::RULE_CO_MARKETING, _) => format!(
                "Brief: {} with {name}",
                format_label.as_deref().unwrap_or("co-marketing post")
            ),
            (plan::RULE_STRENGTH, _) => format!(
                "Brief: more of what converts {} audience ({stage_name})",
                possessive(name)
            ),
            (plan::RULE_COLLECT, _) => format!(
                "Brief: a post {name} can share with {}",
                lower_first(&partner.audience)
            ),
            _ => format!(
                "Brief: answer the {stage_name} objections of {} audience",
                possessive(name)
            ),
        },
        TaskKind::Proposal => match spec.rule {
            plan::RULE_CO_MARKETING => format!(
                "Partner file update for {name}: a tracked campaign for the {}",
                format_label.as_deref().unwrap_or("slot")
            ),
            plan::RULE_PROMOTE => format!(
                "Promote the winning variant `{}` of {name}",
                f.experiment
                    .as_ref()
                    .and_then(|x| x.winner.as_deref())
                    .unwrap_or("?")
            ),
            plan::RULE_END_TEST => format!("End the test of {name}, keep the control"),
            _ => match stage.as_deref() {
                Some("lead_magnet") => format!("Landing update for {name}: headline + proof block"),
                Some("cta") => format!("CTA update for {name}: a clearer next step"),
                _ => format!("Landing update for {name}: point to the activation step"),
            },
        },
        TaskKind::Check => match spec.phase {
            plan::PHASE_ACT | plan::PHASE_WAIT
                if [
                    plan::RULE_FIX_HANDOFF,
                    plan::RULE_LET_TEST_RUN,
                    plan::RULE_KEEP_MEASURING,
                ]
                .contains(&spec.rule) =>
            {
                format!("{name}: {}", f.action.action.trim_end_matches('.'))
            }
            plan::PHASE_MEASURE if spec.rule == plan::RULE_FIX_HANDOFF => format!(
                "Count the clicks of {name} that reach the page since {}",
                follows_date.map_or(ds.clone(), |d| d.to_string())
            ),
            plan::PHASE_READ if spec.rule == plan::RULE_LET_TEST_RUN => {
                format!("Read the test of {name}")
            }
            plan::PHASE_READ if spec.rule == plan::RULE_KEEP_MEASURING => {
                format!("Read {} open stages again", possessive(name))
            }
            plan::PHASE_WAIT => format!(
                "Wait for {} cohort: no change until {}",
                possessive(name),
                ready.as_deref().unwrap_or("it is old enough")
            ),
            plan::PHASE_READ => format!(
                "Read {} verdict on {}",
                possessive(name),
                ready.as_deref().unwrap_or("the ready date")
            ),
            plan::PHASE_REPLAN => format!("Re-plan {name} from the new data"),
            plan::PHASE_ACT if spec.rule == plan::RULE_FIX_SPLIT => {
                format!("Fix the traffic split of {} test", possessive(name))
            }
            _ => match (spec.rule, spec.format) {
                (plan::RULE_COLLECT, _) => format!(
                    "Count {} visitors since {}",
                    possessive(name),
                    follows_date.map_or(ds.clone(), |d| d.to_string())
                ),
                (plan::RULE_CO_MARKETING, Some(fm)) => format!(
                    "Measure {} {} campaign",
                    possessive(name),
                    fm.replace('-', " ")
                ),
                (plan::RULE_STRENGTH, _) => format!(
                    "Measure {} {} campaign",
                    possessive(name),
                    plan::next_campaign(f)
                ),
                _ if prior.is_some() && ready.is_some() => format!(
                    "Not yet: the {stage_name} change of {} for {name} is readable on {}",
                    follows_date.map_or(ds.clone(), |d| d.to_string()),
                    ready.as_deref().unwrap_or("a later day")
                ),
                _ => format!(
                    "Measure the {stage_name} change of {} for {name}",
                    follows_date.map_or(ds.clone(), |d| d.to_string())
                ),
            },
        },
    };
    let file = match spec.kind {
        TaskKind::Brief => format!(
            "{}/briefs/{ds}-{code}-{}.md",
            ctx.content_dir,
            plan::slug(spec.format.or(stage.as_deref()).unwrap_or("brief"))
        ),
        TaskKind::Email => format!("emails/{ds}-{code}.txt"),
        TaskKind::Proposal => format!("proposals/{ds}-{code}.yaml.patch"),
        TaskKind::Check => format!("checks/{ds}-{code}-{}.md", spec.phase),
    };
    let objection_stage = if spec.format.is_some() {
        "co-marketing"
    } else {
        stage.as_deref().unwrap_or("visit")
    };
    let next_campaign = match (spec.rule, spec.format) {
        (plan::RULE_CO_MARKETING, Some(fm)) if spec.kind != TaskKind::Proposal => {
            // The email and brief push the campaign their week's proposal adds.
            let w = spec.follows.map_or(week, |(w, _)| w);
            if ctx.spec(w, TaskKind::Proposal).is_some() {
                ctx.campaign_of(w, fm)
            } else {
                plan::next_campaign(f)
            }
        }
        _ => plan::next_campaign(f),
    };
    let _ = ctx.standing;
    Task {
        id: ctx.id(week, spec),
        week: week + 1,
        date,
        partner: code.clone(),
        partner_name: name.clone(),
        kind: spec.kind,
        title,
        rule: spec.rule.to_string(),
        phase: spec.phase.to_string(),
        follows: follows_id,
        ready,
        subject,
        target_stage: stage.clone(),
        format: spec.format.map(str::to_string),
        reason,
        objections: if spec.kind == TaskKind::Brief {
            plan::objections(
                objection_stage,
                &lower_first(&partner.audience),
                &partner.promise,
            )
        } else {
            Vec::new()
        },
        next_campaign,
        figures: f.clone(),
        file,
    }
}

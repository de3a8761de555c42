//! Calendar stage, task files: briefs, enablement emails and proposals rendered through the
//! site's templates and written without ever overwriting an edited file.
//!
//! Takes: the planned [`Calendar`] and the site. Gives: files under `<content_dir>/briefs/`,
//! `emails/` and `proposals/`; everything is rendered before the first write.
//!
//! Edited files: the manifest (`calendar::manifest`) records the hash of every file we wrote.
//! A task file that still holds what we wrote is unedited: new data replaces it in place. One
//! whose bytes differ from what we wrote (someone edited it, or it is not in the manifest) is
//! left alone and the new version goes to the first name with a suffix (`x.md` -> `x-2.md`,
//! `x-3.md`, ...) that is free or unedited. A file that already holds exactly our bytes is not
//! touched, so re-running with the same data and dates changes nothing.

use super::manifest::Manifest;
use super::{proposal, Calendar, Task, TaskKind};
use crate::error::{Error, Result};
use crate::site::Site;
use serde::Serialize;
use std::path::Path;

/// Template names (defaults embedded from the repository's `templates/calendar/`, overridable
/// by the site's `templates/calendar/` exactly like page templates: see
/// `render::templates`).
pub const BRIEF_TEMPLATE: &str = "calendar/brief.md";
/// The email template.
pub const EMAIL_TEMPLATE: &str = "calendar/email.txt";
/// The CTA/landing proposal template.
pub const PROPOSAL_TEMPLATE: &str = "calendar/proposal.md";
/// The staff check template (measure, wait, re-plan).
pub const CHECK_TEMPLATE: &str = "calendar/check.md";

/// What happened to one task file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A new file was written.
    Written,
    /// The file already held these bytes.
    Unchanged,
    /// The file held an earlier version we generated, unedited: replaced in place.
    Updated,
    /// The task's first-choice file had been edited; the new version is in the task's
    /// (suffixed) `file`, written now or found there unchanged.
    KeptEdited {
        /// The edited file, left as it is.
        edited: String,
        /// Whether the new version was written now.
        written: bool,
    },
}

/// One rendered task file, before writing.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The index of the task in the calendar.
    pub task: usize,
    /// The file's bytes.
    pub bytes: Vec<u8>,
}

/// Context of the task templates.
#[derive(Serialize)]
struct TaskContext<'a> {
    site: SiteContext<'a>,
    /// With `commission`: task files are the staff's, and the email goes to the partner itself.
    partner: crate::partner::PartnerView<'a>,
    task: &'a Task,
    /// The target stage's figures (None for collect-traffic).
    stage: Option<&'a super::StageFigures>,
    /// The stage that converts best relative to its band.
    strongest: Option<&'a super::StageFigures>,
    /// Tracked link of the next campaign, for the partner to share.
    tracked_link: String,
    /// The partner's YAML file, relative to the site root.
    partner_file: String,
    /// The partner's audience for use inside a sentence (first letter lower-cased unless an
    /// acronym).
    audience: String,
    window: &'a super::Window,
    /// Proposal only: the changed fields and the unified diff.
    changes: Vec<Change>,
    diff: String,
    /// Emails: the subject line.
    subject: &'a str,
    /// Each stage someone reached, as a sentence part: `36 of 140 visitors took the Cost
    /// reduction guide (26%)`.
    figures_lines: Vec<String>,
    /// The stage that converts best, as such a sentence part (none when no stage reaches its
    /// band).
    converted: Option<String>,
    /// Co-marketing: the stages above their band, as such sentence parts.
    above: Vec<String>,
    /// Experiments: each variant as `"<promise>": 30 of 200 visitors (15%)`.
    arms: Vec<String>,
    /// The winning variant's promise (promote-winner).
    winner_promise: Option<String>,
    /// What the week's change does to the page, for the partner (fix tasks).
    change_what: String,
    /// Follow-ups: what the earlier change they follow did to the page.
    changed_what: String,
    /// The day of the change a follow-up refers to.
    change_date: Option<String>,
    /// Days in the funnel window.
    days: i64,
    /// The campaign that converted best, and its tracked link (co-marketing emails give both
    /// it and the new slot's link).
    converted_campaign: String,
    converted_link: String,
}

#[derive(Serialize)]
struct SiteContext<'a> {
    name: &'a str,
    base_url: &'a str,
    min_visitors: u64,
}

#[derive(Serialize)]
struct Change {
    field: String,
    value: serde_json::Value,
}

/// Render every task's file in memory (no writes).
pub fn render_all(site: &Site, cal: &Calendar) -> Result<Vec<Rendered>> {
    let templates = crate::render::templates::Templates::load(&site.root)?;
    let mut out = Vec::new();
    // Each partner file as the earlier proposals of this plan leave it: a week's proposal
    // applies after the previous one (tasks are in date order).
    let mut stacked: std::collections::BTreeMap<String, String> = Default::default();
    for (i, task) in cal.tasks.iter().enumerate() {
        let partner = site
            .partner(&task.partner)
            .ok_or_else(|| Error::Internal(format!("task for unknown partner {}", task.partner)))?;
        let (changes, diff) = if task.kind == TaskKind::Proposal {
            proposal_diff(site, partner, task, &mut stacked)?
        } else {
            (Vec::new(), String::new())
        };
        let f = &task.figures;
        let reached = |s: &&super::StageFigures| s.count > 0 && s.of > 0;
        let figures_lines = f
            .stages
            .iter()
            .filter(reached)
            .map(|s| super::did_figures(partner, s))
            .collect();
        let converted = super::plan::strongest(f).map(|s| super::did_figures(partner, s));
        let above = super::plan::above_stages(f)
            .into_iter()
            .filter(reached)
            .map(|s| super::did_figures(partner, s))
            .collect();
        let x = f.experiment.as_ref();
        let arms = x
            .map(|x| {
                x.arms
                    .iter()
                    .map(|a| {
                        format!(
                            "\"{}\": {} of {} visitors ({})",
                            a.promise,
                            a.conversions,
                            a.visitors,
                            super::arm_rate(a)
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let winner_promise = x.and_then(|x| {
            x.winner
                .as_deref()
                .and_then(|w| x.arms.iter().find(|a| a.variant == w))
                .map(|a| a.promise.clone())
        });
        let what = |stage: Option<&str>| -> String {
            match stage {
                Some("lead_magnet") => format!(
                    "the headline and the proof block, so they lead with the {} and speak to {}",
                    partner.promise,
                    super::lower_first(&partner.audience)
                ),
                Some("cta") => {
                    "the call to action after the free resource, so the next step is clearer".into()
                }
                Some("activation") => format!(
                    "the page's proof, so it points to the first step after signing up ({})",
                    super::lower_first(&partner.activation.description)
                ),
                _ => String::new(),
            }
        };
        let followed = task
            .follows
            .as_deref()
            .and_then(|id| cal.tasks.iter().find(|t| t.id == id));
        let change_date = followed.map(|t| t.date.format("%B %-d").to_string());
        let changed_what = what(followed.and_then(|t| t.target_stage.as_deref()));
        let change_what = if task.rule == super::plan::RULE_FIX {
            what(task.target_stage.as_deref())
        } else {
            String::new()
        };
        let link = |campaign: &str| {
            if campaign == crate::partner::DEFAULT_CAMPAIGN {
                site.config.absolute_url(&format!("/go/{}", partner.code))
            } else {
                site.config
                    .absolute_url(&format!("/go/{}?campaign={campaign}", partner.code))
            }
        };
        let tracked_link = link(&task.next_campaign);
        let ctx = TaskContext {
            site: SiteContext {
                name: &site.config.name,
                base_url: &site.config.base_url,
                min_visitors: site.config.bands.min_visitors,
            },
            partner: partner.view(true),
            task,
            stage: task
                .target_stage
                .as_deref()
                .and_then(|s| task.figures.stage(s)),
            strongest: super::plan::strongest(&task.figures),
            tracked_link,
            audience: super::lower_first(&partner.audience),
            partner_file: partner.source.to_string_lossy().replace('\\', "/"),
            window: &cal.window,
            changes,
            diff,
            subject: task.subject.as_deref().unwrap_or(""),
            figures_lines,
            converted,
            above,
            arms,
            winner_promise,
            change_what,
            changed_what,
            change_date,
            days: cal.window.days(),
            converted_link: link(&super::plan::next_campaign(f)),
            converted_campaign: super::plan::next_campaign(f),
        };
        let name = match task.kind {
            TaskKind::Brief => BRIEF_TEMPLATE,
            TaskKind::Email => EMAIL_TEMPLATE,
            TaskKind::Proposal => PROPOSAL_TEMPLATE,
            TaskKind::Check => CHECK_TEMPLATE,
        };
        let mut text = templates.render(name, &ctx).map_err(|d| {
            let mut diags = crate::diagnostics::Diagnostics::default();
            diags.push(*d);
            Error::Input(diags)
        })?;
        if task.kind == TaskKind::Proposal && !ctx.diff.is_empty() {
            // The diff goes last, so `git apply` finds it after the reviewer's notes.
            if !text.ends_with('\n') {
                text.push('\n');
            }
            text.push('\n');
            text.push_str(&ctx.diff);
        } else if !text.ends_with('\n') {
            text.push('\n');
        }
        out.push(Rendered {
            task: i,
            bytes: text.into_bytes(),
        });
    }
    Ok(out)
}

/// The proposal's diff against the partner file as the plan's earlier proposals leave it
/// (`stacked`, by partner code), which it then updates. The edits are chosen from the partner
/// as that file loads, and the edited file must load too: a proposal never breaks `check`.
fn proposal_diff(
    site: &Site,
    partner: &crate::partner::Partner,
    task: &Task,
    stacked: &mut std::collections::BTreeMap<String, String>,
) -> Result<(Vec<Change>, String)> {
    let rel = partner.source.to_string_lossy().replace('\\', "/");
    let text = match stacked.get(&partner.code) {
        Some(t) => t.clone(),
        None => {
            let path = site.root.join(&partner.source);
            std::fs::read_to_string(&path)
                .map_err(|e| Error::io(format!("reading {}", path.display()), e))?
        }
    };
    let current = load_partner(&partner.source, &text).ok_or_else(|| {
        Error::Internal(format!(
            "{rel} no longer loads after the plan's earlier proposals"
        ))
    })?;
    let edits = proposal::proposed_edits(&current, task);
    let new = proposal::apply(&text, &edits);
    if load_partner(&partner.source, &new).is_none() {
        return Err(Error::Internal(format!(
            "the {} proposal for {rel} would not load; not written",
            task.id
        )));
    }
    let diff = proposal::unified_diff(&rel, &text, &new);
    stacked.insert(partner.code.clone(), new);
    let changes = edits
        .into_iter()
        .map(|e| Change {
            field: e.path.join("."),
            value: if e.value.is_null() {
                serde_json::Value::String("removed (the test ends)".into())
            } else {
                e.value
            },
        })
        .collect();
    Ok((changes, diff))
}

/// The partner in `text` (a file at `source`), if it passes the partner file's checks.
pub(crate) fn load_partner(source: &Path, text: &str) -> Option<crate::partner::Partner> {
    let mut r = crate::load::shape::Report::new(source, text, 0);
    crate::partner::parse(text, &mut r).map(|l| l.value)
}

/// `x.md` + 2 -> `x-2.md`; `x.yaml.patch` + 2 -> `x-2.yaml.patch`.
pub fn with_suffix(rel: &str, n: u32) -> String {
    let (dir, name) = rel.rsplit_once('/').map_or(("", rel), |(d, n)| (d, n));
    let (stem, ext) = name.split_once('.').map_or((name, ""), |(s, e)| (s, e));
    let new = if ext.is_empty() {
        format!("{stem}-{n}")
    } else {
        format!("{stem}-{n}.{ext}")
    };
    if dir.is_empty() {
        new
    } else {
        format!("{dir}/{new}")
    }
}

/// Pick the file each rendered task goes to (never an edited one) and write it. Updates each
/// task's `file` to the name used. With `write` false nothing is written, the manifest
/// included (a dry run: the names and outcomes are those a real run would give).
pub fn write_all(
    root: &Path,
    cal: &mut Calendar,
    rendered: &[Rendered],
    write: bool,
) -> Result<Vec<(String, Outcome)>> {
    let mut manifest = Manifest::load(root);
    // Names given to a task of this run: never a second task's file, even if ours.
    let mut claimed = std::collections::BTreeSet::new();
    let mut results = Vec::new();
    for r in rendered {
        let base = cal.tasks[r.task].file.clone();
        let mut n = 1;
        let outcome = loop {
            let rel = if n == 1 {
                base.clone()
            } else {
                with_suffix(&base, n)
            };
            let path = root.join(&rel);
            // Whether the task goes to `rel` (else: an edit is there, try the next name), and
            // whether that writes.
            let (place, written) = match std::fs::read(&path) {
                _ if claimed.contains(&rel) => (false, false),
                Ok(existing) if existing == r.bytes => (true, false),
                Ok(existing) if manifest.generated(&rel, &existing) => (true, true),
                Ok(_) => (false, false),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => (true, true),
                Err(e) => return Err(Error::io(format!("reading {}", path.display()), e)),
            };
            if place {
                let existed = path.exists();
                if write && written {
                    write_atomic(&path, &r.bytes)?;
                }
                manifest.record(&rel, &r.bytes);
                let t = &cal.tasks[r.task];
                if t.kind == TaskKind::Email
                    && t.rule == super::plan::RULE_COLLECT
                    && (t.phase == super::plan::PHASE_ASK || t.phase == super::plan::PHASE_LAUNCH)
                {
                    manifest.record_ask(&rel);
                }
                claimed.insert(rel.clone());
                cal.tasks[r.task].file = rel;
                break match (n, written, existed) {
                    (1, false, _) => Outcome::Unchanged,
                    (1, true, false) => Outcome::Written,
                    (1, true, true) => Outcome::Updated,
                    (_, written, _) => Outcome::KeptEdited {
                        edited: base.clone(),
                        written,
                    },
                };
            }
            n += 1;
            if n > 1000 {
                return Err(Error::user_hint(
                    format!("{base}: more than 1000 edited versions exist"),
                    "remove the old versions you no longer need",
                ));
            }
        };
        results.push((cal.tasks[r.task].file.clone(), outcome));
    }
    if write {
        manifest.save(root)?;
    }
    Ok(results)
}

/// Create `path`'s folder if needed, then write it whole or not at all.
pub(super) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
    crate::output::write_atomic(path, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::{ActionFigures, PartnerFigures, PlanOptions, StageFigures, Window};

    fn example_site() -> Site {
        crate::load(
            Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/aikit")),
            &crate::LoadOptions::default(),
        )
        .expect("the example site loads")
    }

    fn figures(code: &str, rule: &str) -> PartnerFigures {
        let stage = |s: &str, count, band_low, band_high| StageFigures {
            stage: s.into(),
            label: crate::calendar::stage_label(s).into(),
            count,
            rate: count as f64 / 200.0,
            low: 0.0,
            high: 0.5,
            verdict: "within".into(),
            band_low,
            band_high,
            of: 200,
            horizon_days: 7,
            ready: None,
        };
        PartnerFigures {
            code: code.into(),
            visitors: 200,
            clicks: 210,
            stages: vec![
                stage("lead_magnet", 50, 0.2, 0.35),
                stage("cta", 12, 0.05, 0.12),
                stage("activation", 1, 0.01, 0.03),
            ],
            campaigns: Vec::new(),
            action: ActionFigures {
                rule: rule.into(),
                action: "Do \"this\": now".into(),
                because: "because, really".into(),
                without_test: String::new(),
            },
            experiment: None,
        }
    }

    #[test]
    fn rendered_briefs_are_draft_content_the_build_can_load() {
        let site = example_site();
        let t = chrono::DateTime::from_timestamp(1_795_000_000, 0).unwrap();
        let opts = PlanOptions {
            now: t,
            start: t.date_naive(),
            weeks: 1,
            window: Window { since: t, until: t },
            prior: Default::default(),
            asked: Default::default(),
        };
        let figs: Vec<_> = site
            .partners
            .iter()
            .zip([
                "weak_cta",
                "few_visits_strong_activation",
                "weak_activation",
                "insufficient_data",
            ])
            .map(|(p, r)| figures(&p.code, r))
            .collect();
        let cal = crate::calendar::plan(&site, &figs, &opts);
        let rendered = render_all(&site, &cal).expect("renders");
        assert_eq!(rendered.len(), cal.tasks.len());
        let mut briefs = 0;
        for r in &rendered {
            let task = &cal.tasks[r.task];
            let text = String::from_utf8(r.bytes.clone()).unwrap();
            if task.kind != TaskKind::Brief {
                continue;
            }
            briefs += 1;
            let mut diags = Vec::new();
            let page = crate::content::parse(&text, Path::new(&task.file), &mut diags)
                .unwrap_or_else(|| panic!("{diags:?}\n{text}"));
            assert!(diags.is_empty(), "{diags:?}");
            assert!(!page.is_published());
            let front = page.front;
            let fm = &text;
            assert!(front.draft, "{fm}");
            assert_eq!(front.title, task.title);
            assert_eq!(front.extra["partner"], serde_json::json!(task.partner));
            assert!(front.extra["objections"]
                .as_array()
                .is_some_and(|o| !o.is_empty()));
            assert_eq!(front.extra["figures"]["visitors"], serde_json::json!(200));
        }
        assert_eq!(briefs, 3, "the insufficient-data partner gets no brief");
    }

    #[test]
    fn proposals_end_with_a_diff_of_the_partner_file() {
        let site = example_site();
        let t = chrono::DateTime::from_timestamp(1_795_000_000, 0).unwrap();
        let opts = PlanOptions {
            now: t,
            start: t.date_naive(),
            weeks: 1,
            window: Window { since: t, until: t },
            prior: Default::default(),
            asked: Default::default(),
        };
        let p = &site.partners[0];
        let cal = crate::calendar::plan(&site, &[figures(&p.code, "weak_cta")], &opts);
        let rendered = render_all(&site, &cal).unwrap();
        let proposal = rendered
            .iter()
            .find(|r| {
                cal.tasks[r.task].kind == TaskKind::Proposal && cal.tasks[r.task].partner == p.code
            })
            .unwrap();
        let text = String::from_utf8(proposal.bytes.clone()).unwrap();
        let diff_at = text
            .find(&format!("--- a/partners/{}.yaml\n", p.code))
            .expect(&text);
        assert!(text[diff_at..].contains("+  label: "), "{text}");
        assert!(text[..diff_at].contains("weak_cta"), "{text}");
    }

    #[test]
    fn suffixes_go_before_every_extension() {
        assert_eq!(
            with_suffix("content/briefs/a.md", 2),
            "content/briefs/a-2.md"
        );
        assert_eq!(
            with_suffix("proposals/2026-11-30-seo.yaml.patch", 3),
            "proposals/2026-11-30-seo-3.yaml.patch"
        );
    }
}

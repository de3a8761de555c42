//! `partner-pages build`: load, render and write the site, with a progress bar on a terminal.

use crate::cli::{BuildArgs, GlobalArgs};
use partner_pages::build::{build, BuildOptions};
use partner_pages::error::{Error, Result};
use partner_pages::render::{Progress, RenderOptions};
use std::io::IsTerminal;
use std::time::Instant;

pub(super) fn run(global: &GlobalArgs, args: BuildArgs) -> Result<()> {
    if args.events.is_none() && (args.now.is_some() || args.preview) {
        return Err(Error::user_hint(
            "`--now` and `--preview` annotate pages with funnel figures: they need `--events`",
            "pass the event source, e.g. --events partner-events.db",
        ));
    }
    let started = Instant::now();
    let bar = (!global.quiet && std::io::stderr().is_terminal()).then(Bar::new);
    let opts = BuildOptions {
        host: args.output.host_dir,
        skip_link_check: args.no_link_check,
        data_only: args.data_only,
        out: args.output.out,
        base_url: args.output.base_url,
        // Relative to where the command runs, not to --root.
        llms_merge: args
            .llms_merge
            .map(|p| std::path::absolute(&p).unwrap_or(p)),
        render: RenderOptions {
            progress: bar.as_ref().map(|b| b as &dyn Progress),
            ..Default::default()
        },
        events: args.events,
        now: args.now,
        preview: args.preview,
    };
    let report = build(&global.root, &opts)?;
    if args.data_only {
        if !global.quiet {
            eprintln!("wrote {} partner data files", report.files);
        }
        return Ok(());
    }
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    if !global.quiet {
        let s = report.stats;
        eprintln!(
            "built {} pages ({} written, {} unchanged, {} removed) in {} ms; private partner kits in {}",
            report.pages,
            s.written,
            s.unchanged,
            s.removed,
            started.elapsed().as_millis(),
            report.kits_dir.display()
        );
        // A partner runs a test (wrangler.toml then names the variant secret): the Worker
        // needs its key, which no build can check or write.
        let wrangler = report.collector_dir.join("wrangler.toml");
        let variant_secret = partner_pages::collector::VARIANT_SECRET_ENV;
        if std::fs::read_to_string(&wrangler).is_ok_and(|t| t.contains(variant_secret)) {
            eprintln!(
                "note: a partner runs a test: the Worker draws and signs variants only with its secret {variant_secret} \
                 (once, in {}: npx wrangler secret put {variant_secret}); without it every visitor sees the control page",
                report.collector_dir.display()
            );
        }
        if global.verbose > 0 {
            eprintln!("  site:      {}", report.out_dir.display());
            eprintln!("  collector: {}", report.collector_dir.display());
            eprintln!("  kits:      {}", report.kits_dir.display());
            for (stage, took) in &report.timings {
                eprintln!("  {stage:<10} {} ms", took.as_millis());
            }
        }
    }
    Ok(())
}

/// indicatif progress bar, shown only for builds long enough to notice.
struct Bar(indicatif::ProgressBar);

impl Bar {
    fn new() -> Self {
        let bar = indicatif::ProgressBar::hidden();
        bar.set_style(
            indicatif::ProgressStyle::with_template("{msg:>10} [{bar:30}] {pos}/{len} partners")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        Bar(bar)
    }
}

impl Progress for Bar {
    fn start(&self, stage: &str, total: usize) {
        if total >= 500 {
            self.0
                .set_draw_target(indicatif::ProgressDrawTarget::stderr());
        }
        self.0.set_length(total as u64);
        self.0.set_message(stage.to_string());
    }
    fn advance(&self, n: usize) {
        self.0.inc(n as u64);
    }
    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

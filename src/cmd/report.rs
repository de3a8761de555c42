//! `report`: the funnel as Markdown, JSON or HTML, on stdout or into `--out` (written atomically).

use crate::cli::{GlobalArgs, ReportArgs};
use crate::error::{Error, Result};
use crate::funnel::Range;
use crate::report;

pub fn run(global: &GlobalArgs, args: ReportArgs) -> Result<()> {
    let site = crate::load(&global.root, &crate::LoadOptions::default())?;
    let range = Range::from_args(&args.range)?;
    if let Some(code) = &args.range.partner {
        report::check_partner(&site, code)?;
    }
    let mut funnel = report::funnel_for(&site, &args.range.events, range, global.quiet)?;
    if let Some(code) = &args.range.partner {
        funnel = funnel.only(code);
    }
    let text = report::render(&funnel, args.format);
    match &args.out {
        None => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())
                .and_then(|_| out.flush())
                .map_err(|e| Error::io("cannot write the report to stdout", e))
        }
        Some(path) => write_atomic(path, text.as_bytes()),
    }
}

/// Write to a temporary file beside `path`, then rename: never a half-written report.
fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    std::fs::write(&tmp, bytes)
        .map_err(|e| Error::io(format!("cannot write {}", tmp.display()), e))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(format!("cannot write {}", path.display()), e)
    })
}

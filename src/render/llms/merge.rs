//! Render + write stage, agents (plugin mode): our H2 sections merged into a host site's
//! existing `llms.txt` between stable markers.
//!
//! Takes: the site and the host file. Gives: a [`HostUpdate`] computed in memory (every check
//! done before anything is written), then written atomically and only when its bytes change.
//! The host's H1, summary and every byte outside our markers stay as they were; running the
//! merge again changes nothing.

use super::txt;
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::error::{Error, Result};
use crate::site::Site;
use std::path::{Path, PathBuf};

/// The line that opens our block in the host file.
pub const MARKER_START: &str = "<!-- partner-pages:start -->";
/// The line that closes it.
pub const MARKER_END: &str = "<!-- partner-pages:end -->";

/// The host's Optional section heading: a fresh block goes just before it.
const OPTIONAL_H2: &str = "## Optional";

/// The host file's new bytes, ready to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostUpdate {
    /// The host's llms.txt.
    pub path: PathBuf,
    /// Its new content.
    pub bytes: Vec<u8>,
    /// False when the host already holds exactly these bytes (nothing will be written).
    pub changed: bool,
}

impl HostUpdate {
    /// Write the host file (temp name in the same folder + rename, keeping its permissions)
    /// when it changed. Returns whether it was written.
    pub fn write(&self) -> Result<bool> {
        if !self.changed {
            return Ok(false);
        }
        // A symlinked host file (a shared llms.txt) keeps its link: we replace the target.
        let target = std::fs::canonicalize(&self.path).unwrap_or_else(|_| self.path.clone());
        let dir = target
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "llms.txt".into());
        let tmp = dir.join(format!(".{name}.partner-pages.tmp"));
        let context = |what: &str| format!("{what} {}", self.path.display());
        if let Err(e) = std::fs::write(&tmp, &self.bytes) {
            let _ = std::fs::remove_file(&tmp);
            return Err(Error::io(context("writing"), e));
        }
        if let Ok(meta) = std::fs::metadata(&target) {
            // Best effort: a file system without permissions (or a race) keeps the defaults.
            let _ = std::fs::set_permissions(&tmp, meta.permissions());
        }
        if let Err(e) = std::fs::rename(&tmp, &target) {
            let _ = std::fs::remove_file(&tmp);
            return Err(Error::io(context("replacing"), e));
        }
        Ok(true)
    }
}

/// Our block: the markers around our H2 sections. No H1 or summary (the host has its own) and
/// no `## Optional` (the spec's Optional section is the host's, and it comes last).
pub fn block(site: &Site) -> String {
    let sections: Vec<txt::Section> = txt::sections(site)
        .into_iter()
        .filter(|s| s.name != txt::OPTIONAL)
        .collect();
    let mut out = format!("{MARKER_START}\n");
    if !sections.is_empty() {
        out.push_str(&txt::sections_markdown(&sections));
    }
    out.push_str(MARKER_END);
    out.push('\n');
    out
}

/// Read the host file named in `site.config.llms.merge` (relative to the site root) and compute
/// its merged bytes. `Ok(None)` when the site is not in plugin mode.
pub fn prepare(site: &Site) -> Result<Option<HostUpdate>> {
    let Some(host) = site.config.llms.merge.as_deref() else {
        return Ok(None);
    };
    let path = site.root.join(host);
    let bytes = std::fs::read(&path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::user_hint(
            format!("the host llms.txt to merge into does not exist: {}", path.display()),
            "create it with at least an H1 line (`# Site name`), or drop the merge (`llms.merge`) to publish our own llms.txt",
        ),
        _ => Error::io(format!("reading {}", path.display()), e),
    })?;
    let text = String::from_utf8(bytes).map_err(|_| {
        Diagnostics(vec![Diagnostic::new(
            &path,
            0,
            0,
            "the host llms.txt is not UTF-8",
        )
        .hint("llms.txt is Markdown text; save it as UTF-8")])
    })?;
    let merged = merge_text(&text, &block(site), &path)?;
    Ok(Some(HostUpdate {
        changed: merged != text,
        path,
        bytes: merged.into_bytes(),
    }))
}

/// Insert or replace our block in `host` (a file at `path`, for messages).
///
/// With markers, the lines from the start marker to the end marker are replaced. Without, the
/// block goes before the host's `## Optional` section, or at the end.
pub fn merge_text(host: &str, block: &str, path: &Path) -> Result<String, Diagnostics> {
    merge_checked(host, block, path).map_err(|d| Diagnostics(vec![d]))
}

// One diagnostic at most; the public wrapper gives the usual (small) `Diagnostics`.
#[allow(clippy::result_large_err)]
fn merge_checked(host: &str, block: &str, path: &Path) -> Result<String, Diagnostic> {
    let (lines, open_fence) = scan(host);
    let err = |line: usize, message: &str| Diagnostic::new(path, line, 1, message);

    if !lines.iter().any(|l| is_h1(l.text)) {
        return Err(err(1, "the host llms.txt has no H1 title")
            .expected("a title line such as `# Example docs` (llmstxt.org requires it)")
            .hint(
                "add the host site's `# Name` line first; the merge never invents the host's title",
            ));
    }

    let starts: Vec<&Line> = lines
        .iter()
        .filter(|l| l.text.trim() == MARKER_START)
        .collect();
    let ends: Vec<&Line> = lines
        .iter()
        .filter(|l| l.text.trim() == MARKER_END)
        .collect();
    let marker_hint = format!(
        "keep exactly one `{MARKER_START}` line followed by one `{MARKER_END}` line, or delete both to insert a fresh block"
    );
    if starts.len() > 1 {
        return Err(err(starts[1].number, "a second partner-pages start marker").hint(marker_hint));
    }
    if ends.len() > 1 {
        return Err(err(ends[1].number, "a second partner-pages end marker").hint(marker_hint));
    }
    let block = if host.contains("\r\n") {
        block.replace('\n', "\r\n")
    } else {
        block.to_string()
    };

    match (starts.first(), ends.first()) {
        (Some(s), Some(e)) if s.number < e.number => {
            Ok(format!("{}{}{}", &host[..s.start], block, &host[e.end..]))
        }
        (Some(_), Some(e)) => Err(err(
            e.number,
            "the partner-pages end marker comes before its start marker",
        )
        .hint(marker_hint)),
        (Some(s), None) => Err(
            err(s.number, "the partner-pages start marker has no end marker")
                .expected(format!("a `{MARKER_END}` line after it"))
                .hint(marker_hint),
        ),
        (None, Some(e)) => Err(err(
            e.number,
            "a partner-pages end marker without a start marker",
        )
        .hint(marker_hint)),
        (None, None) => match open_fence {
            // Appended after an unclosed fence, our block would be code, and unseen next time.
            Some(line) if !lines.iter().any(|l| l.text.trim_end() == OPTIONAL_H2) => Err(err(
                line,
                "the host llms.txt ends inside a code fence opened here",
            )
            .expected("a closing fence line (``` or ~~~) before the end of the file")
            .hint("close the code block; the merge appends our sections at the end")),
            _ => Ok(insert(host, &lines, &block)),
        },
    }
}

/// Insert a fresh block: before `## Optional` when the host has one, else at the end, with a
/// blank line on each side.
fn insert(host: &str, lines: &[Line], block: &str) -> String {
    let nl = if host.contains("\r\n") { "\r\n" } else { "\n" };
    if let Some(opt) = lines.iter().find(|l| l.text.trim_end() == OPTIONAL_H2) {
        let before = &host[..opt.start];
        let gap = if before.is_empty() || before.ends_with(&format!("{nl}{nl}")) {
            ""
        } else {
            nl
        };
        return format!("{before}{gap}{block}{nl}{}", &host[opt.start..]);
    }
    let mut out = host.to_string();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push_str(nl);
    }
    if !out.is_empty() && !out.ends_with(&format!("{nl}{nl}")) {
        out.push_str(nl);
    }
    out.push_str(block);
    out
}

fn is_h1(line: &str) -> bool {
    let t = line.trim_start_matches(' ');
    line.len() - t.len() <= 3 && (t == "#" || t.starts_with("# ") || t.starts_with("#\t"))
}

/// One line of the host file outside fenced code blocks.
struct Line<'a> {
    /// 1-based line number.
    number: usize,
    /// Byte offset of the line start and just past its newline.
    start: usize,
    end: usize,
    /// The line without its line ending.
    text: &'a str,
}

/// The host's lines, skipping fenced code (a doc that shows our markers in an example must not
/// be mistaken for our block), and the line of a fence left open at the end, if any.
fn scan(host: &str) -> (Vec<Line<'_>>, Option<usize>) {
    let mut out = Vec::new();
    let mut offset = 0;
    let mut fence: Option<(char, usize, usize)> = None; // (char, length, opening line)
    for (i, raw) in host.split_inclusive('\n').enumerate() {
        let text = raw.trim_end_matches(['\n', '\r']);
        let start = offset;
        offset += raw.len();
        let t = text.trim_start();
        let run = |c: char| t.chars().take_while(|&x| x == c).count();
        match fence {
            None => {
                if let Some(c) = ['`', '~'].into_iter().find(|&c| run(c) >= 3) {
                    fence = Some((c, run(c), i + 1));
                    continue;
                }
            }
            Some((c, len, _)) => {
                // A closing fence: the same character, at least as long, nothing after it.
                if run(c) >= len && t.trim_end().chars().all(|x| x == c) {
                    fence = None;
                }
                continue;
            }
        }
        out.push(Line {
            number: i + 1,
            start,
            end: offset,
            text,
        });
    }
    (out, fence.map(|(_, _, line)| line))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BLOCK: &str = "<!-- partner-pages:start -->\n## Partner offers\n\n- [A](https://a.example/): a\n<!-- partner-pages:end -->\n";
    const HOST: &str = "# Host docs\n\n> Host summary.\n\n## Docs\n\n- [Intro](https://h.example/intro.md): start here\n";

    fn merge(host: &str) -> Result<String, Box<Diagnostic>> {
        merge_text(host, BLOCK, Path::new("host/llms.txt")).map_err(|mut d| Box::new(d.0.remove(0)))
    }

    #[test]
    fn block_is_appended_after_a_blank_line_and_the_host_is_kept() {
        let out = merge(HOST).unwrap();
        assert_eq!(out, format!("{HOST}\n{BLOCK}"));
        assert_eq!(merge(&out).unwrap(), out, "a second merge is a no-op");
    }

    #[test]
    fn block_goes_before_the_hosts_optional_section() {
        let host = format!("{HOST}\n## Optional\n\n- [Old](https://h.example/old.md)\n");
        let out = merge(&host).unwrap();
        assert_eq!(
            out,
            format!("{HOST}\n{BLOCK}\n## Optional\n\n- [Old](https://h.example/old.md)\n")
        );
        assert_eq!(merge(&out).unwrap(), out);
    }

    #[test]
    fn block_between_markers_is_replaced_and_nothing_else_moves() {
        let host = format!("{HOST}\n<!-- partner-pages:start -->\nstale\n<!-- partner-pages:end -->\n\n## More\n\n- [X](https://h.example/x.md)");
        let out = merge(&host).unwrap();
        assert_eq!(
            out,
            format!("{HOST}\n{BLOCK}\n## More\n\n- [X](https://h.example/x.md)")
        );
    }

    #[test]
    fn crlf_hosts_get_crlf_blocks() {
        let host = HOST.replace('\n', "\r\n");
        let out = merge(&host).unwrap();
        assert!(!out.replace("\r\n", "").contains('\n'), "{out:?}");
        assert_eq!(merge(&out).unwrap(), out);
    }

    #[test]
    fn host_without_h1_is_refused() {
        let e = merge("> just a quote\n\n## Docs\n").unwrap_err();
        assert_eq!(e.location(), "host/llms.txt:1:1");
        assert!(e.message.contains("no H1"), "{e}");
    }

    #[test]
    fn start_marker_without_end_points_at_its_line() {
        let e = merge(&format!("{HOST}\n<!-- partner-pages:start -->\n- stale\n")).unwrap_err();
        assert_eq!(e.location(), "host/llms.txt:9:1");
        assert_eq!(
            e.message,
            "the partner-pages start marker has no end marker"
        );
        let e = merge(&format!("{HOST}<!-- partner-pages:end -->\n")).unwrap_err();
        assert_eq!(e.location(), "host/llms.txt:8:1");
        let e = merge(&format!(
            "{HOST}<!-- partner-pages:end -->\n<!-- partner-pages:start -->\n"
        ))
        .unwrap_err();
        assert!(e.message.contains("before its start"), "{e}");
    }

    #[test]
    fn a_host_ending_inside_a_code_fence_is_refused() {
        let e = merge(&format!("{HOST}\n```text\nunclosed\n")).unwrap_err();
        assert_eq!(e.location(), "host/llms.txt:9:1");
        assert!(e.message.contains("inside a code fence"), "{e}");
        let closed = format!("{HOST}\n````\n```\n````\n");
        assert_eq!(merge(&closed).unwrap(), format!("{closed}\n{BLOCK}"));
    }

    #[test]
    fn markers_inside_code_fences_are_not_ours() {
        let host = format!("{HOST}\n```\n<!-- partner-pages:start -->\n```\n");
        let out = merge(&host).unwrap();
        assert_eq!(out, format!("{host}\n{BLOCK}"));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]
        #[test]
        fn merging_keeps_every_host_line_in_order_and_a_second_merge_is_a_no_op(
            lines in proptest::collection::vec(proptest::sample::select(vec![
                "", "## Docs", "## Optional", "- [A](https://h.example/a.md): a", "```", "~~~",
                "text with <!-- a comment -->", "### deeper", "> quote", "# Another H1",
            ]), 0..12),
            crlf in proptest::bool::ANY,
            final_newline in proptest::bool::ANY,
        ) {
            let nl = if crlf { "\r\n" } else { "\n" };
            let mut host = format!("# Host{nl}");
            host.push_str(&lines.join(nl));
            if final_newline && !lines.is_empty() {
                host.push_str(nl);
            }
            let once = match merge(&host) {
                Ok(once) => once,
                Err(e) => {
                    proptest::prop_assert!(e.message.contains("inside a code fence"), "{}", e);
                    return Ok(());
                }
            };
            proptest::prop_assert_eq!(&merge(&once).unwrap(), &once);
            // The host's non-blank lines survive, in order, once our block is cut out.
            let start = once.find(MARKER_START).unwrap();
            let end = once.find(MARKER_END).unwrap() + MARKER_END.len();
            let outside = format!("{}{}", &once[..start], &once[end..]);
            let kept: Vec<&str> = outside.lines().map(|l| l.trim_end_matches('\r')).filter(|l| !l.is_empty()).collect();
            let original: Vec<&str> = host.lines().map(|l| l.trim_end_matches('\r')).filter(|l| !l.is_empty()).collect();
            proptest::prop_assert_eq!(kept, original);
            // And the bytes before our block are the host's own.
            proptest::prop_assert!(host.starts_with(once[..start].trim_end()));
        }
    }
}

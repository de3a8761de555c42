//! The config's value checks: what its YAML shape cannot say (the collector endpoint, bands,
//! `content_dir`, the kits folder), and where its folders lie against each other and the site
//! (nothing of the site published, `host.data` only inside the host site).

use super::*;

impl Config {
    /// `host.base_path`: a plain path `base_url`'s path is below, with a collector that runs
    /// in front of the host's server (the Worker's assets are served at the root).
    fn validate_host_base_path(&self, node: &crate::load::yaml::Node, r: &mut Report) {
        let Some(raw) = self.host.base_path.as_deref() else {
            return;
        };
        let path = self.host_base_path();
        let plain = raw.starts_with('/')
            && !raw.starts_with("//")
            && !raw.contains(['?', '#', '\\', ' '])
            && !raw.split('/').any(|s| s == ".." || s == ".");
        let problem = if !plain {
            Some(Problem {
                message: format!("`host.base_path: {raw}` is not a path"),
                expected: "the path the host site is served under, e.g. `/blog`",
                hint: Some(
                    "the path of the host generator's base URL (Hugo `baseURL`, Astro `base`, Eleventy `pathPrefix`); leave it out for a site at the root"
                        .into(),
                ),
            })
        } else if !path.is_empty() && (self.base_path() == path || !under(self.base_path(), path)) {
            Some(Problem {
                message: format!(
                    "`base_url` {} is not below the host's base path `{path}`",
                    self.base_url
                ),
                expected: "a `base_url` whose path is a folder of the host site",
                hint: Some(format!(
                    "the partner pages live in the host site: `base_url: {}{path}/partners`",
                    self.origin()
                )),
            })
        } else if !path.is_empty() && self.collector.mode == CollectorMode::Assets {
            Some(Problem {
                message: format!(
                    "`host.base_path: {raw}` needs `collector.mode: route`"
                ),
                expected: "`collector.mode: route` with a `route:` under the host's base path",
                hint: Some(format!(
                    "in mode `assets` the Worker serves the host output at the origin's root, not under `{path}`; run it as a route in front of the host's server: `route: {}{}/go/*`",
                    crate::text::url::host_of(&self.base_url),
                    self.base_path()
                )),
            })
        } else {
            None
        };
        if let Some(problem) = problem {
            flag(r, node, &["host", "base_path"], problem);
        }
    }

    /// `content_dir`: a folder inside the site root, not one of our other folders.
    fn validate_content_dir(&self, node: &crate::load::yaml::Node, r: &mut Report) {
        let Some(dir) = self.content_dir.as_deref() else {
            return;
        };
        let first = dir.trim_end_matches('/');
        let ours = ["partners", "templates", "collector", &self.kits.dir];
        if !inside_root(dir) || dir.contains("..") || ours.contains(&first) {
            flag(
                r,
                node,
                &["content_dir"],
                Problem {
                    message: format!("`content_dir: {dir}` is not a folder for content pages"),
                    expected: "a folder inside the site root of its own, e.g. `partner-content`",
                    hint: Some(
                        "not `partners`, `templates`, `collector` or the kits folder, and not above the site root"
                            .into(),
                    ),
                },
            );
        }
    }
}

impl Config {
    /// The rules the shape cannot say; each problem is reported at its value in `node`.
    pub fn validate(&self, node: &crate::load::yaml::Node, r: &mut Report) {
        self.validate_content_dir(node, r);
        self.validate_host_base_path(node, r);
        if let Some(y) = &self.reward {
            crate::reward::validate_yaml(y, node, "reward", r);
        }
        if let Some(problem) = value_rules::base_url(&self.base_url) {
            flag(r, node, &["base_url"], problem);
        }
        if let Some(problem) = value_rules::site_path(&self.collector.endpoint) {
            flag(r, node, &["collector", "endpoint"], problem);
        } else if self.collector.endpoint.contains(['?', '#']) || self.collector.endpoint == "/" {
            let problem = Problem {
                message: format!(
                    "collector endpoint `{}` must be a plain path",
                    self.collector.endpoint
                ),
                expected: "a path on the site's own origin without query, e.g. `/e`",
                hint: Some(
                    "the beacon posts to this path; keep the default `/e` unless it is taken"
                        .into(),
                ),
            };
            flag(r, node, &["collector", "endpoint"], problem);
        }
        if let Some(problem) = value_rules::d1_database_name(&self.collector.database) {
            flag(r, node, &["collector", "database"], problem);
        }
        if self.collector.mode == CollectorMode::Route && self.collector.route.is_none() {
            let pos = node.key_pos(&["collector", "mode"]).unwrap_or(node.pos);
            let d = r
                .at(pos, "`collector.mode: route` needs `collector.route`")
                .expected("`route:` with a Workers route pattern, e.g. `aikit.example/go/*`")
                .hint("or use `mode: assets` to let the Worker serve public/ too");
            r.push(d);
        }
        if self.host.output.is_some() && self.base_path().is_empty() {
            let problem = Problem {
                message: "`host.output` is set but `base_url` has no path: the partner pages would overwrite the host's pages".into(),
                expected: "a base_url with the folder of the partner pages, e.g. `https://example.com/partners`",
                hint: Some("or remove `host:` for a site of partner pages only".into()),
            };
            flag(r, node, &["host", "output"], problem);
        }
        for (field, value) in [
            ("output", self.host.output.as_deref()),
            ("page", self.shell.as_ref().map(|s| s.page.as_str())),
        ] {
            let Some(value) = value else { continue };
            if value.is_empty()
                || std::path::Path::new(value).is_absolute()
                || value.starts_with('/')
            {
                let path: &[&str] = if field == "output" {
                    &["host", "output"]
                } else {
                    &["shell", "page"]
                };
                let problem = Problem {
                    message: format!("`{value}` is not a relative path"),
                    expected: "a path relative to partner-pages.yaml, e.g. `public` or `../public/about/index.html`",
                    hint: Some("paths in partner-pages.yaml are relative to its folder, so the site builds the same on every machine".into()),
                };
                flag(r, node, path, problem);
            }
        }
        if self.attribution.window_days == 0 {
            let problem = Problem {
                message: "`attribution.window_days` is 0: no visit could ever be attributed".into(),
                expected: "a whole number of days, at least 1 (default 30)",
                hint: None,
            };
            flag(r, node, &["attribution", "window_days"], problem);
        }
        if self.attribution.bot_max_events == 0 {
            let problem = Problem {
                message: "`attribution.bot_max_events` is 0: every visitor would count as a bot"
                    .into(),
                expected: "a whole number of rows, at least 1 (default 100)",
                hint: None,
            };
            flag(r, node, &["attribution", "bot_max_events"], problem);
        }
        let prefix = &self.attribution.cookie_prefix;
        if prefix.is_empty()
            || !prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            let problem = Problem {
                message: format!("cookie prefix `{prefix}` is not a valid cookie name part"),
                expected: "letters, digits and `_`, e.g. `pp`",
                hint: None,
            };
            flag(r, node, &["attribution", "cookie_prefix"], problem);
        }
        if let Some(problem) = kits_dir(&self.kits.dir) {
            flag(r, node, &["kits", "dir"], problem);
        }
        for (name, band) in [
            ("lead_magnet", self.bands.lead_magnet),
            ("cta", self.bands.cta),
            ("activation", self.bands.activation),
        ] {
            check_band(name, band, node, r);
        }
        for (name, days) in [
            ("lead_magnet", self.maturity.lead_magnet),
            ("cta", self.maturity.cta),
            ("activation", self.maturity.activation),
        ] {
            // A default longer than a short window is clamped (see `Maturity::within`); a value
            // written in the file must fit.
            let written = node.key_pos(&["maturity", name]).is_some();
            let window = self.attribution.window_days;
            if written && (days == 0 || (window > 0 && days > window)) {
                let problem = Problem {
                    message: format!(
                        "`maturity.{name}` is {days} days, outside 1..={} (the attribution window)",
                        self.attribution.window_days
                    ),
                    expected: "a whole number of days from 1 to `attribution.window_days`",
                    hint: Some(
                        "a journey is only followed for the attribution window, so it cannot \
                         need longer to mature"
                            .into(),
                    ),
                };
                flag(r, node, &["maturity", name], problem);
            }
        }
    }
}

/// A path relative to the site root, resolved by name from the root's components.
fn resolve(root: &[String], rel: &str) -> Vec<String> {
    let mut out = root.to_vec();
    for part in rel.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            p => out.push(p.to_string()),
        }
    }
    out
}

/// The components of the site root: its absolute path when known, else stand-ins that match
/// no folder name (so `..` can still be followed a few levels up).
fn root_components(root: Option<&std::path::Path>) -> Vec<String> {
    let abs = root.and_then(|r| std::path::absolute(r).ok());
    match abs {
        Some(abs) => resolve(&[], &abs.to_string_lossy().replace('\\', "/")),
        None => (0..8)
            .map(|i| format!("\0up{i}"))
            .chain(["\0site".to_string()])
            .collect(),
    }
}

/// A relative path as written: not empty, not absolute.
fn is_relative(value: &str) -> bool {
    !value.is_empty()
        && !std::path::Path::new(value).is_absolute()
        && !value.starts_with(['/', '\\'])
}

impl Config {
    /// `host.output`, `host.data`, `shell.page` and `kits.dir` against each other and the site:
    /// the published folder holds none of the site's own files (the root, partner files,
    /// content, templates, collector/, the kits, the kit secret, event databases), and
    /// `host.data` writes only inside the host site, never onto one of them.
    pub(super) fn check_places(
        &self,
        root: Option<&std::path::Path>,
        node: &crate::load::yaml::Node,
        r: &mut Report,
    ) {
        let root_c = root_components(root);
        let at = |rel: &str| resolve(&root_c, rel);
        let kits = self.kits.dir.trim_end_matches('/');
        let own: [(&str, String); 8] = [
            (CONFIG_FILE, "the site config".into()),
            ("partners", "the partner files".into()),
            ("content", "the content pages".into()),
            ("templates", "the site's templates".into()),
            (
                "collector",
                "the collector (worker.js, wrangler.toml)".into(),
            ),
            (
                kits,
                format!("the private partner kits (`kits.dir` `{kits}`)"),
            ),
            (KIT_SECRET_FILE, "the kit secret".into()),
            (STATE_DIR, "the build's bookkeeping".into()),
        ];
        let host = self
            .host
            .output
            .as_deref()
            .filter(|h| is_relative(h))
            .map(|h| (h, at(h)));
        // Where the partner pages go inside the host output.
        let ours = host.as_ref().map(|(_, h)| resolve(h, self.base_path()));
        let in_ours = |p: &[String]| ours.as_ref().is_some_and(|o| p.starts_with(o));
        if let Some((value, h)) = &host {
            let problem = if root_c.starts_with(h) {
                Some(format!(
                    "`host.output` `{value}` holds the site itself: partner files, kits, the kit secret, event databases and collector/ would be published"
                ))
            } else {
                own.iter()
                    .find(|(o, _)| {
                        let o = at(o);
                        o.starts_with(h) || h.starts_with(&o)
                    })
                    .map(|(o, what)| {
                        format!("`host.output` `{value}` would publish {what} (`{o}`)")
                    })
            };
            if let Some(message) = problem {
                flag(
                    r,
                    node,
                    &["host", "output"],
                    Problem {
                        message,
                        expected: "the folder the host generator writes, e.g. `public` (Hugo), `dist` (Astro), `_site` (Eleventy)",
                        hint: Some(
                            "only that folder is published; keep the site's own files (partner-pages.yaml, partners/, kits, collector/) beside it"
                                .into(),
                        ),
                    },
                );
            }
        }
        // The host site: the folder holding its output, or the site root.
        let host_site = host
            .as_ref()
            .map(|(_, h)| h[..h.len().saturating_sub(1)].to_vec())
            .unwrap_or_else(|| root_c.clone());
        let shell = self.shell.as_ref().map(|s| s.page.as_str());
        for (i, value) in self.host.data.iter().enumerate() {
            let index = i.to_string();
            let path = ["host", "data", index.as_str()];
            const EXPECTED: &str =
                "a `.json` file of the host site, relative to partner-pages.yaml, e.g. `data/partners.json`";
            let message = if !is_relative(value) {
                Some(format!("`{value}` is not a relative path"))
            } else if !value.ends_with(".json") {
                Some(format!("`host.data` `{value}` is not a `.json` file"))
            } else {
                let d = at(value);
                if !d.starts_with(&host_site) || d.len() == host_site.len() {
                    Some(format!("`host.data` `{value}` is outside the host site"))
                } else if let Some((o, what)) = own.iter().find(|(o, _)| d.starts_with(&at(o))) {
                    Some(format!(
                        "`host.data` `{value}` would overwrite {what} (`{o}`)"
                    ))
                } else if in_ours(&d) {
                    Some(format!(
                        "`host.data` `{value}` is inside the partner pages' own output folder"
                    ))
                } else if shell.is_some_and(|s| is_relative(s) && at(s) == d) {
                    Some(format!("`host.data` `{value}` is the shell page"))
                } else {
                    None
                }
            };
            if let Some(message) = message {
                flag(
                    r,
                    node,
                    &path,
                    Problem {
                        message,
                        expected: EXPECTED,
                        hint: Some(
                            "every build rewrites these files: keep them inside the host site (the folder holding `host.output`), away from the site's own files"
                                .into(),
                        ),
                    },
                );
            }
        }
        if let Some(value) = shell.filter(|s| is_relative(s)) {
            let s = at(value);
            let message = if let Some((o, what)) = own.iter().find(|(o, _)| s.starts_with(&at(o))) {
                Some(format!(
                    "`shell.page` `{value}` is one of {what} (`{o}`), not a host-built page"
                ))
            } else if in_ours(&s) {
                Some(format!(
                    "`shell.page` `{value}` is inside the partner pages' own output folder"
                ))
            } else {
                None
            };
            if let Some(message) = message {
                flag(
                    r,
                    node,
                    &["shell", "page"],
                    Problem {
                        message,
                        expected: "a page the host generator built, e.g. `public/about/index.html`",
                        hint: Some(
                            "pick a page of the host's output outside the partner pages' folder"
                                .into(),
                        ),
                    },
                );
            }
        }
    }
}

/// Folders of a site that the kits must not be written into (its inputs and other outputs).
const NOT_FOR_KITS: &[&str] = &[
    "partners",
    "content",
    "templates",
    "public",
    "preview",
    "collector",
];

/// `kits.dir`: a folder of its own, not the site root nor one of the site's other folders (the
/// build also refuses a kits folder inside the output folder, which `--out` may move).
fn kits_dir(dir: &str) -> Option<Problem> {
    const EXPECTED: &str = "a folder of its own, relative to the site root, e.g. `kits`";
    let trimmed = dir.trim_end_matches('/');
    let first = trimmed.trim_start_matches("./");
    if trimmed.is_empty() || first.is_empty() || first == "." {
        return Some(Problem {
            message: format!("`kits.dir` `{dir}` is the site root"),
            expected: EXPECTED,
            hint: Some("kits hold each partner's private terms: give them their own folder".into()),
        });
    }
    let top = first.split('/').next().unwrap_or(first);
    if NOT_FOR_KITS.contains(&top) {
        return Some(Problem {
            message: format!("`kits.dir` `{dir}` is inside the site's `{top}` folder"),
            expected: EXPECTED,
            hint: Some(if matches!(top, "public" | "preview") {
                "kits under the published output would be public; keep them beside it, e.g. `kits`"
                    .into()
            } else {
                format!("`{top}/` belongs to the site; use a folder of its own, e.g. `kits`")
            }),
        });
    }
    None
}

fn check_band(name: &str, band: Band, node: &crate::load::yaml::Node, r: &mut Report) {
    const EXPECTED: &str =
        "`{ low: L, high: H }` with 0 <= L <= H <= 1 (shares of visitors: 0.2 = 20%)";
    for (side, v) in [("low", band.low), ("high", band.high)] {
        if !(0.0..=1.0).contains(&v) {
            let hint = (v > 1.0 && v <= 100.0)
                .then(|| format!("write percentages as shares: {} instead of {v}", v / 100.0));
            let problem = Problem {
                message: format!("`bands.{name}.{side}` is {v}, outside 0..1"),
                expected: EXPECTED,
                hint,
            };
            flag(r, node, &["bands", name, side], problem);
            return;
        }
    }
    if band.low > band.high {
        let problem = Problem {
            message: format!(
                "`bands.{name}` has low {} above high {}",
                band.low, band.high
            ),
            expected: EXPECTED,
            hint: Some("swap the two values".into()),
        };
        flag(r, node, &["bands", name, "low"], problem);
    }
}

//! Helpers shared by the plain and the e2e tests of experiments.

use crate::support;

pub(crate) const VARIANTS: &str = "variants:\n  - id: control\n  - id: speed\n    promise: Audit in ten minutes\n    landing: { headline: Audit AI content in ten minutes }\n    cta: { label: Start an audit }\n";
pub(crate) const CONTROL_HEADLINE: &str = "Ship AI content your clients can trust";
pub(crate) const SPEED_HEADLINE: &str = "Audit AI content in ten minutes";

pub(crate) fn site_with_variants() -> tempfile::TempDir {
    let site = support::copy_site(&support::example_site());
    let file = site.path().join("partners/seo-consultant.yaml");
    let mut text = std::fs::read_to_string(&file).expect("example partner");
    text.push_str(VARIANTS);
    std::fs::write(&file, text).unwrap();
    site
}

pub(crate) fn shown(body: &str) -> &'static str {
    match (
        body.contains(SPEED_HEADLINE),
        body.contains(CONTROL_HEADLINE),
    ) {
        (true, false) => "speed",
        (false, true) => "control",
        _ => panic!("the page shows neither or both headlines"),
    }
}

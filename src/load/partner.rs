//! Load stage: one partner per `partners/<code>.yaml`, its schema and its per-file rules.
//!
//! Takes: the YAML text of a partner file. Gives: a validated [`Partner`] or located
//! diagnostics; the checks across files (duplicate codes, missing landing bodies) happen in
//! [`crate::site`].

use crate::load::shape::{Field, Report, Shape};
use crate::load::value_rules;
use crate::load::{flag, from_text, Located};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The campaign every partner has, and that unknown `?campaign=` values map to.
pub const DEFAULT_CAMPAIGN: &str = "default";

/// One referral partner. Field names are the user-facing contract.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Partner {
    /// Shown on the page.
    pub name: String,
    /// Slug `[a-z0-9-]`, unique; used in URLs, cookies and events.
    pub code: String,
    /// Who the partner's audience is.
    pub audience: String,
    /// The lead magnet / landing angle.
    pub promise: String,
    /// Allowed `?campaign=` values; `default` is always allowed.
    #[serde(default)]
    pub campaigns: Vec<String>,
    /// Stripe coupon or promotion code ids that credit a payment to this partner (unique
    /// across partners, compared ignoring case).
    #[serde(default)]
    pub coupons: Vec<String>,
    /// The landing page's copy.
    pub landing: Landing,
    /// The free resource the page offers.
    pub lead_magnet: Link,
    /// The one call to action.
    pub cta: Cta,
    /// What counts as the visitor getting value.
    pub activation: Activation,
    /// Private to the partner: shown only in the partner kit (never serialised with the rest:
    /// templates get it through [`Partner::view`]).
    #[serde(default, skip_serializing)]
    pub commission: Option<String>,
    /// Private: the reward rule (`reward:`), over the defaults of the site config. Never
    /// serialised; the kit gets its terms in words through [`Partner::view`].
    #[serde(default, skip_serializing)]
    pub reward: Option<crate::reward::RewardYaml>,
    /// Private: where the partner is paid (`payee:`). Never serialised, never in a template.
    #[serde(default, skip_serializing)]
    pub payee: Option<crate::reward::Payee>,
    /// Private: the partner's own customer or user ids; their purchases are held as
    /// self-referrals. Never serialised.
    #[serde(default, skip_serializing)]
    pub own_accounts: Vec<String>,
    /// The effective reward rule, resolved when the site loads (none: no reward).
    #[serde(skip)]
    pub rule: Option<crate::reward::Rule>,
    /// The rule's terms in words (what the kit shows as the commission).
    #[serde(skip)]
    pub rule_terms: Option<String>,
    /// Meta description; defaults to the promise and proof.
    #[serde(default)]
    pub description: Option<String>,
    /// `<meta name="robots" content="noindex">`, left out of the sitemap and llms.txt.
    #[serde(default)]
    pub noindex: bool,
    /// Not built at all.
    #[serde(default)]
    pub draft: bool,
    /// Listed in llms.txt (default true).
    #[serde(default = "yes")]
    pub llms: bool,
    /// llms.txt section to list this partner under (default "Partner offers").
    #[serde(default)]
    pub llms_section: Option<String>,
    /// Extra note for the llms.txt item.
    #[serde(default)]
    pub llms_note: Option<String>,
    /// An experiment: two to four variants of the page, the first being the control (the
    /// partner's own fields). Empty when the partner runs no test.
    #[serde(default)]
    pub variants: Vec<Variant>,
    /// The file this partner came from, relative to the site root.
    #[serde(skip)]
    pub source: PathBuf,
    /// 1-based line of `code:` in [`Partner::source`], for diagnostics of later stages.
    #[serde(skip)]
    pub source_line: usize,
}

fn yes() -> bool {
    true
}

/// The landing page's copy (`landing:`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Landing {
    /// The page's main heading.
    pub headline: String,
    /// One line of proof under it (a figure, a quote).
    pub proof: String,
    /// Optional Markdown section, a path like `content/seo-checklist.md`.
    #[serde(default)]
    pub body: Option<String>,
}

/// A labelled link (`lead_magnet:`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Link {
    /// The button's text.
    pub label: String,
    /// A site path (`/downloads/x.pdf`) or an absolute http(s) URL.
    pub url: String,
}

/// The call to action (`cta:`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Cta {
    /// The button's text.
    pub label: String,
    /// What the CTA leads to.
    pub kind: CtaKind,
    /// Where it leads: a site path (`/demo`) or an absolute URL.
    pub url: String,
}

/// What the call to action leads to.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CtaKind {
    /// Book or watch a demo.
    Demo,
    /// Subscribe to a newsletter.
    Newsletter,
    /// Follow a tutorial.
    Tutorial,
    /// Download something.
    Download,
}

/// The activation (`activation:`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Activation {
    /// The name partners and agents see, e.g. `runs_first_audit`.
    pub event: String,
    /// What it means, in words.
    pub description: String,
    /// How the activation is recorded.
    pub trigger: Trigger,
}

/// How activation is detected: `{ server: true }`, `{ page: /pricing }` or `{ click: copy-snippet }`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Trigger {
    /// Sent by the product, signed, to `/s` (`server: true`).
    #[serde(default)]
    pub server: bool,
    /// A page view of this site path counts as the activation.
    #[serde(default)]
    pub page: Option<String>,
    /// A click on elements matching this CSS selector counts as the activation.
    #[serde(default)]
    pub click: Option<String>,
}

/// One variant of a partner's page: an id and what it changes. Fields left out are the
/// partner's own.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Variant {
    /// Slug `[a-z0-9-]`, unique within the partner; stored with every event.
    pub id: String,
    /// Share of visitors, in any unit (`70` and `30`, or `2` and `1`); equal when left out.
    #[serde(default)]
    pub weight: Option<f64>,
    /// The variant's promise.
    #[serde(default)]
    pub promise: Option<String>,
    /// The variant's landing copy.
    #[serde(default)]
    pub landing: Option<LandingOverride>,
    /// The variant's lead magnet label.
    #[serde(default)]
    pub lead_magnet: Option<LabelOverride>,
    /// The variant's CTA label.
    #[serde(default)]
    pub cta: Option<LabelOverride>,
}

/// A variant's `landing`: any of headline, proof and body.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LandingOverride {
    /// The variant's headline.
    #[serde(default)]
    pub headline: Option<String>,
    /// The variant's proof line.
    #[serde(default)]
    pub proof: Option<String>,
    /// The variant's page body (Markdown).
    #[serde(default)]
    pub body: Option<String>,
}

/// A variant's `lead_magnet` or `cta`: its label (the link and kind stay the partner's).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LabelOverride {
    /// The button's text.
    pub label: String,
}

impl Variant {
    /// Whether the variant changes anything.
    pub fn overrides_anything(&self) -> bool {
        self.promise.is_some()
            || self.landing.is_some()
            || self.lead_magnet.is_some()
            || self.cta.is_some()
    }
}

impl Partner {
    /// The variant `id` as a whole partner: the partner's fields with the variant's overrides,
    /// and no variants. `None` when the partner has no such variant.
    pub fn with_variant(&self, id: &str) -> Option<Partner> {
        let v = self.variants.iter().find(|v| v.id == id)?;
        let mut p = self.clone();
        p.variants = Vec::new();
        if let Some(x) = &v.promise {
            p.promise = x.clone();
        }
        if let Some(l) = &v.landing {
            if let Some(x) = &l.headline {
                p.landing.headline = x.clone();
            }
            if let Some(x) = &l.proof {
                p.landing.proof = x.clone();
            }
            if let Some(x) = &l.body {
                p.landing.body = Some(x.clone());
            }
        }
        if let Some(x) = &v.lead_magnet {
            p.lead_magnet.label = x.label.clone();
        }
        if let Some(x) = &v.cta {
            p.cta.label = x.label.clone();
        }
        Some(p)
    }

    /// Every declared variant's id and weight (1 each when none is given), the control first;
    /// empty without a test. What the collectors draw assignments from and the test reads.
    pub fn variant_weights(&self) -> Vec<(String, f64)> {
        self.variants
            .iter()
            .map(|v| (v.id.clone(), v.weight.unwrap_or(1.0)))
            .collect()
    }

    /// The id of the control (the first variant), when the partner runs a test.
    pub fn control(&self) -> Option<&str> {
        self.variants.first().map(|v| v.id.as_str())
    }

    /// Every allowed campaign, `default` first, then the declared ones in file order.
    pub fn all_campaigns(&self) -> Vec<&str> {
        let mut out = vec![DEFAULT_CAMPAIGN];
        for c in &self.campaigns {
            if c != DEFAULT_CAMPAIGN {
                out.push(c);
            }
        }
        out
    }

    /// Site path of the landing page.
    pub fn landing_path(&self) -> String {
        format!("/p/{}/", self.code)
    }

    /// The partner as a template sees it: every field of its YAML, and `commission` only
    /// when `private` (the kit, the partner's own emails); public pages get it as none.
    pub fn view(&self, private: bool) -> PartnerView<'_> {
        PartnerView {
            fields: self,
            commission: if private {
                self.rule_terms.as_deref().or(self.commission.as_deref())
            } else {
                None
            },
        }
    }
}

/// `partner` in a template context; see [`Partner::view`].
#[derive(Debug, Clone, Copy, Serialize)]
pub struct PartnerView<'a> {
    /// The partner's public fields.
    #[serde(flatten)]
    pub fields: &'a Partner,
    /// The commission terms, for the partner's kit only: written from the reward rule when
    /// there is one, else the free `commission:` text.
    pub commission: Option<&'a str>,
}

/// Fields of a partner that are private to the partner (its kit), never on a public page.
pub const PRIVATE_FIELDS: &[&str] = &["commission", "reward", "payee", "own_accounts"];

/// `cta.kind` values, in the order the docs list them.
pub const CTA_KINDS: &[&str] = &["demo", "newsletter", "tutorial", "download"];

const LANDING: &[Field] = &[
    Field::req("headline", Shape::Text),
    Field::req("proof", Shape::Text),
    Field::opt("body", Shape::Text),
];
const LINK: &[Field] = &[
    Field::req("label", Shape::Text),
    Field::req("url", Shape::Text),
];
const CTA: &[Field] = &[
    Field::req("label", Shape::Text),
    Field::req("kind", Shape::Enum(CTA_KINDS)),
    Field::req("url", Shape::Text),
];
const TRIGGER: &[Field] = &[
    Field::opt("server", Shape::Bool),
    Field::opt("page", Shape::Text),
    Field::opt("click", Shape::Text),
];
const LANDING_OVERRIDE: &[Field] = &[
    Field::opt("headline", Shape::Text),
    Field::opt("proof", Shape::Text),
    Field::opt("body", Shape::Text),
];
const LABEL_OVERRIDE: &[Field] = &[Field::req("label", Shape::Text)];
const VARIANT: &[Field] = &[
    Field::req("id", Shape::Text),
    Field::opt("weight", Shape::Number),
    Field::opt("promise", Shape::Text),
    Field::opt("landing", Shape::Map(LANDING_OVERRIDE)),
    Field::opt("lead_magnet", Shape::Map(LABEL_OVERRIDE)),
    Field::opt("cta", Shape::Map(LABEL_OVERRIDE)),
];
/// At most this many variants: each more splits the traffic further and slows every verdict.
pub const MAX_VARIANTS: usize = 4;

const ACTIVATION: &[Field] = &[
    Field::req("event", Shape::Text),
    Field::req("description", Shape::Text),
    Field::req("trigger", Shape::Map(TRIGGER)),
];

/// The shape of a partner file; mirrors [`Partner`] field by field (a field added to the struct
/// must be added here too; `schema_mirrors_every_field_of_the_struct` checks it).
pub const SHAPE: Shape = Shape::Map(&[
    Field::req("name", Shape::Text),
    Field::req("code", Shape::Text),
    Field::req("audience", Shape::Text),
    Field::req("promise", Shape::Text),
    Field::opt("campaigns", Shape::List(&Shape::Text)),
    Field::opt("coupons", Shape::List(&Shape::Text)),
    Field::req("landing", Shape::Map(LANDING)),
    Field::req("lead_magnet", Shape::Map(LINK)),
    Field::req("cta", Shape::Map(CTA)),
    Field::req("activation", Shape::Map(ACTIVATION)),
    Field::opt("commission", Shape::Text),
    Field::opt("reward", Shape::Map(crate::reward::REWARD_SHAPE)),
    Field::opt("payee", Shape::Map(crate::reward::PAYEE_SHAPE)),
    Field::opt("own_accounts", Shape::List(&Shape::Text)),
    Field::opt("description", Shape::Text),
    Field::opt("noindex", Shape::Bool),
    Field::opt("draft", Shape::Bool),
    Field::opt("llms", Shape::Bool),
    Field::opt("llms_section", Shape::Text),
    Field::opt("llms_note", Shape::Text),
    Field::opt("variants", Shape::List(&Shape::Map(VARIANT))),
]);

/// Load one partner file's text: shape, types, then the rules of [`validate`].
/// `r.file` must be the path relative to the site root (`partners/<code>.yaml`).
pub fn parse(text: &str, r: &mut Report) -> Option<Located<Partner>> {
    let mut loaded = from_text::<Partner>(text, &SHAPE, r)?;
    loaded.value.source = r.file.to_path_buf();
    loaded.value.source_line = loaded.node.key_pos(&["code"]).map_or(1, |p| p.line);
    let before = r.diags.len();
    validate(&loaded.value, &loaded.node, r);
    (r.diags.len() == before).then_some(loaded)
}

/// The rules of one partner file that the shape cannot say: slugs, file name, links, campaigns,
/// activation name and trigger.
pub fn validate(p: &Partner, node: &crate::load::yaml::Node, r: &mut Report) {
    match value_rules::slug(&p.code, "partner code") {
        Some(problem) => flag(r, node, &["code"], problem),
        None => {
            let stem = r.file.file_stem().and_then(|s| s.to_str()).unwrap_or("");
            if stem != p.code {
                let dir = r.file.parent().unwrap_or(Path::new("partners"));
                let ext = r
                    .file
                    .extension()
                    .and_then(|s| s.to_str())
                    .unwrap_or("yaml");
                let want = dir.join(format!("{}.{ext}", p.code));
                let pos = node.lookup(&["code"]).map_or(node.pos, |n| n.pos);
                let d = r
                    .at(
                        pos,
                        format!(
                            "file name `{}` does not match the code `{}`",
                            r.file.display(),
                            p.code
                        ),
                    )
                    .expected("`partners/<code>.yaml`, so each partner is found by its code")
                    .hint(format!(
                        "rename the file to `{}` or change the code to `{stem}`",
                        want.display()
                    ));
                r.push(d);
            }
        }
    }
    for (path, url) in [
        (["lead_magnet", "url"], &p.lead_magnet.url),
        (["cta", "url"], &p.cta.url),
    ] {
        if let Some(problem) = value_rules::link(url) {
            flag(r, node, &path, problem);
        }
    }
    check_campaigns(p, node, r);
    check_coupons(p, node, r);
    if let Some(problem) = value_rules::event_name(&p.activation.event) {
        flag(r, node, &["activation", "event"], problem);
    }
    check_trigger(&p.activation.trigger, node, r);
    check_variants(p, node, r);
    if let Some(y) = &p.reward {
        crate::reward::validate_yaml(y, node, "reward", r);
    }
    crate::reward::validate_private(p.payee.as_ref(), &p.own_accounts, node, r);
}

/// Two to four variants with distinct slug ids; weights on all or none, each above zero; the
/// first (the control) shows the partner's own fields, so it overrides nothing.
fn check_variants(p: &Partner, node: &crate::load::yaml::Node, r: &mut Report) {
    let vs = &p.variants;
    if vs.is_empty() {
        return;
    }
    if vs.len() < 2 || vs.len() > MAX_VARIANTS {
        let pos = node.key_pos(&["variants"]).unwrap_or(node.pos);
        let d = r
            .at(
                pos,
                format!("`variants` lists {}", crate::text::plural(vs.len() as u64, "variant", "variants")),
            )
            .expected("two to four variants, the first being the control")
            .hint(if vs.len() < 2 {
                "add a second variant to test against the control, or remove `variants:` to run no test"
            } else {
                "keep the promises you most want to compare: each variant more splits the traffic and slows the verdict"
            });
        r.push(d);
    }
    let mut seen: Vec<&str> = Vec::new();
    for (i, v) in vs.iter().enumerate() {
        let idx = i.to_string();
        let at = |field: &'static str| ["variants", idx.as_str(), field];
        if let Some(problem) = value_rules::slug(&v.id, "variant id") {
            flag(r, node, &at("id"), problem);
        } else if seen.contains(&v.id.as_str()) {
            let pos = node.lookup(&at("id")).map_or(node.pos, |n| n.pos);
            let d = r
                .at(pos, format!("variant `{}` is listed twice", v.id))
                .expected("a distinct id per variant (events store it)")
                .hint("rename one of them");
            r.push(d);
        }
        seen.push(&v.id);
        if let Some(w) = v.weight {
            if !(w > 0.0 && w.is_finite()) {
                let pos = node.lookup(&at("weight")).map_or(node.pos, |n| n.pos);
                let d = r
                    .at(pos, format!("variant `{}` has weight {w}", v.id))
                    .expected("a number above zero (a share of visitors, in any unit)")
                    .hint("remove `weight:` from every variant to split the traffic equally");
                r.push(d);
            }
        } else if vs.iter().any(|o| o.weight.is_some()) {
            let pos = node.lookup(&at("id")).map_or(node.pos, |n| n.pos);
            let d = r
                .at(
                    pos,
                    format!("variant `{}` has no weight while others do", v.id),
                )
                .expected("`weight:` on every variant, or on none (equal shares)")
                .hint("add `weight:` to this variant");
            r.push(d);
        }
        if i == 0 && v.overrides_anything() {
            let pos = node
                .lookup(&["variants", "0", "id"])
                .map_or(node.pos, |n| n.pos);
            let d = r
                .at(pos, format!("the control variant `{}` overrides the partner's fields", v.id))
                .expected("a first variant (the control) with only `id` and `weight`: it shows the partner's own promise, landing and labels")
                .hint("move these values into the partner's own fields, or put the control first");
            r.push(d);
        }
    }
}

/// Coupon ids as Stripe writes them in webhooks: 1 to 200 letters, digits, `_` or `-`, each
/// listed once (ignoring case).
fn check_coupons(p: &Partner, node: &crate::load::yaml::Node, r: &mut Report) {
    let mut seen: Vec<String> = Vec::new();
    for (i, c) in p.coupons.iter().enumerate() {
        let idx = i.to_string();
        let pos = node
            .lookup(&["coupons", idx.as_str()])
            .map_or(node.pos, |n| n.pos);
        let ok = (1..=200).contains(&c.len())
            && c.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !ok {
            let d = r
                .at(pos, format!("coupon `{c}` is not a Stripe coupon or promotion code id"))
                .expected("1 to 200 letters, digits, `_` or `-`, e.g. `ALICE20` or `promo_1Q2w3E`")
                .hint("copy the id from the coupon's or the promotion code's page in the Stripe dashboard");
            r.push(d);
            continue;
        }
        if seen.iter().any(|s| s.eq_ignore_ascii_case(c)) {
            let d = r
                .at(pos, format!("coupon `{c}` is listed twice"))
                .expected("each coupon once (compared ignoring case)")
                .hint("remove the second one");
            r.push(d);
            continue;
        }
        seen.push(c.clone());
    }
}

fn check_campaigns(p: &Partner, node: &crate::load::yaml::Node, r: &mut Report) {
    let mut seen: Vec<(String, usize)> = Vec::new();
    for (i, c) in p.campaigns.iter().enumerate() {
        let idx = i.to_string();
        let path = ["campaigns", idx.as_str()];
        let folded = c.to_lowercase();
        if let Some((first, _)) = seen.iter().find(|(s, _)| s.to_lowercase() == folded) {
            let pos = node.lookup(&path).map_or(node.pos, |n| n.pos);
            let (message, hint) = if first == c {
                (
                    format!("campaign `{c}` is listed twice"),
                    "remove the second one".to_string(),
                )
            } else {
                (
                    format!(
                        "campaign `{c}` collides with `{first}`: campaigns differ only in case"
                    ),
                    format!("keep one spelling: `{}`", value_rules::slugify(first)),
                )
            };
            let d = r
                .at(pos, message)
                .expected("distinct campaign names (compared ignoring case, as links get retyped)")
                .hint(hint);
            r.push(d);
            continue;
        }
        seen.push((c.clone(), i));
        if let Some(problem) = value_rules::slug(c, "campaign") {
            flag(r, node, &path, problem);
        }
    }
}

fn check_trigger(t: &Trigger, node: &crate::load::yaml::Node, r: &mut Report) {
    let set: Vec<&str> = [
        t.server.then_some("server"),
        t.page.as_ref().map(|_| "page"),
        t.click.as_ref().map(|_| "click"),
    ]
    .into_iter()
    .flatten()
    .collect();
    let at = ["activation", "trigger"];
    let expected = "exactly one of `{ server: true }`, `{ page: /path }` or `{ click: hook-name }`";
    if set.len() != 1 {
        let pos = node.key_pos(&at).unwrap_or(node.pos);
        let message = if set.is_empty() {
            "activation trigger sets none of `server`, `page` or `click`".to_string()
        } else {
            format!(
                "activation trigger sets {}; it must set exactly one",
                set.iter()
                    .map(|s| format!("`{s}`"))
                    .collect::<Vec<_>>()
                    .join(" and ")
            )
        };
        let d = r
            .at(pos, message)
            .expected(expected)
            .hint("server: your backend posts the activation; page: a visit to that path; click: a click on an element with that data-pp-click hook");
        r.push(d);
        return;
    }
    if let Some(page) = &t.page {
        if let Some(problem) = value_rules::site_path(page) {
            flag(r, node, &["activation", "trigger", "page"], problem);
        }
    }
    if let Some(hook) = &t.click {
        if let Some(problem) = value_rules::hook_name(hook) {
            flag(r, node, &["activation", "trigger", "click"], problem);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = "name: Alpha\ncode: alpha\naudience: A\npromise: P\ncampaigns: [default, webinar]\nlanding:\n  headline: H\n  proof: Pr\nlead_magnet: { label: Get, url: /get/ }\ncta: { label: Book, kind: demo, url: /demo }\nactivation:\n  event: runs_first_audit\n  description: D\n  trigger: { server: true }\n";

    fn load(file: &str, text: &str) -> Result<Partner, Vec<crate::diagnostics::Diagnostic>> {
        let mut r = Report::new(Path::new(file), text, 0);
        match parse(text, &mut r) {
            Some(l) => Ok(l.value),
            None => Err(r.diags),
        }
    }

    fn messages(file: &str, text: &str) -> Vec<String> {
        load(file, text)
            .unwrap_err()
            .into_iter()
            .map(|d| format!("{}:{} {}", d.line, d.column, d.message))
            .collect()
    }

    #[test]
    fn a_valid_partner_loads_with_its_source_and_code_line() {
        let p = load("partners/alpha.yaml", VALID).unwrap();
        assert_eq!(p.code, "alpha");
        assert_eq!(p.source, Path::new("partners/alpha.yaml"));
        assert_eq!(p.source_line, 2);
        assert_eq!(p.all_campaigns(), vec!["default", "webinar"]);
    }

    #[test]
    fn schema_mirrors_every_field_of_the_struct() {
        use crate::load::shape::{field_paths, json_paths};
        let mut p = load("partners/alpha.yaml", VALID).unwrap();
        p.landing.body = Some("content/x.md".into());
        p.activation.trigger.page = Some("/x".into());
        // The view a kit gets is the whole partner (public pages get `commission` as none).
        let json = serde_json::to_value(p.view(true)).unwrap();
        // Reward, payee and own accounts are never serialised (the kit gets the terms in
        // words as `commission`).
        let never = ["reward", "payee", "own_accounts"];
        let schema: std::collections::BTreeSet<String> = field_paths(&SHAPE)
            .into_iter()
            .filter(|f| {
                !never
                    .iter()
                    .any(|n| f == n || f.starts_with(&format!("{n}.")))
            })
            .collect();
        assert_eq!(
            schema,
            json_paths(&json),
            "add the new field to partner::SHAPE"
        );
    }

    #[test]
    fn commission_reaches_only_a_private_view() {
        let mut p = load("partners/alpha.yaml", VALID).unwrap();
        p.commission = Some("25% recurring".into());
        assert!(!serde_json::to_string(&p).unwrap().contains("25%"));
        let public = serde_json::to_value(p.view(false)).unwrap();
        assert_eq!(public["commission"], serde_json::Value::Null);
        assert_eq!(public["name"], serde_json::json!(p.name));
        let private = serde_json::to_value(p.view(true)).unwrap();
        assert_eq!(private["commission"], "25% recurring");
    }

    proptest::proptest! {
        /// Whatever the text, loading never panics, and every problem has a real position.
        #[test]
        fn any_edit_of_a_partner_file_gives_located_errors_or_a_partner(
            at in 0usize..400,
            cut in 0usize..6,
            insert in "[a-z_:{}\\[\\], \n\t\"'&*!#|>-]{0,8}",
        ) {
            let mut chars: Vec<char> = VALID.chars().collect();
            let at = at.min(chars.len());
            let end = (at + cut).min(chars.len());
            chars.splice(at..end, insert.chars());
            let text: String = chars.into_iter().collect();
            let mut r = Report::new(Path::new("partners/alpha.yaml"), &text, 0);
            if parse(&text, &mut r).is_none() {
                proptest::prop_assert!(!r.diags.is_empty());
            }
            for d in &r.diags {
                proptest::prop_assert!(d.line >= 1 && d.column >= 1, "{}", d);
                proptest::prop_assert!(d.line <= text.lines().count().max(1), "{}", d);
            }
        }
    }

    #[test]
    fn file_name_must_match_the_code() {
        assert_eq!(
            messages("partners/beta.yaml", VALID),
            vec!["2:7 file name `partners/beta.yaml` does not match the code `alpha`"]
        );
    }

    #[test]
    fn every_rule_problem_of_a_file_is_reported_at_once() {
        let text = VALID
            .replace("code: alpha", "code: ../alpha")
            .replace("url: /demo", "url: javascript:alert(1)")
            .replace("event: runs_first_audit", "event: visit")
            .replace("[default, webinar]", "[default, webinar, Webinar]");
        let got = messages("partners/alpha.yaml", &text);
        assert_eq!(got.len(), 4, "{got:#?}");
        assert!(got[0].starts_with("2:7 partner code `../alpha` is not a slug"));
    }

    #[test]
    fn trigger_needs_exactly_one_kind() {
        let none = VALID.replace("{ server: true }", "{ server: false }");
        assert_eq!(
            messages("partners/alpha.yaml", &none),
            vec!["14:3 activation trigger sets none of `server`, `page` or `click`"]
        );
        let two = VALID.replace("{ server: true }", "{ server: true, page: /pricing }");
        assert_eq!(
            messages("partners/alpha.yaml", &two),
            vec!["14:3 activation trigger sets `server` and `page`; it must set exactly one"]
        );
    }

    #[test]
    fn duplicate_campaigns_point_at_the_second() {
        let text = VALID.replace("[default, webinar]", "[default, webinar, webinar]");
        assert_eq!(
            messages("partners/alpha.yaml", &text),
            vec!["5:31 campaign `webinar` is listed twice"]
        );
    }

    const VARIANTS: &str = "variants:\n  - id: control\n    weight: 2\n  - id: speed\n    weight: 1\n    promise: Fast\n    landing: { headline: H2, body: content/b.md }\n    cta: { label: Start }\n";

    #[test]
    fn variants_load_and_apply_their_overrides() {
        let p = load("partners/alpha.yaml", &format!("{VALID}{VARIANTS}")).unwrap();
        assert_eq!(p.control(), Some("control"));
        let w: Vec<(String, f64)> = crate::experiment::Variant::of(&p)
            .into_iter()
            .map(|v| (v.id, v.weight))
            .collect();
        assert_eq!(w, vec![("control".into(), 2.0), ("speed".into(), 1.0)]);
        let speed = p.with_variant("speed").unwrap();
        assert_eq!(speed.promise, "Fast");
        assert_eq!(speed.landing.headline, "H2");
        assert_eq!(speed.landing.proof, "Pr");
        assert_eq!(speed.landing.body.as_deref(), Some("content/b.md"));
        assert_eq!(speed.lead_magnet.label, "Get");
        assert_eq!(speed.cta.label, "Start");
        assert!(speed.variants.is_empty());
        let control = p.with_variant("control").unwrap();
        assert_eq!(control.promise, "P");
        assert!(p.with_variant("nope").is_none());
    }

    #[test]
    fn variant_problems_are_located() {
        let one = format!("{VALID}variants:\n  - id: control\n");
        assert_eq!(
            messages("partners/alpha.yaml", &one),
            vec!["15:1 `variants` lists 1 variant"]
        );
        let five: String = (0..5).map(|i| format!("  - id: v{i}\n")).collect();
        assert_eq!(
            messages("partners/alpha.yaml", &format!("{VALID}variants:\n{five}")),
            vec!["15:1 `variants` lists 5 variants"]
        );
        let mixed = format!(
            "{VALID}variants:\n  - id: a\n    weight: 1\n  - id: b\n  - id: a\n    weight: -1\n"
        );
        assert_eq!(
            messages("partners/alpha.yaml", &mixed),
            vec![
                "18:9 variant `b` has no weight while others do",
                "19:9 variant `a` is listed twice",
                "20:13 variant `a` has weight -1",
            ]
        );
    }
}

//! Load stage for rewards: `reward:` in a partner file and the defaults in
//! `partner-pages.yaml`, `payee:` and `own_accounts:` (private partner data), checked with
//! located errors; the effective [`Rule`] of each partner and its terms in words. The ledger
//! ([`crate::ledger`]) applies the rules to the events.

pub mod money;

use crate::diagnostics::Diagnostic;
use crate::load::shape::{Field, Report, Shape};
use crate::load::yaml::Node;
use money::Decimal;
use serde::{Deserialize, Serialize};

/// `reward:` as written (in a partner file, or the defaults in `partner-pages.yaml`). Every
/// field is optional: a partner's fields override the defaults one by one.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct RewardYaml {
    /// Per sale: a percentage of the net sale (`20%`) or a flat amount (`15.00`).
    #[serde(default)]
    pub sale: Option<String>,
    /// A flat amount per lead (the lead magnet taken).
    #[serde(default)]
    pub lead: Option<String>,
    /// A flat amount per activation.
    #[serde(default)]
    pub activation: Option<String>,
    /// Which payments of a customer earn: `0` the first only, `N` those within N months of
    /// the first, `forever` all.
    #[serde(default)]
    pub recurring: Option<String>,
    /// Days an earning waits before it is due (refunds come in meanwhile).
    #[serde(default)]
    pub hold_days: Option<u32>,
    /// Smallest total paid out to a partner (in `currency`).
    #[serde(default)]
    pub minimum_payout: Option<String>,
    /// ISO code of flat amounts and of the minimum payout.
    #[serde(default)]
    pub currency: Option<String>,
}

/// `payee:` in a partner file: where the partner is paid. Private: never serialised with the
/// partner, never in a template, a public file or an answer of the MCP server.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct Payee {
    /// The partner's PayPal email (or PayPal payer id): paid with a PayPal Payouts file.
    #[serde(default)]
    pub paypal: Option<String>,
    /// The partner's email for a Wise "send by email" batch (used when `paypal` is not set).
    #[serde(default)]
    pub wise_email: Option<String>,
    /// The recipient's name, as on their bank account (Wise needs it).
    #[serde(default)]
    pub name: Option<String>,
    /// `person` (default) or `business` (Wise's recipient type).
    #[serde(default)]
    pub kind: Option<String>,
}

/// The shape of `reward:` (partner file and site config).
pub const REWARD_SHAPE: &[Field] = &[
    Field::opt("sale", Shape::Text),
    Field::opt("lead", Shape::Text),
    Field::opt("activation", Shape::Text),
    Field::opt("recurring", Shape::Text),
    Field::opt("hold_days", Shape::UInt),
    Field::opt("minimum_payout", Shape::Text),
    Field::opt("currency", Shape::Text),
];

/// The shape of `payee:`.
pub const PAYEE_SHAPE: &[Field] = &[
    Field::opt("paypal", Shape::Text),
    Field::opt("wise_email", Shape::Text),
    Field::opt("name", Shape::Text),
    Field::opt("kind", Shape::Enum(&["person", "business"])),
];

/// Hold days when none is set: about one refund window of most card payments.
pub const DEFAULT_HOLD_DAYS: u32 = 30;
/// The longest hold accepted.
pub const MAX_HOLD_DAYS: u32 = 999;

/// What a sale earns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaleReward {
    /// Hundredths of a percent of the net sale (`2000` is 20%).
    Percent(u32),
    /// A flat amount in the reward currency's minor unit.
    Flat(i64),
}

/// Which payments of one customer earn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recurring {
    /// Payments within this many months of the customer's first payment (0: the first only).
    Months(u32),
    /// Every payment.
    Forever,
}

/// The effective reward of a partner: its `reward:` over the site's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Per sale.
    pub sale: Option<SaleReward>,
    /// Per lead, minor units.
    pub lead: Option<i64>,
    /// Per activation, minor units.
    pub activation: Option<i64>,
    /// Which payments of a customer earn.
    pub recurring: Recurring,
    /// Days before an earning is due.
    pub hold_days: u32,
    /// Smallest payout, minor units of `currency`.
    pub minimum_payout: i64,
    /// Lower-case ISO code.
    pub currency: String,
}

impl Rule {
    /// The terms in words, as the partner's kit shows them.
    pub fn terms(&self) -> String {
        let c = &self.currency;
        let mut parts: Vec<String> = Vec::new();
        if let Some(s) = self.sale {
            let what = match s {
                SaleReward::Percent(bp) => {
                    format!("{} of each net sale", money::format_percent(bp))
                }
                SaleReward::Flat(a) => format!("{} per sale", money::format_with_code(a, c)),
            };
            let when = match self.recurring {
                Recurring::Months(0) => " (a customer's first payment)".to_string(),
                Recurring::Months(1) => " (a customer's payments in their first month)".to_string(),
                Recurring::Months(n) => {
                    format!(" (a customer's payments in their first {n} months)")
                }
                Recurring::Forever => {
                    " (every payment of the customer, for as long as they pay)".to_string()
                }
            };
            parts.push(format!("{what}{when}"));
        }
        if let Some(a) = self.lead {
            parts.push(format!("{} per lead", money::format_with_code(a, c)));
        }
        if let Some(a) = self.activation {
            parts.push(format!("{} per activation", money::format_with_code(a, c)));
        }
        let days = match self.hold_days {
            1 => "1 day".to_string(),
            n => format!("{n} days"),
        };
        // One clause, no final stop: templates put it inside a sentence ("than today's ...").
        parts.push(format!("due {days} after the sale"));
        let mut text = parts.join("; ");
        if self.minimum_payout > 0 {
            text.push_str(&format!(
                ", paid once earnings reach {}",
                money::format_with_code(self.minimum_payout, c)
            ));
        }
        text
    }

    /// The figure the terms lead with (`20%`, `15.00 USD`), to compare with free text.
    pub fn headline(&self) -> Option<String> {
        match self.sale {
            Some(SaleReward::Percent(bp)) => Some(money::format_percent(bp)),
            Some(SaleReward::Flat(a)) => Some(money::format_major(a, &self.currency)),
            None => self
                .lead
                .or(self.activation)
                .map(|a| money::format_major(a, &self.currency)),
        }
    }
}

fn problem(
    r: &mut Report,
    node: &Node,
    path: &[&str],
    message: String,
    expected: &str,
    hint: &str,
) {
    let pos = node.lookup(path).map_or(node.pos, |n| n.pos);
    let d = r.at(pos, message).expected(expected).hint(hint);
    r.push(d);
}

/// The checks of one `reward:` mapping that need no other file (the shape is checked before):
/// `sale` a percentage or an amount, `lead` / `activation` / `minimum_payout` amounts,
/// `recurring` months or `forever`, `hold_days` at most [`MAX_HOLD_DAYS`], a known currency.
/// `at` is the path of the mapping (`["reward"]`).
pub fn validate_yaml(y: &RewardYaml, node: &Node, at: &str, r: &mut Report) {
    let path = |f: &'static str| [at, f];
    if let Some(s) = &y.sale {
        let ok = if s.trim_end().ends_with('%') {
            money::parse_percent(s).is_some()
        } else {
            Decimal::parse(s).is_some()
        };
        if !ok {
            problem(
                r,
                node,
                &path("sale"),
                format!("`{at}.sale` is `{s}`"),
                "a percentage of the net sale above 0 and at most 100 (`20%`, `12.5%`) or a flat amount (`15`, `15.50`)",
                "write `sale: 20%` for a share of each sale, `sale: 15` for a fixed amount per sale",
            );
        }
    }
    for (field, v) in [
        ("lead", &y.lead),
        ("activation", &y.activation),
        ("minimum_payout", &y.minimum_payout),
    ] {
        if let Some(s) = v {
            if Decimal::parse(s).is_none() {
                problem(
                    r,
                    node,
                    &path(field),
                    format!("`{at}.{field}` is `{s}`"),
                    "an amount in the reward's currency: digits with at most three decimals (`2`, `2.50`)",
                    "amounts are in major units: `2.50` is two dollars fifty in `usd`",
                );
            }
        }
    }
    if let Some(s) = &y.recurring {
        if parse_recurring(s).is_none() {
            problem(
                r,
                node,
                &path("recurring"),
                format!("`{at}.recurring` is `{s}`"),
                "a number of months (0 to 120) or `forever`",
                "`0` rewards a customer's first payment only; `12` their payments in the first year",
            );
        }
    }
    if let Some(d) = y.hold_days {
        if d > MAX_HOLD_DAYS {
            problem(
                r,
                node,
                &path("hold_days"),
                format!("`{at}.hold_days` is {d}"),
                "a number of days from 0 to 999",
                "30 covers the refund window of most card payments",
            );
        }
    }
    if let Some(c) = &y.currency {
        if !money::known_currency(c) {
            problem(
                r,
                node,
                &path("currency"),
                format!("`{at}.currency` is `{c}`, not a currency Stripe pays in"),
                "a three-letter ISO 4217 code such as `usd`, `eur` or `gbp`",
                "use the currency of your Stripe account",
            );
        }
    }
}

/// `0`..`120` months or `forever`.
pub fn parse_recurring(s: &str) -> Option<Recurring> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("forever") {
        return Some(Recurring::Forever);
    }
    t.parse::<u32>()
        .ok()
        .filter(|n| *n <= 120)
        .map(Recurring::Months)
}

/// The checks of `payee:` and `own_accounts:` in a partner file.
pub fn validate_private(
    payee: Option<&Payee>,
    own_accounts: &[String],
    node: &Node,
    r: &mut Report,
) {
    if let Some(p) = payee {
        if p.paypal.is_none() && p.wise_email.is_none() {
            problem(
                r,
                node,
                &["payee"],
                "`payee` names neither `paypal` nor `wise_email`".into(),
                "`paypal: <email or PayPal payer id>` or `wise_email: <email>` (with `name:`)",
                "the payout files need one way to reach the partner",
            );
        }
        if let Some(e) = &p.wise_email {
            if !looks_like_email(e) {
                problem(
                    r,
                    node,
                    &["payee", "wise_email"],
                    format!("`payee.wise_email` is `{e}`, not an email address"),
                    "an email address such as `ana@example.com`",
                    "Wise sends the partner a link to enter their bank details at this address",
                );
            }
            if p.paypal.is_none() && p.name.is_none() {
                problem(
                    r,
                    node,
                    &["payee"],
                    "`payee` pays by Wise but has no `name`".into(),
                    "`name:` the recipient's name, as on their bank account",
                    "Wise's batch file needs the recipient's name",
                );
            }
        }
        if let Some(e) = &p.paypal {
            let payer_id = e.len() == 13 && e.bytes().all(|b| b.is_ascii_alphanumeric());
            if !looks_like_email(e) && !payer_id {
                problem(
                    r,
                    node,
                    &["payee", "paypal"],
                    format!("`payee.paypal` is `{e}`"),
                    "the partner's PayPal email address or 13-character PayPal payer id",
                    "ask the partner for the email of their PayPal account",
                );
            }
        }
    }
    for (i, a) in own_accounts.iter().enumerate() {
        let ok = (1..=200).contains(&a.len()) && !a.chars().any(|c| c.is_whitespace());
        if !ok {
            let idx = i.to_string();
            problem(
                r,
                node,
                &["own_accounts", idx.as_str()],
                format!("`own_accounts` item `{a}` is not an account id"),
                "a Stripe customer id (`cus_...`) or your product's user id, without spaces",
                "list the partner's own accounts, so their own purchases are held, not paid",
            );
        }
    }
}

fn looks_like_email(e: &str) -> bool {
    match e.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !e.chars().any(|c| c.is_whitespace() || c == ',' || c == '"')
                && e.len() <= 127
        }
        None => false,
    }
}

/// Where a field of the effective rule was written (for errors found when merging).
#[derive(Debug, Clone, Copy)]
pub enum Origin {
    /// The partner file.
    Partner,
    /// `reward:` of `partner-pages.yaml`.
    Defaults,
}

/// A problem found when merging a partner's `reward:` with the defaults: the field and the
/// file it came from, the message, what was expected, a hint.
#[derive(Debug, Clone)]
pub struct MergeProblem {
    /// The field under `reward`.
    pub field: &'static str,
    /// Which file wrote it.
    pub origin: Origin,
    /// What is wrong.
    pub message: String,
    /// What was expected.
    pub expected: String,
    /// How to fix it.
    pub hint: String,
}

/// The effective rule of a partner: its `reward:` fields over `defaults`. `Ok(None)` when
/// neither sets anything that earns (no reward). Values were checked one by one before;
/// this checks what needs both: a currency, amounts that fit its decimals.
pub fn resolve(
    own: Option<&RewardYaml>,
    defaults: Option<&RewardYaml>,
) -> Result<Option<Rule>, Vec<MergeProblem>> {
    if own.is_none() && defaults.is_none() {
        return Ok(None);
    }
    let empty = RewardYaml::default();
    let own = own.unwrap_or(&empty);
    let def = defaults.unwrap_or(&empty);
    let pick = |a: &Option<String>, b: &Option<String>| match (a, b) {
        (Some(x), _) => Some((x.clone(), Origin::Partner)),
        (None, Some(x)) => Some((x.clone(), Origin::Defaults)),
        (None, None) => None,
    };
    let sale = pick(&own.sale, &def.sale);
    let lead = pick(&own.lead, &def.lead);
    let activation = pick(&own.activation, &def.activation);
    if sale.is_none() && lead.is_none() && activation.is_none() {
        return Ok(None);
    }
    let currency = pick(&own.currency, &def.currency);
    let mut problems = Vec::new();
    let needs_currency = sale
        .as_ref()
        .is_some_and(|(s, _)| !s.trim_end().ends_with('%'))
        || lead.is_some()
        || activation.is_some()
        || pick(&own.minimum_payout, &def.minimum_payout).is_some();
    let Some((currency, _)) =
        currency.or_else(|| (!needs_currency).then(|| ("usd".to_string(), Origin::Defaults)))
    else {
        let (field, origin) = [
            ("sale", &sale),
            ("lead", &lead),
            ("activation", &activation),
        ]
        .into_iter()
        .find_map(|(f, v)| v.as_ref().map(|(_, o)| (f, *o)))
        .unwrap_or(("sale", Origin::Partner));
        problems.push(MergeProblem {
            field,
            origin,
            message: "the reward has an amount but no `currency`".into(),
            expected: "`currency:` in `reward:` of the partner file or of partner-pages.yaml".into(),
            hint: "add `currency: usd` (or your Stripe account's currency) to the defaults in partner-pages.yaml".into(),
        });
        return Err(problems);
    };
    let currency = currency.to_ascii_lowercase();
    let mut amount = |field: &'static str, v: Option<(String, Origin)>| -> Option<i64> {
        let (text, origin) = v?;
        match Decimal::parse(&text).and_then(|d| d.to_minor(&currency)) {
            Some(m) => Some(m),
            None => {
                problems.push(MergeProblem {
                    field,
                    origin,
                    message: format!(
                        "`reward.{field}` is `{text}`: more decimals than `{currency}` has"
                    ),
                    expected: format!(
                        "an amount with at most {} decimals in `{currency}`",
                        money::exponent(&currency)
                    ),
                    hint: "round the amount to the currency's smallest unit".into(),
                });
                None
            }
        }
    };
    let sale_reward = match &sale {
        Some((s, _)) if s.trim_end().ends_with('%') => {
            money::parse_percent(s).map(SaleReward::Percent)
        }
        Some(_) => amount("sale", sale.clone()).map(SaleReward::Flat),
        None => None,
    };
    let lead = amount("lead", lead);
    let activation = amount("activation", activation);
    let minimum_payout = amount(
        "minimum_payout",
        pick(&own.minimum_payout, &def.minimum_payout),
    )
    .unwrap_or(0);
    if !problems.is_empty() {
        return Err(problems);
    }
    let recurring = pick(&own.recurring, &def.recurring)
        .and_then(|(s, _)| parse_recurring(&s))
        .unwrap_or(Recurring::Months(0));
    Ok(Some(Rule {
        sale: sale_reward,
        lead,
        activation,
        recurring,
        hold_days: own.hold_days.or(def.hold_days).unwrap_or(DEFAULT_HOLD_DAYS),
        minimum_payout,
        currency,
    }))
}

/// The diagnostic of a merge problem, located in the file that wrote the field (the partner
/// file, or `config_file` for the defaults).
pub fn merge_diagnostic(
    root: &std::path::Path,
    partner_file: &std::path::Path,
    config_file: &std::path::Path,
    p: &MergeProblem,
) -> Diagnostic {
    let (file, path): (&std::path::Path, [&str; 2]) = match p.origin {
        Origin::Partner => (partner_file, ["reward", p.field]),
        Origin::Defaults => (config_file, ["reward", p.field]),
    };
    crate::load::at_field(root, file, &path, p.message.clone())
        .expected(p.expected.clone())
        .hint(format!(
            "{} (for the partner of {})",
            p.hint,
            partner_file.display()
        ))
}

/// Does the free `commission:` text say what the rule says? It agrees when it quotes the
/// rule's leading figure (`20%`, `15.00`, or the figure without zero decimals).
pub fn commission_agrees(commission: &str, rule: &Rule) -> bool {
    let Some(head) = rule.headline() else {
        return true;
    };
    let squeeze = |s: &str| s.replace(' ', "");
    let text = squeeze(commission);
    let short = head
        .strip_suffix(".00")
        .or_else(|| head.strip_suffix(".0"))
        .unwrap_or(&head)
        .to_string();
    text.contains(&squeeze(&head)) || text.contains(&squeeze(&short))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn y(sale: &str) -> RewardYaml {
        RewardYaml {
            sale: Some(sale.into()),
            ..Default::default()
        }
    }

    #[test]
    fn partner_fields_override_the_defaults_one_by_one() {
        let defaults = RewardYaml {
            sale: Some("20%".into()),
            hold_days: Some(14),
            minimum_payout: Some("50".into()),
            currency: Some("EUR".into()),
            recurring: Some("forever".into()),
            ..Default::default()
        };
        let own = RewardYaml {
            sale: Some("25%".into()),
            lead: Some("2.50".into()),
            recurring: Some("3".into()),
            ..Default::default()
        };
        let r = resolve(Some(&own), Some(&defaults)).unwrap().unwrap();
        assert_eq!(
            r,
            Rule {
                sale: Some(SaleReward::Percent(2500)),
                lead: Some(250),
                activation: None,
                recurring: Recurring::Months(3),
                hold_days: 14,
                minimum_payout: 5000,
                currency: "eur".into(),
            }
        );
        assert_eq!(
            r.terms(),
            "25% of each net sale (a customer's payments in their first 3 months); 2.50 EUR per lead; due 14 days after the sale, paid once earnings reach 50.00 EUR"
        );
        assert!(commission_agrees("25% for three months", &r));
        assert!(!commission_agrees("20% forever", &r));
    }

    #[test]
    fn an_amount_without_currency_or_with_too_many_decimals_is_located() {
        let e = resolve(Some(&y("15")), None).unwrap_err();
        assert_eq!(e[0].field, "sale");
        assert!(e[0].message.contains("no `currency`"));
        let mut jpy = y("15.5");
        jpy.currency = Some("jpy".into());
        let e = resolve(Some(&jpy), None).unwrap_err();
        assert!(e[0].message.contains("more decimals than `jpy`"), "{e:?}");
        // A percentage alone needs no currency.
        let r = resolve(Some(&y("10%")), None).unwrap().unwrap();
        assert_eq!(r.recurring, Recurring::Months(0));
        assert_eq!(r.hold_days, DEFAULT_HOLD_DAYS);
        assert_eq!(resolve(None, None).unwrap(), None);
    }
}

//! Amounts in a currency's minor unit: parsing what users write (`15`, `15.50`, `20%`) and
//! printing it back for payout files and terms.

/// Currencies Stripe settles in without decimals (amounts are whole units).
const ZERO_DECIMAL: &[&str] = &[
    "bif", "clp", "djf", "gnf", "isk", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd",
    "vuv", "xaf", "xof", "xpf",
];
/// Currencies with three decimals.
const THREE_DECIMAL: &[&str] = &["bhd", "jod", "kwd", "omr", "tnd"];

/// Decimal places of the currency's minor unit (`usd` 2, `jpy` 0, `kwd` 3).
pub fn exponent(currency: &str) -> u32 {
    let c = currency.to_ascii_lowercase();
    if ZERO_DECIMAL.contains(&c.as_str()) {
        0
    } else if THREE_DECIMAL.contains(&c.as_str()) {
        3
    } else {
        2
    }
}

/// Currencies Stripe settles in (lower case): the webhook accepts these and reward rules name them.
pub const CURRENCIES: &[&str] = &[
    "aed", "afn", "all", "amd", "ang", "aoa", "ars", "aud", "awg", "azn", "bam", "bbd", "bdt",
    "bgn", "bhd", "bif", "bmd", "bnd", "bob", "brl", "bsd", "bwp", "byn", "bzd", "cad", "cdf",
    "chf", "clp", "cny", "cop", "crc", "cve", "czk", "djf", "dkk", "dop", "dzd", "egp", "etb",
    "eur", "fjd", "fkp", "gbp", "gel", "gip", "gmd", "gnf", "gtq", "gyd", "hkd", "hnl", "htg",
    "huf", "idr", "ils", "inr", "isk", "jmd", "jod", "jpy", "kes", "kgs", "khr", "kmf", "krw",
    "kwd", "kyd", "kzt", "lak", "lbp", "lkr", "lrd", "lsl", "mad", "mdl", "mga", "mkd", "mmk",
    "mnt", "mop", "mur", "mvr", "mwk", "mxn", "myr", "mzn", "nad", "ngn", "nio", "nok", "npr",
    "nzd", "omr", "pab", "pen", "pgk", "php", "pkr", "pln", "pyg", "qar", "ron", "rsd", "rub",
    "rwf", "sar", "sbd", "scr", "sek", "sgd", "shp", "sle", "sos", "srd", "std", "szl", "thb",
    "tjs", "tnd", "top", "try", "ttd", "twd", "tzs", "uah", "ugx", "usd", "uyu", "uzs", "vnd",
    "vuv", "wst", "xaf", "xcd", "xof", "xpf", "yer", "zar", "zmw",
];

/// Is this a currency Stripe settles in (compared ignoring case)?
pub fn known_currency(currency: &str) -> bool {
    CURRENCIES.contains(&currency.to_ascii_lowercase().as_str())
}

/// A decimal amount as written, not yet tied to a currency: whole units and the fraction's
/// digits (`15.50` -> 15, "50").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decimal {
    /// Whole units.
    pub units: i64,
    /// Digits after the point, as written.
    pub fraction: String,
}

impl Decimal {
    /// `15`, `15.5`, `15.50`: digits, at most one point, at most three decimals, at most a
    /// billion units. `None` otherwise.
    pub fn parse(text: &str) -> Option<Decimal> {
        let t = text.trim();
        let (units, fraction) = t.split_once('.').unwrap_or((t, ""));
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if units.is_empty() || units.len() > 10 || !digits(units) || !digits(fraction) {
            return None;
        }
        if t.contains('.') && fraction.is_empty() || fraction.len() > 3 {
            return None;
        }
        let units: i64 = units.parse().ok()?;
        (units <= 1_000_000_000).then(|| Decimal {
            units,
            fraction: fraction.to_string(),
        })
    }

    /// In the minor unit of `currency`; `None` when the written decimals do not fit it
    /// (`15.5` yen).
    pub fn to_minor(&self, currency: &str) -> Option<i64> {
        let e = exponent(currency) as usize;
        let trimmed = self.fraction.trim_end_matches('0');
        if trimmed.len() > e {
            return None;
        }
        let mut frac = trimmed.to_string();
        while frac.len() < e {
            frac.push('0');
        }
        let frac: i64 = if frac.is_empty() {
            0
        } else {
            frac.parse().ok()?
        };
        Some(self.units * 10_i64.pow(e as u32) + frac)
    }
}

/// A percentage as written, `20%` or `12.5%`, in hundredths of a percent (basis points):
/// above 0 and at most 100, at most two decimals.
pub fn parse_percent(text: &str) -> Option<u32> {
    let t = text.trim().strip_suffix('%')?.trim_end();
    let (units, fraction) = t.split_once('.').unwrap_or((t, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if units.is_empty() || units.len() > 3 || !digits(units) || !digits(fraction) {
        return None;
    }
    if t.contains('.') && fraction.is_empty() || fraction.len() > 2 {
        return None;
    }
    let mut bp: u32 = units.parse::<u32>().ok()? * 100;
    if !fraction.is_empty() {
        let f: u32 = fraction.parse().ok()?;
        bp += if fraction.len() == 1 { f * 10 } else { f };
    }
    (bp > 0 && bp <= 10_000).then_some(bp)
}

/// `round(amount × bp / 10000)`, halves away from zero, in integers (no float error).
pub fn percent_of(amount: i64, bp: u32) -> i64 {
    let n = i128::from(amount) * i128::from(bp);
    round_div(n, 10_000)
}

/// `round(n / d)` with halves away from zero; `d > 0`.
pub fn round_div(n: i128, d: i128) -> i64 {
    let q = (n.abs() + d / 2) / d;
    (if n < 0 { -q } else { q }) as i64
}

/// `12.34`, `1234` (yen), `-0.50`: the amount in major units with the currency's decimals.
pub fn format_major(minor: i64, currency: &str) -> String {
    let e = exponent(currency);
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    if e == 0 {
        return format!("{sign}{abs}");
    }
    let p = 10_u64.pow(e);
    format!("{sign}{}.{:0width$}", abs / p, abs % p, width = e as usize)
}

/// `12.34 USD`.
pub fn format_with_code(minor: i64, currency: &str) -> String {
    format!(
        "{} {}",
        format_major(minor, currency),
        currency.to_ascii_uppercase()
    )
}

/// A percentage in basis points as written: `20%`, `12.5%`, `7.25%`.
pub fn format_percent(bp: u32) -> String {
    let whole = bp / 100;
    match bp % 100 {
        0 => format!("{whole}%"),
        f if f % 10 == 0 => format!("{whole}.{}%", f / 10),
        f => format!("{whole}.{f:02}%"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_fit_the_currency_or_are_refused() {
        let d = Decimal::parse("15.50").unwrap();
        assert_eq!(d.to_minor("usd"), Some(1550));
        assert_eq!(d.to_minor("jpy"), None);
        assert_eq!(Decimal::parse("1500").unwrap().to_minor("jpy"), Some(1500));
        assert_eq!(Decimal::parse("1.5").unwrap().to_minor("kwd"), Some(1500));
        assert_eq!(Decimal::parse("2.0").unwrap().to_minor("jpy"), Some(2));
        for bad in [
            "",
            "-1",
            "1.",
            ".5",
            "1,5",
            "1.2345",
            "abc",
            "1e3",
            "99999999999",
        ] {
            assert_eq!(Decimal::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn percents_are_basis_points_between_zero_and_a_hundred() {
        assert_eq!(parse_percent("20%"), Some(2000));
        assert_eq!(parse_percent("12.5%"), Some(1250));
        assert_eq!(parse_percent("7.25 %"), Some(725));
        assert_eq!(parse_percent("100%"), Some(10_000));
        for bad in ["0%", "101%", "20", "-5%", "1.234%", "x%", "%"] {
            assert_eq!(parse_percent(bad), None, "{bad}");
        }
        for bp in [2000, 1250, 725, 5] {
            assert_eq!(parse_percent(&format_percent(bp)), Some(bp));
        }
    }

    #[test]
    fn percent_rounds_halves_away_from_zero() {
        assert_eq!(percent_of(4900, 2000), 980);
        assert_eq!(percent_of(1, 5000), 1); // 0.5 -> 1
        assert_eq!(percent_of(-1, 5000), -1);
        assert_eq!(percent_of(333, 1250), 42); // 41.625
        assert_eq!(format_major(-50, "usd"), "-0.50");
        assert_eq!(format_major(1234, "jpy"), "1234");
        assert_eq!(format_major(1234, "kwd"), "1.234");
    }
}

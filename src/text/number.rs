//! Numbers as people read them.

/// A rate as a percentage with at most one decimal: `0.123` -> `12.3%`, `0.2` -> `20%`. The
/// one formatter of rates: reports, calendar tasks, annotations and templates (`pct` filter).
pub fn pct(x: f64) -> String {
    format!("{}%", pct_bare(x))
}

/// A rate as a percentage without the sign: `0.123` -> `12.3`.
pub fn pct_bare(x: f64) -> String {
    let v = (x * 1000.0).round() / 10.0;
    if v == v.trunc() {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// A difference of rates in percentage points with its sign, one decimal: `0.032` -> `+3.2`,
/// `-0.01` -> `−1.0` (a minus sign), `0` -> `0.0`.
pub fn signed_points(x: f64) -> String {
    let v = (x * 1000.0).round() / 10.0;
    if v > 0.0 {
        format!("+{v:.1}")
    } else if v == 0.0 {
        "0.0".into()
    } else {
        format!("−{:.1}", -v)
    }
}

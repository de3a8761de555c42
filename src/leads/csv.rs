//! Output stage of `leads`: RFC 4180 CSV that opens cleanly and safely in a spreadsheet.
//!
//! Takes: a header and rows of text cells. Gives: UTF-8 text with a byte-order mark (so Excel
//! reads UTF-8 rather than the local code page; LibreOffice, Google Sheets and Python's
//! `utf-8-sig` skip it), CRLF line ends, fields quoted when they hold `,` `"` CR or LF with
//! quotes doubled, and formula injection neutralised: a cell that starts with `=`, `+`, `-`,
//! `@`, a tab or a CR gets a leading `'`, the convention spreadsheets show as plain text.

/// The UTF-8 byte-order mark written before the header.
pub const BOM: &str = "\u{feff}";

/// Characters that make a spreadsheet treat a cell as a formula (OWASP CSV injection list).
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A cell as the spreadsheet should see it: text, never a formula.
pub fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(FORMULA_STARTS) {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

/// One RFC 4180 field: neutralised, then quoted when needed.
fn field(cell: &str, out: &mut String) {
    let cell = neutralise(cell);
    if cell.contains([',', '"', '\r', '\n']) {
        out.push('"');
        out.push_str(&cell.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(&cell);
    }
}

/// The whole file: BOM, header, rows, each line ended by CRLF.
pub fn write(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = String::from(BOM);
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        for (i, c) in cells.enumerate() {
            if i > 0 {
                out.push(',');
            }
            field(c, &mut out);
        }
        out.push_str("\r\n");
    };
    line(&mut header.iter().copied());
    for row in rows {
        line(&mut row.iter().map(String::as_str));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_looking_cells_get_a_leading_quote() {
        for bad in ["=HYPERLINK(\"x\")", "+1", "-2", "@SUM(A1)", "\tx", "\rx"] {
            assert!(neutralise(bad).starts_with('\''), "{bad:?}");
        }
        for fine in ["webinar-dec", "2026-11-17T10:00:00Z", "a=b", ""] {
            assert_eq!(neutralise(fine), fine);
        }
    }

    #[test]
    fn quotes_are_doubled_and_lines_end_in_crlf() {
        let csv = write(
            &["a", "b"],
            &[vec!["say \"hi\", ok".into(), "two\nlines".into()]],
        );
        assert_eq!(
            csv,
            "\u{feff}a,b\r\n\"say \"\"hi\"\", ok\",\"two\nlines\"\r\n"
        );
    }

    #[test]
    fn a_neutralised_cell_with_a_comma_is_still_quoted() {
        let csv = write(&["c"], &[vec!["=1,2".into()]]);
        assert!(csv.ends_with("\"'=1,2\"\r\n"), "{csv:?}");
    }
}

//! Output stage of `leads`: RFC 4180 CSV that opens cleanly and safely in a spreadsheet.
//!
//! Takes: a header and rows of text cells. Gives: UTF-8 text with a byte-order mark (so Excel
//! reads UTF-8 rather than the local code page; LibreOffice, Google Sheets and Python's
//! `utf-8-sig` skip it), CRLF line ends, fields quoted when they hold `,` `"` CR or LF with
//! quotes doubled, and formula injection neutralised: a cell that starts with `=`, `+`, `-`,
//! `@`, a tab or a CR gets a leading `'`, the convention spreadsheets show as plain text.

/// The UTF-8 byte-order mark written before the header.
pub(crate) const BOM: &str = "\u{feff}";

/// Characters that make a spreadsheet treat a cell as a formula (OWASP CSV injection list).
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A cell as the spreadsheet should see it: text, never a formula.
pub(crate) fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
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

/// A CSV file written row by row to `W` (a file, stdout, a `Vec<u8>`): BOM, header, rows,
/// each line ended by CRLF. Only one line is held at a time.
pub(crate) struct Writer<W: std::io::Write> {
    out: W,
    line: String,
}

impl<W: std::io::Write> Writer<W> {
    /// A file with this header row.
    pub(crate) fn new(mut out: W, header: &[&str]) -> std::io::Result<Writer<W>> {
        out.write_all(BOM.as_bytes())?;
        let mut w = Writer {
            out,
            line: String::new(),
        };
        w.row(header.iter().copied())?;
        Ok(w)
    }

    /// Write one record.
    pub(crate) fn row<'a>(
        &mut self,
        cells: impl IntoIterator<Item = &'a str>,
    ) -> std::io::Result<()> {
        self.line.clear();
        for (i, c) in cells.into_iter().enumerate() {
            if i > 0 {
                self.line.push(',');
            }
            field(c, &mut self.line);
        }
        self.line.push_str("\r\n");
        self.out.write_all(self.line.as_bytes())
    }
}

/// The whole file at once, as text (see [`Writer`]).
#[cfg(test)]
pub(crate) fn write(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut w = text_writer(header);
    for row in rows {
        // Writing to a Vec<u8> cannot fail.
        let _ = w.row(row.iter().map(String::as_str));
    }
    finish_text(w)
}

/// A [`Writer`] into memory.
pub(crate) fn text_writer(header: &[&str]) -> Writer<Vec<u8>> {
    let mut w = Writer {
        out: BOM.as_bytes().to_vec(),
        line: String::new(),
    };
    let _ = w.row(header.iter().copied());
    w
}

/// The text a [`text_writer`] holds (only `&str` cells went in: always UTF-8).
pub(crate) fn finish_text(w: Writer<Vec<u8>>) -> String {
    String::from_utf8(w.out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
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

//! `commissions` and `payouts`: the ledger and payout batches under `ledger/` (private: never
//! published).

use crate::cli::{GlobalArgs, LedgerArgs};
use partner_pages::error::Result;
use partner_pages::ledger;

fn request<'a>(
    args: &'a LedgerArgs,
    events: &'a partner_pages::events::Source,
) -> ledger::Request<'a> {
    ledger::Request {
        events,
        as_of: args.as_of.as_deref(),
    }
}

pub(super) fn commissions(global: &GlobalArgs, args: LedgerArgs) -> Result<()> {
    let site = partner_pages::load(&global.root, &partner_pages::LoadOptions::default())?;
    ledger::parse_as_of(args.as_of.as_deref())?;
    if let Some(code) = &args.partner {
        partner_pages::report::check_partner(&site, code)?;
    }
    let events = partner_pages::report::resolve_events(&global.root, args.events.as_deref())?;
    let events = partner_pages::report::open_source(&site, &events)?;
    if let Some(code) = &args.partner {
        print!(
            "{}",
            ledger::partner_earnings_json(&site, &request(&args, &events), code)?
        );
        return Ok(());
    }
    let l = ledger::write_ledger(&site, &request(&args, &events))?;
    if !global.quiet {
        print!("{}", ledger::summary(&l));
    }
    Ok(())
}

pub(super) fn payouts(global: &GlobalArgs, args: LedgerArgs) -> Result<()> {
    if args.partner.is_some() {
        return Err(partner_pages::error::Error::user_hint(
            "`payouts` pays every partner due; it takes no --partner",
            "run `partner-pages commissions --partner CODE` to see one partner's earnings",
        ));
    }
    let site = partner_pages::load(&global.root, &partner_pages::LoadOptions::default())?;
    ledger::parse_as_of(args.as_of.as_deref())?;
    let events = partner_pages::report::resolve_events(&global.root, args.events.as_deref())?;
    let events = partner_pages::report::open_source(&site, &events)?;
    let (batch, written) = ledger::write_payouts(&site, &request(&args, &events))?;
    if global.quiet {
        return Ok(());
    }
    if batch.lock.totals.is_empty() {
        println!("no payout: nothing due reaches a partner's minimum");
    } else {
        println!(
            "payout batch {} ({} partner payment{}); no money was moved:",
            batch.lock.batch,
            batch.lock.totals.len(),
            if batch.lock.totals.len() == 1 {
                ""
            } else {
                "s"
            }
        );
        for t in &batch.lock.totals {
            println!(
                "  {} {} by {} ({} row{})",
                t.partner,
                partner_pages::reward::money::format_with_code(t.earnings, &t.currency),
                t.method,
                t.rows,
                if t.rows == 1 { "" } else { "s" }
            );
        }
    }
    for s in &batch.skipped {
        println!(
            "  not paid: {} {}: {}",
            s.partner,
            partner_pages::reward::money::format_with_code(s.earnings, &s.currency),
            s.reason
        );
    }
    for w in &written {
        println!("wrote {}", w.display());
    }
    if !batch.lock.totals.is_empty() {
        println!(
            "Upload the files to PayPal / Wise, then commit the lock: its rows are paid from then on (delete it if you do not pay this batch)."
        );
    }
    Ok(())
}
